/* histjson — lib/hist.h and lib/qhist.h histograms as run files hold them
 * (docs/run-json.md "Histogram"):
 *   {"unit": "us", "sub_bucket_bits": 7 (hist) or 3 (qhist), "buckets": [[low, high, count], ...]}
 * non-empty buckets only, in increasing order, bounds inclusive. Readers accept only
 * buckets that are exactly one of ours, so adding two histograms' counts is exact.
 */
#ifndef TP_HISTJSON_H
#define TP_HISTJSON_H

#include <jansson.h>

#include "lib/hist.h"
#include "lib/qhist.h"

/* The JSON of h / q (a new reference). */
json_t *histjson_hist(const struct hist *h);
json_t *histjson_qhist(const struct qhist *q);

/* Reads hj into h (hist_init'ed here): counts and total from the buckets, min and max
 * the bounds of the outer buckets, the sum from bucket midpoints (the caller may know
 * the exact ones). Returns 0, -ENOENT when hj is NULL, -EINVAL when its unit, bucket
 * width or a bucket is not ours. */
int histjson_read_hist(json_t *hj, struct hist *h);
/* The same for a coarse histogram; also -EINVAL for a count past its 32 bits. */
int histjson_read_qhist(json_t *hj, struct qhist *q);

/* What a run file says of a histogram in milliseconds:
 * {"min", "mean", "p50", "p90", "p99", "p999", "max"} (a new reference). */
json_t *histjson_summary_ms(const struct hist *h);

/* histjson_read_hist, then the exact min, max and mean taken from summary (the object
 * histjson_summary_ms wrote beside the buckets) when it states them: the buckets hold
 * them only within 1%. Returns what histjson_read_hist returns. */
int histjson_read_hist_exact(json_t *hj, json_t *summary, struct hist *h);

#endif
