/* runner — see runner.h. */
#include "ci/runner.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ci/account.h"
#include "ci/checkpoint.h"
#include "ci/expect.h"
#include "ci/interrupt.h"
#include "ci/procs.h"
#include "ci/rundir.h"
#include "ci/runjoin.h"
#include "ci/samples.h"
#include "ci/say.h"
#include "ci/sharded.h"
#include "ci/soak.h"
#include "ci/stack.h"
#include "ci/targets.h"
#include "lib/runfile.h"

/* What one run is made of, beyond the scenario: one allocation (the tables are big). */
struct run_state {
	struct procs ps;
	struct targets tg;
	struct stack st;
	struct samples smp;
	struct account acct;
	bool accounted;                 /* acct was computed */
	char run_id[RUNNER_RUN_ID_MAX + 1];
	char names[1024];               /* site names the user's proxy must resolve; "" none */
	bool connect_to;                /* names mapped with --connect-to */
};

void runner_run_id(const char *name, char *out, size_t cap)
{
	char tail[48];
	int n = snprintf(tail, sizeof tail, "-%lld-%ld", (long long)time(NULL), (long)getpid());
	int room = RUNNER_RUN_ID_MAX - n;
	snprintf(out, cap, "%.*s%s", room > 0 ? room : 0, name, tail);
}

/* The run folder made and the children's table ready; files a previous run into the
 * same folder left (ledgers are appended to) removed. Returns 0 or -1 (message). */
static int prepare(struct procs *ps, const char *dir)
{
	int rc = rundir_make(dir);
	if (rc == 0)
		rc = procs_init(ps, dir);
	if (rc < 0) {
		fprintf(stderr, "tunnelprobe run: cannot create %s: %s\n", dir, strerror(-rc));
		return -1;
	}
	static const char *const stale[] = {"records.jsonl",   "origin.jsonl", "proxy.jsonl", "upstream-proxy.jsonl",
					    "capture.json",    "capture.pcapng", "run.json"};
	char path[PATH_MAX];
	for (size_t i = 0; i < sizeof stale / sizeof stale[0]; i++)
		if (rundir_path(path, sizeof path, dir, stale[i]) == 0)
			unlink(path);
	return 0;
}

/* How the scenario's site names reach the proxy: the proxies run starts resolve them
 * (--resolve), a user's proxy is asked for addresses (--connect-to) unless the
 * scenario wants it to resolve names; then the names it must resolve are kept to say
 * so up front. */
static void plan_names(const struct scenario *scn, struct run_state *rs)
{
	bool user = rs->st.info.kind == PROXYINFO_USER;
	rs->connect_to = user && rs->tg.nresolve && !scn->proxy_resolves_names;
	if (user && rs->tg.nresolve && !rs->connect_to)
		targets_names(&rs->tg, rs->names, sizeof rs->names);
}

/* What a scenario checks on a user's proxy: its `expect` and `expect user` lines,
 * "; "-joined into out. */
static void user_checks(const struct scenario *scn, char *out, size_t cap)
{
	size_t at = 0;
	out[0] = '\0';
	for (size_t i = 0; i < scn->nexpects && at < cap; i++) {
		char line[SCN_MAX_TEXT + 64];
		if (scn->expects[i].group == SCN_GROUP_REFERENCE)
			continue;
		checks_expect_line(&scn->expects[i], line, sizeof line);
		int n = snprintf(out + at, cap - at, "%s%s", at ? "; " : "", line);
		at = n < 0 ? cap : at + (size_t)n;
	}
}

/* Up front: what the run goes through, what a reference-fault scenario checks on a
 * user's proxy, and which names that proxy must resolve. */
static void announce(const struct scenario *scn, const struct run_state *rs, double duration_s, bool quiet)
{
	char what[1600];
	proxyinfo_text(&rs->st.info, what, sizeof what);
	say(quiet, "%s: through %s%s\n", scn->name, what, duration_s > 0 ? " (timed)" : "");
	if (rs->st.info.kind == PROXYINFO_USER && (scn->nfaults || scn_has_group(scn, SCN_GROUP_REFERENCE))) {
		user_checks(scn, what, sizeof what);
		say(quiet, "  this scenario reproduces a fault of the reference proxy (%.200s%s); against your proxy "
			   "it checks: %s\n",
		    scn->nfaults ? scn->faults[0] : "see its expect reference lines", scn->nfaults > 1 ? ", ..." : "",
		    what[0] ? what : "nothing (it has no expect or expect user lines)");
	}
	if (rs->names[0])
		say(quiet, "  your proxy must resolve these names to 127.0.0.1 itself: %s\n", rs->names);
}

/* The expectations checked against the finished run, written into it and printed,
 * the diagnosis first; the outcome set. */
static void finish(const struct scenario *scn, const struct runner_opts *o, json_t *run, struct run_state *rs,
		   const struct checkpoint *cp, struct runner_outcome *res)
{
	struct check_result results[SCN_MAX_LIST];
	const struct expect_env env = {.samples = &rs->smp,
				       .user_proxy = rs->st.info.kind == PROXYINFO_USER,
				       .accounted = rs->accounted ? &rs->acct : NULL};
	bool sharded = shard_active(&o->shard);
	size_t failed = sharded ? sharded_evaluate(scn, &o->shard, run, o->baseline, &env, results)
				: expect_evaluate(scn, run, o->baseline, &env, results);
	json_object_set_new(run, "expectations", checks_json(results, scn->nexpects));
	expect_diagnosis(run, rs->st.proxy_url, rs->names, res->diagnosis, sizeof res->diagnosis);
	if (res->diagnosis[0]) {
		json_object_set_new(run, "diagnosis", json_string(res->diagnosis));
		say(o->quiet, "%s\n", res->diagnosis);
	}
	checkpoint_write(run, cp);
	for (size_t i = 0; i < scn->nexpects; i++)
		say(o->quiet, "  %s %s\n",
		    results[i].result == CHECK_FAIL ? "FAIL" : checks_outcome_name(results[i].result),
		    results[i].text);
	expect_summary(cp->label, run, failed, res->summary, sizeof res->summary);
	if (sharded) {
		size_t l = strlen(res->summary);
		snprintf(res->summary + l, sizeof res->summary - l, " (shard %u/%u: the load's expectations are "
			 "checked on the merge)", o->shard.index, o->shard.count);
	}
	if (rs->st.info.note[0]) {
		size_t l = strlen(res->summary);
		snprintf(res->summary + l, sizeof res->summary - l, " (simulated: %s)", rs->st.info.note);
	}
	/* A shard's checks are judged on the merge (its per-process ones too, from the
	 * merged run's segments): it exits 0 once it ran, so a job runner does not take a
	 * finished part of the load for one to run again. */
	res->status = interrupt_requested() ? 2 : failed && !sharded ? 1 : 0;
}

static bool wants_accounting(const struct scenario *scn)
{
	for (size_t i = 0; i < scn->nexpects; i++)
		if (scn->expects[i].kind == SCN_EXPECT_ACCOUNTED)
			return true;
	return false;
}

/* After the load: the ledgers joined and accounted. */
static void after_load(const struct scenario *scn, const char *dir, bool have_pcap, json_t *run,
		       struct run_state *rs)
{
	const char *id = rs->run_id;
	/* The join places failures; with none there is nothing to place, and joining a
	 * long clean soak's ledgers costs minutes. No failed tunnel: no verdict. */
	if (json_integer_value(json_object_get(run, "failed")) > 0 || have_pcap)
		runjoin_ledgers(&rs->ps, dir, have_pcap, id, run);
	else
		json_object_set_new(run, "verdicts", json_array());
	if (wants_accounting(scn) &&
	    account_run(dir, id, procs_pid(rs->st.proxy) || rs->st.info.kind == PROXYINFO_REFERENCE, &rs->acct) == 0)
		rs->accounted = true;
}

int runner_run(const struct scenario *scn, const char *scn_dir, const struct runner_opts *o, const char *dir,
	       const char *label, struct runner_outcome *res)
{
	const char *name = label ? label : scn->name;
	struct run_state *rs = calloc(1, sizeof *rs);
	json_t *run = NULL;
	res->status = 2;
	res->diagnosis[0] = '\0';
	snprintf(res->summary, sizeof res->summary, "%s: could not run", scn->name);
	if (!rs || samples_init(&rs->smp) < 0 || prepare(&rs->ps, dir) < 0)
		goto out;
	interrupt_watch(&rs->ps);
	runner_run_id(scn->name, rs->run_id, sizeof rs->run_id);
	stack_init(&rs->st, &rs->ps, dir, rs->run_id);
	rs->st.proxy_win64 = o->proxy_win64;
	rs->st.proxy_cacert = o->proxy ? o->proxy_cacert : NULL;
	if ((scn->origin && stack_origin(&rs->st, scn, scn_dir) < 0) ||
	    targets_make(&rs->tg, scn, scn->origin, rs->st.http_port, rs->st.tls_port) < 0 ||
	    stack_proxies(&rs->st, scn, o->proxy, &rs->tg) < 0)
		goto out;
	stack_capture_start(&rs->st, scn, o->quiet);
	rs->smp.proxy_started = procs_pid(rs->st.proxy) > 0;
	plan_names(scn, rs);
	const struct checkpoint cp = {.dir = dir,
				      .scenario = scn->name,
				      .label = name,
				      .run_id = rs->run_id,
				      .proxy_url = rs->st.proxy_url,
				      .proxy = &rs->st.info,
				      .samples = &rs->smp};
	const struct expect_env live = {.samples = &rs->smp, .user_proxy = rs->st.info.kind == PROXYINFO_USER};
	const struct soak_plan plan = {
		.scn = scn,
		.targets = &rs->tg,
		.connect_to = rs->connect_to,
		.run_id = rs->run_id,
		.shard = &o->shard,
		.cp = &cp,
		.cacert = rs->st.cacert,
		.duration_s = o->duration_s > 0 ? o->duration_s : scn->duration_s,
		.quiet = o->quiet,
		.ps = &rs->ps,
		.proxy_pid = procs_sample_pid(rs->st.proxy), /* under Wine: the .exe's process */
		.samples = &rs->smp,
		.env = &live,
	};
	announce(scn, rs, plan.duration_s, o->quiet);
	int rc = soak_run(&plan, &run);
	bool have_pcap = stack_capture_stop(&rs->st);
	procs_stop_all(&rs->ps, 3000);
	if (rc < 0)
		goto out;
	if (!run) {
		fprintf(stderr, "tunnelprobe run: interrupted before any result\n");
		goto out;
	}
	if (!interrupt_requested())
		after_load(scn, dir, have_pcap, run, rs);
	interrupt_watch(NULL);
	finish(scn, o, run, rs, &cp, res);
out:
	if (rs) {
		procs_stop_all(&rs->ps, 3000);
		interrupt_watch(NULL);
		samples_free(&rs->smp);
	}
	free(rs);
	json_decref(run);
	return res->status;
}
