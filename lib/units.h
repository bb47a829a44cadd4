/* units — the number formats every command line and file shares: durations ("10",
 * "30s", "250ms", "5m", "1h"), sizes ("1024", "64k", "10M", "1G", binary) and counts
 * ("4": threads, clients). */
#ifndef TP_UNITS_H
#define TP_UNITS_H

#include <stdbool.h>
#include <stdint.h>

/* Seconds, or -1 when s is not a non-negative finite duration. */
double units_duration(const char *s);
/* Bytes into *out; false when s is malformed or overflows. */
bool units_size(const char *s, uint64_t *out);
/* A plain decimal count from 0 to max (no sign, no suffix, no spaces) into *out; false
 * when s is anything else. */
bool units_count(const char *s, uint64_t max, uint64_t *out);

#endif
