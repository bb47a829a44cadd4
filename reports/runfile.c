/* runfile — see runfile.h. */
#include "reports/runfile.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reports/records.h"

static json_int_t geti(json_t *o, const char *k) { return json_integer_value(json_object_get(o, k)); }

/* ---- checking ---- */

static bool is_count(json_t *v) { return json_is_integer(v) && json_integer_value(v) >= 0; }

int runfile_check(json_t *doc, const char *name, char *err, size_t cap)
{
	if (!json_is_object(doc)) {
		snprintf(err, cap, "%s: not a JSON object", name);
		return -EINVAL;
	}
	const char *schema = json_string_value(json_object_get(doc, "schema"));
	if (!schema || strcmp(schema, RUNFILE_SCHEMA) != 0) {
		snprintf(err, cap, "%s: not a %s run file (schema: %.60s)", name, RUNFILE_SCHEMA,
			 schema ? schema : "missing");
		return -EINVAL;
	}
	const char *why = NULL;
	if (!is_count(json_object_get(doc, "requests")))
		why = "'requests' missing or not a count";
	else if (!is_count(json_object_get(doc, "ok")))
		why = "'ok' missing or not a count";
	else if (!json_is_object(json_object_get(doc, "classes")))
		why = "'classes' missing or not an object";
	else if (!json_is_object(json_object_get(doc, "latency_ms")))
		why = "'latency_ms' missing or not an object";
	else if (!json_is_array(json_object_get(doc, "targets")))
		why = "'targets' missing or not an array";
	else if (geti(doc, "ok") > geti(doc, "requests"))
		why = "'ok' exceeds 'requests'";
	if (!why) {
		const char *key;
		json_t *v;
		json_object_foreach(json_object_get(doc, "classes"), key, v)
			if (!is_count(v)) {
				why = "a 'classes' count is not a count";
				break;
			}
	}
	if (!why) {
		size_t i;
		json_t *t;
		json_array_foreach(json_object_get(doc, "targets"), i, t)
			if (!json_is_object(t) || !json_is_string(json_object_get(t, "url"))) {
				why = "a target without a 'url'";
				break;
			}
	}
	if (!why && json_object_get(doc, "histogram")) {
		struct hist *h = malloc(sizeof *h);
		if (!h)
			why = "out of memory";
		else if (runfile_hist(doc, h) == -EINVAL)
			why = "'histogram' is not {unit: us, sub_bucket_bits: 7, buckets: [[low, high, count]...]}";
		free(h);
	}
	if (why) {
		snprintf(err, cap, "%s: %s", name, why);
		return -EINVAL;
	}
	return 0;
}

int runfile_hist(json_t *doc, struct hist *h)
{
	hist_init(h);
	json_t *hj = json_object_get(doc, "histogram");
	if (!hj)
		return -ENOENT;
	const char *unit = json_string_value(json_object_get(hj, "unit"));
	json_t *buckets = json_object_get(hj, "buckets");
	if (!unit || strcmp(unit, "us") != 0 || geti(hj, "sub_bucket_bits") != HIST_SUB_BITS ||
	    !json_is_array(buckets))
		return -EINVAL;
	size_t i;
	json_t *b;
	json_array_foreach(buckets, i, b) {
		json_t *lo = json_array_get(b, 0), *hi = json_array_get(b, 1), *n = json_array_get(b, 2);
		if (json_array_size(b) != 3 || !is_count(lo) || !is_count(hi) || !is_count(n))
			return -EINVAL;
		uint64_t low = (uint64_t)json_integer_value(lo), count = (uint64_t)json_integer_value(n);
		size_t idx = hist_bucket_index(low);
		if (hist_bucket_low(idx) != low || hist_bucket_high(idx) != (uint64_t)json_integer_value(hi))
			return -EINVAL;
		if (count == 0)
			continue;
		h->counts[idx] += count;
		h->total += count;
		if (low < h->min)
			h->min = low;
		if (hist_bucket_high(idx) > h->max)
			h->max = hist_bucket_high(idx);
		h->sum += (double)count * (double)(low + hist_bucket_high(idx)) / 2.0;
	}
	/* The exact extremes and mean, when the run states them. */
	json_t *lat = json_object_get(doc, "latency_ms");
	if (h->total && json_is_number(json_object_get(lat, "min")) && json_is_number(json_object_get(lat, "max"))) {
		double mn = json_number_value(json_object_get(lat, "min")) * 1000.0;
		double mx = json_number_value(json_object_get(lat, "max")) * 1000.0;
		if (mn >= 0 && mn <= mx && mx < 1e15) {
			h->min = (uint64_t)llround(mn);
			h->max = (uint64_t)llround(mx);
		}
		if (json_is_number(json_object_get(lat, "mean")))
			h->sum = json_number_value(json_object_get(lat, "mean")) * 1000.0 * (double)h->total;
	}
	return 0;
}

/* ---- merging ---- */

static void add_counts(json_t *dst, json_t *src)
{
	const char *key;
	json_t *v;
	json_object_foreach(src, key, v) {
		if (!json_is_integer(v))
			continue;
		json_int_t have = json_integer_value(json_object_get(dst, key));
		json_object_set_new(dst, key, json_integer(have + json_integer_value(v)));
	}
}

static json_t *latency_of(const struct hist *h)
{
	double k = 1000.0;
	return json_pack("{s:f,s:f,s:f,s:f,s:f,s:f,s:f}", "min", h->total ? (double)h->min / k : 0.0, "mean",
			 hist_mean(h) / k, "p50", (double)hist_percentile(h, 50) / k, "p90",
			 (double)hist_percentile(h, 90) / k, "p99", (double)hist_percentile(h, 99) / k, "p999",
			 (double)hist_percentile(h, 99.9) / k, "max", (double)h->max / k);
}

static json_t *histogram_of(const struct hist *h)
{
	json_t *buckets = json_array();
	for (size_t i = 0; i < HIST_BUCKETS; i++)
		if (h->counts[i])
			json_array_append_new(buckets, json_pack("[I,I,I]", (json_int_t)hist_bucket_low(i),
								 (json_int_t)hist_bucket_high(i), (json_int_t)h->counts[i]));
	return json_pack("{s:s,s:i,s:o}", "unit", "us", "sub_bucket_bits", HIST_SUB_BITS, "buckets", buckets);
}

static json_t *merge_targets(json_t *a, json_t *b)
{
	json_t *out = json_deep_copy(a);
	if (!json_is_array(out))
		out = json_array();
	size_t i;
	json_t *t;
	json_array_foreach(b, i, t) {
		const char *url = json_string_value(json_object_get(t, "url"));
		json_t *same = NULL, *o;
		size_t k;
		json_array_foreach(out, k, o) {
			const char *u = json_string_value(json_object_get(o, "url"));
			if (u && url && strcmp(u, url) == 0) {
				same = o;
				break;
			}
		}
		if (!same) {
			json_array_append_new(out, json_deep_copy(t));
			continue;
		}
		json_int_t ra = geti(same, "requests"), rb = geti(t, "requests");
		json_t *la = json_object_get(same, "latency_ms"), *lb = json_object_get(t, "latency_ms");
		json_t *lat = json_object();
		const char *keys[] = {"p50", "p90", "p99", "max"};
		for (size_t j = 0; j < 4; j++)
			json_object_set_new(lat, keys[j], json_real(fmax(json_number_value(json_object_get(la, keys[j])),
									 json_number_value(json_object_get(lb, keys[j])))));
		double mean = ra + rb ? (json_number_value(json_object_get(la, "mean")) * (double)ra +
					 json_number_value(json_object_get(lb, "mean")) * (double)rb) / (double)(ra + rb)
				      : 0;
		json_object_set_new(lat, "mean", json_real(mean));
		json_object_set_new(same, "latency_ms", lat);
		json_object_set_new(same, "requests", json_integer(ra + rb));
		json_object_set_new(same, "ok", json_integer(geti(same, "ok") + geti(t, "ok")));
		json_t *classes = json_object_get(same, "classes");
		if (!json_is_object(classes))
			json_object_set_new(same, "classes", classes = json_object());
		add_counts(classes, json_object_get(t, "classes"));
	}
	return out;
}

/* One time-series bucket into the merged array at index idx. */
static void add_second(json_t *slots, size_t idx, json_t *s, json_int_t t)
{
	json_t *d = json_array_get(slots, idx);
	if (json_is_null(d)) {
		d = json_deep_copy(s);
		json_object_set_new(d, "t", json_integer(t));
		json_array_set_new(slots, idx, d);
		return;
	}
	const char *counters[] = {"started", "completed", "ok", "bytes_in", "bytes_out"};
	for (size_t i = 0; i < 5; i++)
		json_object_set_new(d, counters[i], json_integer(geti(d, counters[i]) + geti(s, counters[i])));
	json_t *failed = json_object_get(d, "failed");
	if (!json_is_object(failed))
		json_object_set_new(d, "failed", failed = json_object());
	add_counts(failed, json_object_get(s, "failed"));
	const char *pcts[] = {"p50_ms", "p99_ms"};
	for (size_t i = 0; i < 2; i++)
		json_object_set_new(d, pcts[i], json_real(fmax(json_number_value(json_object_get(d, pcts[i])),
							       json_number_value(json_object_get(s, pcts[i])))));
}

static json_t *merge_series(json_t *a, json_t *b, json_t *out)
{
	json_t *runs[2] = {a, b};
	double t0 = fmin(json_number_value(json_object_get(a, "started")), json_number_value(json_object_get(b, "started")));
	int64_t base = (int64_t)floor(t0), span = 0, step = 1;
	for (int r = 0; r < 2; r++) {
		json_int_t s = geti(runs[r], "timeseries_step_s");
		if (s > step)
			step = s;
		int64_t start = (int64_t)floor(json_number_value(json_object_get(runs[r], "started")));
		json_t *last = json_array_get(json_object_get(runs[r], "timeseries"),
					      json_array_size(json_object_get(runs[r], "timeseries")) - 1);
		int64_t end = start - base + (last ? geti(last, "t") : 0) + 1;
		if (end > span)
			span = end;
	}
	while (span / step >= RUNFILE_MAX_SECONDS)
		step *= 2;
	json_t *slots = json_array();
	for (int64_t i = 0; i <= span / step; i++)
		json_array_append_new(slots, json_null());
	for (int r = 0; r < 2; r++) {
		int64_t start = (int64_t)floor(json_number_value(json_object_get(runs[r], "started")));
		size_t i;
		json_t *s;
		json_array_foreach(json_object_get(runs[r], "timeseries"), i, s) {
			int64_t at = start - base + geti(s, "t");
			if (at < 0 || !json_is_object(s))
				continue;
			size_t idx = (size_t)(at / step);
			if (idx < json_array_size(slots))
				add_second(slots, idx, s, (json_int_t)((int64_t)idx * step));
		}
	}
	json_t *series = json_array();
	size_t i;
	json_t *s;
	json_array_foreach(slots, i, s)
		if (json_is_object(s))
			json_array_append(series, s);
	json_decref(slots);
	if (step > 1)
		json_object_set_new(out, "timeseries_step_s", json_integer(step));
	return series;
}

static void append_capped(json_t *dst, json_t *src, size_t cap)
{
	size_t i;
	json_t *v;
	json_array_foreach(src, i, v) {
		if (json_array_size(dst) >= cap)
			break;
		json_array_append(dst, v);
	}
}

json_t *runfile_merge(json_t *a, json_t *b, char *err, size_t cap)
{
	struct hist *ha = malloc(sizeof *ha), *hb = malloc(sizeof *hb);
	json_t *out = NULL;
	if (!ha || !hb) {
		snprintf(err, cap, "out of memory");
		goto out;
	}
	if (runfile_hist(a, ha) != 0 || runfile_hist(b, hb) != 0) {
		snprintf(err, cap, "runs without a histogram cannot be merged");
		goto out;
	}
	hist_merge(ha, hb);
	out = json_deep_copy(a);
	const char *counts[] = {"requests", "ok", "failed"};
	for (size_t i = 0; i < 3; i++)
		json_object_set_new(out, counts[i], json_integer(geti(a, counts[i]) + geti(b, counts[i])));
	const char *objects[] = {"classes", "status_codes", "bytes", "connections", "verdict_counts"};
	for (size_t i = 0; i < 5; i++) {
		json_t *o = json_object_get(out, objects[i]);
		if (!json_is_object(o))
			json_object_set_new(out, objects[i], o = json_object());
		add_counts(o, json_object_get(b, objects[i]));
	}
	json_t *conn = json_object_get(out, "connections");
	json_int_t req = geti(out, "requests");
	json_object_set_new(conn, "reuse_ratio",
			    json_real(req ? (double)geti(conn, "requests_on_reused") / (double)req : 0.0));
	json_object_set_new(out, "latency_ms", latency_of(ha));
	json_object_set_new(out, "histogram", histogram_of(ha));
	json_object_set_new(out, "timeseries", merge_series(a, b, out));
	json_object_set_new(out, "targets", merge_targets(json_object_get(a, "targets"), json_object_get(b, "targets")));
	json_t *failures = json_array();
	append_capped(failures, json_object_get(a, "failures"), RUNFILE_MAX_FAILURES);
	append_capped(failures, json_object_get(b, "failures"), RUNFILE_MAX_FAILURES);
	json_object_set_new(out, "failures", failures);
	json_t *verdicts = json_array();
	append_capped(verdicts, json_object_get(a, "verdicts"), RUNFILE_MAX_FAILURES);
	append_capped(verdicts, json_object_get(b, "verdicts"), RUNFILE_MAX_FAILURES);
	json_object_set_new(out, "verdicts", verdicts);
	json_object_del(out, "expectations"); /* checks of one run say nothing of the sum */
	double s0 = fmin(json_number_value(json_object_get(a, "started")), json_number_value(json_object_get(b, "started")));
	double e1 = fmax(json_number_value(json_object_get(a, "ended")), json_number_value(json_object_get(b, "ended")));
	json_object_set_new(out, "started", json_real(s0));
	json_object_set_new(out, "ended", json_real(e1));
	json_object_set_new(out, "duration_s", json_real(e1 - s0));
out:
	free(ha);
	free(hb);
	return out;
}

/* ---- the capture join ---- */

static json_t *flow_flags(json_t *flows_by_key, json_t *flow)
{
	char key[200];
	snprintf(key, sizeof key, "%s|%s", json_string_value(json_object_get(flow, "orig")) ?: "",
		 json_string_value(json_object_get(flow, "resp")) ?: "");
	json_t *f = json_object_get(flows_by_key, key);
	return f ? json_incref(f) : json_array();
}

int runfile_join_capture(json_t *doc, json_t *capture)
{
	json_t *by_local = json_object(), *flows = json_object();
	size_t i;
	json_t *t;
	json_array_foreach(json_object_get(capture, "tunnels"), i, t) {
		const char *local = json_string_value(json_object_get(t, "local"));
		if (local && !json_object_get(by_local, local))
			json_object_set(by_local, local, t);
	}
	json_array_foreach(json_object_get(capture, "flows"), i, t) {
		char key[200];
		json_t *flags = json_object_get(t, "flags");
		if (!json_is_array(flags))
			continue;
		snprintf(key, sizeof key, "%s|%s", json_string_value(json_object_get(t, "orig")) ?: "",
			 json_string_value(json_object_get(t, "resp")) ?: "");
		json_object_set(flows, key, flags);
	}
	int joined = 0;
	json_t *f;
	json_array_foreach(json_object_get(doc, "failures"), i, f) {
		const char *local = json_string_value(json_object_get(f, "local"));
		t = local ? json_object_get(by_local, local) : NULL;
		if (!t || !json_is_object(f))
			continue;
		if (!json_object_get(f, "chain") && json_is_object(json_object_get(t, "down")))
			json_object_set(f, "chain", json_object_get(t, "down"));
		if (!json_object_get(f, "verdict") && json_is_string(json_object_get(t, "verdict")))
			json_object_set(f, "verdict", json_object_get(t, "verdict"));
		if (!json_object_get(f, "verdict_code") && json_is_string(json_object_get(t, "verdict_code")))
			json_object_set(f, "verdict_code", json_object_get(t, "verdict_code"));
		if (!json_object_get(f, "flags"))
			json_object_set_new(f, "flags", json_pack("{s:o,s:o}", "client_leg",
							flow_flags(flows, json_object_get(t, "client_flow")),
							"origin_leg", flow_flags(flows, json_object_get(t, "origin_flow"))));
		joined++;
	}
	if (!json_object_get(doc, "capture")) {
		json_t *input = json_object_get(capture, "input");
		json_t *stats = json_object_get(capture, "pcap_stats");
		json_object_set_new(doc, "capture", json_pack("{s:O?,s:I,s:I}", "file",
			json_object_get(input, "file") ?: json_object_get(input, "iface"),
			"frames", geti(input, "frames"), "pcap_dropped", geti(stats, "dropped")));
	}
	if (!json_object_get(doc, "verdict_counts") && json_is_object(json_object_get(capture, "verdicts")))
		json_object_set(doc, "verdict_counts", json_object_get(capture, "verdicts"));
	json_decref(by_local);
	json_decref(flows);
	return joined;
}

/* ---- loading ---- */

static json_t *load_json(const char *path, char *err, size_t cap)
{
	struct stat st;
	if (stat(path, &st) == 0 && st.st_size > (off_t)RUNFILE_MAX_BYTES) {
		snprintf(err, cap, "%s: larger than %u MiB", path, RUNFILE_MAX_BYTES >> 20);
		return NULL;
	}
	json_error_t jerr;
	json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc)
		snprintf(err, cap, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
	return doc;
}

/* One input without '+'. */
static int load_one(const char *arg, json_t **out, char *err, size_t cap)
{
	char path[PATH_MAX];
	struct stat st;
	if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode))
		snprintf(path, sizeof path, "%s/run.json", arg);
	else
		snprintf(path, sizeof path, "%s", arg);
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		snprintf(err, cap, "%s: %s", path, strerror(errno));
		return -ENOENT;
	}
	char head[4096];
	size_t n = fread(head, 1, sizeof head, fp);
	fclose(fp);
	if (records_sniff(head, n))
		return records_load(path, out, err, cap) == 0 ? 0 : -EINVAL;
	json_t *doc = load_json(path, err, cap);
	if (!doc)
		return -EINVAL;
	if (runfile_check(doc, path, err, cap) < 0) {
		json_decref(doc);
		return -EINVAL;
	}
	/* A run folder's capture: the wire's witness for the failures. */
	const char *base = strrchr(path, '/');
	if (strcmp(base ? base + 1 : path, "run.json") == 0 && json_array_size(json_object_get(doc, "failures"))) {
		char cpath[PATH_MAX + 16];
		snprintf(cpath, sizeof cpath, "%.*scapture.json", base ? (int)(base - path + 1) : 0, path);
		char ignored[256];
		json_t *capture = access(cpath, R_OK) == 0 ? load_json(cpath, ignored, sizeof ignored) : NULL;
		if (capture)
			runfile_join_capture(doc, capture);
		json_decref(capture);
	}
	*out = doc;
	return 0;
}

int runfile_load(const char *arg, json_t **doc, char *err, size_t cap)
{
	struct stat st;
	if (!strchr(arg, '+') || stat(arg, &st) == 0)
		return load_one(arg, doc, err, cap);
	char part[PATH_MAX];
	json_t *acc = NULL, *from = json_array();
	const char *p = arg;
	int rc = 0;
	while (*p) {
		const char *plus = strchr(p, '+');
		size_t len = plus ? (size_t)(plus - p) : strlen(p);
		if (len == 0 || len >= sizeof part) {
			snprintf(err, cap, "%s: an empty or overlong part in a '+' list", arg);
			rc = -EINVAL;
			goto out;
		}
		memcpy(part, p, len);
		part[len] = '\0';
		json_t *one;
		if ((rc = load_one(part, &one, err, cap)) < 0)
			goto out;
		json_array_append_new(from, json_string(part));
		if (!acc) {
			acc = one;
		} else {
			json_t *merged = runfile_merge(acc, one, err, cap);
			json_decref(one);
			if (!merged) {
				char why[200];
				snprintf(why, sizeof why, "%s", err);
				snprintf(err, cap, "%s: %s", part, why);
				rc = -EINVAL;
				goto out;
			}
			json_decref(acc);
			acc = merged;
		}
		p += len + (plus ? 1 : 0);
	}
	json_object_set(acc, "merged_from", from);
	*doc = acc;
	acc = NULL;
out:
	json_decref(acc);
	json_decref(from);
	return rc;
}
