/* checks — see checks.h. */
#include "ci/checks.h"

#include <string.h>

static double num(json_t *o, const char *key, bool *found)
{
	json_t *v = o ? json_object_get(o, key) : NULL;
	if (!json_is_number(v)) {
		*found = false;
		return 0;
	}
	return json_number_value(v);
}

/* Failures of a class in a phase, counted from the run's failure samples. */
static double phase_count(json_t *run, const char *cls, const char *phase)
{
	double n = 0;
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(run, "failures"), i, f) {
		const char *c = json_string_value(json_object_get(f, "class"));
		const char *p = json_string_value(json_object_get(f, "phase"));
		if (c && p && strcmp(c, cls) == 0 && strcmp(p, phase) == 0)
			n++;
	}
	return n;
}

size_t checks_run(const struct scenario *scn, json_t *run, json_t *baseline, json_t *verdicts,
		    long rss_growth_kib, long fd_growth, struct check_result *results)
{
	size_t failed = 0;
	for (size_t i = 0; i < scn->nexpects; i++) {
		const struct scn_expect *e = &scn->expects[i];
		struct check_result *r = &results[i];
		memset(r, 0, sizeof *r);
		r->e = e;
		bool found = true;
		double got = 0;
		char what[160];
		switch (e->kind) {
		case SCN_EXPECT_CLASS:
			got = num(json_object_get(run, "classes"), e->name, &found);
			if (!found) /* a class that never happened is absent: zero */
				got = 0, found = true;
			snprintf(what, sizeof what, "class %s", e->name);
			break;
		case SCN_EXPECT_OK:
			got = num(run, "ok", &found);
			snprintf(what, sizeof what, "ok");
			break;
		case SCN_EXPECT_REQUESTS:
			got = num(run, "requests", &found);
			snprintf(what, sizeof what, "requests");
			break;
		case SCN_EXPECT_ERROR_RATE: {
			double req = num(run, "requests", &found), ok = num(run, "ok", &found);
			got = req > 0 ? (req - ok) / req : 0;
			snprintf(what, sizeof what, "error_rate");
			break;
		}
		case SCN_EXPECT_LATENCY:
			got = num(json_object_get(run, "latency_ms"), e->name, &found);
			snprintf(what, sizeof what, "%s_ms", e->name);
			break;
		case SCN_EXPECT_REUSE:
			got = num(json_object_get(run, "connections"), "reuse_ratio", &found);
			snprintf(what, sizeof what, "reuse_ratio");
			break;
		case SCN_EXPECT_STATUS:
			got = num(json_object_get(run, "status_codes"), e->name, &found);
			if (!found)
				got = 0, found = true;
			snprintf(what, sizeof what, "status %s", e->name);
			break;
		case SCN_EXPECT_PHASE:
			got = phase_count(run, e->name, e->name2);
			snprintf(what, sizeof what, "phase %s %s", e->name, e->name2);
			break;
		case SCN_EXPECT_VERDICT: {
			size_t j;
			json_t *v;
			got = 0;
			json_array_foreach(verdicts, j, v) {
				const char *s = json_string_value(v);
				if (s && strstr(s, e->text))
					got++;
			}
			found = verdicts != NULL;
			r->pass = found && got > 0;
			r->unknown = !found;
			snprintf(r->text, sizeof r->text, "verdict \"%s\": %s", e->text,
				 !found ? "no verdicts (no ledgers joined)"
				 : got > 0 ? "found" : "not found");
			r->got = got;
			if (!r->pass)
				failed++;
			continue;
		}
		case SCN_EXPECT_RSS_GROWTH:
			found = rss_growth_kib >= 0;
			got = (double)rss_growth_kib / 1024.0;
			snprintf(what, sizeof what, "rss_growth_mb");
			break;
		case SCN_EXPECT_FD_GROWTH:
			found = fd_growth >= 0;
			got = (double)fd_growth;
			snprintf(what, sizeof what, "fd_growth");
			break;
		case SCN_EXPECT_NEW_CLASS: {
			found = baseline != NULL;
			got = 0;
			char names[160] = "";
			const char *key;
			json_t *v;
			json_object_foreach(json_object_get(run, "classes"), key, v) {
				if (strcmp(key, "ok") == 0 || !json_integer_value(v))
					continue;
				if (baseline && !json_object_get(json_object_get(baseline, "classes"), key)) {
					got++;
					size_t l = strlen(names);
					snprintf(names + l, sizeof names - l, "%s%s", l ? "," : "", key);
				}
			}
			/* The first run of a series has nothing to compare with: not a failure. */
			r->pass = !found || got == 0;
			r->unknown = !found;
			r->got = got;
			snprintf(r->text, sizeof r->text, "no_new_class: %s",
				 !found ? "no baseline yet (skipped)" : got ? names : "none");
			if (!r->pass)
				failed++;
			continue;
		}
		case SCN_EXPECT_P99_REGRESSION: {
			bool f2 = true;
			double now = num(json_object_get(run, "latency_ms"), "p99", &found);
			double base = num(json_object_get(baseline, "latency_ms"), "p99", &f2);
			if (!baseline) {
				r->pass = true;
				r->unknown = true;
				snprintf(r->text, sizeof r->text, "p99_regression_pct: no baseline yet (skipped)");
				continue;
			}
			found = found && f2 && base > 0;
			got = found ? (now - base) / base * 100.0 : 0;
			snprintf(what, sizeof what, "p99_regression_pct");
			break;
		}
		}
		r->got = got;
		r->unknown = !found;
		r->pass = found && scn_compare(got, e->cmp, e->value);
		snprintf(r->text, sizeof r->text, "%s %s %g: %s%g", what, scn_cmp_name(e->cmp), e->value,
			 found ? "got " : "unknown", found ? got : 0.0);
		if (!r->pass)
			failed++;
	}
	return failed;
}

json_t *checks_json(const struct check_result *results, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s,s:b,s:f,s:i}", "expect", results[i].text,
						   "pass", results[i].pass, "got", results[i].got,
						   "line", (int)results[i].e->line));
	return a;
}
