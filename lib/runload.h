/* runload — the run file's fields about how the load ran and what was checked
 * (docs/run-json.md): "verified" and "unverified" (ok bodies checked byte for byte, and
 * ok bodies with nothing to check them against), "open_loop" {rate, due, sent, missed}
 * (open-loop runs only), "latency_ok_ms" {requests, min, mean, p50, p90, p99, p999,
 * max} (the ok requests' latency, what reports compare runs on; {requests: 0} when
 * none was ok) with its histogram "histogram_ok", and "phases_ms"
 * {dns|connect|proxy|tls|first_byte: {count, min, mean, p50, p90, p99, p999, max}}
 * with the histograms they come from in "phase_histograms" (lib/histjson.h), so two
 * runs' ok latency and phases merge exactly.
 *
 * lib/runfile.h calls these from runfile_set_totals and runfile_merge; nothing else
 * needs to. Documents are borrowed jansson objects.
 */
#ifndef TP_RUNLOAD_H
#define TP_RUNLOAD_H

#include <jansson.h>

#include "lib/runcount.h"

/* Sets doc's verified, unverified, latency_ok_ms, histogram_ok, phases_ms,
 * phase_histograms, and open_loop when t->open_loop.rate > 0. Returns 0 or -ENOMEM. */
int runload_set(json_t *doc, const struct runcount_totals *t);

/* out (a copy of a) gets a's and b's fields added: verified and unverified summed when
 * both runs have them (else dropped: one run's count is not the sum's); open_loop's
 * counts summed and the larger rate kept, when either has it; the ok latency's
 * histograms added and latency_ok_ms recomputed when both runs state it — by
 * histogram_ok, or because none or all of their requests were ok (files from before
 * histogram_ok; else both fields are dropped); each phase's histograms merged (a
 * phase only one run has is taken as it is) and its summary recomputed. A phase whose
 * histogram is not one of ours is left out. Returns 0 or -ENOMEM. */
int runload_merge(json_t *out, json_t *a, json_t *b);

#endif
