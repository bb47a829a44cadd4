/* Unit tests for lib/tcpreasm: offsets from the ISN across the 2^32 wrap and past
 * 4 GiB, midstream pickup, retransmissions and overlaps (first copy wins, differing
 * bytes flagged), out-of-order holding, gaps, caps, snaplen-cut payload, FIN/RST. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <string.h>

#include "lib/pkt.h"
#include "lib/tcpreasm.h"

/* What the callback saw: the stream rebuilt ('?' for uncaptured, '_' for gaps). */
struct sink {
	char buf[8192];
	uint64_t expect_off;
	size_t calls;
	uint64_t total[3];
	int order_errors;
};

static void sink_cb(void *ctx, enum tcpreasm_kind kind, uint64_t off, const uint8_t *data,
		    size_t len)
{
	struct sink *s = ctx;
	if (off != s->expect_off)
		s->order_errors++;
	s->expect_off = off + len;
	s->calls++;
	s->total[kind] += len;
	for (size_t i = 0; i < len; i++) {
		if (off + i >= sizeof s->buf - 1)
			break;
		s->buf[off + i] = kind == TCPREASM_DATA ? (char)data[i] :
				  kind == TCPREASM_UNCAPTURED ? '?' : '_';
	}
}

static void seg(struct tcpreasm *r, uint32_t seq, uint8_t flags, const char *data)
{
	uint32_t n = data ? (uint32_t)strlen(data) : 0;
	tcpreasm_segment(r, seq, flags, (const uint8_t *)data, n, n);
}

static void test_in_order_from_syn(void **state)
{
	(void)state;
	struct sink s = {0};
	struct tcpreasm r;
	tcpreasm_init(&r, NULL, sink_cb, &s);
	seg(&r, 1000, PKT_SYN, NULL);
	seg(&r, 1001, PKT_ACK, "hello ");
	seg(&r, 1007, PKT_ACK | PKT_FIN, "world");
	tcpreasm_finish(&r);
	assert_false(r.partial);
	assert_int_equal(r.isn, 1000);
	assert_string_equal(s.buf, "hello world");
	assert_int_equal(r.next, 11);
	assert_true(r.fin_seen);
	assert_int_equal(r.fin_off, 11);
	assert_int_equal(r.bytes_data, 11);
	assert_int_equal(r.retrans_bytes, 0);
	assert_int_equal(s.order_errors, 0);
	assert_int_equal(tcpreasm_offset(&r, 1012), 11); /* an ACK covering the FIN */
	tcpreasm_free(&r);
}

static void test_sequence_wrap(void **state)
{
	(void)state;
	struct sink s = {0};
	struct tcpreasm r;
	tcpreasm_init(&r, NULL, sink_cb, &s);
	uint32_t isn = 0xffffffb0u;
	seg(&r, isn, PKT_SYN, NULL);
	char chunk[33];
	uint32_t seq = isn + 1;
	for (int i = 0; i < 10; i++) {
		memset(chunk, 'a' + i, 32);
		chunk[32] = '\0';
		seg(&r, seq, PKT_ACK, chunk);
		seq += 32;
	}
	/* A retransmission of bytes from before the wrap point, after it. */
	seg(&r, isn + 1, PKT_ACK, "aaaa");
	tcpreasm_finish(&r);
	assert_int_equal(r.next, 320);
	assert_int_equal(r.highest, 320);
	assert_int_equal(r.retrans_segments, 1);
	assert_int_equal(s.order_errors, 0);
	assert_int_equal(s.buf[319], 'j');
	assert_int_equal(tcpreasm_offset(&r, seq), 320);
	tcpreasm_free(&r);
}

static void test_longer_than_4gib(void **state)
{
	(void)state;
	struct tcpreasm r;
	tcpreasm_init(&r, NULL, NULL, NULL);
	uint32_t seq = 0x7fff0000u;
	tcpreasm_segment(&r, seq, PKT_SYN, NULL, 0, 0);
	seq++;
	const uint32_t n = 65000;
	uint64_t total = 0;
	for (int i = 0; i < 90000; i++) { /* ~5.8 GB, nothing captured */
		tcpreasm_segment(&r, seq, PKT_ACK, NULL, n, 0);
		seq += n;
		total += n;
	}
	tcpreasm_segment(&r, seq, PKT_FIN | PKT_ACK, NULL, 0, 0);
	tcpreasm_finish(&r);
	assert_true(total > (1ull << 32));
	assert_int_equal(r.next, total);
	assert_int_equal(r.bytes_uncaptured, total);
	assert_int_equal(r.fin_off, total);
	assert_int_equal(r.bytes_missed, 0);
	tcpreasm_free(&r);
}

static void test_retransmission_first_copy_wins(void **state)
{
	(void)state;
	struct sink s = {0};
	struct tcpreasm r;
	struct tcpreasm_limits lim = {.recent_window = 4096};
	tcpreasm_init(&r, &lim, sink_cb, &s);
	seg(&r, 0, PKT_SYN, NULL);
	seg(&r, 1, PKT_ACK, "abcdef");
	seg(&r, 1, PKT_ACK, "abcdef"); /* same bytes */
	assert_int_equal(r.retrans_segments, 1);
	assert_int_equal(r.overlap_differs, 0);
	seg(&r, 3, PKT_ACK, "cXe"); /* different bytes inside what was delivered */
	assert_int_equal(r.overlap_differs, 1);
	seg(&r, 5, PKT_ACK, "efgh"); /* overlaps the end, new bytes after it */
	assert_int_equal(r.overlap_differs, 1);
	tcpreasm_finish(&r);
	assert_string_equal(s.buf, "abcdefgh");
	assert_int_equal(r.retrans_bytes, 6 + 3 + 2);
	tcpreasm_free(&r);
}

static void test_out_of_order_held_and_delivered(void **state)
{
	(void)state;
	struct sink s = {0};
	struct tcpreasm r;
	tcpreasm_init(&r, NULL, sink_cb, &s);
	seg(&r, 99, PKT_SYN, NULL);
	seg(&r, 106, PKT_ACK, "ghi");
	seg(&r, 103, PKT_ACK, "def");
	assert_int_equal(r.next, 0);
	assert_int_equal(r.nheld, 2);
	seg(&r, 100, PKT_ACK, "abc");
	assert_int_equal(r.next, 9);
	assert_int_equal(r.nheld, 0);
	assert_string_equal(s.buf, "abcdefghi");
	assert_int_equal(r.ooo_segments, 2);
	assert_int_equal(s.order_errors, 0);
	tcpreasm_free(&r);
}

static void test_overlap_with_held_keeps_first_copy(void **state)
{
	(void)state;
	struct sink s = {0};
	struct tcpreasm r;
	tcpreasm_init(&r, NULL, sink_cb, &s);
	seg(&r, 0, PKT_SYN, NULL);
	seg(&r, 5, PKT_ACK, "EFG");      /* held [4,7) */
	seg(&r, 3, PKT_ACK, "cdxxxhi");  /* held around it, disagrees on [4,7) */
	assert_int_equal(r.overlap_differs, 1);
	seg(&r, 1, PKT_ACK, "abc");
	assert_string_equal(s.buf, "abcdEFGhi");
	/* A new in-order segment that runs over held bytes loses to them too. */
	seg(&r, 12, PKT_ACK, "LM");      /* held [11,13) */
	seg(&r, 10, PKT_ACK, "jkzzn");   /* [9,14): in order up to 11, then held wins */
	tcpreasm_finish(&r);
	assert_string_equal(s.buf, "abcdEFGhijkLMn");
	assert_int_equal(r.overlap_differs, 2);
	assert_int_equal(s.order_errors, 0);
	tcpreasm_free(&r);
}

static void test_gap_declared_at_finish(void **state)
{
	(void)state;
	struct sink s = {0};
	struct tcpreasm r;
	tcpreasm_init(&r, NULL, sink_cb, &s);
	seg(&r, 0, PKT_SYN, NULL);
	seg(&r, 1, PKT_ACK, "ab");
	seg(&r, 6, PKT_ACK, "fg");  /* "cde" never captured */
	seg(&r, 8, PKT_FIN | PKT_ACK, NULL);
	assert_int_equal(r.fin_off, 7);
	tcpreasm_finish(&r);
	assert_string_equal(s.buf, "ab___fg");
	assert_int_equal(r.bytes_missed, 3);
	assert_int_equal(r.gaps, 1);
	assert_int_equal(r.next, 7);
	tcpreasm_free(&r);
}

static void test_fin_after_missing_tail(void **state)
{
	(void)state;
	struct sink s = {0};
	struct tcpreasm r;
	tcpreasm_init(&r, NULL, sink_cb, &s);
	seg(&r, 0, PKT_SYN, NULL);
	seg(&r, 1, PKT_ACK, "ab");
	seg(&r, 11, PKT_FIN | PKT_ACK, NULL); /* 8 bytes before the FIN never seen */
	tcpreasm_finish(&r);
	assert_int_equal(r.fin_off, 10);
	assert_int_equal(r.bytes_missed, 8);
	assert_int_equal(r.next, 10);
	tcpreasm_free(&r);
}

static void test_midstream_pickup(void **state)
{
	(void)state;
	struct sink s = {0};
	struct tcpreasm r;
	tcpreasm_init(&r, NULL, sink_cb, &s);
	seg(&r, 5000, PKT_ACK, "mid");
	seg(&r, 4990, PKT_ACK, "0123456789"); /* before what we first saw: dropped */
	seg(&r, 4998, PKT_ACK, "xxmidst");    /* straddles the start */
	tcpreasm_finish(&r);
	assert_true(r.partial);
	assert_false(r.syn_seen);
	assert_string_equal(s.buf, "midst");
	assert_int_equal(r.before_start, 12);
	tcpreasm_free(&r);
}

static void test_caps_bound_memory(void **state)
{
	(void)state;
	struct sink s = {0};
	struct tcpreasm r;
	struct tcpreasm_limits lim = {.max_held_segments = 4, .max_held_bytes = 64};
	tcpreasm_init(&r, &lim, sink_cb, &s);
	seg(&r, 0, PKT_SYN, NULL);
	/* A hole at [0,10), then 20 segments of 10 bytes beyond it. */
	for (int i = 0; i < 20; i++) {
		seg(&r, 11 + 10u * (uint32_t)i, PKT_ACK, "0123456789");
		assert_true(r.nheld <= 4);
		assert_true(r.held_bytes <= 64);
	}
	tcpreasm_finish(&r);
	assert_int_equal(r.bytes_missed, 10);
	assert_int_equal(r.next, 210);
	assert_int_equal(s.order_errors, 0);
	tcpreasm_free(&r);
}

static void test_snaplen_cut_and_rst(void **state)
{
	(void)state;
	struct sink s = {0};
	struct tcpreasm r;
	tcpreasm_init(&r, NULL, sink_cb, &s);
	tcpreasm_segment(&r, 0, PKT_SYN, NULL, 0, 0);
	tcpreasm_segment(&r, 1, PKT_ACK, (const uint8_t *)"abcdef", 10, 6);
	tcpreasm_segment(&r, 11, PKT_ACK, NULL, 5, 0);
	tcpreasm_segment(&r, 16, PKT_RST, NULL, 0, 0);
	tcpreasm_finish(&r);
	assert_string_equal(s.buf, "abcdef?????????");
	assert_int_equal(r.bytes_data, 6);
	assert_int_equal(r.bytes_uncaptured, 9);
	assert_true(r.rst_seen);
	assert_int_equal(r.rst_off, 15);
	assert_int_equal(s.total[TCPREASM_UNCAPTURED], 9);
	tcpreasm_free(&r);
	tcpreasm_free(&r); /* repeatable */
	tcpreasm_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order_from_syn),
		cmocka_unit_test(test_sequence_wrap),
		cmocka_unit_test(test_longer_than_4gib),
		cmocka_unit_test(test_retransmission_first_copy_wins),
		cmocka_unit_test(test_out_of_order_held_and_delivered),
		cmocka_unit_test(test_overlap_with_held_keeps_first_copy),
		cmocka_unit_test(test_gap_declared_at_finish),
		cmocka_unit_test(test_fin_after_missing_tail),
		cmocka_unit_test(test_midstream_pickup),
		cmocka_unit_test(test_caps_bound_memory),
		cmocka_unit_test(test_snaplen_cut_and_rst),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
