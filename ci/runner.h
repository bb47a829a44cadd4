/* runner — one scenario run, start to end:
 *   1. the run folder made, the stack started (ci/stack.h: origin, reference proxies,
 *      live capture), the scenario's URLs made concrete (ci/targets.h);
 *   2. the load (ci/soak.h), checkpointing DIR/run.json as it goes;
 *   3. everything stopped, the ledgers joined (ci/runjoin.h), the expectations checked
 *      (ci/expect.h) and written into run.json.
 * Every child is ours and stopped on every path out, also on SIGINT/SIGTERM
 * (ci/interrupt.h, installed by the caller).
 */
#ifndef TP_CI_RUNNER_H
#define TP_CI_RUNNER_H

#include <stdbool.h>

#include "ci/scenario.h"

struct runner_opts {
	const char *proxy;     /* --proxy: overrides the scenario's proxy; NULL */
	double duration_s;     /* --duration: overrides the scenario's load with a soak; 0 */
	const char *baseline;  /* --baseline PREV/run.json; NULL */
	bool quiet;            /* -q */
};

struct runner_outcome {
	int status;            /* 0 expectations met, 1 not met, 2 could not run */
	char summary[512];     /* "NAME: 50/60 ok (10 incomplete_read), expectations met" */
};

/* Runs scn (its files relative to scn_dir) into the folder dir, named label (NULL:
 * the scenario's name). Returns res->status. */
int runner_run(const struct scenario *scn, const char *scn_dir, const struct runner_opts *o, const char *dir,
	       const char *label, struct runner_outcome *res);

#endif
