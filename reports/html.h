/* html — the report as one self-contained page: inline CSS (light and dark, print) and
 * the SVG charts of svg.h, no external resource; every string from a run escaped.
 */
#ifndef TP_REPORTS_HTML_H
#define TP_REPORTS_HTML_H

#include <stddef.h>
#include <stdio.h>

#include "reports/report.h"

/* Writes the page for runs (one, or several side by side). Returns 0, or -1 when
 * writing failed. */
int report_html(FILE *out, const struct report_run *runs, size_t n);

#endif
