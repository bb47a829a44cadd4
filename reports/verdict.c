/* verdict — see verdict.h. */
#include "reports/verdict.h"

#include <stdio.h>
#include <string.h>

#include "lib/ledger.h"
#include "lib/verdict.h"
#include "reports/text.h"

/* What a class alone says about the place, when no hop was located. */
static void class_place(const char *cls, const char *phase, char *out, size_t cap)
{
	static const struct {
		const char *cls, *place;
	} fixed[] = {
		{"dns_error", "resolving the name"},
		{"connect_error", "connecting"},
		{"proxy_refused", "refused by the proxy"},
		{"proxy_connect_aborted", "at proxy, before its CONNECT/SOCKS reply"},
		{"tunnel_closed_early", "at proxy, after accepting the tunnel"},
	};
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		if (cls && strcmp(cls, fixed[i].cls) == 0) {
			snprintf(out, cap, "%s", fixed[i].place);
			return;
		}
	if (phase && *phase)
		snprintf(out, cap, "in phase %s", phase);
	else
		out[0] = '\0';
}

int report_failure_code(json_t *failure)
{
	json_t *v = json_object_get(failure, "verdict");
	if (json_is_object(v))
		return tp_verdict_json_code(v);
	/* A /1 run file read as it is: the code sat beside the sentence. */
	return tp_verdict_code_from_name(json_string_value(json_object_get(failure, "verdict_code")));
}

const char *report_failure_verdict_text(json_t *failure)
{
	return tp_verdict_json_text(json_object_get(failure, "verdict"));
}

void report_location(json_t *failure, char *out, size_t cap)
{
	int code = report_failure_code(failure);
	const char *place = code >= 0 ? tp_verdict_place((enum tp_verdict_code)code) : "";
	if (place[0]) {
		snprintf(out, cap, "%s", place);
		return;
	}
	class_place(json_string_value(json_object_get(failure, "class")),
		    json_string_value(json_object_get(failure, "phase")), out, cap);
}

/* ---- chains ---- */

/* The rows of a chain (docs/run-json.md "The chain"): the hops of the message row (a
 * capture /3 chain: application bytes), of its wire row (TCP bytes), and of a chain
 * from before one unit per row (legs and proxy in TCP bytes, probe in body bytes). */
static const struct report_hop message_hops[] = {
	{"origin_wrote", "origin wrote"}, {"origin_leg", "origin leg"}, {"proxy_received", "proxy received"},
	{"proxy_sent", "proxy sent"},     {"client_leg", "client leg"}, {"probe", "probe read"}};
static const struct report_hop wire_hops[] = {
	{"origin_acked", "proxy acked"}, {"origin_leg", "origin leg"}, {"proxy_received", "proxy received"},
	{"proxy_sent", "proxy sent"},    {"client_leg", "client leg"}};
/* A chain from before units: only these hops counted one unit (TCP bytes). */
static const struct report_hop legacy_tcp_hops[] = {
	{"origin_leg", "origin leg"}, {"proxy_received", "proxy received"}, {"proxy_sent", "proxy sent"},
	{"client_leg", "client leg"}};

size_t report_chain_rows(json_t *chain, struct report_chain_row rows[REPORT_CHAIN_ROWS])
{
	if (!json_is_object(chain))
		return 0;
	const char *unit = json_string_value(json_object_get(chain, "unit"));
	if (!unit || strcmp(unit, "message") != 0) {
		rows[0] = (struct report_chain_row){.obj = chain, .hops = message_hops, .nhops = 6, .legacy = true,
						    .label = "bytes (legs and proxy: TCP; probe read: body)"};
		return 1;
	}
	rows[0] = (struct report_chain_row){.obj = chain, .hops = message_hops, .nhops = 6,
					    .label = "application bytes"};
	json_t *wire = json_object_get(chain, "wire");
	if (!json_is_object(wire))
		return 1;
	json_int_t n = json_integer_value(json_object_get(wire, "requests"));
	rows[1] = (struct report_chain_row){.obj = wire, .hops = wire_hops, .nhops = 5, .wire = true,
					    .connection_requests = n > 1 ? n : 0,
					    .label = "TCP bytes (TLS records included)"};
	return 2;
}

/* The count of hop i of row r, or -1 when nothing witnessed it. */
static json_int_t hop_count(const struct report_chain_row *r, size_t i)
{
	json_t *v = json_object_get(r->obj, r->hops[i].key);
	return json_is_integer(v) && json_integer_value(v) >= 0 ? json_integer_value(v) : -1;
}

static bool row_has(const struct report_chain_row *r, const char *key)
{
	for (size_t i = 0; i < r->nhops; i++)
		if (strcmp(r->hops[i].key, key) == 0)
			return hop_count(r, i) >= 0;
	return false;
}

/* Where row r drops, into *d: in application bytes the first hop below the last
 * witnessed one (*adjacent: with no unwitnessed hop between); in TCP bytes the largest
 * drop, as a few bytes may differ between hops (a close_notify the proxy never read).
 * False when the row does not drop. */
static bool row_drop(const struct report_chain_row *r, size_t ri, bool largest, struct report_drop *d,
		     bool *adjacent)
{
	json_int_t prev = -1, worst = 0;
	size_t prev_i = 0;
	bool found = false;
	for (size_t i = 0; i < r->nhops; i++) {
		json_int_t x = hop_count(r, i);
		if (x < 0)
			continue;
		if (prev >= 0 && prev - x > worst) {
			worst = prev - x;
			*d = (struct report_drop){r->hops[i].key, ri};
			*adjacent = i == prev_i + 1;
			found = true;
			if (!largest)
				return true;
		}
		prev = x;
		prev_i = i;
	}
	return found;
}

struct report_drop report_chain_drop(json_t *failure)
{
	/* A located verdict names the hop outright: the chain key, and the one to use when
	 * that hop had no witness in either unit. */
	static const struct {
		enum tp_verdict_code code;
		const char *hop, *fallback;
	} located[] = {
		{TP_V_TRUNCATED_PROXY_CLIENT, "proxy_sent", "client_leg"},
		{TP_V_RESET_BY_PROXY, "proxy_sent", "client_leg"},
		{TP_V_CLOSED_EARLY, "proxy_sent", "client_leg"},
		{TP_V_NO_FIN, "proxy_sent", "client_leg"},
		{TP_V_RESET_BECAME_FIN, "proxy_sent", "client_leg"},
		{TP_V_TRUNCATED_ORIGIN_PROXY, "origin_leg", "proxy_received"},
		{TP_V_RESET_BY_ORIGIN, "origin_leg", "proxy_received"},
		{TP_V_CLIENT_SHORT_READ, "probe", "probe"},
	};
	struct report_chain_row rows[REPORT_CHAIN_ROWS];
	size_t nrows = report_chain_rows(json_object_get(failure, "chain"), rows);
	int code = report_failure_code(failure);
	for (size_t i = 0; i < sizeof located / sizeof located[0]; i++) {
		if (code != (int)located[i].code)
			continue;
		/* In the unit that witnessed it: application bytes first, then TCP bytes. */
		const char *keys[2] = {located[i].hop, located[i].fallback};
		for (size_t k = 0; k < 2; k++)
			for (size_t r = 0; r < nrows; r++)
				if (row_has(&rows[r], keys[k]))
					return (struct report_drop){keys[k], r};
	}
	/* No hop named (or none witnessed): where the counts drop. A drop between two
	 * neighbouring application-byte hops is exact; one across unwitnessed hops says
	 * only "somewhere before", so a drop in TCP bytes, if any, places it better. */
	struct report_drop msg = {NULL, 0}, wire = {NULL, 0};
	bool adjacent = false, ignored;
	bool legacy = nrows == 1 && rows[0].legacy;
	if (legacy) {
		rows[0].hops = legacy_tcp_hops;
		rows[0].nhops = sizeof legacy_tcp_hops / sizeof legacy_tcp_hops[0];
	}
	bool in_msg = nrows > 0 && row_drop(&rows[0], 0, legacy, &msg, &adjacent);
	bool in_wire = nrows > 1 && row_drop(&rows[1], 1, true, &wire, &ignored);
	if (in_msg && (adjacent || legacy || !in_wire))
		return msg;
	if (in_wire)
		return wire;
	/* The probe read less body than was announced: the loss is before it. */
	json_t *chain = json_object_get(failure, "chain");
	json_t *e = json_object_get(chain, "expected");
	json_t *p = json_object_get(chain, legacy ? "probe" : "probe_body");
	if (json_is_integer(e) && json_is_integer(p) && json_integer_value(p) < json_integer_value(e))
		return (struct report_drop){"probe", 0};
	return (struct report_drop){NULL, 0};
}

struct place_tally {
	char place[8][96];
	unsigned count[8];
	size_t n;
	unsigned samples;
};

void report_class_location(json_t *doc, const char *cls, const char *url, char *out, size_t cap)
{
	struct place_tally t = {0};
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(doc, "failures"), i, f) {
		const char *c = json_string_value(json_object_get(f, "class"));
		const char *u = json_string_value(json_object_get(f, "url"));
		if (!c || strcmp(c, cls) != 0 || (url && (!u || strcmp(u, url) != 0)))
			continue;
		char place[96];
		report_location(f, place, sizeof place);
		if (!place[0])
			continue;
		t.samples++;
		size_t k = 0;
		while (k < t.n && strcmp(t.place[k], place) != 0)
			k++;
		if (k == t.n && t.n < 8)
			snprintf(t.place[t.n++], sizeof t.place[0], "%s", place);
		if (k < t.n)
			t.count[k]++;
	}
	size_t best = 0;
	for (size_t k = 1; k < t.n; k++)
		if (t.count[k] > t.count[best])
			best = k;
	if (t.n == 0) {
		class_place(cls, NULL, out, cap);
	} else if (t.count[best] == t.samples) {
		snprintf(out, cap, "%s", t.place[best]);
	} else {
		snprintf(out, cap, "mostly %s (%u of %u samples)", t.place[best], t.count[best], t.samples);
	}
}

void report_verdict(const struct report_run *run, char *out, size_t cap)
{
	json_t *doc = run->doc;
	json_int_t req = json_integer_value(json_object_get(doc, "requests"));
	json_t *classes = json_object_get(doc, "classes");
	size_t at = (size_t)snprintf(out, cap, "%s:", run->label);
	bool any = false;
	/* Every failing class, the most frequent first (ties in SPEC order). */
	bool done[TP_CLASS_COUNT] = {false};
	for (;;) {
		int best = -1;
		json_int_t best_n = 0;
		for (int c = 1; c < TP_CLASS_COUNT; c++) {
			json_int_t v = json_integer_value(json_object_get(classes, tp_class_name(c)));
			if (!done[c] && v > best_n) {
				best = c;
				best_n = v;
			}
		}
		if (best < 0)
			break;
		done[best] = true;
		char where[160];
		report_class_location(doc, tp_class_name(best), NULL, where, sizeof where);
		if (at < cap)
			at += (size_t)snprintf(out + at, cap - at, "%s %lld/%lld %s%s%s", any ? "," : "",
					       (long long)best_n, (long long)req, tp_class_name(best),
					       where[0] ? " " : "", where);
		any = true;
	}
	if (!any && at < cap) {
		json_int_t ok = json_integer_value(json_object_get(doc, "ok"));
		if (ok == req)
			snprintf(out + at, cap - at, " %lld/%lld ok", (long long)ok, (long long)req);
		else
			snprintf(out + at, cap - at, " %lld/%lld failed (classes not recorded)", (long long)(req - ok),
				 (long long)req);
	}
}

void report_verdict_all(const struct report_run *runs, size_t n, char *out, size_t cap)
{
	size_t at = 0;
	out[0] = '\0';
	for (int failing = 1; failing >= 0; failing--)
		for (size_t i = 0; i < n; i++) {
			json_t *d = runs[i].doc;
			bool bad = json_integer_value(json_object_get(d, "ok")) <
				   json_integer_value(json_object_get(d, "requests"));
			if (bad != (failing == 1) || at >= cap)
				continue;
			char one[512];
			report_verdict(&runs[i], one, sizeof one);
			at += (size_t)snprintf(out + at, cap - at, "%s%s", at ? "; " : "", one);
		}
}

/* The group key of one failure. */
static void group_key(json_t *f, struct report_group *g)
{
	memset(g, 0, sizeof *g);
	snprintf(g->cls, sizeof g->cls, "%s", json_string_value(json_object_get(f, "class")) ?: "?");
	snprintf(g->phase, sizeof g->phase, "%s", json_string_value(json_object_get(f, "phase")) ?: "");
	g->code = report_failure_code(f);
	report_location(f, g->where, sizeof g->where);
}

static bool same_key(const struct report_group *a, const struct report_group *b)
{
	return a->code == b->code && strcmp(a->cls, b->cls) == 0 && strcmp(a->where, b->where) == 0 &&
	       strcmp(a->phase, b->phase) == 0;
}

bool report_group_has(const struct report_group *g, json_t *failure)
{
	struct report_group k;
	group_key(failure, &k);
	return same_key(g, &k);
}

size_t report_failure_groups(json_t *failures, struct report_group *groups, size_t cap, size_t *left_out)
{
	size_t n = 0, i;
	json_t *f;
	*left_out = 0;
	json_array_foreach(failures, i, f) {
		struct report_group k;
		group_key(f, &k);
		size_t g = 0;
		while (g < n && !same_key(&groups[g], &k))
			g++;
		if (g == n && n == cap) {
			(*left_out)++;
			continue;
		}
		if (g == n) {
			groups[n] = k;
			groups[n++].first = i;
		}
		groups[g].count++;
	}
	return n;
}

void report_chain_text(json_t *failure, char *out, size_t cap)
{
	struct report_chain_row rows[REPORT_CHAIN_ROWS];
	size_t nrows = report_chain_rows(json_object_get(failure, "chain"), rows), at = 0;
	out[0] = '\0';
	for (size_t r = 0; r < nrows && at < cap; r++) {
		bool first = true;
		for (size_t i = 0; i < rows[r].nhops && at < cap; i++) {
			json_int_t v = hop_count(&rows[r], i);
			if (v < 0)
				continue;
			char num[32], head[96] = "";
			report_thousands(num, sizeof num, (long long)v);
			if (first && rows[r].wire)
				snprintf(head, sizeof head, "%sTCP%s: ", at ? "; " : "",
					 rows[r].connection_requests ? " (whole connection)" : "");
			int w = snprintf(out + at, cap - at, "%s%s%s %s", head, first ? "" : " → ", rows[r].hops[i].name,
					 num);
			at = w < 0 ? cap : at + (size_t)w;
			first = false;
		}
	}
}
