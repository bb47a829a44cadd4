/* Unit tests for the probe's transport stack: a fake filter (scripted reads, captured
 * writes) at the bottom of a link, under the real HTTP/1.1 exchange, verification and
 * statistics — what each way a connection can behave gives as a class, phase and
 * detail, without a socket. A second fake, a pass-through marked as a tunnel, checks
 * that filters compose (reads go through f->next) and that the tunnel rule holds.
 * Also: how a QUIC connection's end reads as a class (pf_quic_describe_close), one line
 * per case. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/h3.h"
#include "lib/payload.h"
#include "lib/quic.h"
#include "probe/config.h"
#include "probe/conn.h"
#include "probe/exchange.h"
#include "probe/worker.h"

/* ---- the fake filter ---- */

#define MAX_STEPS 64

struct step {
	const char *data;   /* bytes to return (NULL: rc instead) */
	size_t len;         /* of data; 0: strlen(data) */
	long rc;            /* -EAGAIN, 0 (EOF), -ECONNRESET, PF_ERR; -1 ends a script */
};
#define S(text) {text, 0, 0}
#define B(buf, n) {buf, n, 0}
#define R(rc) {NULL, 0, rc}
#define END R(-1)

struct fake {
	struct pf base;
	struct step steps[MAX_STEPS];
	size_t nsteps, at, off;
	size_t chunk;       /* at most this many bytes per read (0: all) */
	char written[4096];
	size_t nwritten;
	bool shut, closed;
};

static long fake_read(struct pf *f, void *buf, size_t len)
{
	struct fake *k = (struct fake *)f;
	if (k->at == k->nsteps)
		return -EAGAIN;
	struct step *s = &k->steps[k->at];
	size_t total = s->len ? s->len : s->data ? strlen(s->data) : 0;
	if (!s->data) {
		k->at++;
		if (s->rc == PF_ERR)
			pf_fail(&f->link->err, TP_TLS_ALERT, TP_PHASE_BODY, "handshake failure");
		return s->rc;
	}
	size_t left = total - k->off;
	size_t n = left < len ? left : len;
	if (k->chunk && n > k->chunk)
		n = k->chunk;
	memcpy(buf, s->data + k->off, n);
	k->off += n;
	if (k->off == total) {
		k->at++;
		k->off = 0;
	}
	return (long)n;
}

static long fake_write(struct pf *f, const void *buf, size_t len)
{
	struct fake *k = (struct fake *)f;
	size_t n = len < sizeof k->written - k->nwritten ? len : sizeof k->written - k->nwritten;
	memcpy(k->written + k->nwritten, buf, n);
	k->nwritten += n;
	return n ? (long)n : -EAGAIN;
}

static int fake_shutdown(struct pf *f)
{
	((struct fake *)f)->shut = true;
	return 0;
}
static void fake_close(struct pf *f) { ((struct fake *)f)->closed = true; }
static unsigned fake_want(const struct pf *f, unsigned plain)
{
	(void)f;
	return plain;
}
static size_t fake_pending(const struct pf *f)
{
	(void)f;
	return 0;
}

static const struct pf_ops fake_ops = {
	.name = "fake", .phase = TP_PHASE_CONNECT, .read = fake_read, .write = fake_write,
	.shutdown = fake_shutdown, .close = fake_close, .want = fake_want, .pending = fake_pending,
};
/* A tunnel that adds nothing once up: every call goes to the filter below. */
static const struct pf_ops tunnel_ops = {
	.name = "fake-tunnel", .phase = TP_PHASE_PROXY, .tunnel = true, .read = pf_next_read,
	.write = pf_next_write, .shutdown = pf_next_shutdown, .close = fake_close,
	.want = pf_next_want, .pending = pf_next_pending,
};

/* ---- a worker with one slot whose own link is up on the fake stack ---- */

struct rig {
	bool reused;        /* the request counts as one on a kept-alive connection */
	struct probe_config cfg;
	struct probe_worker w;
	struct fake bottom, tunnel;
};

static const char *env_none(const char *name)
{
	(void)name;
	return NULL;
}

static void rig_up(struct rig *r, bool with_tunnel, bool up, int argc, char **argv)
{
	memset(r, 0, sizeof *r);
	assert_int_equal(probe_config_parse(&r->cfg, argc, argv, env_none), 0);
	uint64_t now = loop_clock_us();
	assert_int_equal(worker_init(&r->w, &r->cfg, 0, now, 0, NULL, NULL), 0);
	loop_update_time(&r->w.loop);
	struct link *l = &r->w.conns[0].own;
	l->state = LINK_UP;
	r->reused = up;
	l->target = &r->cfg.targets[0];
	l->proto = &exchange_http1;
	l->max_users = 1;
	r->bottom.base = (struct pf){.ops = &fake_ops, .link = l, .connected = true};
	l->stack[l->nstack++] = &r->bottom.base;
	if (with_tunnel) {
		r->tunnel.base = (struct pf){.ops = &tunnel_ops, .next = &r->bottom.base, .link = l,
					     .connected = true};
		l->stack[l->nstack++] = &r->tunnel.base;
	}
	l->nconnected = l->nstack;
	l->top = l->stack[l->nstack - 1];
}

static void script(struct rig *r, const struct step *steps)
{
	for (r->bottom.nsteps = 0; r->bottom.nsteps < MAX_STEPS &&
				   (steps[r->bottom.nsteps].data || steps[r->bottom.nsteps].rc != -1);
	     r->bottom.nsteps++)
		r->bottom.steps[r->bottom.nsteps] = steps[r->bottom.nsteps];
}

/* Starts the request, then plays "the socket is readable" until the request ends
 * (bounded: a script that never ends it fails the test). */
static const struct probe_record *run(struct rig *r)
{
	struct conn *c = &r->w.conns[0];
	r->w.plans[0].left = 0; /* this one request, then the slot closes */
	r->w.plans_left = 0;
	conn_start_request(c, 0, 0, 0);
	c->rec.reused = r->reused; /* else the first request of a new connection */
	for (int i = 0; i < 4 * MAX_STEPS + 64 && c->busy; i++) {
		if (r->bottom.at == r->bottom.nsteps)
			break;
		exchange_http1.ready(c);
	}
	assert_false(c->busy);
	assert_int_equal(r->w.stats.tot.requests, 1);
	return r->w.stats.nfailures ? &r->w.stats.failures[0] : NULL;
}

static void rig_down(struct rig *r)
{
	worker_free(&r->w);
	probe_config_free(&r->cfg);
}

#define ARGV(...) ((char *[]){"probe", "-q", __VA_ARGS__, NULL})
#define ARGC(...) ((int)(sizeof((char *[]){"probe", "-q", __VA_ARGS__}) / sizeof(char *)))
#define RIG(r, tunnel, ...) rig_up(r, tunnel, false, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__))
#define RIG_REUSED(r, ...) rig_up(r, false, true, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__))

/* ---- the cases ---- */

static void test_request_goes_through_the_top(void **state)
{
	(void)state;
	static struct rig r;
	RIG(&r, false, "http://fake.test/x");
	static const struct step s[] = {S("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"), END};
	script(&r, s);
	assert_null(run(&r));
	assert_int_equal(r.w.stats.tot.ok, 1);
	assert_non_null(strstr(r.bottom.written, "GET /x HTTP/1.1\r\nHost: fake.test\r\n"));
	assert_non_null(strstr(r.bottom.written, "X-Probe-Id: "));
	assert_true(r.bottom.closed); /* -n 1: the slot closed its connection at the end */
	rig_down(&r);
}

/* One line per case: the script, what it must give, why. */
struct outcome {
	const char *why;
	struct step steps[6];
	size_t chunk;
	enum tp_class cls;
	enum tp_phase phase;
	const char *detail;   /* a substring, or NULL */
};

static void check_outcome(const struct outcome *o, bool tunnel, char *url)
{
	static struct rig r;
	RIG(&r, tunnel, url);
	script(&r, o->steps);
	r.bottom.chunk = o->chunk;
	const struct probe_record *rec = run(&r);
	enum tp_class got = rec ? rec->cls : TP_OK;
	if (got != o->cls || (rec && rec->phase != o->phase) ||
	    (o->detail && (!rec || !strstr(rec->detail, o->detail))))
		fail_msg("%s: got %s/%s '%s', want %s/%s '%s'", o->why, tp_class_name(got),
			 rec ? tp_phase_name(rec->phase) : "done", rec ? rec->detail : "",
			 tp_class_name(o->cls), tp_phase_name(o->phase), o->detail ? o->detail : "");
	rig_down(&r);
}

static void test_outcomes(void **state)
{
	(void)state;
	static const struct outcome cases[] = {
		{"whole", {S("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"), END}, 0,
		 TP_OK, TP_PHASE_DONE, NULL},
		{"byte by byte", {S("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc"), END}, 1,
		 TP_OK, TP_PHASE_DONE, NULL},
		{"chunked", {S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"), END},
		 0, TP_OK, TP_PHASE_DONE, NULL},
		{"waits, then the rest", {S("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\na"), R(-EAGAIN),
		 S("bc"), END}, 0, TP_OK, TP_PHASE_DONE, NULL},
		{"EOF mid-body", {S("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello"), R(0), END}, 0,
		 TP_INCOMPLETE_READ, TP_PHASE_BODY, "5 bytes read, 5 more expected"},
		{"RST mid-body", {S("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello"), R(-ECONNRESET),
		 END}, 0, TP_RESET, TP_PHASE_BODY, "reset after 5 body bytes"},
		{"a filter's alert", {S("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello"), R(PF_ERR),
		 END}, 0, TP_TLS_ALERT, TP_PHASE_BODY, "handshake failure"},
		{"EOF before a byte", {R(0), END}, 0, TP_INCOMPLETE_READ, TP_PHASE_FIRST_BYTE, "empty reply"},
		{"EOF in the head", {S("HTTP/1.1 200 OK\r\nCont"), R(0), END}, 0, TP_INCOMPLETE_READ,
		 TP_PHASE_HEADERS, "after 21 bytes of response head"},
		{"garbage", {S("SSH-2.0-OpenSSH\r\n"), END}, 0, TP_PROTOCOL_ERROR, TP_PHASE_HEADERS,
		 "bad response head"},
		{"status not allowed", {S("HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n"), END}, 0,
		 TP_HTTP_ERROR, TP_PHASE_DONE, "status 503"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		check_outcome(&cases[i], false, "http://fake.test/x");
}

/* Through a tunnel filter: the same EOF before a byte is the proxy's doing. */
static void test_tunnel_filter_composes(void **state)
{
	(void)state;
	static const struct outcome cases[] = {
		{"EOF before a byte, through a tunnel", {R(0), END}, 0, TP_TUNNEL_CLOSED_EARLY,
		 TP_PHASE_FIRST_BYTE, "tunnel closed before the first response byte"},
		{"a body through a tunnel", {S("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"), END}, 0,
		 TP_OK, TP_PHASE_DONE, NULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		check_outcome(&cases[i], true, "http://fake.test/x");
}

/* X-Tp-Seed: every byte against the generator, through the stack. */
static void test_seeded_body(void **state)
{
	(void)state;
	static char good[256], bad[256];
	int n = snprintf(good, sizeof good, "HTTP/1.1 200 OK\r\nContent-Length: 64\r\nX-Tp-Seed: %016x\r\n\r\n",
			 0x1234);
	payload_fill(0x1234, 0, (uint8_t *)good + n, 64);
	memcpy(bad, good, sizeof good);
	bad[n + 40] ^= 1;
	const struct outcome ok = {"seeded", {B(good, (size_t)n + 64), END}, 7, TP_OK, TP_PHASE_DONE, NULL};
	const struct outcome corrupt = {"one bit off", {B(bad, (size_t)n + 64), END}, 0, TP_CORRUPT_BODY,
					TP_PHASE_BODY, "payload differs at byte 40"};
	check_outcome(&ok, false, "http://fake.test/x");
	check_outcome(&corrupt, false, "http://fake.test/x");
}

/* A reused connection that closes before any response byte: the request is retried
 * once on a new connection (the server may close idle connections at any time). */
static void test_stale_connection_retried(void **state)
{
	(void)state;
	static struct rig r;
	RIG_REUSED(&r, "--resolve", "fake.test:80:127.0.0.1", "http://fake.test/x");
	static const struct step s[] = {R(0), END};
	script(&r, s);
	struct conn *c = &r.w.conns[0];
	r.w.plans[0].left = 0;
	r.w.plans_left = 0;
	conn_start_request(c, 0, 0, 0);
	assert_true(c->rec.reused);
	exchange_http1.ready(c);
	assert_true(r.bottom.closed);
	assert_int_equal(r.w.stats.tot.retries, 1);
	assert_true(c->busy);                    /* still going, on a new connection */
	assert_ptr_equal(c->link, &c->own);
	assert_int_equal(c->own.state, LINK_CONNECTING);
	assert_false(c->rec.reused);
	rig_down(&r);
}

/* --half-close: the exchange asks the stack to end our direction; a filter that can
 * (TCP) does. */
static void test_half_close_reaches_the_bottom(void **state)
{
	(void)state;
	static struct rig r;
	RIG(&r, true, "--half-close", "http://fake.test/x");
	static const struct step s[] = {S("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx"), END};
	script(&r, s);
	assert_null(run(&r));
	assert_true(r.bottom.shut);
	rig_down(&r);
}

/* ---- QUIC endings ---- */

static void test_quic_endings(void **state)
{
	(void)state;
	static const struct {
		struct quic_close cl;
		bool up, answered;
		enum tp_class cls;
		enum tp_phase phase;
		bool fallback;
		const char *detail;
		const char *why;
	} cases[] = {
		{{.reason = QUIC_CLOSE_PEER, .by_peer = true, .app = true, .code = H3_INTERNAL_ERROR}, true, true,
		 TP_RESET, TP_PHASE_TLS, false, "H3_INTERNAL_ERROR (0x102)", "server's H3_INTERNAL_ERROR: reset"},
		{{.reason = QUIC_CLOSE_PEER, .by_peer = true, .app = true, .code = H3_NO_ERROR}, true, true,
		 TP_RESET, TP_PHASE_TLS, false, "H3_NO_ERROR (0x100)", "a polite close mid-request is still a reset"},
		{{.reason = QUIC_CLOSE_PEER, .by_peer = true, .app = true, .code = H3_FRAME_ERROR}, true, true,
		 TP_PROTOCOL_ERROR, TP_PHASE_TLS, false, "H3_FRAME_ERROR (0x106)", "framing codes: protocol_error"},
		{{.reason = QUIC_CLOSE_PEER, .by_peer = true, .app = false, .code = 0xa}, true, true,
		 TP_PROTOCOL_ERROR, TP_PHASE_TLS, false, "PROTOCOL_VIOLATION (0xa)", "transport violation"},
		{{.reason = QUIC_CLOSE_PEER, .by_peer = true, .app = false, .code = 0x2}, false, true,
		 TP_RESET, TP_PHASE_TLS, true, "CONNECTION_REFUSED (0x2)", "refused in the handshake: may fall back"},
		{{.reason = QUIC_CLOSE_LOCAL, .app = true, .code = H3_MESSAGE_ERROR}, true, true,
		 TP_PROTOCOL_ERROR, TP_PHASE_TLS, false, "closed by the probe: H3_MESSAGE_ERROR", "ours, for a malformed message"},
		{{.reason = QUIC_CLOSE_IDLE}, true, true, TP_TIMEOUT, TP_PHASE_BODY, false,
		 "QUIC idle timeout", "idle once up: timeout (the caller names the phase)"},
		{{.reason = QUIC_CLOSE_IDLE}, false, false, TP_CONNECT_ERROR, TP_PHASE_CONNECT, true,
		 "no answer to the QUIC Initial", "nothing came back"},
		{{.reason = QUIC_CLOSE_HANDSHAKE_TIMEOUT}, false, true, TP_TIMEOUT, TP_PHASE_TLS, true,
		 "handshake not done", "an answer, then no handshake"},
		{{.reason = QUIC_CLOSE_TLS, .by_peer = true, .tls_alert = 40}, false, true, TP_TLS_ALERT,
		 TP_PHASE_TLS, true, "handshake failure", "the server's alert"},
		{{.reason = QUIC_CLOSE_TLS, .tls_alert = 42, .detail = "The certificate is NOT trusted."}, false, true,
		 TP_TLS_ERROR, TP_PHASE_TLS, true, "NOT trusted. (we sent alert bad certificate)", "our verification"},
		{{.reason = QUIC_CLOSE_STATELESS_RESET, .by_peer = true}, true, true, TP_RESET, TP_PHASE_TLS,
		 false, "stateless reset", "the server forgot us"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct pf_error e;
		pf_quic_describe_close(&cases[i].cl, cases[i].up, cases[i].answered, 3, &e);
		if (e.cls != cases[i].cls || e.phase != cases[i].phase || e.fallback != cases[i].fallback ||
		    !strstr(e.detail, cases[i].detail))
			fail_msg("case %zu (%s): got %s/%s fallback %d '%s'", i, cases[i].why, tp_class_name(e.cls),
				 tp_phase_name(e.phase), e.fallback, e.detail);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_goes_through_the_top),
		cmocka_unit_test(test_outcomes),
		cmocka_unit_test(test_tunnel_filter_composes),
		cmocka_unit_test(test_seeded_body),
		cmocka_unit_test(test_half_close_reaches_the_bottom),
		cmocka_unit_test(test_stale_connection_retried),
		cmocka_unit_test(test_quic_endings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
