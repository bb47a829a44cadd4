/* httpscan: HTTP framing followed across a direction (Content-Length, chunked, 1xx,
 * HEAD, CONNECT → tunnel), SOCKS5 exchanges (with and without username/password),
 * snaplen-cut bodies skipped by count, and early-FIN detection. Fed whole and byte by
 * byte. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <string.h>

#include "capture/httpscan.h"

struct pair {
	struct httpscan c, s; /* client→server, server→client */
	uint64_t coff, soff;
};

static void pair_init(struct pair *p)
{
	httpscan_init(&p->c);
	httpscan_init(&p->s);
	p->c.from_client = true;
	p->coff = p->soff = 0;
}

static void pair_free(struct pair *p)
{
	httpscan_free(&p->c);
	httpscan_free(&p->s);
}

/* Feeds len bytes to one side, whole or bytewise; returns the bytes that were protocol
 * (not tunnel payload). */
static size_t feed(struct pair *p, bool client, const void *data, size_t len, bool bytewise)
{
	struct httpscan *h = client ? &p->c : &p->s, *peer = client ? &p->s : &p->c;
	uint64_t *off = client ? &p->coff : &p->soff;
	const uint8_t *b = data;
	size_t used = 0;
	if (!bytewise) {
		used = httpscan_feed(h, peer, *off, b, len);
	} else {
		for (size_t i = 0; i < len; i++)
			used += httpscan_feed(h, peer, *off + i, b + i, 1);
	}
	*off += len;
	return used;
}

static void test_content_length_and_keepalive(void **state)
{
	(void)state;
	for (int bw = 0; bw < 2; bw++) {
		struct pair p;
		pair_init(&p);
		const char *req = "GET /a HTTP/1.1\r\nHost: x\r\nX-Probe-Id: r-1-2\r\n\r\n"
				  "HEAD /b HTTP/1.1\r\nHost: x\r\n\r\n";
		feed(&p, true, req, strlen(req), bw);
		assert_int_equal(p.c.mode, HS_REQUESTS);
		assert_int_equal(p.c.messages, 2);
		assert_string_equal(p.c.probe_id, "r-1-2");
		const char *resp = "HTTP/1.1 100 Continue\r\n\r\n"
				   "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"
				   "HTTP/1.1 200 OK\r\nContent-Length: 999\r\n\r\n"; /* HEAD: no body */
		feed(&p, false, resp, strlen(resp), bw);
		assert_int_equal(p.s.mode, HS_RESPONSES);
		assert_int_equal(p.s.complete, 3);
		assert_int_equal(p.s.body_bytes, 5);
		assert_false(httpscan_incomplete(&p.s));
		pair_free(&p);
	}
}

static void test_chunked_and_early_end(void **state)
{
	(void)state;
	for (int bw = 0; bw < 2; bw++) {
		struct pair p;
		pair_init(&p);
		feed(&p, true, "GET / HTTP/1.1\r\n\r\n", 18, bw);
		const char *resp = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Tp-Length: 8\r\n\r\n"
				   "3\r\nabc\r\n";
		feed(&p, false, resp, strlen(resp), bw);
		assert_true(httpscan_incomplete(&p.s)); /* a FIN now would be early */
		assert_int_equal(p.s.announced, 8);
		feed(&p, false, "5\r\ndefgh\r\n0\r\n\r\n", 15, bw);
		assert_false(httpscan_incomplete(&p.s));
		assert_int_equal(p.s.body_bytes, 8);
		pair_free(&p);
	}
}

static void test_cut_body_is_skipped_by_count(void **state)
{
	(void)state;
	struct pair p;
	pair_init(&p);
	feed(&p, true, "GET / HTTP/1.1\r\n\r\n", 18, false);
	const char *head = "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
	feed(&p, false, head, strlen(head), false);
	httpscan_feed(&p.s, &p.c, p.soff, NULL, 600); /* snaplen cut */
	httpscan_gap(&p.s, 300);                      /* never captured */
	assert_int_equal(p.s.mode, HS_RESPONSES);
	assert_true(httpscan_incomplete(&p.s));
	assert_int_equal(p.s.msg_end, strlen(head) + 1000);
	httpscan_feed(&p.s, &p.c, p.soff + 900, (const uint8_t *)"0123456789", 10);
	httpscan_feed(&p.s, &p.c, p.soff + 910, NULL, 90);
	assert_false(httpscan_incomplete(&p.s));
	/* A head inside cut bytes cannot be followed: lost, and no claim made. */
	httpscan_feed(&p.s, &p.c, p.soff + 1000, NULL, 50);
	assert_int_equal(p.s.mode, HS_LOST);
	assert_false(httpscan_incomplete(&p.s));
	pair_free(&p);
}

static void test_connect_switches_to_tunnel(void **state)
{
	(void)state;
	for (int bw = 0; bw < 2; bw++) {
		struct pair p;
		pair_init(&p);
		const char *req = "CONNECT o.test:443 HTTP/1.1\r\nHost: o.test:443\r\n\r\n\x16\x03\x01";
		size_t used = feed(&p, true, req, strlen(req), bw);
		assert_int_equal(p.c.mode, HS_TUNNEL);
		assert_int_equal(p.c.tunnel_off, strlen(req) - 3);
		assert_int_equal(used, strlen(req) - 3);
		const char *resp = "HTTP/1.1 200 Connection established\r\n\r\n\x16\x03\x03";
		used = feed(&p, false, resp, strlen(resp), bw);
		assert_int_equal(p.s.mode, HS_TUNNEL);
		assert_int_equal(p.s.tunnel_off, strlen(resp) - 3);
		assert_int_equal(used, strlen(resp) - 3);
		pair_free(&p);
	}
}

static void test_socks5(void **state)
{
	(void)state;
	for (int bw = 0; bw < 2; bw++) {
		for (int auth = 0; auth < 2; auth++) {
			struct pair p;
			pair_init(&p);
			static const uint8_t greet[] = {5, 1, 0}, greet_auth[] = {5, 1, 2};
			static const uint8_t up[] = {1, 1, 'u', 2, 'p', 'w'};
			static const uint8_t req[] = {5, 1, 0, 3, 6, 'o', '.', 't', 'e', 's', 't', 1, 187, 0x16};
			static const uint8_t choice[] = {5, 0}, choice_auth[] = {5, 2}, auth_ok[] = {1, 0};
			static const uint8_t reply[] = {5, 0, 0, 1, 127, 0, 0, 1, 0x1f, 0x90, 0x16};
			size_t pre = 0;
			pre += feed(&p, true, auth ? greet_auth : greet, 3, bw);
			pre += feed(&p, false, auth ? choice_auth : choice, 2, bw);
			if (auth) {
				pre += feed(&p, true, up, sizeof up, bw);
				pre += feed(&p, false, auth_ok, sizeof auth_ok, bw);
			}
			size_t used = feed(&p, true, req, sizeof req, bw);
			assert_int_equal(p.c.mode, HS_TUNNEL);
			assert_int_equal(used, sizeof req - 1);
			assert_int_equal(p.c.tunnel_off, p.coff - 1);
			used = feed(&p, false, reply, sizeof reply, bw);
			assert_int_equal(p.s.mode, HS_TUNNEL);
			assert_int_equal(p.s.socks_reply, 0);
			assert_int_equal(used, sizeof reply - 1);
			assert_int_equal(p.s.tunnel_off, p.soff - 1);
			(void)pre;
			pair_free(&p);
		}
	}
}

static void test_not_http(void **state)
{
	(void)state;
	struct pair p;
	pair_init(&p);
	assert_int_equal(feed(&p, true, "\x16\x03\x01\x00\x05hello", 10, false), 0);
	assert_int_equal(p.c.mode, HS_OTHER);
	/* Garbage that looks like a request line: lost, never a crash. */
	feed(&p, false, "HTTP/9.9 abc\r\n\r\n", 17, false);
	assert_int_equal(p.s.mode, HS_LOST);
	assert_true(p.s.error != 0);
	pair_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_content_length_and_keepalive),
		cmocka_unit_test(test_chunked_and_early_end),
		cmocka_unit_test(test_cut_body_is_skipped_by_count),
		cmocka_unit_test(test_connect_switches_to_tunnel),
		cmocka_unit_test(test_socks5),
		cmocka_unit_test(test_not_http),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
