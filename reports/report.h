/* report — `tunnelprobe report RUN... -o FILE.html`: run files (docs/run-json.md) to
 * one self-contained HTML page (inline CSS and SVG, no external resource, light and
 * dark, prints well), one run or several side by side; also plain text, a Markdown
 * summary and JUnit XML for CI, and the merged/aggregated run as JSON.
 *
 * A RUN is a run file, a run folder, a probe records file, or several of these joined
 * by '+' (merged: shards of one run). See inputs.h. The outputs have their own modules:
 * html.h, text.h (text, Markdown, JUnit), metrics.h (the rows they share), svg.h.
 */
#ifndef TP_REPORTS_REPORT_H
#define TP_REPORTS_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "lib/hist.h"

#define REPORT_MAX_RUNS 8
#define REPORT_FAILURES_SHOWN 25   /* failed tunnels listed in full per run in the HTML */
#define REPORT_TARGETS_SHOWN 200   /* target rows in the HTML and Markdown */

struct report_run {
	const char *src;    /* the argument it came from */
	const char *label;  /* --label, else the run's own label, else src */
	json_t *doc;        /* the run document (owned) */
	struct hist *hist;  /* its latency histogram (owned), NULL when it has none */
};

/* Exit 0; 2 for bad usage or an unreadable / malformed / wrong-version run file (one
 * line on stderr). */
int report_main(int argc, char **argv);

/* ---- verdict.c ---- */

/* One run's verdict: "windows: 10/60 incomplete_read at proxy→client" (every failing
 * class, most frequent first, each with where it happened), or "linux: 0/60". */
void report_verdict(const struct report_run *run, char *out, size_t cap);
/* All runs' verdicts joined by "; ", failing runs first. */
void report_verdict_all(const struct report_run *runs, size_t n, char *out, size_t cap);
/* Where one failure happened, from its verdict_code, its verdict text, or else its
 * class and phase ("at proxy→client", "in phase body"). Writes "" when unknown. */
void report_location(json_t *failure, char *out, size_t cap);
/* Where the failures of class cls (only those of url, unless NULL) happened, from the
 * failure samples: "at proxy→client", "mostly at X (8 of 10 samples)", or what the
 * class alone says; "" when nothing does. */
void report_class_location(json_t *doc, const char *cls, const char *url, char *out, size_t cap);
/* The hop of a failure's chain where the bytes were lost: the one its verdict_code
 * names, else the largest drop between consecutive tunnel-byte hops (origin_leg,
 * proxy_received, proxy_sent, client_leg), else "probe" when the probe read less than
 * expected; NULL when nothing dropped. */
const char *report_chain_drop(json_t *failure);

#endif
