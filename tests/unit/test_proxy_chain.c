/* Unit tests for proxy-under-test/chain: the handshake with an upstream proxy, sans I/O
 * (used by upstream.c for TCP sessions and by qrelay.c for QUIC tunnels). The messages
 * it writes, each reply fed whole and byte by byte, and every refusal's errno. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "lib/url.h"
#include "proxy-under-test/chain.h"

static struct url up_url(const char *s)
{
	struct url u;
	const char *why;
	assert_int_equal(url_parse_proxy(s, &u, &why), 0);
	return u;
}

/* Feeds reply one byte more at a time: NEED_MORE until the whole reply, then the same
 * answer as fed at once. Returns it, with *used. */
static int feed(struct chain *c, const char *reply, size_t len, size_t *used, char *out,
		size_t *outlen)
{
	struct chain saved = *c;
	for (size_t k = 1; k < len; k++) {
		struct chain t = saved;
		int r = chain_feed(&t, (const uint8_t *)reply, k, used, out, CHAIN_MSG_MAX, outlen);
		if (r != CHAIN_NEED_MORE)
			return r; /* a refusal may show before the whole reply (a bad version byte) */
	}
	return chain_feed(c, (const uint8_t *)reply, len, used, out, CHAIN_MSG_MAX, outlen);
}

static void test_http(void **state)
{
	(void)state;
	struct url u = up_url("http://bob:secret@127.0.0.1:3128");
	struct chain c;
	char out[CHAIN_MSG_MAX];
	int n = chain_start(&c, &u, "example.test", 443, "example.test:443", "abc-1-2", out, sizeof out);
	assert_true(n > 0);
	out[n] = '\0';
	assert_string_equal(out, "CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n"
				 "Proxy-Authorization: Basic Ym9iOnNlY3JldA==\r\nX-Probe-Id: abc-1-2\r\n"
				 "Via: 1.1 tunnelprobe\r\n\r\n");
	/* Too small a buffer is refused. */
	assert_int_equal(chain_start(&c, &u, "example.test", 443, "example.test:443", "", out, 40),
			 -ENOSPC);
	size_t used, outlen;
	static const char ok[] = "HTTP/1.1 200 Connection established\r\n\r\nEARLY";
	assert_int_equal(chain_start(&c, &u, "h", 1, "h:1", "", out, sizeof out) > 0, 1);
	assert_int_equal(feed(&c, ok, sizeof ok - 1, &used, out, &outlen), CHAIN_OPEN);
	assert_int_equal(used, sizeof ok - 1 - 5); /* the early bytes belong to the tunnel */
	static const struct {
		const char *reply;
		int err;
	} no[] = {
		{"HTTP/1.1 403 Forbidden\r\n\r\n", -EACCES},
		{"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n", -ECONNREFUSED},
		{"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n", -ECONNREFUSED},
		{"SSH-2.0-OpenSSH\r\n\r\n", -EPROTO},
	};
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
		chain_start(&c, &u, "h", 1, "h:1", "", out, sizeof out);
		assert_int_equal(chain_feed(&c, (const uint8_t *)no[i].reply, strlen(no[i].reply), &used,
					    out, sizeof out, &outlen),
				 no[i].err);
	}
}

static void test_socks5(void **state)
{
	(void)state;
	struct url u = up_url("socks5://bob:secret@127.0.0.1:1080");
	struct chain c;
	char out[CHAIN_MSG_MAX];
	size_t used, outlen;
	int n = chain_start(&c, &u, "example.test", 80, "example.test:80", "", out, sizeof out);
	assert_int_equal(n, 4);
	assert_memory_equal(out, "\x05\x02\x00\x02", 4); /* no auth, user/password */
	/* user/password chosen: the RFC 1929 request */
	assert_int_equal(feed(&c, "\x05\x02", 2, &used, out, &outlen), CHAIN_SEND);
	assert_int_equal(used, 2);
	assert_int_equal(outlen, 3 + 3 + 6);
	assert_memory_equal(out, "\x01\x03" "bob" "\x06" "secret", outlen);
	/* accepted: the CONNECT request, by name */
	assert_int_equal(feed(&c, "\x01\x00", 2, &used, out, &outlen), CHAIN_SEND);
	assert_int_equal(outlen, 4 + 1 + 12 + 2);
	assert_memory_equal(out, "\x05\x01\x00\x03\x0c" "example.test" "\x00\x50", outlen);
	/* succeeded, bound 10.0.0.1:4242; two early bytes */
	static const char rep[] = "\x05\x00\x00\x01\x0a\x00\x00\x01\x10\x92" "ab";
	assert_int_equal(feed(&c, rep, sizeof rep - 1, &used, out, &outlen), CHAIN_OPEN);
	assert_int_equal(used, 10);

	/* Refusals: no acceptable method; user/password chosen though none was offered;
	 * credentials refused; connection refused; other replies; not SOCKS5. */
	struct url anon = up_url("socks5://127.0.0.1:1080");
	chain_start(&c, &u, "h", 1, "h:1", "", out, sizeof out);
	assert_int_equal(chain_feed(&c, (const uint8_t *)"\x05\xff", 2, &used, out, sizeof out, &outlen),
			 -EACCES);
	chain_start(&c, &anon, "h", 1, "h:1", "", out, sizeof out);
	assert_int_equal(chain_feed(&c, (const uint8_t *)"\x05\x02", 2, &used, out, sizeof out, &outlen),
			 -EACCES);
	chain_start(&c, &u, "h", 1, "h:1", "", out, sizeof out);
	chain_feed(&c, (const uint8_t *)"\x05\x02", 2, &used, out, sizeof out, &outlen);
	assert_int_equal(chain_feed(&c, (const uint8_t *)"\x01\x01", 2, &used, out, sizeof out, &outlen),
			 -EACCES);
	static const struct {
		uint8_t rep;
		int err;
	} reps[] = {{5, -ECONNREFUSED}, {4, -EHOSTUNREACH}, {1, -EHOSTUNREACH}};
	for (size_t i = 0; i < sizeof reps / sizeof reps[0]; i++) {
		chain_start(&c, &anon, "h", 1, "h:1", "", out, sizeof out);
		assert_int_equal(chain_feed(&c, (const uint8_t *)"\x05\x00", 2, &used, out, sizeof out, &outlen),
				 CHAIN_SEND);
		uint8_t r[10] = {5, reps[i].rep, 0, 1, 0, 0, 0, 0, 0, 0};
		assert_int_equal(chain_feed(&c, r, sizeof r, &used, out, sizeof out, &outlen), reps[i].err);
	}
	chain_start(&c, &anon, "h", 1, "h:1", "", out, sizeof out);
	assert_int_equal(chain_feed(&c, (const uint8_t *)"HTTP/1.1 200", 12, &used, out, sizeof out, &outlen),
			 -EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http),
		cmocka_unit_test(test_socks5),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
