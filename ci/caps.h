/* caps — which options the parts of this very binary take, asked of their --help.
 *
 * Transitional: issue 13 adds `--run-id` (probe, origin, proxy, capture) and
 * `--connect-to` (probe) in parallel branches. Until every part has them, `run` passes
 * them only to parts that list them, and says what it could not do. Once all parts
 * take them, caps_probe() always reports true and this module can go.
 */
#ifndef TP_CI_CAPS_H
#define TP_CI_CAPS_H

#include <stdbool.h>

struct caps {
	bool probe_run_id, origin_run_id, proxy_run_id, capture_run_id;
	bool probe_connect_to;
};

/* Asks `SELF SUB --help` of probe, origin, proxy and capture (self: this binary's
 * path). A part that cannot be asked counts as lacking the options. */
void caps_probe(struct caps *c, const char *self);

#endif
