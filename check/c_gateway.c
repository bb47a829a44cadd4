/* c_gateway — a reverse proxy or API gateway in front of our origin (--gateway, with
 * --origin-url saying where it sends requests): requests reach the origin byte-exact;
 * rate limiting (429 with Retry-After, then success after it); connection reuse toward
 * the origin (counted by the origin itself); p99 overhead against the origin direct;
 * Prometheus metrics that agree with what was sent; and a circuit breaker (503 with the
 * breaker header once the origin fails, a half-open trial after the cool-down, closed
 * once the origin recovers). Load is paced at --gateway-rate so only the rate-limit
 * check meets the limit on purpose. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/battery.h"
#include "check/ck.h"
#include "check/prom.h"
#include "lib/loop.h"

#define V_G CK_VIA_GATEWAY
#define P_G CK_PROFILE_GATEWAY

/* A keep-alive client toward the gateway (or the origin, direct), reopened when the
 * other side closes. */
struct gw {
	struct ck *ck;
	enum ck_via via;
	struct cio c;
	struct cx x;
	bool open;
	unsigned opened;   /* connections made */
	uint64_t last_us;  /* when the last request went, for pacing */
};

static void gw_close(struct gw *g)
{
	if (g->open)
		cio_close(&g->c);
	g->open = false;
}

/* One GET; r gets the response. Paced at --gateway-rate when pace. Returns 0 when a
 * whole response came, else -1 (o failed when the gateway cannot be reached). */
static int gw_get(struct gw *g, struct ck_outcome *o, const char *path, bool pace,
		  struct cx_resp *r, uint64_t *latency_us)
{
	struct ck *ck = g->ck;
	char head[512];
	if (pace && g->last_us) {
		uint64_t gap = 1000000u / ck->args->gateway_rate, now = loop_clock_us();
		if (now < g->last_us + gap)
			cio_sleep_ms((unsigned)((g->last_us + gap - now) / 1000));
	}
	memset(r, 0, sizeof *r);
	if (!g->open) {
		if (ck_open(ck, g->via, NULL, &g->c, &g->x, o) < 0)
			return -1;
		g->open = true;
		g->opened++;
	}
	int n = ck_head(ck, g->via, head, sizeof head, "GET", path, NULL);
	uint64_t t0 = loop_clock_us();
	g->last_us = t0;
	int rc = cio_write(&g->c, head, (size_t)n, ck_step(ck, 5000)) < 0
			 ? -1
			 : cx_read_response(&g->x, 0, r, ck_step(ck, 10000));
	if (latency_us)
		*latency_us = loop_clock_us() - t0;
	if (rc < 0 || !r->resp.keep_alive)
		gw_close(g);
	return rc;
}

static void passes(struct ck *ck, const struct ck_def *d, struct ck_outcome *o)
{
	char tag[OPLAN_MAX_TAG], path[128];
	struct gw g = {.ck = ck, .via = V_G};
	struct cx_resp r = {0};
	snprintf(path, sizeof path, "/t/%s/gw/4096", ck_tag(ck, tag));
	if (gw_get(&g, o, path, false, &r, NULL) < 0 && o->decided)
		return;
	size_t seen = corigin_find(&ck->origin, tag, NULL, 0);
	ck_evidence(o, &g.c, &r, NULL);
	ck_num(o, "origin_requests", seen);
	gw_close(&g);
	if (!seen && r.status)
		ck_result(o, CK_FAIL, "the gateway answered %d but never reached our origin: is "
			  "--origin-url how it reaches us?", r.status);
	else if (!ck_bad_response(o, &g.c, &r, 200, 4096))
		ck_result(o, CK_PASS, "a request through the gateway reached the origin, byte-exact");
}

/* As fast as one connection goes, until a 429. */
static void rate_limit(struct ck *ck, const struct ck_def *d, struct ck_outcome *o)
{
	char tag[OPLAN_MAX_TAG], path[128], ra[32];
	struct gw g = {.ck = ck, .via = V_G};
	struct cx_resp r = {0};
	snprintf(path, sizeof path, "/t/%s/gw/64", ck_tag(ck, tag));
	uint64_t sent = 0;
	for (; sent < d->arg; sent++) {
		if (gw_get(&g, o, path, false, &r, NULL) < 0 && r.status != 429) {
			if (!o->decided)
				ck_bad_response(o, &g.c, &r, 200, 64);
			gw_close(&g);
			return;
		}
		if (r.status == 429)
			break;
	}
	gw_close(&g);
	ck_num(o, "requests", sent + (sent < d->arg));
	ck_num(o, "origin_requests", corigin_find(&ck->origin, tag, NULL, 0));
	if (sent == d->arg) {
		ck_result(o, CK_FAIL, "no 429 within %" PRIu64 " back-to-back requests: no rate "
			  "limit", d->arg);
		return;
	}
	bool has = cx_header(&r, "Retry-After", ra, sizeof ra);
	ck_str(o, "retry_after", "%s", has ? ra : "");
	char *end;
	long secs = has ? strtol(ra, &end, 10) : -1;
	if (!has || *end || secs < 0) {
		ck_result(o, CK_FAIL, "429 after %" PRIu64 " requests, but %s", sent,
			  has ? "its Retry-After is not delta-seconds" : "without Retry-After");
		return;
	}
	ck->gw_retry_after = (int)secs;
	ck_result(o, CK_PASS, "429 with Retry-After: %ld after %" PRIu64 " requests", secs, sent);
}

static void retry_after(struct ck *ck, const struct ck_def *d, struct ck_outcome *o)
{
	char tag[OPLAN_MAX_TAG], path[128];
	struct gw g = {.ck = ck, .via = V_G};
	struct cx_resp r = {0};
	int secs = ck->gw_retry_after;
	if (secs < 0) {
		ck_result(o, CK_SKIP, "no 429 with Retry-After was seen (gateway.rate-limit)");
		return;
	}
	if ((unsigned)secs + 2 > d->budget_s) {
		ck_result(o, CK_SKIP, "Retry-After: %d is longer than this check waits", secs);
		return;
	}
	cio_sleep_ms((unsigned)secs * 1000 + 200);
	snprintf(path, sizeof path, "/t/%s/gw/64", ck_tag(ck, tag));
	gw_get(&g, o, path, false, &r, NULL);
	gw_close(&g);
	ck_evidence(o, &g.c, &r, NULL);
	if (r.status == 429)
		ck_result(o, CK_FAIL, "still 429 after waiting the %d s Retry-After asked for", secs);
	else if (!ck_bad_response(o, &g.c, &r, 200, 64))
		ck_result(o, CK_PASS, "after the %d s Retry-After asked for, the request went through",
			  secs);
}

static void reuse(struct ck *ck, const struct ck_def *d, struct ck_outcome *o)
{
	char tag[OPLAN_MAX_TAG], path[128], prefix[OPLAN_MAX_TAG + 1];
	struct gw g = {.ck = ck, .via = V_G};
	struct cx_resp r = {0};
	unsigned limited = 0;
	snprintf(prefix, sizeof prefix, "%s.", ck_tag(ck, tag));
	for (uint64_t i = 0; i < d->arg; i++) {
		snprintf(path, sizeof path, "/t/%s.%" PRIu64 "/gw/256", tag, i);
		if (gw_get(&g, o, path, true, &r, NULL) < 0 && o->decided)
			return;
		limited += r.status == 429;
	}
	gw_close(&g);
	uint64_t reqs, conns;
	corigin_count(&ck->origin, prefix, &reqs, &conns);
	ck_num(o, "requests", d->arg);
	ck_num(o, "rate_limited", limited);
	ck_num(o, "client_connections", g.opened);
	ck_num(o, "origin_requests", reqs);
	ck_num(o, "origin_connections", conns);
	if (reqs < d->arg / 2) {
		ck_result(o, CK_FAIL, "only %" PRIu64 " of %" PRIu64 " requests reached the origin%s",
			  reqs, d->arg, limited ? " (rate limited: lower --gateway-rate)" : "");
		return;
	}
	double ratio = 1.0 - (double)conns / (double)reqs;
	ck_str(o, "reuse", "%.3f", ratio);
	ck_result(o, ratio >= 0.9 ? CK_PASS : CK_FAIL, "%.1f%% of requests reused an origin "
		  "connection (%" PRIu64 " requests on %" PRIu64 " connections; 90%% wanted)",
		  ratio * 100, reqs, conns);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* n paced requests by via: the p99 and p50 latency in microseconds. Returns how many
 * were whole 200s (the rest, rate-limited or failed, are left out). */
static size_t latencies(struct ck *ck, struct ck_outcome *o, enum ck_via via, size_t n,
			uint64_t *p50, uint64_t *p99)
{
	char tag[OPLAN_MAX_TAG], path[128];
	struct gw g = {.ck = ck, .via = via};
	struct cx_resp r = {0};
	uint64_t lat[256];
	size_t ok = 0;
	snprintf(path, sizeof path, "/t/%s/gw/1024", ck_tag(ck, tag));
	for (size_t i = 0; i < n && i < 256; i++) {
		uint64_t us;
		if (gw_get(&g, o, path, true, &r, &us) == 0 && r.status == 200)
			lat[ok++] = us;
		if (o->decided)
			break;
	}
	gw_close(&g);
	qsort(lat, ok, sizeof lat[0], cmp_u64);
	*p50 = ok ? lat[ok / 2] : 0;
	*p99 = ok ? lat[(ok * 99 + 99) / 100 - 1] : 0;
	return ok;
}

static void p99(struct ck *ck, const struct ck_def *d, struct ck_outcome *o)
{
	uint64_t d50, d99, g50, g99;
	size_t nd = latencies(ck, o, CK_VIA_DIRECT, d->arg, &d50, &d99);
	size_t ng = o->decided ? 0 : latencies(ck, o, V_G, d->arg, &g50, &g99);
	if (o->decided)
		return;
	ck_num(o, "direct_p50_us", d50);
	ck_num(o, "direct_p99_us", d99);
	ck_num(o, "gateway_p50_us", g50);
	ck_num(o, "gateway_p99_us", g99);
	ck_num(o, "gateway_ok", ng);
	if (nd < d->arg * 9 / 10 || ng < d->arg * 9 / 10) {
		ck_result(o, CK_WARN, "only %zu direct and %zu gateway requests of %" PRIu64 " were "
			  "whole 200s (rate limited? lower --gateway-rate)", nd, ng, d->arg);
		return;
	}
	double over_ms = ((double)g99 - (double)d99) / 1000;
	ck_result(o, over_ms <= ck->args->p99_budget_ms ? CK_PASS : CK_FAIL,
		  "p99 %.2f ms through the gateway, %.2f ms direct: %.2f ms overhead (budget %.0f ms)",
		  (double)g99 / 1000, (double)d99 / 1000, over_ms, ck->args->p99_budget_ms);
}

/* GETs the metrics URL and adds its counts to pc. Returns 0 or -1. */
static int scrape(struct ck *ck, struct prom_counts *pc)
{
	struct cio c;
	struct cx x;
	struct cx_resp r = {0};
	char head[1024];
	const struct url *u = &ck->args->metrics;
	if (cio_connect(&c, &ck->metrics, ck_step(ck, 5000)) < 0)
		return -1;
	cx_init(&x, &c);
	char auth[300];
	url_authority(u, true, auth, sizeof auth);
	int n = snprintf(head, sizeof head, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
			 u->path, auth);
	int rc = cio_write(&c, head, (size_t)n, ck_step(ck, 5000)) < 0 ? -1
		 : cx_read_response(&x, 0, &r, ck_step(ck, 5000));
	cio_close(&c);
	if (rc < 0 || r.status != 200)
		return -1;
	/* The body's first CX_COPY bytes: an exposition for a few counters fits. */
	memset(pc, 0, sizeof *pc);
	prom_parse(r.copy, r.copy_len, pc);
	return 0;
}

static void metrics(struct ck *ck, const struct ck_def *d, struct ck_outcome *o)
{
	char tag[OPLAN_MAX_TAG], path[128];
	struct prom_counts before, after;
	struct gw g = {.ck = ck, .via = V_G};
	struct cx_resp r = {0};
	unsigned got200 = 0, got404 = 0;
	if (!ck->args->metrics_url) {
		ck_result(o, CK_SKIP, "no --metrics URL given");
		return;
	}
	if (scrape(ck, &before) < 0) {
		ck_result(o, CK_FAIL, "cannot scrape %s (want 200 with a text exposition)",
			  ck->args->metrics_url);
		return;
	}
	ck_tag(ck, tag);
	for (int i = 0; i < 8; i++) {
		snprintf(path, sizeof path, i < 5 ? "/t/%s/gw/64" : "/t/%s/status/404", tag);
		gw_get(&g, o, path, true, &r, NULL);
		got200 += r.status == 200;
		got404 += r.status == 404;
	}
	gw_close(&g);
	if (scrape(ck, &after) < 0) {
		ck_result(o, CK_FAIL, "the second scrape of %s failed", ck->args->metrics_url);
		return;
	}
	double d200 = after.by_status[200] - before.by_status[200];
	double d404 = after.by_status[404] - before.by_status[404];
	ck_num(o, "sent_200", got200);
	ck_num(o, "sent_404", got404);
	ck_str(o, "metrics_200", "%.0f", d200);
	ck_str(o, "metrics_404", "%.0f", d404);
	ck_num(o, "samples", after.samples);
	if (!after.samples)
		ck_result(o, CK_FAIL, "the exposition has no request counter by status (a *_total "
			  "counter with a code/status label)");
	/* The scrapes themselves may be counted as 200s when served on the same listener. */
	else if (d404 == got404 && d200 >= got200 && d200 <= got200 + 2)
		ck_result(o, CK_PASS, "the metrics counted what was sent: %u × 200, %u × 404", got200,
			  got404);
	else
		ck_result(o, CK_FAIL, "the metrics counted %.0f × 200 and %.0f × 404; %u and %u were "
			  "sent", d200, d404, got200, got404);
}

/* Whether r is the breaker's own answer: 503 with the header saying so. */
static bool breaker_answer(const struct ck *ck, const struct cx_resp *r, char *v, size_t cap)
{
	v[0] = '\0';
	return r->status == 503 && cx_header(r, ck->args->breaker_header, v, cap);
}

static void breaker_open(struct ck *ck, const struct ck_def *d, struct ck_outcome *o)
{
	char tag[OPLAN_MAX_TAG], path[128], v[64];
	struct gw g = {.ck = ck, .via = V_G};
	struct cx_resp r = {0};
	snprintf(path, sizeof path, "/t/%s/gw/64", ck_tag(ck, tag));
	corigin_set_failing(&ck->origin, true);
	uint64_t i = 0;
	for (; i < d->arg && !breaker_answer(ck, &r, v, sizeof v); i++)
		if (gw_get(&g, o, path, true, &r, NULL) < 0 && o->decided)
			goto out;
	size_t failures = corigin_find(&ck->origin, tag, NULL, 0);
	ck_num(o, "origin_failures", failures);
	if (!breaker_answer(ck, &r, v, sizeof v)) {
		ck_result(o, CK_FAIL, "the origin failed %zu times and every failure passed through "
			  "(last status %d): no 503 with %s, no circuit breaker", failures, r.status,
			  ck->args->breaker_header);
		goto out;
	}
	ck_str(o, "breaker", "%s", v);
	for (int k = 0; k < 3; k++)
		gw_get(&g, o, path, true, &r, NULL);
	size_t later = corigin_find(&ck->origin, tag, NULL, 0);
	ck->gw_breaker_open = true;
	ck_result(o, later == failures ? CK_PASS : CK_WARN, later == failures
		  ? "after %zu origin failures: 503 with %s: %s, and the origin no longer called"
		  : "after %zu origin failures: 503 with %s: %s, but the origin was still called",
		  failures, ck->args->breaker_header, v);
out:
	gw_close(&g);
}

/* The cool-down, with the origin still failing: exactly one trial goes through, fails,
 * and the breaker opens again at once. */
static void breaker_half_open(struct ck *ck, const struct ck_def *d, struct ck_outcome *o)
{
	char tag[OPLAN_MAX_TAG], path[128], v[64];
	struct gw g = {.ck = ck, .via = V_G};
	struct cx_resp r = {0};
	if (!ck->gw_breaker_open) {
		ck_result(o, CK_SKIP, "the breaker never opened (gateway.breaker.open)");
		return;
	}
	snprintf(path, sizeof path, "/t/%s/gw/64", ck_tag(ck, tag));
	uint64_t t0 = loop_clock_us(), wait = (uint64_t)(ck->args->breaker_wait * 1e6);
	while (corigin_find(&ck->origin, tag, NULL, 0) == 0 && loop_clock_us() - t0 < wait) {
		if (gw_get(&g, o, path, false, &r, NULL) < 0 && o->decided)
			goto out;
		cio_sleep_ms(100);
	}
	double secs = (double)(loop_clock_us() - t0) / 1e6;
	if (corigin_find(&ck->origin, tag, NULL, 0) == 0) {
		ck_result(o, CK_FAIL, "no trial request reached the origin within %.0f s (--breaker-wait)",
			  ck->args->breaker_wait);
		goto out;
	}
	ck_str(o, "trial_after_s", "%.1f", secs);
	ck_num(o, "trial_status", (uint64_t)r.status);
	gw_get(&g, o, path, false, &r, NULL);
	size_t seen = corigin_find(&ck->origin, tag, NULL, 0);
	ck_num(o, "origin_requests", seen);
	if (seen == 1 && breaker_answer(ck, &r, v, sizeof v))
		ck_result(o, CK_PASS, "half-open after %.1f s: one trial let through, it failed, the "
			  "breaker opened again (%s)", secs, v);
	else
		ck_result(o, CK_FAIL, "after the failed trial at %.1f s the next request %s", secs,
			  seen > 1 ? "reached the origin too: the breaker did not open again"
				   : "was not answered by the breaker");
out:
	gw_close(&g);
}

static void breaker_close(struct ck *ck, const struct ck_def *d, struct ck_outcome *o)
{
	char tag[OPLAN_MAX_TAG], path[128], v[64];
	struct gw g = {.ck = ck, .via = V_G};
	struct cx_resp r = {0};
	corigin_set_failing(&ck->origin, false);
	if (!ck->gw_breaker_open) {
		ck_result(o, CK_SKIP, "the breaker never opened (gateway.breaker.open)");
		return;
	}
	snprintf(path, sizeof path, "/t/%s/gw/64", ck_tag(ck, tag));
	uint64_t t0 = loop_clock_us(), wait = (uint64_t)(ck->args->breaker_wait * 1e6);
	while (r.status != 200 && loop_clock_us() - t0 < wait) {
		if (gw_get(&g, o, path, false, &r, NULL) < 0 && o->decided)
			goto out;
		if (r.status != 200)
			cio_sleep_ms(100);
	}
	double secs = (double)(loop_clock_us() - t0) / 1e6;
	if (r.status != 200) {
		ck_result(o, CK_FAIL, "the origin recovered but the gateway still answered %d after "
			  "%.0f s", r.status, secs);
		goto out;
	}
	int ok = 0;
	for (int i = 0; i < 5; i++)
		ok += gw_get(&g, o, path, true, &r, NULL) == 0 && r.status == 200 &&
		      !breaker_answer(ck, &r, v, sizeof v);
	ck_str(o, "closed_after_s", "%.1f", secs);
	ck_result(o, ok == 5 ? CK_PASS : CK_FAIL, ok == 5
		  ? "closed again %.1f s after the origin recovered; the next 5 requests went through"
		  : "the breaker flapped: after %.1f s, not every later request went through", secs);
out:
	gw_close(&g);
}

static const struct ck_def defs[] = {
	{"gateway.pass", "a request through the gateway reaches the origin byte-exact",
	 "RFC 9110 §7.6", P_G, V_G, passes, 0, 0, 10},
	{"gateway.rate-limit", "above the limit: 429 with Retry-After", "RFC 6585 §4", P_G, V_G,
	 rate_limit, 300, 0, 30},
	{"gateway.retry-after", "after Retry-After, a request goes through", "RFC 9110 §10.2.3",
	 P_G, V_G, retry_after, 0, 0, 32},
	{"gateway.reuse", "upstream connection reuse of 90% or more", "RFC 9112 §9.3", P_G, V_G,
	 reuse, 50, 0, 30},
	{"gateway.p99", "p99 latency overhead against the origin direct", "--p99-budget", P_G, V_G,
	 p99, 100, 0, 40},
	{"gateway.metrics", "Prometheus request counts by status agree with what was sent",
	 "Prometheus text 0.0.4", P_G, V_G, metrics, 0, 0, 20},
	{"gateway.breaker.open", "a failing origin opens the breaker: 503 with its header",
	 "circuit breaker", P_G, V_G, breaker_open, 50, 0, 30},
	{"gateway.breaker.half-open", "after the cool-down one trial, then open again if it fails",
	 "circuit breaker", P_G, V_G, breaker_half_open, 0, 0, 95},
	{"gateway.breaker.close", "once the origin recovers the breaker closes", "circuit breaker",
	 P_G, V_G, breaker_close, 0, 0, 95},
};

const struct ck_table ck_gateway_checks = {defs, sizeof defs / sizeof defs[0]};
