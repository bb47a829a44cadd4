/* scenario — see scenario.h and docs/scenarios.md. */
#include "ci/scenario.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/ledger.h"
#include "lib/textfile.h"
#include "lib/units.h"
#include "lib/verdict.h"

#define MAX_LINE 1024
#define MAX_WORDS 64

enum section { SEC_TOP, SEC_ORIGIN, SEC_PROXY, SEC_PROBE, SEC_EXPECT };

struct parser {
	struct scenario *scn;
	const char *name;
	unsigned line;
	enum section sec;
	enum scn_group group; /* of the `expect` section we are in */
	char *err;
	size_t errlen;
	bool seen_scenario;
};

static int perr(struct parser *p, const char *fmt, ...)
{
	int n = snprintf(p->err, p->errlen, "%s:%u: ", p->name, p->line);
	if (n < 0 || (size_t)n >= p->errlen)
		return -EINVAL;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

const char *scn_cmp_name(enum scn_cmp cmp)
{
	return cmp == SCN_LE ? "<=" : cmp == SCN_GE ? ">=" : "==";
}

bool scn_compare(double got, enum scn_cmp cmp, double want)
{
	switch (cmp) {
	case SCN_LE: return got <= want;
	case SCN_GE: return got >= want;
	default: return fabs(got - want) < 1e-9;
	}
}

double scn_duration(const char *s, double max)
{
	double d = units_duration(s);
	return d > 0 && d <= max ? d : -1;
}

bool scn_has_group(const struct scenario *scn, enum scn_group g)
{
	for (size_t i = 0; i < scn->nexpects; i++)
		if (scn->expects[i].group == g)
			return true;
	return false;
}

int scn_scheme_quic(const char *scheme)
{
	static const char *const tcp[] = {"http", "socks5", "socks5h"};
	static const char *const quic[] = {"quic", "socks5+quic", "socks5h+quic"};
	for (size_t i = 0; i < 3; i++) {
		if (strcmp(scheme, tcp[i]) == 0)
			return 0;
		if (strcmp(scheme, quic[i]) == 0)
			return 1;
	}
	return -1;
}

static bool parse_number(const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v))
		return false;
	*out = v;
	return true;
}

static int copy_text(struct parser *p, char *dst, const char *src, const char *what)
{
	size_t n = strlen(src);
	if (n == 0)
		return perr(p, "%s needs a value", what);
	if (n >= SCN_MAX_TEXT)
		return perr(p, "%s is longer than %d bytes", what, SCN_MAX_TEXT - 1);
	memcpy(dst, src, n + 1);
	return 0;
}

static int add_text(struct parser *p, char list[][SCN_MAX_TEXT], size_t *n, size_t cap,
		    const char *src, const char *what)
{
	if (*n == cap)
		return perr(p, "too many %s lines (at most %zu)", what, cap);
	int rc = copy_text(p, list[*n], src, what);
	if (rc == 0)
		(*n)++;
	return rc;
}

static int parse_cmp(struct parser *p, const char *s, enum scn_cmp *cmp)
{
	if (strcmp(s, "<=") == 0)
		*cmp = SCN_LE;
	else if (strcmp(s, ">=") == 0)
		*cmp = SCN_GE;
	else if (strcmp(s, "==") == 0 || strcmp(s, "=") == 0)
		*cmp = SCN_EQ;
	else
		return perr(p, "expected <=, >= or ==, got '%s'", s);
	return 0;
}

_Static_assert(TP_V_COUNT <= 32, "verdict code sets are 32-bit masks");
#define CODE(c) (1u << (c))

/* `verdict PHRASE`: the phrases a scenario may write for a set of verdict codes. This
 * table is the contract docs/scenarios.md lists; a phrase is matched whole, ignoring
 * case and runs of spaces, with "→" written "->" if one likes. */
static const struct {
	const char *phrase;
	uint32_t codes;
} verdict_phrases[] = {
	{"truncated at proxy", CODE(TP_V_TRUNCATED_PROXY_CLIENT)},
	{"truncated at proxy->client", CODE(TP_V_TRUNCATED_PROXY_CLIENT)},
	{"truncated at origin", CODE(TP_V_TRUNCATED_ORIGIN_PROXY)},
	{"truncated at origin->proxy", CODE(TP_V_TRUNCATED_ORIGIN_PROXY)},
	{"reset by proxy", CODE(TP_V_RESET_BY_PROXY) | CODE(TP_V_RESET_UPSTREAM_BY_PROXY)},
	{"reset by origin", CODE(TP_V_RESET_BY_ORIGIN)},
	{"reset by client", CODE(TP_V_RESET_BY_CLIENT)},
	{"reset became fin", CODE(TP_V_RESET_BECAME_FIN)},
	{"closed early", CODE(TP_V_CLOSED_EARLY)},
	{"no fin", CODE(TP_V_NO_FIN)},
	{"fin withheld", CODE(TP_V_NO_FIN)},
	{"upload lost", CODE(TP_V_UPLOAD_LOST)},
	{"refused by proxy", CODE(TP_V_PROXY_REFUSED)},
	{"proxy->client", CODE(TP_V_TRUNCATED_PROXY_CLIENT) | CODE(TP_V_RESET_BY_PROXY) |
				  CODE(TP_V_CLOSED_EARLY) | CODE(TP_V_NO_FIN) | CODE(TP_V_RESET_BECAME_FIN)},
	/* Every code whose hop is the proxy. */
	{"at proxy", CODE(TP_V_TRUNCATED_PROXY_CLIENT) | CODE(TP_V_RESET_BY_PROXY) |
			     CODE(TP_V_CLOSED_EARLY) | CODE(TP_V_NO_FIN) | CODE(TP_V_RESET_UPSTREAM_BY_PROXY) |
			     CODE(TP_V_RESET_BECAME_FIN) | CODE(TP_V_UPLOAD_LOST) | CODE(TP_V_PROXY_REFUSED)},
	{"at origin", CODE(TP_V_TRUNCATED_ORIGIN_PROXY) | CODE(TP_V_RESET_BY_ORIGIN)},
	{"lost on the wire", CODE(TP_V_LOST_GAP) | CODE(TP_V_GAP)},
	{"client timeout", CODE(TP_V_CLIENT_TIMEOUT)},
	{"tls alert", CODE(TP_V_TLS_ALERT)},
	{"unlocated", CODE(TP_V_FAILED_UNLOCATED)},
};

/* The phrase in canonical form: lower case, single spaces, "→" as "->". */
static void canonical_phrase(const char *in, char *out, size_t cap)
{
	size_t n = 0;
	bool space = false;
	for (const char *c = in; *c && n + 3 < cap; c++) {
		if (*c == ' ' || *c == '\t') {
			space = n > 0;
			continue;
		}
		if (space)
			out[n++] = ' ';
		space = false;
		if (strncmp(c, "→", strlen("→")) == 0) {
			out[n++] = '-';
			out[n++] = '>';
			c += strlen("→") - 1;
		} else {
			out[n++] = *c >= 'A' && *c <= 'Z' ? (char)(*c - 'A' + 'a') : *c;
		}
	}
	out[n] = '\0';
}

/* "PHRASE from SOURCE[,SOURCE...]": the evidence sources (lib/verdict.h) a matching
 * verdict must have used, into e->sources; phrase is cut before " from ". */
static int verdict_sources(struct parser *p, struct scn_expect *e, char *phrase)
{
	char *from = strstr(phrase, " from ");
	if (!from)
		return 0;
	*from = '\0';
	char list[SCN_MAX_TEXT], *save = NULL;
	snprintf(list, sizeof list, "%s", from + 6);
	for (char *name = strtok_r(list, ", ", &save); name; name = strtok_r(NULL, ", ", &save)) {
		int src = -1;
		for (int i = 0; i < TP_SRC_COUNT && src < 0; i++)
			if (strcmp(name, tp_verdict_source_name((enum tp_source)i)) == 0)
				src = i;
		if (src < 0)
			return perr(p, "unknown evidence source '%s' (probe, origin_ledger, proxy_ledger, capture)",
				    name);
		e->sources |= 1u << src;
	}
	if (!e->sources)
		return perr(p, "'from' wants evidence sources: probe, origin_ledger, proxy_ledger, capture");
	return 0;
}

static int parse_verdict(struct parser *p, struct scn_expect *e)
{
	char phrase[SCN_MAX_TEXT];
	snprintf(phrase, sizeof phrase, "%s", e->text);
	int rc = verdict_sources(p, e, phrase);
	if (rc < 0)
		return rc;
	int code = tp_verdict_code_from_name(phrase);
	if (code == TP_V_OK)
		return perr(p, "'verdict ok' is never met: verdicts lists failed tunnels only (use ok == N)");
	if (code >= 0) {
		e->codes = CODE(code);
		return 0;
	}
	char want[SCN_MAX_TEXT];
	canonical_phrase(phrase, want, sizeof want);
	for (size_t i = 0; i < sizeof verdict_phrases / sizeof verdict_phrases[0]; i++)
		if (strcmp(want, verdict_phrases[i].phrase) == 0) {
			e->codes = verdict_phrases[i].codes;
			return 0;
		}
	return perr(p, "unknown verdict '%s' (a verdict code, docs/capture.md, or a phrase, "
		    "docs/scenarios.md)", phrase);
}

/* The expectation words of "KIND [NAME [NAME2]] OP VALUE" lines and how many names
 * each takes before OP (verdict and no_new_class have lines of their own). */
static const struct {
	const char *word;
	enum scn_expect_kind kind;
	int names;
} expect_words[] = {
	{"class", SCN_EXPECT_CLASS, 1},
	{"phase", SCN_EXPECT_PHASE, 2},
	{"status", SCN_EXPECT_STATUS, 1},
	{"ok", SCN_EXPECT_OK, 0},
	{"requests", SCN_EXPECT_REQUESTS, 0},
	{"error_rate", SCN_EXPECT_ERROR_RATE, 0},
	{"reuse_ratio", SCN_EXPECT_REUSE, 0},
	{"rss_growth_mb", SCN_EXPECT_RSS_GROWTH, 0},
	{"fd_growth", SCN_EXPECT_FD_GROWTH, 0},
	{"rss_growth_pct", SCN_EXPECT_RSS_GROWTH_PCT, 0},
	{"fd_growth_pct", SCN_EXPECT_FD_GROWTH_PCT, 0},
	{"p99_regression_pct", SCN_EXPECT_P99_REGRESSION, 0},
	{"missed", SCN_EXPECT_MISSED, 0},
	{"verified", SCN_EXPECT_VERIFIED, 0},
	{"unverified", SCN_EXPECT_UNVERIFIED, 0},
	{"accounted", SCN_EXPECT_ACCOUNTED, 0},
};

/* The percentile words of p99_ms and phase_p99_ms lines. */
static const char *const latency_fields[] = {"mean", "p50", "p90", "p99", "p999", "max"};
/* The phases of the run file's phases_ms (docs/run-json.md). */
static const char *const timed_phases[] = {"dns", "connect", "proxy", "tls", "first_byte"};

static bool in_list(const char *const *list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i], s) == 0)
			return true;
	return false;
}

/* "p99_ms" (prefix "") or "phase_p99_ms" (prefix "phase_"): the field ("p99") into out.
 * p999 is not kept per phase. */
static bool latency_word(const char *k, const char *prefix, char *out, size_t cap)
{
	size_t lp = strlen(prefix), lk = strlen(k);
	if (strncmp(k, prefix, lp) != 0 || lk < lp + 4 || strcmp(k + lk - 3, "_ms") != 0 || lk - lp - 3 >= cap)
		return false;
	snprintf(out, cap, "%.*s", (int)(lk - lp - 3), k + lp);
	if (lp && strcmp(out, "p999") == 0)
		return false;
	return in_list(latency_fields, sizeof latency_fields / sizeof latency_fields[0], out);
}

/* The kind of expectation word k (and its latency field into e->name); names before OP
 * into *names. Returns false when k is not one. */
static bool expect_kind(const char *k, struct scn_expect *e, int *names)
{
	for (size_t i = 0; i < sizeof expect_words / sizeof expect_words[0]; i++)
		if (strcmp(k, expect_words[i].word) == 0) {
			e->kind = expect_words[i].kind;
			*names = expect_words[i].names;
			return true;
		}
	if (latency_word(k, "", e->name, sizeof e->name)) {
		e->kind = SCN_EXPECT_LATENCY;
		*names = 0;
		return true;
	}
	if (latency_word(k, "phase_", e->name, sizeof e->name)) {
		e->kind = SCN_EXPECT_PHASE_LATENCY;
		*names = 1; /* the phase, kept in name2 */
		return true;
	}
	return false;
}

/* The names of a "KIND NAME [NAME2] OP VALUE" line checked and stored. */
static int expect_names(struct parser *p, struct scn_expect *e, char **w, int names)
{
	char *name = e->kind == SCN_EXPECT_PHASE_LATENCY ? e->name2 : e->name;
	if (names >= 1) {
		if (strlen(w[1]) >= sizeof e->name)
			return perr(p, "name too long");
		strcpy(name, w[1]);
	}
	if (names == 2) {
		if (strlen(w[2]) >= sizeof e->name2)
			return perr(p, "phase too long");
		strcpy(e->name2, w[2]);
	}
	if ((e->kind == SCN_EXPECT_CLASS || e->kind == SCN_EXPECT_PHASE) && tp_class_from_name(e->name) < 0)
		return perr(p, "unknown class '%s'", e->name);
	if (e->kind == SCN_EXPECT_PHASE && tp_phase_from_name(e->name2) < 0)
		return perr(p, "unknown phase '%s'", e->name2);
	if (e->kind == SCN_EXPECT_PHASE_LATENCY &&
	    !in_list(timed_phases, sizeof timed_phases / sizeof timed_phases[0], e->name2))
		return perr(p, "phases_ms has dns, connect, proxy, tls and first_byte, not '%s'", e->name2);
	if (e->kind == SCN_EXPECT_STATUS) {
		uint64_t code;
		if (!units_count(e->name, 999, &code) || code < 100)
			return perr(p, "bad status code '%s'", e->name);
	}
	return 0;
}

/* expect lines: "KIND [NAME [NAME2]] OP VALUE", or "verdict PHRASE|CODE", or
 * "no_new_class"; group: the `expect` section they are in. */
static int parse_expect(struct parser *p, char **w, int nw, const char *rest)
{
	struct scenario *scn = p->scn;
	if (scn->nexpects == SCN_MAX_LIST)
		return perr(p, "too many expectations (at most %d)", SCN_MAX_LIST);
	struct scn_expect *e = &scn->expects[scn->nexpects];
	memset(e, 0, sizeof *e);
	e->line = p->line;
	e->group = p->group;
	const char *k = w[0];
	int names = 0;
	if (strcmp(k, "verdict") == 0) {
		e->kind = SCN_EXPECT_VERDICT;
		int rc = copy_text(p, e->text, rest, "verdict");
		if (rc == 0)
			rc = parse_verdict(p, e);
		if (rc == 0)
			scn->nexpects++;
		return rc;
	}
	if (strcmp(k, "no_new_class") == 0) {
		if (nw != 1)
			return perr(p, "no_new_class takes no value");
		e->kind = SCN_EXPECT_NEW_CLASS;
		scn->nexpects++;
		return 0;
	}
	if (!expect_kind(k, e, &names))
		return perr(p, "unknown expectation '%s'", k);
	if (nw != 3 + names)
		return perr(p, "'%s' wants %s%sOP VALUE", k,
			    e->kind == SCN_EXPECT_PHASE_LATENCY ? "PHASE " : names ? "NAME " : "",
			    names > 1 ? "PHASE " : "");
	int rc = expect_names(p, e, w, names);
	if (rc == 0)
		rc = parse_cmp(p, w[1 + names], &e->cmp);
	if (rc < 0)
		return rc;
	if (!parse_number(w[2 + names], &e->value) || e->value < 0)
		return perr(p, "bad number '%s'", w[2 + names]);
	if (e->kind == SCN_EXPECT_ERROR_RATE && e->value > 1)
		return perr(p, "error_rate is a fraction from 0 to 1");
	if (e->kind == SCN_EXPECT_ACCOUNTED && e->value != 0 && e->value != 1)
		return perr(p, "accounted is 1 (every request found in the ledgers) or 0");
	scn->nexpects++;
	return 0;
}

static int on_off(struct parser *p, const char *s, bool *out)
{
	if (strcmp(s, "on") == 0 || strcmp(s, "yes") == 0)
		*out = true;
	else if (strcmp(s, "off") == 0 || strcmp(s, "no") == 0)
		*out = false;
	else
		return perr(p, "expected on or off, got '%s'", s);
	return 0;
}

/* A parse result for header_line: an error as it is, success as "handled". */
static int handled(int rc)
{
	return rc < 0 ? rc : 1;
}

/* Section headers and the lines that may stand anywhere. Returns 1 when the line was
 * one (handled), 0 when it is not, or -EINVAL. */
static int header_line(struct parser *p, char **w, int nw, const char *rest)
{
	struct scenario *scn = p->scn;
	const char *k = w[0];
	/* Section headers. */
	if (strcmp(k, "scenario") == 0) {
		if (nw != 2)
			return perr(p, "scenario wants one NAME (letters, digits, - and _)");
		for (const char *c = w[1]; *c; c++)
			if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			      (*c >= '0' && *c <= '9') || *c == '-' || *c == '_'))
				return perr(p, "scenario name '%s' has a character other than letters, "
					       "digits, - and _", w[1]);
		if (strlen(w[1]) >= sizeof scn->name)
			return perr(p, "scenario name too long");
		strcpy(scn->name, w[1]);
		p->seen_scenario = true;
		p->sec = SEC_TOP;
		return 1;
	}
	if (strcmp(k, "description") == 0 && p->sec == SEC_TOP)
		return handled(copy_text(p, scn->description, rest, "description"));
	if (strcmp(k, "origin") == 0) {
		if (nw != 1)
			return perr(p, "origin takes no value; its settings follow on their own lines");
		scn->origin = true;
		p->sec = SEC_ORIGIN;
		return 1;
	}
	if (strcmp(k, "proxy") == 0) {
		p->sec = SEC_PROXY;
		if (nw >= 2 && strcmp(w[1], "reference") == 0) {
			/* A last word "windows": the reference proxy's Windows build, under Wine. */
			scn->proxy_windows = nw >= 3 && strcmp(w[nw - 1], "windows") == 0;
			size_t nscheme = (size_t)nw - 2 - scn->proxy_windows;
			if (nscheme > 1)
				return perr(p, "proxy reference [SCHEME] [windows], SCHEME one of "
					    SCN_REFERENCE_SCHEMES);
			const char *scheme = nscheme ? w[2] : "http";
			int quic = scn_scheme_quic(scheme);
			if (quic < 0)
				return perr(p, "the reference proxy speaks " SCN_REFERENCE_SCHEMES ", not '%s'",
					    scheme);
			/* The QUIC listener is Linux only: the Windows build refuses --quic-listen. */
			if (quic && scn->proxy_windows)
				return perr(p, "'proxy reference %s windows': the Windows build has no QUIC listener",
					    scheme);
			scn->proxy_quic = quic;
			scn->proxy_reference = true;
			strcpy(scn->proxy_scheme, scheme);
			return 1;
		}
		if (nw == 3 && strcmp(w[1], "external") == 0) {
			scn->proxy_reference = scn->proxy_windows = scn->proxy_quic = false;
			return handled(copy_text(p, scn->proxy_url, w[2], "proxy URL"));
		}
		if (nw == 2 && strcmp(w[1], "none") == 0) {
			scn->proxy_reference = scn->proxy_windows = scn->proxy_quic = false;
			scn->proxy_url[0] = '\0';
			return 1;
		}
		return perr(p, "proxy wants 'reference [SCHEME] [windows]', 'external URL' or 'none'");
	}
	if (strcmp(k, "capture") == 0) {
		if (nw != 2)
			return perr(p, "capture on|off");
		p->sec = SEC_TOP;
		return handled(on_off(p, w[1], &scn->capture));
	}
	if (strcmp(k, "probe") == 0) {
		if (nw != 1)
			return perr(p, "probe takes no value; its settings follow on their own lines");
		p->sec = SEC_PROBE;
		return 1;
	}
	if (strcmp(k, "expect") == 0) {
		if (nw > 2)
			return perr(p, "expect [reference|user]; expectations follow on their own lines");
		if (nw == 1)
			p->group = SCN_GROUP_ALWAYS;
		else if (strcmp(w[1], "reference") == 0)
			p->group = SCN_GROUP_REFERENCE;
		else if (strcmp(w[1], "user") == 0)
			p->group = SCN_GROUP_USER;
		else
			return perr(p, "expect [reference|user], not 'expect %s'", w[1]);
		p->sec = SEC_EXPECT;
		return 1;
	}
	if (strcmp(k, "proxy_resolves_names") == 0) {
		if (nw != 1)
			return perr(p, "proxy_resolves_names takes no value");
		scn->proxy_resolves_names = true;
		return 1;
	}
	return 0;
}

/* A setting of the section we are in. */
static int section_line(struct parser *p, char **w, int nw, const char *rest)
{
	struct scenario *scn = p->scn;
	const char *k = w[0];
	uint64_t count;
	switch (p->sec) {
	case SEC_ORIGIN:
		if (strcmp(k, "sites") == 0 && nw == 2)
			return copy_text(p, scn->sites, w[1], "sites");
		if (strcmp(k, "replay") == 0 && nw == 2)
			return copy_text(p, scn->replay, w[1], "replay");
		if (strcmp(k, "arg") == 0 && nw == 2)
			return add_text(p, scn->origin_args, &scn->norigin_args, SCN_MAX_ARGS, w[1], "arg");
		break;
	case SEC_PROXY:
		if (strcmp(k, "fault") == 0 && nw >= 2)
			return add_text(p, scn->faults, &scn->nfaults, SCN_MAX_LIST, rest, "fault");
		if (strcmp(k, "upstream") == 0 && nw == 2) {
			if (strcmp(w[1], "reference") == 0) {
				scn->upstream_reference = true;
				return 0;
			}
			return copy_text(p, scn->upstream, w[1], "upstream");
		}
		if (strcmp(k, "upstream_fault") == 0 && nw >= 2)
			return add_text(p, scn->upstream_faults, &scn->nupstream_faults, SCN_MAX_LIST, rest,
					"upstream_fault");
		if (strcmp(k, "arg") == 0 && nw == 2)
			return add_text(p, scn->proxy_args, &scn->nproxy_args, SCN_MAX_ARGS, w[1], "arg");
		if (strcmp(k, "simulated") == 0 && nw >= 2)
			return copy_text(p, scn->simulated, rest, "simulated");
		break;
	case SEC_PROBE:
		if (strcmp(k, "url") == 0 && nw == 2)
			return add_text(p, scn->urls, &scn->nurls, SCN_MAX_LIST, w[1], "url");
		if (strcmp(k, "requests") == 0 && nw == 2) {
			if (!units_count(w[1], 1000000000, &count) || count == 0)
				return perr(p, "requests wants a positive count, not '%s'", w[1]);
			scn->requests = count;
			return 0;
		}
		if ((strcmp(k, "concurrency") == 0 || strcmp(k, "threads") == 0) && nw == 2) {
			if (!units_count(w[1], 100000, &count) || count == 0)
				return perr(p, "%s wants a positive count, not '%s'", k, w[1]);
			*(k[0] == 'c' ? &scn->concurrency : &scn->threads) = (unsigned)count;
			return 0;
		}
		if ((strcmp(k, "duration") == 0 || strcmp(k, "timeout") == 0 ||
		     strcmp(k, "segment") == 0) && nw == 2) {
			double max = k[0] == 'd' ? SCN_MAX_DURATION_S : SCN_MAX_TIMEOUT_S;
			double d = scn_duration(w[1], max);
			if (!(d > 0))
				return perr(p, "%s wants a duration like 30s, 5m, at most %gh, not '%s'", k,
					    max / 3600, w[1]);
			*(k[0] == 'd' ? &scn->duration_s : k[0] == 't' ? &scn->timeout_s : &scn->segment_s) = d;
			return 0;
		}
		if (strcmp(k, "rate") == 0 && nw == 2) {
			if (!parse_number(w[1], &scn->rate) || !(scn->rate > 0) || scn->rate > SCN_MAX_RATE)
				return perr(p, "rate wants requests per second up to %g, not '%s'", SCN_MAX_RATE, w[1]);
			return 0;
		}
		if (strcmp(k, "arg") == 0 && nw == 2)
			return add_text(p, scn->probe_args, &scn->nprobe_args, SCN_MAX_ARGS, w[1], "arg");
		break;
	case SEC_EXPECT:
		return parse_expect(p, w, nw, rest);
	case SEC_TOP:
		break;
	}
	if (p->sec == SEC_TOP)
		return perr(p, "'%s' outside a section (origin, proxy, probe, expect)", k);
	return perr(p, "unknown or malformed setting '%s' in this section", k);
}

static int parse_line(struct parser *p, char **w, int nw, const char *rest)
{
	int rc = header_line(p, w, nw, rest);
	return rc != 0 ? (rc < 0 ? rc : 0) : section_line(p, w, nw, rest);
}

int scenario_parse(struct scenario *scn, const char *text, size_t len, const char *name,
		   char *err, size_t errlen)
{
	memset(scn, 0, sizeof *scn);
	scn->concurrency = 1;
	scn->threads = 1;
	scn->timeout_s = 10;
	scn->segment_s = 10;
	strcpy(scn->proxy_scheme, "http");
	struct parser p = {.scn = scn, .name = name, .err = err, .errlen = errlen};
	size_t pos = 0;
	while (pos < len) {
		p.line++;
		const char *start = text + pos;
		const char *nl = memchr(start, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - start) : len - pos;
		pos += n + (nl ? 1 : 0);
		if (n >= MAX_LINE)
			return perr(&p, "line longer than %d bytes", MAX_LINE - 1);
		char line[MAX_LINE];
		memcpy(line, start, n);
		line[n] = '\0';
		for (size_t i = 0; i < n; i++) {
			unsigned char ch = (unsigned char)line[i];
			if (ch == '\0' || (ch < 0x20 && ch != '\t' && ch != '\r'))
				return perr(&p, "control character in the file");
		}
		/* A # at the start or after white space starts a comment. */
		for (size_t i = 0; i < n; i++)
			if (line[i] == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) {
				line[i] = '\0';
				break;
			}
		char *words[MAX_WORDS];
		int nw = 0;
		char *rest = NULL, *save = NULL;
		char copy[MAX_LINE];
		strcpy(copy, line);
		for (char *tok = strtok_r(line, " \t\r", &save); tok; tok = strtok_r(NULL, " \t\r", &save)) {
			if (nw == MAX_WORDS)
				return perr(&p, "too many words on one line");
			words[nw++] = tok;
		}
		if (nw == 0)
			continue;
		/* The text after the first word, trimmed: for fault specs and descriptions. */
		rest = copy + (words[0] - line) + strlen(words[0]);
		while (*rest == ' ' || *rest == '\t')
			rest++;
		size_t rl = strlen(rest);
		while (rl && (rest[rl - 1] == ' ' || rest[rl - 1] == '\t' || rest[rl - 1] == '\r'))
			rest[--rl] = '\0';
		int rc = parse_line(&p, words, nw, rest);
		if (rc < 0)
			return rc;
	}
	p.line = 0;
	if (!p.seen_scenario)
		return perr(&p, "no 'scenario NAME' line");
	if (scn->nurls == 0)
		return perr(&p, "no probe url");
	if (scn->requests && scn->duration_s > 0)
		return perr(&p, "requests and duration exclude each other");
	/* Lines that would never take effect are mistakes: say so rather than ignore them. */
	if (!scn->proxy_reference && scn_has_group(scn, SCN_GROUP_REFERENCE))
		return perr(&p, "'expect reference' needs 'proxy reference' (it checks the reference proxy's faults)");
	if (!scn->proxy_reference && scn->simulated[0])
		return perr(&p, "'simulated' needs 'proxy reference' (it says what its faults stand in for)");
	if (!scn->requests && scn->duration_s == 0)
		scn->requests = 1;
	return 0;
}

int scenario_load(struct scenario *scn, const char *path, char *err, size_t errlen)
{
	char *buf;
	size_t n;
	int rc = textfile_read(path, 1 << 20, &buf, &n, err, errlen);
	if (rc < 0)
		return rc == -EFBIG ? -EINVAL : rc;
	rc = scenario_parse(scn, buf, n, path, err, errlen);
	free(buf);
	return rc;
}
