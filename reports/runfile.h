/* runfile — getting run documents (docs/run-json.md) in: loading and checking run
 * files, folding records files (records.h), merging runs (shards: `A.json+B.json`),
 * rebuilding the latency histogram, and joining a capture's verdicts into failures.
 * Every function reports why it failed in one line (err, cap) for the user.
 */
#ifndef TP_REPORTS_RUNFILE_H
#define TP_REPORTS_RUNFILE_H

#include <stddef.h>

#include <jansson.h>

#include "lib/hist.h"

#define RUNFILE_SCHEMA "tunnelprobe.run/1"
#define RUNFILE_MAX_BYTES (256u << 20)   /* larger run or capture files are refused */
#define RUNFILE_MAX_FAILURES 100         /* failure samples kept by a merge */
#define RUNFILE_MAX_SECONDS 86400        /* time-series buckets kept by a merge */

/* Loads one report input: a run file, a run folder (DIR/run.json), a probe records
 * file (JSON Lines), or several of these joined by '+' (merged into one run; a path
 * that exists as given is never split). A run.json with a capture.json beside it gets
 * the capture joined (runfile_join_capture). Returns 0 with *doc (a new reference), or
 * -errno / -EINVAL with err set. */
int runfile_load(const char *arg, json_t **doc, char *err, size_t cap);

/* Checks schema, the required fields and their types, and the histogram's shape.
 * Returns 0 or -EINVAL with err set (name prefixes the message). */
int runfile_check(json_t *doc, const char *name, char *err, size_t cap);

/* Rebuilds the histogram from doc's "histogram" into h (hist_init'ed here). Returns 0,
 * -ENOENT when the run has none, -EINVAL when its unit or bucket width is not ours or a
 * bucket is not one of ours. */
int runfile_hist(json_t *doc, struct hist *h);

/* A new run document: a and b added (docs/run-json.md "How runs merge"). NULL with err
 * set when they cannot be merged (histograms missing or of another shape). */
json_t *runfile_merge(json_t *a, json_t *b, char *err, size_t cap);

/* Copies, into each failure of doc that has no "chain", the matching capture tunnel's
 * (same "local" address) down chain, verdict, verdict_code and its flows' flags.
 * Returns the number of failures enriched. */
int runfile_join_capture(json_t *doc, json_t *capture);

#endif
