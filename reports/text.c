/* text — see text.h. */
#include "reports/text.h"

#include <stdio.h>
#include <string.h>

#include "lib/ledger.h"
#include "reports/metrics.h"
#include "reports/report.h"
#include "reports/verdict.h"

static json_int_t geti(json_t *o, const char *k) { return json_integer_value(json_object_get(o, k)); }
static const char *gets_(json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

void report_thousands(char *out, size_t cap, long long v)
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

const char *report_expect_result(json_t *e)
{
	const char *r = json_string_value(json_object_get(e, "result"));
	if (r && (strcmp(r, "pass") == 0 || strcmp(r, "fail") == 0 || strcmp(r, "skip") == 0))
		return r;
	return json_is_true(json_object_get(e, "pass")) ? "pass" : "fail";
}

void report_escape(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '&': fputs("&amp;", out); break;
		case '"': fputs("&quot;", out); break;
		case '\'': fputs("&#39;", out); break;
		default:
			if ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t')
				fputc('?', out);
			else
				fputc(*s, out);
		}
	}
}

/* Markdown table cells: no pipes, no newlines, no raw HTML. */
static void md_cell(FILE *out, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '|')
			fputs("\\|", out);
		else if (*s == '<')
			fputs("&lt;", out);
		else if (*s == '>')
			fputs("&gt;", out);
		else if ((unsigned char)*s < 0x20)
			fputc(' ', out);
		else
			fputc(*s, out);
	}
}

void report_command(FILE *out, json_t *argv, bool html)
{
	size_t i;
	json_t *a;
	json_array_foreach(argv, i, a) {
		const char *s = json_string_value(a);
		if (!s)
			continue;
		if (i)
			fputc(' ', out);
		bool plain = *s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
					     "-_./:=,@%+") == strlen(s);
		if (plain) {
			html ? report_escape(out, s) : (void)fputs(s, out);
			continue;
		}
		/* Single quotes; an embedded ' becomes '\''. */
		fputc('\'', out);
		for (const char *p = s; *p; p++) {
			if (*p == '\'')
				fputs("'\\''", out);
			else if (html) {
				char one[2] = {*p, 0};
				report_escape(out, one);
			} else {
				fputc((unsigned char)*p < 0x20 ? '?' : *p, out);
			}
		}
		fputc('\'', out);
	}
}

static void pad(FILE *out, const char *s, int width, bool left)
{
	/* Width in characters: UTF-8 continuation bytes take no column. */
	int cols = 0;
	for (const char *p = s; *p; p++)
		cols += ((unsigned char)*p & 0xc0) != 0x80;
	if (!left)
		for (int i = cols; i < width; i++)
			fputc(' ', out);
	fputs(s, out);
	if (left)
		for (int i = cols; i < width; i++)
			fputc(' ', out);
}

/* What a run's file says of itself beyond its numbers: a simulated proxy, the cause
 * `run` diagnosed. Plain text, one line each, or Markdown list items. */
static size_t run_notes(FILE *out, const struct report_run *runs, size_t n, bool md)
{
	size_t lines = 0;
	for (size_t i = 0; i < n; i++) {
		json_t *proxy = json_object_get(runs[i].doc, "proxy");
		const char *note = json_is_true(json_object_get(proxy, "simulated")) ? gets_(proxy, "note") : NULL;
		const char *cause = gets_(runs[i].doc, "diagnosis");
		for (int k = 0; k < 2; k++) {
			const char *text = k ? cause : note;
			if (!text)
				continue;
			fputs(md ? "- " : "", out);
			md ? md_cell(out, runs[i].label) : (void)fputs(runs[i].label, out);
			fputs(k ? ": " : " is simulated: ", out);
			md ? md_cell(out, text) : (void)fputs(text, out);
			fputc('\n', out);
			lines++;
		}
	}
	return lines;
}

/* The failure samples of one run, grouped (reports/verdict.h), a few examples each. */
static void text_failures(FILE *out, const struct report_run *run)
{
	json_t *failures = json_object_get(run->doc, "failures");
	struct report_group groups[REPORT_MAX_GROUPS];
	size_t left = 0, ng = report_failure_groups(failures, groups, REPORT_MAX_GROUPS, &left);
	if (!ng)
		return;
	fprintf(out, "\nfailed tunnels, %s (%zu samples of %lld failed, %zu kind%s):\n", run->label,
		json_array_size(failures), (long long)(geti(run->doc, "requests") - geti(run->doc, "ok")), ng,
		ng == 1 ? "" : "s");
	for (size_t g = 0; g < ng; g++) {
		fprintf(out, "  %zu x %s%s%s%s%s\n", groups[g].count, groups[g].cls, groups[g].phase[0] ? " in " : "",
			groups[g].phase, groups[g].where[0] ? " — " : "", groups[g].where);
		size_t k, shown = 0;
		json_t *f;
		json_array_foreach(failures, k, f) {
			if (!report_group_has(&groups[g], f))
				continue;
			if (shown++ == 3) {
				fprintf(out, "      (and %zu more)\n", groups[g].count - 3);
				break;
			}
			fprintf(out, "      %s %s local %s: %s\n", gets_(f, "id") ?: "-", gets_(f, "url") ?: "-",
				gets_(f, "local") ?: "-", gets_(f, "detail") ?: "");
		}
	}
	if (left)
		fprintf(out, "  (%zu more samples of other kinds in the run file)\n", left);
}

int report_text(FILE *out, const struct report_run *runs, size_t n)
{
	char verdict[2048];
	report_verdict_all(runs, n, verdict, sizeof verdict);
	fprintf(out, "verdict: %s\n", verdict);
	run_notes(out, runs, n, false);
	fputc('\n', out);
	struct report_metric rows[REPORT_MAX_METRICS];
	size_t nrows = report_metrics(runs, n, rows, REPORT_MAX_METRICS);
	pad(out, "", 26, true);
	for (size_t i = 0; i < n; i++) {
		char label[24];
		snprintf(label, sizeof label, "%s", runs[i].label);
		fputs("  ", out);
		pad(out, label, 22, false);
	}
	fputc('\n', out);
	for (size_t r = 0; r < nrows; r++) {
		pad(out, rows[r].name, 26, true);
		for (size_t i = 0; i < n; i++) {
			char cell[64];
			report_metric_cell(&rows[r], i, true, cell, sizeof cell);
			if (report_is_worse(&rows[r], n, i))
				strncat(cell, " *", sizeof cell - strlen(cell) - 1);
			fputs("  ", out);
			pad(out, cell, 22, false);
		}
		fputc('\n', out);
	}
	if (n > 1)
		fputs("(* the worse value; deltas against the first run)\n", out);
	if (report_any_apart(rows, nrows, n))
		fprintf(out, "(%s: all requests, failures included — the run file has no ok-only latency; shown, "
			     "not compared)\n", REPORT_APART_SYMBOL);
	for (size_t i = 0; i < n; i++)
		text_failures(out, &runs[i]);
	return ferror(out) ? -1 : 0;
}

int report_markdown(FILE *out, const struct report_run *runs, size_t n)
{
	char verdict[2048];
	report_verdict_all(runs, n, verdict, sizeof verdict);
	fprintf(out, "## tunnelprobe report\n\n**");
	md_cell(out, verdict);
	fprintf(out, "**\n\n");
	if (run_notes(out, runs, n, true))
		fputc('\n', out);
	fprintf(out, "| metric |");
	for (size_t i = 0; i < n; i++) {
		fputc(' ', out);
		md_cell(out, runs[i].label);
		fputs(" |", out);
	}
	fprintf(out, "\n|---|");
	for (size_t i = 0; i < n; i++)
		fprintf(out, "---:|");
	fprintf(out, "\n");
	struct report_metric rows[REPORT_MAX_METRICS];
	size_t nrows = report_metrics(runs, n, rows, REPORT_MAX_METRICS);
	for (size_t r = 0; r < nrows; r++) {
		fprintf(out, "| %s |", rows[r].name);
		for (size_t i = 0; i < n; i++) {
			char cell[64];
			report_metric_cell(&rows[r], i, true, cell, sizeof cell);
			bool worse = report_is_worse(&rows[r], n, i);
			fprintf(out, " %s%s%s |", worse ? "**" : "", cell, worse ? "**" : "");
		}
		fprintf(out, "\n");
	}
	if (report_any_apart(rows, nrows, n))
		fprintf(out, "\n%s all requests, failures included: the run file has no ok-only latency; shown, not "
			     "compared.\n", REPORT_APART_SYMBOL);
	/* Targets that failed somewhere, aligned across runs. */
	bool header = false;
	size_t shown = 0;
	for (size_t i = 0; i < n; i++) {
		size_t k;
		json_t *t;
		json_array_foreach(json_object_get(runs[i].doc, "targets"), k, t) {
			const char *url = gets_(t, "url");
			bool first_seen = true;
			for (size_t j = 0; j < i && first_seen; j++)
				first_seen = report_match_target(json_object_get(runs[j].doc, "targets"), url) < 0;
			if (!first_seen)
				continue;
			bool failing = false;
			long at[REPORT_MAX_RUNS];
			for (size_t j = 0; j < n; j++) {
				at[j] = report_match_target(json_object_get(runs[j].doc, "targets"), url);
				json_t *tj = json_array_get(json_object_get(runs[j].doc, "targets"), (size_t)at[j]);
				failing |= at[j] >= 0 && geti(tj, "requests") != geti(tj, "ok");
			}
			if (!failing || shown == REPORT_TARGETS_SHOWN)
				continue;
			if (!header) {
				fprintf(out, "\n### Targets with failures\n\n| target |");
				for (size_t j = 0; j < n; j++) {
					fputc(' ', out);
					md_cell(out, runs[j].label);
					fputs(" |", out);
				}
				fprintf(out, "\n|---|");
				for (size_t j = 0; j < n; j++)
					fprintf(out, "---|");
				fprintf(out, "\n");
				header = true;
			}
			shown++;
			fprintf(out, "| ");
			md_cell(out, url);
			fprintf(out, " |");
			for (size_t j = 0; j < n; j++) {
				json_t *tj = at[j] >= 0 ? json_array_get(json_object_get(runs[j].doc, "targets"), (size_t)at[j]) : NULL;
				if (!tj) {
					fprintf(out, " – |");
					continue;
				}
				json_int_t req = geti(tj, "requests"), bad = req - geti(tj, "ok");
				fprintf(out, " %lld/%lld", (long long)bad, (long long)req);
				const char *key;
				json_t *v;
				json_object_foreach(json_object_get(tj, "classes"), key, v)
					if (strcmp(key, "ok") != 0 && json_integer_value(v) > 0) {
						fputc(' ', out);
						md_cell(out, key);
					}
				fprintf(out, " |");
			}
			fprintf(out, "\n");
		}
	}
	bool any_expect = false;
	for (size_t i = 0; i < n; i++) {
		size_t k;
		json_t *e;
		json_array_foreach(json_object_get(runs[i].doc, "expectations"), k, e) {
			if (!any_expect)
				fprintf(out, "\n### Expectations\n\n");
			any_expect = true;
			const char *result = report_expect_result(e);
			fprintf(out, "- %s ", strcmp(result, "fail") == 0 ? "**FAIL**" : result);
			md_cell(out, runs[i].label);
			fputs(": ", out);
			md_cell(out, gets_(e, "expect"));
			fputc('\n', out);
		}
	}
	return ferror(out) ? -1 : 0;
}

int report_junit(FILE *out, const struct report_run *runs, size_t n)
{
	fprintf(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"tunnelprobe\">\n");
	for (size_t r = 0; r < n; r++) {
		json_t *doc = runs[r].doc;
		json_t *targets = json_object_get(doc, "targets");
		json_t *expects = json_object_get(doc, "expectations");
		size_t tests = json_array_size(targets) + json_array_size(expects), failures = 0, skipped = 0;
		size_t i;
		json_t *t;
		json_array_foreach(targets, i, t)
			failures += geti(t, "requests") != geti(t, "ok");
		json_array_foreach(expects, i, t) {
			failures += strcmp(report_expect_result(t), "fail") == 0;
			skipped += strcmp(report_expect_result(t), "skip") == 0;
		}
		fprintf(out, "  <testsuite name=\"");
		report_escape(out, runs[r].label);
		fprintf(out, "\" tests=\"%zu\" failures=\"%zu\" skipped=\"%zu\">\n", tests, failures, skipped);
		json_array_foreach(targets, i, t) {
			fprintf(out, "    <testcase classname=\"");
			report_escape(out, runs[r].label);
			fprintf(out, ".target\" name=\"");
			const char *url = gets_(t, "url");
			report_escape(out, url);
			json_int_t req = geti(t, "requests"), ok = geti(t, "ok");
			if (req == ok) {
				fprintf(out, "\"/>\n");
				continue;
			}
			fprintf(out, "\">\n      <failure message=\"%lld of %lld requests failed\">", (long long)(req - ok),
				(long long)req);
			const char *key;
			json_t *v;
			json_object_foreach(json_object_get(t, "classes"), key, v) {
				if (strcmp(key, "ok") == 0 || json_integer_value(v) <= 0)
					continue;
				char where[200];
				report_class_location(doc, key, url, where, sizeof where);
				report_escape(out, key);
				fprintf(out, ": %lld", (long long)json_integer_value(v));
				if (where[0]) {
					fputc(' ', out);
					report_escape(out, where);
				}
				fputc('\n', out);
			}
			fprintf(out, "</failure>\n    </testcase>\n");
		}
		json_array_foreach(expects, i, t) {
			fprintf(out, "    <testcase classname=\"");
			report_escape(out, runs[r].label);
			fprintf(out, ".expectation\" name=\"");
			report_escape(out, gets_(t, "expect"));
			const char *result = report_expect_result(t);
			if (strcmp(result, "pass") == 0)
				fprintf(out, "\"/>\n");
			else if (strcmp(result, "skip") == 0)
				fprintf(out, "\">\n      <skipped message=\"not checked: see the reason in the name\"/>\n"
					     "    </testcase>\n");
			else
				fprintf(out, "\">\n      <failure message=\"expectation not met\"/>\n    </testcase>\n");
		}
		fprintf(out, "  </testsuite>\n");
	}
	fprintf(out, "</testsuites>\n");
	return ferror(out) ? -1 : 0;
}
