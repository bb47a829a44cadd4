/* render — the report of a run: a `tunnelprobe report` child reading each run folder's
 * run.json (its capture.json joined there) and writing OUT/report.html, the runs side
 * by side under their labels.
 */
#ifndef TP_CI_RENDER_H
#define TP_CI_RENDER_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

/* Renders dirs[0..n) labelled labels[0..n) into out/report.html and says where.
 * Returns 0, or -1 with a message on stderr naming out/report.log. */
int render_report(const char *out, char dirs[][PATH_MAX], const char *const labels[], size_t n, bool quiet);

#endif
