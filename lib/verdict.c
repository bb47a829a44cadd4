/* verdict — see verdict.h. */
#include "lib/verdict.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The code table. head: how the sentence starts ("" when the one fact says it all);
 * place: how reports say where ("" when the code names no place). */
static const struct {
	const char *name;
	enum tp_hop hop;
	enum tp_dir dir;
	const char *head, *place;
} codes[TP_V_COUNT] = {
	[TP_V_OK] = {"ok", TP_HOP_NONE, TP_DIR_NONE, "ok", ""},
	[TP_V_TRUNCATED_PROXY_CLIENT] = {"truncated_proxy_client", TP_HOP_PROXY, TP_DIR_DOWN,
					 "truncated at proxy→client", "at proxy→client"},
	[TP_V_RESET_BY_PROXY] = {"reset_by_proxy", TP_HOP_PROXY, TP_DIR_DOWN, "reset by proxy",
				 "reset by proxy on proxy→client"},
	[TP_V_TRUNCATED_ORIGIN_PROXY] = {"truncated_origin_proxy", TP_HOP_ORIGIN, TP_DIR_DOWN,
					 "truncated at origin→proxy", "at origin→proxy"},
	[TP_V_RESET_BY_ORIGIN] = {"reset_by_origin", TP_HOP_ORIGIN, TP_DIR_DOWN, "reset by origin",
				  "reset by origin on origin→proxy"},
	[TP_V_RESET_UPSTREAM_BY_PROXY] = {"reset_upstream_by_proxy", TP_HOP_PROXY, TP_DIR_DOWN,
					  "reset by proxy on the origin leg",
					  "reset by proxy on proxy→origin"},
	[TP_V_LOST_GAP] = {"lost_gap", TP_HOP_WIRE, TP_DIR_DOWN, "lost on the wire", "lost on the wire"},
	[TP_V_CLIENT_TIMEOUT] = {"client_timeout", TP_HOP_NONE, TP_DIR_DOWN, "client gave up",
				 "client timeout"},
	[TP_V_NO_FIN] = {"no_fin", TP_HOP_PROXY, TP_DIR_DOWN, "FIN withheld at proxy",
			 "at proxy→client (no FIN)"},
	[TP_V_CLIENT_SHORT_READ] = {"client_short_read", TP_HOP_CLIENT, TP_DIR_DOWN,
				    "the client read less than the wire carried",
				    "at the client (the wire carried more)"},
	[TP_V_RESET_BY_CLIENT] = {"reset_by_client", TP_HOP_CLIENT, TP_DIR_NONE, "reset by client",
				  "reset by client"},
	[TP_V_TLS_ALERT] = {"tls_alert", TP_HOP_NONE, TP_DIR_NONE, "a TLS alert ended it",
			    "by a TLS alert"},
	[TP_V_CLOSED_EARLY] = {"closed_early", TP_HOP_PROXY, TP_DIR_DOWN,
			       "proxy closed the tunnel after accepting it",
			       "at proxy (closed after accepting the tunnel)"},
	[TP_V_RESET_BECAME_FIN] = {"reset_became_fin", TP_HOP_PROXY, TP_DIR_DOWN,
				   "reset became FIN at proxy→client",
				   "at proxy→client (a reset passed on as a FIN)"},
	[TP_V_UPLOAD_LOST] = {"upload_lost", TP_HOP_PROXY, TP_DIR_UP,
			      "upload lost on the way to the origin", "at proxy→origin (upload lost)"},
	[TP_V_PROXY_REFUSED] = {"proxy_refused", TP_HOP_PROXY, TP_DIR_NONE, "refused by proxy",
				"at proxy (refused)"},
	[TP_V_FAILED_UNLOCATED] = {"failed_unlocated", TP_HOP_NONE, TP_DIR_NONE,
				   "no hop could be named from the inputs", ""},
	[TP_V_EARLY_FIN] = {"early_fin", TP_HOP_WIRE, TP_DIR_NONE, "", "early FIN"},
	[TP_V_RESET] = {"reset", TP_HOP_WIRE, TP_DIR_NONE, "", "reset"},
	[TP_V_TLS_TRUNCATION] = {"tls_truncation", TP_HOP_WIRE, TP_DIR_NONE, "TLS truncation candidate",
				 "TLS truncation"},
	[TP_V_GAP] = {"gap", TP_HOP_WIRE, TP_DIR_NONE, "gap", "lost on the wire"},
	[TP_V_UNKNOWN] = {"unknown", TP_HOP_NONE, TP_DIR_NONE, "not enough evidence", ""},
};

static const char *const hop_names[TP_HOP_COUNT] = {"none", "origin", "origin_leg", "proxy",
						    "client_leg", "client", "wire"};
static const char *const dir_names[TP_DIR_COUNT] = {"none", "down", "up"};
static const char *const source_names[TP_SRC_COUNT] = {"probe", "origin_ledger", "proxy_ledger",
						       "capture"};
static const char *const unit_names[TP_UNIT_COUNT] = {"none", "body", "message", "stream"};
static const char *const fact_names[TP_FACT_COUNT] = {
	"wrote", "read", "acked", "carried", "fin", "early_fin", "no_fin", "rst", "gap",
	"tls_alert", "tls_close", "failed", "refused", "absent"};
/* By bit of enum tp_need. */
#define NEED_COUNT 4
_Static_assert(TP_NEED_ALL == (1u << NEED_COUNT) - 1, "one name per need bit");
static const char *const need_names[NEED_COUNT] = {"origin_ledger", "proxy_ledger",
						   "capture_client_leg", "capture_origin_leg"};
static const char *const need_words[NEED_COUNT] = {"the origin's ledger", "the proxy's ledger",
						   "a capture on the client leg",
						   "a capture on the origin leg"};

static const char *name_of(const char *const *names, size_t n, unsigned v, const char *dflt)
{
	return v < n ? names[v] : dflt;
}

/* Index of name in names, or -1. */
static int index_of(const char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; name && i < n; i++)
		if (strcmp(names[i], name) == 0)
			return (int)i;
	return -1;
}

const char *tp_verdict_code_name(enum tp_verdict_code c)
{
	return (unsigned)c < TP_V_COUNT ? codes[c].name : "unknown";
}

const char *tp_verdict_hop_name(enum tp_hop h)
{
	return name_of(hop_names, TP_HOP_COUNT, (unsigned)h, "none");
}

const char *tp_verdict_dir_name(enum tp_dir d)
{
	return name_of(dir_names, TP_DIR_COUNT, (unsigned)d, "none");
}

const char *tp_verdict_source_name(enum tp_source s)
{
	return name_of(source_names, TP_SRC_COUNT, (unsigned)s, "none");
}

const char *tp_verdict_fact_name(enum tp_fact f)
{
	return name_of(fact_names, TP_FACT_COUNT, (unsigned)f, "none");
}

const char *tp_verdict_unit_name(enum tp_unit u)
{
	return name_of(unit_names, TP_UNIT_COUNT, (unsigned)u, "none");
}

const char *tp_verdict_need_name(unsigned need_bit)
{
	for (unsigned i = 0; i < NEED_COUNT; i++)
		if (need_bit == 1u << i)
			return need_names[i];
	return "";
}

int tp_verdict_code_from_name(const char *name)
{
	for (int c = 0; name && c < TP_V_COUNT; c++)
		if (strcmp(codes[c].name, name) == 0)
			return c;
	return -1;
}

enum tp_hop tp_verdict_code_hop(enum tp_verdict_code c)
{
	return (unsigned)c < TP_V_COUNT ? codes[c].hop : TP_HOP_NONE;
}

enum tp_dir tp_verdict_code_dir(enum tp_verdict_code c)
{
	return (unsigned)c < TP_V_COUNT ? codes[c].dir : TP_DIR_NONE;
}

const char *tp_verdict_place(enum tp_verdict_code c)
{
	return (unsigned)c < TP_V_COUNT ? codes[c].place : "";
}

void tp_verdict_init(struct tp_verdict *v, enum tp_verdict_code code, long long at_byte)
{
	memset(v, 0, sizeof *v);
	v->code = (unsigned)code < TP_V_COUNT ? code : TP_V_UNKNOWN;
	v->hop = codes[v->code].hop;
	v->direction = codes[v->code].dir;
	v->at_byte = at_byte < 0 ? -1 : at_byte;
}

void tp_evidence_init(struct tp_evidence *e, enum tp_source source, enum tp_fact what)
{
	static const enum tp_unit usual[TP_SRC_COUNT] = {
		[TP_SRC_PROBE] = TP_UNIT_BODY, [TP_SRC_ORIGIN_LEDGER] = TP_UNIT_MESSAGE,
		[TP_SRC_PROXY_LEDGER] = TP_UNIT_STREAM, [TP_SRC_CAPTURE] = TP_UNIT_STREAM};
	memset(e, 0, sizeof *e);
	e->source = source;
	e->what = what;
	e->unit = (unsigned)source < TP_SRC_COUNT ? usual[source] : TP_UNIT_NONE;
	e->bytes = e->of = -1;
	e->reply = -1;
}

int tp_verdict_add(struct tp_verdict *v, const struct tp_evidence *e)
{
	if (v->nevidence == TP_VERDICT_MAX_EVIDENCE)
		return -ENOSPC;
	v->evidence[v->nevidence++] = *e;
	return 0;
}

/* ---- rendering ---- */

/* A bounded appender: text past the end is dropped, the buffer stays terminated. */
struct out {
	char *buf;
	size_t cap, len;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
	if (o->len + 1 >= o->cap)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len = o->len + (size_t)n < o->cap ? o->len + (size_t)n : o->cap - 1;
}

/* Who did it: the party, or on a flow of unknown role the side the direction names. */
static const char *who(const struct tp_evidence *e)
{
	switch (e->by) {
	case TP_HOP_ORIGIN: return "origin";
	case TP_HOP_PROXY: return "proxy";
	case TP_HOP_CLIENT: return "client";
	default: break;
	}
	return e->dir == TP_DIR_DOWN ? "responder" : e->dir == TP_DIR_UP ? "originator" : "one side";
}

static const char *leg(enum tp_hop on)
{
	return on == TP_HOP_CLIENT_LEG ? " on the client leg" : on == TP_HOP_ORIGIN_LEG ? " on the origin leg" : "";
}

static const char *units(const struct tp_evidence *e)
{
	return e->unit == TP_UNIT_BODY ? "body bytes" : "bytes";
}

/* " at byte N" / " at body byte N", nothing when N is unknown. */
static void at(struct out *o, const struct tp_evidence *e)
{
	if (e->bytes >= 0)
		put(o, " at %sbyte %lld", e->unit == TP_UNIT_BODY ? "body " : "", e->bytes);
}

/* " N[ of M] bytes", "?" for an unknown N. */
static void count(struct out *o, const struct tp_evidence *e)
{
	if (e->bytes >= 0)
		put(o, " %lld", e->bytes);
	else
		put(o, " ?");
	if (e->of >= 0)
		put(o, " of %lld", e->of);
	put(o, " %s", units(e));
}

/* "proxy refused on the client leg: HTTP 502", "proxy refused: SOCKS5 reply 5", "proxy
 * refused (SOCKS5 reply 5: connection refused)" when only the probe's words have the
 * code, "proxy closed before its reply was complete". */
static void render_refused(struct out *o, const struct tp_evidence *e)
{
	if (strcmp(e->name, "aborted") == 0) {
		put(o, "%s closed%s before its reply was complete", who(e), leg(e->on));
		return;
	}
	put(o, "%s refused%s", who(e), leg(e->on));
	bool socks = strcmp(e->name, "socks5") == 0;
	if (e->reply >= 0)
		put(o, ": %s %d", socks ? "SOCKS5 reply" : strcmp(e->name, "http") == 0 ? "HTTP" : "reply",
		    e->reply);
	else if (e->detail[0])
		put(o, " (%s)", e->detail);
}

static void render_fact(struct out *o, const struct tp_evidence *e)
{
	switch (e->what) {
	case TP_FACT_WROTE:
		put(o, "%s wrote", who(e));
		if (e->of >= 0 && e->bytes >= 0) /* what it wrote of what it had */
			put(o, " %lld of the %lld %s it received", e->bytes, e->of, units(e));
		else
			count(o, e);
		if (e->dir == TP_DIR_UP)
			put(o, " toward the origin");
		break;
	case TP_FACT_READ:
		put(o, "%s read", who(e));
		count(o, e);
		break;
	case TP_FACT_ACKED:
		put(o, "%s acknowledged", who(e));
		count(o, e);
		put(o, "%s", leg(e->on));
		break;
	case TP_FACT_CARRIED:
		put(o, "the %s carried", e->on == TP_HOP_ORIGIN_LEG ? "origin leg" :
					 e->on == TP_HOP_CLIENT_LEG ? "client leg" : "wire");
		count(o, e);
		if (e->dir == TP_DIR_UP)
			put(o, " toward the origin");
		break;
	case TP_FACT_FIN:
	case TP_FACT_EARLY_FIN:
		put(o, "%sFIN by %s", e->what == TP_FACT_EARLY_FIN ? "early " : "", who(e));
		at(o, e);
		put(o, "%s", leg(e->on));
		if (e->what == TP_FACT_EARLY_FIN && e->of >= 0)
			put(o, ", HTTP framing expected %lld", e->of);
		else if (e->what == TP_FACT_EARLY_FIN && strcmp(e->name, "chunked") == 0)
			put(o, ", inside a chunked body");
		break;
	case TP_FACT_NO_FIN:
		put(o, "no FIN from %s%s", who(e), leg(e->on));
		if (e->bytes >= 0)
			put(o, " after %lld %s", e->bytes, units(e));
		break;
	case TP_FACT_RST:
		put(o, "RST from %s%s", who(e), leg(e->on));
		if (e->bytes >= 0)
			put(o, " after %lld %s", e->bytes, units(e));
		break;
	case TP_FACT_GAP:
		if (e->bytes >= 0)
			put(o, "%lld ", e->bytes);
		put(o, "bytes missing from the capture%s", leg(e->on));
		break;
	case TP_FACT_TLS_ALERT:
		put(o, "TLS alert from %s: %s", who(e), e->name[0] ? e->name : "unknown");
		break;
	case TP_FACT_TLS_CLOSE:
		put(o, "FIN by %s", who(e));
		at(o, e);
		put(o, "%s %s", leg(e->on), strcmp(e->name, "mid_record") == 0 ? "inside a TLS record" :
					     strcmp(e->name, "no_close_notify") == 0 ? "without close_notify" :
					     e->name);
		break;
	case TP_FACT_FAILED:
		put(o, "%s", e->name[0] ? e->name : "failed");
		if (e->phase[0])
			put(o, " in phase %s", e->phase);
		if (e->detail[0])
			put(o, ": %s", e->detail);
		break;
	case TP_FACT_REFUSED:
		render_refused(o, e);
		break;
	case TP_FACT_ABSENT:
		put(o, "no %s line for this request", e->source == TP_SRC_ORIGIN_LEDGER ? "origin ledger" :
			e->source == TP_SRC_PROXY_LEDGER ? "proxy ledger" : tp_verdict_source_name(e->source));
		break;
	default:
		put(o, "%s", tp_verdict_fact_name(e->what));
		break;
	}
}

char *tp_evidence_render(const struct tp_evidence *e, char *out, size_t cap)
{
	struct out o = {out, cap, 0};
	if (cap)
		out[0] = '\0';
	render_fact(&o, e);
	return out;
}

/* "; the proxy's ledger or a capture on the client leg would name the hop" */
static void render_needs(struct out *o, unsigned needs)
{
	unsigned n = 0, total = 0;
	for (unsigned i = 0; i < NEED_COUNT; i++)
		total += (needs >> i) & 1u;
	for (unsigned i = 0; i < NEED_COUNT; i++) {
		if (!(needs & (1u << i)))
			continue;
		put(o, "%s%s", n == 0 ? "; " : n + 1 == total ? " or " : ", ", need_words[i]);
		n++;
	}
	if (n)
		put(o, " would name the hop");
}

char *tp_verdict_render(const struct tp_verdict *v, char *out, size_t cap)
{
	struct out o = {out, cap, 0};
	if (cap)
		out[0] = '\0';
	const char *head = (unsigned)v->code < TP_V_COUNT ? codes[v->code].head : "";
	size_t n = v->nevidence < TP_VERDICT_MAX_EVIDENCE ? v->nevidence : TP_VERDICT_MAX_EVIDENCE;
	if (!head[0] && n == 0)
		head = tp_verdict_code_name(v->code);
	put(&o, "%s", head);
	if (n) {
		put(&o, "%s", head[0] ? " (" : "");
		for (size_t i = 0; i < n; i++) {
			if (i)
				put(&o, "; ");
			render_fact(&o, &v->evidence[i]);
		}
		put(&o, "%s", head[0] ? ")" : "");
	}
	render_needs(&o, v->would_locate);
	return out;
}

/* ---- JSON ---- */

static json_t *jcount(long long v)
{
	return v < 0 ? json_null() : json_integer((json_int_t)v);
}

static json_t *evidence_json(const struct tp_evidence *e)
{
	char text[TP_VERDICT_TEXT_MAX];
	json_t *o = json_object();
	if (!o)
		return NULL;
	json_object_set_new(o, "source", json_string(tp_verdict_source_name(e->source)));
	json_object_set_new(o, "what", json_string(tp_verdict_fact_name(e->what)));
	if (e->by != TP_HOP_NONE)
		json_object_set_new(o, "by", json_string(tp_verdict_hop_name(e->by)));
	if (e->on != TP_HOP_NONE)
		json_object_set_new(o, "on", json_string(tp_verdict_hop_name(e->on)));
	if (e->dir != TP_DIR_NONE)
		json_object_set_new(o, "direction", json_string(tp_verdict_dir_name(e->dir)));
	if (e->unit != TP_UNIT_NONE)
		json_object_set_new(o, "unit", json_string(tp_verdict_unit_name(e->unit)));
	if (e->bytes >= 0)
		json_object_set_new(o, "bytes", json_integer((json_int_t)e->bytes));
	if (e->of >= 0)
		json_object_set_new(o, "of", json_integer((json_int_t)e->of));
	if (e->name[0])
		json_object_set_new(o, "name", json_string(e->name));
	if (e->phase[0])
		json_object_set_new(o, "phase", json_string(e->phase));
	if (e->detail[0])
		json_object_set_new(o, "detail", json_string(e->detail));
	if (e->reply >= 0)
		json_object_set_new(o, "reply", json_integer(e->reply));
	json_object_set_new(o, "fact", json_string(tp_evidence_render(e, text, sizeof text)));
	return o;
}

json_t *tp_verdict_to_json(const struct tp_verdict *v)
{
	char text[TP_VERDICT_TEXT_MAX];
	json_t *ev = json_array();
	for (size_t i = 0; ev && i < v->nevidence && i < TP_VERDICT_MAX_EVIDENCE; i++)
		json_array_append_new(ev, evidence_json(&v->evidence[i]));
	json_t *needs = NULL;
	for (unsigned i = 0; i < NEED_COUNT; i++) {
		if (!(v->would_locate & (1u << i)))
			continue;
		if (!needs)
			needs = json_array();
		json_array_append_new(needs, json_string(need_names[i]));
	}
	json_t *o = json_pack("{s:s,s:s,s:s,s:o,s:o,s:o*,s:s}", "code", tp_verdict_code_name(v->code),
			      "hop", tp_verdict_hop_name(v->hop), "direction",
			      tp_verdict_dir_name(v->direction), "at_byte", jcount(v->at_byte),
			      "evidence", ev, "would_locate", needs, "text",
			      tp_verdict_render(v, text, sizeof text));
	return o;
}

/* A name field: absent leaves *out; present must be one of names. */
static int name_field(json_t *o, const char *key, const char *const *names, size_t n, int *out)
{
	json_t *f = json_object_get(o, key);
	if (!f)
		return 0;
	int i = index_of(names, n, json_string_value(f));
	if (i < 0)
		return -EINVAL;
	*out = i;
	return 0;
}

/* A count field: absent or null is -1; otherwise a non-negative integer. */
static int count_field(json_t *o, const char *key, long long *out)
{
	json_t *f = json_object_get(o, key);
	*out = -1;
	if (!f || json_is_null(f))
		return 0;
	if (!json_is_integer(f) || json_integer_value(f) < 0)
		return -EINVAL;
	*out = (long long)json_integer_value(f);
	return 0;
}

static int text_field(json_t *o, const char *key, char *out, size_t cap)
{
	json_t *f = json_object_get(o, key);
	if (!f)
		return 0;
	if (!json_is_string(f))
		return -EINVAL;
	snprintf(out, cap, "%s", json_string_value(f));
	return 0;
}

/* A reply code: absent is -1; otherwise 0..65535 (HTTP status, SOCKS5 reply). */
static int reply_field(json_t *o, int *out)
{
	long long v;
	if (count_field(o, "reply", &v) < 0 || v > 65535)
		return -EINVAL;
	*out = (int)v;
	return 0;
}

/* "would_locate": absent, or an array of need names. */
static int needs_field(json_t *o, unsigned *out)
{
	json_t *a = json_object_get(o, "would_locate");
	*out = 0;
	if (!a)
		return 0;
	if (!json_is_array(a))
		return -EINVAL;
	size_t i;
	json_t *item;
	json_array_foreach(a, i, item) {
		int bit = index_of(need_names, NEED_COUNT, json_string_value(item));
		if (bit < 0)
			return -EINVAL;
		*out |= 1u << bit;
	}
	return 0;
}

static int evidence_from_json(json_t *o, struct tp_evidence *e)
{
	int source = -1, what = -1;
	if (!json_is_object(o) || name_field(o, "source", source_names, TP_SRC_COUNT, &source) < 0 ||
	    name_field(o, "what", fact_names, TP_FACT_COUNT, &what) < 0 || source < 0 || what < 0)
		return -EINVAL;
	tp_evidence_init(e, (enum tp_source)source, (enum tp_fact)what);
	/* Absent is unknown, as the writer leaves it out: not the source's usual unit. */
	int by = TP_HOP_NONE, on = TP_HOP_NONE, dir = TP_DIR_NONE, unit = TP_UNIT_NONE;
	if (name_field(o, "by", hop_names, TP_HOP_COUNT, &by) < 0 ||
	    name_field(o, "on", hop_names, TP_HOP_COUNT, &on) < 0 ||
	    name_field(o, "direction", dir_names, TP_DIR_COUNT, &dir) < 0 ||
	    name_field(o, "unit", unit_names, TP_UNIT_COUNT, &unit) < 0 ||
	    count_field(o, "bytes", &e->bytes) < 0 || count_field(o, "of", &e->of) < 0 ||
	    text_field(o, "name", e->name, sizeof e->name) < 0 ||
	    text_field(o, "phase", e->phase, sizeof e->phase) < 0 ||
	    text_field(o, "detail", e->detail, sizeof e->detail) < 0 || reply_field(o, &e->reply) < 0)
		return -EINVAL;
	e->by = (enum tp_hop)by;
	e->on = (enum tp_hop)on;
	e->dir = (enum tp_dir)dir;
	e->unit = (enum tp_unit)unit;
	return 0;
}

int tp_verdict_from_json(json_t *j, struct tp_verdict *v)
{
	tp_verdict_init(v, TP_V_UNKNOWN, -1);
	int code = tp_verdict_json_code(j);
	if (code < 0)
		return -EINVAL;
	long long at_byte;
	if (count_field(j, "at_byte", &at_byte) < 0)
		return -EINVAL;
	tp_verdict_init(v, (enum tp_verdict_code)code, at_byte);
	int hop = (int)v->hop, dir = (int)v->direction;
	if (name_field(j, "hop", hop_names, TP_HOP_COUNT, &hop) < 0 ||
	    name_field(j, "direction", dir_names, TP_DIR_COUNT, &dir) < 0)
		goto bad;
	v->hop = (enum tp_hop)hop;
	v->direction = (enum tp_dir)dir;
	if (needs_field(j, &v->would_locate) < 0)
		goto bad;
	json_t *ev = json_object_get(j, "evidence");
	if (ev && !json_is_array(ev))
		goto bad;
	size_t i;
	json_t *item;
	json_array_foreach(ev, i, item) {
		struct tp_evidence e;
		if (evidence_from_json(item, &e) < 0)
			goto bad;
		tp_verdict_add(v, &e); /* beyond the cap: dropped, as when made */
	}
	return 0;
bad:
	tp_verdict_init(v, TP_V_UNKNOWN, -1);
	return -EINVAL;
}

int tp_verdict_json_code(json_t *j)
{
	return json_is_object(j) ? tp_verdict_code_from_name(json_string_value(json_object_get(j, "code"))) : -1;
}

const char *tp_verdict_json_text(json_t *j)
{
	if (json_is_string(j))
		return json_string_value(j);
	return json_string_value(json_object_get(j, "text"));
}
