/* records — see records.h. */
#include "reports/records.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/parts.h"
#include "reports/jscan.h"

#define INDEX_SIZE 2048 /* power of two, > 2 * RECORDS_MAX_TARGETS */
#define READ_CHUNK (1u << 20)

/* ---- the aggregate ---- */

int records_init(struct records_agg *a)
{
	memset(a, 0, sizeof *a);
	a->lat = malloc(sizeof *a->lat);
	a->targets = calloc(RECORDS_MAX_TARGETS + 1, sizeof *a->targets);
	a->index = calloc(INDEX_SIZE, sizeof *a->index);
	a->slots = calloc(RECORDS_MAX_SLOTS, sizeof *a->slots);
	a->failures = json_array();
	a->url = malloc(RECORDS_URL_MAX);
	if (!a->lat || !a->targets || !a->index || !a->slots || !a->failures || !a->url) {
		records_free(a);
		return -ENOMEM;
	}
	hist_init(a->lat);
	a->step = 1;
	a->t_min = INFINITY;
	a->t_max = -INFINITY;
	return 0;
}

void records_free(struct records_agg *a)
{
	if (!a)
		return;
	if (a->targets)
		for (size_t i = 0; i <= RECORDS_MAX_TARGETS; i++)
			free(a->targets[i].url);
	free(a->lat);
	free(a->targets);
	free(a->index);
	free(a->slots);
	json_decref(a->failures);
	free(a->url);
	memset(a, 0, sizeof *a);
}

static uint32_t fnv1a(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

/* The target for url; beyond the cap every new URL shares the pool entry. */
static struct records_target *target_for(struct records_agg *a, const char *url)
{
	uint32_t slot = fnv1a(url) & (INDEX_SIZE - 1);
	while (a->index[slot]) {
		struct records_target *t = &a->targets[a->index[slot] - 1];
		if (strcmp(t->url, url) == 0)
			return t;
		slot = (slot + 1) & (INDEX_SIZE - 1);
	}
	if (a->ntargets == RECORDS_MAX_TARGETS) {
		struct records_target *pool = &a->targets[RECORDS_MAX_TARGETS];
		if (!pool->url)
			pool->url = strdup("(other targets)");
		a->pooled = true;
		return pool->url ? pool : NULL;
	}
	struct records_target *t = &a->targets[a->ntargets];
	if (!(t->url = strdup(url)))
		return NULL;
	a->index[slot] = (uint32_t)++a->ntargets;
	return t;
}

static void slot_add(struct records_slot *d, const struct records_slot *s)
{
	d->started += s->started;
	d->completed += s->completed;
	d->ok += s->ok;
	for (int c = 0; c < TP_CLASS_COUNT; c++)
		d->failed[c] += s->failed[c];
	d->bytes_in += s->bytes_in;
	d->bytes_out += s->bytes_out;
	qhist_merge(&d->lat, &s->lat);
}

/* Halves the number of slots by doubling their width (slot_base stays). */
static void coarsen(struct records_agg *a)
{
	size_t n = (a->nslots + 1) / 2;
	for (size_t i = 0; i < n; i++) {
		struct records_slot merged = a->slots[2 * i];
		if (2 * i + 1 < a->nslots)
			slot_add(&merged, &a->slots[2 * i + 1]);
		a->slots[i] = merged;
	}
	memset(a->slots + n, 0, (RECORDS_MAX_SLOTS - n) * sizeof *a->slots);
	a->nslots = n;
	a->step *= 2;
}

/* The slot holding Unix second sec, growing the series either way within the cap. */
static struct records_slot *slot_for(struct records_agg *a, int64_t sec)
{
	if (a->nslots == 0) {
		a->slot_base = sec;
		a->nslots = 1;
		return &a->slots[0];
	}
	for (;;) {
		int64_t rel = sec - a->slot_base;
		int64_t idx = rel >= 0 ? rel / a->step : -((-rel + a->step - 1) / a->step);
		if (idx >= 0 && idx < RECORDS_MAX_SLOTS) {
			if ((size_t)idx >= a->nslots)
				a->nslots = (size_t)idx + 1;
			return &a->slots[idx];
		}
		if (idx < 0 && a->nslots + (size_t)-idx <= RECORDS_MAX_SLOTS) {
			size_t k = (size_t)-idx;
			memmove(a->slots + k, a->slots, a->nslots * sizeof *a->slots);
			memset(a->slots, 0, k * sizeof *a->slots);
			a->slot_base -= (int64_t)k * a->step;
			a->nslots += k;
			return &a->slots[0];
		}
		coarsen(a);
	}
}

struct rec {
	int cls;
	bool has_latency, reused, has_t;
	double latency_ms, t;
	int64_t status, bytes_sent, wire_received, bytes_received;
};

static int64_t count_of(const struct jscan_member *m)
{
	double v = jscan_number(m);
	return v > 0 && v < 9e18 ? (int64_t)v : 0;
}

int records_line(struct records_agg *a, const char *line, size_t len)
{
	size_t i = 0;
	while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
		i++;
	if (i == len)
		return 0;
	a->lines++;
	struct rec r = {.cls = -1, .bytes_received = -1, .wire_received = -1};
	struct jscan s;
	struct jscan_member m;
	int rc;
	char cls[32];
	strcpy(a->url, "(no url)");
	jscan_init(&s, line, len);
	while ((rc = jscan_next(&s, &m)) == 1) {
		if (jscan_key_is(&m, "class") && m.type == JSCAN_STRING) {
			jscan_string(&m, cls, sizeof cls);
			r.cls = tp_class_from_name(cls);
		} else if (jscan_key_is(&m, "url") && m.type == JSCAN_STRING) {
			jscan_string(&m, a->url, RECORDS_URL_MAX);
		} else if (jscan_key_is(&m, "latency_ms") && m.type == JSCAN_NUMBER) {
			r.latency_ms = jscan_number(&m);
			r.has_latency = isfinite(r.latency_ms) && r.latency_ms >= 0;
		} else if (jscan_key_is(&m, "t") && m.type == JSCAN_NUMBER) {
			r.t = jscan_number(&m);
			r.has_t = r.t > 0 && r.t < 1e11; /* a plausible Unix time */
		} else if (jscan_key_is(&m, "status")) {
			r.status = count_of(&m);
		} else if (jscan_key_is(&m, "bytes_sent")) {
			r.bytes_sent = count_of(&m);
		} else if (jscan_key_is(&m, "wire_received")) {
			r.wire_received = count_of(&m);
		} else if (jscan_key_is(&m, "bytes_received")) {
			r.bytes_received = count_of(&m);
		} else if (jscan_key_is(&m, "reused")) {
			r.reused = m.type == JSCAN_TRUE;
		}
	}
	if (rc < 0 || r.cls < 0 || !r.has_latency) {
		a->bad_lines++;
		if (!a->first_bad_line)
			a->first_bad_line = a->lines;
		return -EINVAL;
	}
	struct records_target *t = target_for(a, a->url);
	if (!t) {
		a->bad_lines++;
		return -ENOMEM;
	}
	uint64_t us = (uint64_t)llround(r.latency_ms * 1000.0 < 1e15 ? r.latency_ms * 1000.0 : 1e15);
	bool ok = r.cls == TP_OK;
	int64_t received = r.wire_received >= 0 ? r.wire_received : r.bytes_received > 0 ? r.bytes_received : 0;
	a->requests++;
	a->ok += ok;
	a->classes[r.cls]++;
	if (r.status > 0 && r.status < 1000)
		a->status[r.status]++;
	a->bytes_sent += (uint64_t)r.bytes_sent;
	a->bytes_received += (uint64_t)received;
	a->reused += r.reused;
	hist_record(a->lat, us);
	t->requests++;
	t->ok += ok;
	t->classes[r.cls]++;
	t->lat_sum_us += us;
	if (us > t->lat_max_us)
		t->lat_max_us = us;
	qhist_record(&t->lat, us);
	if (r.has_t) {
		double end = r.t + r.latency_ms / 1000.0;
		if (r.t < a->t_min)
			a->t_min = r.t;
		if (end > a->t_max)
			a->t_max = end;
		slot_for(a, (int64_t)floor(r.t))->started++;
		struct records_slot *done = slot_for(a, (int64_t)floor(end));
		done->completed++;
		done->ok += ok;
		if (!ok)
			done->failed[r.cls]++;
		done->bytes_in += (uint64_t)received;
		done->bytes_out += (uint64_t)r.bytes_sent;
		qhist_record(&done->lat, us);
	}
	if (!ok && json_array_size(a->failures) < RECORDS_FAILURES_KEPT) {
		json_t *full = json_loadb(line, len, 0, NULL);
		if (full)
			json_array_append_new(a->failures, full);
	}
	return 0;
}

static json_t *classes_json(const uint64_t classes[TP_CLASS_COUNT])
{
	json_t *o = json_object();
	for (int c = 0; c < TP_CLASS_COUNT; c++)
		if (classes[c])
			json_object_set_new(o, tp_class_name(c), json_integer((json_int_t)classes[c]));
	return o;
}

static json_t *classes_json_u32(const uint32_t classes[TP_CLASS_COUNT])
{
	json_t *o = json_object();
	for (int c = 0; c < TP_CLASS_COUNT; c++)
		if (classes[c])
			json_object_set_new(o, tp_class_name(c), json_integer((json_int_t)classes[c]));
	return o;
}

static double ms(uint64_t us) { return (double)us / 1000.0; }

json_t *records_to_run(const struct records_agg *a, const char *file)
{
	const struct hist *h = a->lat;
	json_t *o = json_object();
	json_object_set_new(o, "schema", json_string("tunnelprobe.run/1"));
	json_object_set_new(o, "tool", json_pack("{s:s,s:s}", "name", "tunnelprobe", "version", TP_VERSION));
	bool timed = a->t_min <= a->t_max;
	json_object_set_new(o, "started", timed ? json_real(a->t_min) : json_null());
	json_object_set_new(o, "ended", timed ? json_real(a->t_max) : json_null());
	json_object_set_new(o, "duration_s", json_real(timed ? a->t_max - a->t_min : 0));
	json_object_set_new(o, "requests", json_integer((json_int_t)a->requests));
	json_object_set_new(o, "ok", json_integer((json_int_t)a->ok));
	json_object_set_new(o, "failed", json_integer((json_int_t)(a->requests - a->ok)));
	json_object_set_new(o, "classes", classes_json(a->classes));
	json_t *codes = json_object();
	for (int i = 0; i < 1000; i++) {
		if (!a->status[i])
			continue;
		char key[8];
		snprintf(key, sizeof key, "%d", i);
		json_object_set_new(codes, key, json_integer((json_int_t)a->status[i]));
	}
	json_object_set_new(o, "status_codes", codes);
	json_object_set_new(o, "bytes", json_pack("{s:I,s:I}", "sent", (json_int_t)a->bytes_sent, "received",
						  (json_int_t)a->bytes_received));
	json_object_set_new(o, "connections",
			    json_pack("{s:I,s:I,s:f}", "opened", (json_int_t)(a->requests - a->reused),
				      "requests_on_reused", (json_int_t)a->reused, "reuse_ratio",
				      a->requests ? (double)a->reused / (double)a->requests : 0.0));
	json_object_set_new(o, "latency_ms",
			    json_pack("{s:f,s:f,s:f,s:f,s:f,s:f,s:f}", "min", h->total ? ms(h->min) : 0.0, "mean",
				      hist_mean(h) / 1000.0, "p50", ms(hist_percentile(h, 50)), "p90",
				      ms(hist_percentile(h, 90)), "p99", ms(hist_percentile(h, 99)), "p999",
				      ms(hist_percentile(h, 99.9)), "max", ms(h->max)));
	json_t *buckets = json_array();
	for (size_t i = 0; i < HIST_BUCKETS; i++)
		if (h->counts[i])
			json_array_append_new(buckets, json_pack("[I,I,I]", (json_int_t)hist_bucket_low(i),
								 (json_int_t)hist_bucket_high(i),
								 (json_int_t)h->counts[i]));
	json_object_set_new(o, "histogram",
			    json_pack("{s:s,s:i,s:o}", "unit", "us", "sub_bucket_bits", HIST_SUB_BITS, "buckets", buckets));

	json_t *series = json_array();
	int64_t t0 = timed ? (int64_t)floor(a->t_min) : a->slot_base;
	for (size_t i = 0; i < a->nslots; i++) {
		const struct records_slot *s = &a->slots[i];
		int64_t t = a->slot_base + (int64_t)i * a->step - t0;
		json_array_append_new(series, json_pack("{s:I,s:I,s:I,s:I,s:o,s:I,s:I,s:f,s:f}", "t",
							(json_int_t)(t > 0 ? t : 0), "started", (json_int_t)s->started,
							"completed", (json_int_t)s->completed, "ok",
							(json_int_t)s->ok, "failed", classes_json_u32(s->failed),
							"bytes_in", (json_int_t)s->bytes_in, "bytes_out",
							(json_int_t)s->bytes_out, "p50_ms",
							ms(qhist_percentile(&s->lat, 50)), "p99_ms",
							ms(qhist_percentile(&s->lat, 99))));
	}
	json_object_set_new(o, "timeseries", series);
	if (a->step > 1)
		json_object_set_new(o, "timeseries_step_s", json_integer(a->step));

	json_t *targets = json_array();
	for (size_t i = 0; i <= RECORDS_MAX_TARGETS; i++) {
		const struct records_target *t = &a->targets[i];
		if (!t->url || !t->requests)
			continue;
		json_t *lat = json_pack("{s:f,s:f,s:f,s:f,s:f}", "mean",
					t->requests ? (double)t->lat_sum_us / (double)t->requests / 1000.0 : 0.0, "p50",
					ms(qhist_percentile(&t->lat, 50)), "p90", ms(qhist_percentile(&t->lat, 90)), "p99",
					ms(qhist_percentile(&t->lat, 99)), "max", ms(t->lat_max_us));
		json_array_append_new(targets, json_pack("{s:s,s:I,s:I,s:o,s:o}", "url", t->url, "requests",
							 (json_int_t)t->requests, "ok", (json_int_t)t->ok,
							 "classes", classes_json(t->classes), "latency_ms", lat));
	}
	json_object_set_new(o, "targets", targets);
	json_object_set(o, "failures", a->failures);
	json_object_set_new(o, "records", json_pack("{s:s,s:I,s:I}", "file", file ? file : "", "lines",
						    (json_int_t)a->lines, "bad_lines", (json_int_t)a->bad_lines));
	return o;
}

bool records_sniff(const char *buf, size_t len)
{
	const char *nl = memchr(buf, '\n', len);
	size_t n = nl ? (size_t)(nl - buf) : len;
	struct jscan s;
	struct jscan_member m;
	bool has_class = false, has_schema = false;
	int rc;
	jscan_init(&s, buf, n);
	while ((rc = jscan_next(&s, &m)) == 1) {
		has_class |= jscan_key_is(&m, "class");
		has_schema |= jscan_key_is(&m, "schema");
	}
	return rc == 0 && has_class && !has_schema;
}

int records_load(const char *path, json_t **doc, char *err, size_t errcap)
{
	int rc = 0;
	struct records_agg agg;
	char *buf = NULL;
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		rc = -errno;
		snprintf(err, errcap, "%s: %s", path, strerror(errno));
		return rc;
	}
	if ((rc = records_init(&agg)) < 0) {
		snprintf(err, errcap, "%s: out of memory", path);
		fclose(fp);
		return rc;
	}
	/* buf holds [start, fill): a partial line carried over between reads. */
	size_t cap = READ_CHUNK + RECORDS_LINE_MAX, start = 0, fill = 0;
	bool skipping = false; /* inside a line longer than the cap */
	if (!(buf = malloc(cap))) {
		rc = -ENOMEM;
		snprintf(err, errcap, "%s: out of memory", path);
		goto out;
	}
	for (;;) {
		if (start > 0) {
			memmove(buf, buf + start, fill - start);
			fill -= start;
			start = 0;
		}
		size_t got = fread(buf + fill, 1, cap - fill, fp);
		fill += got;
		bool eof = got == 0;
		for (;;) {
			char *nl = memchr(buf + start, '\n', fill - start);
			if (!nl)
				break;
			size_t len = (size_t)(nl - (buf + start));
			if (skipping) {
				skipping = false;
			} else if (len > RECORDS_LINE_MAX) {
				agg.lines++;
				agg.bad_lines++;
				if (!agg.first_bad_line)
					agg.first_bad_line = agg.lines;
			} else {
				records_line(&agg, buf + start, len);
			}
			start = (size_t)(nl - buf) + 1;
		}
		if (fill - start > RECORDS_LINE_MAX) {
			/* No newline within the cap: count the line once, drop what we have. */
			if (!skipping) {
				agg.lines++;
				agg.bad_lines++;
				if (!agg.first_bad_line)
					agg.first_bad_line = agg.lines;
			}
			skipping = true;
			start = fill;
		}
		if (eof) {
			if (fill > start && !skipping)
				records_line(&agg, buf + start, fill - start); /* a last line without newline */
			break;
		}
	}
	if (ferror(fp)) {
		rc = -EIO;
		snprintf(err, errcap, "%s: read error", path);
		goto out;
	}
	if (agg.requests == 0) {
		rc = -EINVAL;
		snprintf(err, errcap, "%s: no probe record in %llu lines (first bad line: %llu)", path,
			 (unsigned long long)agg.lines, (unsigned long long)agg.first_bad_line);
		goto out;
	}
	*doc = records_to_run(&agg, path);
out:
	free(buf);
	records_free(&agg);
	fclose(fp);
	return rc;
}
