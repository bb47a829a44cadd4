/* histjson — see histjson.h. */
#include "lib/histjson.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

/* A full histogram's buckets (coarse = false) or a coarse one's, by index. */
static size_t nbuckets(bool coarse) { return coarse ? QHIST_BUCKETS : HIST_BUCKETS; }
static uint64_t low_of(bool coarse, size_t i) { return coarse ? qhist_bucket_low(i) : hist_bucket_low(i); }
static uint64_t high_of(bool coarse, size_t i) { return coarse ? qhist_bucket_high(i) : hist_bucket_high(i); }

/* The histogram object of counts (uint64_t for a full histogram, uint32_t coarse). */
static json_t *to_json(bool coarse, const uint64_t *c64, const uint32_t *c32)
{
	json_t *buckets = json_array();
	for (size_t i = 0; i < nbuckets(coarse); i++) {
		uint64_t n = coarse ? c32[i] : c64[i];
		if (n)
			json_array_append_new(buckets, json_pack("[I,I,I]", (json_int_t)low_of(coarse, i),
								 (json_int_t)high_of(coarse, i), (json_int_t)n));
	}
	return json_pack("{s:s,s:i,s:o}", "unit", "us", "sub_bucket_bits", coarse ? QHIST_SUB_BITS : HIST_SUB_BITS,
			 "buckets", buckets);
}

json_t *histjson_hist(const struct hist *h)
{
	return to_json(false, h->counts, NULL);
}

json_t *histjson_qhist(const struct qhist *q)
{
	return to_json(true, NULL, q->counts);
}

static bool is_count(json_t *v) { return json_is_integer(v) && json_integer_value(v) >= 0; }

/* Adds hj's buckets to counts (nbuckets(coarse) of them). 0, -ENOENT, -EINVAL. */
static int read_counts(json_t *hj, bool coarse, uint64_t *counts)
{
	if (!hj)
		return -ENOENT;
	const char *unit = json_string_value(json_object_get(hj, "unit"));
	json_t *buckets = json_object_get(hj, "buckets");
	if (!unit || strcmp(unit, "us") != 0 || !json_is_array(buckets) ||
	    json_integer_value(json_object_get(hj, "sub_bucket_bits")) != (coarse ? QHIST_SUB_BITS : HIST_SUB_BITS))
		return -EINVAL;
	size_t i;
	json_t *b;
	json_array_foreach(buckets, i, b) {
		json_t *lo = json_array_get(b, 0), *hi = json_array_get(b, 1), *n = json_array_get(b, 2);
		if (json_array_size(b) != 3 || !is_count(lo) || !is_count(hi) || !is_count(n))
			return -EINVAL;
		uint64_t low = (uint64_t)json_integer_value(lo), high = (uint64_t)json_integer_value(hi);
		size_t idx = coarse ? qhist_bucket_index(low) : hist_bucket_index(low);
		if (low_of(coarse, idx) != low || high_of(coarse, idx) != high)
			return -EINVAL;
		counts[idx] += (uint64_t)json_integer_value(n);
	}
	return 0;
}

int histjson_read_hist(json_t *hj, struct hist *h)
{
	hist_init(h);
	int rc = read_counts(hj, false, h->counts);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < HIST_BUCKETS; i++) {
		if (!h->counts[i])
			continue;
		uint64_t low = hist_bucket_low(i), high = hist_bucket_high(i);
		if (!h->total)
			h->min = low;
		h->max = high;
		h->total += h->counts[i];
		h->sum += (double)h->counts[i] * (double)(low + high) / 2.0;
	}
	return 0;
}

int histjson_read_qhist(json_t *hj, struct qhist *q)
{
	uint64_t counts[QHIST_BUCKETS] = {0};
	memset(q, 0, sizeof *q);
	int rc = read_counts(hj, true, counts);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < QHIST_BUCKETS; i++) {
		if (counts[i] > UINT32_MAX - q->total)
			return -EINVAL;
		q->counts[i] = (uint32_t)counts[i];
		q->total += (uint32_t)counts[i];
	}
	return 0;
}

static double ms(uint64_t us) { return (double)us / 1000.0; }

json_t *histjson_summary_ms(const struct hist *h)
{
	return json_pack("{s:f,s:f,s:f,s:f,s:f,s:f,s:f}", "min", h->total ? ms(h->min) : 0.0, "mean",
			 hist_mean(h) / 1000.0, "p50", ms(hist_percentile(h, 50)), "p90",
			 ms(hist_percentile(h, 90)), "p99", ms(hist_percentile(h, 99)), "p999",
			 ms(hist_percentile(h, 99.9)), "max", ms(h->max));
}

int histjson_read_hist_exact(json_t *hj, json_t *summary, struct hist *h)
{
	int rc = histjson_read_hist(hj, h);
	if (rc < 0)
		return rc;
	json_t *mn_j = json_object_get(summary, "min"), *mx_j = json_object_get(summary, "max");
	if (h->total && json_is_number(mn_j) && json_is_number(mx_j)) {
		double mn = json_number_value(mn_j) * 1000.0, mx = json_number_value(mx_j) * 1000.0;
		if (mn >= 0 && mn <= mx && mx < 1e15) {
			h->min = (uint64_t)llround(mn);
			h->max = (uint64_t)llround(mx);
		}
		json_t *mean = json_object_get(summary, "mean");
		if (json_is_number(mean))
			h->sum = json_number_value(mean) * 1000.0 * (double)h->total;
	}
	return 0;
}
