/* text — the report as plain text, Markdown (a CI step summary) and JUnit XML, and the
 * escaping and shell quoting every output uses. Writers return 0, or -1 when writing
 * failed (the caller names the file).
 */
#ifndef TP_REPORTS_TEXT_H
#define TP_REPORTS_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "reports/report.h"

/* v with thousands separators ("654,397") into out. */
void report_thousands(char *out, size_t cap, long long v);
/* An expectation's result, "pass", "fail" or "skip": its `result`, or for files from
 * before skips existed, its `pass`. */
const char *report_expect_result(json_t *expectation);
/* Writes s with HTML/XML special characters escaped and control characters as '?'. */
void report_escape(FILE *out, const char *s);
/* Writes argv shell-quoted, so it can be pasted to repeat the run. */
void report_command(FILE *out, json_t *argv, bool html);
int report_text(FILE *out, const struct report_run *runs, size_t n);
int report_markdown(FILE *out, const struct report_run *runs, size_t n);
int report_junit(FILE *out, const struct report_run *runs, size_t n);

#endif
