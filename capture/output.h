/* output — the capture's results as JSON (schema "tunnelprobe.capture/3", documented in
 * docs/capture.md) and as a readable summary. */
#ifndef TP_CAPTURE_OUTPUT_H
#define TP_CAPTURE_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "capture/analyze.h"
#include "capture/join.h"

/* The whole document. a may be NULL (ledgers only). all_requests: every tunnel lists
 * its requests in "per_request" (else only tunnels with a failed request do). Returns a
 * new reference, or NULL on ENOMEM. It holds every flow and tunnel: for a large capture
 * use capture_json_write. */
json_t *capture_json(const struct cap_analysis *a, const struct ledgers *l, const struct join *j,
		     bool all_requests);
/* The same document written to out with flows and tunnels serialised one at a time, so
 * memory does not grow with their number. Returns 0, -ENOMEM, or -EIO when out failed. */
int capture_json_write(FILE *out, const struct cap_analysis *a, const struct ledgers *l,
		       const struct join *j, bool all_requests);

/* all_flows: list every flow, not only those with something to say. */
void capture_summary(FILE *out, const struct cap_analysis *a, const struct ledgers *l,
		     const struct join *j, bool all_flows);

/* True when every tunnel (or, without ledgers, every flow) has verdict ok. */
bool capture_all_ok(const struct cap_analysis *a, const struct join *j);

#endif
