/* prom — request counts by status from a Prometheus text exposition (format 0.0.4),
 * for the gateway profile's metrics check.
 *
 * Counted: samples of a counter whose name ends in "_total" and contains "request" or
 * "response", with a label "code", "status" or "status_code" holding a status
 * (100..599); the values are summed per status across every other label. Everything
 * else (comments, other metrics, histograms) is skipped, and so are malformed lines
 * (counted in bad_lines): a scrape is read, never trusted. Sans-I/O, no allocation.
 */
#ifndef TP_CHECK_PROM_H
#define TP_CHECK_PROM_H

#include <stddef.h>

#define PROM_MAX_LINE 4096 /* longer lines are malformed */

struct prom_counts {
	double by_status[600];
	size_t samples;   /* samples counted */
	size_t bad_lines; /* lines that are not valid exposition */
};

/* Adds the counts found in text[0..len) to *out (zero it first). */
void prom_parse(const char *text, size_t len, struct prom_counts *out);

#endif
