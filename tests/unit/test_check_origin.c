/* Unit tests for the check's origin (check/origin, oresp) driven by the check's own
 * client (check/cio, cx) over loopback: each target's response and ending, and the log
 * the checks read (heads as received, refusals, uploads verified, FIN/RST on both
 * sides). The group starts one origin; the last test proves its stop leaves nothing
 * open. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "check/cio.h"
#include "check/cx.h"
#include "check/origin.h"
#include "lib/http1.h"
#include "lib/payload.h"
#include "tests/unit/fds.h"

static struct corigin origin;
static int fds_before;

static int setup(void **state)
{
	(void)state;
	char err[256];
	struct net_addr a;
	fds_before = open_fds();
	net_addr_from_ip("127.0.0.1", 0, &a);
	if (corigin_start(&origin, &a, err, sizeof err) < 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	corigin_stop(&origin);
	return 0;
}

static uint64_t soon(void) { return cio_deadline_ms(5000); }

/* Connects to the origin and writes raw request bytes. */
static void open_send(struct cio *c, struct cx *x, const char *req)
{
	assert_int_equal(cio_connect(c, &origin.addr, soon()), 0);
	cx_init(x, c);
	assert_int_equal(cio_write(c, req, strlen(req), soon()), (long)strlen(req));
}

static void get(const char *target, unsigned flags, struct cio *c, struct cx *x, struct cx_resp *r)
{
	char req[512];
	snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: t\r\n\r\n",
		 flags & HTTP1_REQ_HEAD ? "HEAD" : "GET", target);
	open_send(c, x, req);
	memset(r, 0, sizeof *r);
	cx_read_response(x, flags, r, soon());
}

static struct corigin_req one(const char *tag)
{
	struct corigin_req q;
	assert_int_equal(corigin_find(&origin, tag, &q, 1), 1);
	return q;
}

static void test_bytes_verified_and_logged(void **state)
{
	(void)state;
	struct cio c;
	struct cx x;
	static struct cx_resp r;
	get("/t/b1/bytes/300000", 0, &c, &x, &r);
	assert_int_equal(r.end, CX_COMPLETE);
	assert_int_equal(r.status, 200);
	assert_true(r.has_seed);
	assert_int_equal(r.body, 300000);
	assert_int_equal(r.bad_at, -1);
	assert_true(r.resp.keep_alive);
	/* The client may read the last byte before the origin's thread marks the response
	 * written: wait for the record (bounded). */
	struct corigin_req q = one("b1");
	for (int i = 0; i < 500 && !q.resp_complete; i++) {
		cio_sleep_ms(10);
		q = one("b1");
	}
	assert_int_equal(q.status, 200);
	assert_true(q.resp_complete);
	assert_int_equal(q.resp_sent, c.received);
	assert_int_equal(q.head_len, c.sent);
	assert_memory_equal(q.head, "GET /t/b1/bytes/300000 HTTP/1.1\r\n", 33);
	cio_close(&c);
	assert_true(corigin_wait_closed(&origin, q.conn, soon()));
	struct corigin_conn oc;
	assert_true(corigin_conn(&origin, q.conn, &oc));
	assert_true(oc.fin_received);
	assert_int_equal(oc.received, q.head_len);
	assert_int_equal(oc.requests, 1);
}

static void test_framings(void **state)
{
	(void)state;
	struct cio c;
	struct cx x;
	static struct cx_resp r;
	get("/t/f1/chunked/40000", 0, &c, &x, &r);
	assert_int_equal(r.end, CX_COMPLETE);
	assert_int_equal(r.body, 40000);
	assert_int_equal(r.bad_at, -1);
	assert_true(r.trailer_bytes > 2); /* a field, then the blank line */
	cio_close(&c);
	get("/t/f2/chunks/40000", 0, &c, &x, &r);
	assert_int_equal(r.end, CX_COMPLETE);
	assert_int_equal(r.trailer_bytes, 2); /* the blank line alone */
	cio_close(&c);
	get("/t/f3/close/70000", 0, &c, &x, &r);
	assert_int_equal(r.end, CX_COMPLETE);
	assert_int_equal(r.body, 70000);
	assert_int_equal(c.end, CIO_FIN);
	cio_close(&c);
	get("/t/f4/bytes/1000", HTTP1_REQ_HEAD, &c, &x, &r);
	assert_int_equal(r.end, CX_COMPLETE);
	char cl[16];
	assert_true(cx_header(&r, "Content-Length", cl, sizeof cl));
	assert_string_equal(cl, "1000");
	assert_int_equal(r.body, 0);
	assert_int_equal(cx_pending(&x), 0);
	cio_close(&c);
	get("/t/f5/status/204", 0, &c, &x, &r);
	assert_int_equal(r.status, 204);
	assert_int_equal(r.end, CX_COMPLETE);
	cio_close(&c);
	get("/t/f6/info/10", 0, &c, &x, &r);
	assert_int_equal(r.ninterim, 1);
	assert_int_equal(r.interim[0], 103);
	assert_int_equal(r.status, 200);
	cio_close(&c);
	get("/nothing", 0, &c, &x, &r);
	assert_int_equal(r.status, 404);
	cio_close(&c);
}

static void test_reset_after_n(void **state)
{
	(void)state;
	struct cio c;
	struct cx x;
	static struct cx_resp r;
	get("/t/r1/reset/1000000/5000", 0, &c, &x, &r);
	assert_int_equal(r.end, CX_RESET);
	assert_int_equal(r.body, 5000);
	assert_int_equal(c.end, CIO_RESET);
	struct corigin_req q = one("r1");
	struct corigin_conn oc;
	assert_true(corigin_conn(&origin, q.conn, &oc));
	assert_true(oc.rst_sent);
	cio_close(&c);
}

static void test_echo_is_the_head_as_received(void **state)
{
	(void)state;
	struct cio c;
	struct cx x;
	static struct cx_resp r = {0};
	const char *req = "GET /t/e1/echo HTTP/1.1\r\nHost: t\r\nX-A:  spaced  \r\n\r\n";
	open_send(&c, &x, req);
	cx_read_response(&x, 0, &r, soon());
	assert_int_equal(r.body, strlen(req));
	assert_memory_equal(r.copy, req, strlen(req));
	cio_close(&c);
}

static void upload(const char *tag, const char *framing, uint64_t len, bool corrupt,
		   struct cx_resp *r, struct cio *c)
{
	char path[64], req[256];
	struct cx x;
	snprintf(path, sizeof path, "/t/%s/upload", tag);
	snprintf(req, sizeof req, "POST %s HTTP/1.1\r\nHost: t\r\n%s\r\n\r\n", path, framing);
	open_send(c, &x, req);
	uint64_t seed = payload_seed(path, strlen(path));
	if (strstr(framing, "chunked")) {
		char line[32];
		snprintf(line, sizeof line, "%llx\r\n", (unsigned long long)len);
		cio_write(c, line, strlen(line), soon());
		cio_write_payload(c, seed, 0, len, soon());
		cio_write(c, "\r\n0\r\n\r\n", 7, soon());
	} else {
		cio_write_payload(c, seed, 0, len - 1, soon());
		cio_write(c, corrupt ? "X" : "", corrupt ? 1 : 0, soon());
		if (!corrupt) {
			uint8_t last;
			payload_fill(seed, len - 1, &last, 1);
			cio_write(c, &last, 1, soon());
		}
	}
	memset(r, 0, sizeof *r);
	cx_read_response(&x, 0, r, soon());
}

static void test_uploads_checked(void **state)
{
	(void)state;
	struct cio c;
	static struct cx_resp r;
	upload("u1", "Content-Length: 200000", 200000, false, &r, &c);
	assert_int_equal(r.status, 200);
	struct corigin_req q = one("u1");
	assert_int_equal(q.body_received, 200000);
	assert_true(q.body_complete);
	assert_int_equal(q.body_bad_at, -1);
	cio_close(&c);
	upload("u2", "Transfer-Encoding: chunked", 70000, false, &r, &c);
	assert_int_equal(r.status, 200);
	assert_int_equal(one("u2").body_received, 70000);
	cio_close(&c);
	upload("u3", "Content-Length: 5000", 5000, true, &r, &c);
	assert_int_equal(r.status, 422);
	assert_int_equal(one("u3").body_bad_at, 4999);
	cio_close(&c);
}

static void test_expect_continue(void **state)
{
	(void)state;
	struct cio c;
	struct cx x;
	static struct cx_resp r1, r;
	memset(&r1, 0, sizeof r1);
	memset(&r, 0, sizeof r);
	open_send(&c, &x, "POST /t/x1/upload HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\n"
			  "Content-Length: 10\r\n\r\n");
	assert_int_equal(cx_read_head(&x, CX_STOP_1XX, &r1, soon()), 0);
	assert_int_equal(r1.status, 100);
	cio_write_payload(&c, payload_seed("/t/x1/upload", 12), 0, 10, soon());
	cx_read_response(&x, 0, &r, soon());
	assert_int_equal(r.status, 200);
	cio_close(&c);
}

/* The strict parser refuses what a proxy must never forward raw, and the log keeps the
 * bytes that arrived. */
static void test_refusals_keep_the_raw_head(void **state)
{
	(void)state;
	static const struct {
		const char *req;
		const char *tag;
		int err;
	} cases[] = {
		{"GET /t/s1/echo HTTP/1.1\r\nHost: t\r\nX-A: 1\nX-B: 2\r\n\r\n", "s1", HTTP1_E_BARE_LF},
		{"GET /t/s2/echo HTTP/1.1\r\nHost: t\r\nX-F: a\r\n b\r\n\r\n", "s2", HTTP1_E_HEADER},
		{"POST /t/s3/upload HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\n",
		 "s3", HTTP1_E_CONTENT_LENGTH},
		{"POST /t/s4/upload HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n"
		 "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "s4", HTTP1_E_CL_TE_CONFLICT},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct cio c;
		struct cx x;
		static struct cx_resp r;
		memset(&r, 0, sizeof r);
		open_send(&c, &x, cases[i].req);
		cx_read_response(&x, 0, &r, soon());
		assert_int_equal(r.status, 400);
		cio_close(&c);
		/* A refused head has no parsed target: find it by its bytes. */
		struct corigin_req q;
		uint64_t conn = corigin_last_conn(&origin);
		bool found = false;
		for (uint64_t s = origin.nreqs; s > 0 && s + 8 > origin.nreqs && !found; s--) {
			pthread_mutex_lock(&origin.lock);
			q = origin.reqs[s % CORIGIN_REQS];
			pthread_mutex_unlock(&origin.lock);
			found = q.conn == conn;
		}
		assert_true(found);
		assert_int_equal(q.parse_err, cases[i].err);
		assert_true(strstr(q.head, cases[i].tag) != NULL);
	}
}

static void test_pipelined_in_order(void **state)
{
	(void)state;
	struct cio c;
	struct cx x;
	static struct cx_resp r;
	open_send(&c, &x, "GET /t/p1/bytes/10 HTTP/1.1\r\nHost: t\r\n\r\n"
			  "GET /t/p2/bytes/20 HTTP/1.1\r\nHost: t\r\n\r\n");
	for (int i = 1; i <= 2; i++) {
		memset(&r, 0, sizeof r);
		assert_int_equal(cx_read_response(&x, 0, &r, soon()), 0);
		assert_int_equal(r.body, 10u * (unsigned)i);
	}
	assert_int_equal(one("p1").conn, one("p2").conn);
	uint64_t reqs, conns;
	corigin_count(&origin, "p", &reqs, &conns);
	assert_int_equal(reqs, 2);
	assert_int_equal(conns, 1);
	cio_close(&c);
}

static void test_half_closes(void **state)
{
	(void)state;
	struct cio c;
	struct cx x;
	static struct cx_resp r;
	/* afterfin: nothing until the client's FIN. */
	memset(&r, 0, sizeof r);
	open_send(&c, &x, "GET /t/h1/afterfin/100 HTTP/1.1\r\nHost: t\r\n\r\n");
	assert_false(cio_readable(&c, cio_deadline_ms(200)));
	cio_shutdown(&c);
	assert_int_equal(cx_read_response(&x, 0, &r, soon()), 0);
	assert_int_equal(r.body, 100);
	cio_close(&c);
	/* fin: the origin's FIN after the body, then it still reads. */
	get("/t/h2/fin/100", 0, &c, &x, &r);
	assert_int_equal(r.body, 100);
	assert_int_equal(cio_drain(&c, soon(), NULL), CIO_FIN);
	cio_write(&c, "12345", 5, soon());
	cio_shutdown(&c);
	struct corigin_req q = one("h2");
	assert_true(corigin_wait_closed(&origin, q.conn, soon()));
	struct corigin_conn oc;
	assert_true(corigin_conn(&origin, q.conn, &oc));
	assert_int_equal(oc.after_fin, 5);
	assert_true(oc.fin_sent);
	cio_close(&c);
}

static void test_banner_and_endless(void **state)
{
	(void)state;
	struct cio c;
	uint8_t buf[2048];
	assert_int_equal(cio_connect(&c, &origin.banner_addr, soon()), 0);
	long got = 0, n;
	while ((n = cio_read(&c, buf + got, sizeof buf - (size_t)got, soon())) > 0)
		got += n;
	assert_int_equal(got, CORIGIN_BANNER);
	assert_int_equal(payload_verify(payload_seed("/banner", 7), 0, buf, (size_t)got), -1);
	cio_close(&c);
	struct cx x;
	static struct cx_resp r;
	memset(&r, 0, sizeof r);
	open_send(&c, &x, "GET /t/n1/endless HTTP/1.1\r\nHost: t\r\n\r\n");
	assert_int_equal(cx_read_head(&x, 0, &r, soon()), 0);
	cio_sleep_ms(100);
	cio_close(&c); /* unread bytes: the close is a reset, and the origin lets go */
	assert_true(corigin_wait_closed(&origin, one("n1").conn, soon()));
}

static void test_gw_failing(void **state)
{
	(void)state;
	struct cio c;
	struct cx x;
	static struct cx_resp r;
	corigin_set_failing(&origin, true);
	get("/t/g1/gw/10", 0, &c, &x, &r);
	assert_int_equal(r.status, 500);
	cio_close(&c);
	corigin_set_failing(&origin, false);
	get("/t/g2/gw/10", 0, &c, &x, &r);
	assert_int_equal(r.status, 200);
	cio_close(&c);
}

static void test_stop_leaves_nothing_open(void **state)
{
	(void)state;
	struct cio c;
	struct cx x;
	open_send(&c, &x, "GET /t/z1/hold HTTP/1.1\r\nHost: t\r\n\r\n");
	/* Once the request is logged the connection is the origin's, not the backlog's. */
	for (int i = 0; i < 500 && corigin_find(&origin, "z1", NULL, 0) == 0; i++)
		cio_sleep_ms(10);
	corigin_stop(&origin);
	assert_int_equal(cio_drain(&c, soon(), NULL), CIO_FIN);
	cio_close(&c);
	assert_int_equal(open_fds(), fds_before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bytes_verified_and_logged),
		cmocka_unit_test(test_framings),
		cmocka_unit_test(test_reset_after_n),
		cmocka_unit_test(test_echo_is_the_head_as_received),
		cmocka_unit_test(test_uploads_checked),
		cmocka_unit_test(test_expect_continue),
		cmocka_unit_test(test_refusals_keep_the_raw_head),
		cmocka_unit_test(test_pipelined_in_order),
		cmocka_unit_test(test_half_closes),
		cmocka_unit_test(test_banner_and_endless),
		cmocka_unit_test(test_gw_failing),
		cmocka_unit_test(test_stop_leaves_nothing_open),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
