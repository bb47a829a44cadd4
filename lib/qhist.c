/* qhist — see qhist.h. */
#include "lib/qhist.h"

#include <math.h>

size_t qhist_bucket_index(uint64_t v)
{
	if (v < (1u << QHIST_SUB_BITS))
		return (size_t)v;
	unsigned msb = 63u - (unsigned)__builtin_clzll(v);
	if (msb >= 40)
		return QHIST_BUCKETS - 1;
	unsigned shift = msb - QHIST_SUB_BITS;
	return ((size_t)(shift + 1) << QHIST_SUB_BITS) + (size_t)((v >> shift) & ((1u << QHIST_SUB_BITS) - 1));
}

uint64_t qhist_bucket_low(size_t idx)
{
	if (idx >= QHIST_BUCKETS)
		idx = QHIST_BUCKETS - 1;
	if (idx < (1u << QHIST_SUB_BITS))
		return idx;
	unsigned shift = (unsigned)(idx >> QHIST_SUB_BITS) - 1;
	uint64_t sub = idx & ((1u << QHIST_SUB_BITS) - 1);
	return ((1ull << QHIST_SUB_BITS) | sub) << shift;
}

uint64_t qhist_bucket_high(size_t idx)
{
	/* Buckets are contiguous: one ends where the next begins; the last ends at 2^40. */
	return idx + 1 < QHIST_BUCKETS ? qhist_bucket_low(idx + 1) - 1 : (1ull << 40) - 1;
}

void qhist_record(struct qhist *q, uint64_t value)
{
	q->counts[qhist_bucket_index(value)]++;
	q->total++;
}

void qhist_merge(struct qhist *dst, const struct qhist *src)
{
	for (size_t i = 0; i < QHIST_BUCKETS; i++)
		dst->counts[i] += src->counts[i];
	dst->total += src->total;
}

uint64_t qhist_percentile(const struct qhist *q, double p)
{
	if (q->total == 0)
		return 0;
	uint64_t rank = (uint64_t)ceil(p / 100.0 * (double)q->total);
	if (rank < 1)
		rank = 1;
	uint64_t seen = 0;
	for (size_t i = 0; i < QHIST_BUCKETS; i++) {
		seen += q->counts[i];
		if (seen >= rank)
			return qhist_bucket_high(i);
	}
	return qhist_bucket_high(QHIST_BUCKETS - 1);
}
