/* runjoin — the run's ledgers (records, origin, proxies) and its pcapng, when one was
 * taken, joined by a `tunnelprobe capture` child into DIR/capture.json, which is then
 * joined into the run: each failed tunnel's chain, verdict and capture flags, the run's
 * verdicts and verdict counts (lib/runfile.h runfile_join_capture).
 */
#ifndef TP_CI_RUNJOIN_H
#define TP_CI_RUNJOIN_H

#include <stdbool.h>

#include <jansson.h>

#include "ci/procs.h"

/* Joins into run (borrowed, modified); run_id: `capture --run-id`, so only this run's
 * ledger lines are joined (NULL: not passed). Returns the number of failures enriched,
 * or -1 with a message on stderr when the join could not be made (the run stays as it
 * was). */
int runjoin_ledgers(struct procs *ps, const char *dir, bool have_pcap, const char *run_id, json_t *run);

#endif
