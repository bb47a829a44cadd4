/* runner — see runner.h. */
#include "ci/runner.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ci/checkpoint.h"
#include "ci/expect.h"
#include "ci/interrupt.h"
#include "ci/procs.h"
#include "ci/rundir.h"
#include "ci/runjoin.h"
#include "ci/samples.h"
#include "ci/say.h"
#include "ci/soak.h"
#include "ci/stack.h"
#include "ci/targets.h"
#include "lib/runfile.h"

/* The run folder made and the children's table ready. Returns 0 or -1 (message). */
static int prepare(struct procs *ps, const char *dir)
{
	int rc = rundir_make(dir);
	if (rc == 0)
		rc = procs_init(ps, dir);
	if (rc < 0) {
		fprintf(stderr, "tunnelprobe run: cannot create %s: %s\n", dir, strerror(-rc));
		return -1;
	}
	char path[PATH_MAX];
	if (rundir_path(path, sizeof path, dir, "records.jsonl") == 0)
		unlink(path); /* segments append to it */
	return 0;
}

/* The expectations checked against the finished run, written into it and printed;
 * the outcome set. Returns 0, or -1 when the baseline cannot be read. */
static int finish(const struct scenario *scn, const struct runner_opts *o, json_t *run,
		  const struct checkpoint *cp, struct runner_outcome *res)
{
	json_t *baseline = NULL;
	char err[600];
	if (o->baseline && runfile_read(o->baseline, &baseline, err, sizeof err) < 0) {
		fprintf(stderr, "tunnelprobe run: cannot read --baseline %s: %s\n", o->baseline, err);
		return -1;
	}
	struct check_result results[SCN_MAX_LIST];
	size_t failed = expect_check(scn, run, baseline, cp->samples, results);
	json_decref(baseline);
	json_object_set_new(run, "expectations", checks_json(results, scn->nexpects));
	checkpoint_write(run, cp);
	for (size_t i = 0; i < scn->nexpects; i++)
		say(o->quiet, "  %s %s\n",
		    results[i].result == CHECK_FAIL ? "FAIL" : checks_outcome_name(results[i].result),
		    results[i].text);
	expect_summary(cp->label, run, failed, res->summary, sizeof res->summary);
	res->status = interrupt_requested() ? 2 : failed ? 1 : 0;
	return 0;
}

int runner_run(const struct scenario *scn, const char *scn_dir, const struct runner_opts *o, const char *dir,
	       const char *label, struct runner_outcome *res)
{
	const char *name = label ? label : scn->name;
	struct procs *ps = calloc(1, sizeof *ps);
	struct targets *tg = calloc(1, sizeof *tg);
	struct samples smp;
	struct stack st;
	json_t *run = NULL;
	res->status = 2;
	snprintf(res->summary, sizeof res->summary, "%s: could not run", scn->name);
	if (samples_init(&smp) < 0 || !ps || !tg || prepare(ps, dir) < 0)
		goto out;
	interrupt_watch(ps);
	stack_init(&st, ps, dir);
	if ((scn->origin && stack_origin(&st, scn, scn_dir) < 0) ||
	    targets_make(tg, scn, scn->origin, st.http_port, st.tls_port) < 0 ||
	    stack_proxies(&st, scn, o->proxy, tg) < 0)
		goto out;
	stack_capture_start(&st, scn, o->quiet);
	smp.proxy_started = procs_pid(st.proxy) > 0;
	const struct checkpoint cp = {
		.dir = dir, .scenario = scn->name, .label = name, .proxy_url = st.proxy_url, .samples = &smp};
	const struct soak_plan plan = {
		.scn = scn,
		.targets = tg,
		.cp = &cp,
		.duration_s = o->duration_s > 0 ? o->duration_s : scn->duration_s,
		.quiet = o->quiet,
		.ps = ps,
		.proxy_pid = procs_pid(st.proxy),
		.samples = &smp,
	};
	say(o->quiet, "%s: %s%s%s\n", scn->name, st.proxy_url[0] ? "through " : "direct", st.proxy_url,
	    plan.duration_s > 0 ? " (timed)" : "");
	int rc = soak_run(&plan, &run);
	bool have_pcap = stack_capture_stop(&st);
	procs_stop_all(ps, 3000);
	if (rc < 0)
		goto out;
	if (!run) {
		fprintf(stderr, "tunnelprobe run: interrupted before any result\n");
		goto out;
	}
	if (!interrupt_requested())
		runjoin_ledgers(ps, dir, have_pcap, run);
	interrupt_watch(NULL);
	finish(scn, o, run, &cp, res);
out:
	if (ps) {
		procs_stop_all(ps, 3000);
		interrupt_watch(NULL);
	}
	free(ps);
	free(tg);
	json_decref(run);
	samples_free(&smp);
	return res->status;
}
