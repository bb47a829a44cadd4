/* oklatency — the latency of a run's ok requests only, from its probe records: what
 * reports compare runs on, like with like (a failing run is not "faster" because its
 * failures were quick). Written by `run` into run.json as `latency_ok_ms`
 * (docs/run-json.md).
 */
#ifndef TP_CI_OKLATENCY_H
#define TP_CI_OKLATENCY_H

#include <jansson.h>

/* {requests, mean, p50, p90, p99, p999, max} (ms) of the ok records in the records
 * file at path (lines of run run_id only, when not NULL and a line carries "run"); a
 * new reference, or NULL when the file cannot be read or a line is not a record. With
 * no ok record: {requests: 0} alone. */
json_t *oklatency_from_records(const char *path, const char *run_id);

#endif
