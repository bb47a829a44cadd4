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

int report_text(FILE *out, const struct report_run *runs, size_t n)
{
	char verdict[2048];
	report_verdict_all(runs, n, verdict, sizeof verdict);
	fprintf(out, "verdict: %s\n\n", verdict);
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
	for (size_t i = 0; i < n; i++) {
		json_t *failures = json_object_get(runs[i].doc, "failures");
		if (!json_array_size(failures))
			continue;
		fprintf(out, "\nfailed tunnels, %s (first %d of %lld):\n", runs[i].label,
			json_array_size(failures) < 10 ? (int)json_array_size(failures) : 10,
			(long long)(geti(runs[i].doc, "requests") - geti(runs[i].doc, "ok")));
		size_t k;
		json_t *f;
		json_array_foreach(failures, k, f) {
			if (k == 10)
				break;
			char where[160];
			report_location(f, where, sizeof where);
			fprintf(out, "  %s %s %s local %s: %s%s%s\n", gets_(f, "id") ?: "-", gets_(f, "class") ?: "-",
				gets_(f, "url") ?: "-", gets_(f, "local") ?: "-", gets_(f, "detail") ?: "",
				where[0] ? " — " : "", where);
		}
	}
	return ferror(out) ? -1 : 0;
}

int report_markdown(FILE *out, const struct report_run *runs, size_t n)
{
	char verdict[2048];
	report_verdict_all(runs, n, verdict, sizeof verdict);
	fprintf(out, "## tunnelprobe report\n\n**");
	md_cell(out, verdict);
	fprintf(out, "**\n\n| metric |");
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
			fprintf(out, "- %s ", json_is_true(json_object_get(e, "pass")) ? "pass" : "**FAIL**");
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
		size_t tests = json_array_size(targets) + json_array_size(expects), failures = 0;
		size_t i;
		json_t *t;
		json_array_foreach(targets, i, t)
			failures += geti(t, "requests") != geti(t, "ok");
		json_array_foreach(expects, i, t)
			failures += !json_is_true(json_object_get(t, "pass"));
		fprintf(out, "  <testsuite name=\"");
		report_escape(out, runs[r].label);
		fprintf(out, "\" tests=\"%zu\" failures=\"%zu\">\n", tests, failures);
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
			if (json_is_true(json_object_get(t, "pass")))
				fprintf(out, "\"/>\n");
			else
				fprintf(out, "\">\n      <failure message=\"expectation not met\"/>\n    </testcase>\n");
		}
		fprintf(out, "  </testsuite>\n");
	}
	fprintf(out, "</testsuites>\n");
	return ferror(out) ? -1 : 0;
}
