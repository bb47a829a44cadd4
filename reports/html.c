/* html — the self-contained report page (see report.h): inline CSS (light and dark,
 * print) and SVG charts drawn here, every string from a run file escaped. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "reports/report.h"

#define FAILURES_SHOWN 25
#define W 760
#define H 260

static const char *const colors[REPORT_MAX_RUNS] = {"#2b7bb9", "#d9480f", "#2f9e44", "#9c36b5",
						       "#e8590c", "#1098ad", "#c2255c", "#5c940d"};

static json_int_t geti(json_t *o, const char *k) { return json_integer_value(json_object_get(o, k)); }
static double getd(json_t *o, const char *k) { return json_number_value(json_object_get(o, k)); }

static void esc(FILE *out, const char *s) { report_escape(out, s ? s : ""); }

static const char css[] =
	":root{--bg:#fff;--fg:#1d232a;--mute:#5f6b7a;--line:#d5dbe3;--bad:#c92a2a;--badbg:#fff0f0;"
	"--good:#2b8a3e;--card:#f6f8fa}"
	"@media(prefers-color-scheme:dark){:root{--bg:#14181d;--fg:#e3e8ee;--mute:#9aa5b1;"
	"--line:#333b45;--bad:#ff8787;--badbg:#3b1f22;--good:#69db7c;--card:#1c2127}}"
	"body{background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,sans-serif;margin:24px auto;"
	"max-width:1100px;padding:0 16px}h1{font-size:22px}h2{font-size:17px;margin-top:28px;"
	"border-bottom:1px solid var(--line);padding-bottom:4px}"
	"table{border-collapse:collapse;margin:8px 0;font-variant-numeric:tabular-nums}"
	"td,th{border:1px solid var(--line);padding:3px 8px;text-align:right}"
	"td:first-child,th:first-child{text-align:left}.worse{background:var(--badbg);color:var(--bad);"
	"font-weight:600}.ok{color:var(--good)}.bad{color:var(--bad)}.mute{color:var(--mute)}"
	".verdict{font-size:16px;padding:8px 12px;background:var(--card);border-left:4px solid var(--line);"
	"margin:6px 0}.verdict.fail{border-left-color:var(--bad)}.verdict.pass{border-left-color:var(--good)}"
	"code,pre{font:12px ui-monospace,monospace;white-space:pre-wrap;word-break:break-all}"
	"svg{background:var(--card);border:1px solid var(--line)}svg text{fill:var(--fg);font-size:11px}"
	"svg .grid{stroke:var(--line)}.legend span{display:inline-block;margin-right:14px}"
	".sw{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:middle}"
	"@media print{body{max-width:none}svg{break-inside:avoid}section{break-inside:avoid-page}}";

/* x position of a percentile on the "nines" scale: 0 at p0, 1 at p90, 2 at p99, ... */
static double nines(double frac)
{
	if (frac >= 0.99999)
		return 5;
	return -log10(1 - frac);
}

static void legend(FILE *out, const struct report_run *runs, size_t n)
{
	fprintf(out, "<p class=\"legend\">");
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "<span><i class=\"sw\" style=\"background:%s\"></i>", colors[i]);
		esc(out, runs[i].label);
		fprintf(out, "</span>");
	}
	fprintf(out, "</p>\n");
}

/* Latency by percentile, log-scale latency, from the histogram buckets. */
static void percentile_chart(FILE *out, const struct report_run *runs, size_t n)
{
	double ymin = 1e18, ymax = 0;
	for (size_t r = 0; r < n; r++) {
		size_t i;
		json_t *b;
		json_array_foreach(json_object_get(json_object_get(runs[r].doc, "histogram"), "buckets"), i, b) {
			double ms = (double)json_integer_value(json_array_get(b, 1)) / 1000.0;
			if (ms > 0 && ms < ymin)
				ymin = ms;
			if (ms > ymax)
				ymax = ms;
		}
	}
	if (ymax <= 0) {
		fprintf(out, "<p class=\"mute\">no latency data</p>\n");
		return;
	}
	double ly0 = floor(log10(ymin)), ly1 = ceil(log10(ymax));
	if (ly1 <= ly0)
		ly1 = ly0 + 1;
	const double L = 60, R = W - 20, T = 15, B = H - 35;
	fprintf(out, "<svg id=\"percentiles\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" "
		     "aria-label=\"latency by percentile\">\n", W, H, W, H);
	const char *xl[] = {"p0", "p90", "p99", "p99.9", "p99.99"};
	for (int k = 0; k <= 4; k++) {
		double x = L + (R - L) * k / 4.0;
		fprintf(out, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
			     "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
			x, T, x, B, x, B + 16, xl[k]);
	}
	for (double e = ly0; e <= ly1; e++) {
		double y = B - (B - T) * (e - ly0) / (ly1 - ly0);
		fprintf(out, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
			     "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g ms</text>\n",
			L, y, R, y, L - 4, y + 4, pow(10, e));
	}
	for (size_t r = 0; r < n; r++) {
		json_t *buckets = json_object_get(json_object_get(runs[r].doc, "histogram"), "buckets");
		double total = 0;
		size_t i;
		json_t *b;
		json_array_foreach(buckets, i, b)
			total += (double)json_integer_value(json_array_get(b, 2));
		if (total <= 0)
			continue;
		fprintf(out, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", colors[r]);
		double seen = 0;
		json_array_foreach(buckets, i, b) {
			double ms = (double)json_integer_value(json_array_get(b, 1)) / 1000.0;
			double frac_before = seen / total;
			seen += (double)json_integer_value(json_array_get(b, 2));
			double ly = ms > 0 ? log10(ms) : ly0;
			double y = B - (B - T) * (ly - ly0) / (ly1 - ly0);
			double x0 = L + (R - L) * (nines(frac_before) > 4 ? 4 : nines(frac_before)) / 4.0;
			double x1 = L + (R - L) * (nines(seen / total) > 4 ? 4 : nines(seen / total)) / 4.0;
			fprintf(out, "%.1f,%.1f %.1f,%.1f ", x0, y, x1, y);
		}
		fprintf(out, "\"/>\n");
	}
	fprintf(out, "</svg>\n");
	legend(out, runs, n);
}

/* Requests completed per second (lines) and failures per second (bars). */
static void timeline_chart(FILE *out, const struct report_run *runs, size_t n)
{
	double tmax = 1, ymax = 1;
	for (size_t r = 0; r < n; r++) {
		size_t i;
		json_t *s;
		json_array_foreach(json_object_get(runs[r].doc, "timeseries"), i, s) {
			double t = getd(s, "t");
			if (t + 1 > tmax)
				tmax = t + 1;
			if ((double)geti(s, "completed") > ymax)
				ymax = (double)geti(s, "completed");
		}
	}
	const double L = 60, R = W - 20, T = 15, B = H - 35;
	fprintf(out, "<svg id=\"timeline\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" "
		     "aria-label=\"requests and failures per second\">\n", W, H, W, H);
	for (int k = 0; k <= 4; k++) {
		double y = B - (B - T) * k / 4.0;
		fprintf(out, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
			     "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%.0f/s</text>\n",
			L, y, R, y, L - 4, y + 4, ymax * k / 4.0);
	}
	fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">seconds (0 .. %.0f)</text>\n",
		(L + R) / 2, B + 16, tmax);
	for (size_t r = 0; r < n; r++) {
		json_t *series = json_object_get(runs[r].doc, "timeseries");
		size_t i;
		json_t *s;
		json_array_foreach(series, i, s) {
			json_int_t failed = geti(s, "completed") - geti(s, "ok");
			if (failed <= 0)
				continue;
			double x = L + (R - L) * getd(s, "t") / tmax;
			double h = (B - T) * (double)failed / ymax;
			fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" "
				     "opacity=\"0.45\"><title>%lld failed</title></rect>\n",
				x + r * 3.0, B - h, (R - L) / tmax / (double)n > 3 ? (R - L) / tmax / (double)n : 3.0, h,
				colors[r], (long long)failed);
		}
		fprintf(out, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", colors[r]);
		json_array_foreach(series, i, s) {
			double x = L + (R - L) * (getd(s, "t") + 0.5) / tmax;
			double y = B - (B - T) * (double)geti(s, "completed") / ymax;
			fprintf(out, "%.1f,%.1f ", x, y);
		}
		fprintf(out, "\"/>\n");
	}
	fprintf(out, "</svg>\n");
	legend(out, runs, n);
}

/* One metric row across the runs; the worse value highlighted when they differ. */
static void row(FILE *out, const char *name, const double *v, size_t n, bool higher_worse, const char *fmt)
{
	double worst = v[0], best = v[0];
	for (size_t i = 1; i < n; i++) {
		if (higher_worse ? v[i] > worst : v[i] < worst)
			worst = v[i];
		if (higher_worse ? v[i] < best : v[i] > best)
			best = v[i];
	}
	fprintf(out, "<tr><td>%s</td>", name);
	for (size_t i = 0; i < n; i++) {
		bool mark = n > 1 && worst != best && v[i] == worst;
		fprintf(out, "<td%s>", mark ? " class=\"worse\"" : "");
		fprintf(out, fmt, v[i]);
		if (i > 0 && v[0] != v[i]) {
			/* The delta against the first run, with its sign: "%+.2f" from "%.2f". */
			char dfmt[16];
			snprintf(dfmt, sizeof dfmt, "%%+%s", fmt + 1);
			fprintf(out, " <span class=\"mute\">(");
			fprintf(out, dfmt, v[i] - v[0]);
			fprintf(out, ")</span>");
		}
		fprintf(out, "</td>");
	}
	fprintf(out, "</tr>\n");
}

static void summary_table(FILE *out, const struct report_run *runs, size_t n)
{
	fprintf(out, "<table id=\"summary\"><tr><th>metric</th>");
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "<th>");
		esc(out, runs[i].label);
		fprintf(out, "</th>");
	}
	fprintf(out, "</tr>\n");
	double v[REPORT_MAX_RUNS];
	const char *counts[] = {"requests", "ok", "failed"};
	for (size_t k = 0; k < 3; k++) {
		for (size_t i = 0; i < n; i++)
			v[i] = (double)geti(runs[i].doc, counts[k]);
		row(out, counts[k], v, n, k == 2, "%.0f");
	}
	/* Every failure class any run saw. */
	const char *seen[32];
	size_t nseen = 0;
	for (size_t i = 0; i < n; i++) {
		const char *key;
		json_t *val;
		json_object_foreach(json_object_get(runs[i].doc, "classes"), key, val) {
			bool dup = strcmp(key, "ok") == 0;
			for (size_t s = 0; s < nseen && !dup; s++)
				dup = strcmp(seen[s], key) == 0;
			if (!dup && nseen < 32)
				seen[nseen++] = key;
		}
	}
	for (size_t s = 0; s < nseen; s++) {
		for (size_t i = 0; i < n; i++)
			v[i] = (double)geti(json_object_get(runs[i].doc, "classes"), seen[s]);
		char name[80];
		snprintf(name, sizeof name, "class %s", seen[s]);
		row(out, name, v, n, true, "%.0f");
	}
	const char *lats[] = {"mean", "p50", "p90", "p99", "p999", "max"};
	for (size_t k = 0; k < 6; k++) {
		for (size_t i = 0; i < n; i++)
			v[i] = getd(json_object_get(runs[i].doc, "latency_ms"), lats[k]);
		char name[32];
		snprintf(name, sizeof name, "latency %s ms", lats[k]);
		row(out, name, v, n, true, "%.2f");
	}
	for (size_t i = 0; i < n; i++)
		v[i] = getd(json_object_get(runs[i].doc, "connections"), "reuse_ratio");
	row(out, "connection reuse ratio", v, n, false, "%.3f");
	for (size_t i = 0; i < n; i++)
		v[i] = (double)geti(json_object_get(runs[i].doc, "bytes"), "received");
	row(out, "bytes received", v, n, false, "%.0f");
	fprintf(out, "</table>\n");
}

static void targets_table(FILE *out, const struct report_run *run)
{
	fprintf(out, "<table class=\"targets\"><tr><th>url</th><th>requests</th><th>ok</th><th>failed</th>"
		     "<th>p50 ms</th><th>p99 ms</th><th>classes</th></tr>\n");
	size_t i;
	json_t *t;
	json_array_foreach(json_object_get(run->doc, "targets"), i, t) {
		json_int_t req = geti(t, "requests"), ok = geti(t, "ok");
		fprintf(out, "<tr><td>");
		esc(out, json_string_value(json_object_get(t, "url")));
		fprintf(out, "</td><td>%lld</td><td>%lld</td><td%s>%lld</td><td>%.2f</td><td>%.2f</td><td>",
			(long long)req, (long long)ok, req != ok ? " class=\"worse\"" : "", (long long)(req - ok),
			getd(json_object_get(t, "latency_ms"), "p50"), getd(json_object_get(t, "latency_ms"), "p99"));
		const char *key;
		json_t *val;
		json_object_foreach(json_object_get(t, "classes"), key, val) {
			if (strcmp(key, "ok") == 0)
				continue;
			esc(out, key);
			fprintf(out, " %lld ", (long long)json_integer_value(val));
		}
		fprintf(out, "</td></tr>\n");
	}
	fprintf(out, "</table>\n");
}

static void failures_table(FILE *out, const struct report_run *run)
{
	json_t *failures = json_object_get(run->doc, "failures");
	if (json_array_size(failures) == 0) {
		fprintf(out, "<p class=\"ok\">no failures</p>\n");
		return;
	}
	fprintf(out, "<table class=\"failures\"><tr><th>id</th><th>url</th><th>class</th><th>phase</th>"
		     "<th>detail</th><th>local</th><th>chain: origin wrote &#8594; &#8230; &#8594; probe read"
		     "</th></tr>\n");
	size_t i;
	json_t *f;
	json_array_foreach(failures, i, f) {
		if (i == FAILURES_SHOWN)
			break;
		const char *cols[] = {"id", "url", "class", "phase", "detail", "local"};
		fprintf(out, "<tr>");
		for (size_t k = 0; k < 6; k++) {
			fprintf(out, k == 2 ? "<td class=\"bad\">" : "<td>");
			esc(out, json_string_value(json_object_get(f, cols[k])));
			fprintf(out, "</td>");
		}
		fprintf(out, "<td>");
		json_t *chain = json_object_get(f, "chain");
		if (chain) {
			const char *key;
			json_t *val;
			json_object_foreach(chain, key, val) {
				esc(out, key);
				if (json_is_integer(val))
					fprintf(out, " %lld; ", (long long)json_integer_value(val));
				else if (json_is_string(val)) {
					fputc(' ', out);
					esc(out, json_string_value(val));
					fputs("; ", out);
				}
			}
		}
		const char *verdict = json_string_value(json_object_get(f, "verdict"));
		if (verdict) {
			fprintf(out, "<b>");
			esc(out, verdict);
			fprintf(out, "</b>");
		}
		if (!chain && !verdict)
			fprintf(out, "<span class=\"mute\">probe %lld of %lld bytes</span>",
				(long long)geti(f, "bytes_received"), (long long)geti(f, "bytes_expected"));
		fprintf(out, "</td></tr>\n");
	}
	fprintf(out, "</table>\n");
	if (json_array_size(failures) > FAILURES_SHOWN)
		fprintf(out, "<p class=\"mute\">%zu more failures in the run file.</p>\n",
			json_array_size(failures) - FAILURES_SHOWN);
}

int report_html(FILE *out, const struct report_run *runs, size_t n)
{
	fprintf(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		     "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n"
		     "<title>tunnelprobe report</title>\n<style>%s</style></head><body>\n", css);
	fprintf(out, "<h1>tunnelprobe report</h1>\n<section id=\"verdicts\">\n");
	for (size_t i = 0; i < n; i++) {
		char v[512];
		report_verdict(&runs[i], v, sizeof v);
		bool bad = geti(runs[i].doc, "requests") != geti(runs[i].doc, "ok");
		fprintf(out, "<p class=\"verdict %s\">", bad ? "fail" : "pass");
		esc(out, v);
		fprintf(out, "</p>\n");
		size_t k;
		json_t *e;
		json_array_foreach(json_object_get(runs[i].doc, "expectations"), k, e) {
			bool pass = json_is_true(json_object_get(e, "pass"));
			fprintf(out, "<p class=\"%s\">%s ", pass ? "ok" : "bad", pass ? "&#10003;" : "&#10007;");
			esc(out, json_string_value(json_object_get(e, "expect")));
			fprintf(out, "</p>\n");
		}
	}
	fprintf(out, "</section>\n<section><h2>Side by side</h2>\n");
	summary_table(out, runs, n);
	fprintf(out, "</section>\n<section><h2>Latency by percentile</h2>\n");
	percentile_chart(out, runs, n);
	fprintf(out, "</section>\n<section><h2>Throughput and failures over time</h2>\n");
	timeline_chart(out, runs, n);
	fprintf(out, "</section>\n");
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "<section><h2>Targets: ");
		esc(out, runs[i].label);
		fprintf(out, "</h2>\n");
		targets_table(out, &runs[i]);
		fprintf(out, "<h2>Failed tunnels: ");
		esc(out, runs[i].label);
		fprintf(out, "</h2>\n");
		failures_table(out, &runs[i]);
		fprintf(out, "<p class=\"mute\">command: <code>");
		size_t k;
		json_t *a;
		json_array_foreach(json_object_get(runs[i].doc, "command"), k, a) {
			esc(out, json_string_value(a));
			fputc(' ', out);
		}
		fprintf(out, "</code></p></section>\n");
	}
	fprintf(out, "</body></html>\n");
	return ferror(out) ? -1 : 0;
}
