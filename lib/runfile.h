/* runfile — the run file (docs/run-json.md, schema "tunnelprobe.run/2"): the one model
 * of a run. The probe writes it, `run` merges its soak segments into it and joins the
 * capture into it, `report` reads, merges and renders it. One home for each job:
 *
 *   writing  runfile_new, runfile_set_totals, runfile_target_json, runfile_second_json
 *            (the JSON of lib/runcount.h's counters), runfile_write (atomic),
 *            runfile_dumpf;
 *   reading  runfile_read (size cap, check, /1 upgraded in memory, a run folder's
 *            capture joined), runfile_check, runfile_upgrade, runfile_hist;
 *   merging  runfile_merge: two runs added exactly (docs/run-json.md "How runs merge");
 *   joining  runfile_join_capture (lib/runfile_join.c): a capture's tunnels and
 *            requests (capture.json) into the run's failures, verdicts and verdict
 *            counts.
 *
 * Histograms are read and written with lib/histjson.h.
 *
 * Documents are jansson objects. A function returning json_t * returns a new
 * reference the caller decrefs (NULL on failure); one taking a json_t * borrows it.
 * Functions with err/cap write one line for the user there when they fail.
 * Times are written with 17 significant digits, so a Unix time keeps its microseconds
 * and every float reads back as the value written.
 */
#ifndef TP_RUNFILE_H
#define TP_RUNFILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "lib/hist.h"
#include "lib/qhist.h"
#include "lib/runcount.h"

#define RUNFILE_SCHEMA "tunnelprobe.run/2"
#define RUNFILE_SCHEMA_V1 "tunnelprobe.run/1" /* still read: upgraded in memory */
#define RUNFILE_MAX_BYTES (256u << 20)        /* larger run or capture files are refused */
#define RUNFILE_MAX_FAILURES 100              /* failure samples a run keeps */
#define RUNFILE_MAX_VERDICTS 100              /* verdict objects a run keeps */
#define RUNFILE_MAX_SECONDS 86400             /* time-series buckets a merge keeps */

/* ---- writing ---- */

/* A new run document holding only "schema" and "tool" (name, version). */
json_t *runfile_new(void);

/* Sets doc's requests, ok, failed, classes, status_codes, bytes, connections,
 * latency_ms and histogram from t, and (lib/runload.h) verified, unverified, open_loop,
 * phases_ms and phase_histograms. Returns 0 or -ENOMEM. */
int runfile_set_totals(json_t *doc, const struct runcount_totals *t);

/* One "targets" entry: url, counts, classes, latency_ms and the per-target histogram
 * that makes target merges exact. */
json_t *runfile_target_json(const char *url, const struct runcount_target *t);

/* One "timeseries" bucket; t is its start in seconds from floor(started). */
json_t *runfile_second_json(int64_t t, const struct runcount_second *s);

/* Writes doc to path through path.tmp and a rename, so a reader (or a kill) never
 * sees half a file. Returns 0, or -EIO / -errno with path.tmp removed. */
int runfile_write(json_t *doc, const char *path);

/* Writes doc to fp as runfile_write does, with a final newline. Returns 0 or -EIO. */
int runfile_dumpf(json_t *doc, FILE *fp);

/* ---- reading ---- */

/* Loads the run file at path (or path/run.json when path is a folder): at most
 * RUNFILE_MAX_BYTES, duplicate keys refused, runfile_check'ed, a /1 file upgraded.
 * When the file is named run.json, has failures and a capture.json lies beside it,
 * the capture is joined (runfile_join_capture; an unreadable capture is ignored).
 * Returns 0 with *doc, -ENOENT (cannot open) or -EINVAL (not JSON, not a run file). */
int runfile_read(const char *path, json_t **doc, char *err, size_t cap);

/* Loads the JSON document at path as run and capture files are loaded: at most
 * RUNFILE_MAX_BYTES, duplicate keys refused. Returns a new reference, or NULL with
 * err set and *rc -ENOENT (cannot stat) or -EINVAL (too large, not JSON). */
json_t *runfile_load_json(const char *path, char *err, size_t cap, int *rc);

/* A verdict object {code, text} from a version 1 sentence and its code (either may be
 * NULL; the code is then "unknown", the text absent). A new reference. */
json_t *runfile_verdict_wrap(const char *text, const char *code);

/* Checks schema (/1 or /2), the required fields and their types, and the shape of the
 * histograms (the run's and the targets'). Returns 0 or -EINVAL with err set (name
 * prefixes the message). */
int runfile_check(json_t *doc, const char *name, char *err, size_t cap);

/* Upgrades a /1 document in place to /2 (docs/run-json.md "Version 1 files"): each
 * failure's "verdict" sentence and "verdict_code" become one verdict object
 * {code, text}; each "verdicts" sentence becomes {code, text}, its code taken from a
 * failure with the same sentence, else "unknown". Returns 0 (also for a /2 document)
 * or -EINVAL for another schema. */
int runfile_upgrade(json_t *doc);

/* Rebuilds the run's latency histogram from doc's "histogram" into h (hist_init'ed
 * here); min, max and mean are taken from "latency_ms" when it states them (they are
 * exact there, the buckets only within 1%). Returns 0, -ENOENT when the run has none,
 * -EINVAL when its unit or bucket width is not ours or a bucket is not one of ours. */
int runfile_hist(json_t *doc, struct hist *h);

/* ---- merging ---- */

/* A new document: a and b (both /2, as runfile_read gives them) added, as
 * docs/run-json.md "How runs merge" says. NULL with err set when they cannot be
 * merged (a histogram missing or of another shape, out of memory). */
json_t *runfile_merge(json_t *a, json_t *b, char *err, size_t cap);

/* ---- joining ---- */

/* Joins a capture document (`capture --json`, docs/capture.md) into doc. Each failure
 * is matched to its request by probe "id" (the capture's tunnels[].per_request[]),
 * else to its tunnel by "local" address (a capture that did not join requests apart).
 * Where it has none yet, the failure gets: its "chain" (on a connection of several
 * requests the request's own down chain, with the connection's wire and "requests": N
 * when it has no wire counts of its own; else the tunnel's down chain), its "verdict"
 * object (the request's;
 * also over a verdict whose code is "unknown") and its tunnel's flows' capture
 * "flags". doc gets, where it has none yet, "verdicts" (the failed requests' verdict
 * objects, each tunnel's when its requests were not joined apart; at most
 * RUNFILE_MAX_VERDICTS), "verdict_counts" (code -> tunnels) and "capture" (when the
 * capture read packets). Verdict objects are copied as they are; only their "code" is
 * read. Returns the number of failures enriched. */
int runfile_join_capture(json_t *doc, json_t *capture);

/* Loads the capture document at path (at most RUNFILE_MAX_BYTES) and joins it.
 * Returns the number of failures enriched, or -ENOENT / -EINVAL with err set. */
int runfile_join_capture_file(json_t *doc, const char *path, char *err, size_t cap);

#endif
