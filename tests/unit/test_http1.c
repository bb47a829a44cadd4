/* Unit tests for lib/http1, in the picohttpparser manner: one line per case (input,
 * expected result, why). Every head is parsed whole and at every shorter length, and
 * every body is fed whole and in 1, 2, 3, 5 and 7 byte pieces; all must agree. Each
 * input sits flush against a PROT_NONE page, so reading one byte too far crashes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/http1.h"

/* ---- guard page ---- */

#define GUARD_CAP (64 * 1024)

/* GUARD_CAP writable bytes followed by one inaccessible page. */
struct guard {
	char *map;
	size_t map_len, cap;
};

static void guard_init(struct guard *g)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	g->cap = (GUARD_CAP + page - 1) / page * page;
	g->map_len = g->cap + page;
	g->map = mmap(NULL, g->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(g->map != MAP_FAILED);
	assert_int_equal(mprotect(g->map + g->cap, page, PROT_NONE), 0);
}

/* Copies len bytes so that the last one is the last readable byte. */
static char *guard_place(struct guard *g, const void *s, size_t len)
{
	assert_true(len <= g->cap);
	char *p = g->map + g->cap - len;
	if (len)
		memmove(p, s, len);
	return p;
}

static void guard_free(struct guard *g)
{
	munmap(g->map, g->map_len);
}

/* The guard is real: a read of the byte after a placed input kills the reader. */
static void test_guard_page_traps(void **state)
{
	(void)state;
	struct guard g;
	guard_init(&g);
	volatile char *p = guard_place(&g, "HTTP/1.1", 8);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* Not cmocka's handler: it would resume the test run in this child. Under a
		 * sanitizer its own handler reports the SEGV and exits 1; keep that quiet. */
		signal(SIGSEGV, SIG_DFL);
		signal(SIGBUS, SIG_DFL);
		if (!freopen("/dev/null", "w", stderr))
			_exit(3);
		char c = p[8];
		_exit(c == 42 ? 4 : 0);
	}
	int status = 0;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	bool died = WIFSIGNALED(status) ? (WTERMSIG(status) == SIGSEGV || WTERMSIG(status) == SIGBUS)
					: (WIFEXITED(status) && WEXITSTATUS(status) == 1);
	if (!died)
		fail_msg("reading past the guard did not fault (status %d)", status);
	guard_free(&g);
}

/* ---- response heads ---- */

#define HEAD_OK 1 /* want: the head parses; its length is up to the first CRLFCRLF */

struct resp_case {
	const char *in;
	size_t len;
	unsigned flags;
	int want;        /* HEAD_OK, HTTP1_NEED_MORE or HTTP1_ERROR */
	int err;
	int status;
	enum http1_framing framing;
	uint64_t cl;
	bool keep_alive, gzip;
	const char *why;
};

#define ROK(in, fl, st, fr, cl, ka, gz, why) {in, sizeof(in) - 1, fl, HEAD_OK, 0, st, HTTP1_FRAMING_##fr, cl, ka, gz, why}
#define RERR(in, fl, e, why) {in, sizeof(in) - 1, fl, HTTP1_ERROR, HTTP1_E_##e, 0, 0, 0, 0, 0, why}
#define RMORE(in, why) {in, sizeof(in) - 1, 0, HTTP1_NEED_MORE, 0, 0, 0, 0, 0, 0, why}
#define S200 "HTTP/1.1 200 OK\r\n"
#define HEAD HTTP1_REQ_HEAD
#define CONN HTTP1_REQ_CONNECT
#define U64MAX_63 9223372036854775807ull

static const struct resp_case resp_cases[] = {
	/* framing */
	ROK(S200 "Content-Length: 5\r\n\r\nhello", 0, 200, LENGTH, 5, true, false, "simple 200 with Content-Length, body after the head"),
	ROK(S200 "Content-Length: 0\r\n\r\n", 0, 200, LENGTH, 0, true, false, "empty body by length"),
	ROK(S200 "Transfer-Encoding: chunked\r\n\r\n5\r\n", 0, 200, CHUNKED, 0, true, false, "chunked"),
	ROK(S200 "transfer-encoding: CHUNKED\r\n\r\n", 0, 200, CHUNKED, 0, true, false, "names and codings are case-insensitive"),
	ROK(S200 "Transfer-Encoding: gzip, chunked\r\n\r\n", 0, 200, CHUNKED, 0, true, false, "chunked last after another coding"),
	ROK(S200 "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", 0, 200, CHUNKED, 0, true, false, "TE fields form one list"),
	ROK(S200 "Transfer-Encoding: chunked, gzip\r\n\r\n", 0, 200, CLOSE, 0, false, false, "chunked not last: response runs to close"),
	ROK(S200 "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n", 0, 200, CLOSE, 0, false, false, "last TE field decides"),
	ROK(S200 "Transfer-Encoding: gzip\r\n\r\n", 0, 200, CLOSE, 0, false, false, "TE without chunked: close"),
	RERR(S200 "Transfer-Encoding: chunked, chunked\r\n\r\n", 0, TRANSFER_ENCODING, "chunked applied twice"),
	ROK(S200 "\r\n", 0, 200, CLOSE, 0, false, false, "no CL, no TE: close-delimited"),
	ROK(S200 "Connection: keep-alive\r\n\r\n", 0, 200, CLOSE, 0, false, false, "close framing forces keep_alive off"),
	ROK(S200 "Content-Length: 9\r\n\r\n", HEAD, 200, NONE, 0, true, false, "HEAD: no body whatever CL says"),
	ROK(S200 "Transfer-Encoding: chunked\r\n\r\n", HEAD, 200, NONE, 0, true, false, "HEAD: no body whatever TE says"),
	ROK("HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n", 0, 204, NONE, 0, true, false, "204 has no body"),
	ROK("HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n", 0, 304, NONE, 0, true, false, "304 has no body"),
	ROK("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n", 0, 100, NONE, 0, true, false, "1xx is returned alone"),
	ROK("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", 0, 101, NONE, 0, true, false, "101"),
	ROK("HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n", 0, 103, NONE, 0, true, false, "103"),
	ROK("HTTP/1.1 200 Connection established\r\n\r\n", CONN, 200, NONE, 0, true, false, "CONNECT 2xx: tunnel, no body"),
	ROK("HTTP/1.1 299 Whatever\r\n\r\n", CONN, 299, NONE, 0, true, false, "any CONNECT 2xx"),
	ROK("HTTP/1.1 407 Auth\r\nContent-Length: 4\r\n\r\n", CONN, 407, LENGTH, 4, true, false, "CONNECT failure has a body"),
	ROK("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n", 0, 200, LENGTH, 1, false, false, "HTTP/1.0 closes by default"),
	ROK("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 1\r\n\r\n", 0, 200, LENGTH, 1, true, false, "HTTP/1.0 keep-alive"),
	ROK("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\n\r\n", 0, 200, CLOSE, 0, false, false, "HTTP/1.0 keep-alive but close-delimited"),
	ROK("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n", 0, 200, CHUNKED, 0, false, false, "TE in 1.0: close after"),
	ROK(S200 "Connection: Close\r\nContent-Length: 1\r\n\r\n", 0, 200, LENGTH, 1, false, false, "close token, any case"),
	ROK(S200 "Connection: Upgrade, close\r\nContent-Length: 1\r\n\r\n", 0, 200, LENGTH, 1, false, false, "close within a list"),
	ROK(S200 "Connection: closed\r\nContent-Length: 1\r\n\r\n", 0, 200, LENGTH, 1, true, false, "'closed' is not 'close'"),
	ROK(S200 "Content-Encoding: gzip\r\nContent-Length: 3\r\n\r\n", 0, 200, LENGTH, 3, true, true, "gzip"),
	ROK(S200 "Content-Encoding: identity, GZIP\r\nContent-Length: 3\r\n\r\n", 0, 200, LENGTH, 3, true, true, "gzip in a list"),
	ROK(S200 "Content-Encoding: br\r\nContent-Length: 3\r\n\r\n", 0, 200, LENGTH, 3, true, false, "not gzip"),
	/* Content-Length */
	ROK(S200 "Content-Length: 7, 7\r\n\r\n", 0, 200, LENGTH, 7, true, false, "equal CL list"),
	ROK(S200 "Content-Length: 7\r\nContent-Length: 7\r\n\r\n", 0, 200, LENGTH, 7, true, false, "duplicate equal CL"),
	ROK(S200 "Content-Length: 007\r\n\r\n", 0, 200, LENGTH, 7, true, false, "leading zeros"),
	ROK(S200 "Content-Length: 9223372036854775807\r\n\r\n", 0, 200, LENGTH, U64MAX_63, true, false, "2^63-1 fits"),
	RERR(S200 "Content-Length: 9223372036854775808\r\n\r\n", 0, CONTENT_LENGTH, "2^63 does not"),
	RERR(S200 "Content-Length: 99999999999999999999\r\n\r\n", 0, CONTENT_LENGTH, "CL overflow"),
	RERR(S200 "Content-Length: 7\r\nContent-Length: 8\r\n\r\n", 0, CONTENT_LENGTH, "different CL fields"),
	RERR(S200 "Content-Length: 7, 8\r\n\r\n", 0, CONTENT_LENGTH, "different CL list members"),
	RERR(S200 "Content-Length: -1\r\n\r\n", 0, CONTENT_LENGTH, "negative CL"),
	RERR(S200 "Content-Length: +5\r\n\r\n", 0, CONTENT_LENGTH, "signed CL"),
	RERR(S200 "Content-Length: 12a\r\n\r\n", 0, CONTENT_LENGTH, "garbage CL"),
	RERR(S200 "Content-Length: 0x10\r\n\r\n", 0, CONTENT_LENGTH, "hex CL"),
	RERR(S200 "Content-Length: 1 2\r\n\r\n", 0, CONTENT_LENGTH, "space inside CL"),
	RERR(S200 "Content-Length:\r\n\r\n", 0, CONTENT_LENGTH, "empty CL"),
	RERR(S200 "Content-Length: 5,\r\n\r\n", 0, CONTENT_LENGTH, "empty CL list member"),
	RERR(S200 "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 0, CL_TE_CONFLICT, "CL and TE"),
	RERR(S200 "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", 0, CL_TE_CONFLICT, "TE and CL"),
	RERR("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n", 0, CL_TE_CONFLICT, "conflict even without a body"),
	/* line syntax */
	ROK("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n", 0, 200, LENGTH, 0, true, false, "no SP, no reason"),
	ROK("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n", 0, 200, LENGTH, 0, true, false, "empty reason"),
	ROK("HTTP/1.1 404 Not  Found\tHere \xc3\xa9\r\nContent-Length: 0\r\n\r\n", 0, 404, LENGTH, 0, true, false, "reason with SP, HTAB, obs-text"),
	ROK(S200 "X-Empty:\r\nX-Sp:   \r\nContent-Length: 0\r\n\r\n", 0, 200, LENGTH, 0, true, false, "empty values"),
	ROK(S200 "X-Bin: \x80\xff\r\nContent-Length: 0\r\n\r\n", 0, 200, LENGTH, 0, true, false, "obs-text value"),
	RERR("HTTP/1.1 200 OK\nContent-Length: 5\r\n\r\n", 0, BARE_LF, "bare LF after status line"),
	RERR(S200 "Content-Length: 5\n\r\n", 0, BARE_LF, "bare LF after a field"),
	RERR(S200 "Content-Length: 5\r\n\n", 0, BARE_LF, "bare LF ending the head"),
	RERR("\nHTTP/1.1 200 OK\r\n\r\n", 0, START_LINE, "leading LF"),
	RERR("\r\nHTTP/1.1 200 OK\r\n\r\n", 0, START_LINE, "leading CRLF"),
	RERR("HTTP/1.1 200 O\rK\r\n\r\n", 0, START_LINE, "bare CR in reason"),
	RERR(S200 "X-A: a\rb\r\n\r\n", 0, HEADER, "bare CR in value"),
	RERR(S200 "X-A: a\rX-B: b\r\n\r\n", 0, HEADER, "bare CR must not split a line"),
	RERR(S200 "X-A: b\r\n folded\r\n\r\n", 0, HEADER, "obs-fold (SP)"),
	RERR(S200 "X-A: b\r\n\tfolded\r\n\r\n", 0, HEADER, "obs-fold (HTAB)"),
	RERR(S200 " X-A: b\r\n\r\n", 0, HEADER, "whitespace before the first field"),
	RERR(S200 "X A: b\r\n\r\n", 0, HEADER, "space in name"),
	RERR(S200 "X-A : b\r\n\r\n", 0, HEADER, "space before colon"),
	RERR(S200 ": b\r\n\r\n", 0, HEADER, "empty name"),
	RERR(S200 "NoColon\r\n\r\n", 0, HEADER, "no colon"),
	RERR(S200 "X(A): b\r\n\r\n", 0, HEADER, "non-token name"),
	RERR(S200 "X-A: a\x01b\r\n\r\n", 0, HEADER, "control char in value"),
	RERR(S200 "X-A: a\0b\r\n\r\n", 0, HEADER, "NUL in value"),
	RERR(S200 "X-A: a\x7f\r\n\r\n", 0, HEADER, "DEL in value"),
	/* start line */
	RERR("HTTQ/1.1 200 OK\r\n\r\n", 0, START_LINE, "not HTTP"),
	RERR("http/1.1 200 OK\r\n\r\n", 0, START_LINE, "lower-case HTTP"),
	RERR("\x16\x03\x01\x00\x02\x02\x28", 0, START_LINE, "a TLS alert fails at once"),
	RERR("HTTP/1.2 200 OK\r\n\r\n", 0, VERSION, "HTTP/1.2"),
	RERR("HTTP/2 200\r\n\r\n", 0, VERSION, "HTTP/2"),
	RERR("HTTP/0.9 200 OK\r\n\r\n", 0, VERSION, "HTTP/0.9"),
	RERR("HTTP/1.10 200 OK\r\n\r\n", 0, START_LINE, "long version"),
	RERR("HTTP/1.1\r\n\r\n", 0, START_LINE, "no status"),
	RERR("HTTP/1.1 2000 OK\r\n\r\n", 0, STATUS, "four digit status"),
	RERR("HTTP/1.1 20 OK\r\n\r\n", 0, STATUS, "two digit status"),
	RERR("HTTP/1.1 abc OK\r\n\r\n", 0, STATUS, "letters status"),
	RERR("HTTP/1.1 099 OK\r\n\r\n", 0, STATUS, "status below 100"),
	RERR("HTTP/1.1  200 OK\r\n\r\n", 0, STATUS, "two spaces"),
	RERR("HTTP/1.1 200\tOK\r\n\r\n", 0, STATUS, "HTAB after status"),
	/* incomplete */
	RMORE("", "empty input"),
	RMORE("HTTP/1.", "partial version"),
	RMORE(S200 "Content-Length: 5\r\n", "head not ended"),
	RMORE(S200 "Content-Length: 5\r\n\r", "final LF missing"),
};

/* The head length a HEAD_OK case expects. */
static size_t head_len(const char *in, size_t len)
{
	for (size_t i = 0; i + 4 <= len; i++)
		if (memcmp(in + i, "\r\n\r\n", 4) == 0)
			return i + 4;
	fail_msg("test case without CRLFCRLF");
	return 0;
}

/* Does the answer for the first n of len bytes agree with the whole input's answer?
 * A prefix may only say NEED_MORE, the same error, or (once it holds the whole head)
 * the same head length. */
static bool prefix_agrees(int ret, int err, int want, int want_err, size_t n, size_t len)
{
	if (ret == HTTP1_ERROR)
		return want == HTTP1_ERROR && err == want_err;
	if (ret == HTTP1_NEED_MORE)
		return want == HTTP1_NEED_MORE || (n < len && (want < 0 || n < (size_t)want));
	return ret == want;
}

static void check_resp_fields(const struct resp_case *c, const struct http1_response *r)
{
	if (r->status != c->status || r->framing != c->framing || r->keep_alive != c->keep_alive ||
	    r->gzip != c->gzip || (c->framing == HTTP1_FRAMING_LENGTH && r->content_length != c->cl))
		fail_msg("%s: status %d framing %d cl %llu keep_alive %d gzip %d", c->why, r->status,
			 r->framing, (unsigned long long)r->content_length, r->keep_alive, r->gzip);
}

static void test_response_heads(void **state)
{
	(void)state;
	struct guard g;
	guard_init(&g);
	for (size_t i = 0; i < sizeof resp_cases / sizeof resp_cases[0]; i++) {
		const struct resp_case *c = &resp_cases[i];
		int want = c->want == HEAD_OK ? (int)head_len(c->in, c->len) : c->want;
		/* n == len is the whole input; shorter lengths are the head arriving byte by byte:
		 * each must say NEED_MORE, the same error, or (once complete) the same length. */
		for (size_t n = 0; n <= c->len; n++) {
			struct http1_response r;
			int err = HTTP1_E_NONE;
			const char *p = guard_place(&g, c->in, n);
			int ret = http1_parse_response(p, n, HTTP1_MAX_HEAD, c->flags, &r, &err);
			if (!prefix_agrees(ret, err, want, c->err, n, c->len))
				fail_msg("%s: %zu of %zu bytes: got %d (%s), want %d (%s)", c->why, n, c->len, ret,
					 http1_strerror(err), want, http1_strerror(c->err));
			if (ret > 0)
				check_resp_fields(c, &r);
		}
	}
	guard_free(&g);
}

/* Names and values point into the buffer, values trimmed of OWS. */
static void test_response_fields(void **state)
{
	(void)state;
	static const char in[] = "HTTP/1.1 200 All Good\r\nServer: t\r\nX-Pad: \t a  b \t\r\n"
				 "X-Empty:\r\nContent-Length: 2\r\n\r\nok";
	struct http1_response r;
	int err = 0;
	assert_int_equal(http1_parse_response(in, sizeof in - 1, HTTP1_MAX_HEAD, 0, &r, &err), (int)sizeof in - 3);
	assert_int_equal(r.minor_version, 1);
	assert_int_equal(r.reason_len, 8);
	assert_memory_equal(r.reason, "All Good", 8);
	assert_int_equal(r.num_headers, 4);
	const struct http1_header *h = http1_find_header(r.headers, r.num_headers, "x-pad");
	assert_non_null(h);
	assert_int_equal(h->value_len, 4);
	assert_memory_equal(h->value, "a  b", 4);
	h = http1_find_header(r.headers, r.num_headers, "X-EMPTY");
	assert_non_null(h);
	assert_int_equal(h->value_len, 0);
	assert_null(http1_find_header(r.headers, r.num_headers, "X-Pa"));
	assert_true(r.headers[0].name == in + 23);
	assert_true(http1_token_eq("Keep-Alive", 10, "keep-alive"));
	assert_false(http1_token_eq("keep-alive", 9, "keep-alive"));
}

/* ---- caps ---- */

static void test_head_caps(void **state)
{
	(void)state;
	struct guard g;
	guard_init(&g);
	struct http1_response r;
	int err = 0;
	/* A head of exactly max_head bytes parses; one byte more is too large. */
	static const char head64[] = S200 "X-Fill: 01234567890123456789012345678901234\r\n\r\n";
	assert_int_equal(sizeof head64 - 1, 64);
	const char *p = guard_place(&g, head64, 64);
	assert_int_equal(http1_parse_response(p, 64, 64, 0, &r, &err), 64);
	assert_int_equal(http1_parse_response(p, 64, 63, 0, &r, &err), HTTP1_ERROR);
	assert_int_equal(err, HTTP1_E_TOO_LARGE);
	/* An endless head: NEED_MORE below the cap, TOO_LARGE as soon as len reaches it. */
	static char big[HTTP1_MAX_HEAD + 100];
	strcpy(big, S200);
	size_t n = strlen(big);
	while (n + 12 < sizeof big) {
		memcpy(big + n, "X-Fill: ab\r\n", 12);
		n += 12;
	}
	p = guard_place(&g, big, HTTP1_MAX_HEAD - 1);
	assert_int_equal(http1_parse_response(p, HTTP1_MAX_HEAD - 1, HTTP1_MAX_HEAD, 0, &r, &err), HTTP1_ERROR);
	assert_int_equal(err, HTTP1_E_TOO_LARGE); /* more than 64 fields came first */
	memset(big + 17, 'a', sizeof big - 17); /* one endless field instead */
	memcpy(big + 17, "X-Long: ", 8);
	for (size_t len = HTTP1_MAX_HEAD - 2; len <= HTTP1_MAX_HEAD + 1; len++) {
		p = guard_place(&g, big, len);
		err = 0;
		int ret = http1_parse_response(p, len, HTTP1_MAX_HEAD, 0, &r, &err);
		if (len < HTTP1_MAX_HEAD)
			assert_int_equal(ret, HTTP1_NEED_MORE);
		else if (ret != HTTP1_ERROR || err != HTTP1_E_TOO_LARGE)
			fail_msg("endless field of %zu bytes: %d %s", len, ret, http1_strerror(err));
	}
	/* Exactly HTTP1_MAX_HEADERS fields parse; one more is too large, as soon as it ends. */
	char many[4096];
	for (int extra = 0; extra <= 1; extra++) {
		n = (size_t)sprintf(many, S200);
		for (int i = 0; i < HTTP1_MAX_HEADERS + extra; i++)
			n += (size_t)sprintf(many + n, "X-%d: v\r\n", i);
		p = guard_place(&g, many, n);
		int ret = http1_parse_response(p, n, HTTP1_MAX_HEAD, 0, &r, &err);
		assert_int_equal(ret, extra ? HTTP1_ERROR : HTTP1_NEED_MORE);
		n += (size_t)sprintf(many + n, "\r\n");
		p = guard_place(&g, many, n);
		ret = http1_parse_response(p, n, HTTP1_MAX_HEAD, 0, &r, &err);
		if (extra) {
			assert_int_equal(ret, HTTP1_ERROR);
			assert_int_equal(err, HTTP1_E_TOO_LARGE);
		} else {
			assert_int_equal(ret, (int)n);
			assert_int_equal(r.num_headers, HTTP1_MAX_HEADERS);
		}
	}
	guard_free(&g);
}

/* ---- request heads ---- */

struct req_case {
	const char *in;
	size_t len;
	int want; /* HEAD_OK, HTTP1_NEED_MORE or HTTP1_ERROR */
	int err;
	const char *method, *target;
	int minor;
	enum http1_framing framing;
	uint64_t cl;
	bool keep_alive, expect_continue;
	const char *why;
};

#define QOK(in, m, t, minor, fr, cl, ka, ex, why) {in, sizeof(in) - 1, HEAD_OK, 0, m, t, minor, HTTP1_FRAMING_##fr, cl, ka, ex, why}
#define QERR(in, e, why) {in, sizeof(in) - 1, HTTP1_ERROR, HTTP1_E_##e, 0, 0, 0, 0, 0, 0, 0, why}
#define QMORE(in, why) {in, sizeof(in) - 1, HTTP1_NEED_MORE, 0, 0, 0, 0, 0, 0, 0, 0, why}
#define H11 " HTTP/1.1\r\n"

static const struct req_case req_cases[] = {
	QOK("GET /" H11 "Host: a\r\n\r\n", "GET", "/", 1, NONE, 0, true, false, "origin-form"),
	QOK("GET /x?y=1&z=%20 HTTP/1.1\r\nHost: a\r\n\r\nGET", "GET", "/x?y=1&z=%20", 1, NONE, 0, true, false, "query, pipelined bytes after"),
	QOK("GET http://a.test:8080/p?q" H11 "\r\n", "GET", "http://a.test:8080/p?q", 1, NONE, 0, true, false, "absolute-form"),
	QOK("GET urn:x" H11 "\r\n", "GET", "urn:x", 1, NONE, 0, true, false, "absolute-form without //"),
	QOK("CONNECT a.test:443" H11 "Host: a.test:443\r\n\r\n", "CONNECT", "a.test:443", 1, NONE, 0, true, false, "authority-form"),
	QOK("CONNECT 127.0.0.1:8080" H11 "\r\n", "CONNECT", "127.0.0.1:8080", 1, NONE, 0, true, false, "authority-form IPv4"),
	QOK("CONNECT [::1]:443" H11 "\r\n", "CONNECT", "[::1]:443", 1, NONE, 0, true, false, "authority-form IPv6"),
	QOK("OPTIONS *" H11 "\r\n", "OPTIONS", "*", 1, NONE, 0, true, false, "asterisk-form"),
	QOK("OPTIONS /x" H11 "\r\n", "OPTIONS", "/x", 1, NONE, 0, true, false, "OPTIONS origin-form"),
	QOK("M-SEARCH /" H11 "\r\n", "M-SEARCH", "/", 1, NONE, 0, true, false, "extension method"),
	QOK("GET /\xc3\xa9" H11 "\r\n", "GET", "/\xc3\xa9", 1, NONE, 0, true, false, "raw UTF-8 in target"),
	QOK("POST /up" H11 "Content-Length: 10\r\nExpect: 100-continue\r\n\r\n", "POST", "/up", 1, LENGTH, 10, true, true, "upload with 100-continue"),
	QOK("POST /up" H11 "Content-Length: 0\r\nExpect: 100-Continue\r\n\r\n", "POST", "/up", 1, LENGTH, 0, true, true, "expect is case-insensitive"),
	QOK("POST /up" H11 "Expect: 100-continue, x\r\n\r\n", "POST", "/up", 1, NONE, 0, true, false, "other expectation"),
	QOK("POST /up" H11 "Transfer-Encoding: chunked\r\n\r\n", "POST", "/up", 1, CHUNKED, 0, true, false, "chunked upload"),
	QOK("POST /up" H11 "Transfer-Encoding: gzip, chunked\r\n\r\n", "POST", "/up", 1, CHUNKED, 0, true, false, "chunked last"),
	QOK("GET /" H11 "Connection: close\r\n\r\n", "GET", "/", 1, NONE, 0, false, false, "close"),
	QOK("GET / HTTP/1.0\r\n\r\n", "GET", "/", 0, NONE, 0, false, false, "HTTP/1.0 closes"),
	QOK("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", "GET", "/", 0, NONE, 0, true, false, "HTTP/1.0 keep-alive"),
	QOK("GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", "GET", "/", 0, NONE, 0, false, false, "close wins"),
	QOK("get /" H11 "\r\n", "get", "/", 1, NONE, 0, true, false, "methods are tokens, any case"),
	QERR("POST /" H11 "Transfer-Encoding: gzip\r\n\r\n", TRANSFER_ENCODING, "request TE without chunked"),
	QERR("POST /" H11 "Transfer-Encoding: chunked, gzip\r\n\r\n", TRANSFER_ENCODING, "request TE chunked not last"),
	QERR("POST /" H11 "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", TRANSFER_ENCODING, "chunked twice"),
	QERR("POST /" H11 "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", CL_TE_CONFLICT, "CL and TE"),
	QERR("POST /" H11 "Content-Length: 3\r\nContent-Length: 4\r\n\r\n", CONTENT_LENGTH, "different CL"),
	QERR("POST /" H11 "Content-Length: -3\r\n\r\n", CONTENT_LENGTH, "negative CL"),
	QERR("GET  /" H11 "\r\n", START_LINE, "two spaces"),
	QERR("GET /  HTTP/1.1\r\n\r\n", START_LINE, "two spaces before version"),
	QERR("GET / HTTP/1.1 \r\n\r\n", START_LINE, "trailing space"),
	QERR(" GET /" H11 "\r\n", START_LINE, "leading space"),
	QERR("\r\nGET /" H11 "\r\n", START_LINE, "leading empty line"),
	QERR("GET /\r\n\r\n", START_LINE, "HTTP/0.9 request"),
	QERR("GET / http/1.1\r\n\r\n", START_LINE, "lower-case version"),
	QERR("GET / HTTP/2.0\r\n\r\n", VERSION, "HTTP/2.0"),
	QERR("GET / HTTP/1.2\r\n\r\n", VERSION, "HTTP/1.2"),
	QERR("G(T /" H11 "\r\n", START_LINE, "non-token method"),
	QERR("GET /a\x01" "b" H11 "\r\n", START_LINE, "control char in target"),
	QERR("GET /a\x7f" H11 "\r\n", START_LINE, "DEL in target"),
	QERR("GET *" H11 "\r\n", START_LINE, "asterisk only for OPTIONS"),
	QERR("GET 1abc" H11 "\r\n", START_LINE, "target in no form"),
	QERR("CONNECT /x" H11 "\r\n", START_LINE, "CONNECT needs authority-form"),
	QERR("CONNECT a.test" H11 "\r\n", START_LINE, "CONNECT without port"),
	QERR("CONNECT a.test:" H11 "\r\n", START_LINE, "CONNECT empty port"),
	QERR("CONNECT a.test:44x" H11 "\r\n", START_LINE, "CONNECT bad port"),
	QERR("CONNECT :443" H11 "\r\n", START_LINE, "CONNECT empty host"),
	QERR("CONNECT [::1:443" H11 "\r\n", START_LINE, "CONNECT unclosed IPv6"),
	QERR("CONNECT http://a.test:443" H11 "\r\n", START_LINE, "CONNECT absolute-form"),
	QERR("CONNECT u@a.test:443" H11 "\r\n", START_LINE, "CONNECT userinfo"),
	QERR("GET /\nHost: a\r\n\r\n", BARE_LF, "bare LF in request line"),
	QERR("GET /" H11 "Host: a\r\n folded\r\n\r\n", HEADER, "obs-fold"),
	QERR("GET /" H11 "Host : a\r\n\r\n", HEADER, "space before colon"),
	QMORE("GET /", "partial request line"),
	QMORE("GET /" H11 "Host: a\r\n", "head not ended"),
};

static void check_req_fields(const struct req_case *c, const struct http1_request *r)
{
	if (!http1_token_eq(r->method, r->method_len, c->method) || r->method[0] != c->method[0] ||
	    r->target_len != strlen(c->target) || memcmp(r->target, c->target, r->target_len) != 0 ||
	    r->minor_version != c->minor || r->framing != c->framing || r->content_length != c->cl ||
	    r->keep_alive != c->keep_alive || r->expect_continue != c->expect_continue)
		fail_msg("%s: method '%.*s' target '%.*s' minor %d framing %d cl %llu keep_alive %d expect %d",
			 c->why, (int)r->method_len, r->method, (int)r->target_len, r->target, r->minor_version,
			 r->framing, (unsigned long long)r->content_length, r->keep_alive, r->expect_continue);
}

static void test_request_heads(void **state)
{
	(void)state;
	struct guard g;
	guard_init(&g);
	for (size_t i = 0; i < sizeof req_cases / sizeof req_cases[0]; i++) {
		const struct req_case *c = &req_cases[i];
		int want = c->want == HEAD_OK ? (int)head_len(c->in, c->len) : c->want;
		for (size_t n = 0; n <= c->len; n++) {
			struct http1_request r;
			int err = HTTP1_E_NONE;
			const char *p = guard_place(&g, c->in, n);
			int ret = http1_parse_request(p, n, HTTP1_MAX_HEAD, &r, &err);
			if (!prefix_agrees(ret, err, want, c->err, n, c->len))
				fail_msg("%s: %zu of %zu bytes: got %d (%s), want %d (%s)", c->why, n, c->len, ret,
					 http1_strerror(err), want, http1_strerror(c->err));
			if (ret > 0)
				check_req_fields(c, &r);
		}
	}
	guard_free(&g);
}

/* ---- bodies ---- */

#define B_DONE 0x100 /* the message ends after `consumed` bytes */
#define B_MORE 0x101 /* everything consumed, the message goes on */

struct body_case {
	enum http1_framing framing;
	uint64_t cl;
	const char *in;
	size_t len;
	int want;            /* B_DONE, B_MORE or an HTTP1_E_* code */
	const char *payload; /* decoded bytes (B_DONE, B_MORE) */
	size_t consumed;     /* B_DONE: the message's length within in */
	int eof;             /* http1_body_eof() afterwards (B_DONE, B_MORE) */
	const char *why;
};

#define BDONE(fr, cl, msg, next, pl, why) {HTTP1_FRAMING_##fr, cl, msg next, sizeof(msg next) - 1, B_DONE, pl, sizeof(msg) - 1, 0, why}
#define BMORE(fr, cl, in, pl, eof, why) {HTTP1_FRAMING_##fr, cl, in, sizeof(in) - 1, B_MORE, pl, sizeof(in) - 1, eof, why}
#define BERR(in, e, why) {HTTP1_FRAMING_CHUNKED, 0, in, sizeof(in) - 1, HTTP1_E_##e, "", 0, 0, why}
#define TRUNC HTTP1_E_TRUNCATED

static const struct body_case body_cases[] = {
	BDONE(LENGTH, 5, "hello", "HTTP/1.1", "hello", "CL stops at its length"),
	BDONE(LENGTH, 0, "", "next", "", "CL 0 is done at once"),
	BMORE(LENGTH, 10, "hello", "hello", TRUNC, "CL short: truncated at EOF"),
	BMORE(CLOSE, 0, "all of it\r\n0\r\n\r\n", "all of it\r\n0\r\n\r\n", 0, "close-delimited: EOF ends it"),
	BDONE(NONE, 0, "", "HTTP/1.1 200 OK", "", "no body"),
	BDONE(CHUNKED, 0, "5\r\nhello\r\n0\r\n\r\n", "HTTP/1.1 200 OK\r\n", "hello", "one chunk, pipelined response after"),
	BDONE(CHUNKED, 0, "3\r\nabc\r\n2\r\nde\r\n1\r\nf\r\n0\r\n\r\n", "X", "abcdef", "three chunks"),
	BDONE(CHUNKED, 0, "3;ext=1\r\nabc\r\n2;a;b=\"q s\"\r\nde\r\n0;last\r\n\r\n", "", "abcde", "extensions"),
	BDONE(CHUNKED, 0, "3 ;x\r\nabc\r\n0\t; y\r\n\r\n", "", "abc", "BWS before ';'"),
	BDONE(CHUNKED, 0, "3\r\nabc\r\n0\r\nX-T: v\r\nX-U:\r\n\r\n", "next", "abc", "trailers"),
	BDONE(CHUNKED, 0, "A\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n", "", "01234567890123456789", "hex both cases"),
	BDONE(CHUNKED, 0, "00000000000000000000000000000001\r\nz\r\n000\r\n\r\n", "", "z", "leading zeros do not overflow"),
	BDONE(CHUNKED, 0, "0\r\n\r\n", "0\r\n\r\n", "", "empty chunked body, another after"),
	BMORE(CHUNKED, 0, "5\r\nhel", "hel", TRUNC, "EOF inside chunk data"),
	BMORE(CHUNKED, 0, "5\r\nhello\r\n0\r\n", "hello", TRUNC, "EOF before the final CRLF"),
	BMORE(CHUNKED, 0, "7fffffffffffffff\r\nab", "ab", TRUNC, "2^63-1 is a valid size"),
	BERR("zz\r\n", CHUNK_SIZE, "not hex"),
	BERR("\r\n", CHUNK_SIZE, "empty size"),
	BERR("-1\r\n", CHUNK_SIZE, "negative size"),
	BERR("0x5\r\nhello\r\n", CHUNK_SIZE, "C hex prefix"),
	BERR(" 5\r\nhello\r\n", CHUNK_SIZE, "leading space"),
	BERR("5 \r\nhello\r\n", CHUNK_SIZE, "trailing space without extension"),
	BERR("5 x\r\nhello\r\n", CHUNK_SIZE, "garbage after size"),
	BERR("5\nhello\r\n", CHUNK_SIZE, "bare LF after size"),
	BERR("5\r\rhello\r\n", CHUNK_SIZE, "CR CR after size"),
	BERR("5;a\x01\r\nhello\r\n", CHUNK_SIZE, "control char in extension"),
	BERR("5;a\nhello\r\n", CHUNK_SIZE, "bare LF in extension"),
	BERR("10000000000000000\r\n", CHUNK_OVERFLOW, "2^64"),
	BERR("8000000000000000\r\n", CHUNK_OVERFLOW, "2^63"),
	BERR("ffffffffffffffffff\r\n", CHUNK_OVERFLOW, "wraps a 64-bit size"),
	BERR("ffffffffffffffffffffffffffffffffffffffff\r\n", CHUNK_OVERFLOW, "huge hex"),
	BERR("3\r\nabcX\r\n", CHUNK_CRLF, "no CRLF after data"),
	BERR("3\r\nabc\n0\r\n\r\n", CHUNK_CRLF, "bare LF after data"),
	BERR("3\r\nabc\rX", CHUNK_CRLF, "CR without LF after data"),
	BERR("3\r\nabcd\r\n", CHUNK_CRLF, "chunk longer than its size"),
	BERR("0\r\n bad\r\n\r\n", TRAILER, "folded trailer"),
	BERR("0\r\n: v\r\n\r\n", TRAILER, "trailer without name"),
	BERR("0\r\nX v\r\n\r\n", TRAILER, "trailer without colon"),
	BERR("0\r\nX: a\x01\r\n\r\n", TRAILER, "control char in trailer"),
	BERR("0\r\nX: v\n\r\n", TRAILER, "bare LF in trailer"),
	BERR("0\r\n\n", TRAILER, "bare LF ending the body"),
	BERR("0\r\n\rX", TRAILER, "CR without LF ending the body"),
};

struct body_result {
	int outcome; /* B_DONE, B_MORE or an error */
	size_t consumed;
	char payload[64 * 1024];
	size_t payload_len;
};

/* Feeds in[0..len) in pieces of `step` bytes (0: all at once), each piece flush against
 * the guard page, and checks the contract on every call. */
static void run_body(struct guard *g, const struct body_case *c, size_t step, struct body_result *res)
{
	struct http1_body b;
	http1_body_init(&b, c->framing, c->cl);
	size_t pos = 0;
	res->payload_len = 0;
	res->outcome = B_MORE;
	while (pos < c->len && !b.done) {
		size_t feed = step && c->len - pos > step ? step : c->len - pos;
		const uint8_t *in = (const uint8_t *)guard_place(g, c->in + pos, feed);
		const uint8_t *span = (const uint8_t *)"x";
		size_t span_len = 99;
		int err = HTTP1_E_NONE;
		long n = http1_body_feed(&b, in, feed, &span, &span_len, &err);
		if (n < 0) {
			if (err == HTTP1_E_NONE)
				fail_msg("%s: error without a code", c->why);
			res->outcome = err;
			res->consumed = pos;
			return;
		}
		if ((size_t)n > feed || (n == 0 && !b.done))
			fail_msg("%s: step %zu: consumed %ld of %zu, done %d", c->why, step, n, feed, b.done);
		if (span_len && (span < in || span + span_len > in + n))
			fail_msg("%s: step %zu: span outside the consumed bytes", c->why, step);
		if (!span_len && span)
			fail_msg("%s: empty span not NULL", c->why);
		assert_true(res->payload_len + span_len <= sizeof res->payload);
		if (span_len)
			memcpy(res->payload + res->payload_len, span, span_len);
		res->payload_len += span_len;
		if (b.payload != res->payload_len)
			fail_msg("%s: payload counter %llu, spans %zu", c->why, (unsigned long long)b.payload, res->payload_len);
		pos += (size_t)n;
	}
	res->consumed = pos;
	if (b.done) {
		res->outcome = B_DONE;
		/* Done is final: nothing more is consumed. */
		const uint8_t *span;
		size_t span_len;
		int err = 0;
		assert_int_equal(http1_body_feed(&b, (const uint8_t *)"x", 1, &span, &span_len, &err), 0);
	}
	int eof = http1_body_eof(&b);
	if (eof != (c->want == B_DONE ? 0 : c->eof))
		fail_msg("%s: step %zu: eof gives %s", c->why, step, http1_strerror(eof));
}

static void check_body_case(struct guard *g, const struct body_case *c)
{
	static const size_t steps[] = {0, 1, 2, 3, 5, 7};
	static struct body_result res;
	bool ok = c->want == B_DONE || c->want == B_MORE;
	size_t err_used = 0, err_payload = 0; /* an error's position, from the whole-input run */
	for (size_t s = 0; s < sizeof steps / sizeof steps[0]; s++) {
		run_body(g, c, steps[s], &res);
		if (!ok && s == 0) {
			err_used = res.consumed;
			err_payload = res.payload_len;
		}
		size_t want_used = ok ? c->consumed : err_used;
		size_t pl = ok ? strlen(c->payload) : err_payload;
		/* Bytes consumed before an error depend on the piece size; the payload must not. */
		if (!ok)
			want_used = res.consumed;
		if (res.outcome != c->want || res.consumed != want_used || res.payload_len != pl ||
		    (ok && pl && memcmp(res.payload, c->payload, pl) != 0))
			fail_msg("%s (step %zu): outcome %#x (%s) consumed %zu payload %zu bytes, want %#x consumed %zu",
				 c->why, steps[s], res.outcome, res.outcome < 0x100 ? http1_strerror(res.outcome) : "",
				 res.consumed, res.payload_len, c->want, want_used);
	}
}

static void test_bodies(void **state)
{
	(void)state;
	struct guard g;
	guard_init(&g);
	for (size_t i = 0; i < sizeof body_cases / sizeof body_cases[0]; i++)
		check_body_case(&g, &body_cases[i]);
	guard_free(&g);
}

/* The size line (with extensions and CRLF) may be HTTP1_MAX_CHUNK_LINE bytes, not more;
 * the trailer section HTTP1_MAX_TRAILER bytes. */
static void test_body_caps(void **state)
{
	(void)state;
	struct guard g;
	guard_init(&g);
	static char in[HTTP1_MAX_TRAILER + 64];
	for (size_t line = HTTP1_MAX_CHUNK_LINE; line <= HTTP1_MAX_CHUNK_LINE + 1; line++) {
		memset(in, 'e', line);
		memcpy(in, "1;", 2);
		memcpy(in + line - 2, "\r\nx\r\n0\r\n\r\n", 10);
		struct body_case c = {HTTP1_FRAMING_CHUNKED, 0, in, line + 8, B_DONE, "x", line + 8, 0, "size line at the cap"};
		if (line > HTTP1_MAX_CHUNK_LINE)
			c = (struct body_case){HTTP1_FRAMING_CHUNKED, 0, in, line + 8, HTTP1_E_CHUNK_SIZE, "", 0, 0, "size line over the cap"};
		check_body_case(&g, &c);
	}
	/* Endless zeros are a size line too. */
	memset(in, '0', HTTP1_MAX_CHUNK_LINE + 10);
	struct body_case zeros = {HTTP1_FRAMING_CHUNKED, 0, in, HTTP1_MAX_CHUNK_LINE + 10, HTTP1_E_CHUNK_SIZE, "", 0, 0, "endless zeros"};
	check_body_case(&g, &zeros);
	/* Trailer section: fields totalling exactly the cap (final CRLF included), then one more. */
	for (size_t total = HTTP1_MAX_TRAILER; total <= HTTP1_MAX_TRAILER + 1; total++) {
		size_t n = (size_t)sprintf(in, "0\r\nX-T: ");
		memset(in + n, 'v', total - 9); /* "X-T: " v... CRLF CRLF */
		n += total - 9;
		n += (size_t)sprintf(in + n, "\r\n\r\n");
		assert_int_equal(n, 3 + total);
		struct body_case c = {HTTP1_FRAMING_CHUNKED, 0, in, n, B_DONE, "", n, 0, "trailer at the cap"};
		if (total > HTTP1_MAX_TRAILER)
			c = (struct body_case){HTTP1_FRAMING_CHUNKED, 0, in, n, HTTP1_E_TRAILER, "", 0, 0, "trailer over the cap"};
		check_body_case(&g, &c);
	}
	guard_free(&g);
}

/* A zeroed struct is a ready decoder, and large chunks come back as one span. */
static void test_body_zeroed_and_spans(void **state)
{
	(void)state;
	static uint8_t in[40000];
	size_t n = (size_t)sprintf((char *)in, "8000;x\r\n");
	memset(in + n, 'p', 0x8000);
	n += 0x8000;
	n += (size_t)sprintf((char *)in + n, "\r\n0\r\n\r\n");
	struct http1_body b = {.framing = HTTP1_FRAMING_CHUNKED};
	const uint8_t *span;
	size_t span_len;
	int err = 0;
	long used = http1_body_feed(&b, in, n, &span, &span_len, &err);
	/* The size line and the data in one call; the decoder may go on through framing
	 * after the span but never past a second one. */
	assert_true(used >= 8 + 0x8000);
	assert_ptr_equal(span, in + 8);
	assert_int_equal(span_len, 0x8000);
	assert_true(b.done);
	assert_int_equal(used, (long)n);
	struct http1_body none = {0};
	assert_int_equal(http1_body_feed(&none, in, 1, &span, &span_len, &err), 0);
	assert_true(none.done);
}

/* An error right after chunk data: the data comes back first, the error on the next
 * call, and the error stays (the state is not advanced by a bad byte). */
static void test_body_error_after_span(void **state)
{
	(void)state;
	static const uint8_t in[] = "3\r\nabcX\r\n";
	struct http1_body b;
	http1_body_init(&b, HTTP1_FRAMING_CHUNKED, 0);
	const uint8_t *span;
	size_t span_len;
	int err = HTTP1_E_NONE;
	assert_int_equal(http1_body_feed(&b, in, sizeof in - 1, &span, &span_len, &err), 6);
	assert_ptr_equal(span, in + 3);
	assert_int_equal(span_len, 3);
	assert_int_equal(err, HTTP1_E_NONE);
	for (int again = 0; again < 2; again++) {
		err = HTTP1_E_NONE;
		assert_int_equal(http1_body_feed(&b, in + 6, sizeof in - 7, &span, &span_len, &err), HTTP1_ERROR);
		assert_int_equal(err, HTTP1_E_CHUNK_CRLF);
		assert_int_equal(span_len, 0);
	}
	assert_int_equal(b.payload, 3);
	assert_int_equal(http1_body_eof(&b), HTTP1_E_TRUNCATED);
}

/* Several messages on one connection: each head and body ends exactly where it should. */
static void test_pipelined_responses(void **state)
{
	(void)state;
	static const char stream[] =
		"HTTP/1.1 100 Continue\r\n\r\n"
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\nT: 1\r\n\r\n"
		"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nxyz"
		"HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n"
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"
		"HTTP/1.0 200 OK\r\n\r\nrest until close";
	static const struct { int status; const char *payload; } want[] = {
		{100, ""}, {200, "abcd"}, {200, "xyz"}, {304, ""}, {200, "hi"}, {200, "rest until close"},
	};
	struct guard g;
	guard_init(&g);
	const char *buf = guard_place(&g, stream, sizeof stream - 1);
	size_t len = sizeof stream - 1, pos = 0;
	for (size_t m = 0; m < sizeof want / sizeof want[0]; m++) {
		struct http1_response r;
		int err = 0;
		int head = http1_parse_response(buf + pos, len - pos, HTTP1_MAX_HEAD, 0, &r, &err);
		if (head <= 0)
			fail_msg("message %zu: %d %s", m, head, http1_strerror(err));
		assert_int_equal(r.status, want[m].status);
		pos += (size_t)head;
		struct http1_body b;
		http1_body_init(&b, r.framing, r.content_length);
		char got[64];
		size_t got_len = 0;
		while (!b.done && pos < len) {
			const uint8_t *span;
			size_t span_len;
			long n = http1_body_feed(&b, (const uint8_t *)buf + pos, len - pos, &span, &span_len, &err);
			assert_true(n > 0);
			if (span_len) /* span is NULL when a call held only framing */
				memcpy(got + got_len, span, span_len);
			got_len += span_len;
			pos += (size_t)n;
		}
		assert_int_equal(http1_body_eof(&b), 0);
		assert_int_equal(got_len, strlen(want[m].payload));
		assert_memory_equal(got, want[m].payload, got_len);
	}
	assert_int_equal(pos, len);
	guard_free(&g);
}

/* ---- byte classes, checked against spelled-out RFC sets ---- */

static const char TCHARS[] = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static bool field_byte(unsigned c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static void test_byte_classes(void **state)
{
	(void)state;
	for (unsigned c = 0; c < 256; c++) {
		char buf[64];
		struct http1_response r;
		struct http1_request q;
		int err, n;
		bool tchar = c && strchr(TCHARS, (int)c);
		/* c as the first byte of a header name */
		n = sprintf(buf, S200 "%cX: v\r\n\r\n", c);
		if ((http1_parse_response(buf, (size_t)n, HTTP1_MAX_HEAD, 0, &r, &err) > 0) != tchar)
			fail_msg("byte %#x in a header name", c);
		/* c as a method */
		n = sprintf(buf, "%c / HTTP/1.1\r\n\r\n", c);
		if ((http1_parse_request(buf, (size_t)n, HTTP1_MAX_HEAD, &q, &err) > 0) != tchar)
			fail_msg("byte %#x as a method", c);
		/* c inside a header value, a reason phrase, a chunk extension */
		n = sprintf(buf, S200 "X: a%cb\r\n\r\n", c);
		if ((http1_parse_response(buf, (size_t)n, HTTP1_MAX_HEAD, 0, &r, &err) > 0) != field_byte(c))
			fail_msg("byte %#x in a header value", c);
		n = sprintf(buf, "HTTP/1.1 200 O%cK\r\n\r\n", c);
		if ((http1_parse_response(buf, (size_t)n, HTTP1_MAX_HEAD, 0, &r, &err) > 0) != field_byte(c))
			fail_msg("byte %#x in a reason phrase", c);
		n = sprintf(buf, "1;a%c\r\nx\r\n0\r\n\r\n", c);
		struct http1_body b;
		http1_body_init(&b, HTTP1_FRAMING_CHUNKED, 0);
		size_t pos = 0;
		long used = 0;
		while (used >= 0 && !b.done && pos < (size_t)n) {
			const uint8_t *span;
			size_t span_len;
			used = http1_body_feed(&b, (const uint8_t *)buf + pos, (size_t)n - pos, &span, &span_len, &err);
			pos += used > 0 ? (size_t)used : 0;
		}
		if (b.done != field_byte(c))
			fail_msg("byte %#x in a chunk extension", c);
		/* c inside a request target */
		n = sprintf(buf, "GET /a%cb HTTP/1.1\r\n\r\n", c);
		if ((http1_parse_request(buf, (size_t)n, HTTP1_MAX_HEAD, &q, &err) > 0) != (c > 0x20 && c != 0x7f))
			fail_msg("byte %#x in a target", c);
		/* c as a chunk size digit */
		n = sprintf(buf, "%c\r\n", c);
		http1_body_init(&b, HTTP1_FRAMING_CHUNKED, 0);
		const uint8_t *span;
		size_t span_len;
		used = http1_body_feed(&b, (const uint8_t *)buf, (size_t)n, &span, &span_len, &err);
		if ((used == n) != (c < 128 && strchr("0123456789abcdefABCDEF", (int)c) && c))
			fail_msg("byte %#x as a chunk size", c);
	}
}

static void test_strerror(void **state)
{
	(void)state;
	struct http1_body b;
	http1_body_init(&b, HTTP1_FRAMING_CLOSE, 0);
	assert_int_equal(http1_body_eof(&b), 0);
	assert_true(b.done);
	http1_body_init(&b, HTTP1_FRAMING_LENGTH, 10);
	assert_int_equal(http1_body_eof(&b), HTTP1_E_TRUNCATED);
	assert_false(b.done);
	for (int e = HTTP1_E_NONE; e <= HTTP1_E_TRUNCATED; e++) {
		assert_string_not_equal(http1_strerror(e), "unknown HTTP/1 error");
		for (int f = HTTP1_E_NONE; f < e; f++)
			assert_string_not_equal(http1_strerror(e), http1_strerror(f));
	}
	assert_string_equal(http1_strerror(-5), "unknown HTTP/1 error");
	assert_string_equal(http1_strerror(HTTP1_E_TRUNCATED + 1), "unknown HTTP/1 error");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guard_page_traps),
		cmocka_unit_test(test_response_heads),
		cmocka_unit_test(test_response_fields),
		cmocka_unit_test(test_head_caps),
		cmocka_unit_test(test_request_heads),
		cmocka_unit_test(test_bodies),
		cmocka_unit_test(test_body_caps),
		cmocka_unit_test(test_body_zeroed_and_spans),
		cmocka_unit_test(test_body_error_after_span),
		cmocka_unit_test(test_pipelined_responses),
		cmocka_unit_test(test_byte_classes),
		cmocka_unit_test(test_strerror),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
