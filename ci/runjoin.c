/* runjoin — see runjoin.h. */
#include "ci/runjoin.h"

#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "ci/args.h"
#include "ci/rundir.h"
#include "lib/runfile.h"

int runjoin_ledgers(struct procs *ps, const char *dir, bool have_pcap, const char *run_id, json_t *run)
{
	struct args a;
	args_init(&a);
	args_add(&a, "capture");
	args_add(&a, "-q");
	args_opt(&a, "--json", "%s/capture.json", dir);
	if (have_pcap)
		args_opt(&a, "--read", "%s/capture.pcapng", dir);
	if (run_id)
		args_opt(&a, "--run-id", "%s", run_id);
	const char *ledgers[] = {"records.jsonl", "origin.jsonl", "proxy.jsonl", "upstream-proxy.jsonl"};
	char path[PATH_MAX];
	for (size_t i = 0; i < sizeof ledgers / sizeof ledgers[0]; i++)
		if (rundir_path(path, sizeof path, dir, ledgers[i]) == 0 && access(path, R_OK) == 0)
			args_add(&a, "%s", path);
	/* Its exit status says whether every tunnel was ok; only its file matters here. */
	struct proc *p = args_ok(&a) ? procs_start(ps, "capture-join", a.v, false) : NULL;
	if (!p || procs_wait(p, 120000) < 0) {
		fprintf(stderr, "tunnelprobe run: the ledgers were not joined (see %s/capture-join.log)\n", dir);
		return -1;
	}
	char err[512] = "capture.json: path too long";
	int n = -1;
	if (rundir_path(path, sizeof path, dir, "capture.json") == 0)
		n = runfile_join_capture_file(run, path, err, sizeof err);
	if (n < 0) {
		fprintf(stderr, "tunnelprobe run: %s (see %s/capture-join.log)\n", err, dir);
		return -1;
	}
	return n;
}
