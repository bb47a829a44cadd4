/* Unit tests for the reference proxy's forward rewrites: one line per case (input head,
 * expected output head), every shorter output buffer refused, hop-by-hop rules. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/http1.h"
#include "lib/url.h"
#include "proxy-under-test/rewrite.h"
#include "proxy-under-test/auth.h"

#define VIA "Via: 1.1 tunnelprobe\r\n"

static void rewrite_req(const char *in, bool absolute, const char *auth, const char *want)
{
	struct http1_request req;
	int err = 0;
	int r = http1_parse_request(in, strlen(in), HTTP1_MAX_HEAD, &req, &err);
	if (r <= 0)
		fail_msg("input does not parse (%d, %s): %s", r, http1_strerror(err), in);
	char target[512];
	snprintf(target, sizeof target, "%.*s", (int)req.target_len, req.target);
	struct url u;
	const char *why;
	assert_int_equal(url_parse(target, &u, &why), 0);
	char out[2048];
	long n = rewrite_request(&req, &u, absolute, auth, out, sizeof out);
	assert_true(n > 0);
	out[n] = '\0';
	assert_string_equal(out, want);
	/* Every buffer too small for the head is refused, never overrun. */
	for (size_t cap = 0; cap < (size_t)n; cap++)
		assert_int_equal(rewrite_request(&req, &u, absolute, auth, out, cap), -1);
	/* What we send parses again. */
	struct http1_request again;
	assert_int_equal(http1_parse_request(want, strlen(want), HTTP1_MAX_HEAD, &again, &err),
			 (int)strlen(want));
}

static void test_request_rewrite(void **state)
{
	(void)state;
	/* Origin form, Host from the URI, hop-by-hop fields (named by Connection too) gone. */
	rewrite_req("GET http://h.example:8080/p?q=1 HTTP/1.1\r\nHost: other\r\nConnection: close, X-A\r\n"
		    "X-A: 1\r\nProxy-Connection: keep-alive\r\nTE: trailers\r\nX-B: 2\r\n\r\n",
		    false, NULL, "GET /p?q=1 HTTP/1.1\r\nHost: h.example:8080\r\nX-B: 2\r\n" VIA "\r\n");
	/* The default port is left out of Host; an empty path becomes "/". */
	rewrite_req("HEAD http://h.example:80 HTTP/1.0\r\n\r\n", false, NULL,
		    "HEAD / HTTP/1.1\r\nHost: h.example\r\n" VIA "\r\n");
	/* IPv6 literals keep their brackets. */
	rewrite_req("GET http://[::1]:81/x HTTP/1.1\r\nHost: [::1]:81\r\n\r\n", false, NULL,
		    "GET /x HTTP/1.1\r\nHost: [::1]:81\r\n" VIA "\r\n");
	/* To an upstream HTTP proxy: absolute form, its credentials, ours never passed on. */
	rewrite_req("GET http://h/ HTTP/1.1\r\nHost: h\r\nProxy-Authorization: Basic bWU6bWU=\r\n\r\n",
		    true, "Basic dTpw",
		    "GET http://h/ HTTP/1.1\r\nHost: h\r\nProxy-Authorization: Basic dTpw\r\n" VIA "\r\n");
	/* Framing fields stay: the body passes through as it came. */
	rewrite_req("POST http://h/u HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", false, NULL,
		    "POST /u HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n" VIA "\r\n");
	/* One Content-Length goes on, with one value, where the first one was. */
	rewrite_req("POST http://h/u HTTP/1.1\r\nContent-Length: 5, 5\r\nX-A: 1\r\ncontent-length:5\r\n\r\n",
		    false, NULL, "POST /u HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nX-A: 1\r\n" VIA "\r\n");
	rewrite_req("PUT http://h/u HTTP/1.1\r\nContent-Length: 0 , 0\r\n\r\n", false, NULL,
		    "PUT /u HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n" VIA "\r\n");
}

static void rewrite_resp(const char *in, bool close, const char *want)
{
	struct http1_response resp;
	int err = 0;
	int r = http1_parse_response(in, strlen(in), HTTP1_MAX_HEAD, 0, &resp, &err);
	if (r <= 0)
		fail_msg("input does not parse (%d, %s): %s", r, http1_strerror(err), in);
	char out[2048];
	long n = rewrite_response(&resp, close, out, sizeof out);
	assert_true(n > 0);
	out[n] = '\0';
	assert_string_equal(out, want);
	for (size_t cap = 0; cap < (size_t)n; cap++)
		assert_int_equal(rewrite_response(&resp, close, out, cap), -1);
}

static void test_response_rewrite(void **state)
{
	(void)state;
	rewrite_resp("HTTP/1.0 200 OK\r\nKeep-Alive: timeout=5\r\nConnection: keep-alive\r\n"
		     "Content-Length: 3\r\n\r\n",
		     false, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n" VIA "\r\n");
	rewrite_resp("HTTP/1.1 404 Not Found\r\nConnection: X-Secret\r\nX-Secret: 1\r\nX-Tp-Length: 0\r\n"
		     "Content-Length: 0\r\n\r\n",
		     true, "HTTP/1.1 404 Not Found\r\nX-Tp-Length: 0\r\nContent-Length: 0\r\n" VIA
			   "Connection: close\r\n\r\n");
	/* 101 answers an upgrade: its Upgrade and Connection are the answer itself. */
	rewrite_resp("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
		     false, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
			    VIA "\r\n");
	/* An empty reason phrase stays empty. */
	rewrite_resp("HTTP/1.1 204 \r\n\r\n", false, "HTTP/1.1 204 \r\n" VIA "\r\n");
	/* "Content-Length: 5, 5" and its repetition: one field, one value. */
	rewrite_resp("HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\nContent-Length: 5\r\n\r\n", false,
		     "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n" VIA "\r\n");
	/* A 304's Content-Length describes the resource, not a body: kept, once. */
	rewrite_resp("HTTP/1.1 304 Not Modified\r\nContent-Length: 70,70\r\n\r\n", false,
		     "HTTP/1.1 304 Not Modified\r\nContent-Length: 70\r\n" VIA "\r\n");
}

static void test_hop_by_hop(void **state)
{
	(void)state;
	const struct http1_header h[] = {
		{"Connection", 10, "a, b", 4},
		{"connection", 10, "c", 1},
		{"A", 1, "1", 1},
		{"C", 1, "1", 1},
		{"D", 1, "1", 1},
		{"Keep-Alive", 10, "1", 1},
		{"Transfer-Encoding", 17, "chunked", 7},
		{"Content-Length", 14, "3", 1},
		{"connection", 10, "Content-Length, Transfer-Encoding", 33},
	};
	/* Framing fields stay even when Connection names them. */
	const bool want[] = {true, true, true, true, false, true, false, false, true};
	for (size_t i = 0; i < sizeof h / sizeof h[0]; i++)
		assert_int_equal(rewrite_hop_by_hop(&h[i], h, sizeof h / sizeof h[0]), want[i]);
}

static void test_basic_auth(void **state)
{
	(void)state;
	char out[128];
	/* RFC 7617's example. */
	assert_int_equal(auth_basic("Aladdin", "open sesame", out, sizeof out), 34);
	assert_string_equal(out, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
	assert_int_equal(auth_basic("u", "p", out, sizeof out), 10);
	assert_string_equal(out, "Basic dTpw");
	assert_int_equal(auth_basic("u", "p", out, 10), -ENOSPC);
}

/* The client's credentials are decoded (lib/base64, strict) and compared; padding only at
 * the end, one line per case. */
static void test_basic_auth_check(void **state)
{
	(void)state;
	const struct {
		const char *value, *user, *pass;
		bool ok;
	} cases[] = {
		{"Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", "Aladdin", "open sesame", true},
		{"basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", "Aladdin", "open sesame", true}, /* scheme: any case */
		{"Basic dTpw", "u", "p", true},                       /* no padding needed */
		{"Basic dTpwcQ==", "u", "pq", true},                  /* two pad characters */
		{"Basic dTpwcXI=", "u", "pqr", true},                 /* one */
		{"Basic dTpwcQ==", "u", "p", false},                  /* padding is not content */
		{"Basic dTpw", "u", "P", false},                      /* credentials: exact case */
		{"Basic dTpwcQ=", "u", "pq", false},                  /* not whole groups of four */
		{"Basic dTp=cXI=", "u", "@qr", false},                /* '=' inside */
		{"Basic dTpwcQ=x", "u", "pq", false},
		{"Basic ====", "", "", false},
		{"Basic d!pw", "u", "p", false},                      /* not base64 */
		{"Basic ", "", "", false},
		{"Bearer dTpw", "u", "p", false},
		{"Basic dTo=", "u", "", true},                        /* "u:" */
		{"Basic dQ==", "u", "", false},                       /* no colon */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (auth_basic_ok(cases[i].value, strlen(cases[i].value), cases[i].user,
					  cases[i].pass) != cases[i].ok)
			fail_msg("'%s' for %s:%s: want %d", cases[i].value, cases[i].user, cases[i].pass,
				 cases[i].ok);
	/* What auth_basic writes, auth_basic_ok accepts. */
	char out[700];
	const char *users[] = {"a", "ab", "abc", "user name", "x"};
	for (size_t i = 0; i < sizeof users / sizeof users[0]; i++) {
		int n = auth_basic(users[i], "secret:with:colons", out, sizeof out);
		assert_true(n > 6);
		assert_true(auth_basic_ok(out, (size_t)n, users[i], "secret:with:colons"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_rewrite),
		cmocka_unit_test(test_response_rewrite),
		cmocka_unit_test(test_hop_by_hop),
		cmocka_unit_test(test_basic_auth),
		cmocka_unit_test(test_basic_auth_check),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
