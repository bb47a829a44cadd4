/* verdict — what a report says about where a run's failures happened: one sentence per
 * run, the place of one failure, the hop of its chain where the bytes were lost.
 *
 * Every place comes from a failure's verdict code (lib/verdict.h: code → place), or
 * else from its class and phase; a verdict's sentence is shown, never read. A failure's
 * verdict is the object of a run file (`failures[].verdict`, docs/run-json.md); a bare
 * sentence beside a `verdict_code` string (a /1 run file not upgraded by its loader) is
 * still read by that code. Nothing here allocates; out buffers are always terminated.
 */
#ifndef TP_REPORTS_VERDICT_H
#define TP_REPORTS_VERDICT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "reports/report.h"

/* One run's verdict: "windows: 10/60 incomplete_read at proxy→client" (every failing
 * class, most frequent first, each with where it happened), or "linux: 60/60 ok". */
void report_verdict(const struct report_run *run, char *out, size_t cap);
/* All runs' verdicts joined by "; ", failing runs first. */
void report_verdict_all(const struct report_run *runs, size_t n, char *out, size_t cap);
/* Where one failure happened, from its verdict code, or else its class and phase
 * ("at proxy→client", "in phase body"). Writes "" when unknown. */
void report_location(json_t *failure, char *out, size_t cap);
/* Where the failures of class cls (only those of url, unless NULL) happened, from the
 * failure samples: "at proxy→client", "mostly at X (8 of 10 samples)", or what the
 * class alone says; "" when nothing does. */
void report_class_location(json_t *doc, const char *cls, const char *url, char *out, size_t cap);
/* The hop of a failure's chain where the bytes were lost: the one its verdict code
 * names, else the largest drop between consecutive tunnel-byte hops (origin_leg,
 * proxy_received, proxy_sent, client_leg), else "probe" when the probe read less than
 * expected; NULL when nothing dropped. */
const char *report_chain_drop(json_t *failure);
/* A failure's verdict code (enum tp_verdict_code), or -1 when it has none we know. */
int report_failure_code(json_t *failure);
/* A failure's verdict sentence, to show as it is; NULL when it has none. Points into
 * failure. */
const char *report_failure_verdict_text(json_t *failure);

/* Failure samples grouped by class, verdict code and place, so ten identical
 * truncations are one card "×10" (first-seen order). */
#define REPORT_MAX_GROUPS 32
struct report_group {
	char cls[40];
	int code;           /* verdict code, -1 none */
	char where[160];    /* report_location */
	char phase[16];
	size_t count;       /* samples in the group */
	size_t first;       /* index of its first sample */
};
/* Groups failures into groups (room for cap). Returns the number of groups; samples
 * that fit no group once cap are full are counted in *left_out. */
size_t report_failure_groups(json_t *failures, struct report_group *groups, size_t cap, size_t *left_out);
/* Whether failure belongs to group g. */
bool report_group_has(const struct report_group *g, json_t *failure);
/* A failure's chain in one line, the hops with a witness: "origin wrote 654,601 →
 * proxy sent 32,768 → probe read 16,384"; "" without a chain. */
void report_chain_text(json_t *failure, char *out, size_t cap);

#endif
