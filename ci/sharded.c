/* sharded — see sharded.h. */
#include "ci/sharded.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ci/checks.h"

bool sharded_per_process(const struct scn_expect *e)
{
	switch (e->kind) {
	case SCN_EXPECT_RSS_GROWTH:
	case SCN_EXPECT_FD_GROWTH:
	case SCN_EXPECT_RSS_GROWTH_PCT:
	case SCN_EXPECT_FD_GROWTH_PCT:
	case SCN_EXPECT_ACCOUNTED:
		return true;
	default:
		return false;
	}
}

/* r becomes a skip (or, with outcome, that) with "LINE: what" as its text. */
static void restate(struct check_result *r, enum check_outcome outcome, bool unknown, double got, const char *what)
{
	char line[SCN_MAX_TEXT + 64];
	checks_expect_line(r->e, line, sizeof line);
	r->result = outcome;
	r->unknown = unknown;
	r->got = unknown ? 0 : got;
	snprintf(r->text, sizeof r->text, "%.150s: %.160s", line, what);
}

size_t sharded_evaluate(const struct scenario *scn, const struct shard *sh, json_t *run, json_t *baseline,
			const struct expect_env *env, struct check_result *results)
{
	expect_evaluate(scn, run, baseline, env, results);
	char why[128];
	snprintf(why, sizeof why, "skipped (shard %u/%u: checked on the merged run, report merge --scenario)",
		 sh->index, sh->count);
	size_t failed = 0;
	for (size_t i = 0; i < scn->nexpects; i++) {
		struct check_result *r = &results[i];
		if (!sharded_per_process(r->e))
			restate(r, CHECK_SKIP, true, 0, why);
		else if (r->result == CHECK_FAIL)
			failed++;
	}
	return failed;
}

/* A per-process expectation on a merge: what the shards' runs found for the same
 * scenario line, in the merged run's segments. */
static void from_segments(struct check_result *r, json_t *run)
{
	size_t measured = 0, failed = 0, i, j;
	double first_fail = 0, last = 0;
	json_t *seg, *x;
	json_array_foreach(json_object_get(run, "segments"), i, seg) {
		json_array_foreach(json_object_get(seg, "expectations"), j, x) {
			const char *result = json_string_value(json_object_get(x, "result"));
			if (json_integer_value(json_object_get(x, "line")) != (json_int_t)r->e->line || !result ||
			    strcmp(result, "skip") == 0)
				continue;
			double got = json_number_value(json_object_get(x, "got"));
			if (strcmp(result, "fail") == 0 && failed++ == 0)
				first_fail = got;
			measured++;
			last = got;
		}
	}
	char what[96];
	if (failed) {
		snprintf(what, sizeof what, "failed in %zu of the %zu shard runs that measured it (first got %g)", failed,
			 measured, first_fail);
		restate(r, CHECK_FAIL, false, first_fail, what);
	} else if (measured) {
		snprintf(what, sizeof what, "passed in each of the %zu shard runs that measured it", measured);
		restate(r, CHECK_PASS, false, last, what);
	} else {
		restate(r, CHECK_SKIP, true, 0, "skipped (measured by each shard's run; none of the merged runs did)");
	}
}

int sharded_check_merged(json_t *run, json_t *baseline, const char *path, char *err, size_t cap)
{
	struct scenario *scn = malloc(sizeof *scn);
	struct check_result *results = malloc(SCN_MAX_LIST * sizeof *results);
	int failed = -1;
	if (!scn || !results) {
		snprintf(err, cap, "out of memory");
		goto out;
	}
	if (scenario_load(scn, path, err, cap) < 0)
		goto out;
	const char *kind = json_string_value(json_object_get(json_object_get(run, "proxy"), "kind"));
	/* No samples and no accounting here: those checks come from the segments. */
	const struct checks_proxy px = {.started = kind && strcmp(kind, "reference") == 0,
					.user = kind && strcmp(kind, "user") == 0,
					.rss_growth_kib = -1,
					.fd_growth = -1};
	const struct checks_in in = {.run = run, .baseline = baseline, .verdicts = json_object_get(run, "verdicts"),
				     .proxy = &px};
	checks_run(scn, &in, results);
	failed = 0;
	for (size_t i = 0; i < scn->nexpects; i++) {
		if (sharded_per_process(results[i].e))
			from_segments(&results[i], run);
		failed += results[i].result == CHECK_FAIL;
	}
	json_object_set_new(run, "expectations", checks_json(results, scn->nexpects));
out:
	free(results);
	free(scn);
	return failed;
}
