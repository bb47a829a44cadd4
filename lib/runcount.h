/* runcount — what a run counts while it goes: totals, one row per target URL, one per
 * second. The probe's threads each keep their own and add them up at the end; a
 * records file being read for `report` is folded into the same structs. Plain sums on
 * caller memory, no allocation, merged by adding, so a run counted in pieces adds up
 * to the run counted whole. lib/runfile.h turns them into a run file's JSON.
 *
 * Zero-initialise a runcount_target or runcount_second; call runcount_totals_init on
 * a runcount_totals (its latency histogram starts with min = UINT64_MAX).
 */
#ifndef TP_RUNCOUNT_H
#define TP_RUNCOUNT_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/hist.h"
#include "lib/ledger.h"
#include "lib/qhist.h"

#define RUNCOUNT_STATUS_MAX 1000 /* HTTP statuses counted: 1..999 */

/* One finished request, as every counter below sees it. */
struct runcount_request {
	enum tp_class cls;
	int status;               /* HTTP status read, 0 when none */
	uint64_t bytes_sent;      /* request bytes written (head + body) */
	uint64_t bytes_received;  /* bytes read from the socket for it (head + framing + body) */
	bool reused;              /* rode a kept-alive connection */
	uint64_t latency_us;      /* what the percentiles count */
};

struct runcount_totals {
	uint64_t requests, ok;
	uint64_t classes[TP_CLASS_COUNT];
	uint64_t status[RUNCOUNT_STATUS_MAX];
	uint64_t bytes_sent, bytes_received;
	uint64_t conns_opened, requests_reused;
	uint64_t retries;         /* requests retried after a kept-alive connection closed */
	bool retries_unknown;     /* the source does not say (records files): written absent */
	struct hist lat;          /* microseconds, within 1% */
};

/* One target URL. Latency in a coarse histogram (within 12.5%); mean and max exact. */
struct runcount_target {
	uint64_t requests, ok;
	uint64_t classes[TP_CLASS_COUNT];
	uint64_t lat_sum_us, lat_max_us;
	struct qhist lat;
};

/* One second (or one wider step) of a run's time series. */
struct runcount_second {
	uint32_t started, completed, ok;
	uint32_t failed[TP_CLASS_COUNT]; /* by class, ok excluded */
	uint64_t bytes_in, bytes_out;    /* of the requests completed in it */
	struct qhist lat;                /* of the requests completed in it */
};

void runcount_totals_init(struct runcount_totals *t);
/* Counts r: requests, class, status, bytes, reuse, latency. Connections opened and
 * retries are counted by the caller, who sees them. */
void runcount_totals_add(struct runcount_totals *t, const struct runcount_request *r);
/* dst += src. */
void runcount_totals_merge(struct runcount_totals *dst, const struct runcount_totals *src);

void runcount_target_add(struct runcount_target *t, const struct runcount_request *r);
void runcount_target_merge(struct runcount_target *dst, const struct runcount_target *src);

/* r completed in second s (its start is counted apart: s->started++). */
void runcount_second_done(struct runcount_second *s, const struct runcount_request *r);
void runcount_second_merge(struct runcount_second *dst, const struct runcount_second *src);

#endif
