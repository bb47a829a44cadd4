/* Unit tests for lib/runfile: runs that split one load merge back into exactly that
 * load (counts, classes, status codes, bytes, connections, the histogram, targets with
 * their histograms, time-series counters), whether split in time (soak segments) or
 * request by request (shards); soak segments meeting in one second leave one bucket;
 * expectations kept per segment; times written with their microseconds; version 1 files
 * upgraded; the capture join in both capture.json forms; the histogram round trip. */
#include <math.h>
#include <stdbool.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/runfile.h"
#include "reports/records.h"

#define NRECORDS 900
#define MAX_PARTS 8

static const char *const urls[] = {"https://a.test:443/bytes/1000", "https://b.test:443/chunked/5000",
				   "http://c.test:80/gzip/77"};
static const char *const classes[] = {"ok", "ok", "ok", "ok", "incomplete_read", "ok", "reset", "ok", "timeout"};

/* xorshift64*: a fixed seed, so every run sees the same load. */
static uint64_t rng(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dull;
}

/* Record i of the deterministic load: three URLs, a mix of classes, latencies over
 * four orders of magnitude, starts spread over about 25 seconds. */
static size_t record(size_t i, char *line, size_t cap)
{
	uint64_t s = 0x9e3779b97f4a7c15ull ^ (i * 0x100000001b3ull + 1);
	rng(&s);
	double latency_ms = (double)(rng(&s) % 500000) / 1000.0 * (double)(1 + rng(&s) % 3) / 3.0 + 0.05;
	double t = 1795390000.25 + (double)i * 0.027 + (double)(rng(&s) % 1000) / 1e6;
	const char *cls = classes[rng(&s) % (sizeof classes / sizeof classes[0])];
	int status = strcmp(cls, "ok") == 0 ? 200 : rng(&s) % 2 ? 200 : 0;
	bool reused = rng(&s) % 4;
	/* Phase ends from the start: a new connection has dns, connect (and tls for
	 * https); every request its first byte. */
	double dns = (double)(rng(&s) % 3000) / 1000.0, connect = dns + (double)(rng(&s) % 900) / 1000.0;
	double tls = connect + (double)(rng(&s) % 5000) / 1000.0, first = tls + (double)(rng(&s) % 200000) / 1000.0;
	char timings[200];
	if (reused)
		snprintf(timings, sizeof timings, "{\"first_byte\":%.3f,\"total\":%.3f}", first, latency_ms);
	else
		snprintf(timings, sizeof timings, "{\"dns\":%.3f,\"connect\":%.3f%s%.3f,\"first_byte\":%.3f}", dns,
			 connect, i % 3 == 2 ? ",\"proxy\":" : ",\"tls\":", tls, first);
	return (size_t)snprintf(line, cap,
				"{\"id\":\"r-%zu\",\"url\":\"%s\",\"class\":\"%s\",\"phase\":\"%s\",\"status\":%d,"
				"\"bytes_sent\":%llu,\"wire_received\":%llu,\"reused\":%s,\"local\":\"127.0.0.1:%zu\","
				"\"latency_ms\":%.3f,\"t\":%.6f,\"verified\":%s,\"timings_ms\":%s}",
				i, urls[i % 3], cls, strcmp(cls, "ok") == 0 ? "done" : "body", status,
				(unsigned long long)(100 + rng(&s) % 50), (unsigned long long)(rng(&s) % 100000),
				reused ? "true" : "false", 20000 + i, latency_ms, t, i % 5 ? "true" : "false", timings);
}

/* The run of the records i in [0, NRECORDS) with part_of(i) == part (all when part <
 * 0), built as `report` builds one from a records file, then written and read back as
 * a run file (so what merges is what a file holds). */
static json_t *run_of(int part, size_t (*part_of)(size_t, size_t), size_t nparts, const char *dir)
{
	struct records_agg a;
	assert_int_equal(records_init(&a), 0);
	char line[1024];
	for (size_t i = 0; i < NRECORDS; i++)
		if (part < 0 || part_of(i, nparts) == (size_t)part)
			assert_int_equal(records_line(&a, line, record(i, line, sizeof line)), 0);
	json_t *doc = records_to_run(&a, "mem");
	records_free(&a);
	assert_non_null(doc);
	char path[512], err[256];
	snprintf(path, sizeof path, "%s/part-%d.json", dir, part);
	assert_int_equal(runfile_write(doc, path), 0);
	json_decref(doc);
	doc = NULL;
	if (runfile_read(path, &doc, err, sizeof err) != 0)
		fail_msg("%s", err);
	return doc;
}

static size_t contiguous(size_t i, size_t n) { return i * n / NRECORDS; }
static size_t round_robin(size_t i, size_t n) { return (i * 7 + i / 5) % n; }

static json_int_t geti(json_t *o, const char *k) { return json_integer_value(json_object_get(o, k)); }
static double getf(json_t *o, const char *k) { return json_number_value(json_object_get(o, k)); }

static void assert_same(json_t *want, json_t *got, const char *what)
{
	if (!json_equal(want, got)) {
		char *w = json_dumps(want, JSON_COMPACT), *g = json_dumps(got, JSON_COMPACT);
		fail_msg("%s differs:\n want %.600s\n got  %.600s", what, w ? w : "(null)", g ? g : "(null)");
	}
}

/* assert_same with want a new reference, released here. */
static void assert_json(json_t *want, json_t *got, const char *what)
{
	assert_non_null(want);
	assert_same(want, got, what);
	json_decref(want);
}

static void assert_close(double want, double got, const char *what)
{
	if (fabs(want - got) > 1e-9 * fmax(1.0, fabs(want)))
		fail_msg("%s: want %.12g, got %.12g", what, want, got);
}

static json_t *target_by_url(json_t *targets, const char *url)
{
	size_t i;
	json_t *t;
	json_array_foreach(targets, i, t)
		if (strcmp(json_string_value(json_object_get(t, "url")), url) == 0)
			return t;
	return NULL;
}

/* Time-series counters by second; fails on a second listed twice. */
static void series_counters(json_t *run, json_t *by_t)
{
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(run, "timeseries"), i, s) {
		char key[32];
		snprintf(key, sizeof key, "%lld", (long long)geti(s, "t"));
		if (json_object_get(by_t, key))
			fail_msg("second %s listed twice", key);
		json_object_set_new(by_t, key,
				    json_pack("{s:I,s:I,s:I,s:I,s:I,s:O}", "started", geti(s, "started"), "completed",
					      geti(s, "completed"), "ok", geti(s, "ok"), "bytes_in", geti(s, "bytes_in"),
					      "bytes_out", geti(s, "bytes_out"), "failed", json_object_get(s, "failed")));
	}
}

static void assert_targets_equal(json_t *whole, json_t *merged)
{
	json_t *wt = json_object_get(whole, "targets"), *mt = json_object_get(merged, "targets");
	assert_int_equal(json_array_size(wt), json_array_size(mt));
	size_t i;
	json_t *t;
	json_array_foreach(wt, i, t) {
		json_t *m = target_by_url(mt, json_string_value(json_object_get(t, "url")));
		assert_non_null(m);
		assert_int_equal(geti(t, "requests"), geti(m, "requests"));
		assert_int_equal(geti(t, "ok"), geti(m, "ok"));
		assert_same(json_object_get(t, "classes"), json_object_get(m, "classes"), "target classes");
		assert_same(json_object_get(t, "histogram"), json_object_get(m, "histogram"), "target histogram");
		json_t *lw = json_object_get(t, "latency_ms"), *lm = json_object_get(m, "latency_ms");
		const char *exact[] = {"p50", "p90", "p99", "max"};
		for (size_t k = 0; k < 4; k++)
			assert_true(getf(lw, exact[k]) == getf(lm, exact[k]));
		assert_close(getf(lw, "mean"), getf(lm, "mean"), "target mean");
	}
}

/* Splits the load into nparts runs, merges them, and compares with the whole. */
static void split_and_merge(size_t nparts, size_t (*part_of)(size_t, size_t))
{
	char dir[] = "/tmp/tp-runfile-XXXXXX";
	assert_non_null(mkdtemp(dir));
	json_t *whole = run_of(-1, part_of, nparts, dir), *merged = NULL;
	char err[256];
	for (size_t p = 0; p < nparts; p++) {
		json_t *part = run_of((int)p, part_of, nparts, dir);
		if (!merged) {
			merged = part;
			continue;
		}
		json_t *m = runfile_merge(merged, part, err, sizeof err);
		if (!m)
			fail_msg("merge: %s", err);
		json_decref(merged);
		json_decref(part);
		merged = m;
	}
	const char *counts[] = {"requests", "ok", "failed"};
	for (size_t k = 0; k < 3; k++)
		assert_int_equal(geti(whole, counts[k]), geti(merged, counts[k]));
	const char *objects[] = {"classes", "status_codes", "bytes", "connections", "histogram", "latency_ms"};
	for (size_t k = 0; k < sizeof objects / sizeof objects[0]; k++) {
		json_t *w = json_object_get(whole, objects[k]), *m = json_object_get(merged, objects[k]);
		if (strcmp(objects[k], "latency_ms") == 0) {
			/* The mean is a float sum: equal up to rounding; the rest exactly. */
			assert_close(getf(w, "mean"), getf(m, "mean"), "mean");
			json_object_set_new(w, "mean", json_real(0));
			json_object_set_new(m, "mean", json_real(0));
		}
		assert_same(w, m, objects[k]);
	}
	/* The ok requests' latency (what reports compare runs on) merges exactly too. */
	json_t *wo = json_object_get(whole, "latency_ok_ms"), *mo = json_object_get(merged, "latency_ok_ms");
	assert_int_equal(geti(wo, "requests"), geti(whole, "ok"));
	assert_close(getf(wo, "mean"), getf(mo, "mean"), "ok mean");
	json_object_set_new(wo, "mean", json_real(0));
	json_object_set_new(mo, "mean", json_real(0));
	assert_same(wo, mo, "latency_ok_ms");
	assert_same(json_object_get(whole, "histogram_ok"), json_object_get(merged, "histogram_ok"), "histogram_ok");
	assert_int_equal(geti(whole, "verified"), geti(merged, "verified"));
	assert_int_equal(geti(whole, "unverified"), geti(merged, "unverified"));
	assert_true(geti(whole, "verified") > 0 && geti(whole, "unverified") > 0);
	assert_same(json_object_get(whole, "phase_histograms"), json_object_get(merged, "phase_histograms"),
		    "phase histograms");
	const char *phases[] = {"dns", "connect", "proxy", "tls", "first_byte"};
	for (size_t k = 0; k < 5; k++) {
		json_t *w = json_object_get(json_object_get(whole, "phases_ms"), phases[k]);
		json_t *m = json_object_get(json_object_get(merged, "phases_ms"), phases[k]);
		assert_true(geti(w, "count") > 0);
		assert_close(getf(w, "mean"), getf(m, "mean"), "phase mean");
		json_object_set_new(w, "mean", json_real(0));
		json_object_set_new(m, "mean", json_real(0));
		assert_same(w, m, phases[k]);
	}
	assert_true(getf(whole, "started") == getf(merged, "started"));
	assert_true(getf(whole, "ended") == getf(merged, "ended"));
	assert_targets_equal(whole, merged);
	json_t *ws = json_object(), *ms = json_object();
	series_counters(whole, ws);
	series_counters(merged, ms);
	assert_same(ws, ms, "time-series counters");
	assert_int_equal(json_array_size(json_object_get(merged, "failures")), RUNFILE_MAX_FAILURES);
	if (part_of == contiguous) /* in time order: the same first failures */
		assert_same(json_object_get(whole, "failures"), json_object_get(merged, "failures"), "failures");
	json_decref(ws);
	json_decref(ms);
	json_decref(whole);
	json_decref(merged);
	char cmd[600];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_segments_merge_to_the_load(void **state)
{
	(void)state;
	split_and_merge(2, contiguous);
	split_and_merge(5, contiguous);
}

static void test_shards_merge_to_the_load(void **state)
{
	(void)state;
	split_and_merge(3, round_robin);
	split_and_merge(MAX_PARTS, round_robin);
}

/* A minimal run with a histogram, started at `started`, one bucket per t given. */
static json_t *mini_run(double started, const int *t, size_t nt, json_int_t per_bucket)
{
	json_t *series = json_array();
	for (size_t i = 0; i < nt; i++)
		json_array_append_new(series, json_pack("{s:i,s:I,s:I,s:I,s:{},s:I,s:I,s:f,s:f}", "t", t[i], "started",
							per_bucket, "completed", per_bucket, "ok", per_bucket,
							"failed", "bytes_in", (json_int_t)10, "bytes_out",
							(json_int_t)1, "p50_ms", 1.0 + i, "p99_ms", 2.0));
	json_int_t n = per_bucket * (json_int_t)nt;
	return json_pack("{s:s,s:I,s:I,s:I,s:{s:I},s:{s:f,s:f,s:f},s:{s:s,s:i,s:[[i,i,I]]},s:o,s:[],s:[],s:f,s:f}",
			 "schema", RUNFILE_SCHEMA, "requests", n, "ok", n, "failed", (json_int_t)0, "classes", "ok", n,
			 "latency_ms", "min", 1.0, "mean", 1.0, "max", 1.0, "histogram", "unit", "us",
			 "sub_bucket_bits", HIST_SUB_BITS, "buckets", 1000, 1003, n, "timeseries", series, "targets",
			 "failures", "started", started, "ended", started + (double)nt);
}

/* Two soak segments meeting in one second: one bucket for it, counters added, and
 * every t counted from the merged start. */
static void test_segments_share_a_second(void **state)
{
	(void)state;
	const int ta[] = {0, 1, 2}, tb[] = {0, 1};
	json_t *a = mini_run(1000.5, ta, 3, 4), *b = mini_run(1002.7, tb, 2, 5);
	char err[128];
	json_t *m = runfile_merge(a, b, err, sizeof err);
	assert_non_null(m);
	json_t *series = json_object_get(m, "timeseries");
	assert_int_equal(json_array_size(series), 4); /* 1000, 1001, 1002 (shared), 1003 */
	const json_int_t want_t[] = {0, 1, 2, 3}, want_started[] = {4, 4, 9, 5};
	for (size_t i = 0; i < 4; i++) {
		json_t *s = json_array_get(series, i);
		assert_int_equal(geti(s, "t"), want_t[i]);
		assert_int_equal(geti(s, "started"), want_started[i]);
	}
	assert_int_equal(geti(json_array_get(series, 2), "bytes_in"), 20);
	assert_true(getf(json_array_get(series, 2), "p50_ms") == 3.0); /* the larger */
	assert_true(getf(m, "started") == 1000.5);
	assert_int_equal(geti(m, "requests"), 22);
	json_decref(a);
	json_decref(b);
	json_decref(m);
}

static void test_expectations_kept_per_segment(void **state)
{
	(void)state;
	const int t0[] = {0};
	json_t *a = mini_run(100, t0, 1, 1), *b = mini_run(200, t0, 1, 1), *c = mini_run(300, t0, 1, 1);
	json_object_set_new(a, "expectations", json_pack("[{s:s,s:b}]", "expect", "ok >= 1: got 1", "pass", 1));
	json_object_set_new(a, "label", json_string("linux"));
	json_object_set_new(c, "expectations", json_pack("[{s:s,s:b}]", "expect", "ok >= 9: got 1", "pass", 0));
	json_object_set_new(b, "verdict_counts", json_pack("{s:i}", "ok", 3));
	json_object_set_new(c, "verdict_counts", json_pack("{s:i,s:i}", "ok", 1, "no_fin", 2));
	char err[128];
	json_t *ab = runfile_merge(a, b, err, sizeof err);
	json_t *abc = runfile_merge(ab, c, err, sizeof err);
	assert_non_null(abc);
	assert_null(json_object_get(abc, "expectations"));
	json_t *segs = json_object_get(abc, "segments");
	assert_int_equal(json_array_size(segs), 2);
	assert_true(getf(json_array_get(segs, 0), "started") == 100);
	assert_string_equal(json_string_value(json_object_get(json_array_get(segs, 0), "label")), "linux");
	assert_true(getf(json_array_get(segs, 1), "started") == 300);
	assert_false(json_is_true(json_object_get(json_array_get(json_object_get(json_array_get(segs, 1),
											"expectations"), 0), "pass")));
	assert_json(json_pack("{s:i,s:i}", "ok", 4, "no_fin", 2), json_object_get(abc, "verdict_counts"),
		    "verdict counts");
	json_decref(a);
	json_decref(b);
	json_decref(c);
	json_decref(ab);
	json_decref(abc);
}

/* Targets from files without per-target histograms: matched by URL, the larger
 * percentiles kept (documented approximation). */
static void test_targets_without_histograms(void **state)
{
	(void)state;
	const int t0[] = {0};
	json_t *a = mini_run(100, t0, 1, 2), *b = mini_run(200, t0, 1, 2);
	json_object_set_new(a, "targets", json_pack("[{s:s,s:i,s:i,s:{s:i},s:{s:f,s:f,s:f,s:f,s:f}}]", "url", "http://x/",
						    "requests", 2, "ok", 2, "classes", "ok", 2, "latency_ms", "mean",
						    1.0, "p50", 1.0, "p90", 1.0, "p99", 1.0, "max", 1.0));
	json_object_set_new(b, "targets",
			    json_pack("[{s:s,s:i,s:i,s:{s:i},s:{s:f,s:f,s:f,s:f,s:f}},{s:s,s:i,s:i,s:{},s:{}}]", "url",
				      "http://y/", "requests", 1, "ok", 1, "classes", "ok", 1, "latency_ms", "mean", 9.0,
				      "p50", 9.0, "p90", 9.0, "p99", 9.0, "max", 9.0, "url", "http://x/", "requests", 2,
				      "ok", 0, "classes", "latency_ms"));
	json_object_set_new(json_object_get(json_array_get(json_object_get(b, "targets"), 1), "latency_ms"), "mean",
			    json_real(3.0));
	json_object_set_new(json_object_get(json_array_get(json_object_get(b, "targets"), 1), "latency_ms"), "p99",
			    json_real(4.0));
	char err[128];
	json_t *m = runfile_merge(a, b, err, sizeof err);
	json_t *targets = json_object_get(m, "targets");
	assert_int_equal(json_array_size(targets), 2);
	json_t *x = json_array_get(targets, 0);
	assert_string_equal(json_string_value(json_object_get(x, "url")), "http://x/");
	assert_int_equal(geti(x, "requests"), 4);
	assert_int_equal(geti(x, "ok"), 2);
	assert_true(getf(json_object_get(x, "latency_ms"), "p99") == 4.0);
	assert_true(getf(json_object_get(x, "latency_ms"), "mean") == 2.0);
	assert_null(json_object_get(x, "histogram"));
	json_decref(a);
	json_decref(b);
	json_decref(m);
}

static void test_write_keeps_microseconds(void **state)
{
	(void)state;
	char dir[] = "/tmp/tp-runfile-XXXXXX", path[256], err[256];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/run.json", dir);
	const int t0[] = {0};
	json_t *doc = mini_run(1763851234.123456, t0, 1, 1), *back = NULL;
	json_object_set_new(doc, "ended", json_real(1763851240.654321));
	assert_int_equal(runfile_write(doc, path), 0);
	char tmp[300];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	assert_int_equal(access(tmp, F_OK), -1); /* renamed away */
	assert_int_equal(runfile_read(dir, &back, err, sizeof err), 0); /* a run folder */
	assert_true(getf(back, "started") == 1763851234.123456);
	assert_true(getf(back, "ended") == 1763851240.654321);
	assert_int_equal(runfile_write(doc, "/nonexistent-dir/run.json"), -5 /* -EIO */);
	json_decref(doc);
	json_decref(back);
	unlink(path);
	rmdir(dir);
}

static void test_version_1_upgraded(void **state)
{
	(void)state;
	json_t *doc = json_pack("{s:s,s:i,s:i,s:{},s:{},s:[],s:[{s:s,s:s,s:s},{s:s,s:s},{s:s}],s:[s,s]}", "schema",
				RUNFILE_SCHEMA_V1, "requests", 3, "ok", 0, "classes", "latency_ms", "targets",
				"failures", "local", "a", "verdict", "truncated at proxy→client (early FIN)",
				"verdict_code", "truncated_proxy_client", "local", "b", "verdict", "a sentence alone",
				"local", "c", "verdicts", "truncated at proxy→client (early FIN)", "something else");
	char err[256];
	assert_int_equal(runfile_check(doc, "v1", err, sizeof err), 0);
	assert_int_equal(runfile_upgrade(doc), 0);
	assert_string_equal(json_string_value(json_object_get(doc, "schema")), RUNFILE_SCHEMA);
	json_t *f = json_object_get(doc, "failures");
	assert_json(json_pack("{s:s,s:s}", "code", "truncated_proxy_client", "text", "truncated at proxy→client (early FIN)"),
		    json_object_get(json_array_get(f, 0), "verdict"), "failure 0");
	assert_null(json_object_get(json_array_get(f, 0), "verdict_code"));
	assert_json(json_pack("{s:s,s:s}", "code", "unknown", "text", "a sentence alone"),
		    json_object_get(json_array_get(f, 1), "verdict"), "failure 1");
	assert_null(json_object_get(json_array_get(f, 2), "verdict"));
	json_t *v = json_object_get(doc, "verdicts");
	assert_string_equal(json_string_value(json_object_get(json_array_get(v, 0), "code")), "truncated_proxy_client");
	assert_string_equal(json_string_value(json_object_get(json_array_get(v, 1), "code")), "unknown");
	assert_int_equal(runfile_upgrade(doc), 0); /* /2: nothing to do */
	json_object_set_new(doc, "schema", json_string("tunnelprobe.run/9"));
	assert_int_equal(runfile_check(doc, "v9", err, sizeof err), -22);
	assert_non_null(strstr(err, "v9: not a tunnelprobe.run/2 run file"));
	assert_int_equal(runfile_upgrade(doc), -22);
	json_decref(doc);
}

static void test_join_capture_both_forms(void **state)
{
	(void)state;
	json_t *doc = json_pack("{s:[{s:s},{s:s},{s:s,s:{s:s,s:s}},{s:s}]}", "failures", "local", "127.0.0.1:1", "local",
				"127.0.0.1:2", "local", "127.0.0.1:3", "verdict", "code", "unknown", "text", "old",
				"local", "127.0.0.1:9");
	json_t *down = json_pack("{s:i,s:i}", "expected", 100, "probe", 40);
	/* Tunnel 1: capture.json before verdicts were data; 2 and 3: verdict objects;
	 * 4: ok. */
	json_t *cap = json_pack(
		"{s:{s:s,s:i},s:{s:i},s:[{s:s,s:s,s:[s]}],"
		"s:[{s:s,s:s,s:s,s:O,s:{s:s,s:s}},{s:s,s:{s:s,s:s,s:i,s:[]},s:O},"
		"{s:s,s:{s:s,s:s}},{s:s,s:{s:s}}]}",
		"input", "file", "x.pcapng", "frames", 42, "pcap_stats", "dropped", 1, "flows", "orig",
		"127.0.0.1:1", "resp", "127.0.0.1:3128", "flags", "early_fin", "tunnels", "local", "127.0.0.1:1",
		"verdict", "truncated at proxy→client", "verdict_code", "truncated_proxy_client", "down", down,
		"client_flow", "orig", "127.0.0.1:1", "resp", "127.0.0.1:3128", "local", "127.0.0.1:2", "verdict",
		"code", "no_fin", "hop", "proxy", "at_byte", 7, "evidence", "down", down, "local", "127.0.0.1:3",
		"verdict", "code", "reset_by_proxy", "text", "reset", "local", "127.0.0.1:4", "verdict", "code",
		"ok");
	assert_non_null(doc);
	assert_non_null(cap);
	assert_int_equal(runfile_join_capture(doc, cap), 3);
	json_t *f = json_object_get(doc, "failures");
	assert_json(json_pack("{s:s,s:s}", "code", "truncated_proxy_client", "text", "truncated at proxy→client"),
		    json_object_get(json_array_get(f, 0), "verdict"), "wrapped verdict");
	assert_same(down, json_object_get(json_array_get(f, 0), "chain"), "chain");
	assert_json(json_pack("{s:[s],s:[]}", "client_leg", "early_fin", "origin_leg"),
		    json_object_get(json_array_get(f, 0), "flags"), "flags");
	assert_int_equal(geti(json_object_get(json_array_get(f, 1), "verdict"), "at_byte"), 7); /* as it is */
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(f, 2), "verdict"), "code")),
			    "reset_by_proxy"); /* "unknown" replaced */
	assert_null(json_object_get(json_array_get(f, 3), "verdict"));
	assert_int_equal(json_array_size(json_object_get(doc, "verdicts")), 3); /* ok left out */
	assert_json(json_pack("{s:i,s:i,s:i,s:i}", "truncated_proxy_client", 1, "no_fin", 1, "reset_by_proxy", 1, "ok",
			      1),
		    json_object_get(doc, "verdict_counts"), "verdict counts");
	assert_json(json_pack("{s:s,s:i,s:i}", "file", "x.pcapng", "frames", 42, "pcap_dropped", 1),
		    json_object_get(doc, "capture"), "capture");
	/* Joined again: what is there stays. */
	json_object_set_new(json_object_get(json_array_get(f, 0), "verdict"), "code", json_string("kept"));
	runfile_join_capture(doc, cap);
	assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(f, 0), "verdict"), "code")),
			    "kept");
	json_decref(down);
	json_decref(cap);
	json_decref(doc);
}

static json_t *parse(const char *text)
{
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr);
	if (!j)
		fail_msg("bad test JSON: %s (line %d)", jerr.text, jerr.line);
	return j;
}

/* A kept-alive connection that carried three requests, two of which failed: each
 * failure gets its own request's verdict and chain (matched by probe id), not the
 * first failure's; a request without TCP counts of its own gets the connection's,
 * marked with how many requests they cover; a failure the capture did not join apart
 * falls back to its tunnel by local address. */
static void test_join_capture_per_request(void **state)
{
	(void)state;
	json_t *doc = parse("{\"failures\":["
			    "{\"id\":\"k-0-1\",\"local\":\"127.0.0.1:5\",\"class\":\"reset\"},"
			    "{\"id\":\"k-0-2\",\"local\":\"127.0.0.1:5\",\"class\":\"incomplete_read\"},"
			    "{\"id\":\"old-9\",\"local\":\"127.0.0.1:5\",\"class\":\"timeout\"}]}");
	json_t *cap = parse(
		"{\"tunnels\":[{\"id\":\"k-0-0\",\"local\":\"127.0.0.1:5\",\"requests\":3,\"failed\":2,"
		" \"down\":{\"unit\":\"message\",\"origin_wrote\":300,\"probe\":210,"
		"  \"wire\":{\"unit\":\"stream\",\"origin_acked\":900,\"proxy_received\":900,\"proxy_sent\":800}},"
		" \"verdict\":{\"code\":\"reset_by_proxy\",\"at_byte\":50},"
		" \"per_request\":["
		"  {\"id\":\"k-0-0\",\"class\":\"ok\",\"verdict\":{\"code\":\"ok\"},"
		"   \"down\":{\"unit\":\"message\",\"origin_wrote\":100,\"probe\":100,\"wire\":{\"unit\":\"stream\"}}},"
		"  {\"id\":\"k-0-1\",\"class\":\"reset\",\"verdict\":{\"code\":\"reset_by_proxy\",\"at_byte\":50},"
		"   \"down\":{\"unit\":\"message\",\"origin_wrote\":100,\"probe\":50,"
		"    \"wire\":{\"unit\":\"stream\",\"origin_acked\":null}}},"
		"  {\"id\":\"k-0-2\",\"class\":\"incomplete_read\","
		"   \"verdict\":{\"code\":\"truncated_proxy_client\",\"at_byte\":60},"
		"   \"down\":{\"unit\":\"message\",\"origin_wrote\":100,\"probe\":60,"
		"    \"wire\":{\"unit\":\"stream\",\"proxy_received\":100,\"proxy_sent\":60}}}]}],"
		" \"verdicts\":{\"reset_by_proxy\":1}}");
	assert_int_equal(runfile_join_capture(doc, cap), 3);
	json_t *f = json_object_get(doc, "failures");
	json_t *f0 = json_array_get(f, 0), *f1 = json_array_get(f, 1), *f2 = json_array_get(f, 2);
	assert_json(parse("{\"code\":\"reset_by_proxy\",\"at_byte\":50}"), json_object_get(f0, "verdict"), "first");
	assert_json(parse("{\"unit\":\"message\",\"origin_wrote\":100,\"probe\":50,\"wire\":{\"unit\":\"stream\","
			  "\"origin_acked\":900,\"proxy_received\":900,\"proxy_sent\":800,\"requests\":3}}"),
		    json_object_get(f0, "chain"), "first chain: the connection's wire");
	assert_json(parse("{\"code\":\"truncated_proxy_client\",\"at_byte\":60}"), json_object_get(f1, "verdict"),
		    "second failure on the connection: its own verdict");
	assert_json(parse("{\"unit\":\"message\",\"origin_wrote\":100,\"probe\":60,\"wire\":{\"unit\":\"stream\","
			  "\"proxy_received\":100,\"proxy_sent\":60}}"),
		    json_object_get(f1, "chain"), "second chain: its own wire");
	assert_same(json_object_get(json_array_get(json_object_get(cap, "tunnels"), 0), "down"),
		    json_object_get(f2, "chain"), "by local: the tunnel's chain");
	assert_json(parse("{\"code\":\"reset_by_proxy\",\"at_byte\":50}"), json_object_get(f2, "verdict"),
		    "by local: the tunnel's verdict");
	assert_json(parse("[{\"code\":\"reset_by_proxy\",\"at_byte\":50},"
			  "{\"code\":\"truncated_proxy_client\",\"at_byte\":60}]"),
		    json_object_get(doc, "verdicts"), "run verdicts: each failed request's");
	assert_json(parse("{\"reset_by_proxy\":1}"), json_object_get(doc, "verdict_counts"), "counts per tunnel");
	json_decref(cap);
	json_decref(doc);
}

/* latency_ok_ms from the counters: the ok requests only, whatever the failures'
 * latency; {requests: 0} when none was ok. Merged exactly, also with a file from
 * before histogram_ok whose requests were all ok (its histogram is theirs), and
 * dropped when an input cannot say (a failing run without histogram_ok). */
static void test_ok_latency(void **state)
{
	(void)state;
	struct runcount_totals *t = malloc(2 * sizeof *t);
	assert_non_null(t);
	runcount_totals_init(&t[0]);
	runcount_totals_init(&t[1]);
	const struct runcount_request ok10 = {.cls = TP_OK, .latency_us = 10000, .phase_us = {-1, -1, -1, -1, -1}};
	const struct runcount_request ok30 = {.cls = TP_OK, .latency_us = 30000, .phase_us = {-1, -1, -1, -1, -1}};
	const struct runcount_request fast_fail = {.cls = TP_RESET, .latency_us = 500, .phase_us = {-1, -1, -1, -1, -1}};
	runcount_totals_add(&t[0], &ok10);
	runcount_totals_add(&t[0], &fast_fail);
	runcount_totals_add(&t[1], &fast_fail);
	json_t *a = runfile_new(), *none = runfile_new();
	json_object_set_new(a, "targets", json_array());
	json_object_set_new(none, "targets", json_array());
	assert_int_equal(runfile_set_totals(a, &t[0]), 0);
	assert_int_equal(runfile_set_totals(none, &t[1]), 0);
	json_t *lo = json_object_get(a, "latency_ok_ms");
	assert_int_equal(geti(lo, "requests"), 1);
	assert_true(getf(lo, "min") == 10.0 && getf(lo, "max") == 10.0 && getf(lo, "mean") == 10.0);
	assert_true(getf(json_object_get(a, "latency_ms"), "min") == 0.5); /* the failure counts there */
	assert_json(json_pack("{s:i}", "requests", 0), json_object_get(none, "latency_ok_ms"), "none ok");
	char err[128];
	json_t *m = runfile_merge(a, none, err, sizeof err);
	assert_non_null(m);
	assert_same(lo, json_object_get(m, "latency_ok_ms"), "merged with a run of no ok request");
	json_decref(m);
	/* A file from before histogram_ok, every request ok: its histogram is the ok one. */
	runcount_totals_init(&t[1]);
	runcount_totals_add(&t[1], &ok30);
	json_t *old = runfile_new();
	json_object_set_new(old, "targets", json_array());
	assert_int_equal(runfile_set_totals(old, &t[1]), 0);
	json_object_del(old, "histogram_ok");
	json_object_del(old, "latency_ok_ms");
	m = runfile_merge(a, old, err, sizeof err);
	assert_non_null(m);
	lo = json_object_get(m, "latency_ok_ms");
	assert_int_equal(geti(lo, "requests"), 2);
	assert_true(getf(lo, "min") == 10.0 && getf(lo, "max") == 30.0 && getf(lo, "mean") == 20.0);
	json_decref(m);
	/* A failing run that does not say: the sum would be a guess, so none. */
	json_object_del(a, "histogram_ok");
	m = runfile_merge(a, old, err, sizeof err);
	assert_non_null(m);
	assert_null(json_object_get(m, "latency_ok_ms"));
	assert_null(json_object_get(m, "histogram_ok"));
	json_decref(m);
	json_decref(a);
	json_decref(none);
	json_decref(old);
	free(t);
}

/* A target's p99 comes from a coarse bucket whose upper bound can pass every value in
 * it (1000 us lies in [960, 1023]): it is never reported above the target's max. */
static void test_target_p99_within_max(void **state)
{
	(void)state;
	struct runcount_target t;
	memset(&t, 0, sizeof t);
	const struct runcount_request r = {.cls = TP_OK, .latency_us = 1000};
	runcount_target_add(&t, &r);
	assert_true(qhist_percentile(&t.lat, 99) > 1000); /* the cause */
	assert_int_equal(runcount_target_percentile(&t, 99), 1000);
	json_t *j = runfile_target_json("http://a.test/", &t);
	json_t *lat = json_object_get(j, "latency_ms");
	assert_true(getf(lat, "p99") <= getf(lat, "max"));
	assert_true(getf(lat, "p50") == 1.0 && getf(lat, "max") == 1.0);
	/* and after a merge of two such runs' targets */
	json_t *a = json_pack("{s:s,s:I,s:I,s:[],s:[],s:{},s:{s:f,s:f,s:f},s:{s:s,s:i,s:[[i,i,i]]},s:[O]}", "schema",
			      RUNFILE_SCHEMA, "requests", (json_int_t)1, "ok", (json_int_t)1, "timeseries", "failures",
			      "classes", "latency_ms", "min", 1.0, "mean", 1.0, "max", 1.0, "histogram", "unit", "us",
			      "sub_bucket_bits", HIST_SUB_BITS, "buckets", 1000, 1003, 1, "targets", j);
	char err[200];
	json_t *m = runfile_merge(a, a, err, sizeof err);
	assert_non_null(m);
	lat = json_object_get(json_array_get(json_object_get(m, "targets"), 0), "latency_ms");
	assert_true(getf(lat, "p99") <= getf(lat, "max"));
	json_decref(m);
	json_decref(a);
	json_decref(j);
}

/* open_loop adds up; the rate is kept; a run without it leaves the other's. */
static void test_open_loop_merges(void **state)
{
	(void)state;
	struct runcount_totals *t = malloc(sizeof *t);
	assert_non_null(t);
	runcount_totals_init(t);
	t->open_loop = (struct runcount_open_loop){.rate = 100, .due = 200, .sent = 40};
	json_t *a = mini_run(1795390000.0, (const int[]){0}, 1, 5), *b = mini_run(1795390010.0, (const int[]){0}, 1, 5);
	assert_int_equal(runfile_set_totals(a, t), 0);
	assert_json(json_pack("{s:f,s:i,s:i,s:i}", "rate", 100.0, "due", 200, "sent", 40, "missed", 160),
		    json_object_get(a, "open_loop"), "open_loop written");
	char err[200];
	json_t *m = runfile_merge(a, b, err, sizeof err);
	assert_json(json_pack("{s:f,s:i,s:i,s:i}", "rate", 100.0, "due", 200, "sent", 40, "missed", 160),
		    json_object_get(m, "open_loop"), "one side");
	assert_null(json_object_get(m, "verified")); /* b does not say: the sum is unknown */
	json_t *m2 = runfile_merge(a, a, err, sizeof err);
	assert_json(json_pack("{s:f,s:i,s:i,s:i}", "rate", 100.0, "due", 400, "sent", 80, "missed", 320),
		    json_object_get(m2, "open_loop"), "both sides");
	assert_int_equal(geti(m2, "verified"), 0);
	json_decref(m);
	json_decref(m2);
	json_decref(a);
	json_decref(b);
	free(t);
}

static void test_hist_roundtrip(void **state)
{
	(void)state;
	struct hist *h = malloc(sizeof *h), *back = malloc(sizeof *back);
	hist_init(h);
	for (uint64_t v = 100; v < 200000; v = v * 11 / 10)
		hist_record(h, v);
	json_t *buckets = json_array();
	for (size_t i = 0; i < HIST_BUCKETS; i++)
		if (h->counts[i])
			json_array_append_new(buckets, json_pack("[I,I,I]", (json_int_t)hist_bucket_low(i),
								 (json_int_t)hist_bucket_high(i), (json_int_t)h->counts[i]));
	json_t *doc = json_pack("{s:{s:s,s:i,s:o}}", "histogram", "unit", "us", "sub_bucket_bits", 7, "buckets", buckets);
	assert_int_equal(runfile_hist(doc, back), 0);
	assert_int_equal(back->total, h->total);
	/* Without the exact extremes the top percentile is the last bucket's high end... */
	assert_int_equal(hist_percentile(back, 100), hist_bucket_high(hist_bucket_index(h->max)));
	/* ...with them (latency_ms min/max, as run files carry), the same as the original. */
	json_object_set_new(doc, "latency_ms", json_pack("{s:f,s:f}", "min", (double)h->min / 1000.0, "max",
							 (double)h->max / 1000.0));
	assert_int_equal(runfile_hist(doc, back), 0);
	assert_int_equal(hist_percentile(back, 50), hist_percentile(h, 50));
	assert_int_equal(hist_percentile(back, 99), hist_percentile(h, 99));
	json_object_set_new(json_object_get(doc, "histogram"), "sub_bucket_bits", json_integer(3));
	assert_int_equal(runfile_hist(doc, back), -22);
	json_decref(doc);
	doc = json_object();
	assert_int_equal(runfile_hist(doc, back), -2);
	json_decref(doc);
	free(h);
	free(back);
}

/* The coarse histogram's buckets, as target histograms serialise them: contiguous,
 * each value inside its bucket's bounds. */
static void test_qhist_bounds(void **state)
{
	(void)state;
	assert_int_equal(qhist_bucket_low(0), 0);
	for (size_t i = 1; i < QHIST_BUCKETS; i++)
		assert_true(qhist_bucket_low(i) == qhist_bucket_high(i - 1) + 1);
	assert_true(qhist_bucket_high(QHIST_BUCKETS - 1) == (1ull << 40) - 1);
	assert_true(qhist_bucket_high(QHIST_BUCKETS + 5) == qhist_bucket_high(QHIST_BUCKETS - 1));
	for (uint64_t v = 0; v < (1ull << 40); v = v * 3 / 2 + 1) {
		size_t i = qhist_bucket_index(v);
		assert_true(qhist_bucket_low(i) <= v && v <= qhist_bucket_high(i));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_segments_merge_to_the_load),
		cmocka_unit_test(test_shards_merge_to_the_load),
		cmocka_unit_test(test_segments_share_a_second),
		cmocka_unit_test(test_expectations_kept_per_segment),
		cmocka_unit_test(test_targets_without_histograms),
		cmocka_unit_test(test_write_keeps_microseconds),
		cmocka_unit_test(test_version_1_upgraded),
		cmocka_unit_test(test_join_capture_both_forms),
		cmocka_unit_test(test_join_capture_per_request),
		cmocka_unit_test(test_ok_latency),
		cmocka_unit_test(test_hist_roundtrip),
		cmocka_unit_test(test_target_p99_within_max),
		cmocka_unit_test(test_open_loop_merges),
		cmocka_unit_test(test_qhist_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
