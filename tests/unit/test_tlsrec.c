/* Unit tests for lib/tlsrec: SNI and version from the hellos (fed whole and byte by
 * byte), plaintext alerts, TLS 1.2 encrypted alerts, TLS 1.3 probable close_notify,
 * truncation candidates, and what snaplen cuts and gaps do to sync. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/tlsrec.h"

struct buf {
	uint8_t b[4096];
	size_t len;
};

static void add(struct buf *b, const void *p, size_t n)
{
	memcpy(b->b + b->len, p, n);
	b->len += n;
}
static void add8(struct buf *b, unsigned v) { b->b[b->len++] = (uint8_t)v; }
static void add16(struct buf *b, unsigned v) { add8(b, v >> 8); add8(b, v & 0xff); }
static void add24(struct buf *b, unsigned v) { add8(b, v >> 16); add16(b, v & 0xffff); }

static void record(struct buf *b, unsigned type, const uint8_t *body, size_t n)
{
	add8(b, type);
	add16(b, 0x0303);
	add16(b, (unsigned)n);
	if (body)
		add(b, body, n);
	else
		for (size_t i = 0; i < n; i++)
			add8(b, 0xa5);
}

static void client_hello(struct buf *out, const char *sni)
{
	struct buf h = {0};
	add16(&h, 0x0303);
	for (int i = 0; i < 32; i++)
		add8(&h, i);
	add8(&h, 0);            /* session id */
	add16(&h, 4);           /* cipher suites */
	add16(&h, 0x1301);
	add16(&h, 0xc02f);
	add8(&h, 1);
	add8(&h, 0);            /* compression */
	struct buf e = {0};
	add16(&e, 10);          /* supported_groups, before SNI */
	add16(&e, 4);
	add16(&e, 2);
	add16(&e, 29);
	size_t n = strlen(sni);
	add16(&e, 0);           /* server_name */
	add16(&e, (unsigned)(n + 5));
	add16(&e, (unsigned)(n + 3));
	add8(&e, 0);
	add16(&e, (unsigned)n);
	add(&e, sni, n);
	add16(&h, (unsigned)e.len);
	add(&h, e.b, e.len);
	struct buf m = {0};
	add8(&m, 1);
	add24(&m, (unsigned)h.len);
	add(&m, h.b, h.len);
	record(out, 22, m.b, m.len);
}

static void server_hello(struct buf *out, bool tls13)
{
	struct buf h = {0};
	add16(&h, 0x0303);
	for (int i = 0; i < 32; i++)
		add8(&h, 0x40 + i);
	add8(&h, 0);
	add16(&h, tls13 ? 0x1301 : 0xc02f);
	add8(&h, 0);
	struct buf e = {0};
	if (tls13) {
		add16(&e, 43);
		add16(&e, 2);
		add16(&e, 0x0304);
	}
	add16(&h, (unsigned)e.len);
	add(&h, e.b, e.len);
	struct buf m = {0};
	add8(&m, 2);
	add24(&m, (unsigned)h.len);
	add(&m, h.b, h.len);
	record(out, 22, m.b, m.len);
}

static void feed_bytewise(struct tlsrec *t, const struct buf *b)
{
	for (size_t i = 0; i < b->len; i++)
		tlsrec_feed(t, b->b + i, 1);
}

static void test_sni_whole_and_bytewise(void **state)
{
	(void)state;
	struct buf b = {0};
	client_hello(&b, "origin.test");
	for (int way = 0; way < 2; way++) {
		struct tlsrec t;
		tlsrec_init(&t);
		if (way)
			feed_bytewise(&t, &b);
		else
			tlsrec_feed(&t, b.b, b.len);
		assert_int_equal(t.state, TLSREC_ACTIVE);
		assert_true(t.client_hello);
		assert_string_equal(t.sni, "origin.test");
		assert_int_equal(t.records, 1);
		assert_null(t.hs); /* freed once read */
		assert_int_equal(tlsrec_close_kind(&t, false), TLSREC_CLOSE_HANDSHAKE);
		tlsrec_free(&t);
	}
}

static void test_client_hello_split_over_records(void **state)
{
	(void)state;
	struct buf ch = {0}, b = {0};
	client_hello(&ch, "split.example");
	/* Re-frame the handshake message as two records. */
	size_t body = ch.len - 5, half = body / 2;
	record(&b, 22, ch.b + 5, half);
	record(&b, 22, ch.b + 5 + half, body - half);
	struct tlsrec t;
	tlsrec_init(&t);
	tlsrec_feed(&t, b.b, b.len);
	assert_string_equal(t.sni, "split.example");
	assert_int_equal(t.handshake_records, 2);
	tlsrec_free(&t);
}

static void test_server_hello_versions(void **state)
{
	(void)state;
	for (int v13 = 0; v13 < 2; v13++) {
		struct buf b = {0};
		server_hello(&b, v13);
		struct tlsrec t;
		tlsrec_init(&t);
		feed_bytewise(&t, &b);
		assert_true(t.server_hello);
		assert_int_equal(t.version, v13 ? 0x0304 : 0x0303);
		assert_string_equal(tlsrec_version_name(t.version), v13 ? "TLS1.3" : "TLS1.2");
		tlsrec_free(&t);
	}
}

static void test_plaintext_fatal_alert(void **state)
{
	(void)state;
	struct buf b = {0};
	server_hello(&b, false);
	record(&b, 21, (const uint8_t[]){2, 40}, 2);
	struct tlsrec t;
	tlsrec_init(&t);
	feed_bytewise(&t, &b);
	assert_int_equal(t.alerts, 1);
	assert_int_equal(t.last_alert.level, 2);
	assert_int_equal(t.last_alert.desc, 40);
	assert_false(t.last_alert.encrypted);
	char nb[16];
	assert_string_equal(tlsrec_alert_name(t.last_alert.desc, nb, sizeof nb), "handshake_failure");
	assert_string_equal(tlsrec_alert_name(222, nb, sizeof nb), "unknown(222)");
	assert_int_equal(tlsrec_close_kind(&t, false), TLSREC_CLOSE_ALERT);
	tlsrec_free(&t);
}

static void test_tls12_encrypted_alert_after_ccs(void **state)
{
	(void)state;
	struct buf b = {0};
	server_hello(&b, false);
	record(&b, 20, (const uint8_t[]){1}, 1);
	record(&b, 22, NULL, 40); /* encrypted Finished */
	record(&b, 23, NULL, 300);
	record(&b, 21, NULL, 26); /* encrypted alert */
	struct tlsrec t;
	tlsrec_init(&t);
	tlsrec_feed(&t, b.b, b.len);
	assert_true(t.ccs_seen);
	assert_int_equal(t.alerts, 1);
	assert_true(t.last_alert.encrypted);
	assert_int_equal(tlsrec_close_kind(&t, false), TLSREC_CLOSE_ENCRYPTED_ALERT);
	assert_string_equal(tlsrec_close_name(TLSREC_CLOSE_ENCRYPTED_ALERT), "encrypted_alert");
	tlsrec_free(&t);
}

static void test_tls13_probable_close_notify_and_truncation(void **state)
{
	(void)state;
	struct buf b = {0};
	server_hello(&b, true);
	record(&b, 20, (const uint8_t[]){1}, 1);
	record(&b, 23, NULL, 1200);
	record(&b, 23, NULL, 19);
	struct tlsrec t;
	tlsrec_init(&t);
	tlsrec_feed(&t, b.b, b.len);
	assert_int_equal(tlsrec_close_kind(&t, true), TLSREC_CLOSE_PROBABLE_NOTIFY);
	assert_int_equal(tlsrec_close_kind(&t, false), TLSREC_CLOSE_NO_NOTIFY);
	tlsrec_free(&t);

	/* The same stream cut after the big record: no close_notify, a truncation candidate. */
	struct tlsrec u;
	tlsrec_init(&u);
	tlsrec_feed(&u, b.b, b.len - 24);
	assert_int_equal(tlsrec_close_kind(&u, true), TLSREC_CLOSE_NO_NOTIFY);
	/* ...and cut inside it. */
	struct tlsrec v;
	tlsrec_init(&v);
	tlsrec_feed(&v, b.b, b.len - 100);
	assert_int_equal(tlsrec_close_kind(&v, true), TLSREC_CLOSE_MID_RECORD);
	tlsrec_free(&u);
	tlsrec_free(&v);
}

static void test_not_tls(void **state)
{
	(void)state;
	struct tlsrec t;
	tlsrec_init(&t);
	const char *http = "HTTP/1.1 200 OK\r\n\r\n";
	tlsrec_feed(&t, (const uint8_t *)http, strlen(http));
	assert_int_equal(t.state, TLSREC_NOT_TLS);
	assert_int_equal(tlsrec_close_kind(&t, false), TLSREC_CLOSE_UNKNOWN);
	assert_string_equal(tlsrec_state_name(t.state), "not_tls");
	tlsrec_free(&t);
}

static void test_cut_and_gap_inside_a_body_keep_sync(void **state)
{
	(void)state;
	struct buf b = {0};
	record(&b, 23, NULL, 1000);
	record(&b, 23, NULL, 19);
	struct tlsrec t;
	tlsrec_init(&t);
	tlsrec_feed(&t, b.b, 105);     /* header + 100 body bytes */
	tlsrec_feed(&t, NULL, 400);    /* snaplen cut inside the body */
	tlsrec_gap(&t, 500);           /* never seen, still inside the body */
	tlsrec_feed(&t, b.b + 1005, b.len - 1005);
	assert_int_equal(t.state, TLSREC_ACTIVE);
	assert_int_equal(t.app_records, 2);
	assert_int_equal(tlsrec_close_kind(&t, true), TLSREC_CLOSE_PROBABLE_NOTIFY);
	tlsrec_free(&t);

	/* A header inside uncaptured bytes: sync lost, and it says why. */
	struct tlsrec u;
	tlsrec_init(&u);
	tlsrec_feed(&u, b.b, 5);
	tlsrec_feed(&u, NULL, 1003);
	assert_int_equal(u.state, TLSREC_LOST);
	assert_true(u.lost_by_cut);
	assert_int_equal(tlsrec_close_kind(&u, true), TLSREC_CLOSE_UNKNOWN);
	tlsrec_free(&u);

	struct tlsrec v;
	tlsrec_init(&v);
	tlsrec_feed(&v, b.b, 5);
	tlsrec_gap(&v, 1003);
	assert_int_equal(v.state, TLSREC_LOST);
	assert_false(v.lost_by_cut);
	tlsrec_free(&v);
}

static void test_broken_header_later(void **state)
{
	(void)state;
	struct buf b = {0};
	record(&b, 23, NULL, 10);
	add(&b, "\x17\x03\x03\xff\xff", 5); /* 65535 > the record limit */
	struct tlsrec t;
	tlsrec_init(&t);
	tlsrec_feed(&t, b.b, b.len);
	assert_int_equal(t.state, TLSREC_BROKEN);
	assert_int_equal(t.records, 1);
	tlsrec_free(&t);
}

static void test_truncated_hello_is_harmless(void **state)
{
	(void)state;
	struct buf b = {0};
	client_hello(&b, "x.test");
	/* Every prefix, flush against the end of a heap block. */
	for (size_t n = 0; n <= b.len; n++) {
		uint8_t *copy = malloc(n ? n : 1);
		memcpy(copy, b.b, n);
		struct tlsrec t;
		tlsrec_init(&t);
		tlsrec_feed(&t, copy, n);
		if (n == b.len)
			assert_string_equal(t.sni, "x.test");
		else
			assert_string_equal(t.sni, "");
		tlsrec_free(&t);
		free(copy);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sni_whole_and_bytewise),
		cmocka_unit_test(test_client_hello_split_over_records),
		cmocka_unit_test(test_server_hello_versions),
		cmocka_unit_test(test_plaintext_fatal_alert),
		cmocka_unit_test(test_tls12_encrypted_alert_after_ccs),
		cmocka_unit_test(test_tls13_probable_close_notify_and_truncation),
		cmocka_unit_test(test_not_tls),
		cmocka_unit_test(test_cut_and_gap_inside_a_body_keep_sync),
		cmocka_unit_test(test_broken_header_later),
		cmocka_unit_test(test_truncated_hello_is_harmless),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
