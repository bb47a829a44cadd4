/* summary — the run summary: JSON (docs/ledgers.md "Run file") and the human text.
 * Functions declared in stats.h. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/parts.h"
#include "probe/stats.h"

static double us_to_ms(uint64_t us) { return (double)us / 1000.0; }

static json_t *latency_json(const struct hist *h)
{
	json_t *o = json_object();
	json_object_set_new(o, "min", json_real(h->total ? us_to_ms(h->min) : 0));
	json_object_set_new(o, "mean", json_real(hist_mean(h) / 1000.0));
	json_object_set_new(o, "p50", json_real(us_to_ms(hist_percentile(h, 50))));
	json_object_set_new(o, "p90", json_real(us_to_ms(hist_percentile(h, 90))));
	json_object_set_new(o, "p99", json_real(us_to_ms(hist_percentile(h, 99))));
	json_object_set_new(o, "p999", json_real(us_to_ms(hist_percentile(h, 99.9))));
	json_object_set_new(o, "max", json_real(us_to_ms(h->max)));
	return o;
}

static json_t *classes_json(const uint64_t classes[TP_CLASS_COUNT])
{
	json_t *o = json_object();
	for (int c = 0; c < TP_CLASS_COUNT; c++)
		if (classes[c])
			json_object_set_new(o, tp_class_name(c), json_integer((json_int_t)classes[c]));
	return o;
}

static json_t *record_json(const struct probe_record *r, const struct probe_config *cfg)
{
	char line[4096];
	size_t n = record_format(r, cfg, line, sizeof line);
	return n ? json_loadb(line, n, 0, NULL) : json_null();
}

/* The fields shared by the run and its --compare-direct twin. */
static json_t *summary_core(const struct probe_stats *st, const struct probe_config *cfg)
{
	json_t *o = json_object();
	json_object_set_new(o, "requests", json_integer((json_int_t)st->requests));
	json_object_set_new(o, "ok", json_integer((json_int_t)st->ok));
	json_object_set_new(o, "failed", json_integer((json_int_t)(st->requests - st->ok)));
	json_object_set_new(o, "classes", classes_json(st->classes));
	json_t *codes = json_object();
	for (int i = 0; i < 1000; i++) {
		if (!st->status[i])
			continue;
		char key[8];
		snprintf(key, sizeof key, "%d", i);
		json_object_set_new(codes, key, json_integer((json_int_t)st->status[i]));
	}
	json_object_set_new(o, "status_codes", codes);
	json_object_set_new(o, "bytes", json_pack("{s:I,s:I}", "sent", (json_int_t)st->bytes_sent,
						  "received", (json_int_t)st->bytes_received));
	double reuse = st->requests ? (double)st->requests_reused / (double)st->requests : 0;
	json_object_set_new(o, "connections",
			    json_pack("{s:I,s:I,s:f,s:I}", "opened", (json_int_t)st->conns_opened,
				      "requests_on_reused", (json_int_t)st->requests_reused,
				      "reuse_ratio", reuse, "retries", (json_int_t)st->retries));
	json_object_set_new(o, "latency_ms", latency_json(&st->lat));

	json_t *buckets = json_array();
	for (size_t i = 0; i < HIST_BUCKETS; i++)
		if (st->lat.counts[i])
			json_array_append_new(buckets, json_pack("[I,I,I]",
					(json_int_t)hist_bucket_low(i), (json_int_t)hist_bucket_high(i),
					(json_int_t)st->lat.counts[i]));
	json_object_set_new(o, "histogram", json_pack("{s:s,s:i,s:o}", "unit", "us",
						      "sub_bucket_bits", HIST_SUB_BITS, "buckets", buckets));

	json_t *series = json_array();
	for (size_t i = 0; i < st->nseconds; i++) {
		const struct second_stats *s = &st->seconds[i];
		json_t *failed = json_object();
		for (int c = 0; c < TP_CLASS_COUNT; c++)
			if (s->failed[c])
				json_object_set_new(failed, tp_class_name(c), json_integer(s->failed[c]));
		json_array_append_new(series, json_pack(
			"{s:I,s:i,s:i,s:i,s:o,s:I,s:I,s:f,s:f}", "t", (json_int_t)i,
			"started", (int)s->started, "completed", (int)s->completed, "ok", (int)s->ok,
			"failed", failed, "bytes_in", (json_int_t)s->bytes_in,
			"bytes_out", (json_int_t)s->bytes_out,
			"p50_ms", us_to_ms(qhist_percentile(&s->lat, 50)),
			"p99_ms", us_to_ms(qhist_percentile(&s->lat, 99))));
	}
	json_object_set_new(o, "timeseries", series);

	json_t *targets = json_array();
	for (size_t i = 0; i < st->ntargets; i++) {
		const struct target_stats *t = &st->targets[i];
		json_t *lat = json_pack("{s:f,s:f,s:f,s:f,s:f}",
			"mean", t->requests ? (double)t->lat_sum_us / (double)t->requests / 1000.0 : 0,
			"p50", us_to_ms(qhist_percentile(&t->lat, 50)),
			"p90", us_to_ms(qhist_percentile(&t->lat, 90)),
			"p99", us_to_ms(qhist_percentile(&t->lat, 99)), "max", us_to_ms(t->lat_max_us));
		json_array_append_new(targets, json_pack("{s:s,s:I,s:I,s:o,s:o}",
			"url", cfg->targets[i].spec, "requests", (json_int_t)t->requests,
			"ok", (json_int_t)t->ok, "classes", classes_json(t->classes), "latency_ms", lat));
	}
	json_object_set_new(o, "targets", targets);

	json_t *failures = json_array();
	for (size_t i = 0; i < st->nfailures; i++)
		json_array_append_new(failures, record_json(&st->failures[i], cfg));
	json_object_set_new(o, "failures", failures);
	return o;
}

json_t *stats_summary_json(const struct probe_stats *st, const struct probe_config *cfg,
			   double started, double ended)
{
	json_t *o = json_object();
	json_object_set_new(o, "schema", json_string("tunnelprobe.run/1"));
	json_object_set_new(o, "tool", json_pack("{s:s,s:s}", "name", "tunnelprobe", "version",
						 TP_VERSION));
	json_t *cmd = json_array();
	json_array_append_new(cmd, json_string("tunnelprobe"));
	for (int i = 0; i < cfg->argc; i++)
		json_array_append_new(cmd, json_string(cfg->argv[i]));
	json_object_set_new(o, "command", cmd);
	char host[256] = "";
	gethostname(host, sizeof host - 1);
	json_object_set_new(o, "host", json_string(host));
	json_object_set_new(o, "label", cfg->label ? json_string(cfg->label) : json_null());
	json_object_set_new(o, "scenario", json_null());
	const char *proxy = cfg->ntargets && cfg->targets[0].has_proxy ? cfg->targets[0].proxy_spec
								       : NULL;
	json_object_set_new(o, "proxy", proxy ? json_string(proxy) : json_null());
	json_object_set_new(o, "started", json_real(started));
	json_object_set_new(o, "ended", json_real(ended));
	json_object_set_new(o, "duration_s", json_real(ended - started));
	json_object_set_new(o, "config", json_pack("{s:i,s:i,s:f,s:I,s:f,s:f,s:b,s:s}",
		"connections", (int)cfg->connections, "threads", (int)cfg->threads,
		"rate", cfg->rate, "requests_per_url", (json_int_t)cfg->requests_per_url,
		"duration_s", cfg->duration_s, "timeout_s", cfg->timeout_s,
		"keepalive", cfg->keepalive, "method", cfg->method));
	json_t *core = summary_core(st, cfg);
	json_object_update(o, core); /* takes its own references */
	json_decref(core);
	return o;
}

/* ---- human text ---- */

static void print_classes(const uint64_t classes[TP_CLASS_COUNT], uint64_t total, FILE *out)
{
	for (int c = 0; c < TP_CLASS_COUNT; c++)
		if (classes[c])
			fprintf(out, "    %-22s %10" PRIu64 "  %5.1f%%\n", tp_class_name(c), classes[c],
				total ? 100.0 * (double)classes[c] / (double)total : 0.0);
}

struct worst { size_t index; uint64_t failed; };

static int cmp_worst(const void *a, const void *b)
{
	const struct worst *x = a, *y = b;
	if (x->failed != y->failed)
		return x->failed < y->failed ? 1 : -1;
	return x->index < y->index ? -1 : x->index > y->index;
}

void stats_print(const struct probe_stats *st, const struct probe_config *cfg, double elapsed_s,
		 FILE *out)
{
	const struct hist *h = &st->lat;
	fprintf(out, "requests %" PRIu64 "  ok %" PRIu64 "  failed %" PRIu64 "  in %.2fs (%.1f req/s)\n",
		st->requests, st->ok, st->requests - st->ok, elapsed_s,
		elapsed_s > 0 ? (double)st->requests / elapsed_s : 0.0);
	fprintf(out, "connections %" PRIu64 " opened, %.1f%% of requests on a reused connection\n",
		st->conns_opened,
		st->requests ? 100.0 * (double)st->requests_reused / (double)st->requests : 0.0);
	fprintf(out, "bytes sent %" PRIu64 ", received %" PRIu64 "\n", st->bytes_sent,
		st->bytes_received);
	fprintf(out, "classes:\n");
	print_classes(st->classes, st->requests, out);
	fprintf(out, "latency ms: mean %.3f  p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f\n",
		hist_mean(h) / 1000.0, us_to_ms(hist_percentile(h, 50)),
		us_to_ms(hist_percentile(h, 90)), us_to_ms(hist_percentile(h, 99)),
		us_to_ms(hist_percentile(h, 99.9)), us_to_ms(h->max));
	if (st->ntargets > 1) {
		fprintf(out, "targets:\n    %8s %8s %8s %10s  %s\n", "requests", "ok", "failed",
			"p99 ms", "url");
		for (size_t i = 0; i < st->ntargets && i < 50; i++) {
			const struct target_stats *t = &st->targets[i];
			fprintf(out, "    %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %10.3f  %s\n", t->requests,
				t->ok, t->requests - t->ok, us_to_ms(qhist_percentile(&t->lat, 99)),
				cfg->targets[i].spec);
		}
		if (st->ntargets > 50)
			fprintf(out, "    ... %zu more targets in the JSON summary\n", st->ntargets - 50);
	}
	if (st->requests > st->ok && st->ntargets > 1) {
		struct worst *w = calloc(st->ntargets, sizeof *w);
		if (w) {
			for (size_t i = 0; i < st->ntargets; i++)
				w[i] = (struct worst){i, st->targets[i].requests - st->targets[i].ok};
			qsort(w, st->ntargets, sizeof *w, cmp_worst);
			fprintf(out, "worst targets:\n");
			for (size_t i = 0; i < st->ntargets && i < 5 && w[i].failed; i++)
				fprintf(out, "    %6" PRIu64 " failed of %-6" PRIu64 " %s\n", w[i].failed,
					st->targets[w[i].index].requests, cfg->targets[w[i].index].spec);
			free(w);
		}
	}
	if (st->nfailures) {
		fprintf(out, "failure samples:\n");
		for (size_t i = 0; i < st->nfailures && i < 10; i++)
			record_describe(&st->failures[i], cfg, out);
	}
}

void stats_print_compare(const struct probe_stats *proxied, const struct probe_stats *direct,
			 const struct probe_config *cfg, FILE *out)
{
	fprintf(out, "\n%-44s %16s %16s\n", "side by side", "through proxy", "direct");
	fprintf(out, "%-44s %16" PRIu64 " %16" PRIu64 "\n", "requests", proxied->requests,
		direct->requests);
	fprintf(out, "%-44s %16" PRIu64 " %16" PRIu64 "\n", "ok", proxied->ok, direct->ok);
	for (int c = 1; c < TP_CLASS_COUNT; c++)
		if (proxied->classes[c] || direct->classes[c])
			fprintf(out, "%-44s %16" PRIu64 " %16" PRIu64 "\n", tp_class_name(c),
				proxied->classes[c], direct->classes[c]);
	fprintf(out, "%-44s %16.3f %16.3f\n", "p50 ms", us_to_ms(hist_percentile(&proxied->lat, 50)),
		us_to_ms(hist_percentile(&direct->lat, 50)));
	fprintf(out, "%-44s %16.3f %16.3f\n", "p99 ms", us_to_ms(hist_percentile(&proxied->lat, 99)),
		us_to_ms(hist_percentile(&direct->lat, 99)));
	for (size_t i = 0; i < proxied->ntargets; i++) {
		const struct target_stats *p = &proxied->targets[i], *d = &direct->targets[i];
		uint64_t pf = p->requests - p->ok, df = d->requests - d->ok;
		if (pf || df)
			fprintf(out, "%-44.44s %9" PRIu64 " failed %9" PRIu64 " failed%s\n",
				cfg->targets[i].spec, pf, df, pf && !df ? "  <- proxy only" : "");
	}
}

json_t *stats_direct_json(const struct probe_stats *st, const struct probe_config *cfg)
{
	return summary_core(st, cfg);
}
