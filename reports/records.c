/* records — see records.h. */
#include "reports/records.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/runfile.h"
#include "reports/jscan.h"

#define INDEX_SIZE 2048 /* power of two, > 2 * RECORDS_MAX_TARGETS */
#define READ_CHUNK (1u << 20)

/* ---- the aggregate ---- */

int records_init(struct records_agg *a)
{
	memset(a, 0, sizeof *a);
	a->tot = malloc(sizeof *a->tot);
	a->targets = calloc(RECORDS_MAX_TARGETS + 1, sizeof *a->targets);
	a->index = calloc(INDEX_SIZE, sizeof *a->index);
	a->slots = calloc(RECORDS_MAX_SLOTS, sizeof *a->slots);
	a->failures = json_array();
	a->url = malloc(RECORDS_URL_MAX);
	if (!a->tot || !a->targets || !a->index || !a->slots || !a->failures || !a->url) {
		records_free(a);
		return -ENOMEM;
	}
	runcount_totals_init(a->tot);
	a->tot->retries_unknown = true; /* records do not say */
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
	free(a->tot);
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

/* Halves the number of slots by doubling their width (slot_base stays). */
static void coarsen(struct records_agg *a)
{
	size_t n = (a->nslots + 1) / 2;
	for (size_t i = 0; i < n; i++) {
		struct runcount_second merged = a->slots[2 * i];
		if (2 * i + 1 < a->nslots)
			runcount_second_merge(&merged, &a->slots[2 * i + 1]);
		a->slots[i] = merged;
	}
	memset(a->slots + n, 0, (RECORDS_MAX_SLOTS - n) * sizeof *a->slots);
	a->nslots = n;
	a->step *= 2;
}

/* The slot holding Unix second sec, growing the series either way within the cap. */
static struct runcount_second *slot_for(struct records_agg *a, int64_t sec)
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
	bool has_latency, reused, has_t, verified;
	double latency_ms, t;
	int64_t status, bytes_sent, wire_received, bytes_received;
	double phase_end_ms[RUNCOUNT_PHASES]; /* timings_ms; -1 when absent */
};

/* A record's timings_ms object: the phases' end times (the phases_ms aggregates). */
static void read_timings(const struct jscan_member *obj, struct rec *r)
{
	struct jscan s;
	struct jscan_member m;
	jscan_init(&s, obj->val, obj->val_len);
	while (jscan_next(&s, &m) == 1)
		for (int p = 0; p < RUNCOUNT_PHASES; p++)
			if (m.type == JSCAN_NUMBER && jscan_key_is(&m, runcount_phase_name(p)))
				r->phase_end_ms[p] = jscan_number(&m);
}

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
	for (int p = 0; p < RUNCOUNT_PHASES; p++)
		r.phase_end_ms[p] = -1;
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
		} else if (jscan_key_is(&m, "verified")) {
			r.verified = m.type == JSCAN_TRUE;
		} else if (jscan_key_is(&m, "timings_ms") && m.type == JSCAN_OBJECT) {
			read_timings(&m, &r);
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
	int64_t received = r.wire_received >= 0 ? r.wire_received : r.bytes_received > 0 ? r.bytes_received : 0;
	struct runcount_request req = {
		.cls = (enum tp_class)r.cls,
		.status = (int)(r.status < RUNCOUNT_STATUS_MAX ? r.status : 0),
		.bytes_sent = (uint64_t)r.bytes_sent,
		.bytes_received = (uint64_t)received,
		.reused = r.reused,
		.verified = r.verified,
		.latency_us = (uint64_t)llround(r.latency_ms * 1000.0 < 1e15 ? r.latency_ms * 1000.0 : 1e15),
	};
	runcount_phases_from_ends(r.phase_end_ms, req.phase_us);
	bool ok = r.cls == TP_OK;
	runcount_totals_add(a->tot, &req);
	a->tot->conns_opened += !r.reused; /* a request that did not ride one opened one */
	runcount_target_add(&t->count, &req);
	if (r.has_t) {
		double end = r.t + r.latency_ms / 1000.0;
		if (r.t < a->t_min)
			a->t_min = r.t;
		if (end > a->t_max)
			a->t_max = end;
		slot_for(a, (int64_t)floor(r.t))->started++;
		runcount_second_done(slot_for(a, (int64_t)floor(end)), &req);
	}
	if (!ok && json_array_size(a->failures) < RECORDS_FAILURES_KEPT) {
		json_t *full = json_loadb(line, len, 0, NULL);
		if (full)
			json_array_append_new(a->failures, full);
	}
	return 0;
}

json_t *records_to_run(const struct records_agg *a, const char *file)
{
	json_t *o = runfile_new();
	if (!o || runfile_set_totals(o, a->tot) < 0) {
		json_decref(o);
		return NULL;
	}
	bool timed = a->t_min <= a->t_max;
	json_object_set_new(o, "started", timed ? json_real(a->t_min) : json_null());
	json_object_set_new(o, "ended", timed ? json_real(a->t_max) : json_null());
	json_object_set_new(o, "duration_s", json_real(timed ? a->t_max - a->t_min : 0));
	json_t *series = json_array();
	int64_t t0 = timed ? (int64_t)floor(a->t_min) : a->slot_base;
	for (size_t i = 0; i < a->nslots; i++) {
		int64_t t = a->slot_base + (int64_t)i * a->step - t0;
		json_array_append_new(series, runfile_second_json(t > 0 ? t : 0, &a->slots[i]));
	}
	json_object_set_new(o, "timeseries", series);
	if (a->step > 1)
		json_object_set_new(o, "timeseries_step_s", json_integer(a->step));
	json_t *targets = json_array();
	for (size_t i = 0; i <= RECORDS_MAX_TARGETS; i++) {
		const struct records_target *t = &a->targets[i];
		if (t->url && t->count.requests)
			json_array_append_new(targets, runfile_target_json(t->url, &t->count));
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
	if (agg.tot->requests == 0) {
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
