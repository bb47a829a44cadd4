/* runmerge — see runmerge.h. */
#include "ci/runmerge.h"

#include <stdlib.h>
#include <string.h>

#define MAX_FAILURES 100

static json_int_t get_int(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

/* dst[key] += src[key] for every integer member of src (objects of counts). */
static void add_counts(json_t *dst, json_t *src)
{
	const char *key;
	json_t *v;
	json_object_foreach(src, key, v) {
		if (!json_is_integer(v))
			continue;
		json_object_set_new(dst, key, json_integer(get_int(dst, key) + json_integer_value(v)));
	}
}

static int cmp_bucket(const void *a, const void *b)
{
	json_int_t x = json_integer_value(json_array_get(*(json_t *const *)a, 0));
	json_int_t y = json_integer_value(json_array_get(*(json_t *const *)b, 0));
	return (x > y) - (x < y);
}

/* Buckets [low, high, count] keyed by low; returns a new sorted array. */
static json_t *merge_buckets(json_t *a, json_t *b)
{
	size_t na = json_array_size(a), nb = json_array_size(b);
	json_t **all = calloc(na + nb + 1, sizeof *all);
	size_t n = 0;
	for (size_t i = 0; i < na; i++)
		all[n++] = json_array_get(a, i);
	for (size_t i = 0; i < nb; i++)
		all[n++] = json_array_get(b, i);
	qsort(all, n, sizeof *all, cmp_bucket);
	json_t *out = json_array();
	for (size_t i = 0; i < n;) {
		json_int_t low = json_integer_value(json_array_get(all[i], 0));
		json_int_t high = json_integer_value(json_array_get(all[i], 1));
		json_int_t count = 0;
		for (; i < n && json_integer_value(json_array_get(all[i], 0)) == low; i++)
			count += json_integer_value(json_array_get(all[i], 2));
		json_array_append_new(out, json_pack("[I,I,I]", low, high, count));
	}
	free(all);
	return out;
}

void runmerge_latency(json_t *run)
{
	json_t *buckets = json_object_get(json_object_get(run, "histogram"), "buckets");
	json_int_t total = 0;
	double sum = 0;
	size_t i;
	json_t *b;
	json_array_foreach(buckets, i, b) {
		json_int_t c = json_integer_value(json_array_get(b, 2));
		total += c;
		/* The mean from buckets: each bucket's midpoint (within the 1% bucket error). */
		sum += (double)c * (double)(json_integer_value(json_array_get(b, 0)) +
					    json_integer_value(json_array_get(b, 1))) / 2.0;
	}
	json_t *lat = json_object();
	const double ps[] = {50, 90, 99, 99.9};
	const char *names[] = {"p50", "p90", "p99", "p999"};
	for (int k = 0; k < 4; k++) {
		json_int_t rank = (json_int_t)((ps[k] / 100.0) * (double)total + 0.999999);
		json_int_t seen = 0, value = 0;
		json_array_foreach(buckets, i, b) {
			seen += json_integer_value(json_array_get(b, 2));
			value = json_integer_value(json_array_get(b, 1));
			if (seen >= rank)
				break;
		}
		json_object_set_new(lat, names[k], json_real((double)value / 1000.0));
	}
	json_int_t min = json_integer_value(json_array_get(json_array_get(buckets, 0), 0));
	json_int_t max = json_integer_value(json_array_get(json_array_get(buckets, json_array_size(buckets) - 1), 1));
	json_object_set_new(lat, "min", json_real((double)min / 1000.0));
	json_object_set_new(lat, "max", json_real((double)max / 1000.0));
	json_object_set_new(lat, "mean", json_real(total ? sum / (double)total / 1000.0 : 0));
	json_object_set_new(run, "latency_ms", lat);
}

static json_t *merge_target(json_t *a, json_t *b)
{
	json_t *t = json_deep_copy(a);
	json_int_t ra = get_int(a, "requests"), rb = get_int(b, "requests");
	json_object_set_new(t, "requests", json_integer(ra + rb));
	json_object_set_new(t, "ok", json_integer(get_int(a, "ok") + get_int(b, "ok")));
	json_t *classes = json_deep_copy(json_object_get(a, "classes"));
	if (!classes)
		classes = json_object();
	add_counts(classes, json_object_get(b, "classes"));
	json_object_set_new(t, "classes", classes);
	json_t *la = json_object_get(a, "latency_ms"), *lb = json_object_get(b, "latency_ms");
	json_t *lat = json_object();
	const char *keys[] = {"p50", "p90", "p99", "max"};
	for (int k = 0; k < 4; k++) {
		double x = json_number_value(json_object_get(la, keys[k]));
		double y = json_number_value(json_object_get(lb, keys[k]));
		json_object_set_new(lat, keys[k], json_real(x > y ? x : y));
	}
	double mean = ra + rb ? (json_number_value(json_object_get(la, "mean")) * (double)ra +
				 json_number_value(json_object_get(lb, "mean")) * (double)rb) /
					(double)(ra + rb)
			      : 0;
	json_object_set_new(lat, "mean", json_real(mean));
	json_object_set_new(t, "latency_ms", lat);
	return t;
}

json_t *runmerge(json_t *acc, json_t *next)
{
	if (!acc)
		return json_deep_copy(next);
	json_t *out = json_deep_copy(acc);
	const char *sums[] = {"requests", "ok", "failed"};
	for (int i = 0; i < 3; i++)
		json_object_set_new(out, sums[i], json_integer(get_int(acc, sums[i]) + get_int(next, sums[i])));
	add_counts(json_object_get(out, "classes"), json_object_get(next, "classes"));
	add_counts(json_object_get(out, "status_codes"), json_object_get(next, "status_codes"));
	add_counts(json_object_get(out, "bytes"), json_object_get(next, "bytes"));
	json_t *conns = json_object_get(out, "connections");
	add_counts(conns, json_object_get(next, "connections"));
	json_int_t req = get_int(out, "requests");
	json_object_set_new(conns, "reuse_ratio",
			    json_real(req ? (double)get_int(conns, "requests_on_reused") / (double)req : 0));

	json_t *hist = json_object_get(out, "histogram");
	json_t *merged = merge_buckets(json_object_get(hist, "buckets"),
				       json_object_get(json_object_get(next, "histogram"), "buckets"));
	json_object_set_new(hist, "buckets", merged);
	double max_a = json_number_value(json_object_get(json_object_get(acc, "latency_ms"), "max"));
	double max_b = json_number_value(json_object_get(json_object_get(next, "latency_ms"), "max"));
	runmerge_latency(out);
	json_object_set_new(json_object_get(out, "latency_ms"), "max",
			    json_real(max_a > max_b ? max_a : max_b));

	/* Time series: next's seconds continue after acc's. */
	json_t *series = json_object_get(out, "timeseries");
	double offset = json_number_value(json_object_get(next, "started")) -
			json_number_value(json_object_get(acc, "started"));
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(next, "timeseries"), i, s) {
		json_t *copy = json_deep_copy(s);
		json_object_set_new(copy, "t", json_integer(get_int(s, "t") + (json_int_t)(offset + 0.5)));
		json_array_append_new(series, copy);
	}

	json_t *targets = json_object_get(out, "targets");
	json_t *nt;
	json_array_foreach(json_object_get(next, "targets"), i, nt) {
		json_t *at = json_array_get(targets, i);
		if (at && json_equal(json_object_get(at, "url"), json_object_get(nt, "url")))
			json_array_set_new(targets, i, merge_target(at, nt));
		else
			json_array_append(targets, nt);
	}

	json_t *failures = json_object_get(out, "failures");
	json_t *f;
	json_array_foreach(json_object_get(next, "failures"), i, f) {
		if (json_array_size(failures) >= MAX_FAILURES)
			break;
		json_array_append(failures, f);
	}
	json_object_set(out, "ended", json_object_get(next, "ended"));
	json_object_set_new(out, "duration_s",
			    json_real(json_number_value(json_object_get(next, "ended")) -
				      json_number_value(json_object_get(out, "started"))));
	return out;
}
