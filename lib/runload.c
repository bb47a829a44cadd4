/* runload — see runload.h. */
#include "lib/runload.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>

#include "lib/histjson.h"

static json_int_t add(json_int_t a, json_int_t b) { return runcount_add_sat(a, b); }

static json_int_t geti(json_t *o, const char *k) { return json_integer_value(json_object_get(o, k)); }

/* histjson's summary of h with its number of values under count_key. */
static json_t *phase_json_named(const struct hist *h, const char *count_key)
{
	json_t *o = histjson_summary_ms(h);
	if (o)
		json_object_set_new(o, count_key, json_integer((json_int_t)h->total));
	return o;
}

/* One phase's summary: histjson's, with how many requests went through the phase. */
static json_t *phase_json(const struct hist *h) { return phase_json_named(h, "count"); }

static json_t *open_loop_json(double rate, json_int_t due, json_int_t sent)
{
	return json_pack("{s:f,s:I,s:I,s:I}", "rate", rate, "due", due, "sent", sent, "missed",
			 due > sent ? due - sent : 0);
}

/* latency_ok_ms: the ok requests' summary with their count; {requests: 0} alone when
 * none was ok (no latency to state). */
static json_t *ok_latency_json(const struct hist *h)
{
	if (!h->total)
		return json_pack("{s:i}", "requests", 0);
	return phase_json_named(h, "requests");
}

int runload_set(json_t *doc, const struct runcount_totals *t)
{
	json_t *ms = json_object(), *hists = json_object();
	int rc = !ms || !hists;
	for (int p = 0; p < RUNCOUNT_PHASES; p++) {
		rc |= json_object_set_new(ms, runcount_phase_name(p), phase_json(&t->phases[p]));
		rc |= json_object_set_new(hists, runcount_phase_name(p), histjson_hist(&t->phases[p]));
	}
	rc |= json_object_set_new(doc, "phases_ms", ms);
	rc |= json_object_set_new(doc, "phase_histograms", hists);
	rc |= json_object_set_new(doc, "latency_ok_ms", ok_latency_json(&t->lat_ok));
	rc |= json_object_set_new(doc, "histogram_ok", histjson_hist(&t->lat_ok));
	rc |= json_object_set_new(doc, "verified", json_integer((json_int_t)t->verified));
	rc |= json_object_set_new(doc, "unverified", json_integer((json_int_t)t->unverified));
	const struct runcount_open_loop *ol = &t->open_loop;
	if (ol->rate > 0)
		rc |= json_object_set_new(doc, "open_loop", open_loop_json(ol->rate, (json_int_t)ol->due,
									  (json_int_t)ol->sent));
	return rc ? -ENOMEM : 0;
}

/* Sums key when both runs state it as a count; drops it otherwise. */
static void merge_known_count(json_t *out, json_t *a, json_t *b, const char *key)
{
	json_t *x = json_object_get(a, key), *y = json_object_get(b, key);
	if (json_is_integer(x) && json_is_integer(y))
		json_object_set_new(out, key, json_integer(add(json_integer_value(x), json_integer_value(y))));
	else
		json_object_del(out, key);
}

static void merge_open_loop(json_t *out, json_t *a, json_t *b)
{
	json_t *x = json_object_get(a, "open_loop"), *y = json_object_get(b, "open_loop");
	if (!json_is_object(x) && !json_is_object(y))
		return;
	double rate = fmax(json_number_value(json_object_get(x, "rate")),
			   json_number_value(json_object_get(y, "rate")));
	json_object_set_new(out, "open_loop", open_loop_json(rate, add(geti(x, "due"), geti(y, "due")),
							     add(geti(x, "sent"), geti(y, "sent"))));
}

/* Reads run's histogram of phase name into h (exact min, max, mean from its summary). */
static int read_phase(json_t *run, const char *name, struct hist *h)
{
	return histjson_read_hist_exact(json_object_get(json_object_get(run, "phase_histograms"), name),
					json_object_get(json_object_get(run, "phases_ms"), name), h);
}

/* The ok requests' latency histogram of run into h: its histogram_ok (exact min, max,
 * mean from latency_ok_ms); an empty one when no request was ok; the run's own
 * histogram when every request was (files written before histogram_ok). 0, or -ENOENT
 * when the run does not say (a failing run without histogram_ok). */
static int read_ok(json_t *run, struct hist *h)
{
	json_t *hj = json_object_get(run, "histogram_ok");
	json_int_t ok = geti(run, "ok");
	if (hj)
		return histjson_read_hist_exact(hj, json_object_get(run, "latency_ok_ms"), h) < 0 ? -ENOENT : 0;
	if (ok == 0) {
		hist_init(h);
		return 0;
	}
	if (ok == geti(run, "requests"))
		return histjson_read_hist_exact(json_object_get(run, "histogram"), json_object_get(run, "latency_ms"),
						h) < 0 ? -ENOENT : 0;
	return -ENOENT;
}

/* latency_ok_ms and histogram_ok of a + b, when both runs say what their ok requests'
 * latency was; dropped otherwise (one run's is not the sum's). */
static int merge_ok(json_t *out, json_t *a, json_t *b, struct hist h[2])
{
	if (read_ok(a, &h[0]) < 0 || read_ok(b, &h[1]) < 0) {
		json_object_del(out, "latency_ok_ms");
		json_object_del(out, "histogram_ok");
		return 0;
	}
	hist_merge(&h[0], &h[1]);
	int rc = json_object_set_new(out, "latency_ok_ms", ok_latency_json(&h[0]));
	rc |= json_object_set_new(out, "histogram_ok", histjson_hist(&h[0]));
	return rc ? -ENOMEM : 0;
}

int runload_merge(json_t *out, json_t *a, json_t *b)
{
	merge_known_count(out, a, b, "verified");
	merge_known_count(out, a, b, "unverified");
	merge_open_loop(out, a, b);
	struct hist *h = malloc(2 * sizeof *h);
	json_t *ms = json_object(), *hists = json_object();
	int rc = 0;
	if (!h || !ms || !hists || merge_ok(out, a, b, h) < 0) {
		rc = -ENOMEM;
		goto out;
	}
	if (!json_object_get(a, "phase_histograms") && !json_object_get(b, "phase_histograms"))
		goto out;
	for (int p = 0; p < RUNCOUNT_PHASES; p++) {
		const char *name = runcount_phase_name(p);
		bool in_a = read_phase(a, name, &h[0]) == 0, in_b = read_phase(b, name, &h[1]) == 0;
		if (!in_a && !in_b)
			continue;
		if (in_a && in_b)
			hist_merge(&h[0], &h[1]);
		const struct hist *sum = in_a ? &h[0] : &h[1];
		json_object_set_new(ms, name, phase_json(sum));
		json_object_set_new(hists, name, histjson_hist(sum));
	}
	json_object_set(out, "phases_ms", ms);
	json_object_set(out, "phase_histograms", hists);
out:
	free(h);
	json_decref(ms);
	json_decref(hists);
	return rc;
}
