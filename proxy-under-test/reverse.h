/* reverse — the reference proxy's reverse-proxy mode (`--reverse ORIGIN_URL`): an API
 * gateway in front of one origin, for the gateway profile of `tunnelprobe check`
 * (docs/proxy.md "Reverse mode").
 *
 * A reverse session is a forward session (forward.c relays it: keep-alive on both
 * legs, pipelining, framing checks, the per-request ledger lines, the faults) whose
 * requests come in origin form and all go to the one origin. What this module adds is
 * decided per request, before its head is taken:
 *
 *   GET|HEAD /metrics   the proxy answers: Prometheus text (request counts by status);
 *                       any other method on /metrics gets 405
 *   --rate-limit N/s    a token bucket shared by the workers (ratelimit.h): above the
 *                       limit the proxy answers 429 with Retry-After in seconds
 *   --breaker ...       a circuit breaker shared by the workers (breaker.h): while open
 *                       the proxy answers 503 with X-Circuit-Breaker: open and
 *                       Retry-After, without contacting the origin
 *   otherwise           forwarded (as the breaker's trial when it is half-open)
 *
 * The origin leg of a reverse session opens with the first request that goes there,
 * so a request the proxy answers itself never touches the origin. Counts for /metrics
 * are taken when a request's ledger line is written (fwdledger.c), so they say what
 * the ledger says; the breaker learns each forwarded request's outcome at that moment
 * too: a 5xx (the origin's, or the proxy's own 502/504 for a connect error or a broken
 * response) or a connection ended without a response is a failure.
 *
 * Threads: the configuration is read-only; struct reverse_state is shared by the
 * workers (a mutex around the bucket and the breaker, atomics for the counts). All the
 * rest runs on the session's worker.
 */
#ifndef TP_PROXY_REVERSE_H
#define TP_PROXY_REVERSE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/http1.h"
#include "lib/url.h"
#include "proxy-under-test/breaker.h"
#include "proxy-under-test/ratelimit.h"

#define REVERSE_METRICS_PATH "/metrics"
#define REVERSE_MAX_STATUS 1000  /* statuses are three digits (lib/http1) */
#define REVERSE_ANSWER_MAX 16384 /* the proxy's own answers fit the relay's buffer */

struct session;
struct proxy_config;

struct reverse_config {
	bool on;                    /* --reverse given */
	const char *origin_url;     /* as given */
	struct url origin;          /* http://HOST[:PORT] with path "/" */
	double rate;                /* --rate-limit: requests per second, 0 none */
	double burst;               /* its bucket, in requests (0: one second's worth) */
	unsigned breaker_failures;  /* --breaker failures=N (0: no breaker) */
	double breaker_cooldown_s;  /* cooldown=S */
};

/* What the workers share in reverse mode (proxy_shared.reverse). */
struct reverse_state {
	const struct reverse_config *cfg;
	pthread_mutex_t lock;       /* bucket and breaker */
	bool locked_init;           /* lock was initialised */
	struct ratelimit bucket;
	struct breaker breaker;
	atomic_uint_fast64_t by_status[REVERSE_MAX_STATUS]; /* requests answered, by status */
	atomic_uint_fast64_t limited;  /* answered 429 by the rate limit */
	atomic_uint_fast64_t rejected; /* answered 503 by the open breaker */
	atomic_uint_fast64_t trials;   /* let through as the half-open trial */
};

/* The decision on one request, made once (kept in struct fwd while its head waits,
 * then in its struct fwd_req). 0 outside reverse mode. */
enum reverse_gate {
	REVERSE_NONE = 0, /* not decided, or not reverse mode */
	REVERSE_PASS,     /* to the origin */
	REVERSE_TRIAL,    /* to the origin, as the half-open breaker's trial */
	REVERSE_METRICS,  /* answered by the proxy: the exposition */
	REVERSE_METHOD,   /* answered by the proxy: 405, /metrics is GET or HEAD */
	REVERSE_LIMITED,  /* answered by the proxy: 429 */
	REVERSE_OPEN,     /* answered by the proxy: 503, the breaker is open */
};

static inline bool reverse_gate_forwards(int gate)
{
	return gate == REVERSE_PASS || gate == REVERSE_TRIAL;
}

/* ---- configuration (server.c's option parsing) ---- */

/* opt with value val, if it is one of --reverse, --rate-limit, --breaker: returns 1
 * taken, -1 bad (*why: a short static reason), 0 not one of them.
 *   --reverse http://HOST[:PORT][/]       (no other path, no userinfo, no https)
 *   --rate-limit N/s or N/m [,burst=B]    (N > 0, a decimal; B >= 1 requests)
 *   --breaker failures=N,cooldown=S       (either may be left out: 5 and 10 s; S as
 *                                          lib/units durations: 2, 2s, 500ms) */
int reverse_option(struct reverse_config *rc, const char *opt, const char *val,
		   const char **why);
/* After all options: --rate-limit and --breaker need --reverse; --reverse refuses
 * --upstream, --auth and --allow (the client cannot choose a destination, so every
 * destination is allowed: the origin is the operator's). Returns 0, or -1 with *why
 * a whole sentence for the user. */
int reverse_finish_config(struct proxy_config *cfg, const char **why);

/* ---- the shared state (server.c's serve()) ---- */

/* Sets st up for cfg (a full bucket, a closed breaker, zero counts). Returns 0 or
 * -errno (the mutex). */
int reverse_state_init(struct reverse_state *st, const struct reverse_config *cfg);
/* NULL-safe; only after reverse_state_init() succeeded, or on zeroed memory. */
void reverse_state_free(struct reverse_state *st);

/* ---- per request (forward.c, fwdledger.c) ---- */

/* The origin URL of request req: the configured origin with req's path (origin form,
 * or the path of an absolute form, "*" for OPTIONS). False when the target has no path
 * to send or it is too long. */
bool reverse_target(const struct reverse_config *rc, const struct http1_request *req,
		    struct url *u);
/* Decides what becomes of req (enum reverse_gate): takes a rate-limit token, asks the
 * breaker. *retry_after_s gets the Retry-After of a 429 or 503. Call once per request. */
int reverse_decide(struct session *s, const struct http1_request *req, unsigned *retry_after_s);
/* Writes the proxy's own answer for a gate that does not forward into out[0..cap):
 * status in *status, no body for head, "Connection: close" when close. Returns its
 * length, or -1 when it does not fit (REVERSE_ANSWER_MAX always does). */
long reverse_answer(struct session *s, int gate, unsigned retry_after_s, bool head, bool close,
		    char *out, size_t cap, int *status);
/* A request's ledger line is being written (fwdledger.c; also without --ledger): its
 * status is counted (0: no answer, not counted), and the breaker learns the outcome
 * of a forwarded one (gate). final: the connection has ended (its legs' ends are
 * known). Nothing outside reverse mode. */
void reverse_line(struct session *s, int gate, int status, bool final);
/* The session ends with a decision no request took (a head held, then the connection
 * failed): a trial given back, a connect error counted as the breaker's failure.
 * Nothing outside reverse mode. */
void reverse_release(struct session *s);

#endif
