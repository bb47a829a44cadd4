/* soak — the probe's load for one scenario run: a `tunnelprobe probe` child per
 * segment (one for a `requests` run; one per `segment` seconds of a `duration` soak),
 * each segment's run file merged into the run (lib/runfile.h runfile_merge: one
 * bucket per second across segments) and its records appended to DIR/records.jsonl;
 * after each, the proxy sampled, the checkpoint written (ci/checkpoint.h) and, in a
 * soak, the expectations checked as it goes (breaches printed).
 */
#ifndef TP_CI_SOAK_H
#define TP_CI_SOAK_H

#include <stdbool.h>

#include <jansson.h>

#include "ci/checkpoint.h"
#include "ci/expect.h"
#include "ci/procs.h"
#include "ci/samples.h"
#include "ci/scenario.h"
#include "ci/targets.h"
#include "lib/shard.h"

struct soak_plan {
	const struct scenario *scn;
	const struct targets *targets;  /* the URLs and --resolve / --connect-to entries */
	bool connect_to;                /* map names with --connect-to (a proxy run did not
					 * start), else --resolve */
	const char *run_id;             /* --run-id for the probe; NULL: not passed */
	const struct shard *shard;      /* --shard for the probe; NULL or inactive: none */
	const struct checkpoint *cp;    /* the run folder, names, proxy URL, samples */
	const char *cacert;             /* --cacert for the probe (stack.h: the origin's CA,
					 * and a QUIC reference proxy's); NULL or "": none */
	double duration_s;              /* > 0: a soak this long (--duration or the scenario's) */
	bool quiet;
	struct procs *ps;               /* where the probe children go */
	pid_t proxy_pid;                /* the local reference proxy, 0 when none */
	struct samples *samples;        /* sampled after each segment */
	const struct expect_env *env;   /* for the live checks of a soak */
};

/* Runs the load. *run gets the merged run (a new reference; NULL when no segment
 * finished, e.g. interrupted at once). Returns 0 (also when interrupted: see
 * interrupt.h), or -1 with a message on stderr when the probe failed or could not run. */
int soak_run(const struct soak_plan *p, json_t **run);

#endif
