/* expect — a run's expectations checked with everything `run` measured: the run file,
 * an optional baseline run, the joined verdicts and the local proxy's resource growth
 * (ci/checks.h does the checking); and the one line a run ends with.
 */
#ifndef TP_CI_EXPECT_H
#define TP_CI_EXPECT_H

#include <stddef.h>

#include <jansson.h>

#include "ci/checks.h"
#include "ci/samples.h"
#include "ci/scenario.h"

/* Checks scn's expectations against run (its "verdicts" included), baseline (NULL
 * when none) and smp (NULL when nothing was sampled) into results (room for
 * scn->nexpects). Returns the number that failed. */
size_t expect_check(const struct scenario *scn, json_t *run, json_t *baseline, const struct samples *smp,
		    struct check_result *results);

/* "NAME: 50/60 ok (10 incomplete_read), expectations met" (or "NOT met" when failed
 * is not 0) into out. */
void expect_summary(const char *name, json_t *run, size_t failed, char *out, size_t cap);

#endif
