/* Unit tests for lib/shard: "I/N" parsing (one row per case, good and malformed), and
 * the split itself — for every N and n tried, the shards' numbers are disjoint, cover
 * 0..n-1 exactly once and each shard's count is its shard_part; connections and rate
 * add up to the whole (connections: at least one each). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/shard.h"

static const struct {
	const char *in;
	int rc;
	unsigned index, count;
	const char *why; /* the row's reason */
} cases[] = {
	{"0/1", 0, 0, 1, "one shard: the whole load"},
	{"0/4", 0, 0, 4, "first of four"},
	{"3/4", 0, 3, 4, "last of four"},
	{"99/100", 0, 99, 100, "a hundred pods"},
	{"65535/65536", 0, 65535, 65536, "the cap"},
	{"007/010", 0, 7, 10, "leading zeros are decimal, not octal"},
	{"4/4", -EINVAL, 0, 0, "index past the last"},
	{"0/0", -EINVAL, 0, 0, "no shards"},
	{"1/65537", -EINVAL, 0, 0, "over the cap"},
	{"", -EINVAL, 0, 0, "empty"},
	{"1", -EINVAL, 0, 0, "no slash"},
	{"/4", -EINVAL, 0, 0, "no index"},
	{"1/", -EINVAL, 0, 0, "no count"},
	{"-1/4", -EINVAL, 0, 0, "a sign"},
	{"1/+4", -EINVAL, 0, 0, "a plus"},
	{" 1/4", -EINVAL, 0, 0, "a space before"},
	{"1/4 ", -EINVAL, 0, 0, "a space after"},
	{"1/4/5", -EINVAL, 0, 0, "two slashes"},
	{"0x1/4", -EINVAL, 0, 0, "hex"},
	{"1.0/4", -EINVAL, 0, 0, "a fraction"},
	{"99999999999999999999/4", -EINVAL, 0, 0, "an index too long to be one"},
	{"1/18446744073709551617", -EINVAL, 0, 0, "a count that overflows"},
};

static void test_parse_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct shard s = {77, 77};
		const char *why = NULL;
		int rc = shard_parse(cases[i].in, &s, &why);
		if (rc != cases[i].rc)
			fail_msg("'%s' (%s): rc %d, want %d", cases[i].in, cases[i].why, rc, cases[i].rc);
		if (rc == 0) {
			assert_int_equal(s.index, cases[i].index);
			assert_int_equal(s.count, cases[i].count);
			char text[SHARD_TEXT_MAX];
			struct shard back;
			assert_int_equal(shard_parse(shard_text(&s, text, sizeof text), &back, &why), 0);
			assert_int_equal(back.index, s.index);
			assert_int_equal(back.count, s.count);
		} else {
			assert_non_null(why);
			assert_int_equal(s.index, 77); /* untouched on failure */
		}
	}
}

static void test_unsharded_is_identity(void **state)
{
	(void)state;
	struct shard none = {0}, one = {0, 1};
	const struct shard *both[] = {&none, &one};
	for (size_t i = 0; i < 2; i++) {
		assert_false(shard_active(both[i]));
		assert_int_equal(shard_part(both[i], 60), 60);
		assert_int_equal(shard_number(both[i], 17), 17);
		assert_int_equal(shard_connections(both[i], 8), 8);
		assert_true(shard_rate(both[i], 100) == 100);
	}
}

/* Every number 0..n-1 sent by exactly one shard, each shard sending shard_part. */
static void test_numbers_partition(void **state)
{
	(void)state;
	static const unsigned counts[] = {2, 3, 4, 7, 10, 100};
	static const uint64_t ns[] = {0, 1, 2, 3, 4, 5, 9, 10, 11, 60, 97, 1000};
	for (size_t a = 0; a < sizeof counts / sizeof counts[0]; a++)
		for (size_t b = 0; b < sizeof ns / sizeof ns[0]; b++) {
			uint64_t n = ns[b];
			unsigned char *seen = calloc(n + 1, 1);
			assert_non_null(seen);
			uint64_t total = 0;
			for (unsigned i = 0; i < counts[a]; i++) {
				struct shard s = {i, counts[a]};
				uint64_t part = shard_part(&s, n);
				total += part;
				for (uint64_t local = 0; local < part; local++) {
					uint64_t k = shard_number(&s, local);
					if (k >= n || seen[k]++)
						fail_msg("N=%u n=%llu: shard %u sends %llu twice or past n", counts[a],
							 (unsigned long long)n, i, (unsigned long long)k);
					assert_int_equal(k % counts[a], i);
				}
				/* the next number would be past the end */
				assert_true(shard_number(&s, part) >= n);
			}
			assert_int_equal(total, n);
			free(seen);
		}
}

static void test_connections_and_rate(void **state)
{
	(void)state;
	unsigned sum = 0;
	double rate = 0;
	for (unsigned i = 0; i < 4; i++) {
		struct shard s = {i, 4};
		sum += shard_connections(&s, 10); /* 3 3 2 2 */
		rate += shard_rate(&s, 100);
	}
	assert_int_equal(sum, 10);
	assert_true(rate == 100);
	struct shard last = {99, 100};
	assert_int_equal(shard_connections(&last, 8), 1); /* fewer connections than shards */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_unsharded_is_identity),
		cmocka_unit_test(test_numbers_partition),
		cmocka_unit_test(test_connections_and_rate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
