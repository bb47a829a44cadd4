/* checks — checks a scenario's expectations against a run file (docs/run-json.md), an
 * optional baseline run file, the joined verdicts, what run measured of the proxy it
 * started, and the ledger accounting (ci/account.h). Pure: JSON and structs in,
 * results out.
 *
 * Each result is pass, fail or skip. A check is skipped only when there is nothing to
 * compare with, for a reason the text names:
 *   - no baseline given (`no_new_class`, `p99_regression_pct`);
 *   - run did not start the proxy, so it could not sample it (`rss_growth_*`,
 *     `fd_growth*`: "skipped (not measured: proxy not started by run)") nor read its
 *     ledger (`verdict ... from proxy_ledger`);
 *   - the expectation's group does not apply to this proxy: `expect reference` lines
 *     against a proxy run did not start (they check the reference proxy's faults),
 *     `expect user` lines when run started the reference proxy or went direct.
 * Any other missing data — a field absent from the run or the baseline, a proxy
 * started but never sampled, no verdicts joined, ledgers that could not be read —
 * fails.
 */
#ifndef TP_CI_CHECKS_H
#define TP_CI_CHECKS_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "ci/account.h"
#include "ci/scenario.h"

enum check_outcome { CHECK_PASS = 0, CHECK_FAIL, CHECK_SKIP };

struct check_result {
	const struct scn_expect *e;
	enum check_outcome result;
	bool unknown;        /* the data it needs is missing: result is CHECK_SKIP where the
			      * header above allows it, else CHECK_FAIL */
	double got;          /* the measured value; 0 when unknown */
	char text[320];      /* "class incomplete_read <= 0: got 10",
			      * "no_new_class: skipped (no baseline)" */
};

/* What run knows of the proxy and its resources, for the growth checks and groups. */
struct checks_proxy {
	bool started;        /* run started the reference proxy (so it could sample it) */
	bool user;           /* the proxy is the user's: --proxy URL or `proxy external`
			      * (neither: direct) */
	long rss_growth_kib; /* last sample - first; < 0 when no sample was taken */
	long fd_growth;      /* the same for open fds */
	bool pct_known;      /* two samples under load were taken: */
	double rss_growth_pct, fd_growth_pct; /* last vs first under load, in % */
};

/* Everything the checks read; NULL members as each says. */
struct checks_in {
	json_t *run;                       /* the run summary (required) */
	json_t *baseline;                  /* --baseline; NULL when none */
	json_t *verdicts;                  /* run.verdicts (lib/verdict.h objects; matched
					    * on `code`); NULL when no ledgers were joined */
	const struct checks_proxy *proxy;  /* NULL: direct, nothing started */
	const struct account *accounted;   /* NULL: the ledgers were not accounted */
};

/* Evaluates every expectation of scn. results has room for scn->nexpects. Returns the
 * number that failed (skips are not failures). */
size_t checks_run(const struct scenario *scn, const struct checks_in *in, struct check_result *results);

/* The expectation as written, its bound included: "class ok == 60", "no_new_class",
 * "verdict truncated at proxy". */
void checks_expect_line(const struct scn_expect *e, char *out, size_t cap);

/* "pass", "fail", "skip". */
const char *checks_outcome_name(enum check_outcome r);

/* Results as a JSON array of {expect, result, pass, got, line, group}
 * (docs/run-json.md): result "pass" | "fail" | "skip"; pass is false exactly when the
 * check failed (kept for readers of earlier run files); got null when nothing was
 * measured; group "reference" or "user" for lines of those `expect` sections (absent
 * otherwise). New reference. */
json_t *checks_json(const struct check_result *results, size_t n);

#endif
