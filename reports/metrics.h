/* metrics — the rows every side-by-side table shows (HTML, text, Markdown): one value
 * per run, which run is worse, and how target URLs are matched across runs. Reads the
 * run documents; owns nothing.
 *
 * "Worse" compares like with like. Latency rows are the latency of ok requests: the
 * run file's `latency_ok_ms` (every run file written since lib/runload wrote it), or
 * `latency_ms` for a run with no failure (then they are the same). A failing run from
 * an older file without `latency_ok_ms` shows its all-requests latency marked not
 * comparable, and takes no part in the shading — its failures may have been fast,
 * which is not better. Rates are of ok requests.
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
	bool apart[REPORT_MAX_RUNS]; /* shown but not compared: another measure (all
				      * requests' latency of a failing run); no delta */
	double v[REPORT_MAX_RUNS];
};

#define REPORT_MAX_METRICS 48
/* Fills rows for runs: counts, error rate, each class any run saw, latency
 * percentiles (ok requests), throughput, ok requests per second, bytes, reuse; and,
 * when some run has them, verified / unverified bodies and open-loop starts missed.
 * Returns the number of rows. */
size_t report_metrics(const struct report_run *runs, size_t n, struct report_metric *rows, size_t cap);
/* Whether run i holds the worse value of the row (only when the runs differ; values
 * apart never are, nor count). */
bool report_is_worse(const struct report_metric *m, size_t n, size_t i);
/* Whether some value of rows[0..n) is apart (the tables then explain the mark). */
bool report_any_apart(const struct report_metric *rows, size_t nrows, size_t nruns);
/* The mark after a value apart. */
#define REPORT_APART_SYMBOL "†"
#define REPORT_APART_MARK " " REPORT_APART_SYMBOL
/* Writes value i of the row, a value apart with REPORT_APART_MARK, and its delta
 * against run 0 when both are comparable and differ ("10 (+10)"). */
void report_metric_cell(const struct report_metric *m, size_t i, bool delta, char *out, size_t cap);
/* Index of a url in targets matched across runs: exact url, else the same url without
 * its port (runs against ephemeral origins). -1 when none. */
long report_match_target(json_t *targets, const char *url);
/* The url with the port of its authority removed, into out. */
void report_url_without_port(const char *url, char *out, size_t cap);

#endif
