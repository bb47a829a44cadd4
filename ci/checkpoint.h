/* checkpoint — DIR/run.json written as a run goes: after each soak segment (what a
 * soak killed half-way leaves) and once more at the end with the expectations. Stamps
 * what only `run` knows into the run (scenario, label, run_id, the proxy object,
 * proxy_resources), then writes it atomically (lib/runfile.h runfile_write).
 */
#ifndef TP_CI_CHECKPOINT_H
#define TP_CI_CHECKPOINT_H

#include <jansson.h>

#include "ci/proxyinfo.h"
#include "ci/samples.h"

struct checkpoint {
	const char *dir;              /* the run folder */
	const char *scenario;         /* the scenario's name */
	const char *label;            /* the run's name in reports */
	const char *run_id;           /* the run's id (docs/run-json.md `run_id`) */
	const char *proxy_url;        /* what the probe went through; NULL or "" direct */
	const struct proxyinfo *proxy; /* what that proxy was; NULL: direct */
	const struct samples *samples; /* the local proxy's resources; NULL when none */
};

/* Stamps run (borrowed, modified) and writes DIR/run.json. Returns 0, or -errno with a
 * message on stderr. */
int checkpoint_write(json_t *run, const struct checkpoint *c);

#endif
