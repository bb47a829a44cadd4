/* Unit tests for the reference proxy's fault specs: parsing (one line per spec), the
 * deterministic choice of requests by key, and the table of where each fault acts
 * (fault.h), with the start-up check that refuses a fault idle in a mode served. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "proxy-under-test/fault.h"

static void test_good_specs(void **state)
{
	(void)state;
	const struct {
		const char *spec;
		enum fault_kind kind;
		uint64_t n;
		double p;
		uint64_t seed;
		enum fault_dir dir;
	} cases[] = {
		{"truncate:after=32768", FAULT_TRUNCATE, 32768, 1.0, 0, FAULT_DOWN},
		{"truncate:after=32768 p=0.17 seed=7", FAULT_TRUNCATE, 32768, 0.17, 7, FAULT_DOWN},
		{"rst:after=10,dir=up", FAULT_RST, 10, 1.0, 0, FAULT_UP},
		{"close-before-reply", FAULT_CLOSE_BEFORE_REPLY, 0, 1.0, 0, FAULT_DOWN},
		{"close-after-accept p=0.5", FAULT_CLOSE_AFTER_ACCEPT, 0, 0.5, 0, FAULT_DOWN},
		{"slow:bps=1000", FAULT_SLOW, 1000, 1.0, 0, FAULT_DOWN},
		{"corrupt:at=0", FAULT_CORRUPT, 0, 1.0, 0, FAULT_DOWN},
		{"no-fin seed=3", FAULT_NO_FIN, 0, 1.0, 3, FAULT_DOWN},
		{"reset-as-fin", FAULT_RESET_AS_FIN, 0, 1.0, 0, FAULT_DOWN},
		{"reset-as-fin dir=up", FAULT_RESET_AS_FIN, 0, 1.0, 0, FAULT_UP},
		{"fin-delay:ms=250", FAULT_FIN_DELAY, 250, 1.0, 0, FAULT_DOWN},
		{"reset:after=5000 p=0.5 seed=2", FAULT_RESET, 5000, 0.5, 2, FAULT_DOWN},
		{"close-conn:after=0,dir=up", FAULT_CLOSE_CONN, 0, 1.0, 0, FAULT_UP},
		{"flow-starve", FAULT_FLOW_STARVE, 0, 1.0, 0, FAULT_DOWN},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct fault f;
		const char *why = NULL;
		if (fault_parse(cases[i].spec, &f, &why) != 0)
			fail_msg("'%s' refused: %s", cases[i].spec, why);
		assert_int_equal(f.kind, cases[i].kind);
		assert_int_equal(f.n, cases[i].n);
		assert_true(f.p == cases[i].p);
		assert_int_equal(f.seed, cases[i].seed);
		assert_int_equal(f.dir, cases[i].dir);
		assert_string_equal(f.spec, cases[i].spec);
	}
}

static void test_bad_specs(void **state)
{
	(void)state;
	const char *bad[] = {"", "explode", "truncate", "truncate:after=", "truncate:after=x",
			     "rst:after=1 p=2", "slow:bps=0", "stall:after=1 dir=sideways",
			     "refuse color=red", "truncate:after=1 p=", "corrupt:after=3",
			     /* dir= for a fault without a direction would silently mean nothing */
			     "refuse dir=up", "close-before-reply dir=down", "full-close dir=up",
			     /* flow-starve withholds the upload's credit: no other direction */
			     "flow-starve dir=up", "fin-delay", "fin-delay:ms=", "reset",
			     "close-conn:after=x", "reset-as-fin:after=3"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct fault f;
		const char *why = NULL;
		if (fault_parse(bad[i], &f, &why) == 0)
			fail_msg("'%s' accepted", bad[i]);
		assert_non_null(why);
	}
}

static void test_same_seed_same_tunnels(void **state)
{
	(void)state;
	struct fault a, b, c;
	const char *why;
	assert_int_equal(fault_parse("truncate:after=1 p=0.17 seed=7", &a, &why), 0);
	assert_int_equal(fault_parse("truncate:after=1 p=0.17 seed=7", &b, &why), 0);
	assert_int_equal(fault_parse("truncate:after=1 p=0.17 seed=8", &c, &why), 0);
	unsigned hits = 0, differ = 0;
	for (uint64_t k = 0; k < 6000; k++) {
		assert_int_equal(fault_hits(&a, k), fault_hits(&b, k));
		hits += fault_hits(&a, k);
		differ += fault_hits(&a, k) != fault_hits(&c, k);
	}
	/* About 1 in 6 (0.17 * 6000 = 1020), and another seed picks other tunnels. */
	assert_in_range(hits, 900, 1140);
	assert_true(differ > 500);
}

/* Every kind has a complete row, and its name parses back to it. */
static void test_table_complete(void **state)
{
	(void)state;
	assert_null(fault_info(0));
	assert_null(fault_info(FAULT_KIND_END));
	assert_string_equal(fault_name(0), "?");
	for (int k = FAULT_TRUNCATE; k < FAULT_KIND_END; k++) {
		const struct fault_info *fi = fault_info((enum fault_kind)k);
		assert_non_null(fi);
		assert_non_null(fi->name);
		assert_string_equal(fault_name((enum fault_kind)k), fi->name);
		char spec[64];
		snprintf(spec, sizeof spec, "%s%s%s%s", fi->name, fi->param ? ":" : "",
			 fi->param ? fi->param : "", fi->param ? "=1" : "");
		struct fault f;
		const char *why = NULL;
		if (fault_parse(spec, &f, &why) != 0)
			fail_msg("'%s' refused: %s", spec, why);
		assert_int_equal(f.kind, k);
		/* Every fault acts somewhere whatever dir= it is given, and only in real modes. */
		for (int d = FAULT_DOWN; d <= FAULT_UP; d++) {
			if (fi->modes[d] == 0 ||
			    (fi->modes[d] & ~(unsigned)(FAULT_MODES_ALL | FAULT_MODES_QUIC)))
				fail_msg("%s: modes[%d] = %#x", fi->name, d, fi->modes[d]);
		}
		assert_in_range(fi->hook, FAULT_AT_REQUEST, FAULT_AT_CREDIT);
		assert_in_range(fi->scope, FAULT_SCOPE_HANDSHAKE, FAULT_SCOPE_UP);
		/* Only the fault that acts on write completions needs streams legs. */
		assert_int_equal(fi->needs_streams, fi->hook == FAULT_AT_SENT);
	}
	/* short-send-drop's after= may be left out (0: the first such completion); the
	 * other parameters may not. */
	struct fault f;
	const char *why = NULL;
	assert_int_equal(fault_parse("short-send-drop p=0.34 seed=6", &f, &why), 0);
	assert_int_equal(f.kind, FAULT_SHORT_SEND_DROP);
	assert_int_equal(f.n, 0);
	assert_int_equal(fault_parse("short-send-drop:after=32768,dir=up", &f, &why), 0);
	assert_int_equal(f.n, 32768);
	assert_int_equal(f.dir, FAULT_UP);
	assert_int_equal(fault_parse("truncate p=1", &f, &why), -EINVAL);
	assert_ptr_equal(fault_needs_streams(&f, 0), NULL);
	struct fault two[2];
	assert_int_equal(fault_parse("rst:after=5", &two[0], &why), 0);
	assert_int_equal(fault_parse("short-send-drop", &two[1], &why), 0);
	assert_ptr_equal(fault_needs_streams(two, 2), &two[1]);
	assert_ptr_equal(fault_needs_streams(two, 1), NULL);
}

/* The table of fault.h, one line per fault: what #14's property test holds the proxy
 * to. A change here is a change of what the proxy promises. */
static void test_table_rows(void **state)
{
	(void)state;
	const unsigned all = FAULT_MODES_ALL, quic = FAULT_MODES_QUIC, both = all | quic;
	const struct {
		enum fault_kind kind;
		enum fault_hook hook;
		enum fault_scope scope;
		unsigned down, up;
		bool sees_bytes;
	} rows[] = {
		{FAULT_TRUNCATE, FAULT_AT_WRITE, FAULT_SCOPE_DIR, both, both, true},
		{FAULT_RST, FAULT_AT_WRITE, FAULT_SCOPE_DIR, all, all, true},
		{FAULT_CLOSE_BEFORE_REPLY, FAULT_AT_REQUEST, FAULT_SCOPE_HANDSHAKE, all, all, false},
		{FAULT_CLOSE_MID_REPLY, FAULT_AT_REPLY, FAULT_SCOPE_HANDSHAKE, all, all, false},
		{FAULT_CLOSE_AFTER_ACCEPT, FAULT_AT_REPLY, FAULT_SCOPE_HANDSHAKE, all, all, false},
		{FAULT_REFUSE, FAULT_AT_REQUEST, FAULT_SCOPE_HANDSHAKE, all, all, false},
		{FAULT_NO_FIN, FAULT_AT_EOF, FAULT_SCOPE_DIR, both, both, false},
		{FAULT_FULL_CLOSE, FAULT_AT_EOF, FAULT_SCOPE_EITHER, all, all, false},
		{FAULT_STALL, FAULT_AT_WRITE, FAULT_SCOPE_DIR, both, both, true},
		{FAULT_CORRUPT, FAULT_AT_READ, FAULT_SCOPE_DIR, all, all, true},
		{FAULT_SLOW, FAULT_AT_WRITE, FAULT_SCOPE_DIR, all, all, true},
		{FAULT_DROP_CHUNK_END, FAULT_AT_LAST_CHUNK, FAULT_SCOPE_DIR, all, all, true},
		{FAULT_SHORT_SEND_DROP, FAULT_AT_SENT, FAULT_SCOPE_DIR, all, all, true},
		{FAULT_RESET_AS_FIN, FAULT_AT_RESET, FAULT_SCOPE_DIR, both, both, false},
		{FAULT_FIN_DELAY, FAULT_AT_EOF, FAULT_SCOPE_DIR, quic, quic, false},
		{FAULT_RESET, FAULT_AT_WRITE, FAULT_SCOPE_DIR, quic, quic, true},
		{FAULT_CLOSE_CONN, FAULT_AT_WRITE, FAULT_SCOPE_DIR, quic, quic, true},
		{FAULT_FLOW_STARVE, FAULT_AT_CREDIT, FAULT_SCOPE_UP, quic, quic, false},
	};
	assert_int_equal(sizeof rows / sizeof rows[0], FAULT_KIND_END - 1);
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		const struct fault_info *fi = fault_info(rows[i].kind);
		assert_non_null(fi);
		if (fi->hook != rows[i].hook || fi->scope != rows[i].scope ||
		    fi->modes[FAULT_DOWN] != rows[i].down || fi->modes[FAULT_UP] != rows[i].up ||
		    fi->sees_bytes != rows[i].sees_bytes)
			fail_msg("%s: row differs from the table of fault.h", fi->name);
	}
	/* The cases: each acts in forward mode too now. */
	const char *specs[] = {"corrupt:at=5000 dir=up", "close-after-accept", "close-mid-reply",
			       "drop-chunk-end dir=up"};
	for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
		struct fault f;
		const char *why;
		assert_int_equal(fault_parse(specs[i], &f, &why), 0);
		for (unsigned m = FAULT_MODE_FORWARD; m <= FAULT_MODE_SOCKS5; m <<= 1)
			if (!fault_acts_in(&f, (enum fault_mode)m))
				fail_msg("%s does not act in %s", specs[i], fault_mode_name((enum fault_mode)m));
	}
}

/* The start-up check: a fault idle in a mode the proxy serves is named, with the mode.
 * The TCP listeners serve forward, CONNECT and SOCKS5 and every TCP fault acts in all
 * three; a QUIC listener serves CONNECT over HTTP/3 and SOCKS5 on QUIC streams, where
 * only the QUIC rows act: each other fault is refused, naming the mode. */
static void test_idle_mode(void **state)
{
	(void)state;
	struct fault faults[FAULT_KIND_END - 1];
	size_t n = 0;
	for (int k = FAULT_TRUNCATE; k < FAULT_KIND_END; k++) {
		const struct fault_info *fi = fault_info((enum fault_kind)k);
		char spec[64];
		snprintf(spec, sizeof spec, "%s%s%s%s%s", fi->name, fi->param ? ":" : "",
			 fi->param ? fi->param : "", fi->param ? "=1" : "",
			 fi->scope == FAULT_SCOPE_DIR ? " dir=up" : "");
		const char *why;
		assert_int_equal(fault_parse(spec, &faults[n++], &why), 0);
	}
	enum fault_mode mode = 0;
	size_t ntcp = 0, nquic = 0;
	for (size_t i = 0; i < n; i++) {
		const struct fault_info *fi = fault_info(faults[i].kind);
		bool tcp = fi->modes[0] & FAULT_MODE_FORWARD, quic = fi->modes[0] & FAULT_MODE_H3;
		const struct fault *idle_tcp = fault_idle_mode(&faults[i], 1, FAULT_MODES_ALL, &mode);
		assert_true(tcp ? idle_tcp == NULL : idle_tcp == &faults[i]);
		if (!tcp)
			assert_int_equal(mode, FAULT_MODE_FORWARD);
		const struct fault *idle_q = fault_idle_mode(&faults[i], 1, FAULT_MODES_QUIC, &mode);
		assert_true(quic ? idle_q == NULL : idle_q == &faults[i]);
		if (!quic)
			assert_int_equal(mode, FAULT_MODE_H3);
		ntcp += tcp;
		nquic += quic;
	}
	assert_int_equal(ntcp, 14);  /* the twelve of SPEC §5, short-send-drop and reset-as-fin */
	assert_int_equal(nquic, 8);  /* the eight of issue 17 */
	assert_string_equal(fault_mode_name(FAULT_MODE_H3), "h3-connect");
	assert_string_equal(fault_mode_name(FAULT_MODE_QSOCKS5), "socks5-quic");
	/* A fault whose row left out a mode (as close-mid-reply's once left out forward)
	 * is caught: simulate it with a kind whose table row is not consulted. */
	struct fault odd = faults[0];
	odd.kind = (enum fault_kind)0;
	assert_ptr_equal(fault_idle_mode(&odd, 1, FAULT_MODE_SOCKS5, &mode), &odd);
	assert_int_equal(mode, FAULT_MODE_SOCKS5);
	assert_string_equal(fault_mode_name(FAULT_MODE_FORWARD), "forward");
	assert_string_equal(fault_mode_name(FAULT_MODE_CONNECT), "connect");
}

/* Which requests a fault hits is decided by the request's key: the same key, the same
 * answer in every run; a fixed list of keys gets a fixed set of hits. */
static void test_request_keys(void **state)
{
	(void)state;
	struct fault f;
	const char *why;
	assert_int_equal(fault_parse("truncate:after=1 p=0.34 seed=6", &f, &why), 0);
	assert_int_equal(fault_key_hash(""), 0xcbf29ce484222325ull); /* FNV-1a's offset basis */
	assert_int_equal(fault_key_hash("a"), 0xaf63dc4c8601ec8cull);
	unsigned hits = 0;
	char key[32];
	for (int target = 0; target < 6; target++)
		for (int seq = 0; seq < 100; seq++) {
			snprintf(key, sizeof key, "%d-%d", target, seq);
			bool hit = fault_hits(&f, fault_key_hash(key));
			assert_int_equal(hit, fault_hits(&f, fault_key_hash(key)));
			hits += hit;
		}
	assert_in_range(hits, 160, 250); /* about 0.34 of 600 */
}

/* fault_set_find follows each kind's scope: dir= where it matters (drop-chunk-end
 * too), either direction for full-close, none for handshake faults. */
static void test_set_find_by_scope(void **state)
{
	(void)state;
	const char *specs[] = {"truncate:after=1 dir=up", "drop-chunk-end dir=up", "full-close",
			       "refuse", "slow:bps=5 p=0"};
	struct fault faults[5];
	const char *why;
	for (size_t i = 0; i < 5; i++)
		assert_int_equal(fault_parse(specs[i], &faults[i], &why), 0);
	struct fault_set set;
	fault_set_pick(&set, faults, 5, 42);
	assert_int_equal(set.n, 4); /* p=0 hits nothing */
	assert_null(fault_set_find(&set, FAULT_TRUNCATE, FAULT_DOWN));
	assert_ptr_equal(fault_set_find(&set, FAULT_TRUNCATE, FAULT_UP), &faults[0]);
	assert_null(fault_set_find(&set, FAULT_DROP_CHUNK_END, FAULT_DOWN));
	assert_ptr_equal(fault_set_find(&set, FAULT_DROP_CHUNK_END, FAULT_UP), &faults[1]);
	assert_ptr_equal(fault_set_find(&set, FAULT_FULL_CLOSE, FAULT_DOWN), &faults[2]);
	assert_ptr_equal(fault_set_find(&set, FAULT_FULL_CLOSE, FAULT_UP), &faults[2]);
	assert_ptr_equal(fault_set_find(&set, FAULT_REFUSE, FAULT_DOWN), &faults[3]);
	assert_null(fault_set_find(&set, FAULT_SLOW, FAULT_DOWN));
	assert_null(fault_set_find(&set, FAULT_STALL, FAULT_DOWN));
	assert_true(fault_set_sees_bytes(&set));
	/* The ledger's "fault": the specs hit, in set order; cut, never overrun. */
	char specs_out[FAULT_SPECS_MAX];
	fault_set_specs(&set, specs_out, sizeof specs_out);
	assert_string_equal(specs_out, "truncate:after=1 dir=up; drop-chunk-end dir=up; full-close; refuse");
	fault_set_specs(&set, specs_out, 12);
	assert_string_equal(specs_out, "truncate:af");
	fault_set_pick(&set, faults + 2, 2, 42); /* full-close, refuse */
	assert_false(fault_set_sees_bytes(&set));
	fault_set_pick(&set, faults + 4, 1, 42); /* p=0: none */
	fault_set_specs(&set, specs_out, sizeof specs_out);
	assert_string_equal(specs_out, "");
	fault_set_pick(&set, faults + 2, 2, 42);
	/* flow-starve acts on the upload only, and counts its acts in set order. */
	struct fault starve;
	assert_int_equal(fault_parse("flow-starve", &starve, &why), 0);
	fault_set_pick(&set, &starve, 1, 42);
	assert_null(fault_set_find(&set, FAULT_FLOW_STARVE, FAULT_DOWN));
	assert_ptr_equal(fault_set_find(&set, FAULT_FLOW_STARVE, FAULT_UP), &starve);
	uint32_t acts[FAULT_MAX] = {0};
	fault_set_acted(&set, acts, &starve);
	fault_set_acted(&set, acts, &faults[0]); /* not of the set: not counted */
	assert_int_equal(acts[0], 1);
	/* At most FAULT_MAX hit one tunnel. */
	struct fault many[FAULT_MAX + 2];
	for (size_t i = 0; i < FAULT_MAX + 2; i++)
		assert_int_equal(fault_parse("no-fin", &many[i], &why), 0);
	fault_set_pick(&set, many, FAULT_MAX + 2, 0);
	assert_int_equal(set.n, FAULT_MAX);
}

static void test_last_chunk(void **state)
{
	(void)state;
	const struct {
		const char *buf;
		bool want;
	} cases[] = {
		{"0\r\n\r\n", true},                 /* alone in the read */
		{"5\r\nhello\r\n0\r\n\r\n", true},  /* after the last data chunk */
		{"10\r\n\r\n", false},               /* a chunk size of 0x10, not the end */
		{"0\r\n\r", false},                   /* not all there yet */
		{"0\r\nX-T: 1\r\n\r\n", false},       /* trailers: not recognised */
		{"", false},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (fault_ends_last_chunk(cases[i].buf, strlen(cases[i].buf)) != cases[i].want)
			fail_msg("case %zu: want %d", i, cases[i].want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_specs),
		cmocka_unit_test(test_bad_specs),
		cmocka_unit_test(test_same_seed_same_tunnels),
		cmocka_unit_test(test_table_complete),
		cmocka_unit_test(test_table_rows),
		cmocka_unit_test(test_idle_mode),
		cmocka_unit_test(test_request_keys),
		cmocka_unit_test(test_set_find_by_scope),
		cmocka_unit_test(test_last_chunk),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
