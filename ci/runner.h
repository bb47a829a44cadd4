/* runner — one scenario run, start to end:
 *   1. the run folder made, the run id made (`<scenario>-<unix seconds>-<pid>`), the
 *      stack started (ci/stack.h: origin, reference proxies, live capture), the
 *      scenario's URLs made concrete (ci/targets.h): names mapped with --resolve for
 *      the proxies run starts, with --connect-to through a proxy it did not start
 *      (unless `proxy_resolves_names`); what the run is said up front;
 *   2. the load (ci/soak.h), checkpointing DIR/run.json as it goes;
 *   3. everything stopped, the ledgers joined (ci/runjoin.h) and accounted
 *      (ci/account.h), the expectations checked (ci/expect.h) and written into
 *      run.json, with a diagnosis when every request failed for a fixable reason.
 * Every child is ours and stopped on every path out, also on SIGINT/SIGTERM
 * (ci/interrupt.h, installed by the caller).
 */
#ifndef TP_CI_RUNNER_H
#define TP_CI_RUNNER_H

#include <stdbool.h>

#include <jansson.h>

#include "ci/scenario.h"
#include "lib/shard.h"

#define RUNNER_RUN_ID_MAX 64 /* the run id contract: 1-64 chars of [A-Za-z0-9._-] */

struct runner_opts {
	const char *proxy;     /* --proxy: overrides the scenario's proxy; NULL */
	const char *proxy_cacert; /* --proxy-cacert: the CA of that proxy's QUIC certificate
				   * (PEM), trusted beside the origin's; NULL */
	double duration_s;     /* --duration: overrides the scenario's load with a soak; 0 */
	json_t *baseline;      /* --baseline PREV/run.json, read and checked (borrowed); NULL */
	bool proxy_win64;      /* --proxy-build win64: the reference proxy's Windows build */
	bool quiet;            /* -q */
	struct shard shard;    /* --shard I/N (or TP_SHARD): this run is one part of the
				* load (ci/sharded.h); zero: the whole load */
};

struct runner_outcome {
	int status;            /* 0 expectations met, 1 not met, 2 could not run */
	char summary[1024];    /* "NAME: 50/60 ok (10 incomplete_read), expectations met",
				* and what a simulated run stands in for */
	char diagnosis[1024];  /* "cause: ..." when every request failed for a reason the
				* user can fix; "" otherwise (ci/expect.h) */
};

/* The run id of scenario `name` started now by this process into out (cap >
 * RUNNER_RUN_ID_MAX): `<name>-<unix seconds>-<pid>`, the name cut to fit. */
void runner_run_id(const char *name, char *out, size_t cap);

/* Runs scn (its files relative to scn_dir) into the folder dir, named label (NULL:
 * the scenario's name). Returns res->status. */
int runner_run(const struct scenario *scn, const char *scn_dir, const struct runner_opts *o, const char *dir,
	       const char *label, struct runner_outcome *res);

#endif
