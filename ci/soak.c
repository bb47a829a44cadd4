/* soak — see soak.h. */
#include "ci/soak.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ci/args.h"
#include "ci/expect.h"
#include "ci/interrupt.h"
#include "ci/rundir.h"
#include "ci/say.h"
#include "lib/runfile.h"

/* The probe's argv for one segment: seconds > 0 a timed segment, else the scenario's
 * requests per URL. */
static void probe_args(struct args *a, const struct soak_plan *p, const char *json, const char *records,
		       double seconds)
{
	const struct scenario *scn = p->scn;
	args_init(a);
	args_add(a, "probe");
	args_add(a, "-q");
	args_opt(a, "--json", "%s", json);
	args_opt(a, "--records", "%s", records);
	args_opt(a, "--keylog", "%s/keylog.txt", p->cp->dir);
	args_opt(a, "--label", "%s", p->cp->label);
	if (p->cacert && p->cacert[0])
		args_opt(a, "--cacert", "%s", p->cacert);
	if (p->cp->proxy_url && p->cp->proxy_url[0])
		args_opt(a, "-x", "%s", p->cp->proxy_url);
	else
		args_opt(a, "--noproxy", "*");
	for (size_t i = 0; i < p->targets->nresolve; i++)
		args_opt(a, p->connect_to ? "--connect-to" : "--resolve", "%s",
			 p->connect_to ? p->targets->connect_to[i] : p->targets->resolve[i]);
	if (p->run_id)
		args_opt(a, "--run-id", "%s", p->run_id);
	if (p->shard && shard_active(p->shard))
		args_opt(a, "--shard", "%u/%u", p->shard->index, p->shard->count);
	args_opt(a, "-c", "%u", scn->concurrency);
	args_opt(a, "-t", "%u", scn->threads);
	args_opt(a, "--timeout", "%g", scn->timeout_s);
	if (seconds > 0)
		args_opt(a, "-d", "%g", seconds);
	else
		args_opt(a, "-n", "%llu", (unsigned long long)scn->requests);
	if (scn->rate > 0)
		args_opt(a, "-R", "%g", scn->rate);
	for (size_t i = 0; i < scn->nprobe_args; i++)
		args_add(a, "%s", scn->probe_args[i]);
	for (size_t i = 0; i < p->targets->nurls; i++)
		args_add(a, "%s", p->targets->urls[i]);
}

/* Runs segment s (seconds long, or the requests when 0) and reads its run file into
 * *seg; its records are appended to DIR/records.jsonl. Returns 0 (*seg NULL when
 * interrupted), or -1 with a message. */
static int run_segment(const struct soak_plan *p, unsigned s, double seconds, json_t **seg)
{
	const char *dir = p->cp->dir;
	char json[PATH_MAX], records[PATH_MAX], all[PATH_MAX], err[512];
	struct args a;
	*seg = NULL;
	snprintf(json, sizeof json, "%.4000s/segment-%03u.json", dir, s);
	snprintf(records, sizeof records, "%.4000s/segment-%03u.records.jsonl", dir, s);
	probe_args(&a, p, json, records, seconds);
	if (!args_ok(&a) || rundir_path(all, sizeof all, dir, "records.jsonl") < 0) {
		fprintf(stderr, "tunnelprobe run: too many probe arguments\n");
		return -1;
	}
	struct proc *child = procs_start(p->ps, "probe", a.v, false);
	if (!child)
		return -1;
	/* Bounded: the probe's own limits end it well before this. */
	int code = procs_wait(child, (int)((seconds + p->scn->timeout_s * 8 + 60) * 1000));
	if (code == -ETIMEDOUT) {
		procs_stop(child, 2000);
		fprintf(stderr, "tunnelprobe run: the probe did not finish in time (see %s/probe.log)\n", dir);
		return -1;
	}
	if (code == 2) {
		fprintf(stderr, "tunnelprobe run: the probe refused its arguments (see %s/probe.log)\n", dir);
		return -1;
	}
	if (runfile_read(json, seg, err, sizeof err) < 0) {
		if (interrupt_requested())
			return 0;
		fprintf(stderr, "tunnelprobe run: no run file from the probe: %s (see %s/probe.log)\n", err, dir);
		return -1;
	}
	int rc = rundir_append(records, all);
	if (rc < 0)
		fprintf(stderr, "tunnelprobe run: cannot append %s to %s: %s\n", records, all, strerror(-rc));
	unlink(records);
	unlink(json);
	return 0;
}

/* Checks the expectations on the run so far and prints the breaches (at t seconds). */
static void live_checks(const struct soak_plan *p, json_t *run, double t)
{
	struct check_result live[SCN_MAX_LIST];
	say(p->quiet, "  [%5.0fs] %lld requests, %lld failed\n", t,
	    (long long)json_integer_value(json_object_get(run, "requests")),
	    (long long)json_integer_value(json_object_get(run, "failed")));
	expect_evaluate(p->scn, run, NULL, p->env, live);
	for (size_t i = 0; i < p->scn->nexpects; i++)
		if (live[i].result == CHECK_FAIL && !live[i].unknown)
			say(p->quiet, "  [%5.0fs] breach: %s\n", t, live[i].text);
}

/* The probe of a segment has exited, but the proxy may still be closing the tunnels
 * it saw end: a moment before sampling, so every sample counts an idle proxy and
 * growth between samples is growth, not the last segment's tail. */
static void settle(void)
{
	struct timespec ts = {0, 200 * 1000 * 1000};
	nanosleep(&ts, NULL);
}

int soak_run(const struct soak_plan *p, json_t **run)
{
	double total = p->duration_s;
	double seg = p->scn->segment_s > 0 ? p->scn->segment_s : 10;
	unsigned nseg = total > 0 ? (unsigned)((total + seg - 0.001) / seg) : 1;
	double t0 = 0;
	json_t *acc = NULL;
	int rc = 0;
	samples_take(p->samples, p->proxy_pid, 0);
	for (unsigned s = 0; s < nseg && !interrupt_requested(); s++) {
		double seconds = total > 0 ? (total - t0 < seg ? total - t0 : seg) : 0;
		json_t *one;
		char err[512];
		if ((rc = run_segment(p, s, seconds, &one)) < 0 || !one)
			break;
		if (acc) {
			json_t *merged = runfile_merge(acc, one, err, sizeof err);
			json_decref(one);
			if (!merged) {
				fprintf(stderr, "tunnelprobe run: segment %u cannot be merged: %s\n", s, err);
				rc = -1;
				break;
			}
			json_decref(acc);
			one = merged;
		}
		acc = one;
		t0 += seconds;
		if (nseg > 1 && p->proxy_pid)
			settle();
		samples_take(p->samples, p->proxy_pid, t0);
		checkpoint_write(acc, p->cp);
		if (nseg > 1)
			live_checks(p, acc, t0);
	}
	*run = acc;
	return rc;
}
