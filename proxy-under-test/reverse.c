/* reverse — see reverse.h. */
#include "proxy-under-test/reverse.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/units.h"
#include "proxy-under-test/forward.h"
#include "proxy-under-test/server.h"
#include "proxy-under-test/session.h"

/* ---- configuration ---- */

static int parse_origin(struct reverse_config *rc, const char *val, const char **why)
{
	if (url_parse(val, &rc->origin, why) < 0)
		return -1;
	if (rc->origin.scheme != URL_HTTP) {
		*why = "the origin must be http:// (the proxy speaks no TLS to it)";
		return -1;
	}
	if (strcmp(rc->origin.path, "/") != 0 || rc->origin.has_userinfo) {
		*why = "want http://HOST[:PORT] (requests keep their own paths)";
		return -1;
	}
	rc->on = true;
	rc->origin_url = val;
	return 1;
}

/* A positive decimal in s[0..len) into *out (at most max). */
static bool positive(const char *s, size_t len, double max, double *out)
{
	char buf[32];
	if (len == 0 || len >= sizeof buf || s[0] < '0' || s[0] > '9')
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	char *end;
	double v = strtod(buf, &end);
	if (*end || !(v > 0) || v > max)
		return false;
	*out = v;
	return true;
}

/* N/s or N/m, then ",burst=B". */
static int parse_rate(struct reverse_config *rc, const char *val, const char **why)
{
	*why = "want N/s or N/m, optionally ,burst=B (e.g. 50/s or 50/s,burst=100)";
	const char *slash = strchr(val, '/');
	if (!slash || !positive(val, (size_t)(slash - val), RATELIMIT_MAX_RATE, &rc->rate))
		return -1;
	if (slash[1] == 'm')
		rc->rate /= 60;
	else if (slash[1] != 's')
		return -1;
	const char *rest = slash + 2;
	rc->burst = 0;
	if (*rest == '\0')
		return 1;
	if (strncmp(rest, ",burst=", 7) != 0 ||
	    !positive(rest + 7, strlen(rest + 7), RATELIMIT_MAX_RATE, &rc->burst) || rc->burst < 1)
		return -1;
	return 1;
}

/* failures=N,cooldown=S in any order, each optional. */
static int parse_breaker(struct reverse_config *rc, const char *val, const char **why)
{
	rc->breaker_failures = 5;
	rc->breaker_cooldown_s = 10;
	*why = "want failures=N,cooldown=S (N 1..1000000, S a duration up to 1h: 10, 2s, 500ms)";
	const char *p = val;
	for (int i = 0; i < 2 && *p; i++) {
		size_t len = strcspn(p, ",");
		char item[64];
		if (len == 0 || len >= sizeof item)
			return -1;
		memcpy(item, p, len);
		item[len] = '\0';
		uint64_t n;
		if (strncmp(item, "failures=", 9) == 0) {
			if (!units_count(item + 9, 1000000, &n) || n == 0)
				return -1;
			rc->breaker_failures = (unsigned)n;
		} else if (strncmp(item, "cooldown=", 9) == 0) {
			double d = units_duration(item + 9);
			if (!(d > 0) || d > 3600)
				return -1;
			rc->breaker_cooldown_s = d;
		} else {
			return -1;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	return *p ? -1 : 1;
}

int reverse_option(struct reverse_config *rc, const char *opt, const char *val,
		   const char **why)
{
	if (strcmp(opt, "--reverse") == 0)
		return parse_origin(rc, val, why);
	if (strcmp(opt, "--rate-limit") == 0)
		return parse_rate(rc, val, why);
	if (strcmp(opt, "--breaker") == 0)
		return parse_breaker(rc, val, why);
	return 0;
}

int reverse_finish_config(struct proxy_config *cfg, const char **why)
{
	struct reverse_config *rc = &cfg->reverse;
	*why = NULL;
	if (!rc->on) {
		if (rc->rate > 0)
			*why = "--rate-limit needs --reverse ORIGIN_URL (it limits a reverse proxy's requests)";
		else if (rc->breaker_failures)
			*why = "--breaker needs --reverse ORIGIN_URL (it guards a reverse proxy's origin)";
		return *why ? -1 : 0;
	}
	if (cfg->has_upstream)
		*why = "--reverse cannot be combined with --upstream";
	else if (cfg->require_auth)
		*why = "--reverse cannot be combined with --auth (Proxy-Authorization is for forward proxies)";
	else if (cfg->nallow)
		*why = "--reverse cannot be combined with --allow (the origin is the only destination)";
	if (*why)
		return -1;
	/* Clients cannot choose where a reverse proxy connects: the origin, wherever it is,
	 * is allowed. */
	net_addr_from_ip("0.0.0.0", 0, &cfg->allow[0].addr);
	net_addr_from_ip("::", 0, &cfg->allow[1].addr);
	cfg->allow[0].prefix = cfg->allow[1].prefix = 0;
	cfg->nallow = 2;
	return 0;
}

/* ---- the shared state ---- */

int reverse_state_init(struct reverse_state *st, const struct reverse_config *cfg)
{
	memset(st, 0, sizeof *st);
	st->cfg = cfg;
	ratelimit_init(&st->bucket, cfg->rate, cfg->burst);
	breaker_init(&st->breaker, cfg->breaker_failures,
		     (uint64_t)(cfg->breaker_cooldown_s * 1e6));
	int err = pthread_mutex_init(&st->lock, NULL);
	if (err)
		return -err;
	st->locked_init = true;
	return 0;
}

void reverse_state_free(struct reverse_state *st)
{
	if (st && st->locked_init) {
		pthread_mutex_destroy(&st->lock);
		st->locked_init = false;
	}
}

/* ---- per request ---- */

bool reverse_target(const struct reverse_config *rc, const struct http1_request *req,
		    struct url *u)
{
	size_t len = req->target_len;
	const char *path = url_origin_form(req->target, &len);
	if (len == 0 || len >= sizeof u->path || (path[0] != '/' && !(len == 1 && path[0] == '*')))
		return false;
	*u = rc->origin;
	memcpy(u->path, path, len);
	u->path[len] = '\0';
	return true;
}

/* Is req's path /metrics (with or without a query)? */
static bool for_metrics(const struct http1_request *req)
{
	size_t len = req->target_len;
	const char *path = url_origin_form(req->target, &len);
	size_t n = sizeof REVERSE_METRICS_PATH - 1;
	return len >= n && memcmp(path, REVERSE_METRICS_PATH, n) == 0 &&
	       (len == n || path[n] == '?');
}

int reverse_decide(struct session *s, const struct http1_request *req, unsigned *retry_after_s)
{
	const struct reverse_config *rc = &s->w->cfg->reverse;
	struct reverse_state *st = &s->w->shared->reverse;
	*retry_after_s = 0;
	if (for_metrics(req))
		return http1_token_eq(req->method, req->method_len, "GET") ||
				       http1_token_eq(req->method, req->method_len, "HEAD")
			       ? REVERSE_METRICS
			       : REVERSE_METHOD;
	uint64_t now = loop_now(&s->w->loop);
	int gate = REVERSE_PASS;
	pthread_mutex_lock(&st->lock);
	if (rc->rate > 0 && !ratelimit_take(&st->bucket, now, retry_after_s)) {
		gate = REVERSE_LIMITED;
	} else if (rc->breaker_failures) {
		enum breaker_admit a = breaker_admit(&st->breaker, now, retry_after_s);
		gate = a == BREAKER_TRIAL ? REVERSE_TRIAL : a == BREAKER_REJECT ? REVERSE_OPEN
										  : REVERSE_PASS;
	}
	pthread_mutex_unlock(&st->lock);
	if (gate == REVERSE_LIMITED)
		atomic_fetch_add(&st->limited, 1);
	else if (gate == REVERSE_OPEN)
		atomic_fetch_add(&st->rejected, 1);
	else if (gate == REVERSE_TRIAL)
		atomic_fetch_add(&st->trials, 1);
	return gate;
}

/* Appends to out[*o..cap) as printf; false (and *o unchanged) when it does not fit. */
static bool put(char *out, size_t cap, size_t *o, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(out + *o, cap - *o, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap - *o)
		return false;
	*o += (size_t)n;
	return true;
}

/* The Prometheus text exposition (format 0.0.4) into out; its length or -1. */
static long exposition(struct reverse_state *st, char *out, size_t cap)
{
	size_t o = 0;
	pthread_mutex_lock(&st->lock);
	enum breaker_state state = st->breaker.state;
	uint64_t opens = st->breaker.opens;
	pthread_mutex_unlock(&st->lock);
	if (!put(out, cap, &o, "# HELP tunnelprobe_requests_total Requests answered, by status "
		 "(the origin's, or the proxy's own: 429, 503, 502, /metrics).\n"
		 "# TYPE tunnelprobe_requests_total counter\n"))
		return -1;
	for (int code = 0; code < REVERSE_MAX_STATUS; code++) {
		uint64_t n = atomic_load(&st->by_status[code]);
		if (n && !put(out, cap, &o, "tunnelprobe_requests_total{code=\"%d\"} %llu\n", code,
			      (unsigned long long)n))
			return -1;
	}
	if (!put(out, cap, &o,
		 "# HELP tunnelprobe_rate_limited_total Requests answered 429 by --rate-limit.\n"
		 "# TYPE tunnelprobe_rate_limited_total counter\n"
		 "tunnelprobe_rate_limited_total %llu\n"
		 "# HELP tunnelprobe_breaker_rejected_total Requests answered 503 by the open breaker.\n"
		 "# TYPE tunnelprobe_breaker_rejected_total counter\n"
		 "tunnelprobe_breaker_rejected_total %llu\n"
		 "# HELP tunnelprobe_breaker_trials_total Requests let through as the half-open trial.\n"
		 "# TYPE tunnelprobe_breaker_trials_total counter\n"
		 "tunnelprobe_breaker_trials_total %llu\n"
		 "# HELP tunnelprobe_breaker_opened_total Times the circuit breaker opened.\n"
		 "# TYPE tunnelprobe_breaker_opened_total counter\n"
		 "tunnelprobe_breaker_opened_total %llu\n"
		 "# HELP tunnelprobe_breaker_state The circuit breaker: 0 closed, 1 open, 2 half-open.\n"
		 "# TYPE tunnelprobe_breaker_state gauge\n"
		 "tunnelprobe_breaker_state %d\n",
		 (unsigned long long)atomic_load(&st->limited),
		 (unsigned long long)atomic_load(&st->rejected),
		 (unsigned long long)atomic_load(&st->trials), (unsigned long long)opens, (int)state))
		return -1;
	return (long)o;
}

long reverse_answer(struct session *s, int gate, unsigned retry_after_s, bool head, bool close,
		    char *out, size_t cap, int *status)
{
	const struct reverse_config *rc = &s->w->cfg->reverse;
	char body[REVERSE_ANSWER_MAX - 512];
	const char *type = "text/plain; charset=utf-8", *reason;
	char extra[128] = "";
	long blen;
	switch (gate) {
	case REVERSE_METRICS:
		*status = 200;
		reason = "OK";
		type = "text/plain; version=0.0.4; charset=utf-8";
		blen = exposition(&s->w->shared->reverse, body, sizeof body);
		break;
	case REVERSE_LIMITED:
		*status = 429;
		reason = "Too Many Requests";
		snprintf(extra, sizeof extra, "Retry-After: %u\r\n", retry_after_s);
		blen = snprintf(body, sizeof body, "rate limited: more than %g requests/s\n", rc->rate);
		break;
	case REVERSE_OPEN:
		*status = 503;
		reason = "Service Unavailable";
		snprintf(extra, sizeof extra, "X-Circuit-Breaker: open\r\nRetry-After: %u\r\n",
			 retry_after_s);
		blen = snprintf(body, sizeof body, "circuit breaker open: the origin failed %u times "
				"in a row\n", rc->breaker_failures);
		break;
	default: /* REVERSE_METHOD */
		*status = 405;
		reason = "Method Not Allowed";
		snprintf(extra, sizeof extra, "Allow: GET, HEAD\r\n");
		blen = snprintf(body, sizeof body, "%s is GET or HEAD\n", REVERSE_METRICS_PATH);
		break;
	}
	if (blen < 0) {
		/* An exposition past the buffer (hundreds of distinct statuses): said so, not cut. */
		*status = 500;
		reason = "Internal Server Error";
		extra[0] = '\0';
		blen = snprintf(body, sizeof body, "the metrics do not fit in %zu bytes\n", sizeof body);
	}
	size_t o = 0;
	if (!put(out, cap, &o, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %ld\r\n%s"
		 "Via: 1.1 tunnelprobe\r\n%s\r\n", *status, reason, type, blen, extra,
		 close ? "Connection: close\r\n" : ""))
		return -1;
	if (!head) {
		if ((size_t)blen > cap - o)
			return -1;
		memcpy(out + o, body, (size_t)blen);
		o += (size_t)blen;
	}
	return (long)o;
}

/* How a forwarded request ended, for the breaker. */
static enum breaker_outcome outcome(const struct session *s, int status, bool final)
{
	if (status >= 500)
		return BREAKER_FAIL;
	if (status > 0)
		return BREAKER_OK;
	/* No answer: the origin's fault when it ended its leg or went silent, else the
	 * client left first and nothing was learnt. */
	enum leg_end e = s->up.end;
	return final && (e == END_FIN || e == END_RST || e == END_TIMEOUT) ? BREAKER_FAIL
									     : BREAKER_NONE;
}

void reverse_line(struct session *s, int gate, int status, bool final)
{
	if (!s->w->cfg->reverse.on)
		return;
	struct reverse_state *st = &s->w->shared->reverse;
	if (status > 0 && status < REVERSE_MAX_STATUS)
		atomic_fetch_add(&st->by_status[status], 1);
	if (!reverse_gate_forwards(gate) || !s->w->cfg->reverse.breaker_failures)
		return;
	pthread_mutex_lock(&st->lock);
	breaker_report(&st->breaker, gate == REVERSE_TRIAL, outcome(s, status, final),
		       loop_now(&s->w->loop));
	pthread_mutex_unlock(&st->lock);
}

void reverse_release(struct session *s)
{
	struct fwd *fw = s->fwd;
	if (!fw || !reverse_gate_forwards(fw->gate) || !s->w->cfg->reverse.breaker_failures)
		return;
	/* The head never went out: a 502/504 of the proxy's own says the origin could not
	 * be reached (the breaker's failure); anything else, the client went away. */
	struct reverse_state *st = &s->w->shared->reverse;
	pthread_mutex_lock(&st->lock);
	breaker_report(&st->breaker, fw->gate == REVERSE_TRIAL,
		       s->reply >= 500 ? BREAKER_FAIL : BREAKER_NONE, loop_now(&s->w->loop));
	pthread_mutex_unlock(&st->lock);
	fw->gate = REVERSE_NONE;
}
