/* join — see join.h. */
#include "capture/join.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/ledger.h"

void ledgers_init(struct ledgers *l)
{
	memset(l, 0, sizeof *l);
}

void ledgers_free(struct ledgers *l)
{
	if (!l)
		return;
	free(l->probe);
	free(l->origin);
	free(l->proxy);
	memset(l, 0, sizeof *l);
}

static void str_field(json_t *o, const char *k, char *out, size_t outlen)
{
	const char *s = json_string_value(json_object_get(o, k));
	snprintf(out, outlen, "%s", s ? s : "");
}

static long long int_field(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	if (json_is_integer(v))
		return (long long)json_integer_value(v);
	if (json_is_real(v))
		return (long long)json_real_value(v);
	return JOIN_UNKNOWN;
}

static bool bool_field(json_t *o, const char *k)
{
	return json_is_true(json_object_get(o, k));
}

static double real_field(json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

/* Grows an array of elem-sized items by one; returns the new slot or NULL. */
static void *grow(void **arr, size_t *n, size_t *cap, size_t elem)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		void *na = realloc(*arr, nc * elem);
		if (!na)
			return NULL;
		*arr = na;
		*cap = nc;
	}
	void *slot = (char *)*arr + (*n)++ * elem;
	memset(slot, 0, elem);
	return slot;
}

static void proxy_dir(json_t *o, struct jproxy_dir *d)
{
	d->received = int_field(o, "received");
	d->sent = int_field(o, "sent");
	d->short_sends = int_field(o, "short_sends");
	d->dropped = int_field(o, "dropped");
}

bool ledgers_add(struct ledgers *l, json_t *o)
{
	if (!json_is_object(o))
		return false;
	if (json_object_get(o, "bytes_expected") && json_object_get(o, "class")) {
		struct jprobe *r = grow((void **)&l->probe, &l->nprobe, &l->probe_cap, sizeof *r);
		if (!r)
			return false;
		str_field(o, "id", r->id, sizeof r->id);
		str_field(o, "local", r->local, sizeof r->local);
		str_field(o, "remote", r->remote, sizeof r->remote);
		str_field(o, "class", r->cls, sizeof r->cls);
		str_field(o, "phase", r->phase, sizeof r->phase);
		str_field(o, "detail", r->detail, sizeof r->detail);
		r->expected = int_field(o, "bytes_expected");
		r->received = int_field(o, "bytes_received");
		r->wire_received = int_field(o, "wire_received");
		r->sent = int_field(o, "bytes_sent");
		r->status = (int)int_field(o, "status");
		r->t = real_field(o, "t");
		return true;
	}
	if (json_object_get(o, "bytes_written")) {
		struct jorigin *r = grow((void **)&l->origin, &l->norigin, &l->origin_cap, sizeof *r);
		if (!r)
			return false;
		str_field(o, "id", r->id, sizeof r->id);
		str_field(o, "peer", r->peer, sizeof r->peer);
		str_field(o, "local", r->local, sizeof r->local);
		str_field(o, "end", r->end, sizeof r->end);
		r->bytes_written = int_field(o, "bytes_written");
		r->bytes_received = int_field(o, "bytes_received");
		r->body_bytes = int_field(o, "body_bytes");
		r->acked_close = int_field(o, "bytes_acked_at_close");
		r->acked_after = int_field(o, "bytes_acked_after_response");
		r->rst_received = bool_field(o, "rst_received");
		r->fin_sent = bool_field(o, "fin_sent");
		r->t = real_field(o, "t");
		return true;
	}
	if (json_object_get(o, "kind") && json_is_object(json_object_get(o, "down"))) {
		struct jproxy *r = grow((void **)&l->proxy, &l->nproxy, &l->proxy_cap, sizeof *r);
		if (!r)
			return false;
		str_field(o, "id", r->id, sizeof r->id);
		str_field(o, "kind", r->kind, sizeof r->kind);
		str_field(o, "client_peer", r->client_peer, sizeof r->client_peer);
		str_field(o, "client_local", r->client_local, sizeof r->client_local);
		str_field(o, "upstream_local", r->upstream_local, sizeof r->upstream_local);
		str_field(o, "upstream_peer", r->upstream_peer, sizeof r->upstream_peer);
		str_field(o, "first_close", r->first_close, sizeof r->first_close);
		str_field(o, "client_end", r->client_end, sizeof r->client_end);
		str_field(o, "upstream_end", r->upstream_end, sizeof r->upstream_end);
		str_field(o, "fault", r->fault, sizeof r->fault);
		proxy_dir(json_object_get(o, "down"), &r->down);
		proxy_dir(json_object_get(o, "up"), &r->up);
		r->shut_client = bool_field(o, "shutdown_write_client");
		r->shut_upstream = bool_field(o, "shutdown_write_upstream");
		r->t = real_field(o, "t");
		return true;
	}
	return false;
}

int ledgers_load(struct ledgers *l, const char *path)
{
	FILE *fp = fopen(path, "r");
	if (!fp)
		return -errno;
	/* A run.json is one object; its "failures" are probe records. */
	json_error_t jerr;
	json_t *whole = json_loadf(fp, JSON_DISABLE_EOF_CHECK, &jerr);
	if (whole && json_is_object(whole) && json_object_get(whole, "schema")) {
		json_t *fails = json_object_get(whole, "failures");
		size_t i;
		json_t *v;
		json_array_foreach(fails, i, v)
			if (!ledgers_add(l, v))
				l->bad_lines++;
		json_decref(whole);
		fclose(fp);
		return 0;
	}
	json_decref(whole);
	rewind(fp);
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, fp)) > 0) {
		if (n > 1 << 20) { /* no ledger line is that long */
			l->bad_lines++;
			continue;
		}
		size_t k = (size_t)n;
		while (k && (line[k - 1] == '\n' || line[k - 1] == '\r' || line[k - 1] == ' '))
			k--;
		if (!k)
			continue;
		json_t *o = json_loadb(line, k, 0, &jerr);
		if (!o || !ledgers_add(l, o))
			l->bad_lines++;
		json_decref(o);
	}
	free(line);
	int rc = ferror(fp) ? -EIO : 0;
	fclose(fp);
	return rc;
}

/* Flows by originator address, for the joins. */
struct flow_ref {
	char addr[64];
	struct flow *f;
};

static int ref_cmp(const void *a, const void *b)
{
	return strcmp(((const struct flow_ref *)a)->addr, ((const struct flow_ref *)b)->addr);
}

/* The flow whose originator is addr, closest in time to t (0: any). */
static struct flow *find_flow(const struct flow_ref *refs, size_t n, const char *addr, double t)
{
	if (!addr[0] || !n)
		return NULL;
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (strcmp(refs[mid].addr, addr) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	struct flow *best = NULL;
	for (size_t i = lo; i < n && strcmp(refs[i].addr, addr) == 0; i++) {
		struct flow *f = refs[i].f;
		if (!best || (t > 0 && f->t_first <= t + 1.0 && f->t_first > best->t_first))
			best = f;
	}
	return best;
}

/* Bytes a leg carried toward the client (down) or the origin (up), in the unit the
 * two legs share: tunnel bytes after a CONNECT exchange, HTTP body bytes when the
 * proxy rewrites heads (plain forwarding), raw stream bytes otherwise. */
static long long leg_bytes(const struct flow *f, int dir)
{
	const struct flow_dir *d = &f->dir[dir];
	uint64_t total = flow_dir_bytes(d);
	if (d->http.mode == HS_TUNNEL)
		return (long long)(total >= d->http.tunnel_off ? total - d->http.tunnel_off : 0);
	if (d->http.mode == HS_RESPONSES || d->http.mode == HS_REQUESTS)
		return (long long)d->http.body_bytes;
	return (long long)total;
}

static uint64_t tunnel_prefix(const struct flow_dir *d)
{
	return d->http.mode == HS_TUNNEL ? d->http.tunnel_off : 0;
}

static void chain_init(struct chain *c)
{
	c->expected = c->origin_wrote = c->origin_leg = JOIN_UNKNOWN;
	c->proxy_received = c->proxy_sent = c->client_leg = c->probe_read = JOIN_UNKNOWN;
}

static long long add_known(long long acc, long long v)
{
	if (v < 0)
		return acc;
	return acc < 0 ? v : acc + v;
}

/* Appends a fact about the down direction to v; returns it for the caller to complete
 * (of, name, ...), or NULL when the list is full. */
static struct tp_evidence *fact(struct tp_verdict *v, enum tp_source src, enum tp_fact what,
				enum tp_hop by, enum tp_hop on, long long bytes)
{
	struct tp_evidence e;
	tp_evidence_init(&e, src, what);
	e.by = by;
	e.on = on;
	e.dir = TP_DIR_DOWN;
	e.bytes = bytes;
	return tp_verdict_add(v, &e) == 0 ? &v->evidence[v->nevidence - 1] : NULL;
}

/* The probe's own words on a failed request: class, phase, detail. */
static void probe_failed(struct tp_verdict *v, const struct jprobe *r)
{
	struct tp_evidence *e = fact(v, TP_SRC_PROBE, TP_FACT_FAILED, TP_HOP_CLIENT, TP_HOP_NONE, -1);
	if (!e)
		return;
	snprintf(e->name, sizeof e->name, "%s", r->cls);
	snprintf(e->phase, sizeof e->phase, "%s", r->phase);
	snprintf(e->detail, sizeof e->detail, "%s", r->detail);
}

/* How a leg's stream ended at byte at, from what the capture saw of it: inside a TLS
 * record or without close_notify, before the end its HTTP framing promised, or a FIN. */
static void fin_fact(struct tp_verdict *v, const struct flow_dir *d, enum tp_hop by,
		     enum tp_hop on, long long at)
{
	if (d->tls_truncated) {
		struct tp_evidence *e = fact(v, TP_SRC_CAPTURE, TP_FACT_TLS_CLOSE, by, on, at);
		if (e)
			snprintf(e->name, sizeof e->name, "%s", tlsrec_close_name(d->tls_close));
		return;
	}
	struct tp_evidence *e = fact(v, TP_SRC_CAPTURE, d->early_fin ? TP_FACT_EARLY_FIN : TP_FACT_FIN,
				     by, on, at);
	if (!e || !d->early_fin)
		return;
	if (d->early_fin_expected == UINT64_MAX)
		snprintf(e->name, sizeof e->name, "chunked");
	else if (d->early_fin_expected >= tunnel_prefix(d))
		e->of = (long long)(d->early_fin_expected - tunnel_prefix(d));
}

/* Whether the client got less than a hop before it, said by any witness. With v, each
 * witness that says so is added to it as a fact. */
static bool shortfall(const struct tunnel *t, struct tp_verdict *v)
{
	const struct flow *cf = t->client_flow, *of = t->origin_flow;
	const struct flow_dir *cd = &cf->dir[1];
	long long C = leg_bytes(cf, 1);
	bool any = false;
	if (of && C < leg_bytes(of, 1)) {
		any = true;
		if (v)
			fact(v, TP_SRC_CAPTURE, TP_FACT_CARRIED, TP_HOP_NONE, TP_HOP_ORIGIN_LEG, leg_bytes(of, 1));
	}
	/* The client leg's own end gives it away (the end fact says how). */
	if (cd->fin_t && (cf->flags & (FLOW_F_EARLY_FIN | FLOW_F_TLS_TRUNCATION)))
		any = true;
	if (t->down.expected >= 0 && t->down.probe_read >= 0 && t->down.probe_read < t->down.expected) {
		any = true;
		struct tp_evidence *e = v ? fact(v, TP_SRC_PROBE, TP_FACT_READ, TP_HOP_CLIENT, TP_HOP_NONE,
						 t->down.probe_read) : NULL;
		if (e)
			e->of = t->down.expected;
	}
	const struct jproxy *p = t->proxy;
	if (p && p->down.received >= 0 && p->down.sent < p->down.received) {
		any = true;
		struct tp_evidence *e = v ? fact(v, TP_SRC_PROXY_LEDGER, TP_FACT_WROTE, TP_HOP_PROXY,
						 TP_HOP_CLIENT_LEG, p->down.sent) : NULL;
		if (e)
			e->of = p->down.received;
	}
	return any;
}

/* The verdict from the capture's flows (and the ledgers' claims). Returns true when
 * one was made. */
static bool judge_wire(struct tunnel *t, bool failed, const char *cls)
{
	struct tp_verdict *v = &t->verdict;
	struct flow *cf = t->client_flow, *of = t->origin_flow;
	/* When the proxy ended the client leg; origin-leg events after it are consequences
	 * (a proxy that closes the client side often resets the upstream next). */
	double client_end = 0;
	if (cf) {
		const struct flow_dir *x = &cf->dir[1];
		client_end = x->fin_t && (!x->rst_t || x->fin_t < x->rst_t) ? x->fin_t : x->rst_t;
		if (cf->dir[0].rst_t && (!client_end || cf->dir[0].rst_t < client_end))
			client_end = cf->dir[0].rst_t;
	}
#define BEFORE_CLIENT_END(when) ((when) && (!client_end || (when) <= client_end))
	if (of) {
		const struct flow_dir *od = &of->dir[1], *pu = &of->dir[0];
		long long O = leg_bytes(of, 1);
		bool client_reset_first = cf && cf->dir[0].rst_t &&
					  (!pu->rst_t || cf->dir[0].rst_t <= pu->rst_t);
		if (BEFORE_CLIENT_END(od->rst_t)) {
			tp_verdict_init(v, TP_V_RESET_BY_ORIGIN, O);
			fact(v, TP_SRC_CAPTURE, TP_FACT_RST, TP_HOP_ORIGIN, TP_HOP_ORIGIN_LEG, O);
			return true;
		}
		if (BEFORE_CLIENT_END(pu->rst_t) && !client_reset_first) {
			tp_verdict_init(v, TP_V_RESET_UPSTREAM_BY_PROXY, O);
			fact(v, TP_SRC_CAPTURE, TP_FACT_RST, TP_HOP_PROXY, TP_HOP_ORIGIN_LEG, O);
			return true;
		}
		if (BEFORE_CLIENT_END(od->fin_t) && od->early_fin) {
			long long at = (long long)(od->r.fin_off - tunnel_prefix(od));
			tp_verdict_init(v, TP_V_TRUNCATED_ORIGIN_PROXY, at);
			fin_fact(v, od, TP_HOP_ORIGIN, TP_HOP_ORIGIN_LEG, at);
			return true;
		}
		if (od->r.bytes_missed && (!cf || leg_bytes(cf, 1) < O)) {
			tp_verdict_init(v, TP_V_LOST_GAP, -1);
			v->hop = TP_HOP_ORIGIN_LEG;
			fact(v, TP_SRC_CAPTURE, TP_FACT_GAP, TP_HOP_NONE, TP_HOP_ORIGIN_LEG,
			     (long long)od->r.bytes_missed);
			if (cf)
				fact(v, TP_SRC_CAPTURE, TP_FACT_CARRIED, TP_HOP_NONE, TP_HOP_CLIENT_LEG,
				     leg_bytes(cf, 1));
			return true;
		}
	}
#undef BEFORE_CLIENT_END
	if (!cf)
		return false;
	const struct flow_dir *cd = &cf->dir[1], *cu = &cf->dir[0];
	long long C = leg_bytes(cf, 1);
	bool short_of = shortfall(t, NULL);
	bool client_reset_first = cu->rst_t && (!cd->rst_t || cu->rst_t < cd->rst_t);
	if (cd->rst_t && !client_reset_first) {
		tp_verdict_init(v, TP_V_RESET_BY_PROXY, C);
		fact(v, TP_SRC_CAPTURE, TP_FACT_RST, TP_HOP_PROXY, TP_HOP_CLIENT_LEG, C);
		return true;
	}
	if (cd->fin_t && short_of && !client_reset_first) {
		long long at = (long long)cd->r.fin_off - (long long)tunnel_prefix(cd);
		if (at < 0)
			at = 0;
		tp_verdict_init(v, at == 0 && cd->http.mode == HS_TUNNEL ? TP_V_CLOSED_EARLY :
									   TP_V_TRUNCATED_PROXY_CLIENT, at);
		fin_fact(v, cd, TP_HOP_PROXY, TP_HOP_CLIENT_LEG, at);
		shortfall(t, v);
		return true;
	}
	if (cd->r.bytes_missed && short_of) {
		tp_verdict_init(v, TP_V_LOST_GAP, -1);
		v->hop = TP_HOP_CLIENT_LEG;
		fact(v, TP_SRC_CAPTURE, TP_FACT_GAP, TP_HOP_NONE, TP_HOP_CLIENT_LEG,
		     (long long)cd->r.bytes_missed);
		shortfall(t, v);
		return true;
	}
	const struct jprobe *r = t->first_failed;
	if (failed && strcmp(cls, "timeout") == 0) {
		if (!cd->fin_t && !cd->rst_t && !short_of) {
			tp_verdict_init(v, TP_V_NO_FIN, C);
			fact(v, TP_SRC_CAPTURE, TP_FACT_NO_FIN, TP_HOP_PROXY, TP_HOP_CLIENT_LEG, C);
		} else {
			tp_verdict_init(v, TP_V_CLIENT_TIMEOUT, C);
			fact(v, TP_SRC_CAPTURE, TP_FACT_CARRIED, TP_HOP_NONE, TP_HOP_CLIENT_LEG, C);
		}
		probe_failed(v, r);
		return true;
	}
	if (failed && client_reset_first) {
		tp_verdict_init(v, TP_V_RESET_BY_CLIENT, C);
		fact(v, TP_SRC_CAPTURE, TP_FACT_RST, TP_HOP_CLIENT, TP_HOP_CLIENT_LEG, C);
		return true;
	}
	if (failed && strcmp(cls, "tls_alert") == 0) {
		tp_verdict_init(v, TP_V_TLS_ALERT, -1);
		probe_failed(v, r);
		return true;
	}
	if (failed && t->down.probe_read >= 0 && r->wire_received >= 0 &&
	    (uint64_t)r->wire_received < flow_dir_bytes(cd) - tunnel_prefix(cd)) {
		tp_verdict_init(v, TP_V_CLIENT_SHORT_READ, r->wire_received);
		struct tp_evidence *e = fact(v, TP_SRC_PROBE, TP_FACT_READ, TP_HOP_CLIENT, TP_HOP_NONE,
					     r->wire_received);
		if (e)
			e->unit = TP_UNIT_MESSAGE;
		fact(v, TP_SRC_CAPTURE, TP_FACT_CARRIED, TP_HOP_NONE, TP_HOP_CLIENT_LEG, C);
		return true;
	}
	return false;
}

/* The verdict from ledgers alone (no capture, or the capture said nothing). */
static bool judge_ledgers(struct tunnel *t, const struct jprobe *r)
{
	struct tp_verdict *v = &t->verdict;
	const struct jorigin *o = t->origin;
	const struct jproxy *p = t->proxy;
	if (p && p->down.received >= 0 && p->down.sent >= 0 && p->down.sent < p->down.received) {
		bool rst = strcmp(p->client_end, "local_rst") == 0;
		tp_verdict_init(v, rst ? TP_V_RESET_BY_PROXY : TP_V_TRUNCATED_PROXY_CLIENT, p->down.sent);
		struct tp_evidence *e = fact(v, TP_SRC_PROXY_LEDGER, TP_FACT_WROTE, TP_HOP_PROXY,
					     TP_HOP_CLIENT_LEG, p->down.sent);
		if (e)
			e->of = p->down.received;
		/* How the proxy's ledger says it ended the client leg: closed first (by FIN or
		 * RST), or shut its write side. */
		if (rst || p->shut_client || strcmp(p->client_end, "local") == 0)
			fact(v, TP_SRC_PROXY_LEDGER, rst ? TP_FACT_RST : TP_FACT_FIN, TP_HOP_PROXY,
			     TP_HOP_CLIENT_LEG, p->down.sent);
		return true;
	}
	if (!r)
		return false;
	if (o && (strcmp(o->end, "rst") == 0 || o->rst_received)) {
		tp_verdict_init(v, TP_V_RESET_UPSTREAM_BY_PROXY, o->bytes_written);
		fact(v, TP_SRC_ORIGIN_LEDGER, TP_FACT_RST, TP_HOP_PROXY, TP_HOP_ORIGIN_LEG, o->bytes_written);
		return true;
	}
	if (strcmp(r->cls, "incomplete_read") == 0 || strcmp(r->cls, "reset") == 0) {
		long long acked = o ? (o->acked_close > o->acked_after ? o->acked_close : o->acked_after) : -1;
		bool origin_done = o && o->body_bytes >= 0 && r->expected >= 0 &&
				   o->body_bytes >= r->expected && acked >= o->bytes_written;
		if (origin_done || (o && !o->rst_received)) {
			/* The probe saw its peer, the proxy, end the connection early. */
			bool rst = strcmp(r->cls, "reset") == 0;
			tp_verdict_init(v, rst ? TP_V_RESET_BY_PROXY : TP_V_TRUNCATED_PROXY_CLIENT, r->received);
			struct tp_evidence *e = fact(v, TP_SRC_PROBE, rst ? TP_FACT_RST : TP_FACT_EARLY_FIN,
						     TP_HOP_PROXY, TP_HOP_CLIENT_LEG, r->received);
			if (e && !rst)
				e->of = r->expected;
			fact(v, TP_SRC_ORIGIN_LEDGER, TP_FACT_WROTE, TP_HOP_ORIGIN, TP_HOP_ORIGIN_LEG,
			     o->bytes_written);
			if (origin_done)
				fact(v, TP_SRC_ORIGIN_LEDGER, TP_FACT_ACKED, TP_HOP_PROXY, TP_HOP_ORIGIN_LEG, acked);
			return true;
		}
	}
	if (strcmp(r->cls, "timeout") == 0) {
		tp_verdict_init(v, TP_V_CLIENT_TIMEOUT, r->received);
		struct tp_evidence *e = fact(v, TP_SRC_PROBE, TP_FACT_READ, TP_HOP_CLIENT, TP_HOP_NONE,
					     r->received);
		if (e)
			e->of = r->expected;
		probe_failed(v, r);
		return true;
	}
	return false;
}

static void judge(struct tunnel *t)
{
	const struct jprobe *r = t->first_failed;
	bool failed = t->nfailed > 0;
	const char *cls = r ? r->cls : "ok";
	if (judge_wire(t, failed, cls) || judge_ledgers(t, failed ? r : NULL))
		return;
	if (failed) {
		tp_verdict_init(&t->verdict, TP_V_FAILED_UNLOCATED, -1);
		probe_failed(&t->verdict, r);
		struct tp_evidence *e = fact(&t->verdict, TP_SRC_PROBE, TP_FACT_READ, TP_HOP_CLIENT,
					     TP_HOP_NONE, r->received);
		if (e)
			e->of = r->expected;
		return;
	}
	if (t->client_flow && (t->client_flow->flags & (FLOW_F_GAP | FLOW_F_EARLY_FIN))) {
		flow_verdict(t->client_flow, &t->verdict);
		return;
	}
	tp_verdict_init(&t->verdict, TP_V_OK, -1);
}

static void fill_chains(struct tunnel *t, const struct ledgers *l, const char *local)
{
	chain_init(&t->down);
	chain_init(&t->up);
	for (size_t i = 0; i < l->nprobe; i++) {
		const struct jprobe *r = &l->probe[i];
		if (strcmp(r->local, local) != 0)
			continue;
		t->down.expected = add_known(t->down.expected, r->expected);
		t->down.probe_read = add_known(t->down.probe_read, r->received);
		t->up.probe_read = add_known(t->up.probe_read, r->sent);
		for (size_t k = 0; k < l->norigin; k++) {
			const struct jorigin *o = &l->origin[k];
			if (r->id[0] && strcmp(o->id, r->id) == 0) {
				t->down.origin_wrote = add_known(t->down.origin_wrote, o->bytes_written);
				t->up.origin_wrote = add_known(t->up.origin_wrote, o->bytes_received);
				t->origin = o;
			}
		}
	}
	if (t->proxy) {
		t->down.proxy_received = t->proxy->down.received;
		t->down.proxy_sent = t->proxy->down.sent;
		t->up.proxy_received = t->proxy->up.received;
		t->up.proxy_sent = t->proxy->up.sent;
	}
	if (t->client_flow) {
		t->down.client_leg = leg_bytes(t->client_flow, 1);
		t->up.client_leg = leg_bytes(t->client_flow, 0);
	}
	if (t->origin_flow) {
		t->down.origin_leg = leg_bytes(t->origin_flow, 1);
		t->up.origin_leg = leg_bytes(t->origin_flow, 0);
	}
}

int join_build(struct join *j, const struct ledgers *l, struct flow_table *flows)
{
	memset(j, 0, sizeof *j);
	struct flow_ref *refs = NULL;
	size_t nrefs = flows ? flows->n : 0;
	size_t cap = 0;
	int rc = 0;
	if (nrefs) {
		refs = calloc(nrefs, sizeof *refs);
		if (!refs)
			return -ENOMEM;
		for (size_t i = 0; i < nrefs; i++) {
			refs[i].f = flows->flows[i];
			flow_end_format(refs[i].f, 0, refs[i].addr, sizeof refs[i].addr);
		}
		qsort(refs, nrefs, sizeof *refs, ref_cmp);
	}
	/* One tunnel per client connection: probe records grouped by local address, then
	 * proxy ledger lines no probe record claimed. */
	size_t nsrc = l->nprobe + l->nproxy;
	for (size_t i = 0; i < nsrc; i++) {
		const struct jprobe *r = i < l->nprobe ? &l->probe[i] : NULL;
		const struct jproxy *px = r ? NULL : &l->proxy[i - l->nprobe];
		const char *local = r ? r->local : px->client_peer;
		struct tunnel *t = NULL;
		for (size_t k = 0; k < j->n; k++)
			if (local[0] && strcmp(j->t[k].local, local) == 0)
				t = &j->t[k];
		if (px && t)
			continue;
		if (!t) {
			if (j->n == cap) {
				size_t nc = cap ? cap * 2 : 64;
				struct tunnel *nt = realloc(j->t, nc * sizeof *nt);
				if (!nt) {
					rc = -ENOMEM;
					goto out;
				}
				j->t = nt;
				cap = nc;
			}
			t = &j->t[j->n++];
			memset(t, 0, sizeof *t);
			snprintf(t->local, sizeof t->local, "%s", local);
			snprintf(t->id, sizeof t->id, "%s", r ? r->id : px->id);
		}
		if (r) {
			t->nrequests++;
			if (strcmp(r->cls, "ok") != 0 && t->nfailed++ == 0)
				t->first_failed = r;
		} else {
			t->proxy = px;
		}
	}
	for (size_t k = 0; k < j->n; k++) {
		struct tunnel *t = &j->t[k];
		double when = 0;
		for (size_t i = 0; i < l->nprobe && !when; i++)
			if (strcmp(l->probe[i].local, t->local) == 0)
				when = l->probe[i].t;
		for (size_t i = 0; i < l->nproxy && !t->proxy; i++)
			if (strcmp(l->proxy[i].client_peer, t->local) == 0)
				t->proxy = &l->proxy[i];
		fill_chains(t, l, t->local);
		t->client_flow = find_flow(refs, nrefs, t->local, when);
		const char *up = t->origin ? t->origin->peer : t->proxy ? t->proxy->upstream_local : "";
		t->origin_flow = find_flow(refs, nrefs, up, when);
		if (t->origin_flow == t->client_flow)
			t->origin_flow = NULL; /* a direct run: the one flow is the client leg */
		fill_chains(t, l, t->local);
		if (t->client_flow)
			j->flows_in_tunnels++;
		if (t->origin_flow)
			j->flows_in_tunnels++;
		judge(t);
		j->counts[t->verdict.code]++;
	}
out:
	free(refs);
	return rc;
}

void join_free(struct join *j)
{
	if (!j)
		return;
	free(j->t);
	memset(j, 0, sizeof *j);
}

/* A fact about one side of a flow of unknown role: down is the responder's stream. */
static struct tp_evidence *flow_fact(struct tp_verdict *v, enum tp_fact what, int side, long long bytes)
{
	struct tp_evidence *e = fact(v, TP_SRC_CAPTURE, what, TP_HOP_NONE, TP_HOP_WIRE, bytes);
	if (e)
		e->dir = side ? TP_DIR_DOWN : TP_DIR_UP;
	return e;
}

enum tp_verdict_code flow_verdict(const struct flow *f, struct tp_verdict *v)
{
	const struct flow_dir *o = &f->dir[0], *r = &f->dir[1];
	for (int i = 1; i >= 0; i--) {
		const struct flow_dir *d = &f->dir[i];
		if (d->rst_t && !(f->dir[1 - i].rst_t && f->dir[1 - i].rst_t < d->rst_t)) {
			long long sent = (long long)flow_dir_bytes(d);
			tp_verdict_init(v, TP_V_RESET, sent);
			v->direction = i ? TP_DIR_DOWN : TP_DIR_UP;
			flow_fact(v, TP_FACT_RST, i, sent);
			return v->code;
		}
	}
	for (int i = 1; i >= 0; i--) {
		const struct flow_dir *d = &f->dir[i];
		if (d->fin_t && d->early_fin) {
			tp_verdict_init(v, TP_V_EARLY_FIN, (long long)d->r.fin_off);
			v->direction = i ? TP_DIR_DOWN : TP_DIR_UP;
			struct tp_evidence *e = flow_fact(v, TP_FACT_EARLY_FIN, i, (long long)d->r.fin_off);
			if (e && d->early_fin_expected == UINT64_MAX)
				snprintf(e->name, sizeof e->name, "chunked");
			else if (e)
				e->of = (long long)d->early_fin_expected;
			return v->code;
		}
	}
	if (o->r.bytes_missed || r->r.bytes_missed) {
		tp_verdict_init(v, TP_V_GAP, -1);
		v->direction = !o->r.bytes_missed ? TP_DIR_DOWN : !r->r.bytes_missed ? TP_DIR_UP : TP_DIR_NONE;
		struct tp_evidence *e = flow_fact(v, TP_FACT_GAP, 1, (long long)(o->r.bytes_missed + r->r.bytes_missed));
		if (e)
			e->dir = v->direction;
		return v->code;
	}
	for (int i = 1; i >= 0; i--) {
		const struct flow_dir *d = &f->dir[i];
		const struct tlsrec_alert *al = &d->tls.last_alert;
		if (d->tls.alerts && !al->encrypted && al->level == 2) {
			char nb[16];
			tp_verdict_init(v, TP_V_TLS_ALERT, (long long)al->off);
			v->hop = TP_HOP_WIRE;
			v->direction = i ? TP_DIR_DOWN : TP_DIR_UP;
			struct tp_evidence *e = flow_fact(v, TP_FACT_TLS_ALERT, i, (long long)al->off);
			if (e)
				snprintf(e->name, sizeof e->name, "fatal %s",
					 tlsrec_alert_name(al->desc, nb, sizeof nb));
			return v->code;
		}
	}
	for (int i = 1; i >= 0; i--) {
		const struct flow_dir *d = &f->dir[i];
		if (d->tls_truncated) {
			tp_verdict_init(v, TP_V_TLS_TRUNCATION, (long long)d->r.fin_off);
			v->direction = i ? TP_DIR_DOWN : TP_DIR_UP;
			struct tp_evidence *e = flow_fact(v, TP_FACT_TLS_CLOSE, i, (long long)d->r.fin_off);
			if (e)
				snprintf(e->name, sizeof e->name, "%s", tlsrec_close_name(d->tls_close));
			return v->code;
		}
	}
	tp_verdict_init(v, TP_V_OK, -1);
	return v->code;
}
