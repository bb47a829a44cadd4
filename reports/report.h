/* report — `tunnelprobe report RUN... -o FILE.html`: run files (docs/run-json.md) to
 * one self-contained HTML page (inline CSS and SVG, no external resource), one run or
 * several side by side; also a Markdown summary and JUnit XML for CI. */
#ifndef TP_REPORTS_REPORT_H
#define TP_REPORTS_REPORT_H

#include <stdbool.h>

#include <stdio.h>

#include <jansson.h>

#define REPORT_MAX_RUNS 8

struct report_run {
	const char *path;
	const char *label;
	json_t *doc;          /* the run file */
};

/* Exit 0, 2 for bad usage or an unreadable / wrong-version run file. */
int report_main(int argc, char **argv);

/* ---- html.c ---- */

/* Writes the page. Returns 0 or -EIO. */
int report_html(FILE *out, const struct report_run *runs, size_t n);

/* ---- text.c ---- */

/* The one-line verdict of a run: "windows: 10/60 incomplete_read at proxy->client". */
void report_verdict(const struct report_run *run, char *out, size_t cap);
int report_markdown(FILE *out, const struct report_run *runs, size_t n);
int report_junit(FILE *out, const struct report_run *runs, size_t n);
/* Writes s with HTML (and XML) special characters escaped. */
void report_escape(FILE *out, const char *s);

#endif
