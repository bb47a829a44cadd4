/* Unit tests for lib/hist: exact below HIST_SUB_BUCKETS, the 1/128 relative error bound
 * for every value class, percentiles against exact sorted percentiles of 100k values
 * from a fixed-seed PRNG, merge, bucket boundaries, the empty histogram, clamping. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/hist.h"

#define LLU(x) ((unsigned long long)(x))
#define HIST_LIMIT (1ull << HIST_MAX_BITS)

/* xorshift64*: a fixed seed, so every run sees the same values. */
struct rng {
	uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dull;
}

/* Log-uniform over [0, 2^bits): every power of two is equally likely, as latencies
 * spread over magnitudes. */
static uint64_t rng_value(struct rng *r, unsigned bits)
{
	unsigned mag = (unsigned)(rng_next(r) % (bits + 1));
	return mag == 0 ? 0 : rng_next(r) & ((1ull << mag) - 1);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* The bucket of v holds v, and its highest value is within v/128 of it. */
static void check_bound(uint64_t v)
{
	size_t i = hist_bucket_index(v);
	uint64_t lo = hist_bucket_low(i), hi = hist_bucket_high(i);
	if (i >= HIST_BUCKETS || lo > v || v > hi)
		fail_msg("value %llu: bucket %zu is [%llu, %llu]", LLU(v), i, LLU(lo), LLU(hi));
	/* (hi - v) / v <= 1/128, in integers */
	if ((hi - v) * HIST_SUB_BUCKETS > v)
		fail_msg("value %llu: bucket high %llu is more than 1/%u above it", LLU(v), LLU(hi),
			 HIST_SUB_BUCKETS);
	if ((v - lo) * HIST_SUB_BUCKETS > v)
		fail_msg("value %llu: bucket low %llu is more than 1/%u below it", LLU(v), LLU(lo),
			 HIST_SUB_BUCKETS);
}

static void test_exact_below_sub_buckets(void **state)
{
	(void)state;
	static struct hist h;
	hist_init(&h);
	for (uint64_t v = 0; v < HIST_SUB_BUCKETS; v++) {
		size_t i = hist_bucket_index(v);
		assert_int_equal(i, v);
		assert_int_equal(hist_bucket_low(i), v);
		assert_int_equal(hist_bucket_high(i), v);
		hist_record(&h, v);
	}
	/* one of each of 0..127: the k-th value is exactly k - 1 */
	for (unsigned k = 1; k <= HIST_SUB_BUCKETS; k++) {
		double p = 100.0 * k / HIST_SUB_BUCKETS;
		uint64_t got = hist_percentile(&h, p);
		if (got != k - 1)
			fail_msg("p%g of 0..127: got %llu, expected %u", p, LLU(got), k - 1);
	}
	assert_int_equal(h.total, HIST_SUB_BUCKETS);
	assert_int_equal(h.min, 0);
	assert_int_equal(h.max, HIST_SUB_BUCKETS - 1);
	assert_true(fabs(hist_mean(&h) - 63.5) < 1e-9);
}

static void test_relative_error_bound(void **state)
{
	(void)state;
	/* around every power of two, where the bucket width doubles */
	for (unsigned b = 1; b < HIST_MAX_BITS; b++) {
		uint64_t p2 = 1ull << b;
		for (uint64_t d = 0; d <= 3; d++) {
			check_bound(p2 + d);
			if (p2 > d)
				check_bound(p2 - 1 - d);
		}
	}
	check_bound(HIST_LIMIT - 1);
	struct rng r = {0x9e3779b97f4a7c15ull};
	for (int i = 0; i < 100000; i++)
		check_bound(rng_value(&r, HIST_MAX_BITS));
}

static void test_percentiles_vs_exact(void **state)
{
	(void)state;
	enum { N = 100000 };
	static uint64_t vals[N];
	static struct hist h;
	hist_init(&h);
	struct rng r = {42};
	double sum = 0;
	for (int i = 0; i < N; i++) {
		vals[i] = rng_value(&r, 36);
		sum += (double)vals[i];
		hist_record(&h, vals[i]);
	}
	qsort(vals, N, sizeof vals[0], cmp_u64);
	assert_int_equal(h.total, N);
	assert_int_equal(h.min, vals[0]);
	assert_int_equal(h.max, vals[N - 1]);
	assert_true(fabs(hist_mean(&h) - sum / N) <= 1e-9 * (sum / N));

	/* p in tenths of a percent, so the exact rank is integer arithmetic */
	const unsigned tenths[] = {1, 5, 10, 100, 250, 500, 750, 900, 950, 990, 995, 999, 1000};
	for (size_t t = 0; t < sizeof tenths / sizeof tenths[0]; t++) {
		uint64_t rank = ((uint64_t)tenths[t] * N + 999) / 1000; /* ceil(p/100 * N) */
		uint64_t exact = vals[rank - 1];
		double p = tenths[t] / 10.0;
		uint64_t got = hist_percentile(&h, p);
		/* the highest value of exact's bucket, clamped to the recorded range */
		uint64_t want = hist_bucket_high(hist_bucket_index(exact));
		if (want > h.max)
			want = h.max;
		if (got != want || got < exact || (got - exact) * HIST_SUB_BUCKETS > exact)
			fail_msg("p%g: got %llu, expected %llu (exact p%g is %llu)", p, LLU(got),
				 LLU(want), p, LLU(exact));
	}
	/* finer: p99.99 and p99.999 (ranks 99990 and 99999) */
	assert_int_equal(hist_percentile(&h, 99.99),
			 hist_bucket_high(hist_bucket_index(vals[99990 - 1])) > h.max
				 ? h.max
				 : hist_bucket_high(hist_bucket_index(vals[99990 - 1])));
	assert_int_equal(hist_percentile(&h, 100), vals[N - 1]);
	assert_int_equal(hist_percentile(&h, 0), vals[0]);
}

/* ceil(p/100 * total) must not be pushed up by binary rounding (99.9/100*1000 is
 * 999.0000000000001 in doubles). */
static void test_percentile_rank_rounding(void **state)
{
	(void)state;
	static struct hist h;
	hist_init(&h);
	for (int i = 0; i < 999; i++)
		hist_record(&h, 1);
	hist_record(&h, 100);
	assert_int_equal(hist_percentile(&h, 99.9), 1);
	assert_int_equal(hist_percentile(&h, 99.91), 100);
	hist_init(&h);
	for (int i = 0; i < 99; i++)
		hist_record(&h, 7);
	hist_record(&h, 9);
	assert_int_equal(hist_percentile(&h, 99), 7);
	assert_int_equal(hist_percentile(&h, 99.0001), 9);
	/* 10 values: p10 is the first, p10.0001 the second, p0.1 still the first */
	hist_init(&h);
	for (uint64_t v = 10; v < 20; v++)
		hist_record(&h, v);
	assert_int_equal(hist_percentile(&h, 10), 10);
	assert_int_equal(hist_percentile(&h, 10.0001), 11);
	assert_int_equal(hist_percentile(&h, 0.1), 10);
	assert_int_equal(hist_percentile(&h, 70), 16);
	/* out-of-range and NaN p */
	assert_int_equal(hist_percentile(&h, -5), 10);
	assert_int_equal(hist_percentile(&h, NAN), 10);
	assert_int_equal(hist_percentile(&h, 150), 19);
	assert_int_equal(hist_percentile(&h, INFINITY), 19);
}

static void test_merge(void **state)
{
	(void)state;
	static struct hist all, a, b, empty;
	hist_init(&all);
	hist_init(&a);
	hist_init(&b);
	hist_init(&empty);
	struct rng r = {7};
	for (int i = 0; i < 100000; i++) {
		uint64_t v = rng_value(&r, 40);
		hist_record(&all, v);
		/* a gets small values only: merging must take b's max and a's min */
		hist_record(v < (1ull << 20) ? &a : &b, v);
	}
	static struct hist merged;
	merged = empty;
	hist_merge(&merged, &a); /* into an empty one */
	hist_merge(&merged, &b);
	hist_merge(&merged, &empty); /* an empty one changes nothing */
	assert_int_equal(merged.total, all.total);
	assert_int_equal(merged.min, all.min);
	assert_int_equal(merged.max, all.max);
	assert_memory_equal(merged.counts, all.counts, sizeof all.counts);
	assert_true(fabs(merged.sum - all.sum) <= 1e-12 * all.sum);
	const double ps[] = {0, 1, 50, 90, 99, 99.9, 100};
	for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++)
		assert_int_equal(hist_percentile(&merged, ps[i]), hist_percentile(&all, ps[i]));
	/* merge order does not matter */
	static struct hist other;
	other = b;
	hist_merge(&other, &a);
	assert_memory_equal(other.counts, merged.counts, sizeof merged.counts);
	assert_int_equal(other.min, merged.min);
	assert_int_equal(other.max, merged.max);
}

static void test_bucket_round_trip(void **state)
{
	(void)state;
	for (size_t i = 0; i < HIST_BUCKETS; i++) {
		uint64_t lo = hist_bucket_low(i), hi = hist_bucket_high(i);
		if (lo > hi || hist_bucket_index(lo) != i || hist_bucket_index(hi) != i)
			fail_msg("bucket %zu: [%llu, %llu] maps back to %zu and %zu", i, LLU(lo), LLU(hi),
				 hist_bucket_index(lo), hist_bucket_index(hi));
		/* buckets tile the range with no gap and no overlap */
		if (i + 1 < HIST_BUCKETS && hist_bucket_low(i + 1) != hi + 1)
			fail_msg("bucket %zu ends at %llu, bucket %zu starts at %llu", i, LLU(hi), i + 1,
				 LLU(hist_bucket_low(i + 1)));
	}
	assert_int_equal(hist_bucket_low(0), 0);
	assert_int_equal(hist_bucket_high(HIST_BUCKETS - 1), HIST_LIMIT - 1);
	/* an index from a corrupt file reads as the last bucket */
	assert_int_equal(hist_bucket_low(HIST_BUCKETS), hist_bucket_low(HIST_BUCKETS - 1));
	assert_int_equal(hist_bucket_high((size_t)-1), HIST_LIMIT - 1);
}

static void test_empty(void **state)
{
	(void)state;
	static struct hist h;
	memset(&h, 0xff, sizeof h); /* hist_init must reset everything */
	hist_init(&h);
	assert_int_equal(h.total, 0);
	assert_int_equal(h.min, UINT64_MAX);
	assert_int_equal(h.max, 0);
	assert_true(h.sum == 0.0);
	const double ps[] = {0, 50, 99.9, 100};
	for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++)
		assert_int_equal(hist_percentile(&h, ps[i]), 0);
	assert_true(hist_mean(&h) == 0.0);
	for (size_t i = 0; i < HIST_BUCKETS; i++)
		if (h.counts[i])
			fail_msg("bucket %zu holds %llu", i, LLU(h.counts[i]));
}

static void test_clamping(void **state)
{
	(void)state;
	const uint64_t huge[] = {HIST_LIMIT, HIST_LIMIT + 1, 1ull << 50, UINT64_MAX};
	for (size_t i = 0; i < sizeof huge / sizeof huge[0]; i++)
		assert_int_equal(hist_bucket_index(huge[i]), HIST_BUCKETS - 1);
	assert_int_equal(hist_bucket_index(HIST_LIMIT - 1), HIST_BUCKETS - 1);
	static struct hist h;
	hist_init(&h);
	hist_record(&h, 5);
	hist_record(&h, 1ull << 50);
	hist_record(&h, UINT64_MAX);
	assert_int_equal(h.counts[HIST_BUCKETS - 1], 2);
	assert_int_equal(h.max, UINT64_MAX); /* max stays exact */
	assert_int_equal(h.min, 5);
	assert_int_equal(hist_percentile(&h, 100), UINT64_MAX);
	assert_int_equal(hist_percentile(&h, 30), 5);
	/* a middle rank inside the clamped bucket reads as that bucket's top */
	assert_int_equal(hist_percentile(&h, 50), HIST_LIMIT - 1);
	assert_true(hist_mean(&h) > 0x1p63 / 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_below_sub_buckets),
		cmocka_unit_test(test_relative_error_bound),
		cmocka_unit_test(test_percentiles_vs_exact),
		cmocka_unit_test(test_percentile_rank_rounding),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_bucket_round_trip),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_clamping),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
