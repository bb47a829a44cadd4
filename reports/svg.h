/* svg — the report's charts as inline SVG, drawn from run documents. Colours of the
 * axes and text come from the page's CSS (light/dark); a run keeps its colour in
 * every chart. Every string from a run is escaped. */
#ifndef TP_REPORTS_SVG_H
#define TP_REPORTS_SVG_H

#include <stdbool.h>
#include <stdio.h>

#include "reports/report.h"

#define SVG_MAX_COLUMNS 1000 /* time-series points drawn per run; longer series are binned */

const char *svg_run_color(size_t run);
const char *svg_class_color(int cls);
/* Latency by percentile, p0 to p99.99 on a "nines" axis, log-scale latency; one curve
 * per run (overlaid). id "percentiles". */
void svg_percentiles(FILE *out, const struct report_run *runs, size_t n);
/* Requests completed per second (lines) and failures per second by class (bars).
 * id "throughput". */
void svg_throughput(FILE *out, const struct report_run *runs, size_t n);
/* Latency p50 (dashed) and p99 per second. id "latency-time". */
void svg_latency_time(FILE *out, const struct report_run *runs, size_t n);
/* Each run's requests as one bar split by class. id "classes-chart". */
void svg_classes(FILE *out, const struct report_run *runs, size_t n);
/* Whether some run has per-phase latency (`phases_ms`, docs/run-json.md). */
bool svg_has_phases(const struct report_run *runs, size_t n);
/* One chart per phase (dns, connect, proxy, tls, first_byte): per run, bars to p50,
 * p90 and p99 and a tick at max, on one axis. ids "phase-NAME". Nothing for a phase no
 * run has. */
void svg_phases(FILE *out, const struct report_run *runs, size_t n);
/* The legend: a swatch and the label per run. */
void svg_legend(FILE *out, const struct report_run *runs, size_t n);

#endif
