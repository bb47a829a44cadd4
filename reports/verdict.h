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
/* A failure's chain (docs/run-json.md "The chain") as rows of hops, one unit per row:
 * rows[0] the application bytes (origin wrote → origin leg → proxy received → proxy
 * sent → client leg → probe read), rows[1] its TCP bytes (chain.wire: proxy acked on
 * the origin leg → origin leg → proxy received → proxy sent → client leg) when it has
 * them. A chain from before units (no "unit") is one legacy row. */
struct report_hop {
	const char *key, *name;            /* chain key, words for people */
};
#define REPORT_CHAIN_ROWS 2
struct report_chain_row {
	json_t *obj;                       /* the object holding the counts (borrowed) */
	const struct report_hop *hops;
	size_t nhops;
	const char *label;                 /* "application bytes", "TCP bytes (...)" */
	json_int_t connection_requests;    /* > 1: the counts are a whole kept-alive
					    * connection's, over this many requests */
	bool wire;                         /* the TCP row (chain.wire) */
	bool legacy;                       /* a chain from before one unit per row */
};
/* Fills rows from chain (borrowed; NULL or not an object: none). Returns how many. */
size_t report_chain_rows(json_t *chain, struct report_chain_row rows[REPORT_CHAIN_ROWS]);

/* Where a failure's chain loses bytes: hop (a chain key) in row `row` of
 * report_chain_rows; hop NULL when nothing dropped. The hop its verdict code names
 * (in the first row that witnessed it, application bytes first); else the first drop
 * between two neighbouring application-byte hops; else the largest drop in TCP bytes
 * (a few bytes may differ there for reasons of no account); else a drop across
 * unwitnessed application-byte hops; else "probe" when the probe read less body than
 * expected. A legacy chain drops only between its TCP hops, or at the probe. */
struct report_drop {
	const char *hop;
	size_t row;
};
struct report_drop report_chain_drop(json_t *failure);
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
/* A failure's chain in one line, the hops with a witness, each unit apart:
 * "origin wrote 654,601 → probe read 16,588; TCP: proxy acked 116,895 → proxy
 * received 34,053 → proxy sent 32,768" ("TCP (whole connection): ..." for a kept-alive
 * connection's counts); "" without a chain. */
void report_chain_text(json_t *failure, char *out, size_t cap);

#endif
