/* Unit tests for lib/payload: known vectors (the format is a contract between origin,
 * probe and `tunnelprobe gen`), offset independence, and verification. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <string.h>

#include "lib/ledger.h"
#include "lib/payload.h"

static void test_seed_is_fnv1a64(void **state)
{
	(void)state;
	/* FNV-1a 64 reference values. */
	assert_int_equal(payload_seed("", 0), 0xcbf29ce484222325ull);
	assert_int_equal(payload_seed("a", 1), 0xaf63dc4c8601ec8cull);
	assert_int_equal(payload_seed("foobar", 6), 0x85944171f73967e8ull);
}

static void test_known_vector(void **state)
{
	(void)state;
	/* First 16 bytes of seed 0: splitmix64 of 0 and of PAYLOAD_GOLDEN, little-endian.
	 * splitmix64(0) = 0xe220a8397b1dcdaf, splitmix64(golden) = 0x6e789e6aa1b965f4. */
	uint8_t out[16];
	payload_fill(0, 0, out, sizeof out);
	const uint8_t want[16] = {0xaf, 0xcd, 0x1d, 0x7b, 0x39, 0xa8, 0x20, 0xe2,
				  0xf4, 0x65, 0xb9, 0xa1, 0x6a, 0x9e, 0x78, 0x6e};
	assert_memory_equal(out, want, sizeof want);
}

static void test_any_offset_matches_the_stream(void **state)
{
	(void)state;
	enum { N = 4096 };
	static uint8_t whole[N], part[N];
	uint64_t seed = payload_seed("/bytes/4096", 11);
	payload_fill(seed, 0, whole, N);
	for (uint64_t off = 0; off < 64; off++)
		for (size_t len = 0; len < 40; len += 3) {
			payload_fill(seed, off, part, len);
			assert_memory_equal(part, whole + off, len);
		}
	payload_fill(seed, 1000, part, 3000);
	assert_memory_equal(part, whole + 1000, 3000);
}

static void test_verify_finds_first_difference(void **state)
{
	(void)state;
	static uint8_t buf[5000];
	uint64_t seed = 42;
	payload_fill(seed, 777, buf, sizeof buf);
	assert_int_equal(payload_verify(seed, 777, buf, sizeof buf), -1);
	buf[1234] ^= 1;
	buf[4000] ^= 1;
	assert_int_equal(payload_verify(seed, 777, buf, sizeof buf), 1234);
	assert_int_equal(payload_verify(seed, 778, buf, 10), 0); /* wrong offset: byte 0 differs */
}

static void test_class_and_phase_names_round_trip(void **state)
{
	(void)state;
	for (int c = 0; c < TP_CLASS_COUNT; c++)
		assert_int_equal(tp_class_from_name(tp_class_name(c)), c);
	for (int p = 0; p < TP_PHASE_COUNT; p++)
		assert_int_equal(tp_phase_from_name(tp_phase_name(p)), p);
	assert_string_equal(tp_class_name(TP_PROXY_CONNECT_ABORTED), "proxy_connect_aborted");
	assert_string_equal(tp_class_name(TP_INCOMPLETE_READ), "incomplete_read");
	assert_string_equal(tp_phase_name(TP_PHASE_FIRST_BYTE), "first_byte");
	assert_null(tp_class_name(TP_CLASS_COUNT));
	assert_int_equal(tp_class_from_name("nope"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed_is_fnv1a64),
		cmocka_unit_test(test_known_vector),
		cmocka_unit_test(test_any_offset_matches_the_stream),
		cmocka_unit_test(test_verify_finds_first_difference),
		cmocka_unit_test(test_class_and_phase_names_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
