/* Unit tests for lib/socks5: golden bytes, encode/parse round trips for every message
 * and address type, every parser fed one byte at a time with the input placed flush
 * against an unreadable page (so reading past len faults even without ASan), every
 * error code, and encoders that must not write past cap. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/socks5.h"

/* ---- input flush against a guard page ---- */

struct guard {
	uint8_t *base;
	size_t page;
};

static void guard_init(struct guard *g)
{
	g->page = (size_t)sysconf(_SC_PAGESIZE);
	g->base = mmap(NULL, 2 * g->page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(g->base != MAP_FAILED);
	assert_int_equal(mprotect(g->base + g->page, g->page, PROT_NONE), 0);
}

static void guard_free(struct guard *g)
{
	munmap(g->base, 2 * g->page);
}

/* Copies in[0..len) so that its last byte is the last readable byte. */
static const uint8_t *flush(struct guard *g, const uint8_t *in, size_t len)
{
	assert_true(len <= g->page);
	uint8_t *p = g->base + g->page - len;
	if (len)
		memcpy(p, in, len);
	return p;
}

/* ---- the six parsers behind one call ---- */

enum parser { P_GREETING, P_USERPASS, P_REQUEST, P_METHOD, P_USERPASS_REPLY, P_REPLY, P_COUNT };
static const char *const parser_names[P_COUNT] = {
	"server_parse_greeting", "server_parse_userpass", "server_parse_request",
	"client_parse_method", "client_parse_userpass_reply", "client_parse_reply",
};

struct parsed {
	struct socks5_greeting greeting;
	char user[256], pass[256];
	uint8_t cmd, rep, method, status;
	struct socks5_addr addr;
};

static int run_parser(enum parser p, const uint8_t *in, size_t len, struct parsed *out, int *err)
{
	switch (p) {
	case P_GREETING: return socks5_server_parse_greeting(in, len, &out->greeting, err);
	case P_USERPASS: return socks5_server_parse_userpass(in, len, out->user, out->pass, err);
	case P_REQUEST: return socks5_server_parse_request(in, len, &out->cmd, &out->addr, err);
	case P_METHOD: return socks5_client_parse_method(in, len, &out->method, err);
	case P_USERPASS_REPLY: return socks5_client_parse_userpass_reply(in, len, &out->status, err);
	case P_REPLY: return socks5_client_parse_reply(in, len, &out->rep, &out->addr, err);
	default: fail_msg("no parser %d", (int)p);
	}
	return 0;
}

/* Feeds msg[0..len) one byte at a time: every strict prefix must ask for more, the
 * whole message must be consumed exactly, and trailing bytes (pipelined data) must be
 * left alone. Leaves the full parse in *out. */
static void feed_valid(struct guard *g, enum parser p, const uint8_t *msg, size_t len,
		       struct parsed *out)
{
	int err = SOCKS5_E_NONE;
	for (size_t k = 0; k < len; k++) {
		int r = run_parser(p, flush(g, msg, k), k, out, &err);
		if (r != SOCKS5_NEED_MORE)
			fail_msg("%s: prefix %zu of %zu returned %d (%s), expected NEED_MORE",
				 parser_names[p], k, len, r, socks5_strerror(err));
	}
	uint8_t more[1024];
	assert_true(len + 7 <= sizeof more);
	memcpy(more, msg, len);
	memset(more + len, 0x05, 7);
	int r = run_parser(p, flush(g, more, len + 7), len + 7, out, &err);
	if (r != (int)len)
		fail_msg("%s with trailing bytes: returned %d, expected %zu", parser_names[p], r, len);
	r = run_parser(p, flush(g, msg, len), len, out, &err);
	if (r != (int)len)
		fail_msg("%s: returned %d (%s), expected %zu", parser_names[p], r,
			 r == SOCKS5_ERROR ? socks5_strerror(err) : "", len);
}

static void assert_addr_equal(const struct socks5_addr *a, const struct socks5_addr *b)
{
	char ta[300], tb[300];
	assert_true(socks5_addr_format(a, ta, sizeof ta) > 0);
	assert_true(socks5_addr_format(b, tb, sizeof tb) > 0);
	assert_string_equal(ta, tb);
	assert_int_equal(a->atyp, b->atyp);
	assert_int_equal(a->port, b->port);
	if (a->atyp == SOCKS5_ATYP_DOMAIN)
		assert_string_equal(a->domain, b->domain);
	else
		assert_memory_equal(a->ip, b->ip, a->atyp == SOCKS5_ATYP_IPV4 ? 4 : 16);
}

/* ---- addresses ---- */

static char domain255[256];

static void make_domain255(void)
{
	memset(domain255, 'd', 255);
	for (int i = 63; i < 255; i += 64)
		domain255[i] = '.';
	domain255[255] = '\0';
}

struct addr_case {
	const char *host;
	uint16_t port;
	int rc;
	uint8_t atyp;
	const char *text; /* socks5_addr_format */
};

static void test_addr_from_host_and_format(void **state)
{
	(void)state;
	make_domain255();
	static char domain256[257];
	memset(domain256, 'x', 256);
	const struct addr_case cases[] = {
		{"1.2.3.4", 80, 0, SOCKS5_ATYP_IPV4, "1.2.3.4:80"},
		{"0.0.0.0", 0, 0, SOCKS5_ATYP_IPV4, "0.0.0.0:0"},
		{"::1", 443, 0, SOCKS5_ATYP_IPV6, "[::1]:443"},
		{"2001:DB8::A", 65535, 0, SOCKS5_ATYP_IPV6, "[2001:db8::a]:65535"},
		{"::ffff:10.0.0.1", 1, 0, SOCKS5_ATYP_IPV6, "[::ffff:10.0.0.1]:1"},
		{"example.com", 443, 0, SOCKS5_ATYP_DOMAIN, "example.com:443"},
		{"1.2.3", 1, 0, SOCKS5_ATYP_DOMAIN, "1.2.3:1"}, /* not a dotted quad */
		{"x", 7, 0, SOCKS5_ATYP_DOMAIN, "x:7"},
		{domain255, 9, 0, SOCKS5_ATYP_DOMAIN, NULL},
		{domain256, 9, -EINVAL, 0, NULL},
		{"", 9, -EINVAL, 0, NULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct addr_case *c = &cases[i];
		struct socks5_addr a;
		int r = socks5_addr_from_host(&a, c->host, c->port);
		if (r != c->rc)
			fail_msg("'%.40s': returned %d, expected %d", c->host, r, c->rc);
		if (r < 0)
			continue;
		assert_int_equal(a.atyp, c->atyp);
		assert_int_equal(a.port, c->port);
		char text[300];
		int n = socks5_addr_format(&a, text, sizeof text);
		assert_true(n > 0);
		if (c->text) {
			assert_string_equal(text, c->text);
		} else {
			assert_int_equal(n, 255 + 2);
			assert_memory_equal(text, domain255, 255);
		}
		/* the exact fit works, one byte less is -ENOSPC */
		assert_int_equal(socks5_addr_format(&a, text, (size_t)n + 1), n);
		assert_int_equal(socks5_addr_format(&a, text, (size_t)n), -ENOSPC);
		/* the host alone: the text without ":port" and the brackets */
		char host[300], want[300];
		int hn = socks5_addr_host(&a, host, sizeof host);
		snprintf(want, sizeof want, "%.*s", n - (int)snprintf(NULL, 0, ":%u", c->port), text);
		if (c->atyp == SOCKS5_ATYP_IPV6)
			snprintf(want, sizeof want, "%.*s", n - (int)snprintf(NULL, 0, ":%u", c->port) - 2, text + 1);
		assert_string_equal(host, want);
		assert_int_equal(hn, (int)strlen(want));
		assert_int_equal(socks5_addr_host(&a, host, (size_t)hn), -ENOSPC);
	}
	struct socks5_addr bad = {.atyp = 2};
	char text[64];
	assert_int_equal(socks5_addr_format(&bad, text, sizeof text), -EINVAL);
	assert_int_equal(socks5_addr_host(&bad, text, sizeof text), -EINVAL);
	assert_string_equal(text, "");
}

/* ---- golden bytes ---- */

static void test_golden_bytes(void **state)
{
	(void)state;
	uint8_t out[600];
	struct socks5_addr a;

	assert_int_equal(socks5_client_greeting(out, sizeof out, false), 3);
	assert_memory_equal(out, ((uint8_t[]){5, 1, 0}), 3);
	assert_int_equal(socks5_client_greeting(out, sizeof out, true), 4);
	assert_memory_equal(out, ((uint8_t[]){5, 2, 0, 2}), 4);

	assert_int_equal(socks5_server_method(out, sizeof out, SOCKS5_METHOD_UNACCEPTABLE), 2);
	assert_memory_equal(out, ((uint8_t[]){5, 0xff}), 2);

	assert_int_equal(socks5_client_userpass(out, sizeof out, "ab", "c"), 6);
	assert_memory_equal(out, ((uint8_t[]){1, 2, 'a', 'b', 1, 'c'}), 6);
	assert_int_equal(socks5_server_userpass_reply(out, sizeof out, 1), 2);
	assert_memory_equal(out, ((uint8_t[]){1, 1}), 2);

	assert_int_equal(socks5_addr_from_host(&a, "example.com", 443), 0);
	static const uint8_t connect_domain[] = {5, 1, 0, 3, 11, 'e', 'x', 'a', 'm', 'p', 'l',
						 'e', '.', 'c', 'o', 'm', 0x01, 0xbb};
	assert_int_equal(socks5_client_request(out, sizeof out, SOCKS5_CMD_CONNECT, &a),
			 sizeof connect_domain);
	assert_memory_equal(out, connect_domain, sizeof connect_domain);

	assert_int_equal(socks5_addr_from_host(&a, "127.0.0.1", 8080), 0);
	static const uint8_t connect_v4[] = {5, 1, 0, 1, 127, 0, 0, 1, 0x1f, 0x90};
	assert_int_equal(socks5_client_request(out, sizeof out, SOCKS5_CMD_CONNECT, &a),
			 sizeof connect_v4);
	assert_memory_equal(out, connect_v4, sizeof connect_v4);

	assert_int_equal(socks5_addr_from_host(&a, "::1", 80), 0);
	static const uint8_t bind_v6[] = {5, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
					  0, 80};
	assert_int_equal(socks5_client_request(out, sizeof out, SOCKS5_CMD_BIND, &a), sizeof bind_v6);
	assert_memory_equal(out, bind_v6, sizeof bind_v6);

	static const uint8_t reply_null[] = {5, 0, 0, 1, 0, 0, 0, 0, 0, 0};
	assert_int_equal(socks5_server_reply(out, sizeof out, SOCKS5_REP_SUCCEEDED, NULL),
			 sizeof reply_null);
	assert_memory_equal(out, reply_null, sizeof reply_null);
}

/* ---- round trips, byte by byte ---- */

static void test_round_trip_handshake(void **state)
{
	(void)state;
	struct guard g;
	guard_init(&g);
	uint8_t buf[600];
	struct parsed got;

	for (int offer = 0; offer <= 1; offer++) {
		int n = socks5_client_greeting(buf, sizeof buf, offer);
		feed_valid(&g, P_GREETING, buf, (size_t)n, &got);
		assert_int_equal(got.greeting.nmethods, offer ? 2 : 1);
		assert_true(socks5_greeting_offers(&got.greeting, SOCKS5_METHOD_NONE));
		assert_int_equal(socks5_greeting_offers(&got.greeting, SOCKS5_METHOD_USERPASS), offer);
		assert_false(socks5_greeting_offers(&got.greeting, SOCKS5_METHOD_UNACCEPTABLE));
	}
	/* a greeting listing all 255 method numbers */
	buf[0] = 5;
	buf[1] = 255;
	for (int i = 0; i < 255; i++)
		buf[2 + i] = (uint8_t)(254 - i);
	feed_valid(&g, P_GREETING, buf, 257, &got);
	assert_int_equal(got.greeting.nmethods, 255);
	assert_true(socks5_greeting_offers(&got.greeting, 0));
	assert_true(socks5_greeting_offers(&got.greeting, 254));
	assert_false(socks5_greeting_offers(&got.greeting, 255));

	const uint8_t methods[] = {SOCKS5_METHOD_NONE, SOCKS5_METHOD_USERPASS, SOCKS5_METHOD_UNACCEPTABLE};
	for (size_t i = 0; i < sizeof methods; i++) {
		int n = socks5_server_method(buf, sizeof buf, methods[i]);
		feed_valid(&g, P_METHOD, buf, (size_t)n, &got);
		assert_int_equal(got.method, methods[i]);
	}

	make_domain255();
	static char p255[256];
	memset(p255, 'p', 255);
	const char *creds[][2] = {
		{"a", "b"}, {"alice", "s3cret"}, {"user with spaces", "p\xc3\xa4ss:@/"}, {domain255, p255},
	};
	for (size_t i = 0; i < sizeof creds / sizeof creds[0]; i++) {
		int n = socks5_client_userpass(buf, sizeof buf, creds[i][0], creds[i][1]);
		assert_int_equal(n, 3 + strlen(creds[i][0]) + strlen(creds[i][1]));
		feed_valid(&g, P_USERPASS, buf, (size_t)n, &got);
		assert_string_equal(got.user, creds[i][0]);
		assert_string_equal(got.pass, creds[i][1]);
	}
	const uint8_t statuses[] = {0, 1, 0xff};
	for (size_t i = 0; i < sizeof statuses; i++) {
		int n = socks5_server_userpass_reply(buf, sizeof buf, statuses[i]);
		feed_valid(&g, P_USERPASS_REPLY, buf, (size_t)n, &got);
		assert_int_equal(got.status, statuses[i]);
	}
	guard_free(&g);
}

static void test_round_trip_request_reply(void **state)
{
	(void)state;
	struct guard g;
	guard_init(&g);
	make_domain255();
	const struct {
		const char *host;
		uint16_t port;
		size_t wire; /* request length */
	} dsts[] = {
		{"1.2.3.4", 80, 10},       {"0.0.0.0", 0, 10},          {"255.255.255.255", 65535, 10},
		{"::", 1, 22},             {"2001:db8::1", 443, 22},    {"x", 80, 3 + 1 + 1 + 1 + 2},
		{"example.com", 443, 18},  {domain255, 8080, 3 + 1 + 1 + 255 + 2},
	};
	const uint8_t cmds[] = {SOCKS5_CMD_CONNECT, SOCKS5_CMD_BIND, SOCKS5_CMD_UDP_ASSOCIATE, 0x7f};
	uint8_t buf[600];
	struct parsed got;
	for (size_t d = 0; d < sizeof dsts / sizeof dsts[0]; d++) {
		struct socks5_addr dst;
		assert_int_equal(socks5_addr_from_host(&dst, dsts[d].host, dsts[d].port), 0);
		for (size_t c = 0; c < sizeof cmds; c++) {
			int n = socks5_client_request(buf, sizeof buf, cmds[c], &dst);
			assert_int_equal(n, dsts[d].wire);
			feed_valid(&g, P_REQUEST, buf, (size_t)n, &got);
			assert_int_equal(got.cmd, cmds[c]);
			assert_addr_equal(&got.addr, &dst);
		}
		/* the same address as the bound address of a reply, with every reply code */
		for (int rep = 0; rep <= 9; rep++) {
			int n = socks5_server_reply(buf, sizeof buf, (uint8_t)rep, &dst);
			assert_int_equal(n, dsts[d].wire);
			feed_valid(&g, P_REPLY, buf, (size_t)n, &got);
			assert_int_equal(got.rep, rep);
			assert_addr_equal(&got.addr, &dst);
		}
	}
	int n = socks5_server_reply(buf, sizeof buf, SOCKS5_REP_GENERAL_FAILURE, NULL);
	feed_valid(&g, P_REPLY, buf, (size_t)n, &got);
	assert_int_equal(got.rep, SOCKS5_REP_GENERAL_FAILURE);
	struct socks5_addr zero;
	assert_int_equal(socks5_addr_from_host(&zero, "0.0.0.0", 0), 0);
	assert_addr_equal(&got.addr, &zero);
	guard_free(&g);
}

/* ---- every error code, whole and byte by byte ---- */

struct error_case {
	enum parser parser;
	uint8_t bytes[16];
	size_t len;
	int err;
	const char *why;
	size_t at; /* the first prefix length that proves the error */
};

static const struct error_case error_cases[] = {
	{P_GREETING, {4, 1, 0}, 3, SOCKS5_E_VERSION, "SOCKS4 greeting", 1},
	{P_GREETING, {'G', 'E', 'T', ' '}, 4, SOCKS5_E_VERSION, "HTTP to a SOCKS port", 1},
	{P_GREETING, {5, 0}, 2, SOCKS5_E_NO_METHODS, "zero methods", 2},
	{P_USERPASS, {5, 1, 'a', 1, 'b'}, 5, SOCKS5_E_VERSION, "auth version 5", 1},
	{P_USERPASS, {1, 0, 1, 'b'}, 4, SOCKS5_E_AUTH_FIELD, "empty user", 2},
	{P_USERPASS, {1, 1, 'a', 0}, 4, SOCKS5_E_AUTH_FIELD, "empty password", 4},
	{P_USERPASS, {1, 2, 'a', 0, 1, 'b'}, 6, SOCKS5_E_AUTH_FIELD, "NUL in user", 4},
	{P_USERPASS, {1, 1, 'a', 2, 'b', 0}, 6, SOCKS5_E_AUTH_FIELD, "NUL in password", 6},
	{P_REQUEST, {4, 1, 0, 1, 1, 2, 3, 4, 0, 80}, 10, SOCKS5_E_VERSION, "version 4 request", 1},
	{P_REQUEST, {5, 1, 1, 1, 1, 2, 3, 4, 0, 80}, 10, SOCKS5_E_RESERVED, "reserved byte 1", 3},
	{P_REQUEST, {5, 1, 0x80, 1, 1, 2, 3, 4, 0, 80}, 10, SOCKS5_E_RESERVED, "reserved byte 0x80", 3},
	{P_REQUEST, {5, 1, 0, 2, 1, 2, 3, 4, 0, 80}, 10, SOCKS5_E_ATYP, "atyp 2", 4},
	{P_REQUEST, {5, 1, 0, 0}, 4, SOCKS5_E_ATYP, "atyp 0", 4},
	{P_REQUEST, {5, 1, 0, 0xff}, 4, SOCKS5_E_ATYP, "atyp 255", 4},
	{P_REQUEST, {5, 1, 0, 3, 0, 0, 80}, 7, SOCKS5_E_DOMAIN, "empty domain", 5},
	{P_REQUEST, {5, 1, 0, 3, 3, 'a', 0, 'b', 0, 80}, 10, SOCKS5_E_DOMAIN, "NUL in domain", 7},
	{P_METHOD, {4, 0}, 2, SOCKS5_E_VERSION, "method reply version 4", 1},
	{P_METHOD, {5, 1}, 2, SOCKS5_E_METHOD, "GSSAPI chosen, never offered", 2},
	{P_METHOD, {5, 3}, 2, SOCKS5_E_METHOD, "method 3", 2},
	{P_METHOD, {5, 0x80}, 2, SOCKS5_E_METHOD, "private method", 2},
	{P_USERPASS_REPLY, {5, 0}, 2, SOCKS5_E_VERSION, "auth reply version 5", 1},
	{P_USERPASS_REPLY, {0, 0}, 2, SOCKS5_E_VERSION, "auth reply version 0", 1},
	{P_REPLY, {4, 0, 0, 1, 1, 2, 3, 4, 0, 80}, 10, SOCKS5_E_VERSION, "SOCKS4-style reply", 1},
	{P_REPLY, {0, 90, 0, 80, 1, 2, 3, 4}, 8, SOCKS5_E_VERSION, "a real SOCKS4 reply", 1},
	{P_REPLY, {5, 0, 1, 1, 1, 2, 3, 4, 0, 80}, 10, SOCKS5_E_RESERVED, "reply reserved byte", 3},
	{P_REPLY, {5, 0, 0, 5}, 4, SOCKS5_E_ATYP, "reply atyp 5", 4},
	{P_REPLY, {5, 1, 0, 0}, 4, SOCKS5_E_ATYP, "failure reply with atyp 0", 4},
	{P_REPLY, {5, 0, 0, 3, 0}, 5, SOCKS5_E_DOMAIN, "reply empty domain", 5},
	{P_REPLY, {5, 0, 0, 3, 1, 0, 0, 80}, 8, SOCKS5_E_DOMAIN, "reply domain is a NUL", 6},
};

static void test_errors(void **state)
{
	(void)state;
	struct guard g;
	guard_init(&g);
	bool seen[16] = {false};
	for (size_t i = 0; i < sizeof error_cases / sizeof error_cases[0]; i++) {
		const struct error_case *c = &error_cases[i];
		struct parsed got;
		for (size_t k = 0; k <= c->len; k++) {
			int err = SOCKS5_E_NONE;
			int r = run_parser(c->parser, flush(&g, c->bytes, k), k, &got, &err);
			int want = k < c->at ? SOCKS5_NEED_MORE : SOCKS5_ERROR;
			if (r != want || (r == SOCKS5_ERROR && err != c->err))
				fail_msg("%s (%s), %zu of %zu bytes: returned %d err %d (%s), expected "
					 "%d err %d (%s)", parser_names[c->parser], c->why, k, c->len, r,
					 err, socks5_strerror(err), want, c->err, socks5_strerror(c->err));
		}
		/* err may be NULL */
		assert_int_equal(run_parser(c->parser, c->bytes, c->len, &got, NULL), SOCKS5_ERROR);
		seen[c->err] = true;
	}
	for (int e = SOCKS5_E_VERSION; e <= SOCKS5_E_METHOD; e++)
		if (!seen[e])
			fail_msg("error code %d (%s) has no case", e, socks5_strerror(e));
	guard_free(&g);
}

/* Empty input is never an error, for every parser. */
static void test_empty_input(void **state)
{
	(void)state;
	struct parsed got;
	for (int p = 0; p < P_COUNT; p++) {
		int err = SOCKS5_E_NONE;
		assert_int_equal(run_parser((enum parser)p, (const uint8_t *)"", 0, &got, &err),
				 SOCKS5_NEED_MORE);
	}
}

/* ---- encoders: -ENOSPC below the exact size, never a byte past cap ---- */

static void check_caps(const char *what, int (*encode)(uint8_t *, size_t, const void *),
		       const void *arg)
{
	uint8_t out[600];
	int n = encode(out, sizeof out, arg);
	assert_true(n > 0);
	for (size_t cap = 0; cap <= (size_t)n; cap++) {
		memset(out, 0xa5, sizeof out);
		int r = encode(out, cap, arg);
		int want = cap < (size_t)n ? -ENOSPC : n;
		if (r != want)
			fail_msg("%s: cap %zu returned %d, expected %d", what, cap, r, want);
		for (size_t i = cap; i < sizeof out; i++)
			if (out[i] != 0xa5)
				fail_msg("%s: cap %zu wrote byte %zu", what, cap, i);
	}
}

static int enc_greeting(uint8_t *o, size_t cap, const void *a)
{
	return socks5_client_greeting(o, cap, *(const bool *)a);
}
static int enc_userpass(uint8_t *o, size_t cap, const void *a)
{
	const char *const *up = a;
	return socks5_client_userpass(o, cap, up[0], up[1]);
}
static int enc_request(uint8_t *o, size_t cap, const void *a)
{
	return socks5_client_request(o, cap, SOCKS5_CMD_CONNECT, a);
}
static int enc_reply(uint8_t *o, size_t cap, const void *a)
{
	return socks5_server_reply(o, cap, SOCKS5_REP_SUCCEEDED, a);
}
static int enc_method(uint8_t *o, size_t cap, const void *a)
{
	(void)a;
	return socks5_server_method(o, cap, SOCKS5_METHOD_USERPASS);
}
static int enc_userpass_reply(uint8_t *o, size_t cap, const void *a)
{
	(void)a;
	return socks5_server_userpass_reply(o, cap, 0);
}

static void test_encoder_limits(void **state)
{
	(void)state;
	make_domain255();
	bool yes = true, no = false;
	check_caps("greeting", enc_greeting, &no);
	check_caps("greeting+userpass", enc_greeting, &yes);
	const char *up[2] = {"user", domain255};
	check_caps("userpass", enc_userpass, up);
	check_caps("method", enc_method, NULL);
	check_caps("userpass reply", enc_userpass_reply, NULL);
	const char *hosts[] = {"10.0.0.1", "fe80::1", "a.test", domain255};
	for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
		struct socks5_addr a;
		assert_int_equal(socks5_addr_from_host(&a, hosts[i], 1234), 0);
		check_caps("request", enc_request, &a);
		check_caps("reply", enc_reply, &a);
	}
	check_caps("reply NULL", enc_reply, NULL);

	uint8_t out[600];
	static char long256[257];
	memset(long256, 'l', 256);
	assert_int_equal(socks5_client_userpass(out, sizeof out, "", "p"), -EINVAL);
	assert_int_equal(socks5_client_userpass(out, sizeof out, "u", ""), -EINVAL);
	assert_int_equal(socks5_client_userpass(out, sizeof out, long256, "p"), -EINVAL);
	assert_int_equal(socks5_client_userpass(out, sizeof out, "u", long256), -EINVAL);
	struct socks5_addr bad = {.atyp = 2, .port = 1};
	assert_int_equal(socks5_client_request(out, sizeof out, 1, &bad), -EINVAL);
	assert_int_equal(socks5_server_reply(out, sizeof out, 0, &bad), -EINVAL);
	struct socks5_addr empty = {.atyp = SOCKS5_ATYP_DOMAIN, .port = 1};
	assert_int_equal(socks5_client_request(out, sizeof out, 1, &empty), -EINVAL);
}

/* ---- names ---- */

static void test_names(void **state)
{
	(void)state;
	const char *const replies[] = {
		"succeeded", "general SOCKS server failure", "connection not allowed by ruleset",
		"network unreachable", "host unreachable", "connection refused", "TTL expired",
		"command not supported", "address type not supported",
	};
	for (int r = 0; r <= SOCKS5_REP_ATYP_NOT_SUPPORTED; r++)
		assert_string_equal(socks5_reply_name(r), replies[r]);
	assert_string_equal(socks5_reply_name(9), "unknown reply");
	assert_string_equal(socks5_reply_name(255), "unknown reply");
	assert_string_equal(socks5_reply_name(-1), "unknown reply");

	assert_string_equal(socks5_strerror(SOCKS5_E_NONE), "no error");
	assert_string_equal(socks5_strerror(99), "unknown SOCKS5 error");
	assert_string_equal(socks5_strerror(-1), "unknown SOCKS5 error");
	for (int a = SOCKS5_E_VERSION; a <= SOCKS5_E_METHOD; a++) {
		assert_string_not_equal(socks5_strerror(a), "unknown SOCKS5 error");
		for (int b = SOCKS5_E_NONE; b < a; b++)
			assert_string_not_equal(socks5_strerror(a), socks5_strerror(b));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_from_host_and_format),
		cmocka_unit_test(test_golden_bytes),
		cmocka_unit_test(test_round_trip_handshake),
		cmocka_unit_test(test_round_trip_request_reply),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_empty_input),
		cmocka_unit_test(test_encoder_limits),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
