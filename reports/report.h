/* report — `tunnelprobe report RUN... -o FILE.html`: run files (docs/run-json.md) to
 * one self-contained HTML page (inline CSS and SVG, no external resource, light and
 * dark, prints well), one run or several side by side; also plain text, a Markdown
 * summary and JUnit XML for CI, and the merged/aggregated run as JSON.
 *
 * A RUN is a run file, a run folder, a probe records file, or several of these joined
 * by '+' (merged: shards of one run). See runfile.h.
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

/* ---- metrics.c ---- */

enum report_sense { REPORT_NEUTRAL, REPORT_HIGHER_WORSE, REPORT_LOWER_WORSE };

/* One row of the side-by-side tables. */
struct report_metric {
	char name[64];
	const char *fmt;            /* printf format of one value, e.g. "%.0f", "%.2f" */
	enum report_sense sense;
	bool present[REPORT_MAX_RUNS];
	double v[REPORT_MAX_RUNS];
};

#define REPORT_MAX_METRICS 48
/* Fills rows for runs: counts, error rate, each class any run saw, latency
 * percentiles, throughput, bytes, reuse. Returns the number of rows. */
size_t report_metrics(const struct report_run *runs, size_t n, struct report_metric *rows, size_t cap);
/* Whether run i holds the worse value of the row (only when the runs differ). */
bool report_is_worse(const struct report_metric *m, size_t n, size_t i);
/* Writes value i of the row, and its delta against run 0 when it differs ("10 (+10)"). */
void report_metric_cell(const struct report_metric *m, size_t i, bool delta, char *out, size_t cap);
/* Index of a url in targets matched across runs: exact url, else the same url without
 * its port (runs against ephemeral origins). -1 when none. */
long report_match_target(json_t *targets, const char *url);
/* The url with the port of its authority removed, into out. */
void report_url_without_port(const char *url, char *out, size_t cap);

/* ---- text.c ---- */

/* Writes s with HTML/XML special characters escaped and control characters as '?'. */
void report_escape(FILE *out, const char *s);
/* Writes argv shell-quoted, so it can be pasted to repeat the run. */
void report_command(FILE *out, json_t *argv, bool html);
int report_text(FILE *out, const struct report_run *runs, size_t n);
int report_markdown(FILE *out, const struct report_run *runs, size_t n);
int report_junit(FILE *out, const struct report_run *runs, size_t n);

/* ---- html.c ---- */

/* Writes the page. Returns 0 or -EIO. */
int report_html(FILE *out, const struct report_run *runs, size_t n);

#endif
