/* judge — see judge.h. */
#include "capture/judge.h"

#include <stdio.h>
#include <string.h>

#include "capture/join.h"

/* One request (or a tunnel without any) being judged, and its witnesses. */
struct kase {
	const struct join *j;
	const struct tunnel *t;
	const struct jrequest *q;   /* NULL: a tunnel of proxy lines alone */
	const struct jprobe *r;
	const struct jorigin *o, *oend;
	const struct jproxy *p;     /* the request's forward line, else the tunnel's */
	const struct flow *cf, *of; /* the capture's legs: only for the request that ended
				     * the connection, whose end they show */
	struct tp_verdict *v;
};

static bool is(const char *s, const char *name)
{
	return strcmp(s, name) == 0;
}

/* ---- facts ---- */

/* Appends a fact to v; returns it for the caller to complete (of, name, unit...), or
 * NULL when the list is full. */
static struct tp_evidence *fact_dir(struct tp_verdict *v, enum tp_source src, enum tp_fact what,
				    enum tp_hop by, enum tp_hop on, enum tp_dir dir, long long bytes)
{
	struct tp_evidence e;
	tp_evidence_init(&e, src, what);
	e.by = by;
	e.on = on;
	e.dir = dir;
	e.bytes = bytes;
	return tp_verdict_add(v, &e) == 0 ? &v->evidence[v->nevidence - 1] : NULL;
}

static struct tp_evidence *fact(struct tp_verdict *v, enum tp_source src, enum tp_fact what,
				enum tp_hop by, enum tp_hop on, long long bytes)
{
	return fact_dir(v, src, what, by, on, TP_DIR_DOWN, bytes);
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

/* "client read M of E body bytes". */
static void probe_read(struct tp_verdict *v, const struct jprobe *r)
{
	struct tp_evidence *e = fact(v, TP_SRC_PROBE, TP_FACT_READ, TP_HOP_CLIENT, TP_HOP_NONE, r->received);
	if (e)
		e->of = r->expected;
}

/* How the probe saw its peer, the proxy, end the client leg at body byte M. */
static void probe_end(struct tp_verdict *v, const struct jprobe *r, bool rst)
{
	struct tp_evidence *e = fact(v, TP_SRC_PROBE, rst ? TP_FACT_RST : TP_FACT_EARLY_FIN,
				     TP_HOP_PROXY, TP_HOP_CLIENT_LEG, r->received);
	if (e && !rst)
		e->of = r->expected;
}

/* The origin connection as its ledger saw it. */
struct origin_view {
	bool done;          /* the origin wrote the whole response (its line has no end) */
	bool reset_sent;    /* the origin reset its connection */
	bool fin_first;     /* the origin closed first, by FIN */
	bool peer_ended;    /* its peer (the proxy) ended the connection */
	bool peer_reset;
	bool fin_sent;
	long long acked;    /* TCP bytes its peer acknowledged (stream), -1 unknown */
	bool all_acked;     /* at least as many as it wrote: exact over plain HTTP; over TLS
			     * (acked counts records and the handshake too) give or take the
			     * TLS overhead — a fact to show, never what decides */
};

static struct origin_view origin_view(const struct jorigin *o, const struct jorigin *e)
{
	struct origin_view w = {.done = !o->has_end, .acked = -1};
	const char *end = e ? e->end : "";
	w.reset_sent = is(end, "local_rst");
	w.fin_first = is(end, "local");
	w.peer_reset = e && (e->rst_received || is(end, "rst"));
	w.peer_ended = e && (w.peer_reset || e->fin_received || is(end, "fin"));
	w.fin_sent = e && e->fin_sent;
	w.acked = e ? e->acked_close : o->acked_after;
	long long written = e ? e->conn_written : o->conn_written;
	if (written < 0)
		written = o->bytes_written; /* a ledger from before conn_bytes_written */
	w.all_acked = w.acked >= 0 && written >= 0 && w.acked >= written;
	return w;
}

/* "origin wrote W bytes" and, when it all was, "proxy acknowledged A bytes on the
 * origin leg". */
static void origin_wrote(struct tp_verdict *v, const struct jorigin *o, const struct origin_view *w)
{
	fact(v, TP_SRC_ORIGIN_LEDGER, TP_FACT_WROTE, TP_HOP_ORIGIN, TP_HOP_ORIGIN_LEG, o->bytes_written);
	if (!w->all_acked)
		return;
	struct tp_evidence *e = fact(v, TP_SRC_ORIGIN_LEDGER, TP_FACT_ACKED, TP_HOP_PROXY,
				     TP_HOP_ORIGIN_LEG, w->acked);
	if (e)
		e->unit = TP_UNIT_STREAM;
}

/* ---- 1. refusals ---- */

static bool proxy_line_refused(const struct jproxy *p)
{
	if (!p || p->reply < 0)
		return false;
	if (is(p->kind, "socks5"))
		return p->reply != 0;
	return is(p->kind, "connect") && (p->reply < 200 || p->reply > 299);
}

static void refused_fact(struct tp_verdict *v, enum tp_source src, enum tp_hop on, const char *proto,
			 int reply, const char *detail)
{
	struct tp_evidence *e = fact_dir(v, src, TP_FACT_REFUSED, TP_HOP_PROXY, on, TP_DIR_NONE, -1);
	if (!e)
		return;
	e->unit = TP_UNIT_NONE;
	e->reply = reply;
	snprintf(e->name, sizeof e->name, "%s", proto);
	snprintf(e->detail, sizeof e->detail, "%s", detail ? detail : "");
}

/* A CONNECT/SOCKS5 refusal said by the probe, the proxy's ledger or the wire. */
static bool judge_refused(struct kase *c)
{
	const struct jprobe *r = c->r;
	bool probe = r && (is(r->cls, "proxy_refused") || is(r->cls, "proxy_connect_aborted"));
	bool ledger = proxy_line_refused(c->p);
	int wire = -1;
	const char *wire_proto = "http";
	if (c->cf) {
		const struct httpscan *h = &c->cf->dir[1].http;
		if (h->connect_status && (h->connect_status < 200 || h->connect_status > 299)) {
			wire = h->connect_status;
		} else if (h->socks_reply != 0 && h->socks_reply != 0xff) {
			wire = h->socks_reply;
			wire_proto = "socks5";
		}
	}
	if (!probe && !ledger && wire < 0)
		return false;
	tp_verdict_init(c->v, TP_V_PROXY_REFUSED, -1);
	if (probe)
		refused_fact(c->v, TP_SRC_PROBE, TP_HOP_NONE,
			     is(r->cls, "proxy_connect_aborted") ? "aborted" : r->socks ? "socks5" : "http",
			     r->status > 0 ? r->status : -1, r->detail);
	if (ledger)
		refused_fact(c->v, TP_SRC_PROXY_LEDGER, TP_HOP_NONE, is(c->p->kind, "socks5") ? "socks5" : "http",
			     c->p->reply, NULL);
	if (wire >= 0)
		refused_fact(c->v, TP_SRC_CAPTURE, TP_HOP_CLIENT_LEG, wire_proto, wire, NULL);
	return true;
}

/* ---- 2. the wire ---- */

static uint64_t tunnel_prefix(const struct flow_dir *d)
{
	return d->http.mode == HS_TUNNEL ? d->http.tunnel_off : 0;
}

/* Bytes a leg carried toward the client (down) or the origin (up), in the unit the two
 * legs share: tunnel bytes after a CONNECT exchange, HTTP body bytes when the proxy
 * rewrites heads (plain forwarding), raw stream bytes otherwise. */
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
static bool shortfall(const struct kase *c, struct tp_verdict *v)
{
	const struct flow *cf = c->cf, *of = c->of;
	const struct flow_dir *cd = &cf->dir[1];
	bool any = false;
	if (of && leg_bytes(cf, 1) < leg_bytes(of, 1)) {
		any = true;
		if (v)
			fact(v, TP_SRC_CAPTURE, TP_FACT_CARRIED, TP_HOP_NONE, TP_HOP_ORIGIN_LEG, leg_bytes(of, 1));
	}
	/* The client leg's own end gives it away (the end fact says how). */
	if (cd->fin_t && (cf->flags & (FLOW_F_EARLY_FIN | FLOW_F_TLS_TRUNCATION)))
		any = true;
	const struct jprobe *r = c->r;
	if (r->expected >= 0 && r->received >= 0 && r->received < r->expected) {
		any = true;
		if (v)
			probe_read(v, r);
	}
	const struct jproxy *p = c->p;
	if (p && p->down.received >= 0 && p->down.sent < p->down.received) {
		any = true;
		struct tp_evidence *e = v ? fact(v, TP_SRC_PROXY_LEDGER, TP_FACT_WROTE, TP_HOP_PROXY,
						 TP_HOP_CLIENT_LEG, p->down.sent) : NULL;
		if (e)
			e->of = p->down.received;
	}
	return any;
}

/* The origin leg decides when something happened there before the client leg ended
 * (later events are consequences: a proxy that closes the client side often resets the
 * upstream next). */
static bool judge_origin_leg(const struct kase *c, double client_end)
{
	struct tp_verdict *v = c->v;
	const struct flow *cf = c->cf, *of = c->of;
	const struct flow_dir *od = &of->dir[1], *pu = &of->dir[0];
	long long O = leg_bytes(of, 1);
#define BEFORE_CLIENT_END(when) ((when) && (!client_end || (when) <= client_end))
	if (BEFORE_CLIENT_END(od->rst_t)) {
		/* The client leg ended by FIN after the origin's reset: the proxy hid it. */
		const struct flow_dir *cd = cf ? &cf->dir[1] : NULL;
		bool became_fin = cd && cd->fin_t && cd->fin_t >= od->rst_t &&
				  (!cd->rst_t || cd->fin_t < cd->rst_t);
		if (became_fin) {
			long long at = leg_bytes(cf, 1);
			tp_verdict_init(v, TP_V_RESET_BECAME_FIN, at);
			fin_fact(v, cd, TP_HOP_PROXY, TP_HOP_CLIENT_LEG, at);
			fact(v, TP_SRC_CAPTURE, TP_FACT_RST, TP_HOP_ORIGIN, TP_HOP_ORIGIN_LEG, O);
		} else {
			tp_verdict_init(v, TP_V_RESET_BY_ORIGIN, O);
			fact(v, TP_SRC_CAPTURE, TP_FACT_RST, TP_HOP_ORIGIN, TP_HOP_ORIGIN_LEG, O);
		}
		return true;
	}
	bool client_reset_first = cf && cf->dir[0].rst_t && (!pu->rst_t || cf->dir[0].rst_t <= pu->rst_t);
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
#undef BEFORE_CLIENT_END
	if (od->r.bytes_missed && (!cf || leg_bytes(cf, 1) < O)) {
		tp_verdict_init(v, TP_V_LOST_GAP, -1);
		v->hop = TP_HOP_ORIGIN_LEG;
		fact(v, TP_SRC_CAPTURE, TP_FACT_GAP, TP_HOP_NONE, TP_HOP_ORIGIN_LEG, (long long)od->r.bytes_missed);
		if (cf)
			fact(v, TP_SRC_CAPTURE, TP_FACT_CARRIED, TP_HOP_NONE, TP_HOP_CLIENT_LEG, leg_bytes(cf, 1));
		return true;
	}
	return false;
}

/* Bytes the client sent into the tunnel that never appeared on the origin leg, or its
 * FIN that was never passed on (only where both legs carry the same stream). */
static bool judge_upload_wire(const struct kase *c)
{
	const struct flow *cf = c->cf, *of = c->of;
	if (!of || cf->dir[0].http.mode != HS_TUNNEL)
		return false;
	long long sent = leg_bytes(cf, 0), arrived = (long long)flow_dir_bytes(&of->dir[0]);
	bool fin_lost = cf->dir[0].fin_t && !of->dir[0].fin_t && !of->dir[0].rst_t &&
			(is(c->r->phase, "request") || is(c->r->phase, "first_byte"));
	if (sent <= arrived && !fin_lost)
		return false;
	tp_verdict_init(c->v, TP_V_UPLOAD_LOST, arrived);
	fact_dir(c->v, TP_SRC_CAPTURE, TP_FACT_CARRIED, TP_HOP_NONE, TP_HOP_ORIGIN_LEG, TP_DIR_UP, arrived);
	fact_dir(c->v, TP_SRC_CAPTURE, TP_FACT_CARRIED, TP_HOP_NONE, TP_HOP_CLIENT_LEG, TP_DIR_UP, sent);
	if (fin_lost) {
		fact_dir(c->v, TP_SRC_CAPTURE, TP_FACT_FIN, TP_HOP_CLIENT, TP_HOP_CLIENT_LEG, TP_DIR_UP, sent);
		fact_dir(c->v, TP_SRC_CAPTURE, TP_FACT_NO_FIN, TP_HOP_PROXY, TP_HOP_ORIGIN_LEG, TP_DIR_UP, arrived);
	}
	probe_failed(c->v, c->r);
	return true;
}

/* The client leg: how the proxy ended it, against what the hops before carried. */
static bool judge_client_leg(const struct kase *c)
{
	struct tp_verdict *v = c->v;
	const struct jprobe *r = c->r;
	const struct flow *cf = c->cf;
	const struct flow_dir *cd = &cf->dir[1], *cu = &cf->dir[0];
	long long C = leg_bytes(cf, 1);
	bool short_of = shortfall(c, NULL);
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
		shortfall(c, v);
		return true;
	}
	if (cd->r.bytes_missed && short_of) {
		tp_verdict_init(v, TP_V_LOST_GAP, -1);
		v->hop = TP_HOP_CLIENT_LEG;
		fact(v, TP_SRC_CAPTURE, TP_FACT_GAP, TP_HOP_NONE, TP_HOP_CLIENT_LEG, (long long)cd->r.bytes_missed);
		shortfall(c, v);
		return true;
	}
	if (judge_upload_wire(c))
		return true;
	if (is(r->cls, "timeout")) {
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
	if (client_reset_first) {
		tp_verdict_init(v, TP_V_RESET_BY_CLIENT, C);
		fact(v, TP_SRC_CAPTURE, TP_FACT_RST, TP_HOP_CLIENT, TP_HOP_CLIENT_LEG, C);
		return true;
	}
	if (is(r->cls, "tls_alert")) {
		tp_verdict_init(v, TP_V_TLS_ALERT, -1);
		probe_failed(v, r);
		return true;
	}
	if (r->received >= 0 && r->wire_received >= 0 &&
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

static bool judge_wire(const struct kase *c)
{
	const struct flow *cf = c->cf;
	/* When the proxy ended the client leg (or the client reset it). */
	double client_end = 0;
	if (cf) {
		const struct flow_dir *x = &cf->dir[1];
		client_end = x->fin_t && (!x->rst_t || x->fin_t < x->rst_t) ? x->fin_t : x->rst_t;
		if (cf->dir[0].rst_t && (!client_end || cf->dir[0].rst_t < client_end))
			client_end = cf->dir[0].rst_t;
	}
	if (c->of && judge_origin_leg(c, client_end))
		return true;
	return cf && judge_client_leg(c);
}

/* ---- 3. the proxy's ledger ---- */

static bool judge_proxy(const struct kase *c)
{
	struct tp_verdict *v = c->v;
	const struct jproxy *p = c->p;
	const struct jprobe *r = c->r;
	if (!p)
		return false;
	if (p->down.received >= 0 && p->down.sent >= 0 && p->down.sent < p->down.received) {
		bool rst = is(p->client_end, "local_rst");
		tp_verdict_init(v, rst ? TP_V_RESET_BY_PROXY : TP_V_TRUNCATED_PROXY_CLIENT, p->down.sent);
		struct tp_evidence *e = fact(v, TP_SRC_PROXY_LEDGER, TP_FACT_WROTE, TP_HOP_PROXY,
					     TP_HOP_CLIENT_LEG, p->down.sent);
		if (e)
			e->of = p->down.received;
		/* How the proxy's ledger says it ended the client leg: closed first (by FIN or
		 * RST), or shut its write side. */
		if (rst || p->shut_client || is(p->client_end, "local"))
			fact(v, TP_SRC_PROXY_LEDGER, rst ? TP_FACT_RST : TP_FACT_FIN, TP_HOP_PROXY,
			     TP_HOP_CLIENT_LEG, p->down.sent);
		if (r)
			probe_read(v, r);
		return true;
	}
	if (p->up.received >= 0 && p->up.sent >= 0 && p->up.sent < p->up.received) {
		tp_verdict_init(v, TP_V_UPLOAD_LOST, p->up.sent);
		struct tp_evidence *e = fact_dir(v, TP_SRC_PROXY_LEDGER, TP_FACT_WROTE, TP_HOP_PROXY,
						 TP_HOP_ORIGIN_LEG, TP_DIR_UP, p->up.sent);
		if (e)
			e->of = p->up.received;
		if (r)
			probe_failed(v, r);
		return true;
	}
	/* The origin ended its side, the proxy never ended the client's. */
	if (r && is(r->cls, "timeout") && is(r->phase, "fin") && is(p->upstream_end, "fin") &&
	    !p->shut_client && !is(p->client_end, "local") && !is(p->client_end, "local_rst")) {
		tp_verdict_init(v, TP_V_NO_FIN, p->down.sent);
		fact(v, TP_SRC_PROXY_LEDGER, TP_FACT_NO_FIN, TP_HOP_PROXY, TP_HOP_CLIENT_LEG, p->down.sent);
		fact(v, TP_SRC_PROXY_LEDGER, TP_FACT_FIN, TP_HOP_ORIGIN, TP_HOP_ORIGIN_LEG, p->down.received);
		probe_failed(v, r);
		return true;
	}
	return false;
}

/* ---- 4. the origin's ledger against the probe record ---- */

/* The probe saw an early end (FIN: incomplete_read, or RST: reset). */
static bool judge_early_end(const struct kase *c, const struct origin_view *w)
{
	struct tp_verdict *v = c->v;
	const struct jprobe *r = c->r;
	const struct jorigin *o = c->o;
	bool rst = is(r->cls, "reset");
	bool proxied = r->path != JPATH_DIRECT;
	if (w->reset_sent && !w->done && (rst || proxied)) {
		/* The origin reset mid-response: passed on as a reset, or hidden as a FIN. */
		if (rst) {
			tp_verdict_init(v, TP_V_RESET_BY_ORIGIN, o->bytes_written);
			fact(v, TP_SRC_ORIGIN_LEDGER, TP_FACT_RST, TP_HOP_ORIGIN, TP_HOP_ORIGIN_LEG, o->bytes_written);
			probe_end(v, r, true);
		} else {
			tp_verdict_init(v, TP_V_RESET_BECAME_FIN, r->received);
			probe_end(v, r, false);
			fact(v, TP_SRC_ORIGIN_LEDGER, TP_FACT_RST, TP_HOP_ORIGIN, TP_HOP_ORIGIN_LEG, o->bytes_written);
		}
		return true;
	}
	if (w->fin_first && !w->done) {
		tp_verdict_init(v, TP_V_TRUNCATED_ORIGIN_PROXY, o->bytes_written);
		fact(v, TP_SRC_ORIGIN_LEDGER, TP_FACT_EARLY_FIN, TP_HOP_ORIGIN, TP_HOP_ORIGIN_LEG, o->bytes_written);
		probe_read(v, r);
		return true;
	}
	if ((!w->done && !w->peer_ended) || !proxied)
		return false; /* the origin was still at it, or no proxy to blame: nothing separates the hops */
	/* The origin wrote it all, or its peer ended the origin leg: the proxy cut it. */
	tp_verdict_init(v, rst ? TP_V_RESET_BY_PROXY : TP_V_TRUNCATED_PROXY_CLIENT, r->received);
	probe_end(v, r, rst);
	origin_wrote(v, o, w);
	if (!w->done)
		fact(v, TP_SRC_ORIGIN_LEDGER, w->peer_reset ? TP_FACT_RST : TP_FACT_FIN, TP_HOP_PROXY,
		     TP_HOP_ORIGIN_LEG, o->bytes_written);
	return true;
}

static bool judge_timeout(const struct kase *c, const struct origin_view *w)
{
	struct tp_verdict *v = c->v;
	const struct jprobe *r = c->r;
	const struct jorigin *o = c->o;
	bool waiting = is(r->phase, "request") || is(r->phase, "first_byte");
	if (r->path == JPATH_DIRECT)
		return false; /* each of these names the proxy */
	if (is(r->phase, "fin") && w->done && w->fin_sent) {
		/* The origin ended its response with a FIN; the client never saw one. */
		tp_verdict_init(v, TP_V_NO_FIN, r->received);
		fact(v, TP_SRC_PROBE, TP_FACT_NO_FIN, TP_HOP_PROXY, TP_HOP_CLIENT_LEG, r->received);
		fact(v, TP_SRC_ORIGIN_LEDGER, TP_FACT_FIN, TP_HOP_ORIGIN, TP_HOP_ORIGIN_LEG, o->bytes_written);
		probe_read(v, r);
		probe_failed(v, r);
		return true;
	}
	if (waiting && r->path != JPATH_FORWARD && o->bytes_received >= 0 && r->sent > o->bytes_received) {
		/* Through a tunnel the origin reads the very bytes the probe wrote. */
		tp_verdict_init(v, TP_V_UPLOAD_LOST, o->bytes_received);
		fact_dir(v, TP_SRC_ORIGIN_LEDGER, TP_FACT_READ, TP_HOP_ORIGIN, TP_HOP_ORIGIN_LEG, TP_DIR_UP,
			 o->bytes_received);
		struct tp_evidence *e = fact_dir(v, TP_SRC_PROBE, TP_FACT_WROTE, TP_HOP_CLIENT, TP_HOP_CLIENT_LEG,
						 TP_DIR_UP, r->sent);
		if (e)
			e->unit = TP_UNIT_MESSAGE;
		probe_failed(v, r);
		return true;
	}
	if (w->done && w->all_acked) {
		/* The proxy took every byte and the client still waited: it stalled there. */
		tp_verdict_init(v, TP_V_CLIENT_TIMEOUT, r->received);
		v->hop = TP_HOP_PROXY;
		probe_read(v, r);
		origin_wrote(v, o, w);
		probe_failed(v, r);
		return true;
	}
	return false;
}

/* A request the origin ledger (this run's) never saw, though it logged one that started
 * after this one was given up: not a line still to come (the origin writes a request's
 * line when its response is done or its connection ends). */
static bool judge_never_arrived(const struct kase *c)
{
	const struct jprobe *r = c->r;
	if (!c->q->origin_later || r->path == JPATH_DIRECT || !is(r->cls, "timeout") ||
	    !(is(r->phase, "request") || is(r->phase, "first_byte")))
		return false;
	tp_verdict_init(c->v, TP_V_UPLOAD_LOST, -1);
	fact_dir(c->v, TP_SRC_ORIGIN_LEDGER, TP_FACT_ABSENT, TP_HOP_ORIGIN, TP_HOP_NONE, TP_DIR_UP, -1);
	struct tp_evidence *e = fact_dir(c->v, TP_SRC_PROBE, TP_FACT_WROTE, TP_HOP_CLIENT, TP_HOP_CLIENT_LEG,
					 TP_DIR_UP, r->sent);
	if (e)
		e->unit = TP_UNIT_MESSAGE;
	probe_failed(c->v, r);
	return true;
}

static bool judge_origin(const struct kase *c)
{
	if (!c->o)
		return judge_never_arrived(c);
	struct origin_view w = origin_view(c->o, c->oend);
	const char *cls = c->r->cls;
	if (is(cls, "incomplete_read") || is(cls, "reset"))
		return judge_early_end(c, &w);
	if (is(cls, "timeout"))
		return judge_timeout(c, &w);
	return false;
}

/* ---- 5. the probe alone ---- */

/* The evidence that was missing and would have named a hop for this failure. */
static unsigned would_locate(const struct kase *c)
{
	static const char *const locatable[] = {"incomplete_read", "reset", "timeout", "tls_error",
						"protocol_error", "tunnel_closed_early"};
	bool can = false;
	for (size_t i = 0; i < sizeof locatable / sizeof locatable[0]; i++)
		can = can || is(c->r->cls, locatable[i]);
	if (!can)
		return 0;
	const struct join_inputs *in = &c->j->in;
	bool proxied = c->r->path != JPATH_DIRECT;
	unsigned need = 0;
	if (!c->q->origin_covered)
		need |= TP_NEED_ORIGIN_LEDGER;
	if (!in->proxy_ledger && proxied)
		need |= TP_NEED_PROXY_LEDGER;
	if (!in->capture)
		need |= TP_NEED_CAPTURE_CLIENT_LEG | (proxied ? TP_NEED_CAPTURE_ORIGIN_LEG : 0);
	return need;
}

static void judge_probe(const struct kase *c)
{
	struct tp_verdict *v = c->v;
	const struct jprobe *r = c->r;
	if (is(r->cls, "tunnel_closed_early")) {
		/* The proxy accepted the tunnel, then the client leg ended before a byte came. */
		tp_verdict_init(v, TP_V_CLOSED_EARLY, 0);
		struct tp_evidence *e = fact(v, TP_SRC_PROBE, TP_FACT_FIN, TP_HOP_PROXY, TP_HOP_CLIENT_LEG, 0);
		if (e)
			e->unit = TP_UNIT_STREAM;
		probe_failed(v, r);
		if (c->o)
			fact(v, TP_SRC_ORIGIN_LEDGER, TP_FACT_WROTE, TP_HOP_ORIGIN, TP_HOP_ORIGIN_LEG, c->o->bytes_written);
		else if (c->q->origin_covered)
			fact(v, TP_SRC_ORIGIN_LEDGER, TP_FACT_ABSENT, TP_HOP_ORIGIN, TP_HOP_NONE, -1);
		return;
	}
	if (is(r->cls, "tls_alert")) {
		tp_verdict_init(v, TP_V_TLS_ALERT, -1);
		probe_failed(v, r);
		return;
	}
	tp_verdict_init(v, is(r->cls, "timeout") ? TP_V_CLIENT_TIMEOUT : TP_V_FAILED_UNLOCATED,
			is(r->cls, "timeout") ? r->received : -1);
	if (is(r->cls, "timeout"))
		probe_read(v, r);
	probe_failed(v, r);
	if (!is(r->cls, "timeout"))
		probe_read(v, r);
	v->would_locate = would_locate(c);
}

/* ---- requests and tunnels ---- */

static void judge_request(const struct join *j, const struct tunnel *t, const struct jrequest *q)
{
	/* A forward proxy's line is one request's; a CONNECT/SOCKS5 line the whole tunnel's. */
	const struct jproxy *tunnel_line = t->proxy && !is(t->proxy->kind, "forward") ? t->proxy : NULL;
	struct kase c = {.j = j, .t = t, .q = q, .r = q->probe, .o = q->origin, .oend = q->origin_end,
			 .p = q->proxy ? q->proxy : tunnel_line, .v = q->verdict};
	if (q == t->deciding) {
		c.cf = t->client_flow;
		c.of = t->origin_flow;
	}
	if (judge_refused(&c) || judge_wire(&c) || judge_proxy(&c) || judge_origin(&c))
		return;
	judge_probe(&c);
}

/* A tunnel the proxy logged and no probe record claims (another client, or a run
 * without records). */
static void judge_proxy_only(const struct join *j, struct tunnel *t)
{
	for (size_t i = 0; i < t->nproxy; i++) {
		struct kase c = {.j = j, .t = t, .p = j->proxy_order[t->first_proxy + i], .v = &t->verdict};
		if (judge_refused(&c) || judge_proxy(&c))
			return;
	}
	tp_verdict_init(&t->verdict, TP_V_OK, -1);
}

/* A tunnel whose requests were all ok: what its client flow shows. (An origin
 * connection that ended by its idle timeout says nothing about the client's FIN: the
 * records do not say when the probe closed, and an idle client times out too.) */
static void judge_ok_tunnel(struct tunnel *t)
{
	if (t->client_flow && (t->client_flow->flags & (FLOW_F_GAP | FLOW_F_EARLY_FIN))) {
		flow_verdict(t->client_flow, &t->verdict);
		return;
	}
	tp_verdict_init(&t->verdict, TP_V_OK, -1);
}

void judge_tunnel(const struct join *j, struct tunnel *t)
{
	for (size_t i = 0; i < t->nrequests; i++) {
		const struct jrequest *q = &j->req[t->first + i];
		if (q->verdict)
			judge_request(j, t, q);
	}
	if (t->deciding)
		t->verdict = *t->deciding->verdict;
	else if (!t->nrequests)
		judge_proxy_only(j, t);
	else
		judge_ok_tunnel(t);
}

/* ---- a flow on its own ---- */

/* A fact about one side of a flow of unknown role: down is the responder's stream. */
static struct tp_evidence *flow_fact(struct tp_verdict *v, enum tp_fact what, int side, long long bytes)
{
	return fact_dir(v, TP_SRC_CAPTURE, what, TP_HOP_NONE, TP_HOP_WIRE, side ? TP_DIR_DOWN : TP_DIR_UP, bytes);
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
