/* sharded — a scenario's expectations when its load is split into shards
 * (docs/distributed.md): `run --shard I/N` checks on its own part only what that
 * process alone measured, and `report merge --scenario` checks the rest on the merged
 * run. Which is which:
 *   - measured per process (the proxy run started, its samples, its ledgers):
 *     rss_growth_mb, fd_growth, rss_growth_pct, fd_growth_pct, accounted. Checked by
 *     each shard's run; on a merge they take the shards' results from the merged run's
 *     "segments" (a fail in any shard fails, a pass in every shard passes);
 *   - everything else describes the whole load (counts, rates, latencies, verdicts,
 *     baselines): skipped by a shard (its part is not the load the bound is for),
 *     checked on the merge.
 * The checks themselves are ci/checks.h's, the one implementation.
 */
#ifndef TP_CI_SHARDED_H
#define TP_CI_SHARDED_H

#include <stddef.h>

#include <jansson.h>

#include "ci/expect.h"
#include "ci/scenario.h"
#include "lib/shard.h"

/* Whether expectation e is measured by each process rather than on the whole load. */
bool sharded_per_process(const struct scn_expect *e);

/* expect_evaluate for shard sh of a `run --shard`: the whole-load expectations come out
 * skipped ("skipped (shard 1/4: checked on the merged run, report merge --scenario)").
 * Returns the number that failed. */
size_t sharded_evaluate(const struct scenario *scn, const struct shard *sh, json_t *run, json_t *baseline,
			const struct expect_env *env, struct check_result *results);

/* The merge_checker_fn of reports/merge.h: the scenario at path loaded, its
 * expectations checked on the merged run (borrowed; its "proxy" object says whether the
 * shards started the reference proxy or tested the user's), written into it as
 * "expectations". Returns how many failed, or -1 with err set. */
int sharded_check_merged(json_t *run, json_t *baseline, const char *path, char *err, size_t cap);

#endif
