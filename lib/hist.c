/* hist — see hist.h. Bucket index: values below HIST_SUB_BUCKETS map to themselves;
 * above, the top HIST_SUB_BITS+1 significant bits select the bucket (the leading one
 * gives the power of two, the next HIST_SUB_BITS the linear step inside it). */
#include "lib/hist.h"

#include <math.h>
#include <string.h>

void hist_init(struct hist *h)
{
	memset(h, 0, sizeof *h);
	h->min = UINT64_MAX;
}

size_t hist_bucket_index(uint64_t v)
{
	if (v < HIST_SUB_BUCKETS)
		return (size_t)v;
	unsigned msb = 63u - (unsigned)__builtin_clzll(v);
	if (msb >= HIST_MAX_BITS)
		return HIST_BUCKETS - 1;
	unsigned shift = msb - HIST_SUB_BITS;
	return ((size_t)(shift + 1) << HIST_SUB_BITS) + (size_t)((v >> shift) & (HIST_SUB_BUCKETS - 1));
}

/* Indices past the end (a corrupt or foreign serialisation) read as the last bucket
 * rather than shifting by more than 63. */
static size_t clamp_index(size_t index)
{
	return index < HIST_BUCKETS ? index : HIST_BUCKETS - 1;
}

uint64_t hist_bucket_low(size_t index)
{
	index = clamp_index(index);
	if (index < HIST_SUB_BUCKETS)
		return index;
	unsigned shift = (unsigned)(index >> HIST_SUB_BITS) - 1;
	uint64_t sub = index & (HIST_SUB_BUCKETS - 1);
	return (HIST_SUB_BUCKETS | sub) << shift;
}

uint64_t hist_bucket_high(size_t index)
{
	index = clamp_index(index);
	if (index < HIST_SUB_BUCKETS)
		return index;
	unsigned shift = (unsigned)(index >> HIST_SUB_BITS) - 1;
	return hist_bucket_low(index) + (1ull << shift) - 1;
}

void hist_record(struct hist *h, uint64_t value)
{
	h->counts[hist_bucket_index(value)]++;
	h->total++;
	h->sum += (double)value;
	if (value < h->min)
		h->min = value;
	if (value > h->max)
		h->max = value;
}

void hist_merge(struct hist *dst, const struct hist *src)
{
	for (size_t i = 0; i < HIST_BUCKETS; i++)
		dst->counts[i] += src->counts[i];
	dst->total += src->total;
	dst->sum += src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

/* ceil(p/100 * total) without being pushed up by rounding: 99.9/100*1000 is
 * 999.0000000000001 in binary floating point, and must still be rank 999. */
static uint64_t percentile_rank(double p, uint64_t total)
{
	double exact = p / 100.0 * (double)total;
	double rank = ceil(exact - exact * 1e-12);
	if (rank < 1)
		return 1;
	if (rank >= (double)total)
		return total;
	return (uint64_t)rank;
}

uint64_t hist_percentile(const struct hist *h, double p)
{
	if (h->total == 0)
		return 0;
	if (!(p > 0)) /* also NaN */
		return h->min;
	if (p >= 100)
		return h->max;
	uint64_t rank = percentile_rank(p, h->total);
	uint64_t seen = 0;
	for (size_t i = 0; i < HIST_BUCKETS; i++) {
		seen += h->counts[i];
		if (seen >= rank) {
			uint64_t v = hist_bucket_high(i);
			if (v > h->max)
				v = h->max;
			if (v < h->min)
				v = h->min;
			return v;
		}
	}
	return h->max; /* counts summing to less than total: a corrupt struct */
}

double hist_mean(const struct hist *h)
{
	return h->total ? h->sum / (double)h->total : 0.0;
}
