/* runfile — see runfile.h. */
#include "lib/runfile.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/histjson.h"
#include "lib/ledger.h"
#include "lib/runload.h"
#include "lib/version.h"

/* 17 significant digits: every double reads back as the value written, and a Unix
 * time keeps its microseconds (10 significant digits rounded them to whole seconds). */
#define JSON_FLAGS (JSON_INDENT(1) | JSON_REAL_PRECISION(17))

/* Time-series bounds a reader accepts: a bucket later than this many seconds after its
 * run's start, or a start outside these Unix times, is not placed on the time axis. */
#define SERIES_MAX_T 400000000.0
#define UNIX_TIME_MAX 1e11

static json_int_t geti(json_t *o, const char *k) { return json_integer_value(json_object_get(o, k)); }
static double getf(json_t *o, const char *k) { return json_number_value(json_object_get(o, k)); }
static bool is_count(json_t *v) { return json_is_integer(v) && json_integer_value(v) >= 0; }
static double ms(uint64_t us) { return (double)us / 1000.0; }

static json_int_t add(json_int_t a, json_int_t b) { return runcount_add_sat(a, b); }

/* ---- writing ---- */

json_t *runfile_new(void)
{
	return json_pack("{s:s,s:{s:s,s:s}}", "schema", RUNFILE_SCHEMA, "tool", "name", "tunnelprobe",
			 "version", TP_VERSION);
}

static json_t *classes_json(const uint64_t classes[TP_CLASS_COUNT])
{
	json_t *o = json_object();
	for (int c = 0; c < TP_CLASS_COUNT; c++)
		if (classes[c])
			json_object_set_new(o, tp_class_name(c), json_integer((json_int_t)classes[c]));
	return o;
}

/* A target's percentile: its coarse bucket's upper bound, which can lie above every
 * value recorded, so no higher than the target's exact maximum. */
static double target_pct(const struct qhist *q, double p, double max_ms)
{
	return fmin(ms(qhist_percentile(q, p)), max_ms);
}

static json_t *target_latency_json(const struct qhist *q, double mean_ms, double max_ms)
{
	return json_pack("{s:f,s:f,s:f,s:f,s:f}", "mean", mean_ms, "p50", target_pct(q, 50, max_ms), "p90",
			 target_pct(q, 90, max_ms), "p99", target_pct(q, 99, max_ms), "max", max_ms);
}

int runfile_set_totals(json_t *doc, const struct runcount_totals *t)
{
	json_t *codes = json_object();
	for (int i = 0; i < RUNCOUNT_STATUS_MAX; i++) {
		if (!t->status[i])
			continue;
		char key[8];
		snprintf(key, sizeof key, "%d", i);
		json_object_set_new(codes, key, json_integer((json_int_t)t->status[i]));
	}
	double reuse = t->requests ? (double)t->requests_reused / (double)t->requests : 0.0;
	json_t *conns = json_pack("{s:I,s:I,s:f}", "opened", (json_int_t)t->conns_opened, "requests_on_reused",
				  (json_int_t)t->requests_reused, "reuse_ratio", reuse);
	if (conns && !t->retries_unknown)
		json_object_set_new(conns, "retries", json_integer((json_int_t)t->retries));
	int rc = 0;
	rc |= json_object_set_new(doc, "requests", json_integer((json_int_t)t->requests));
	rc |= json_object_set_new(doc, "ok", json_integer((json_int_t)t->ok));
	rc |= json_object_set_new(doc, "failed", json_integer((json_int_t)(t->requests - t->ok)));
	rc |= json_object_set_new(doc, "classes", classes_json(t->classes));
	rc |= json_object_set_new(doc, "status_codes", codes);
	rc |= json_object_set_new(doc, "bytes", json_pack("{s:I,s:I}", "sent", (json_int_t)t->bytes_sent,
							  "received", (json_int_t)t->bytes_received));
	rc |= json_object_set_new(doc, "connections", conns);
	rc |= json_object_set_new(doc, "latency_ms", histjson_summary_ms(&t->lat));
	rc |= json_object_set_new(doc, "histogram", histjson_hist(&t->lat));
	rc |= runload_set(doc, t);
	return rc ? -ENOMEM : 0;
}

json_t *runfile_target_json(const char *url, const struct runcount_target *t)
{
	double mean = t->requests ? (double)t->lat_sum_us / (double)t->requests / 1000.0 : 0.0;
	return json_pack("{s:s,s:I,s:I,s:o,s:o,s:o}", "url", url, "requests", (json_int_t)t->requests, "ok",
			 (json_int_t)t->ok, "classes", classes_json(t->classes), "latency_ms",
			 target_latency_json(&t->lat, mean, ms(t->lat_max_us)), "histogram", histjson_qhist(&t->lat));
}

json_t *runfile_second_json(int64_t t, const struct runcount_second *s)
{
	uint64_t failed[TP_CLASS_COUNT];
	for (int c = 0; c < TP_CLASS_COUNT; c++)
		failed[c] = s->failed[c];
	return json_pack("{s:I,s:I,s:I,s:I,s:o,s:I,s:I,s:f,s:f}", "t", (json_int_t)t, "started",
			 (json_int_t)s->started, "completed", (json_int_t)s->completed, "ok", (json_int_t)s->ok,
			 "failed", classes_json(failed), "bytes_in", (json_int_t)s->bytes_in, "bytes_out",
			 (json_int_t)s->bytes_out, "p50_ms", ms(qhist_percentile(&s->lat, 50)), "p99_ms",
			 ms(qhist_percentile(&s->lat, 99)));
}

int runfile_write(json_t *doc, const char *path)
{
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
		return -ENAMETOOLONG;
	if (json_dump_file(doc, tmp, JSON_FLAGS) < 0) {
		unlink(tmp);
		return -EIO;
	}
	if (rename(tmp, path) < 0) {
		int rc = -errno;
		unlink(tmp);
		return rc;
	}
	return 0;
}

int runfile_dumpf(json_t *doc, FILE *fp)
{
	if (json_dumpf(doc, fp, JSON_FLAGS) < 0 || fputc('\n', fp) == EOF)
		return -EIO;
	return 0;
}

/* ---- histograms from JSON ---- */

int runfile_hist(json_t *doc, struct hist *h)
{
	return histjson_read_hist_exact(json_object_get(doc, "histogram"), json_object_get(doc, "latency_ms"), h);
}

/* A target's coarse histogram. 0, -ENOENT (none: a file from before they were
 * written), -EINVAL (not one of ours). */
static int target_qhist(json_t *target, struct qhist *q)
{
	return histjson_read_qhist(json_object_get(target, "histogram"), q);
}

/* ---- checking and upgrading ---- */

static bool schema_known(json_t *doc)
{
	const char *schema = json_string_value(json_object_get(doc, "schema"));
	return schema && (strcmp(schema, RUNFILE_SCHEMA) == 0 || strcmp(schema, RUNFILE_SCHEMA_V1) == 0);
}

/* Why doc's counts, classes or targets are not a run's; NULL when they are. */
static const char *counts_wrong(json_t *doc)
{
	if (!is_count(json_object_get(doc, "requests")))
		return "'requests' missing or not a count";
	if (!is_count(json_object_get(doc, "ok")))
		return "'ok' missing or not a count";
	if (!json_is_object(json_object_get(doc, "classes")))
		return "'classes' missing or not an object";
	if (!json_is_object(json_object_get(doc, "latency_ms")))
		return "'latency_ms' missing or not an object";
	if (!json_is_array(json_object_get(doc, "targets")))
		return "'targets' missing or not an array";
	if (geti(doc, "ok") > geti(doc, "requests"))
		return "'ok' exceeds 'requests'";
	const char *key;
	json_t *v;
	json_object_foreach(json_object_get(doc, "classes"), key, v)
		if (!is_count(v))
			return "a 'classes' count is not a count";
	struct qhist q;
	size_t i;
	json_t *t;
	json_array_foreach(json_object_get(doc, "targets"), i, t) {
		if (!json_is_object(t) || !json_is_string(json_object_get(t, "url")))
			return "a target without a 'url'";
		if (target_qhist(t, &q) == -EINVAL)
			return "a target's 'histogram' is not {unit: us, sub_bucket_bits: 3, buckets: [...]}";
	}
	return NULL;
}

int runfile_check(json_t *doc, const char *name, char *err, size_t cap)
{
	if (!json_is_object(doc)) {
		snprintf(err, cap, "%s: not a JSON object", name);
		return -EINVAL;
	}
	if (!schema_known(doc)) {
		const char *schema = json_string_value(json_object_get(doc, "schema"));
		snprintf(err, cap, "%s: not a %s run file (schema: %.60s)", name, RUNFILE_SCHEMA,
			 schema ? schema : "missing");
		return -EINVAL;
	}
	const char *why = counts_wrong(doc);
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

json_t *runfile_verdict_wrap(const char *text, const char *code)
{
	json_t *v = json_pack("{s:s}", "code", code ? code : "unknown");
	if (v && text)
		json_object_set_new(v, "text", json_string(text));
	return v;
}

int runfile_upgrade(json_t *doc)
{
	const char *schema = json_string_value(json_object_get(doc, "schema"));
	if (schema && strcmp(schema, RUNFILE_SCHEMA) == 0)
		return 0;
	if (!schema || strcmp(schema, RUNFILE_SCHEMA_V1) != 0)
		return -EINVAL;
	json_t *failures = json_object_get(doc, "failures");
	size_t i;
	json_t *f;
	json_array_foreach(failures, i, f) {
		const char *text = json_string_value(json_object_get(f, "verdict"));
		const char *code = json_string_value(json_object_get(f, "verdict_code"));
		if (text || code)
			json_object_set_new(f, "verdict", runfile_verdict_wrap(text, code));
		json_object_del(f, "verdict_code");
	}
	json_t *verdicts = json_object_get(doc, "verdicts");
	json_t *v;
	json_array_foreach(verdicts, i, v) {
		const char *text = json_string_value(v);
		if (!text)
			continue;
		/* Version 1 kept the codes only on the failures: the same sentence names one. */
		const char *code = NULL;
		size_t k;
		json_array_foreach(failures, k, f) {
			json_t *fv = json_object_get(f, "verdict");
			const char *ft = json_string_value(json_object_get(fv, "text"));
			if (ft && strcmp(ft, text) == 0) {
				code = json_string_value(json_object_get(fv, "code"));
				break;
			}
		}
		json_array_set_new(verdicts, i, runfile_verdict_wrap(text, code));
	}
	json_object_set_new(doc, "schema", json_string(RUNFILE_SCHEMA));
	return 0;
}

/* ---- reading ---- */

json_t *runfile_load_json(const char *path, char *err, size_t cap, int *rc)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		snprintf(err, cap, "%s: %s", path, strerror(errno));
		*rc = -ENOENT;
		return NULL;
	}
	if (st.st_size > (off_t)RUNFILE_MAX_BYTES) {
		snprintf(err, cap, "%s: larger than %u MiB", path, RUNFILE_MAX_BYTES >> 20);
		*rc = -EINVAL;
		return NULL;
	}
	json_error_t jerr;
	json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc) {
		snprintf(err, cap, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
		*rc = -EINVAL;
	}
	return doc;
}

int runfile_read(const char *path, json_t **doc, char *err, size_t cap)
{
	char file[PATH_MAX];
	struct stat st;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		snprintf(file, sizeof file, "%s/run.json", path);
	else
		snprintf(file, sizeof file, "%s", path);
	int rc = 0;
	json_t *d = runfile_load_json(file, err, cap, &rc);
	if (!d)
		return rc;
	if (runfile_check(d, file, err, cap) < 0 || runfile_upgrade(d) < 0) {
		json_decref(d);
		return -EINVAL;
	}
	/* A run folder's capture: the wire's witness for the failures. */
	const char *base = strrchr(file, '/');
	if (strcmp(base ? base + 1 : file, "run.json") == 0 && json_array_size(json_object_get(d, "failures"))) {
		char cpath[PATH_MAX + 16], ignored[256];
		snprintf(cpath, sizeof cpath, "%.*scapture.json", base ? (int)(base - file + 1) : 0, file);
		if (access(cpath, R_OK) == 0)
			runfile_join_capture_file(d, cpath, ignored, sizeof ignored);
	}
	*doc = d;
	return 0;
}

/* ---- merging ---- */

/* dst[key] += src[key] for every integer member of src. */
static void add_counts(json_t *dst, json_t *src)
{
	const char *key;
	json_t *v;
	json_object_foreach(src, key, v) {
		if (!json_is_integer(v))
			continue;
		json_object_set_new(dst, key, json_integer(add(geti(dst, key), json_integer_value(v))));
	}
}

/* out[key] = a[key] + b[key] for an object of counts, when either run has it. */
static void merge_counts(json_t *out, json_t *b, const char *key)
{
	json_t *src = json_object_get(b, key), *dst = json_object_get(out, key);
	if (!json_is_object(src))
		return;
	if (!json_is_object(dst))
		json_object_set_new(out, key, dst = json_object());
	add_counts(dst, src);
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

/* The Unix second a run's time series counts from: floor(started); false when the run
 * states no plausible start (its buckets cannot be placed). */
static bool series_base(json_t *run, int64_t *sec)
{
	double s = getf(run, "started");
	if (!json_is_number(json_object_get(run, "started")) || !(s > 0 && s < UNIX_TIME_MAX))
		return false;
	*sec = (int64_t)floor(s);
	return true;
}

/* One time-series bucket s added into slot idx of slots (a new bucket when empty). */
static void add_bucket(json_t *slots, size_t idx, json_t *s, json_int_t t)
{
	json_t *d = json_array_get(slots, idx);
	if (json_is_null(d)) {
		d = json_deep_copy(s);
		json_object_set_new(d, "t", json_integer(t));
		json_array_set_new(slots, idx, d);
		return;
	}
	const char *counters[] = {"started", "completed", "ok", "bytes_in", "bytes_out"};
	for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++)
		json_object_set_new(d, counters[i], json_integer(add(geti(d, counters[i]), geti(s, counters[i]))));
	merge_counts(d, s, "failed");
	/* Percentiles of a second shared by two runs: the larger (only counts add). */
	const char *pcts[] = {"p50_ms", "p99_ms"};
	for (size_t i = 0; i < 2; i++)
		json_object_set_new(d, pcts[i], json_real(fmax(getf(d, pcts[i]), getf(s, pcts[i]))));
}

/* Whether bucket s of a run whose series starts at Unix second start lies at `at`
 * seconds from base (false for a bucket that cannot be placed). */
static bool bucket_at(json_t *s, int64_t start, int64_t base, int64_t *at)
{
	json_t *t = json_object_get(s, "t");
	if (!json_is_object(s) || !json_is_integer(t) || json_integer_value(t) < 0 ||
	    (double)json_integer_value(t) > SERIES_MAX_T)
		return false;
	*at = start - base + json_integer_value(t);
	return *at >= 0;
}

/* Both runs' time series on one axis of absolute seconds (each bucket at its run's
 * floor(started) + t), buckets of the same second added: consecutive soak segments
 * leave one bucket per second, not two with the same t. */
static json_t *merge_series(json_t *a, json_t *b, json_t *out)
{
	json_t *runs[2] = {a, b};
	int64_t start[2] = {0, 0}, base = INT64_MAX, span = 0, step = 1;
	bool placed[2];
	for (int r = 0; r < 2; r++) {
		placed[r] = series_base(runs[r], &start[r]) && json_array_size(json_object_get(runs[r], "timeseries"));
		if (placed[r] && start[r] < base)
			base = start[r];
		if (placed[r] && geti(runs[r], "timeseries_step_s") > step)
			step = geti(runs[r], "timeseries_step_s") < 86400 ? geti(runs[r], "timeseries_step_s") : 86400;
	}
	for (int r = 0; r < 2; r++) {
		size_t i;
		json_t *s;
		int64_t at;
		json_array_foreach(json_object_get(runs[r], "timeseries"), i, s)
			if (placed[r] && bucket_at(s, start[r], base, &at) && at + 1 > span)
				span = at + 1;
	}
	while (span / step >= RUNFILE_MAX_SECONDS)
		step *= 2;
	json_t *slots = json_array();
	for (int64_t i = 0; i <= span / step; i++)
		json_array_append_new(slots, json_null());
	for (int r = 0; r < 2; r++) {
		size_t i;
		json_t *s;
		int64_t at;
		json_array_foreach(json_object_get(runs[r], "timeseries"), i, s)
			if (placed[r] && bucket_at(s, start[r], base, &at))
				add_bucket(slots, (size_t)(at / step), s, (json_int_t)(at / step * step));
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
	else
		json_object_del(out, "timeseries_step_s");
	return series;
}

/* Target b added into target same (both with the same url). With both per-target
 * histograms the latency is recomputed from their sum (exact, as one run would
 * write it); without, the larger percentiles are kept and the histogram dropped. */
static void merge_target(json_t *same, json_t *b)
{
	json_int_t ra = geti(same, "requests"), rb = geti(b, "requests");
	json_t *la = json_object_get(same, "latency_ms"), *lb = json_object_get(b, "latency_ms");
	double n = (double)ra + (double)rb;
	double mean = n > 0 ? (getf(la, "mean") * (double)ra + getf(lb, "mean") * (double)rb) / n : 0;
	double max = fmax(getf(la, "max"), getf(lb, "max"));
	struct qhist qa, qb;
	if (target_qhist(same, &qa) == 0 && target_qhist(b, &qb) == 0) {
		qhist_merge(&qa, &qb);
		json_object_set_new(same, "latency_ms", target_latency_json(&qa, mean, max));
		json_object_set_new(same, "histogram", histjson_qhist(&qa));
	} else {
		json_t *lat = json_pack("{s:f}", "mean", mean);
		const char *keys[] = {"p50", "p90", "p99"};
		for (size_t j = 0; j < 3; j++)
			json_object_set_new(lat, keys[j], json_real(fmax(getf(la, keys[j]), getf(lb, keys[j]))));
		json_object_set_new(lat, "max", json_real(max));
		json_object_set_new(same, "latency_ms", lat);
		json_object_del(same, "histogram");
	}
	json_object_set_new(same, "requests", json_integer(add(ra, rb)));
	json_object_set_new(same, "ok", json_integer(add(geti(same, "ok"), geti(b, "ok"))));
	merge_counts(same, b, "classes");
}

/* a's targets, then b's not in a; targets with the same url added. */
static json_t *merge_targets(json_t *a, json_t *b)
{
	json_t *out = json_is_array(a) ? json_deep_copy(a) : json_array();
	json_t *by_url = json_object(); /* url -> the target in out */
	size_t i;
	json_t *t;
	json_array_foreach(out, i, t) {
		const char *url = json_string_value(json_object_get(t, "url"));
		if (url && !json_object_get(by_url, url))
			json_object_set(by_url, url, t);
	}
	json_array_foreach(b, i, t) {
		const char *url = json_string_value(json_object_get(t, "url"));
		json_t *same = url ? json_object_get(by_url, url) : NULL;
		if (same) {
			merge_target(same, t);
			continue;
		}
		json_t *copy = json_deep_copy(t);
		json_array_append_new(out, copy);
		if (url)
			json_object_set(by_url, url, copy);
	}
	json_decref(by_url);
	return out;
}

/* The expectations each input was judged by, kept per segment of time: an input's own
 * "segments", then its top-level "expectations" as one more. */
static void add_segments(json_t *segments, json_t *run)
{
	append_capped(segments, json_object_get(run, "segments"), SIZE_MAX);
	json_t *exp = json_object_get(run, "expectations");
	if (!json_is_array(exp))
		return;
	json_t *seg = json_pack("{s:O?,s:O?,s:O?,s:O}", "started", json_object_get(run, "started"), "ended",
				json_object_get(run, "ended"), "label", json_object_get(run, "label"),
				"expectations", exp);
	json_array_append_new(segments, seg);
}

/* out's started, ended and duration_s: the earliest start, the latest end. */
static void merge_span(json_t *out, json_t *a, json_t *b)
{
	const char *keys[] = {"started", "ended"};
	double v[2];
	for (int k = 0; k < 2; k++) {
		json_t *x = json_object_get(a, keys[k]), *y = json_object_get(b, keys[k]);
		if (!json_is_number(x) && !json_is_number(y))
			return;
		v[k] = !json_is_number(x) ? json_number_value(y)
		       : !json_is_number(y) ? json_number_value(x)
		       : k == 0 ? fmin(json_number_value(x), json_number_value(y))
				: fmax(json_number_value(x), json_number_value(y));
		json_object_set_new(out, keys[k], json_real(v[k]));
	}
	json_object_set_new(out, "duration_s", json_real(v[1] - v[0]));
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
	if (!(out = json_deep_copy(a))) {
		snprintf(err, cap, "out of memory");
		goto out;
	}
	const char *counts[] = {"requests", "ok", "failed"};
	for (size_t i = 0; i < 3; i++)
		json_object_set_new(out, counts[i], json_integer(add(geti(a, counts[i]), geti(b, counts[i]))));
	const char *objects[] = {"classes", "status_codes", "bytes", "connections", "verdict_counts"};
	for (size_t i = 0; i < sizeof objects / sizeof objects[0]; i++)
		merge_counts(out, b, objects[i]);
	json_t *conn = json_object_get(out, "connections");
	json_int_t req = geti(out, "requests");
	if (json_is_object(conn))
		json_object_set_new(conn, "reuse_ratio",
				    json_real(req ? (double)geti(conn, "requests_on_reused") / (double)req : 0.0));
	json_object_set_new(out, "latency_ms", histjson_summary_ms(ha));
	json_object_set_new(out, "histogram", histjson_hist(ha));
	json_object_set_new(out, "timeseries", merge_series(a, b, out));
	json_object_set_new(out, "targets", merge_targets(json_object_get(a, "targets"), json_object_get(b, "targets")));
	json_t *failures = json_array();
	append_capped(failures, json_object_get(a, "failures"), RUNFILE_MAX_FAILURES);
	append_capped(failures, json_object_get(b, "failures"), RUNFILE_MAX_FAILURES);
	json_object_set_new(out, "failures", failures);
	if (json_object_get(a, "verdicts") || json_object_get(b, "verdicts")) {
		json_t *verdicts = json_array();
		append_capped(verdicts, json_object_get(a, "verdicts"), RUNFILE_MAX_VERDICTS);
		append_capped(verdicts, json_object_get(b, "verdicts"), RUNFILE_MAX_VERDICTS);
		json_object_set_new(out, "verdicts", verdicts);
	}
	json_t *segments = json_array();
	add_segments(segments, a);
	add_segments(segments, b);
	if (json_array_size(segments))
		json_object_set(out, "segments", segments);
	json_decref(segments);
	json_object_del(out, "expectations"); /* checks of one input say nothing of the sum */
	merge_span(out, a, b);
	if (runload_merge(out, a, b) < 0) {
		snprintf(err, cap, "out of memory");
		json_decref(out);
		out = NULL;
	}
out:
	free(ha);
	free(hb);
	return out;
}
