/* runmerge — adds run files together (docs/ledgers.md "Run file"): counts add,
 * histogram buckets add and the percentiles are recomputed from them, time series
 * are concatenated, failure samples kept up to 100. This is how a soak checkpoints
 * (one short probe run per segment, merged as it goes) and how sharded runs combine.
 */
#ifndef TP_CI_RUNMERGE_H
#define TP_CI_RUNMERGE_H

#include <jansson.h>

/* Returns a new run object: acc + next (acc may be NULL: a copy of next). Per-target
 * latencies cannot be merged exactly from percentiles: the merged target keeps the
 * larger p90/p99/max and the request-weighted mean (documented in run-json.md). */
json_t *runmerge(json_t *acc, json_t *next);

/* Recomputes "latency_ms" of run from its "histogram" buckets. */
void runmerge_latency(json_t *run);

#endif
