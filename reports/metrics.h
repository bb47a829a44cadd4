/* metrics — the rows every side-by-side table shows (HTML, text, Markdown): one value
 * per run, which run is worse, and how target URLs are matched across runs. Reads the
 * run documents; owns nothing.
 */
#ifndef TP_REPORTS_METRICS_H
#define TP_REPORTS_METRICS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "reports/report.h"

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

#endif
