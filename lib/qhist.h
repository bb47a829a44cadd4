/* qhist — a coarse log-linear histogram: 8 sub-buckets per power of two (within 12.5%),
 * values up to 2^40, 1.2 KiB. For per-target and per-second percentiles where a full
 * struct hist (lib/hist.h, within 1%) per cell would cost 40 KiB each. Zero-initialise;
 * no allocation; merge by adding. */
#ifndef TP_LIB_QHIST_H
#define TP_LIB_QHIST_H

#include <stddef.h>
#include <stdint.h>

#define QHIST_SUB_BITS 3
#define QHIST_BUCKETS ((40 - QHIST_SUB_BITS + 1) << QHIST_SUB_BITS)

struct qhist {
	uint32_t counts[QHIST_BUCKETS];
	uint32_t total;
};

void qhist_record(struct qhist *q, uint64_t value);
/* Adds src's counts to dst. */
void qhist_merge(struct qhist *dst, const struct qhist *src);
/* The highest value of the bucket holding the ceil(p/100 * total)-th value; 0 when empty. */
uint64_t qhist_percentile(const struct qhist *q, double p);
/* Bucket index <-> value range, for serialising buckets (run files' per-target
 * histograms): low(index(v)) <= v <= high(index(v)) for v < 2^40; an index >=
 * QHIST_BUCKETS reads as the last bucket. */
size_t qhist_bucket_index(uint64_t value);
uint64_t qhist_bucket_low(size_t index);
uint64_t qhist_bucket_high(size_t index);

#endif
