/* checks — checks a scenario's expectations against a run file (docs/ledgers.md "Run
 * file"), an optional baseline run file, the joined verdicts, and the proxy's resource
 * samples. Pure: JSON in, results out. */
#ifndef TP_CI_CHECKS_H
#define TP_CI_CHECKS_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "ci/scenario.h"

struct check_result {
	const struct scn_expect *e;
	bool pass;
	bool unknown;        /* the data it needs is missing (counts as a failure) */
	double got;
	char text[256];      /* "class incomplete_read <= 0: got 10" */
};

/* Evaluates every expectation of scn. run: the run summary; baseline: NULL or a
 * previous run; verdicts: NULL or an array of verdict strings; rss_growth_kib and
 * fd_growth: < 0 when not sampled. results has room for scn->nexpects. Returns the
 * number that failed. */
size_t checks_run(const struct scenario *scn, json_t *run, json_t *baseline, json_t *verdicts,
		    long rss_growth_kib, long fd_growth, struct check_result *results);

/* Results as a JSON array of {expect, pass, got} (new reference). */
json_t *checks_json(const struct check_result *results, size_t n);

#endif
