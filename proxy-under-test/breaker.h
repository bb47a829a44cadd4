/* breaker — the circuit breaker behind the reverse proxy's --breaker
 * failures=N,cooldown=S, as a state machine. Sans-I/O: the caller passes a monotonic
 * `now` in microseconds and holds whatever lock it needs (reverse.c shares one between
 * the workers, under its mutex). No allocation.
 *
 *   closed     every request goes to the origin; N failures in a row open it
 *   open       no request goes to the origin (the proxy answers 503) until the
 *              cool-down S has passed since it opened
 *   half-open  one request, the trial, goes to the origin; the others are answered as
 *              when open. The trial's success closes the breaker, its failure opens it
 *              again (a new cool-down); a trial that ends with no answer either way
 *              (the client left) lets the next request be the trial.
 *
 * A failure is what the origin did: a 5xx, a connect error, a connection that ended
 * without a response. Outcomes of requests let through before the breaker opened count
 * only while it is closed; only the trial's outcome moves a half-open breaker.
 */
#ifndef TP_PROXY_BREAKER_H
#define TP_PROXY_BREAKER_H

#include <stdbool.h>
#include <stdint.h>

enum breaker_state { BREAKER_CLOSED = 0, BREAKER_OPEN, BREAKER_HALF_OPEN };

/* What breaker_admit() says of a request. */
enum breaker_admit { BREAKER_PASS = 1, BREAKER_TRIAL, BREAKER_REJECT };

/* What became of a request let through. */
enum breaker_outcome { BREAKER_OK = 1, BREAKER_FAIL, BREAKER_NONE };

struct breaker {
	unsigned threshold;       /* failures in a row that open it (>= 1) */
	uint64_t cooldown_us;
	enum breaker_state state;
	unsigned failures;        /* in a row, while closed */
	uint64_t opened_us;       /* when it last opened */
	bool trial_out;           /* half-open: the trial is under way */
	uint64_t opens;           /* how often it opened (metrics) */
};

/* A closed breaker. */
void breaker_init(struct breaker *b, unsigned threshold, uint64_t cooldown_us);
/* A request at now_us: BREAKER_PASS (to the origin), BREAKER_TRIAL (to the origin, as
 * the half-open trial: report its outcome with trial set), or BREAKER_REJECT (the
 * proxy answers it; *retry_after_s, when not NULL, gets the seconds left of the
 * cool-down, rounded up, at least 1). */
enum breaker_admit breaker_admit(struct breaker *b, uint64_t now_us, unsigned *retry_after_s);
/* The outcome of a request breaker_admit() let through; trial when it was the trial. */
void breaker_report(struct breaker *b, bool trial, enum breaker_outcome outcome, uint64_t now_us);
/* "closed", "open", "half-open". */
const char *breaker_state_name(enum breaker_state state);

#endif
