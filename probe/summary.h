/* summary — the probe's run summary: the run file (docs/run-json.md, written through
 * lib/runfile.h) and the human text on stdout. Reads merged stats; owns nothing.
 */
#ifndef TP_PROBE_SUMMARY_H
#define TP_PROBE_SUMMARY_H

#include <stdio.h>

#include "probe/config.h"
#include "probe/stats.h"

#ifndef _WIN32 /* no jansson for mingw: the Windows probe refuses --json, keeps --records */
#include <jansson.h>

/* The run file of one run: started and ended are Unix seconds. A new reference, NULL
 * when out of memory. */
json_t *summary_json(const struct probe_stats *st, const struct probe_config *cfg, double started,
		     double ended);
/* The summary fields without run metadata (the "direct" member of --compare-direct). */
json_t *summary_direct_json(const struct probe_stats *st, const struct probe_config *cfg);
#endif
/* The human summary (totals, classes, latency, per-target table, worst targets,
 * failure samples). */
void summary_print(const struct probe_stats *st, const struct probe_config *cfg, double elapsed_s, FILE *out);
/* Two summaries side by side (--compare-direct). */
void summary_print_compare(const struct probe_stats *proxied, const struct probe_stats *direct,
			   const struct probe_config *cfg, FILE *out);

#endif
