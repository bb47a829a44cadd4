/* text — verdict sentences, the Markdown summary and JUnit XML (see report.h). */
#include <stdio.h>
#include <string.h>

#include "reports/report.h"

static json_int_t geti(json_t *o, const char *k) { return json_integer_value(json_object_get(o, k)); }

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

/* Where failures of a class happened: the joined verdicts when present, else the most
 * common phase of the failure samples. */
static void where_of(json_t *doc, const char *cls, char *out, size_t cap)
{
	out[0] = '\0';
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(doc, "failures"), i, f) {
		const char *c = json_string_value(json_object_get(f, "class"));
		if (!c || strcmp(c, cls) != 0)
			continue;
		const char *v = json_string_value(json_object_get(f, "verdict"));
		if (v) {
			snprintf(out, cap, "%s", v);
			return;
		}
		if (!out[0]) {
			const char *ph = json_string_value(json_object_get(f, "phase"));
			if (ph)
				snprintf(out, cap, "in phase %s", ph);
		}
	}
}

void report_verdict(const struct report_run *run, char *out, size_t cap)
{
	json_t *doc = run->doc;
	json_int_t req = geti(doc, "requests"), ok = geti(doc, "ok");
	const char *worst = NULL;
	json_int_t worst_n = 0;
	const char *key;
	json_t *v;
	json_object_foreach(json_object_get(doc, "classes"), key, v) {
		if (strcmp(key, "ok") != 0 && json_integer_value(v) > worst_n) {
			worst = key;
			worst_n = json_integer_value(v);
		}
	}
	if (!worst) {
		snprintf(out, cap, "%s: %lld/%lld ok", run->label, (long long)ok, (long long)req);
		return;
	}
	char where[200];
	where_of(doc, worst, where, sizeof where);
	snprintf(out, cap, "%s: %lld/%lld %s%s%s%s", run->label, (long long)worst_n, (long long)req, worst,
		 where[0] ? " " : "", where, req - ok > worst_n ? " (and other failures)" : "");
}

static double latency(json_t *doc, const char *k)
{
	return json_number_value(json_object_get(json_object_get(doc, "latency_ms"), k));
}

int report_markdown(FILE *out, const struct report_run *runs, size_t n)
{
	fprintf(out, "## tunnelprobe report\n\n");
	for (size_t i = 0; i < n; i++) {
		char v[400];
		report_verdict(&runs[i], v, sizeof v);
		fprintf(out, "- %s\n", v);
	}
	fprintf(out, "\n| metric |");
	for (size_t i = 0; i < n; i++)
		fprintf(out, " %s |", runs[i].label);
	fprintf(out, "\n|---|");
	for (size_t i = 0; i < n; i++)
		fprintf(out, "---:|");
	fprintf(out, "\n");
	const char *ints[] = {"requests", "ok", "failed"};
	for (size_t k = 0; k < 3; k++) {
		fprintf(out, "| %s |", ints[k]);
		for (size_t i = 0; i < n; i++)
			fprintf(out, " %lld |", (long long)geti(runs[i].doc, ints[k]));
		fprintf(out, "\n");
	}
	const char *lats[] = {"p50", "p90", "p99", "p999", "max"};
	for (size_t k = 0; k < 5; k++) {
		fprintf(out, "| %s ms |", lats[k]);
		for (size_t i = 0; i < n; i++)
			fprintf(out, " %.2f |", latency(runs[i].doc, lats[k]));
		fprintf(out, "\n");
	}
	fprintf(out, "| reuse ratio |");
	for (size_t i = 0; i < n; i++)
		fprintf(out, " %.3f |", json_number_value(json_object_get(
						  json_object_get(runs[i].doc, "connections"), "reuse_ratio")));
	fprintf(out, "\n");
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
			fprintf(out, "    <testcase classname=\"target\" name=\"");
			report_escape(out, json_string_value(json_object_get(t, "url")));
			json_int_t req = geti(t, "requests"), ok = geti(t, "ok");
			if (req == ok) {
				fprintf(out, "\"/>\n");
				continue;
			}
			fprintf(out, "\">\n      <failure message=\"%lld of %lld requests failed\">", (long long)(req - ok),
				(long long)req);
			const char *key;
			json_t *v;
			json_object_foreach(json_object_get(t, "classes"), key, v)
				if (strcmp(key, "ok") != 0)
					fprintf(out, "%s: %lld\n", key, (long long)json_integer_value(v));
			fprintf(out, "</failure>\n    </testcase>\n");
		}
		json_array_foreach(expects, i, t) {
			fprintf(out, "    <testcase classname=\"expectation\" name=\"");
			report_escape(out, json_string_value(json_object_get(t, "expect")));
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
