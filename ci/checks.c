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

/* The evidence sources (bit per enum tp_source) a verdict object's facts came from. */
static uint32_t verdict_sources(json_t *v)
{
	uint32_t got = 0;
	size_t i;
	json_t *fact;
	json_array_foreach(json_object_get(v, "evidence"), i, fact) {
		const char *name = json_string_value(json_object_get(fact, "source"));
		for (int s = 0; name && s < TP_SRC_COUNT; s++)
			if (strcmp(name, tp_verdict_source_name((enum tp_source)s)) == 0)
				got |= 1u << s;
	}
	return got;
}

/* Verdicts whose code is one of codes (bit per enum tp_verdict_code) and whose facts
 * came from every source of sources. A verdict without a code we know (a bare
 * sentence) matches nothing: sentences are never read. */
static double verdict_count(json_t *verdicts, uint32_t codes, uint32_t sources)
{
	double n = 0;
	size_t i;
	json_t *v;
	json_array_foreach(verdicts, i, v) {
		int code = tp_verdict_json_code(v);
		if (code >= 0 && (codes & (1u << code)) && (verdict_sources(v) & sources) == sources)
			n++;
	}
	return n;
}

/* The expectation as written, without its bound: "class incomplete_read",
 * "phase_p99_ms tls", "verdict truncated at proxy". */
static void expect_what(const struct scn_expect *e, char *out, size_t cap)
{
	switch (e->kind) {
	case SCN_EXPECT_CLASS: snprintf(out, cap, "class %s", e->name); break;
	case SCN_EXPECT_STATUS: snprintf(out, cap, "status %s", e->name); break;
	case SCN_EXPECT_PHASE: snprintf(out, cap, "phase %s %s", e->name, e->name2); break;
	case SCN_EXPECT_LATENCY: snprintf(out, cap, "%s_ms", e->name); break;
	case SCN_EXPECT_PHASE_LATENCY: snprintf(out, cap, "phase_%s_ms %s", e->name, e->name2); break;
	case SCN_EXPECT_VERDICT: snprintf(out, cap, "verdict %s", e->text); break;
	case SCN_EXPECT_OK: snprintf(out, cap, "ok"); break;
	case SCN_EXPECT_REQUESTS: snprintf(out, cap, "requests"); break;
	case SCN_EXPECT_ERROR_RATE: snprintf(out, cap, "error_rate"); break;
	case SCN_EXPECT_REUSE: snprintf(out, cap, "reuse_ratio"); break;
	case SCN_EXPECT_RSS_GROWTH: snprintf(out, cap, "rss_growth_mb"); break;
	case SCN_EXPECT_FD_GROWTH: snprintf(out, cap, "fd_growth"); break;
	case SCN_EXPECT_RSS_GROWTH_PCT: snprintf(out, cap, "rss_growth_pct"); break;
	case SCN_EXPECT_FD_GROWTH_PCT: snprintf(out, cap, "fd_growth_pct"); break;
	case SCN_EXPECT_NEW_CLASS: snprintf(out, cap, "no_new_class"); break;
	case SCN_EXPECT_P99_REGRESSION: snprintf(out, cap, "p99_regression_pct"); break;
	case SCN_EXPECT_MISSED: snprintf(out, cap, "missed"); break;
	case SCN_EXPECT_VERIFIED: snprintf(out, cap, "verified"); break;
	case SCN_EXPECT_UNVERIFIED: snprintf(out, cap, "unverified"); break;
	case SCN_EXPECT_ACCOUNTED: snprintf(out, cap, "accounted"); break;
	}
}

void checks_expect_line(const struct scn_expect *e, char *out, size_t cap)
{
	char what[SCN_MAX_TEXT + 16];
	expect_what(e, what, sizeof what);
	if (e->kind == SCN_EXPECT_VERDICT || e->kind == SCN_EXPECT_NEW_CLASS)
		snprintf(out, cap, "%s", what);
	else
		snprintf(out, cap, "%s %s %g", what, scn_cmp_name(e->cmp), e->value);
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

/* "LINE: skipped (why)". */
static void skip(struct check_result *r, const char *why)
{
	char line[SCN_MAX_TEXT + 64];
	checks_expect_line(r->e, line, sizeof line);
	set(r, CHECK_SKIP, true, 0, "%.200s: skipped (%s)", line, why);
}

/* A measured value against the expectation's bound; fails when it was not measured. */
static void compare(struct check_result *r, bool found, double got)
{
	char line[SCN_MAX_TEXT + 64];
	checks_expect_line(r->e, line, sizeof line);
	if (!found) {
		set(r, CHECK_FAIL, true, 0, "%.240s: unknown", line);
		return;
	}
	set(r, scn_compare(got, r->e->cmp, r->e->value) ? CHECK_PASS : CHECK_FAIL, false, got, "%.240s: got %g",
	    line, got);
}

/* Why an expectation of group g is not checked against this proxy; NULL: it is. */
static const char *group_skip(enum scn_group g, const struct checks_proxy *proxy)
{
	bool started = proxy && proxy->started, user = proxy && proxy->user;
	if (g == SCN_GROUP_REFERENCE && !started)
		return user ? "reproduces a fault of the reference proxy; the proxy here is yours"
			    : "reproduces a fault of the reference proxy, which this run did not start";
	if (g == SCN_GROUP_USER && !user)
		return started ? "for a proxy of yours; this run started the reference proxy"
			       : "for a proxy of yours; this run went direct";
	return NULL;
}

/* A growth limit on the proxy run started: skipped when it started none. */
static void growth(struct check_result *r, const struct checks_proxy *proxy, bool sampled, double got)
{
	char line[SCN_MAX_TEXT + 64];
	if (!proxy || !proxy->started) {
		skip(r, "not measured: proxy not started by run");
	} else if (!sampled) {
		checks_expect_line(r->e, line, sizeof line);
		set(r, CHECK_FAIL, true, 0, "%s: unknown (the proxy was not sampled %s)", line,
		    r->e->kind == SCN_EXPECT_RSS_GROWTH_PCT || r->e->kind == SCN_EXPECT_FD_GROWTH_PCT
			    ? "twice under load: a soak of two segments or more" : "");
	} else {
		compare(r, true, got);
	}
}

static void new_class(struct check_result *r, json_t *run, json_t *baseline)
{
	if (!baseline) {
		skip(r, "no baseline");
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
	if (!baseline) {
		skip(r, "no baseline");
		return;
	}
	bool found = true;
	double now = num(json_object_get(run, "latency_ms"), "p99", &found);
	double base = num(json_object_get(baseline, "latency_ms"), "p99", &found);
	found = found && base > 0;
	compare(r, found, found ? (now - base) / base * 100.0 : 0);
}

static void verdict(struct check_result *r, json_t *verdicts)
{
	const struct scn_expect *e = r->e;
	if (!json_is_array(verdicts)) {
		set(r, CHECK_FAIL, true, 0, "verdict %s: no verdicts (no ledgers joined)", e->text);
		return;
	}
	double got = verdict_count(verdicts, e->codes, e->sources);
	set(r, got > 0 ? CHECK_PASS : CHECK_FAIL, false, got, "verdict %s: %s", e->text, got > 0 ? "found" : "not found");
}

static void accounted(struct check_result *r, const struct account *a, const struct checks_proxy *proxy)
{
	char text[256], line[SCN_MAX_TEXT + 64];
	checks_expect_line(r->e, line, sizeof line);
	if (!a) {
		set(r, CHECK_FAIL, true, 0, "%s: unknown (the ledgers were not read)", line);
		return;
	}
	account_text(a, text, sizeof text);
	if (!a->known) {
		set(r, CHECK_FAIL, true, 0, "%s: %s", line, text);
		return;
	}
	double got = account_ok(a) ? 1 : 0;
	set(r, scn_compare(got, r->e->cmp, r->e->value) ? CHECK_PASS : CHECK_FAIL, false, got, "%s: got %g (%s%s)",
	    line, got, text, proxy && proxy->started ? "" : "; proxy ledger: none, proxy not started by run");
}

/* The value a "KIND OP VALUE" expectation reads from the run. */
static double run_value(const struct scn_expect *e, json_t *run, bool *found)
{
	switch (e->kind) {
	case SCN_EXPECT_CLASS: /* a class or status that never happened is absent: zero */
		return num(json_object_get(run, "classes"), e->name, &(bool){true});
	case SCN_EXPECT_STATUS:
		return num(json_object_get(run, "status_codes"), e->name, &(bool){true});
	case SCN_EXPECT_PHASE:
		return phase_count(run, e->name, e->name2);
	case SCN_EXPECT_OK: return num(run, "ok", found);
	case SCN_EXPECT_REQUESTS: return num(run, "requests", found);
	case SCN_EXPECT_ERROR_RATE: {
		double req = num(run, "requests", found), ok = num(run, "ok", found);
		return req > 0 ? (req - ok) / req : 0;
	}
	case SCN_EXPECT_LATENCY: return num(json_object_get(run, "latency_ms"), e->name, found);
	case SCN_EXPECT_PHASE_LATENCY:
		return num(json_object_get(json_object_get(run, "phases_ms"), e->name2), e->name, found);
	case SCN_EXPECT_REUSE: return num(json_object_get(run, "connections"), "reuse_ratio", found);
	case SCN_EXPECT_MISSED: return num(json_object_get(run, "open_loop"), "missed", found);
	case SCN_EXPECT_VERIFIED: return num(run, "verified", found);
	case SCN_EXPECT_UNVERIFIED: return num(run, "unverified", found);
	default: *found = false; return 0;
	}
}

static void check_one(struct check_result *r, const struct checks_in *in)
{
	const struct scn_expect *e = r->e;
	const struct checks_proxy *px = in->proxy;
	const char *why = group_skip(e->group, px);
	if (why) {
		skip(r, why);
		return;
	}
	switch (e->kind) {
	case SCN_EXPECT_VERDICT:
		/* Facts of the proxy's ledger exist only when run started the proxy. */
		if ((e->sources & (1u << TP_SRC_PROXY_LEDGER)) && !(px && px->started))
			skip(r, "not measured: proxy not started by run, so no proxy ledger");
		else
			verdict(r, in->verdicts);
		break;
	case SCN_EXPECT_RSS_GROWTH:
		growth(r, px, px && px->rss_growth_kib >= 0, px ? (double)px->rss_growth_kib / 1024.0 : 0);
		break;
	case SCN_EXPECT_FD_GROWTH: growth(r, px, px && px->fd_growth >= 0, px ? (double)px->fd_growth : 0); break;
	case SCN_EXPECT_RSS_GROWTH_PCT: growth(r, px, px && px->pct_known, px ? px->rss_growth_pct : 0); break;
	case SCN_EXPECT_FD_GROWTH_PCT: growth(r, px, px && px->pct_known, px ? px->fd_growth_pct : 0); break;
	case SCN_EXPECT_NEW_CLASS: new_class(r, in->run, in->baseline); break;
	case SCN_EXPECT_P99_REGRESSION: p99_regression(r, in->run, in->baseline); break;
	case SCN_EXPECT_ACCOUNTED: accounted(r, in->accounted, px); break;
	default: {
		bool found = true;
		double got = run_value(e, in->run, &found);
		compare(r, found, got);
	}
	}
}

size_t checks_run(const struct scenario *scn, const struct checks_in *in, struct check_result *results)
{
	size_t failed = 0;
	for (size_t i = 0; i < scn->nexpects; i++) {
		struct check_result *r = &results[i];
		memset(r, 0, sizeof *r);
		r->e = &scn->expects[i];
		check_one(r, in);
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
		json_t *o = json_pack("{s:s,s:s,s:b,s:o,s:i}", "expect", r->text, "result", checks_outcome_name(r->result),
				      "pass", r->result != CHECK_FAIL, "got", r->unknown ? json_null() : json_real(r->got),
				      "line", (int)r->e->line);
		if (o && r->e->group != SCN_GROUP_ALWAYS)
			json_object_set_new(o, "group",
					    json_string(r->e->group == SCN_GROUP_REFERENCE ? "reference" : "user"));
		json_array_append_new(a, o);
	}
	return a;
}
