/* expect — a run's expectations checked with everything `run` measured: the run file,
 * an optional baseline run, the joined verdicts, the local proxy's resource growth and
 * the ledger accounting (ci/checks.h does the checking); the one line a run ends with;
 * and, when a run failed for a reason the user can fix, the one line that says so.
 */
#ifndef TP_CI_EXPECT_H
#define TP_CI_EXPECT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "ci/account.h"
#include "ci/checks.h"
#include "ci/samples.h"
#include "ci/scenario.h"

/* What run knows beyond the run file. */
struct expect_env {
	const struct samples *samples;   /* the reference proxy's; NULL when none */
	bool user_proxy;                 /* the proxy is the user's (--proxy, proxy external) */
	const struct account *accounted; /* NULL when the ledgers were not accounted */
};

/* Checks scn's expectations against run (its "verdicts" included) and baseline (NULL
 * when none) into results (room for scn->nexpects). Returns the number that failed. */
size_t expect_evaluate(const struct scenario *scn, json_t *run, json_t *baseline, const struct expect_env *env,
		    struct check_result *results);

/* "NAME: 50/60 ok (10 incomplete_read), expectations met" (or "NOT met" when failed
 * is not 0) into out. */
void expect_summary(const char *name, json_t *run, size_t failed, char *out, size_t cap);

/* What a failed run's user can fix, in one line, into out ("" when nothing stands
 * out): every request refused by the proxy, the proxy unreachable, names that did not
 * resolve. proxy_url: the proxy the probe went through ("" direct); names: the site
 * names the proxy had to resolve itself ("" when it got addresses). */
void expect_diagnosis(json_t *run, const char *proxy_url, const char *names, char *out, size_t cap);

#endif
