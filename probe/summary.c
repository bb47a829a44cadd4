/* summary — see summary.h. */
#include "probe/summary.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef _WIN32
#include "lib/runfile.h"
#endif
#include "lib/runcount.h"

static double us_to_ms(uint64_t us) { return (double)us / 1000.0; }

#ifndef _WIN32 /* the run file needs jansson (summary.h) */
static json_t *record_json(const struct probe_record *r, const struct probe_config *cfg)
{
	char line[4096];
	size_t n = record_format(r, cfg, line, sizeof line);
	return n ? json_loadb(line, n, 0, NULL) : json_null();
}

/* The fields shared by the run and its --compare-direct twin, into o. */
static json_t *summary_core(json_t *o, const struct probe_stats *st, const struct probe_config *cfg)
{
	if (!o || runfile_set_totals(o, &st->tot) < 0) {
		json_decref(o);
		return NULL;
	}
	json_t *series = json_array();
	for (size_t i = 0; i < st->nseconds; i++)
		json_array_append_new(series, runfile_second_json((int64_t)i, &st->seconds[i]));
	json_object_set_new(o, "timeseries", series);
	json_t *targets = json_array();
	for (size_t i = 0; i < st->ntargets; i++)
		json_array_append_new(targets, runfile_target_json(cfg->targets[i].spec, &st->targets[i]));
	json_object_set_new(o, "targets", targets);
	json_t *failures = json_array();
	for (size_t i = 0; i < st->nfailures; i++)
		json_array_append_new(failures, record_json(&st->failures[i], cfg));
	json_object_set_new(o, "failures", failures);
	return o;
}

json_t *summary_json(const struct probe_stats *st, const struct probe_config *cfg, double started, double ended)
{
	json_t *o = runfile_new();
	if (!o)
		return NULL;
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
	const char *proxy = cfg->ntargets && cfg->targets[0].has_proxy ? cfg->targets[0].proxy_spec : NULL;
	json_object_set_new(o, "proxy", proxy ? json_string(proxy) : json_null());
	if (cfg->run_id[0])
		json_object_set_new(o, "run_id", json_string(cfg->run_id));
	json_object_set_new(o, "started", json_real(started));
	json_object_set_new(o, "ended", json_real(ended));
	json_object_set_new(o, "duration_s", json_real(ended - started));
	json_object_set_new(o, "config", json_pack("{s:i,s:i,s:f,s:I,s:f,s:f,s:b,s:s}",
		"connections", (int)cfg->connections, "threads", (int)cfg->threads,
		"rate", cfg->rate, "requests_per_url", (json_int_t)cfg->requests_per_url,
		"duration_s", cfg->duration_s, "timeout_s", cfg->timeout_s,
		"keepalive", cfg->keepalive, "method", cfg->method));
	if (shard_active(&cfg->shard))
		json_object_set_new(o, "shard", json_pack("{s:i,s:i,s:{s:i,s:f,s:I}}", "index", (int)cfg->shard.index,
			"count", (int)cfg->shard.count, "load", "connections", (int)cfg->whole_connections,
			"rate", cfg->whole_rate, "requests_per_url", (json_int_t)cfg->whole_requests_per_url));
	return summary_core(o, st, cfg);
}

/* ---- human text ---- */

#endif

static void print_classes(const uint64_t classes[TP_CLASS_COUNT], uint64_t total, FILE *out)
{
	for (int c = 0; c < TP_CLASS_COUNT; c++)
		if (classes[c])
			fprintf(out, "    %-22s %10" PRIu64 "  %5.1f%%\n", tp_class_name(c), classes[c],
				total ? 100.0 * (double)classes[c] / (double)total : 0.0);
}

/* What was verified, how the phases went, and whether an open loop kept its schedule. */
static void print_checks(const struct runcount_totals *t, FILE *out)
{
	fprintf(out, "verified %" PRIu64 " ok bodies byte for byte, %" PRIu64
		" ok but unverified (nothing to check them against)\n", t->verified, t->unverified);
	bool any = false;
	for (int p = 0; p < RUNCOUNT_PHASES; p++) {
		const struct hist *h = &t->phases[p];
		if (!h->total)
			continue;
		if (!any)
			fprintf(out, "phases ms (p50/p99/max):");
		any = true;
		fprintf(out, "  %s %.3f/%.3f/%.3f", runcount_phase_name(p), us_to_ms(hist_percentile(h, 50)),
			us_to_ms(hist_percentile(h, 99)), us_to_ms(h->max));
	}
	if (any)
		fputc('\n', out);
	const struct runcount_open_loop *ol = &t->open_loop;
	if (ol->rate > 0 && ol->due > ol->sent)
		fprintf(out, "missed %" PRIu64 " of %" PRIu64 " scheduled starts (-c too low or generator saturated)\n",
			ol->due - ol->sent, ol->due);
	else if (ol->rate > 0)
		fprintf(out, "open loop at %.1f req/s: all %" PRIu64 " scheduled starts made\n", ol->rate, ol->due);
}

struct worst { size_t index; uint64_t failed; };

static int cmp_worst(const void *a, const void *b)
{
	const struct worst *x = a, *y = b;
	if (x->failed != y->failed)
		return x->failed < y->failed ? 1 : -1;
	return x->index < y->index ? -1 : x->index > y->index;
}

void summary_print(const struct probe_stats *st, const struct probe_config *cfg, double elapsed_s, FILE *out)
{
	const struct hist *h = &st->tot.lat;
	if (shard_active(&cfg->shard))
		fprintf(out, "shard %u/%u: this process's part of the load (report merge adds the shards up)\n",
			cfg->shard.index, cfg->shard.count);
	fprintf(out, "requests %" PRIu64 "  ok %" PRIu64 "  failed %" PRIu64 "  in %.2fs (%.1f req/s)\n",
		st->tot.requests, st->tot.ok, st->tot.requests - st->tot.ok, elapsed_s,
		elapsed_s > 0 ? (double)st->tot.requests / elapsed_s : 0.0);
	fprintf(out, "connections %" PRIu64 " opened, %.1f%% of requests on a reused connection\n",
		st->tot.conns_opened,
		st->tot.requests ? 100.0 * (double)st->tot.requests_reused / (double)st->tot.requests : 0.0);
	fprintf(out, "bytes sent %" PRIu64 ", received %" PRIu64 "\n", st->tot.bytes_sent,
		st->tot.bytes_received);
	fprintf(out, "classes:\n");
	print_classes(st->tot.classes, st->tot.requests, out);
	fprintf(out, "latency ms: mean %.3f  p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f\n",
		hist_mean(h) / 1000.0, us_to_ms(hist_percentile(h, 50)),
		us_to_ms(hist_percentile(h, 90)), us_to_ms(hist_percentile(h, 99)),
		us_to_ms(hist_percentile(h, 99.9)), us_to_ms(h->max));
	print_checks(&st->tot, out);
	if (st->ntargets > 1) {
		fprintf(out, "targets:\n    %8s %8s %8s %10s  %s\n", "requests", "ok", "failed",
			"p99 ms", "url");
		for (size_t i = 0; i < st->ntargets && i < 50; i++) {
			const struct runcount_target *t = &st->targets[i];
			fprintf(out, "    %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %10.3f  %s\n", t->requests,
				t->ok, t->requests - t->ok, us_to_ms(runcount_target_percentile(t, 99)),
				cfg->targets[i].spec);
		}
		if (st->ntargets > 50)
			fprintf(out, "    ... %zu more targets in the JSON summary\n", st->ntargets - 50);
	}
	if (st->tot.requests > st->tot.ok && st->ntargets > 1) {
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

void summary_print_compare(const struct probe_stats *proxied, const struct probe_stats *direct,
			   const struct probe_config *cfg, FILE *out)
{
	fprintf(out, "\n%-44s %16s %16s\n", "side by side", "through proxy", "direct");
	fprintf(out, "%-44s %16" PRIu64 " %16" PRIu64 "\n", "requests", proxied->tot.requests,
		direct->tot.requests);
	fprintf(out, "%-44s %16" PRIu64 " %16" PRIu64 "\n", "ok", proxied->tot.ok, direct->tot.ok);
	for (int c = 1; c < TP_CLASS_COUNT; c++)
		if (proxied->tot.classes[c] || direct->tot.classes[c])
			fprintf(out, "%-44s %16" PRIu64 " %16" PRIu64 "\n", tp_class_name(c),
				proxied->tot.classes[c], direct->tot.classes[c]);
	fprintf(out, "%-44s %16.3f %16.3f\n", "p50 ms", us_to_ms(hist_percentile(&proxied->tot.lat, 50)),
		us_to_ms(hist_percentile(&direct->tot.lat, 50)));
	fprintf(out, "%-44s %16.3f %16.3f\n", "p99 ms", us_to_ms(hist_percentile(&proxied->tot.lat, 99)),
		us_to_ms(hist_percentile(&direct->tot.lat, 99)));
	for (size_t i = 0; i < proxied->ntargets; i++) {
		const struct runcount_target *p = &proxied->targets[i], *d = &direct->targets[i];
		uint64_t pf = p->requests - p->ok, df = d->requests - d->ok;
		if (pf || df)
			fprintf(out, "%-44.44s %9" PRIu64 " failed %9" PRIu64 " failed%s\n",
				cfg->targets[i].spec, pf, df, pf && !df ? "  <- proxy only" : "");
	}
}

#ifndef _WIN32
json_t *summary_direct_json(const struct probe_stats *st, const struct probe_config *cfg)
{
	return summary_core(json_object(), st, cfg);
}
#endif
