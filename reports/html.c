/* html — see html.h. */
#include "reports/html.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lib/ledger.h"
#include "lib/runfile.h"
#include "lib/version.h"
#include "reports/metrics.h"
#include "reports/svg.h"
#include "reports/text.h"
#include "reports/verdict.h"

static json_int_t geti(json_t *o, const char *k) { return json_integer_value(json_object_get(o, k)); }
static const char *gets_(json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }
static void esc(FILE *out, const char *s) { report_escape(out, s ? s : ""); }

static const char css[] =
	":root{color-scheme:light dark;--bg:#fff;--fg:#1d232a;--mute:#5f6b7a;--line:#d5dbe3;--bad:#c92a2a;"
	"--badbg:#fff0f0;--good:#2b8a3e;--goodbg:#ebfbee;--card:#f6f8fa}"
	"@media(prefers-color-scheme:dark){:root{--bg:#14181d;--fg:#e3e8ee;--mute:#9aa5b1;--line:#333b45;"
	"--bad:#ff8787;--badbg:#3b1f22;--good:#69db7c;--goodbg:#1b3323;--card:#1c2127}}"
	"body{background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;"
	"margin:24px auto;max-width:1180px;padding:0 16px}h1{font-size:22px;margin-bottom:6px}"
	"h2{font-size:17px;margin-top:30px;border-bottom:1px solid var(--line);padding-bottom:4px}"
	"h3{font-size:15px;margin:18px 0 6px}"
	"table{border-collapse:collapse;margin:8px 0;font-variant-numeric:tabular-nums}"
	"td,th{border:1px solid var(--line);padding:3px 8px;text-align:right;vertical-align:top}"
	"td:first-child,th:first-child,td.l{text-align:left}th{background:var(--card)}"
	".worse{background:var(--badbg);color:var(--bad);font-weight:600}.ok{color:var(--good)}"
	".bad{color:var(--bad)}.mute{color:var(--mute)}"
	".headline{font-size:18px;font-weight:600;padding:10px 14px;background:var(--card);"
	"border-left:5px solid var(--good);margin:8px 0}.headline.fail{border-left-color:var(--bad)}"
	".badge{display:inline-block;padding:1px 8px;border-radius:9px;font-size:12px;font-weight:600;margin-right:6px}"
	".badge.pass{background:var(--goodbg);color:var(--good)}.badge.fail{background:var(--badbg);color:var(--bad)}"
	".flag{display:inline-block;padding:0 6px;border:1px solid var(--bad);color:var(--bad);border-radius:4px;"
	"font-size:11px;margin:1px 3px 1px 0}"
	"code,pre{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;white-space:pre-wrap;word-break:break-all}"
	"pre{background:var(--card);border:1px solid var(--line);padding:8px}"
	"svg.chart{display:block;max-width:100%;height:auto;background:var(--card);border:1px solid var(--line)}"
	"svg text{fill:var(--fg);font-size:11px}svg text.onbar{fill:#fff;font-weight:600}"
	"svg .grid{stroke:var(--line);stroke-width:1}"
	".legend span{display:inline-block;margin-right:14px}"
	".sw{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:middle;border-radius:2px}"
	".fail-item{border:1px solid var(--line);padding:6px 10px;margin:8px 0;background:var(--card)}"
	".chain{display:flex;flex-wrap:wrap;align-items:center;gap:4px;margin:6px 0}"
	".hop{border:1px solid var(--line);background:var(--bg);padding:2px 8px;text-align:center;font-size:12px}"
	".hop b{display:block;font-size:13px;font-variant-numeric:tabular-nums}"
	".hop.drop{border-color:var(--bad);background:var(--badbg);color:var(--bad)}.hop.none b{color:var(--mute)}"
	".arrow{color:var(--mute)}"
	"@media print{:root{--bg:#fff;--fg:#000;--card:#fff;--line:#bbb}body{max-width:none;margin:0;font-size:11px}"
	"section,.fail-item,svg{break-inside:avoid}h2{break-after:avoid}a{color:inherit}}";

static void fmt_int(char *out, size_t cap, long long v)
{
	char digits[32];
	int n = snprintf(digits, sizeof digits, "%lld", v < 0 ? -v : v), at = 0;
	if (v < 0 && (size_t)at + 1 < cap)
		out[at++] = '-';
	for (int i = 0; i < n && (size_t)at + 2 < cap; i++) {
		out[at++] = digits[i];
		if ((n - i - 1) % 3 == 0 && i != n - 1)
			out[at++] = ',';
	}
	out[at] = '\0';
}

static void utc(FILE *out, json_t *t)
{
	if (!json_is_number(t)) {
		fputs("n/a", out);
		return;
	}
	time_t s = (time_t)json_number_value(t);
	struct tm tm;
	char buf[40];
	if (gmtime_r(&s, &tm) && strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm))
		fputs(buf, out);
}

static bool failing(const struct report_run *run)
{
	return geti(run->doc, "ok") < geti(run->doc, "requests");
}

static void run_header_cells(FILE *out, const struct report_run *runs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "<th><i class=\"sw\" style=\"background:%s\"></i>", svg_run_color(i));
		esc(out, runs[i].label);
		fprintf(out, "</th>");
	}
}

static void headline(FILE *out, const struct report_run *runs, size_t n)
{
	bool bad = false;
	for (size_t i = 0; i < n; i++)
		bad |= failing(&runs[i]);
	char verdict[4096];
	report_verdict_all(runs, n, verdict, sizeof verdict);
	fprintf(out, "<section id=\"verdict\">\n<p class=\"headline %s\">", bad ? "fail" : "pass");
	esc(out, verdict);
	fprintf(out, "</p>\n<p>");
	for (size_t i = 0; i < n; i++) {
		json_int_t req = geti(runs[i].doc, "requests"), ok = geti(runs[i].doc, "ok");
		fprintf(out, "<span class=\"badge %s\">", failing(&runs[i]) ? "fail" : "pass");
		esc(out, runs[i].label);
		fprintf(out, " %s %lld/%lld ok</span>", failing(&runs[i]) ? "FAIL" : "PASS", (long long)ok,
			(long long)req);
	}
	fprintf(out, "</p>\n");
	for (size_t i = 0; i < n; i++) {
		size_t k;
		json_t *e;
		json_array_foreach(json_object_get(runs[i].doc, "expectations"), k, e) {
			bool pass = json_is_true(json_object_get(e, "pass"));
			fprintf(out, "<div class=\"%s\">%s ", pass ? "ok" : "bad", pass ? "&#10003;" : "&#10007;");
			esc(out, runs[i].label);
			fputs(": ", out);
			esc(out, gets_(e, "expect"));
			fprintf(out, "</div>\n");
		}
	}
	fprintf(out, "</section>\n");
}

static void meta_row(FILE *out, const struct report_run *runs, size_t n, const char *name, const char *key)
{
	bool any = false;
	for (size_t i = 0; i < n; i++)
		any |= json_is_string(json_object_get(runs[i].doc, key));
	if (!any)
		return;
	fprintf(out, "<tr><td>%s</td>", name);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "<td class=\"l\">");
		esc(out, gets_(runs[i].doc, key) ?: "–");
		fprintf(out, "</td>");
	}
	fprintf(out, "</tr>\n");
}

static void runs_table(FILE *out, const struct report_run *runs, size_t n)
{
	fprintf(out, "<section id=\"runs\"><h2>Runs</h2>\n<table><tr><th>run</th>");
	run_header_cells(out, runs, n);
	fprintf(out, "</tr>\n<tr><td>input</td>");
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "<td class=\"l\"><code>");
		esc(out, runs[i].src);
		fprintf(out, "</code></td>");
	}
	fprintf(out, "</tr>\n");
	meta_row(out, runs, n, "scenario", "scenario");
	meta_row(out, runs, n, "host", "host");
	meta_row(out, runs, n, "proxy", "proxy");
	fprintf(out, "<tr><td>started</td>");
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "<td class=\"l\">");
		utc(out, json_object_get(runs[i].doc, "started"));
		fprintf(out, "</td>");
	}
	fprintf(out, "</tr>\n<tr><td>duration</td>");
	for (size_t i = 0; i < n; i++)
		fprintf(out, "<td class=\"l\">%.2f s</td>", json_number_value(json_object_get(runs[i].doc, "duration_s")));
	fprintf(out, "</tr>\n<tr><td>load</td>");
	for (size_t i = 0; i < n; i++) {
		json_t *c = json_object_get(runs[i].doc, "config");
		fprintf(out, "<td class=\"l\">");
		if (json_is_object(c)) {
			fprintf(out, "%lld connections, %lld threads, ", (long long)geti(c, "connections"),
				(long long)geti(c, "threads"));
			double rate = json_number_value(json_object_get(c, "rate"));
			if (rate > 0)
				fprintf(out, "open loop %.1f req/s, ", rate);
			else
				fprintf(out, "closed loop, ");
			fprintf(out, "timeout %.1f s%s", json_number_value(json_object_get(c, "timeout_s")),
				json_is_false(json_object_get(c, "keepalive")) ? ", no keep-alive" : "");
		} else {
			fputs("n/a", out);
		}
		fprintf(out, "</td>");
	}
	fprintf(out, "</tr>\n<tr><td>tool</td>");
	for (size_t i = 0; i < n; i++) {
		json_t *tool = json_object_get(runs[i].doc, "tool");
		fprintf(out, "<td class=\"l\">");
		esc(out, gets_(tool, "name") ?: "n/a");
		fputc(' ', out);
		esc(out, gets_(tool, "version") ?: "");
		fprintf(out, "</td>");
	}
	fprintf(out, "</tr>\n<tr><td>evidence</td>");
	for (size_t i = 0; i < n; i++) {
		json_t *d = runs[i].doc, *cap = json_object_get(d, "capture"), *rec = json_object_get(d, "records");
		fprintf(out, "<td class=\"l\">probe");
		if (json_object_get(d, "verdict_counts") || json_object_get(d, "verdicts"))
			fputs(" + ledgers joined", out);
		if (json_is_object(cap) && geti(cap, "frames") > 0)
			fprintf(out, " + capture (%lld frames, %lld dropped)", (long long)geti(cap, "frames"),
				(long long)geti(cap, "pcap_dropped"));
		if (json_is_object(rec))
			fprintf(out, "; from %lld record lines (%lld unreadable)", (long long)geti(rec, "lines"),
				(long long)geti(rec, "bad_lines"));
		if (json_array_size(json_object_get(d, "merged_from")))
			fprintf(out, "; %zu runs merged", json_array_size(json_object_get(d, "merged_from")));
		fprintf(out, "</td>");
	}
	fprintf(out, "</tr>\n</table></section>\n");
}

static void summary_table(FILE *out, const struct report_run *runs, size_t n)
{
	struct report_metric rows[REPORT_MAX_METRICS];
	size_t nrows = report_metrics(runs, n, rows, REPORT_MAX_METRICS);
	fprintf(out, "<section id=\"summary\"><h2>%s</h2>\n<table><tr><th>metric</th>",
		n > 1 ? "Side by side" : "Summary");
	run_header_cells(out, runs, n);
	fprintf(out, "</tr>\n");
	for (size_t r = 0; r < nrows; r++) {
		fprintf(out, "<tr><td>%s</td>", rows[r].name);
		for (size_t i = 0; i < n; i++) {
			char v[64];
			report_metric_cell(&rows[r], i, false, v, sizeof v);
			fprintf(out, "<td%s>%s", report_is_worse(&rows[r], n, i) ? " class=\"worse\"" : "", v);
			char d[64];
			report_metric_cell(&rows[r], i, true, d, sizeof d);
			if (strlen(d) > strlen(v))
				fprintf(out, " <span class=\"mute\">%s</span>", d + strlen(v) + 1);
			fprintf(out, "</td>");
		}
		fprintf(out, "</tr>\n");
	}
	fprintf(out, "</table>\n%s</section>\n",
		n > 1 ? "<p class=\"mute\">Deltas against the first run; the worse value is highlighted.</p>" : "");
}

static void targets_table(FILE *out, const struct report_run *runs, size_t n)
{
	fprintf(out, "<section id=\"targets\"><h2>Targets</h2>\n<table><tr><th rowspan=\"2\">target</th>");
	run_header_cells(out, runs, n);
	fprintf(out, "</tr>\n<tr>");
	for (size_t i = 0; i < n; i++)
		fprintf(out, "<th>failed / requests · p99 ms · classes</th>");
	fprintf(out, "</tr>\n");
	size_t shown = 0, total = 0;
	for (size_t i = 0; i < n; i++) {
		size_t k;
		json_t *t;
		json_array_foreach(json_object_get(runs[i].doc, "targets"), k, t) {
			const char *url = gets_(t, "url");
			bool first = true;
			for (size_t j = 0; j < i && first; j++)
				first = report_match_target(json_object_get(runs[j].doc, "targets"), url) < 0;
			if (!first)
				continue;
			if (++total > REPORT_TARGETS_SHOWN)
				continue;
			shown++;
			json_t *row[REPORT_MAX_RUNS];
			double rate[REPORT_MAX_RUNS], worst = -1, best = 2;
			for (size_t j = 0; j < n; j++) {
				long at = report_match_target(json_object_get(runs[j].doc, "targets"), url);
				row[j] = at >= 0 ? json_array_get(json_object_get(runs[j].doc, "targets"), (size_t)at) : NULL;
				json_int_t req = geti(row[j], "requests");
				rate[j] = row[j] && req ? (double)(req - geti(row[j], "ok")) / (double)req : -1;
				if (rate[j] >= 0) {
					worst = fmax(worst, rate[j]);
					best = fmin(best, rate[j]);
				}
			}
			fprintf(out, "<tr><td><code>");
			esc(out, url);
			fprintf(out, "</code></td>");
			for (size_t j = 0; j < n; j++) {
				if (!row[j]) {
					fprintf(out, "<td class=\"mute\">–</td>");
					continue;
				}
				json_int_t req = geti(row[j], "requests"), bad = req - geti(row[j], "ok");
				bool mark = bad > 0 && (n == 1 || (rate[j] == worst && worst > best));
				fprintf(out, "<td%s>%lld / %lld · %.2f", mark ? " class=\"worse\"" : "", (long long)bad,
					(long long)req, json_number_value(json_object_get(json_object_get(row[j], "latency_ms"), "p99")));
				const char *key;
				json_t *v;
				json_object_foreach(json_object_get(row[j], "classes"), key, v)
					if (strcmp(key, "ok") != 0 && json_integer_value(v) > 0) {
						fputs(" · ", out);
						esc(out, key);
						fprintf(out, " %lld", (long long)json_integer_value(v));
					}
				fprintf(out, "</td>");
			}
			fprintf(out, "</tr>\n");
		}
	}
	fprintf(out, "</table>\n");
	if (total > shown)
		fprintf(out, "<p class=\"mute\">%zu more targets in the run files.</p>\n", total - shown);
	fprintf(out, "</section>\n");
}

static void chain_html(FILE *out, json_t *failure)
{
	json_t *chain = json_object_get(failure, "chain");
	static const struct {
		const char *key, *name;
	} hops[] = {{"origin_wrote", "origin wrote"}, {"origin_leg", "origin leg"},
		    {"proxy_received", "proxy received"}, {"proxy_sent", "proxy sent"},
		    {"client_leg", "client leg"}, {"probe", "probe read"}};
	const char *drop = report_chain_drop(failure);
	fprintf(out, "<div class=\"chain\">");
	for (size_t i = 0; i < sizeof hops / sizeof hops[0]; i++) {
		json_t *v = json_object_get(chain, hops[i].key);
		bool known = json_is_integer(v), dropped = drop && strcmp(drop, hops[i].key) == 0;
		char num[32] = "–";
		if (known)
			fmt_int(num, sizeof num, (long long)json_integer_value(v));
		if (i)
			fprintf(out, "<span class=\"arrow\">&#8594;</span>");
		fprintf(out, "<span class=\"hop%s%s\">%s<b>%s</b></span>", dropped ? " drop" : "", known ? "" : " none",
			hops[i].name, num);
	}
	json_t *e = json_object_get(chain, "expected");
	if (json_is_integer(e)) {
		char num[32];
		fmt_int(num, sizeof num, (long long)json_integer_value(e));
		fprintf(out, "<span class=\"mute\">&#160;expected body %s</span>", num);
	}
	fprintf(out, "</div>\n");
}

static void flags_html(FILE *out, json_t *flags)
{
	static const char *const legs[] = {"client_leg", "origin_leg"};
	for (size_t l = 0; l < 2; l++) {
		json_t *list = json_object_get(flags, legs[l]);
		size_t i;
		json_t *f;
		json_array_foreach(list, i, f) {
			fprintf(out, "<span class=\"flag\">%s ", l ? "origin leg" : "client leg");
			esc(out, json_string_value(f));
			fprintf(out, "</span>");
		}
	}
}

static void failures_section(FILE *out, const struct report_run *runs, size_t n)
{
	fprintf(out, "<section id=\"failures\"><h2>Failed tunnels</h2>\n");
	for (size_t r = 0; r < n; r++) {
		json_t *failures = json_object_get(runs[r].doc, "failures");
		json_int_t failed = geti(runs[r].doc, "requests") - geti(runs[r].doc, "ok");
		fprintf(out, "<h3>");
		esc(out, runs[r].label);
		fprintf(out, "</h3>\n");
		if (failed <= 0) {
			fprintf(out, "<p class=\"ok\">no failures</p>\n");
			continue;
		}
		size_t shown = json_array_size(failures) < REPORT_FAILURES_SHOWN ? json_array_size(failures)
										  : REPORT_FAILURES_SHOWN;
		fprintf(out, "<p class=\"mute\">%zu of %lld failed requests shown", shown, (long long)failed);
		if ((json_int_t)json_array_size(failures) > (json_int_t)shown)
			fprintf(out, " (%zu more samples in the run file)", json_array_size(failures) - shown);
		fprintf(out, ".</p>\n");
		size_t i;
		json_t *f;
		json_array_foreach(failures, i, f) {
			if (i == shown)
				break;
			char where[200];
			report_location(f, where, sizeof where);
			fprintf(out, "<div class=\"fail-item\"><b class=\"bad\">");
			esc(out, gets_(f, "class"));
			fprintf(out, "</b> in ");
			esc(out, gets_(f, "phase") ?: "?");
			if (where[0]) {
				fprintf(out, " — <b>");
				esc(out, where);
				fprintf(out, "</b>");
			}
			fprintf(out, " <span class=\"mute\">id ");
			esc(out, gets_(f, "id"));
			fprintf(out, ", local ");
			esc(out, gets_(f, "local"));
			fprintf(out, "</span><br><code>");
			esc(out, gets_(f, "url"));
			fprintf(out, "</code> ");
			esc(out, gets_(f, "detail"));
			json_t *chain = json_object_get(f, "chain");
			if (json_is_object(chain)) {
				chain_html(out, f);
			} else {
				char got[32], want[32];
				fmt_int(got, sizeof got, (long long)geti(f, "bytes_received"));
				fmt_int(want, sizeof want, (long long)geti(f, "bytes_expected"));
				fprintf(out, "<div class=\"mute\">probe read %s of %s body bytes; no ledger or capture chain "
					     "for this tunnel</div>\n", got, want);
			}
			const char *verdict = report_failure_verdict_text(f);
			if (verdict) {
				fprintf(out, "<div>verdict: <b>");
				esc(out, verdict);
				fprintf(out, "</b></div>");
			}
			if (json_is_object(json_object_get(f, "flags"))) {
				fprintf(out, "<div>capture flags: ");
				flags_html(out, json_object_get(f, "flags"));
				fprintf(out, "</div>");
			}
			fprintf(out, "</div>\n");
		}
	}
	fprintf(out, "</section>\n");
}

static void resources_section(FILE *out, const struct report_run *runs, size_t n)
{
	bool any = false;
	for (size_t i = 0; i < n; i++)
		any |= json_is_object(json_object_get(runs[i].doc, "proxy_resources"));
	if (!any)
		return;
	fprintf(out, "<section id=\"resources\"><h2>Proxy resources</h2>\n<table><tr><th>metric</th>");
	run_header_cells(out, runs, n);
	fprintf(out, "</tr>\n");
	static const char *const keys[] = {"rss_kib_first", "rss_kib_last", "rss_kib_max", "fds_first", "fds_last"};
	for (size_t k = 0; k < 5; k++) {
		fprintf(out, "<tr><td>%s</td>", keys[k]);
		for (size_t i = 0; i < n; i++) {
			json_t *v = json_object_get(json_object_get(runs[i].doc, "proxy_resources"), keys[k]);
			if (json_is_integer(v))
				fprintf(out, "<td>%lld</td>", (long long)json_integer_value(v));
			else
				fprintf(out, "<td class=\"mute\">n/a</td>");
		}
		fprintf(out, "</tr>\n");
	}
	fprintf(out, "</table></section>\n");
}

static void commands_section(FILE *out, const struct report_run *runs, size_t n)
{
	fprintf(out, "<section id=\"commands\"><h2>Repeat the runs</h2>\n");
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "<h3>");
		esc(out, runs[i].label);
		fprintf(out, "</h3>\n");
		json_t *argv = json_object_get(runs[i].doc, "command");
		if (json_array_size(argv)) {
			fprintf(out, "<pre>");
			report_command(out, argv, true);
			fprintf(out, "</pre>\n");
		} else {
			fprintf(out, "<p class=\"mute\">the run file does not record its command line</p>\n");
		}
	}
	fprintf(out, "</section>\n");
}

int report_html(FILE *out, const struct report_run *runs, size_t n)
{
	fprintf(out, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		     "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n"
		     "<meta name=\"color-scheme\" content=\"light dark\">\n<title>tunnelprobe report: ");
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputs(" vs ", out);
		esc(out, runs[i].label);
	}
	fprintf(out, "</title>\n<style>%s</style></head><body>\n<h1>tunnelprobe report: ", css);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputs(" vs ", out);
		esc(out, runs[i].label);
	}
	fprintf(out, "</h1>\n");
	headline(out, runs, n);
	runs_table(out, runs, n);
	fprintf(out, "<section id=\"classes\"><h2>Requests by class</h2>\n");
	svg_classes(out, runs, n);
	fprintf(out, "</section>\n");
	summary_table(out, runs, n);
	fprintf(out, "<section id=\"latency\"><h2>Latency by percentile</h2>\n");
	svg_percentiles(out, runs, n);
	fprintf(out, "</section>\n<section id=\"timeline\"><h2>Throughput and failures over time</h2>\n");
	svg_throughput(out, runs, n);
	fprintf(out, "<h3>Latency over time</h3>\n");
	svg_latency_time(out, runs, n);
	fprintf(out, "</section>\n");
	targets_table(out, runs, n);
	failures_section(out, runs, n);
	resources_section(out, runs, n);
	commands_section(out, runs, n);
	fprintf(out, "<footer class=\"mute\"><p>tunnelprobe %s · run file schema %s</p></footer>\n"
		     "</body></html>\n", TP_VERSION, RUNFILE_SCHEMA);
	return ferror(out) ? -1 : 0;
}
