/* checks — checks a scenario's expectations against a run file (docs/run-json.md), an
 * optional baseline run file, the joined verdicts, and what run measured of the proxy
 * it started. Pure: JSON in, results out.
 *
 * Each result is pass, fail or skip. A check is skipped only when there is nothing to
 * compare with, for a reason the text names: no baseline given (`no_new_class`,
 * `p99_regression_pct`), or a proxy run did not start and so could not sample
 * (`rss_growth_mb`, `fd_growth`). Any other missing data — a field absent from the run
 * or the baseline, a proxy started but never sampled, no verdicts joined — fails.
 */
#ifndef TP_CI_CHECKS_H
#define TP_CI_CHECKS_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "ci/scenario.h"

enum check_outcome { CHECK_PASS = 0, CHECK_FAIL, CHECK_SKIP };

struct check_result {
	const struct scn_expect *e;
	enum check_outcome result;
	bool unknown;        /* the data it needs is missing: result is CHECK_SKIP where the
			      * header above allows it, else CHECK_FAIL */
	double got;          /* the measured value; 0 when unknown */
	char text[256];      /* "class incomplete_read <= 0: got 10",
			      * "no_new_class: skipped (no baseline)" */
};

/* What run knows of the proxy's resources, for rss_growth_mb and fd_growth. */
struct checks_proxy {
	bool started;        /* run started the proxy (so it could sample it); false for
			      * --proxy URL, `proxy external`, `proxy none` */
	long rss_growth_kib; /* last sample - first; < 0 when no sample was taken */
	long fd_growth;      /* the same for open fds */
};

/* Evaluates every expectation of scn. run: the run summary; baseline: NULL when none
 * was given; verdicts: run.verdicts, an array of verdict objects (lib/verdict.h; a
 * verdict expectation matches on `code`), NULL when no ledgers were joined; proxy: NULL
 * means not started. results has room for scn->nexpects. Returns the number that
 * failed (skips are not failures). */
size_t checks_run(const struct scenario *scn, json_t *run, json_t *baseline, json_t *verdicts,
		  const struct checks_proxy *proxy, struct check_result *results);

/* "pass", "fail", "skip". */
const char *checks_outcome_name(enum check_outcome r);

/* Results as a JSON array of {expect, result, pass, got, line} (docs/run-json.md):
 * result "pass" | "fail" | "skip"; pass is false exactly when the check failed (kept
 * for readers of earlier run files); got null when nothing was measured. New
 * reference. */
json_t *checks_json(const struct check_result *results, size_t n);

#endif
