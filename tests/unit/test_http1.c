/* Unit tests for lib/http1: one line per case (input, expected result, why), each fed
 * whole and growing byte by byte (heads) or one byte at a time (bodies), the input
 * placed flush against a PROT_NONE guard page so any over-read crashes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/http1.h"

/* Copies s to the end of a page followed by an inaccessible page. */
static char *guarded(const char *s, size_t len, void **map, size_t *maplen)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t pages = (len + page - 1) / page + 1;
	*maplen = (pages + 1) * page;
	char *m = mmap(NULL, *maplen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(m != MAP_FAILED);
	assert_int_equal(mprotect(m + pages * page, page, PROT_NONE), 0);
	char *p = m + pages * page - len;
	memcpy(p, s, len);
	*map = m;
	return p;
}

struct resp_case {
	const char *in;
	unsigned flags;
	int ret;          /* > 0: head length expected = strlen(head part); or NEED_MORE/ERROR */
	int err;
	int status;
	enum http1_framing framing;
	uint64_t cl;
	bool keep_alive;
	const char *why;
};

#define OK200 "HTTP/1.1 200 OK\r\n"
static const struct resp_case resp_cases[] = {
	{OK200 "Content-Length: 5\r\n\r\n", 0, 1, 0, 200, HTTP1_FRAMING_LENGTH, 5, true, "plain CL"},
	{OK200 "Transfer-Encoding: chunked\r\n\r\n", 0, 1, 0, 200, HTTP1_FRAMING_CHUNKED, 0, true, "chunked"},
	{OK200 "Transfer-Encoding: gzip, chunked\r\n\r\n", 0, 1, 0, 200, HTTP1_FRAMING_CHUNKED, 0, true, "chunked last"},
	{OK200 "Transfer-Encoding: chunked, gzip\r\n\r\n", 0, 1, 0, 200, HTTP1_FRAMING_CLOSE, 0, false, "TE not ending chunked: close"},
	{OK200 "\r\n", 0, 1, 0, 200, HTTP1_FRAMING_CLOSE, 0, false, "no framing: close-delimited"},
	{OK200 "Content-Length: 9\r\n\r\n", HTTP1_REQ_HEAD, 1, 0, 200, HTTP1_FRAMING_NONE, 0, true, "HEAD has no body"},
	{"HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n", 0, 1, 0, 204, HTTP1_FRAMING_NONE, 0, true, "204"},
	{"HTTP/1.1 304 Not Modified\r\n\r\n", 0, 1, 0, 304, HTTP1_FRAMING_NONE, 0, true, "304"},
	{"HTTP/1.1 100 Continue\r\n\r\n", 0, 1, 0, 100, HTTP1_FRAMING_NONE, 0, true, "1xx"},
	{"HTTP/1.1 200 Connection established\r\n\r\n", HTTP1_REQ_CONNECT, 1, 0, 200, HTTP1_FRAMING_NONE, 0, true, "CONNECT 2xx"},
	{"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n", 0, 1, 0, 200, HTTP1_FRAMING_LENGTH, 1, false, "1.0 closes"},
	{"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\n", 0, 1, 0, 200, HTTP1_FRAMING_LENGTH, 1, true, "1.0 keep-alive"},
	{OK200 "Connection: Close\r\nContent-Length: 1\r\n\r\n", 0, 1, 0, 200, HTTP1_FRAMING_LENGTH, 1, false, "close token"},
	{"HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", 0, 1, 0, 200, HTTP1_FRAMING_LENGTH, 0, true, "no reason"},
	{OK200 "Content-Length: 7, 7\r\n\r\n", 0, 1, 0, 200, HTTP1_FRAMING_LENGTH, 7, true, "equal CL list"},
	{OK200 "Content-Length: 7\r\nContent-Length: 7\r\n\r\n", 0, 1, 0, 200, HTTP1_FRAMING_LENGTH, 7, true, "duplicate equal CL"},
	{OK200 "Content-Length: 7\r\nContent-Length: 8\r\n\r\n", 0, HTTP1_ERROR, HTTP1_E_CONTENT_LENGTH, 0, 0, 0, 0, "different CL"},
	{OK200 "Content-Length: -1\r\n\r\n", 0, HTTP1_ERROR, HTTP1_E_CONTENT_LENGTH, 0, 0, 0, 0, "negative CL"},
	{OK200 "Content-Length: 12a\r\n\r\n", 0, HTTP1_ERROR, HTTP1_E_CONTENT_LENGTH, 0, 0, 0, 0, "garbage CL"},
	{OK200 "Content-Length: 99999999999999999999\r\n\r\n", 0, HTTP1_ERROR, HTTP1_E_CONTENT_LENGTH, 0, 0, 0, 0, "CL overflow"},
	{OK200 "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 0, HTTP1_ERROR, HTTP1_E_CL_TE_CONFLICT, 0, 0, 0, 0, "CL and TE"},
	{"HTTP/1.1 200 OK\nContent-Length: 5\r\n\r\n", 0, HTTP1_ERROR, HTTP1_E_BARE_LF, 0, 0, 0, 0, "bare LF"},
	{OK200 "X-A: b\r\n folded\r\n\r\n", 0, HTTP1_ERROR, HTTP1_E_HEADER, 0, 0, 0, 0, "obs-fold"},
	{OK200 "X A: b\r\n\r\n", 0, HTTP1_ERROR, HTTP1_E_HEADER, 0, 0, 0, 0, "space in name"},
	{OK200 "NoColon\r\n\r\n", 0, HTTP1_ERROR, HTTP1_E_HEADER, 0, 0, 0, 0, "no colon"},
	{OK200 "X-A: a\x01b\r\n\r\n", 0, HTTP1_ERROR, HTTP1_E_HEADER, 0, 0, 0, 0, "control char in value"},
	{"HTTQ/1.1 200 OK\r\n\r\n", 0, HTTP1_ERROR, HTTP1_E_START_LINE, 0, 0, 0, 0, "garbage version"},
	{"HTTP/1.2 200 OK\r\n\r\n", 0, HTTP1_ERROR, HTTP1_E_VERSION, 0, 0, 0, 0, "HTTP/1.2"},
	{"HTTP/1.1 2000 OK\r\n\r\n", 0, HTTP1_ERROR, HTTP1_E_STATUS, 0, 0, 0, 0, "four digit status"},
	{"HTTP/1.1 abc OK\r\n\r\n", 0, HTTP1_ERROR, HTTP1_E_STATUS, 0, 0, 0, 0, "letters status"},
	{OK200 "Content-Length: 5\r\n", 0, HTTP1_NEED_MORE, 0, 0, 0, 0, 0, "incomplete head"},
};

static void check_resp(const struct resp_case *c, const char *buf, size_t len)
{
	struct http1_response r;
	int err = 0;
	int ret = http1_parse_response(buf, len, HTTP1_MAX_HEAD, c->flags, &r, &err);
	int want = c->ret == 1 ? (int)len : c->ret;
	if (ret != want || (ret == HTTP1_ERROR && err != c->err))
		fail_msg("%s: got %d (err %d %s), want %d (err %d)", c->why, ret, err, http1_strerror(err), want, c->err);
	if (ret > 0) {
		assert_int_equal(r.status, c->status);
		assert_int_equal(r.framing, c->framing);
		if (c->framing == HTTP1_FRAMING_LENGTH)
			assert_int_equal(r.content_length, c->cl);
		if (r.keep_alive != c->keep_alive)
			fail_msg("%s: keep_alive %d", c->why, r.keep_alive);
	}
}

static void test_response_heads(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof resp_cases / sizeof resp_cases[0]; i++) {
		const struct resp_case *c = &resp_cases[i];
		size_t len = strlen(c->in);
		void *map;
		size_t maplen;
		const char *p = guarded(c->in, len, &map, &maplen);
		check_resp(c, p, len);
		/* Growing byte by byte: NEED_MORE until the end (or an earlier error). */
		for (size_t n = 1; n < len; n++) {
			struct http1_response r;
			int err = 0;
			const char *q = p + len - n;
			memmove((char *)q, c->in, n);
			int ret = http1_parse_response(q, n, HTTP1_MAX_HEAD, c->flags, &r, &err);
			if (ret > 0)
				fail_msg("%s: complete after %zu of %zu bytes", c->why, n, len);
			if (ret == HTTP1_ERROR && c->ret != HTTP1_ERROR)
				fail_msg("%s: error %s after %zu bytes", c->why, http1_strerror(err), n);
		}
		munmap(map, maplen);
	}
}

static void test_head_caps(void **state)
{
	(void)state;
	static char big[HTTP1_MAX_HEAD + 100];
	strcpy(big, OK200);
	size_t n = strlen(big);
	while (n + 12 < sizeof big) {
		memcpy(big + n, "X-Fill: ab\r\n", 12);
		n += 12;
	}
	struct http1_response r;
	int err = 0;
	assert_int_equal(http1_parse_response(big, n, HTTP1_MAX_HEAD, 0, &r, &err), HTTP1_ERROR);
	assert_int_equal(err, HTTP1_E_TOO_LARGE);
	/* Too many fields within the byte cap. */
	char many[8192];
	strcpy(many, OK200);
	n = strlen(many);
	for (int i = 0; i < HTTP1_MAX_HEADERS + 1; i++)
		n += (size_t)sprintf(many + n, "X-%d: v\r\n", i);
	strcpy(many + n, "\r\n");
	assert_int_equal(http1_parse_response(many, n + 2, HTTP1_MAX_HEAD, 0, &r, &err), HTTP1_ERROR);
	assert_int_equal(err, HTTP1_E_TOO_LARGE);
}

static void test_request_heads(void **state)
{
	(void)state;
	struct http1_request req;
	int err = 0;
	const char *a = "GET /x?y=1 HTTP/1.1\r\nHost: h\r\nX-Probe-Id: abc\r\n\r\n";
	assert_int_equal(http1_parse_request(a, strlen(a), HTTP1_MAX_HEAD, &req, &err), (int)strlen(a));
	assert_true(http1_token_eq(req.method, req.method_len, "GET"));
	assert_int_equal(req.target_len, 6);
	assert_int_equal(req.framing, HTTP1_FRAMING_NONE);
	assert_true(req.keep_alive);
	const struct http1_header *h = http1_find_header(req.headers, req.num_headers, "x-probe-id");
	assert_non_null(h);
	assert_int_equal(h->value_len, 3);
	const char *forms[] = {"CONNECT example.test:443 HTTP/1.1\r\n\r\n",
			       "GET http://a.test/p HTTP/1.1\r\n\r\n", "OPTIONS * HTTP/1.1\r\n\r\n"};
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(http1_parse_request(forms[i], strlen(forms[i]), HTTP1_MAX_HEAD, &req, &err),
				 (int)strlen(forms[i]));
	const char *body = "POST /sink HTTP/1.1\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n";
	assert_true(http1_parse_request(body, strlen(body), HTTP1_MAX_HEAD, &req, &err) > 0);
	assert_int_equal(req.framing, HTTP1_FRAMING_LENGTH);
	assert_int_equal(req.content_length, 10);
	assert_true(req.expect_continue);
	const char *bad[] = {"GET  / HTTP/1.1\r\n\r\n", "GET / HTTP/2.0\r\n\r\n", "G(T / HTTP/1.1\r\n\r\n",
			     "GET /\r\n\r\n", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
			     "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (http1_parse_request(bad[i], strlen(bad[i]), HTTP1_MAX_HEAD, &req, &err) != HTTP1_ERROR)
			fail_msg("bad request %zu accepted", i);
}

struct body_case {
	enum http1_framing framing;
	uint64_t cl;
	const char *in;
	int err;            /* 0: completes */
	const char *payload;
	size_t consumed;    /* bytes of in that belong to the message */
	const char *why;
};

static const struct body_case body_cases[] = {
	{HTTP1_FRAMING_LENGTH, 5, "hellotrailing", 0, "hello", 5, "CL stops at its length"},
	{HTTP1_FRAMING_CHUNKED, 0, "5\r\nhello\r\n0\r\n\r\nNEXT", 0, "hello", 15, "one chunk, then pipelined bytes"},
	{HTTP1_FRAMING_CHUNKED, 0, "3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-T: v\r\n\r\n", 0, "abcde", 34, "extension and trailer"},
	{HTTP1_FRAMING_CHUNKED, 0, "A\r\n0123456789\r\n0\r\n\r\n", 0, "0123456789", 20, "hex upper"},
	{HTTP1_FRAMING_CHUNKED, 0, "zz\r\n", HTTP1_E_CHUNK_SIZE, "", 0, "bad chunk size"},
	{HTTP1_FRAMING_CHUNKED, 0, "\r\n", HTTP1_E_CHUNK_SIZE, "", 0, "empty chunk size"},
	{HTTP1_FRAMING_CHUNKED, 0, "10000000000000000\r\n", HTTP1_E_CHUNK_OVERFLOW, "", 0, "2^64 chunk size"},
	{HTTP1_FRAMING_CHUNKED, 0, "ffffffffffffffffffff\r\n", HTTP1_E_CHUNK_OVERFLOW, "", 0, "huge hex"},
	{HTTP1_FRAMING_CHUNKED, 0, "3\r\nabcX\r\n", HTTP1_E_CHUNK_CRLF, "abc", 0, "no CRLF after data"},
	{HTTP1_FRAMING_CHUNKED, 0, "3\nabc\r\n", HTTP1_E_CHUNK_SIZE, "", 0, "bare LF after size"},
	{HTTP1_FRAMING_CHUNKED, 0, "0\r\n bad\r\n\r\n", HTTP1_E_TRAILER, "", 0, "folded trailer"},
};

static void run_body(const struct body_case *c, bool bytewise)
{
	struct http1_body b;
	http1_body_init(&b, c->framing, c->cl);
	size_t len = strlen(c->in), pos = 0;
	char got[256] = "";
	size_t got_len = 0;
	int err = 0;
	while (pos < len && !b.done) {
		size_t feed = bytewise ? 1 : len - pos;
		const uint8_t *span;
		size_t span_len;
		long n = http1_body_feed(&b, (const uint8_t *)c->in + pos, feed, &span, &span_len, &err);
		if (n < 0)
			break;
		if (span_len)
			memcpy(got + got_len, span, span_len);
		got_len += span_len;
		if (n == 0 && span_len == 0)
			break;
		pos += (size_t)n;
	}
	got[got_len] = '\0';
	if (c->err) {
		if (err != c->err)
			fail_msg("%s (%s): err %d, want %d", c->why, bytewise ? "bytewise" : "whole", err, c->err);
	} else {
		if (!b.done || pos != c->consumed || strcmp(got, c->payload) != 0)
			fail_msg("%s (%s): done %d consumed %zu payload '%s'", c->why, bytewise ? "bytewise" : "whole",
				 b.done, pos, got);
		assert_int_equal(b.payload, strlen(c->payload));
	}
}

static void test_bodies(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof body_cases / sizeof body_cases[0]; i++) {
		run_body(&body_cases[i], false);
		run_body(&body_cases[i], true);
	}
}

static void test_eof_rules(void **state)
{
	(void)state;
	struct http1_body b;
	http1_body_init(&b, HTTP1_FRAMING_CLOSE, 0);
	assert_int_equal(http1_body_eof(&b), 0);
	http1_body_init(&b, HTTP1_FRAMING_LENGTH, 10);
	assert_int_equal(http1_body_eof(&b), HTTP1_E_TRUNCATED);
	http1_body_init(&b, HTTP1_FRAMING_CHUNKED, 0);
	assert_int_equal(http1_body_eof(&b), HTTP1_E_TRUNCATED);
	http1_body_init(&b, HTTP1_FRAMING_LENGTH, 0);
	assert_true(b.done);
	for (int e = HTTP1_E_NONE; e <= HTTP1_E_TRUNCATED; e++)
		assert_string_not_equal(http1_strerror(e), "unknown HTTP/1 error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_response_heads),
		cmocka_unit_test(test_head_caps),
		cmocka_unit_test(test_request_heads),
		cmocka_unit_test(test_bodies),
		cmocka_unit_test(test_eof_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
