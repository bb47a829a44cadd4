/* ratelimit — the token bucket behind the reverse proxy's --rate-limit N/s: N requests
 * per second on average, bursts of up to `burst` (default N) at once. Sans-I/O: the
 * caller passes a monotonic `now` in microseconds and holds whatever lock the bucket
 * needs (reverse.c shares one between the workers, under its mutex). No allocation.
 *
 * The promise the gateway check holds it to (RFC 6585 §4): a request refused with
 * Retry-After: S succeeds when it comes S seconds later and nobody else took the
 * token meanwhile — S is the wait for one whole token, rounded up, never 0.
 */
#ifndef TP_PROXY_RATELIMIT_H
#define TP_PROXY_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#define RATELIMIT_MAX_RATE 1000000.0 /* requests per second */

struct ratelimit {
	double rate;      /* tokens added per second (> 0) */
	double burst;     /* the bucket's size, in tokens (>= 1) */
	double tokens;    /* tokens now (as of last_us) */
	uint64_t last_us; /* when tokens was last brought up to date */
	bool started;     /* false until the first request: the bucket starts full */
};

/* A full bucket: rate per second, burst tokens (0: one second's worth, at least 1). */
void ratelimit_init(struct ratelimit *rl, double rate, double burst);
/* One request at now_us: true when it may go (a token taken); false when it is over
 * the limit, with the seconds to wait for a token in *retry_after_s (>= 1). A now_us
 * earlier than the last one (another worker's clock read a moment before) counts as
 * no time passed. */
bool ratelimit_take(struct ratelimit *rl, uint64_t now_us, unsigned *retry_after_s);

#endif
