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

/* The phases of a request whose durations are aggregated (docs/run-json.md
 * "phases_ms"): dns (resolving), connect (TCP), proxy (CONNECT or SOCKS5 exchange),
 * tls (handshake), first_byte (from the connection being ready, or the request's start
 * on a reused connection, to the first response byte). */
enum runcount_phase {
	RUNCOUNT_PHASE_DNS,
	RUNCOUNT_PHASE_CONNECT,
	RUNCOUNT_PHASE_PROXY,
	RUNCOUNT_PHASE_TLS,
	RUNCOUNT_PHASE_FIRST_BYTE,
	RUNCOUNT_PHASES
};

/* "dns", "connect", "proxy", "tls", "first_byte"; NULL past the last. */
const char *runcount_phase_name(int phase);

/* Phase durations from the times each phase ended, in ms from the request's start
 * (a record's timings_ms; < 0 or NaN for a phase not gone through): each phase lasts
 * from the end of the last earlier phase that happened (or the start) to its own end.
 * phase_us[p] is -1 for a phase not gone through. */
void runcount_phases_from_ends(const double end_ms[RUNCOUNT_PHASES], int64_t phase_us[RUNCOUNT_PHASES]);

/* One finished request, as every counter below sees it. */
struct runcount_request {
	enum tp_class cls;
	int status;               /* HTTP status read, 0 when none */
	uint64_t bytes_sent;      /* request bytes written (head + body) */
	uint64_t bytes_received;  /* bytes read from the socket for it (head + framing + body) */
	bool reused;              /* rode a kept-alive connection */
	bool verified;            /* an ok body checked byte for byte (seed or known SHA-256) */
	uint64_t latency_us;      /* what the percentiles count */
	int64_t phase_us[RUNCOUNT_PHASES]; /* each phase's duration; < 0 when not gone through */
};

/* An open-loop run's schedule (-R): starts that came due, and of those, started. */
struct runcount_open_loop {
	double rate;              /* requests/s asked for; 0 for a closed-loop run */
	uint64_t due, sent;       /* missed = due - sent */
};

struct runcount_totals {
	uint64_t requests, ok;
	uint64_t classes[TP_CLASS_COUNT];
	uint64_t status[RUNCOUNT_STATUS_MAX];
	uint64_t bytes_sent, bytes_received;
	uint64_t conns_opened, requests_reused;
	uint64_t retries;         /* requests retried after a kept-alive connection closed */
	bool retries_unknown;     /* the source does not say (records files): written absent */
	uint64_t verified;        /* ok requests whose body was checked byte for byte */
	uint64_t unverified;      /* ok requests with nothing to check the body against */
	struct runcount_open_loop open_loop;
	struct hist lat;          /* microseconds, within 1% */
	struct hist lat_ok;       /* the same, of the ok requests only */
	struct hist phases[RUNCOUNT_PHASES]; /* phase durations, microseconds */
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

/* a + b for counts read from files: saturates at INT64_MAX / INT64_MIN instead of
 * overflowing on hostile values. */
int64_t runcount_add_sat(int64_t a, int64_t b);

void runcount_totals_init(struct runcount_totals *t);
/* Counts r: requests, class, status, bytes, reuse, verification, latency (and ok latency), phases.
 * Connections opened, retries and the open-loop schedule are counted by the caller,
 * who sees them. */
void runcount_totals_add(struct runcount_totals *t, const struct runcount_request *r);
/* dst += src (open_loop: counts added, the larger rate kept). */
void runcount_totals_merge(struct runcount_totals *dst, const struct runcount_totals *src);

void runcount_target_add(struct runcount_target *t, const struct runcount_request *r);
/* The target's latency percentile p in us: its coarse bucket's upper bound, but never
 * above the target's exact maximum (the bucket can reach past every value in it). */
uint64_t runcount_target_percentile(const struct runcount_target *t, double p);
void runcount_target_merge(struct runcount_target *dst, const struct runcount_target *src);

/* r completed in second s (its start is counted apart: s->started++). */
void runcount_second_done(struct runcount_second *s, const struct runcount_request *r);
void runcount_second_merge(struct runcount_second *dst, const struct runcount_second *src);

#endif
