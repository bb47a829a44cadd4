/* hist — a log-linear latency histogram in the spirit of HdrHistogram.
 *
 * Values are unsigned integers (tunnelprobe records microseconds). Each power of two
 * is split into HIST_SUB_BUCKETS linear sub-buckets, so any recorded value is reported
 * within 1/HIST_SUB_BUCKETS (< 1%) of its true value; values below HIST_SUB_BUCKETS are
 * exact. The struct is plain counts: merging two histograms is adding their buckets,
 * which is how threads (and shards of a run) combine. Caller memory, no allocation.
 */
#ifndef TP_HIST_H
#define TP_HIST_H

#include <stddef.h>
#include <stdint.h>

#define HIST_SUB_BITS 7
#define HIST_SUB_BUCKETS (1u << HIST_SUB_BITS) /* 128: relative error <= 0.78% */
#define HIST_MAX_BITS 40                       /* values up to 2^40 (~12.7 days in us) */
#define HIST_BUCKETS ((HIST_MAX_BITS - HIST_SUB_BITS + 1) * HIST_SUB_BUCKETS)

struct hist {
	uint64_t counts[HIST_BUCKETS];
	uint64_t total;  /* number of values recorded */
	uint64_t min, max; /* exact; min is UINT64_MAX while empty */
	double sum;      /* for the mean */
};

void hist_init(struct hist *h);
/* Records one value; values >= 2^40 are clamped into the last bucket (max stays exact). */
void hist_record(struct hist *h, uint64_t value);
/* dst += src. */
void hist_merge(struct hist *dst, const struct hist *src);
/* The value at percentile p (0..100): the highest value equivalent to the bucket
 * holding the ceil(p/100 * total)-th value, clamped to [min, max]. p <= 0 (or NaN)
 * gives min, p >= 100 gives max, both exact. 0 when empty. */
uint64_t hist_percentile(const struct hist *h, double p);
double hist_mean(const struct hist *h);
/* Bucket index <-> value range, for serialising buckets (JSON) and re-plotting.
 * low(index(v)) <= v <= high(index(v)) for v < 2^40; an index >= HIST_BUCKETS reads
 * as the last bucket. */
size_t hist_bucket_index(uint64_t value);
uint64_t hist_bucket_low(size_t index);  /* lowest value in the bucket */
uint64_t hist_bucket_high(size_t index); /* highest value in the bucket */

#endif
