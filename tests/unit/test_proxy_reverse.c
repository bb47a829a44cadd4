/* Unit tests for the reference proxy's reverse mode: the token bucket (ratelimit.h) and
 * the circuit breaker (breaker.h) driven by a fake clock, the option parser (one line
 * per spec), the origin URL of a request, the decision per request, and the proxy's
 * own answers — the /metrics exposition read back by the gateway check's own parser
 * (check/prom.h), so the two agree on what a count is. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "check/prom.h"
#include "lib/http1.h"
#include "proxy-under-test/breaker.h"
#include "proxy-under-test/ratelimit.h"
#include "proxy-under-test/reverse.h"
#include "proxy-under-test/server.h"
#include "proxy-under-test/session.h"

#define S 1000000ull /* one second in microseconds */

static void test_bucket(void **state)
{
	(void)state;
	struct ratelimit rl;
	unsigned ra = 0;
	ratelimit_init(&rl, 50, 0);
	/* Starts full: a second's worth at once, then 429 with a one-second wait. */
	for (int i = 0; i < 50; i++)
		assert_true(ratelimit_take(&rl, 7 * S, &ra));
	assert_false(ratelimit_take(&rl, 7 * S, &ra));
	assert_int_equal(ra, 1);
	/* 20 ms later one token is back; the next waits again. */
	assert_true(ratelimit_take(&rl, 7 * S + 20000, &ra));
	assert_false(ratelimit_take(&rl, 7 * S + 20000, &ra));
	/* A clock read a moment behind (another worker) is no time passed, no crash. */
	assert_false(ratelimit_take(&rl, 6 * S, &ra));
	/* After Retry-After the bucket has refilled, and never beyond its size. */
	for (int i = 0; i < 50; i++)
		assert_true(ratelimit_take(&rl, 7 * S + 20000 + ra * S, &ra));
	assert_false(ratelimit_take(&rl, 7 * S + 20000 + S, &ra));
}

/* Retry-After is the wait for one whole token, rounded up: coming back then succeeds. */
static void test_bucket_slow_rates(void **state)
{
	(void)state;
	const struct {
		double rate, burst;
		unsigned want_ra;
	} cases[] = {{0.5, 0, 2}, {1.0 / 60, 0, 60}, {2, 0, 1}, {0.25, 1, 4}, {1000, 10, 1}};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct ratelimit rl;
		unsigned ra = 0;
		ratelimit_init(&rl, cases[i].rate, cases[i].burst);
		while (ratelimit_take(&rl, S, &ra))
			;
		if (ra != cases[i].want_ra)
			fail_msg("rate %g: Retry-After %u, want %u", cases[i].rate, ra, cases[i].want_ra);
		assert_true(ratelimit_take(&rl, S + (uint64_t)cases[i].want_ra * S, &ra));
	}
}

static void test_breaker(void **state)
{
	(void)state;
	struct breaker b;
	unsigned ra = 0;
	breaker_init(&b, 3, 2 * S);
	/* Closed: failures in a row count, a success starts over. */
	assert_int_equal(breaker_admit(&b, 0, NULL), BREAKER_PASS);
	breaker_report(&b, false, BREAKER_FAIL, 0);
	breaker_report(&b, false, BREAKER_FAIL, 0);
	breaker_report(&b, false, BREAKER_OK, 0);
	breaker_report(&b, false, BREAKER_FAIL, 0);
	breaker_report(&b, false, BREAKER_NONE, 0); /* the client left: nothing learnt */
	breaker_report(&b, false, BREAKER_FAIL, 0);
	assert_int_equal(b.state, BREAKER_CLOSED);
	breaker_report(&b, false, BREAKER_FAIL, 10 * S);
	assert_int_equal(b.state, BREAKER_OPEN);
	assert_int_equal(b.opens, 1);
	/* Open: rejected with the cool-down left; late outcomes of earlier requests ignored. */
	assert_int_equal(breaker_admit(&b, 10 * S + 500000, &ra), BREAKER_REJECT);
	assert_int_equal(ra, 2);
	breaker_report(&b, false, BREAKER_OK, 10 * S + 600000);
	assert_int_equal(b.state, BREAKER_OPEN);
	assert_int_equal(breaker_admit(&b, 11 * S + 999999, &ra), BREAKER_REJECT);
	assert_int_equal(ra, 1);
	/* Half-open: one trial; the others rejected while it runs. */
	assert_int_equal(breaker_admit(&b, 12 * S, &ra), BREAKER_TRIAL);
	assert_int_equal(b.state, BREAKER_HALF_OPEN);
	assert_int_equal(breaker_admit(&b, 12 * S, &ra), BREAKER_REJECT);
	breaker_report(&b, false, BREAKER_OK, 12 * S); /* not the trial: no say */
	assert_int_equal(b.state, BREAKER_HALF_OPEN);
	/* The trial fails: open again, a new cool-down from now. */
	breaker_report(&b, true, BREAKER_FAIL, 12 * S + 100);
	assert_int_equal(b.state, BREAKER_OPEN);
	assert_int_equal(b.opens, 2);
	assert_int_equal(breaker_admit(&b, 13 * S, &ra), BREAKER_REJECT);
	/* A trial that learnt nothing (the client left) lets the next one be the trial. */
	assert_int_equal(breaker_admit(&b, 14 * S + 100, &ra), BREAKER_TRIAL);
	breaker_report(&b, true, BREAKER_NONE, 14 * S + 200);
	assert_int_equal(breaker_admit(&b, 14 * S + 300, &ra), BREAKER_TRIAL);
	/* The trial succeeds: closed, counting from zero. */
	breaker_report(&b, true, BREAKER_OK, 14 * S + 400);
	assert_int_equal(b.state, BREAKER_CLOSED);
	assert_int_equal(breaker_admit(&b, 14 * S + 500, &ra), BREAKER_PASS);
	breaker_report(&b, false, BREAKER_FAIL, 15 * S);
	assert_int_equal(b.state, BREAKER_CLOSED);
	assert_string_equal(breaker_state_name(BREAKER_HALF_OPEN), "half-open");
}

static void test_options(void **state)
{
	(void)state;
	const struct {
		const char *opt, *val;
		int rc;
		double rate, burst;
		unsigned failures;
		double cooldown;
	} cases[] = {
		{"--rate-limit", "50/s", 1, 50, 0, 0, 0},
		{"--rate-limit", "120/m", 1, 2, 0, 0, 0},
		{"--rate-limit", "0.5/s,burst=3", 1, 0.5, 3, 0, 0},
		{"--breaker", "failures=3,cooldown=2", 1, 0, 0, 3, 2},
		{"--breaker", "cooldown=500ms,failures=1", 1, 0, 0, 1, 0.5},
		{"--breaker", "failures=7", 1, 0, 0, 7, 10},
		{"--breaker", "", 1, 0, 0, 5, 10},
		{"--listen", "127.0.0.1:0", 0, 0, 0, 0, 0}, /* not reverse mode's */
		{"--rate-limit", "50", -1, 0, 0, 0, 0},
		{"--rate-limit", "0/s", -1, 0, 0, 0, 0},
		{"--rate-limit", "-5/s", -1, 0, 0, 0, 0},
		{"--rate-limit", "5/h", -1, 0, 0, 0, 0},
		{"--rate-limit", "5/s,burst=0", -1, 0, 0, 0, 0},
		{"--rate-limit", "5/s,bust=3", -1, 0, 0, 0, 0},
		{"--rate-limit", "nan/s", -1, 0, 0, 0, 0},
		{"--rate-limit", "1e9/s", -1, 0, 0, 0, 0},
		{"--breaker", "failures=0", -1, 0, 0, 0, 0},
		{"--breaker", "failures=x,cooldown=2", -1, 0, 0, 0, 0},
		{"--breaker", "cooldown=0", -1, 0, 0, 0, 0},
		{"--breaker", "cooldown=2h", -1, 0, 0, 0, 0},
		{"--breaker", "failures=2,cooldown=2,failures=3", -1, 0, 0, 0, 0},
		{"--breaker", "color=red", -1, 0, 0, 0, 0},
		{"--reverse", "https://127.0.0.1:8443", -1, 0, 0, 0, 0},
		{"--reverse", "http://127.0.0.1:8080/api", -1, 0, 0, 0, 0},
		{"--reverse", "http://u:p@127.0.0.1:8080", -1, 0, 0, 0, 0},
		{"--reverse", "127.0.0.1:8080", -1, 0, 0, 0, 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct reverse_config rc = {0};
		const char *why = NULL;
		int got = reverse_option(&rc, cases[i].opt, cases[i].val, &why);
		if (got != cases[i].rc)
			fail_msg("%s '%s': %d, want %d", cases[i].opt, cases[i].val, got, cases[i].rc);
		if (got < 0) {
			assert_non_null(why);
			continue;
		}
		assert_true(rc.rate > cases[i].rate - 1e-9 && rc.rate < cases[i].rate + 1e-9);
		assert_true(rc.burst == cases[i].burst);
		assert_int_equal(rc.breaker_failures, cases[i].failures);
		assert_true(rc.breaker_cooldown_s == cases[i].cooldown);
	}
	struct reverse_config rc = {0};
	const char *why;
	assert_int_equal(reverse_option(&rc, "--reverse", "http://Origin.Test:18080/", &why), 1);
	assert_true(rc.on);
	assert_string_equal(rc.origin.host, "origin.test");
	assert_int_equal(rc.origin.port, 18080);
}

/* What --reverse refuses beside it, and what the others need. */
static void test_finish_config(void **state)
{
	(void)state;
	static struct proxy_config cfg;
	const char *why;
	memset(&cfg, 0, sizeof cfg);
	cfg.reverse.rate = 5;
	assert_int_equal(reverse_finish_config(&cfg, &why), -1);
	assert_non_null(strstr(why, "--rate-limit needs --reverse"));
	memset(&cfg, 0, sizeof cfg);
	assert_int_equal(reverse_finish_config(&cfg, &why), 0); /* a forward proxy: nothing */
	assert_int_equal(cfg.nallow, 0);
	assert_int_equal(reverse_option(&cfg.reverse, "--reverse", "http://127.0.0.1:1", &why), 1);
	cfg.require_auth = true;
	assert_int_equal(reverse_finish_config(&cfg, &why), -1);
	assert_non_null(strstr(why, "--auth"));
	cfg.require_auth = false;
	cfg.nallow = 1;
	assert_int_equal(reverse_finish_config(&cfg, &why), -1);
	assert_non_null(strstr(why, "--allow"));
	cfg.nallow = 0;
	assert_int_equal(reverse_finish_config(&cfg, &why), 0);
	/* Any destination: the client cannot choose one. */
	struct net_addr a;
	assert_int_equal(net_addr_from_ip("10.1.2.3", 80, &a), 0);
	assert_true(server_allowed(&cfg, &a));
	assert_int_equal(net_addr_from_ip("2001:db8::1", 80, &a), 0);
	assert_true(server_allowed(&cfg, &a));
}

static void parse(const char *head, struct http1_request *req)
{
	int err;
	int r = http1_parse_request(head, strlen(head), HTTP1_MAX_HEAD, req, &err);
	if (r <= 0)
		fail_msg("does not parse: %s", head);
}

static void test_target(void **state)
{
	(void)state;
	struct reverse_config rc = {0};
	const char *why;
	assert_int_equal(reverse_option(&rc, "--reverse", "http://127.0.0.1:18080", &why), 1);
	const struct {
		const char *head, *path;
	} cases[] = {
		{"GET /a/b?c=1 HTTP/1.1\r\nHost: gw\r\n\r\n", "/a/b?c=1"},
		{"GET http://elsewhere.test/x HTTP/1.1\r\nHost: gw\r\n\r\n", "/x"}, /* RFC 9112 §3.2.2 */
		{"GET http://elsewhere.test HTTP/1.1\r\nHost: gw\r\n\r\n", "/"},
		{"OPTIONS * HTTP/1.1\r\nHost: gw\r\n\r\n", "*"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct http1_request req;
		struct url u;
		parse(cases[i].head, &req);
		assert_true(reverse_target(&rc, &req, &u));
		assert_string_equal(u.path, cases[i].path);
		assert_string_equal(u.host, "127.0.0.1");
		assert_int_equal(u.port, 18080);
	}
}

/* A worker and a session just real enough for the per-request functions. */
struct rig {
	struct proxy_config cfg;
	struct proxy_shared shared;
	struct proxy_worker w;
	struct session s;
};

static struct rig *rig_new(const char *rate, const char *breaker)
{
	static struct rig r;
	memset(&r, 0, sizeof r);
	const char *why;
	assert_int_equal(reverse_option(&r.cfg.reverse, "--reverse", "http://127.0.0.1:1", &why), 1);
	if (rate)
		assert_int_equal(reverse_option(&r.cfg.reverse, "--rate-limit", rate, &why), 1);
	if (breaker)
		assert_int_equal(reverse_option(&r.cfg.reverse, "--breaker", breaker, &why), 1);
	assert_int_equal(reverse_finish_config(&r.cfg, &why), 0);
	assert_int_equal(reverse_state_init(&r.shared.reverse, &r.cfg.reverse), 0);
	r.w.cfg = &r.cfg;
	r.w.shared = &r.shared;
	r.s.w = &r.w;
	r.s.up.end = END_OPEN;
	return &r;
}

static int decide(struct rig *r, const char *head, unsigned *ra)
{
	struct http1_request req;
	parse(head, &req);
	return reverse_decide(&r->s, &req, ra);
}

static void test_decide(void **state)
{
	(void)state;
	struct rig *r = rig_new("2/s", "failures=2,cooldown=1");
	unsigned ra;
	const char *get = "GET /x HTTP/1.1\r\nHost: gw\r\n\r\n";
	r->w.loop.now_us = 5 * S;
	/* /metrics is the proxy's, never limited; other methods on it get 405. */
	for (int i = 0; i < 5; i++)
		assert_int_equal(decide(r, "GET /metrics HTTP/1.1\r\nHost: gw\r\n\r\n", &ra), REVERSE_METRICS);
	assert_int_equal(decide(r, "HEAD /metrics?x=1 HTTP/1.1\r\nHost: gw\r\n\r\n", &ra), REVERSE_METRICS);
	assert_int_equal(decide(r, "POST /metrics HTTP/1.1\r\nHost: gw\r\nContent-Length: 0\r\n\r\n", &ra),
			 REVERSE_METHOD);
	assert_int_equal(decide(r, "GET /metricsx HTTP/1.1\r\nHost: gw\r\n\r\n", &ra), REVERSE_PASS);
	/* The bucket (2/s: one token left), then 429. */
	assert_int_equal(decide(r, get, &ra), REVERSE_PASS);
	assert_int_equal(decide(r, get, &ra), REVERSE_LIMITED);
	assert_int_equal(ra, 1);
	/* Two failures in a row open the breaker (its outcomes come from the ledger lines). */
	reverse_line(&r->s, REVERSE_PASS, 500, false);
	reverse_line(&r->s, REVERSE_PASS, 502, false);
	r->w.loop.now_us = 5 * S + S / 2;
	assert_int_equal(decide(r, get, &ra), REVERSE_OPEN);
	assert_int_equal(ra, 1);
	r->w.loop.now_us = 7 * S;
	assert_int_equal(decide(r, get, &ra), REVERSE_TRIAL);
	assert_int_equal(decide(r, get, &ra), REVERSE_OPEN);
	/* The trial's connection ended with no answer from a silent origin: a failure. */
	r->s.up.end = END_TIMEOUT;
	reverse_line(&r->s, REVERSE_TRIAL, 0, true);
	assert_int_equal(r->shared.reverse.breaker.state, BREAKER_OPEN);
	r->w.loop.now_us = 9 * S;
	assert_int_equal(decide(r, get, &ra), REVERSE_TRIAL);
	reverse_line(&r->s, REVERSE_TRIAL, 404, false); /* any answer below 500 is a success */
	assert_int_equal(r->shared.reverse.breaker.state, BREAKER_CLOSED);
	assert_int_equal(atomic_load(&r->shared.reverse.limited), 1);
	assert_int_equal(atomic_load(&r->shared.reverse.rejected), 2);
	assert_int_equal(atomic_load(&r->shared.reverse.trials), 2);
	reverse_state_free(&r->shared.reverse);
}

/* The answers: one line per gate, the head as sent, and the exposition as the gateway
 * check's parser reads it. */
static void test_answers(void **state)
{
	(void)state;
	struct rig *r = rig_new("50/s", "failures=5,cooldown=10");
	char out[REVERSE_ANSWER_MAX];
	int status;
	long n = reverse_answer(&r->s, REVERSE_LIMITED, 3, false, false, out, sizeof out, &status);
	assert_true(n > 0);
	out[n] = '\0';
	assert_int_equal(status, 429);
	assert_non_null(strstr(out, "HTTP/1.1 429 Too Many Requests\r\n"));
	assert_non_null(strstr(out, "\r\nRetry-After: 3\r\n"));
	assert_null(strstr(out, "Connection: close"));
	n = reverse_answer(&r->s, REVERSE_OPEN, 7, false, true, out, sizeof out, &status);
	out[n] = '\0';
	assert_int_equal(status, 503);
	assert_non_null(strstr(out, "\r\nX-Circuit-Breaker: open\r\nRetry-After: 7\r\n"));
	assert_non_null(strstr(out, "\r\nConnection: close\r\n\r\n"));
	n = reverse_answer(&r->s, REVERSE_METHOD, 0, false, false, out, sizeof out, &status);
	out[n] = '\0';
	assert_int_equal(status, 405);
	assert_non_null(strstr(out, "\r\nAllow: GET, HEAD\r\n"));
	/* Every answer is a whole, well-framed response. */
	struct http1_response resp;
	int err;
	int h = http1_parse_response(out, (size_t)n, HTTP1_MAX_HEAD, 0, &resp, &err);
	assert_true(h > 0);
	assert_int_equal(resp.framing, HTTP1_FRAMING_LENGTH);
	assert_int_equal(resp.content_length, (uint64_t)n - (uint64_t)h);

	/* Counts come from the ledger lines; a line without an answer is not counted. */
	for (int i = 0; i < 7; i++)
		reverse_line(&r->s, REVERSE_PASS, 200, false);
	reverse_line(&r->s, REVERSE_PASS, 404, false);
	reverse_line(&r->s, REVERSE_LIMITED, 429, false);
	reverse_line(&r->s, REVERSE_PASS, 0, true);
	n = reverse_answer(&r->s, REVERSE_METRICS, 0, false, false, out, sizeof out, &status);
	assert_int_equal(status, 200);
	h = http1_parse_response(out, (size_t)n, HTTP1_MAX_HEAD, 0, &resp, &err);
	assert_true(h > 0);
	assert_int_equal(resp.content_length, (uint64_t)n - (uint64_t)h);
	struct prom_counts pc = {0};
	prom_parse(out + h, (size_t)(n - h), &pc);
	assert_int_equal(pc.bad_lines, 0);
	assert_int_equal(pc.samples, 3);
	assert_true(pc.by_status[200] == 7 && pc.by_status[404] == 1 && pc.by_status[429] == 1);
	out[n] = '\0';
	assert_non_null(strstr(out, "\ntunnelprobe_breaker_state 0\n"));
	assert_non_null(strstr(out, "Content-Type: text/plain; version=0.0.4"));
	/* HEAD: the same head, no body. */
	long hn = reverse_answer(&r->s, REVERSE_METRICS, 0, true, false, out, sizeof out, &status);
	assert_int_equal(hn, h);
	/* Too small a buffer is refused, never overrun. */
	assert_int_equal(reverse_answer(&r->s, REVERSE_LIMITED, 1, false, false, out, 40, &status), -1);
	reverse_state_free(&r->shared.reverse);
}

/* Reverse mode is a mode of fault.h's table: every fault that acts in forward mode acts
 * there (a reverse session is relayed as a forward one), so none is refused at start; a
 * row that left it out would be, with the mode's name. (The QUIC-only faults act in
 * neither.) */
static void test_faults(void **state)
{
	(void)state;
	for (int k = FAULT_TRUNCATE; k < FAULT_KIND_END; k++) {
		const struct fault_info *fi = fault_info((enum fault_kind)k);
		for (int d = FAULT_DOWN; d <= FAULT_UP; d++)
			if ((fi->modes[d] & FAULT_MODE_FORWARD) && !(fi->modes[d] & FAULT_MODE_REVERSE))
				fail_msg("%s (dir %d) does not act in reverse mode", fi->name, d);
	}
	struct fault f;
	const char *why;
	enum fault_mode mode = 0;
	assert_int_equal(fault_parse("truncate:after=1 dir=up", &f, &why), 0);
	assert_null(fault_idle_mode(&f, 1, FAULT_MODE_REVERSE, &mode));
	f.kind = (enum fault_kind)0; /* a row that acts nowhere */
	assert_ptr_equal(fault_idle_mode(&f, 1, FAULT_MODE_REVERSE, &mode), &f);
	assert_int_equal(mode, FAULT_MODE_REVERSE);
	assert_string_equal(fault_mode_name(FAULT_MODE_REVERSE), "reverse");
	assert_int_equal(FAULT_MODES_PROXY & FAULT_MODE_REVERSE, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket),        cmocka_unit_test(test_bucket_slow_rates),
		cmocka_unit_test(test_breaker),       cmocka_unit_test(test_options),
		cmocka_unit_test(test_finish_config), cmocka_unit_test(test_target),
		cmocka_unit_test(test_decide),        cmocka_unit_test(test_answers),
		cmocka_unit_test(test_faults),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
