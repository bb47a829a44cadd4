/* metrics — see metrics.h. */
#include "reports/metrics.h"

#include <math.h>
#include <string.h>

#include "lib/ledger.h"

static bool num(json_t *o, const char *k, double *v)
{
	json_t *x = json_object_get(o, k);
	if (!json_is_number(x))
		return false;
	*v = json_number_value(x);
	return true;
}

static struct report_metric *add(struct report_metric *rows, size_t *nrows, size_t cap, const char *name,
				 const char *fmt, enum report_sense sense)
{
	if (*nrows >= cap)
		return NULL;
	struct report_metric *m = &rows[(*nrows)++];
	memset(m, 0, sizeof *m);
	snprintf(m->name, sizeof m->name, "%s", name);
	m->fmt = fmt;
	m->sense = sense;
	return m;
}

/* Latency field `key` of the ok requests of run i (see metrics.h). */
static void ok_latency(json_t *doc, const char *key, struct report_metric *m, size_t i)
{
	json_t *ok = json_object_get(doc, "latency_ok_ms");
	if (json_is_object(ok)) {
		m->present[i] = num(ok, key, &m->v[i]);
		return;
	}
	m->present[i] = num(json_object_get(doc, "latency_ms"), key, &m->v[i]);
	m->apart[i] = m->present[i] && json_integer_value(json_object_get(doc, "ok")) <
						json_integer_value(json_object_get(doc, "requests"));
}

/* requests or ok per second of duration_s. */
static void per_second(const struct report_run *runs, size_t n, const char *count, struct report_metric *m)
{
	for (size_t i = 0; i < n; i++) {
		double dur;
		if (num(runs[i].doc, "duration_s", &dur) && dur > 0) {
			m->v[i] = (double)json_integer_value(json_object_get(runs[i].doc, count)) / dur;
			m->present[i] = true;
		}
	}
}

/* A row of doc[obj][key] (doc[key] when obj is NULL), added only when a run has it. */
static void optional(const struct report_run *runs, size_t n, struct report_metric *rows, size_t *nrows,
		     size_t cap, const char *name, const char *obj, const char *key, enum report_sense sense)
{
	bool any = false;
	for (size_t i = 0; i < n; i++)
		any |= json_is_number(json_object_get(obj ? json_object_get(runs[i].doc, obj) : runs[i].doc, key));
	struct report_metric *m = any ? add(rows, nrows, cap, name, "%.0f", sense) : NULL;
	for (size_t i = 0; m && i < n; i++)
		m->present[i] = num(obj ? json_object_get(runs[i].doc, obj) : runs[i].doc, key, &m->v[i]);
}

size_t report_metrics(const struct report_run *runs, size_t n, struct report_metric *rows, size_t cap)
{
	size_t nrows = 0;
	struct report_metric *m;
	static const char *const counts[] = {"requests", "ok", "failed"};
	for (size_t k = 0; k < 3; k++) {
		if (!(m = add(rows, &nrows, cap, counts[k], "%.0f", k == 2 ? REPORT_HIGHER_WORSE : REPORT_NEUTRAL)))
			return nrows;
		for (size_t i = 0; i < n; i++) {
			json_t *d = runs[i].doc;
			double req = (double)json_integer_value(json_object_get(d, "requests"));
			double ok = (double)json_integer_value(json_object_get(d, "ok"));
			m->v[i] = k == 0 ? req : k == 1 ? ok : req - ok;
			m->present[i] = true;
		}
	}
	if ((m = add(rows, &nrows, cap, "error rate %", "%.2f", REPORT_HIGHER_WORSE)))
		for (size_t i = 0; i < n; i++) {
			json_t *d = runs[i].doc;
			double req = (double)json_integer_value(json_object_get(d, "requests"));
			double ok = (double)json_integer_value(json_object_get(d, "ok"));
			m->v[i] = req > 0 ? 100.0 * (req - ok) / req : 0;
			m->present[i] = true;
		}
	/* Every failure class any run saw, in SPEC order. */
	for (int c = 1; c < TP_CLASS_COUNT; c++) {
		bool seen = false;
		for (size_t i = 0; i < n; i++)
			seen |= json_integer_value(json_object_get(json_object_get(runs[i].doc, "classes"),
								   tp_class_name(c))) > 0;
		if (!seen)
			continue;
		char name[64];
		snprintf(name, sizeof name, "class %s", tp_class_name(c));
		if (!(m = add(rows, &nrows, cap, name, "%.0f", REPORT_HIGHER_WORSE)))
			return nrows;
		for (size_t i = 0; i < n; i++) {
			m->v[i] = (double)json_integer_value(json_object_get(json_object_get(runs[i].doc, "classes"),
									      tp_class_name(c)));
			m->present[i] = true;
		}
	}
	static const char *const lats[] = {"mean", "p50", "p90", "p99", "p999", "max"};
	for (size_t k = 0; k < 6; k++) {
		char name[64];
		snprintf(name, sizeof name, "latency %s ms", lats[k]);
		if (!(m = add(rows, &nrows, cap, name, "%.2f", REPORT_HIGHER_WORSE)))
			return nrows;
		for (size_t i = 0; i < n; i++)
			ok_latency(runs[i].doc, lats[k], m, i);
	}
	if ((m = add(rows, &nrows, cap, "throughput req/s", "%.1f", REPORT_NEUTRAL)))
		per_second(runs, n, "requests", m);
	if ((m = add(rows, &nrows, cap, "ok req/s", "%.1f", REPORT_LOWER_WORSE)))
		per_second(runs, n, "ok", m);
	if ((m = add(rows, &nrows, cap, "bytes received", "%.0f", REPORT_LOWER_WORSE)))
		for (size_t i = 0; i < n; i++)
			m->present[i] = num(json_object_get(runs[i].doc, "bytes"), "received", &m->v[i]);
	if ((m = add(rows, &nrows, cap, "connection reuse ratio", "%.3f", REPORT_LOWER_WORSE)))
		for (size_t i = 0; i < n; i++)
			m->present[i] = num(json_object_get(runs[i].doc, "connections"), "reuse_ratio", &m->v[i]);
	/* Newer fields: a row only when some run has them. */
	optional(runs, n, rows, &nrows, cap, "verified bodies", NULL, "verified", REPORT_NEUTRAL);
	optional(runs, n, rows, &nrows, cap, "unverified ok bodies", NULL, "unverified", REPORT_NEUTRAL);
	optional(runs, n, rows, &nrows, cap, "open-loop starts missed", "open_loop", "missed", REPORT_HIGHER_WORSE);
	return nrows;
}

bool report_is_worse(const struct report_metric *m, size_t n, size_t i)
{
	if (m->sense == REPORT_NEUTRAL || n < 2 || !m->present[i] || m->apart[i])
		return false;
	double worst = m->v[i], best = m->v[i];
	for (size_t k = 0; k < n; k++) {
		if (!m->present[k] || m->apart[k])
			continue;
		bool worse = m->sense == REPORT_HIGHER_WORSE ? m->v[k] > worst : m->v[k] < worst;
		bool better = m->sense == REPORT_HIGHER_WORSE ? m->v[k] < best : m->v[k] > best;
		if (worse)
			worst = m->v[k];
		if (better)
			best = m->v[k];
	}
	return worst != best && m->v[i] == worst;
}

bool report_any_apart(const struct report_metric *rows, size_t nrows, size_t nruns)
{
	for (size_t r = 0; r < nrows; r++)
		for (size_t i = 0; i < nruns; i++)
			if (rows[r].present[i] && rows[r].apart[i])
				return true;
	return false;
}

void report_metric_cell(const struct report_metric *m, size_t i, bool delta, char *out, size_t cap)
{
	if (!m->present[i]) {
		snprintf(out, cap, "n/a");
		return;
	}
	int at = snprintf(out, cap, m->fmt, m->v[i]);
	if (m->apart[i] && at >= 0 && (size_t)at < cap) {
		snprintf(out + at, cap - (size_t)at, "%s", REPORT_APART_MARK);
		return;
	}
	if (!delta || i == 0 || !m->present[0] || m->apart[0] || at < 0 || (size_t)at >= cap)
		return;
	char a[48], b[48];
	snprintf(a, sizeof a, m->fmt, m->v[i]);
	snprintf(b, sizeof b, m->fmt, m->v[0]);
	if (strcmp(a, b) == 0) /* equal as shown: no delta */
		return;
	char dfmt[16];
	snprintf(dfmt, sizeof dfmt, " (%%+%s)", m->fmt + 1);
	snprintf(out + at, cap - (size_t)at, dfmt, m->v[i] - m->v[0]);
}

void report_url_without_port(const char *url, char *out, size_t cap)
{
	snprintf(out, cap, "%s", url ? url : "");
	char *auth = strstr(out, "://");
	auth = auth ? auth + 3 : out;
	char *end = auth + strcspn(auth, "/?#");
	char *colon = NULL;
	for (char *p = auth; p < end; p++) {
		if (*p == ']')
			colon = NULL; /* an IPv6 literal's colons are not the port's */
		else if (*p == ':')
			colon = p;
	}
	if (colon && colon + 1 < end + 1 && strspn(colon + 1, "0123456789") == (size_t)(end - colon - 1))
		memmove(colon, end, strlen(end) + 1);
}

long report_match_target(json_t *targets, const char *url)
{
	size_t i;
	json_t *t;
	json_array_foreach(targets, i, t) {
		const char *u = json_string_value(json_object_get(t, "url"));
		if (u && url && strcmp(u, url) == 0)
			return (long)i;
	}
	char want[2048], have[2048];
	report_url_without_port(url, want, sizeof want);
	json_array_foreach(targets, i, t) {
		report_url_without_port(json_string_value(json_object_get(t, "url")), have, sizeof have);
		if (strcmp(want, have) == 0)
			return (long)i;
	}
	return -1;
}
