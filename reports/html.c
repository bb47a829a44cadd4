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
/* before, s escaped, after: one element of run text. */
static void wrap(FILE *out, const char *before, const char *s, const char *after)
{
	fputs(before, out);
	esc(out, s);
	fputs(after, out);
}

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
	"table.chain{margin:6px 0}table.chain td{padding:2px 8px}td.unit{font-size:12px;max-width:13em}"
	".hop{border:1px solid var(--line);background:var(--bg);padding:2px 8px;text-align:center;font-size:12px}"
	".hop b{display:block;font-size:13px;font-variant-numeric:tabular-nums}"
	".hop.drop{border-color:var(--bad);background:var(--badbg);color:var(--bad)}.hop.none b{color:var(--mute)}"
	".arrow{color:var(--mute)}.count{font-weight:600;margin:0 4px}.simulated{border-left:5px solid #e67700;"
	"padding:4px 10px;background:var(--card)}details{margin:6px 0}summary{cursor:pointer}"
	"@media print{:root{--bg:#fff;--fg:#000;--card:#fff;--line:#bbb}body{max-width:none;margin:0;font-size:11px}"
	"section,.fail-item,svg{break-inside:avoid}h2{break-after:avoid}a{color:inherit}}";

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
		json_t *proxy = json_object_get(runs[i].doc, "proxy");
		if (json_is_true(json_object_get(proxy, "simulated"))) {
			fprintf(out, "<p class=\"simulated\"><b>");
			esc(out, runs[i].label);
			fprintf(out, " is simulated:</b> ");
			esc(out, gets_(proxy, "note") ?: "the reference proxy with a fault");
			fprintf(out, "</p>\n");
		}
		if (gets_(runs[i].doc, "diagnosis")) {
			fprintf(out, "<p class=\"bad\"><b>");
			esc(out, runs[i].label);
			fprintf(out, ":</b> ");
			esc(out, gets_(runs[i].doc, "diagnosis"));
			fprintf(out, "</p>\n");
		}
	}
	for (size_t i = 0; i < n; i++) {
		size_t k;
		json_t *e;
		json_array_foreach(json_object_get(runs[i].doc, "expectations"), k, e) {
			/* A skip is not a pass: it has a mark of its own. */
			const char *result = report_expect_result(e);
			bool pass = strcmp(result, "pass") == 0, skip = strcmp(result, "skip") == 0;
			fprintf(out, "<div class=\"%s\">%s ", pass ? "ok" : skip ? "mute skip" : "bad",
				pass ? "&#10003;" : skip ? "&#8211; skipped" : "&#10007;");
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

/* The run file's proxy: an object (docs/run-json.md) or, in older files, its URL. */
static void proxy_cell(FILE *out, json_t *proxy)
{
	if (json_is_string(proxy) || !json_is_object(proxy)) {
		esc(out, json_is_string(proxy) ? json_string_value(proxy) : "direct (no proxy)");
		return;
	}
	bool ref = gets_(proxy, "kind") && strcmp(gets_(proxy, "kind"), "reference") == 0;
	fputs(ref ? "reference proxy " : "your proxy ", out);
	fputs("<code>", out);
	esc(out, gets_(proxy, "url"));
	fputs("</code>", out);
	if (gets_(proxy, "build")) {
		fputs("<br>", out);
		esc(out, gets_(proxy, "build"));
		fputc(' ', out);
		esc(out, gets_(proxy, "platform") ?: "");
		fputc(' ', out);
		esc(out, gets_(proxy, "backend") ?: "");
		if (gets_(proxy, "runtime")) { /* a Windows build under Wine is not Windows */
			fputs(", <b>under ", out);
			esc(out, strcmp(gets_(proxy, "runtime"), "wine") == 0 ? "Wine" : gets_(proxy, "runtime"));
			fputs("</b> on Linux", out);
		}
		const char *src = gets_(proxy, "build_source");
		if (src && strcmp(src, "run") == 0)
			fputs(" <span class=\"mute\">(this binary's; the proxy did not say)</span>", out);
	}
	if (gets_(proxy, "fault")) {
		fputs("<br>fault <code>", out);
		esc(out, gets_(proxy, "fault"));
		fputs("</code>", out);
	}
	if (json_is_true(json_object_get(proxy, "simulated"))) {
		fputs("<br><b>simulated:</b> ", out);
		esc(out, gets_(proxy, "note") ?: "");
	}
}

/* A row of the runs table: its name, then cell(run document) per run. */
static void cell_row(FILE *out, const struct report_run *runs, size_t n, const char *name,
		     void (*cell)(FILE *, json_t *))
{
	fprintf(out, "<tr><td>%s</td>", name);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "<td class=\"l\">");
		cell(out, runs[i].doc);
		fprintf(out, "</td>");
	}
	fprintf(out, "</tr>\n");
}

static void proxy_of(FILE *out, json_t *doc) { proxy_cell(out, json_object_get(doc, "proxy")); }
static void started_of(FILE *out, json_t *doc) { utc(out, json_object_get(doc, "started")); }
static void duration_of(FILE *out, json_t *doc)
{
	fprintf(out, "%.2f s", json_number_value(json_object_get(doc, "duration_s")));
}

/* The load as configured, and what an open loop did not manage. */
static void load_cell(FILE *out, json_t *doc)
{
	json_t *c = json_object_get(doc, "config"), *ol = json_object_get(doc, "open_loop");
	if (!json_is_object(c)) {
		fputs("n/a", out);
		return;
	}
	fprintf(out, "%lld connections, %lld threads, ", (long long)geti(c, "connections"), (long long)geti(c, "threads"));
	double rate = json_number_value(json_object_get(c, "rate"));
	if (rate > 0)
		fprintf(out, "open loop %.1f req/s, ", rate);
	else
		fprintf(out, "closed loop, ");
	fprintf(out, "timeout %.1f s%s", json_number_value(json_object_get(c, "timeout_s")),
		json_is_false(json_object_get(c, "keepalive")) ? ", no keep-alive" : "");
	if (json_is_object(ol)) {
		json_int_t missed = geti(ol, "missed");
		fprintf(out, "<br><span class=\"%s\">%lld of %lld scheduled starts sent, %lld missed%s</span>",
			missed ? "bad" : "ok", (long long)geti(ol, "sent"), (long long)geti(ol, "due"), (long long)missed,
			missed ? " (-c too low or generator saturated)" : "");
	}
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
	meta_row(out, runs, n, "run id", "run_id");
	meta_row(out, runs, n, "host", "host");
	cell_row(out, runs, n, "proxy", proxy_of);
	cell_row(out, runs, n, "started", started_of);
	cell_row(out, runs, n, "duration", duration_of);
	cell_row(out, runs, n, "load", load_cell);
	fprintf(out, "<tr><td>tool</td>");
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
	fprintf(out, "</table>\n%s%s</section>\n",
		n > 1 ? "<p class=\"mute\">Deltas against the first run; the worse value is highlighted. Latency rows are "
			"of ok requests.</p>" : "",
		report_any_apart(rows, nrows, n) ? "<p class=\"mute\">&#8224; all requests, failures included: the run "
						   "file has no ok-only latency (<code>latency_ok_ms</code>), so the "
						   "value is shown, not compared.</p>" : "");
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

static bool hop_known(const struct report_chain_row *r, size_t i)
{
	json_t *v = json_object_get(r->obj, r->hops[i].key);
	return json_is_integer(v) && json_integer_value(v) >= 0;
}

#define CHAIN_COLUMNS 6

/* A failure's chain: one row per unit (application bytes; TCP bytes, TLS records
 * included), the hop where it drops marked; places no row witnessed left out and
 * named below, with the body bytes the probe read against those announced. */
static void chain_html(FILE *out, json_t *failure)
{
	json_t *chain = json_object_get(failure, "chain");
	struct report_chain_row rows[REPORT_CHAIN_ROWS];
	size_t nrows = report_chain_rows(chain, rows);
	struct report_drop drop = report_chain_drop(failure);
	/* Column c is the same place in every row (the TCP row's "proxy acked" under
	 * "origin wrote": both say what left the origin); the TCP row has no probe. */
	bool used[CHAIN_COLUMNS] = {false}, dash = false;
	for (size_t r = 0; r < nrows; r++)
		for (size_t i = 0; i < rows[r].nhops && i < CHAIN_COLUMNS; i++)
			used[i] |= hop_known(&rows[r], i);
	fprintf(out, "<table class=\"chain\">");
	for (size_t r = 0; r < nrows; r++) {
		fprintf(out, "<tr><td class=\"l unit\">%s", rows[r].label);
		if (rows[r].connection_requests)
			fprintf(out, "<br><span class=\"mute\">whole connection, %lld requests</span>",
				(long long)rows[r].connection_requests);
		fprintf(out, "</td>");
		for (size_t c = 0; c < CHAIN_COLUMNS; c++) {
			if (!used[c])
				continue;
			size_t i = c;
			if (i >= rows[r].nhops) {
				fprintf(out, "<td class=\"hop none\"></td>");
				continue;
			}
			bool known = hop_known(&rows[r], i);
			dash |= !known;
			bool dropped = drop.hop && drop.row == r && strcmp(drop.hop, rows[r].hops[i].key) == 0;
			char num[32] = "–";
			if (known)
				report_thousands(num, sizeof num,
						 (long long)json_integer_value(json_object_get(rows[r].obj, rows[r].hops[i].key)));
			fprintf(out, "<td class=\"hop%s%s\">%s<b>%s</b></td>", dropped ? " drop" : "", known ? "" : " none",
				rows[r].hops[i].name, num);
		}
		fprintf(out, "</tr>\n");
	}
	fprintf(out, "</table>\n<div class=\"mute\">");
	json_t *e = json_object_get(chain, "expected"), *pb = json_object_get(chain, "probe_body");
	char num[32], of[32];
	if (json_is_integer(e) && json_is_integer(pb)) {
		report_thousands(num, sizeof num, (long long)json_integer_value(pb));
		report_thousands(of, sizeof of, (long long)json_integer_value(e));
		fprintf(out, "Body: the probe read %s of %s bytes announced (decoded). ", num, of);
	} else if (json_is_integer(e)) {
		report_thousands(of, sizeof of, (long long)json_integer_value(e));
		fprintf(out, "Expected body %s. ", of);
	}
	/* The places no evidence counted, and which evidence would have. */
	static const char *const places[CHAIN_COLUMNS] = {"origin", "origin leg", "proxy received", "proxy sent",
							  "client leg", "probe"};
	bool any = false;
	for (size_t c = 0; c < CHAIN_COLUMNS && nrows; c++)
		if (!used[c]) {
			fprintf(out, "%s%s", any ? ", " : "Not counted: ", places[c]);
			any = true;
		}
	if (any)
		fprintf(out, " (%s%s%s). ", !used[1] || !used[4] ? "a capture counts the legs" : "",
			(!used[1] || !used[4]) && (!used[2] || !used[3]) ? ", " : "",
			!used[2] || !used[3] ? "the proxy's ledger counts the proxy" : "");
	fprintf(out, "%s</div>\n", dash ? "&#8211; no count in that unit." : "");
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

static bool any_flag(json_t *flags)
{
	return json_array_size(json_object_get(flags, "client_leg")) + json_array_size(json_object_get(flags, "origin_leg")) > 0;
}

/* One failure in full: what, where, its chain, verdict and capture flags (when the
 * capture raised any). */
static void failure_detail(FILE *out, json_t *f)
{
	wrap(out, "<span class=\"mute\">id ", gets_(f, "id"), "");
	wrap(out, ", local ", gets_(f, "local"), "</span>");
	wrap(out, "<br><code>", gets_(f, "url"), "</code> ");
	esc(out, gets_(f, "detail"));
	if (json_is_object(json_object_get(f, "chain"))) {
		chain_html(out, f);
	} else {
		char got[32], want[32];
		report_thousands(got, sizeof got, (long long)geti(f, "bytes_received"));
		report_thousands(want, sizeof want, (long long)geti(f, "bytes_expected"));
		fprintf(out, "<div class=\"mute\">probe read %s of %s body bytes; no ledger or capture chain "
			     "for this tunnel</div>\n", got, want);
	}
	const char *verdict = report_failure_verdict_text(f);
	if (verdict)
		wrap(out, "<div>verdict: <b>", verdict, "</b></div>");
	if (any_flag(json_object_get(f, "flags"))) {
		fprintf(out, "<div>capture flags: ");
		flags_html(out, json_object_get(f, "flags"));
		fprintf(out, "</div>");
	}
}

/* The other samples of a group, one row each. */
static void group_samples(FILE *out, json_t *failures, const struct report_group *g)
{
	size_t k, row = 0;
	json_t *f;
	fprintf(out, "<details><summary>all %zu samples</summary>\n<table><tr><th>id</th><th>local</th>"
		     "<th>target</th><th>detail</th><th>chain</th></tr>\n", g->count);
	json_array_foreach(failures, k, f) {
		if (!report_group_has(g, f))
			continue;
		if (row++ == REPORT_FAILURES_SHOWN) {
			fprintf(out, "<tr><td class=\"mute\" colspan=\"5\">%zu more in the run file</td></tr>\n",
				g->count - REPORT_FAILURES_SHOWN);
			break;
		}
		char chain[256];
		report_chain_text(f, chain, sizeof chain);
		wrap(out, "<tr><td class=\"l\">", gets_(f, "id"), "</td>");
		wrap(out, "<td class=\"l\">", gets_(f, "local"), "</td>");
		wrap(out, "<td class=\"l\"><code>", gets_(f, "url"), "</code></td>");
		wrap(out, "<td class=\"l\">", gets_(f, "detail"), "</td>");
		wrap(out, "<td class=\"l\">", chain, "</td></tr>\n");
	}
	fprintf(out, "</table></details>\n");
}

/* A run's failure samples as one card per kind (class, verdict, place) with its count:
 * the first sample in full, the others in a table. */
static void run_failures(FILE *out, const struct report_run *run)
{
	json_t *failures = json_object_get(run->doc, "failures");
	json_int_t failed = geti(run->doc, "requests") - geti(run->doc, "ok");
	struct report_group groups[REPORT_MAX_GROUPS];
	size_t left = 0, ng = report_failure_groups(failures, groups, REPORT_MAX_GROUPS, &left);
	fprintf(out, "<h3>");
	esc(out, run->label);
	fprintf(out, "</h3>\n");
	if (failed <= 0) {
		fprintf(out, "<p class=\"ok\">no failures</p>\n");
		return;
	}
	fprintf(out, "<p class=\"mute\">%zu samples of %lld failed requests, %zu kind%s", json_array_size(failures),
		(long long)failed, ng, ng == 1 ? "" : "s");
	if (left)
		fprintf(out, " (%zu samples of further kinds not grouped)", left);
	fprintf(out, ".</p>\n");
	for (size_t g = 0; g < ng; g++) {
		fprintf(out, "<div class=\"fail-item\"><b class=\"bad\">");
		esc(out, groups[g].cls);
		fprintf(out, "</b> in ");
		esc(out, groups[g].phase[0] ? groups[g].phase : "?");
		if (groups[g].where[0]) {
			fprintf(out, " — <b>");
			esc(out, groups[g].where);
			fprintf(out, "</b>");
		}
		fprintf(out, " <span class=\"count\">&#215;%zu</span> ", groups[g].count);
		failure_detail(out, json_array_get(failures, groups[g].first));
		if (groups[g].count > 1)
			group_samples(out, failures, &groups[g]);
		fprintf(out, "</div>\n");
	}
}

static void failures_section(FILE *out, const struct report_run *runs, size_t n)
{
	fprintf(out, "<section id=\"failures\"><h2>Failed tunnels</h2>\n");
	for (size_t r = 0; r < n; r++)
		run_failures(out, &runs[r]);
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
	if (svg_has_phases(runs, n)) {
		fprintf(out, "<section id=\"phases\"><h2>Latency by phase</h2>\n<p class=\"mute\">Each phase's "
			     "latency as the probe measured it (<code>phases_ms</code>): bars to p50, p90 and p99, a "
			     "tick at max.</p>\n");
		svg_phases(out, runs, n);
		fprintf(out, "</section>\n");
	}
	targets_table(out, runs, n);
	failures_section(out, runs, n);
	resources_section(out, runs, n);
	commands_section(out, runs, n);
	fprintf(out, "<footer class=\"mute\"><p>tunnelprobe %s · run file schema %s</p></footer>\n"
		     "</body></html>\n", TP_VERSION, RUNFILE_SCHEMA);
	return ferror(out) ? -1 : 0;
}
