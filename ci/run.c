/* run — see run.h: the command line. The work is elsewhere, one job per file:
 * runner.c runs one scenario (stack.c starts the children, targets.c makes the URLs
 * concrete, soak.c runs the load and checkpoints it, runjoin.c joins the ledgers,
 * expect.c checks the expectations), demo.c is the built-in demo, render.c spawns the
 * report, interrupt.c handles SIGINT/SIGTERM. */
#include "ci/run.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ci/demo.h"
#include "ci/interrupt.h"
#include "ci/render.h"
#include "ci/runner.h"
#include "ci/say.h"
#include "ci/scenario.h"
#include "lib/runfile.h"
#include "lib/shard.h"

struct run_cli {
	struct runner_opts o;
	const char *baseline;  /* --baseline: read into o.baseline before anything starts */
	const char *out;       /* --out */
	const char *label;     /* --label */
	const char *scenario;  /* SCENARIO; NULL: the demo */
};

static void usage(FILE *out)
{
	fputs("usage: tunnelprobe run [SCENARIO] [--proxy URL] [--out DIR] [--duration SECS]\n"
	      "                       [--baseline PREV/run.json] [--label NAME]\n"
	      "                       [--proxy-build linux|win64] [-q]\n"
	      "  SCENARIO          a scenario file (docs/scenarios.md); none: the built-in demo\n"
	      "  --proxy URL       test this proxy instead of the scenario's (your own build): it is\n"
	      "                    asked for 127.0.0.1:PORT while Host and SNI keep the site names\n"
	      "                    (unless the scenario says proxy_resolves_names); `expect user`\n"
	      "                    lines apply, `expect reference` lines are skipped\n"
	      "  --out DIR         the run folder (default: runs/NAME-UNIXTIME)\n"
	      "  --duration SECS   soak: run the load for this long (at most 168h), checkpointing\n"
	      "  --baseline FILE   a previous run.json for regression expectations (checked first)\n"
	      "  --label NAME      the run's name in reports\n"
	      "  --shard I/N       run shard I's part of the scenario's load (of N, from 0; default\n"
	      "                    from TP_SHARD); the load's expectations are checked on the\n"
	      "                    merge: tunnelprobe report merge ... --scenario SCENARIO;\n"
	      "                    exit 0 once the shard ran (the merge judges its checks)\n"
	      "  --proxy-cacert F  with --proxy quic://, socks5+quic://: trust this CA (PEM) for\n"
	      "                    your QUIC proxy's certificate, beside the origin's\n"
	      "  --proxy-build B   the reference proxy's build: linux (this binary) or win64\n"
	      "                    (build/win64/tunnelprobe.exe under Wine; docs/windows.md)\n"
	      "Exit status: 0 expectations met, 1 not met, 2 bad input or the run failed.\n",
	      out);
}

/* --shard's value, else TP_SHARD's, into c->o.shard. 0 or 2 (message). */
static int parse_shard(struct run_cli *c, const char *flag)
{
	const char *spec = flag ? flag : getenv("TP_SHARD"), *why = NULL;
	if (!spec || (!flag && !*spec))
		return 0;
	if (shard_parse(spec, &c->o.shard, &why) < 0) {
		fprintf(stderr, "tunnelprobe run: bad %s '%s': %s\n", flag ? "--shard" : "TP_SHARD", spec, why);
		return 2;
	}
	return 0;
}

/* Returns 0 to run, 1 when done (--help), 2 for bad usage (message on stderr). */
static int parse(struct run_cli *c, int argc, char **argv)
{
	const char *shard = NULL;
	memset(c, 0, sizeof *c);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool has_value = i + 1 < argc;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 1;
		} else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
			c->o.quiet = true;
		} else if (strcmp(a, "--proxy") == 0 && has_value) {
			c->o.proxy = argv[++i];
		} else if (strcmp(a, "--proxy-cacert") == 0 && has_value) {
			c->o.proxy_cacert = argv[++i];
		} else if (strcmp(a, "--out") == 0 && has_value) {
			c->out = argv[++i];
		} else if (strcmp(a, "--baseline") == 0 && has_value) {
			c->baseline = argv[++i];
		} else if (strcmp(a, "--label") == 0 && has_value) {
			c->label = argv[++i];
		} else if (strcmp(a, "--shard") == 0 && has_value) {
			shard = argv[++i];
		} else if (strcmp(a, "--proxy-build") == 0 && has_value) {
			const char *b = argv[++i];
			if (strcmp(b, "win64") != 0 && strcmp(b, "linux") != 0) {
				fprintf(stderr, "tunnelprobe run: --proxy-build wants linux or win64, not '%s'\n", b);
				return 2;
			}
			c->o.proxy_win64 = strcmp(b, "win64") == 0;
		} else if (strcmp(a, "--duration") == 0 && has_value) {
			c->o.duration_s = scn_duration(argv[++i], SCN_MAX_DURATION_S);
			if (!(c->o.duration_s > 0)) {
				fprintf(stderr, "tunnelprobe run: --duration wants 30s, 5m, 1h (at most %gh), not '%s'\n",
					SCN_MAX_DURATION_S / 3600, argv[i]);
				return 2;
			}
		} else if (a[0] == '-') {
			fprintf(stderr, "tunnelprobe run: unknown option or missing value: '%s'\n", a);
			return 2;
		} else if (!c->scenario) {
			c->scenario = a;
		} else {
			fprintf(stderr, "tunnelprobe run: one scenario at a time ('%s')\n", a);
			return 2;
		}
	}
	return parse_shard(c, shard);
}

/* A scenario file: run it into its folder, then the report. */
static int run_file(const struct run_cli *c)
{
	struct scenario *scn = malloc(sizeof *scn);
	char err[600], scn_dir[PATH_MAX], dirs[1][PATH_MAX];
	struct runner_outcome res = {.status = 2};
	if (!scn || scenario_load(scn, c->scenario, err, sizeof err) < 0) {
		fprintf(stderr, "tunnelprobe run: %s\n", scn ? err : "out of memory");
		goto out;
	}
	snprintf(scn_dir, sizeof scn_dir, "%s", c->scenario);
	char *slash = strrchr(scn_dir, '/');
	if (slash)
		*slash = '\0';
	else
		strcpy(scn_dir, ".");
	/* Before anything starts: the Windows build refuses --quic-listen at its start. */
	if (c->o.proxy_win64 && scn->proxy_quic && !c->o.proxy) {
		fprintf(stderr, "tunnelprobe run: --proxy-build win64: the Windows build has no QUIC listener "
				"('proxy reference %s' runs the Linux build only)\n", scn->proxy_scheme);
		goto out;
	}
	if (c->out)
		snprintf(dirs[0], sizeof dirs[0], "%s", c->out);
	else
		snprintf(dirs[0], sizeof dirs[0], "runs/%s-%ld", scn->name, (long)time(NULL));
	runner_run(scn, scn_dir, &c->o, dirs[0], c->label, &res);
	say(c->o.quiet, "%s\n", res.summary);
	const char *labels[1] = {c->label ? c->label : scn->name};
	if (res.status != 2)
		render_report(dirs[0], dirs, labels, 1, c->o.quiet);
out:
	free(scn);
	return res.status;
}

int run_main(int argc, char **argv)
{
	struct run_cli c;
	char err[600];
	int rc = parse(&c, argc, argv);
	if (rc)
		return rc == 1 ? 0 : rc;
	/* Checked as `report` checks a run file (lib/runfile.h), before anything starts. */
	if (c.baseline && runfile_read(c.baseline, &c.o.baseline, err, sizeof err) < 0) {
		fprintf(stderr, "tunnelprobe run: --baseline %s\n", err);
		return 2;
	}
	interrupt_install();
	if (!c.scenario && shard_active(&c.o.shard)) {
		fprintf(stderr, "tunnelprobe run: --shard (or TP_SHARD) needs a scenario, not the demo\n");
		json_decref(c.o.baseline);
		return 2;
	}
	rc = c.scenario ? run_file(&c) : demo_run(c.out ? c.out : "runs/demo", &c.o);
	json_decref(c.o.baseline);
	return rc;
}
