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
 * line on stderr). `report merge ...` is merge.h's merge_main. */
int report_main(int argc, char **argv);

/* Writes fn's output for runs to path ('-': stdout). Returns 0, or 2 after one line on
 * stderr when path cannot be written. */
int report_write(const char *path, int (*fn)(FILE *, const struct report_run *, size_t),
		 const struct report_run *runs, size_t n);


#endif
