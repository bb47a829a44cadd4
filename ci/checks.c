/* checks — see checks.h. */
#include "ci/checks.h"

#include <stdarg.h>
#include <string.h>

#include "lib/verdict.h"

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

/* Verdicts whose code is one of codes (bit per enum tp_verdict_code). A verdict without
 * a code we know (a bare sentence) matches nothing: sentences are never read. */
static double verdict_count(json_t *verdicts, uint32_t codes)
{
	double n = 0;
	size_t i;
	json_t *v;
	json_array_foreach(verdicts, i, v) {
		int code = tp_verdict_json_code(v);
		if (code >= 0 && (codes & (1u << code)))
			n++;
	}
	return n;
}

static void set(struct check_result *r, enum check_outcome res, bool unknown, double got,
		const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void set(struct check_result *r, enum check_outcome res, bool unknown, double got,
		const char *fmt, ...)
{
	va_list ap;
	r->result = res;
	r->unknown = unknown;
	r->got = unknown ? 0 : got;
	va_start(ap, fmt);
	vsnprintf(r->text, sizeof r->text, fmt, ap);
	va_end(ap);
}

/* A measured value against the expectation's bound; fails when it was not measured. */
static void compare(struct check_result *r, const char *what, bool found, double got)
{
	const struct scn_expect *e = r->e;
	if (!found) {
		set(r, CHECK_FAIL, true, 0, "%s %s %g: unknown", what, scn_cmp_name(e->cmp), e->value);
		return;
	}
	set(r, scn_compare(got, e->cmp, e->value) ? CHECK_PASS : CHECK_FAIL, false, got, "%s %s %g: got %g",
	    what, scn_cmp_name(e->cmp), e->value, got);
}

/* A growth limit on the proxy run started: skipped when it started none. */
static void growth(struct check_result *r, const char *what, const struct checks_proxy *proxy,
		   bool sampled, double got)
{
	const struct scn_expect *e = r->e;
	if (!proxy || !proxy->started)
		set(r, CHECK_SKIP, true, 0, "%s %s %g: skipped (not measured: proxy not started by run)",
		    what, scn_cmp_name(e->cmp), e->value);
	else if (!sampled)
		set(r, CHECK_FAIL, true, 0, "%s %s %g: unknown (the proxy was never sampled)", what,
		    scn_cmp_name(e->cmp), e->value);
	else
		compare(r, what, true, got);
}

static void new_class(struct check_result *r, json_t *run, json_t *baseline)
{
	if (!baseline) {
		set(r, CHECK_SKIP, true, 0, "no_new_class: skipped (no baseline)");
		return;
	}
	json_t *before = json_object_get(baseline, "classes");
	if (!json_is_object(before)) {
		set(r, CHECK_FAIL, true, 0, "no_new_class: unknown (the baseline has no classes)");
		return;
	}
	double got = 0;
	char names[160] = "";
	const char *key;
	json_t *v;
	json_object_foreach(json_object_get(run, "classes"), key, v) {
		if (strcmp(key, "ok") == 0 || !json_integer_value(v))
			continue;
		json_int_t had = json_integer_value(json_object_get(before, key));
		if (had > 0)
			continue;
		got++;
		size_t l = strlen(names);
		snprintf(names + l, sizeof names - l, "%s%s", l ? "," : "", key);
	}
	set(r, got ? CHECK_FAIL : CHECK_PASS, false, got, "no_new_class: %s", got ? names : "none");
}

static void p99_regression(struct check_result *r, json_t *run, json_t *baseline)
{
	const struct scn_expect *e = r->e;
	if (!baseline) {
		set(r, CHECK_SKIP, true, 0, "p99_regression_pct %s %g: skipped (no baseline)",
		    scn_cmp_name(e->cmp), e->value);
		return;
	}
	bool found = true;
	double now = num(json_object_get(run, "latency_ms"), "p99", &found);
	double base = num(json_object_get(baseline, "latency_ms"), "p99", &found);
	found = found && base > 0;
	compare(r, "p99_regression_pct", found, found ? (now - base) / base * 100.0 : 0);
}

size_t checks_run(const struct scenario *scn, json_t *run, json_t *baseline, json_t *verdicts,
		  const struct checks_proxy *proxy, struct check_result *results)
{
	size_t failed = 0;
	for (size_t i = 0; i < scn->nexpects; i++) {
		const struct scn_expect *e = &scn->expects[i];
		struct check_result *r = &results[i];
		memset(r, 0, sizeof *r);
		r->e = e;
		bool found = true;
		char what[160];
		switch (e->kind) {
		case SCN_EXPECT_CLASS: {
			/* a class that never happened is absent: zero */
			double got = num(json_object_get(run, "classes"), e->name, &found);
			snprintf(what, sizeof what, "class %s", e->name);
			compare(r, what, true, got);
			break;
		}
		case SCN_EXPECT_OK: {
			double got = num(run, "ok", &found);
			compare(r, "ok", found, got);
			break;
		}
		case SCN_EXPECT_REQUESTS: {
			double got = num(run, "requests", &found);
			compare(r, "requests", found, got);
			break;
		}
		case SCN_EXPECT_ERROR_RATE: {
			double req = num(run, "requests", &found), ok = num(run, "ok", &found);
			compare(r, "error_rate", found, req > 0 ? (req - ok) / req : 0);
			break;
		}
		case SCN_EXPECT_LATENCY: {
			double got = num(json_object_get(run, "latency_ms"), e->name, &found);
			snprintf(what, sizeof what, "%s_ms", e->name);
			compare(r, what, found, got);
			break;
		}
		case SCN_EXPECT_REUSE: {
			double got = num(json_object_get(run, "connections"), "reuse_ratio", &found);
			compare(r, "reuse_ratio", found, got);
			break;
		}
		case SCN_EXPECT_STATUS: {
			double got = num(json_object_get(run, "status_codes"), e->name, &found);
			snprintf(what, sizeof what, "status %s", e->name);
			compare(r, what, true, got);
			break;
		}
		case SCN_EXPECT_PHASE:
			snprintf(what, sizeof what, "phase %s %s", e->name, e->name2);
			compare(r, what, true, phase_count(run, e->name, e->name2));
			break;
		case SCN_EXPECT_VERDICT: {
			if (!json_is_array(verdicts)) {
				set(r, CHECK_FAIL, true, 0, "verdict %s: no verdicts (no ledgers joined)", e->text);
				break;
			}
			double got = verdict_count(verdicts, e->codes);
			set(r, got > 0 ? CHECK_PASS : CHECK_FAIL, false, got, "verdict %s: %s", e->text,
			    got > 0 ? "found" : "not found");
			break;
		}
		case SCN_EXPECT_RSS_GROWTH:
			growth(r, "rss_growth_mb", proxy, proxy && proxy->rss_growth_kib >= 0,
			       proxy ? (double)proxy->rss_growth_kib / 1024.0 : 0);
			break;
		case SCN_EXPECT_FD_GROWTH:
			growth(r, "fd_growth", proxy, proxy && proxy->fd_growth >= 0,
			       proxy ? (double)proxy->fd_growth : 0);
			break;
		case SCN_EXPECT_NEW_CLASS:
			new_class(r, run, baseline);
			break;
		case SCN_EXPECT_P99_REGRESSION:
			p99_regression(r, run, baseline);
			break;
		}
		if (r->result == CHECK_FAIL)
			failed++;
	}
	return failed;
}

const char *checks_outcome_name(enum check_outcome r)
{
	return r == CHECK_PASS ? "pass" : r == CHECK_SKIP ? "skip" : "fail";
}

json_t *checks_json(const struct check_result *results, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++) {
		const struct check_result *r = &results[i];
		json_array_append_new(a, json_pack("{s:s,s:s,s:b,s:o,s:i}", "expect", r->text, "result",
						   checks_outcome_name(r->result), "pass",
						   r->result != CHECK_FAIL, "got",
						   r->unknown ? json_null() : json_real(r->got), "line",
						   (int)r->e->line));
	}
	return a;
}
