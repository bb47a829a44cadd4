/* conn — a request slot: which connection a request rides on, its deadline, and the
 * single exit that classifies it.
 *
 * Every way a request can end goes through conn_finish(), which fills the record with its
 * class (SPEC §4) and the phase the request was in. Classification rules the incidents
 * depend on live where the bytes are seen: the proxy filters (proxy_connect_aborted,
 * proxy_refused), the TLS filter (tunnel_closed_early during the handshake), the
 * exchanges and verify.c (incomplete_read, reset, a body whose end never comes →
 * timeout in phase fin). A request on a reused keep-alive connection that sees the
 * connection close before any response byte is retried once on a new connection (the
 * server may close idle connections at any time; browsers and curl retry the same way).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "probe/verify.h"
#include "probe/worker.h"

static void on_timer(struct loop *loop, struct loop_timer *timer);

/* ---- small helpers ---- */

uint64_t conn_now(const struct conn *c) { return loop_now(&c->w->loop); }

/* A request moves its deadline several times and almost never reaches one, so the
 * deadline is only stored, and the timer moved only when it must fire earlier;
 * on_timer() re-arms a timer that fired before the deadline. */
void conn_arm_at(struct conn *c, uint64_t due_us)
{
	c->deadline_us = due_us;
	if (!loop_timer_active(&c->timer) || c->timer.due_us > due_us)
		loop_timer_start_at(&c->w->loop, &c->timer, due_us);
}

void conn_arm(struct conn *c, double secs)
{
	conn_arm_at(c, conn_now(c) + (uint64_t)(secs * 1e6));
}

const struct probe_target *conn_target(const struct conn *c)
{
	return &c->w->cfg->targets[c->req_target];
}

static double ms_since(uint64_t from, uint64_t to)
{
	return to && to >= from ? (double)(to - from) / 1000.0 : -1;
}

enum tp_phase conn_phase(const struct conn *c)
{
	switch (c->state) {
	case CONN_LINK: return c->link ? c->link->phase : TP_PHASE_CONNECT;
	case CONN_SENDING: return TP_PHASE_REQUEST;
	case CONN_HEAD: return c->rec.wire_received == 0 ? TP_PHASE_FIRST_BYTE : TP_PHASE_HEADERS;
	case CONN_BODY: return c->closing_wait_fin ? TP_PHASE_FIN : TP_PHASE_BODY;
	default: return TP_PHASE_DONE;
	}
}

bool conn_fits(const struct conn *c, unsigned ti)
{
	const struct probe_target *t = &c->w->cfg->targets[ti];
	if (t->quic && c->group && c->group->state == LINK_UP && link_fits(c->group, t, true))
		return true;
	return c->own.state == LINK_UP && link_fits(&c->own, t, t->quic);
}

bool conn_connected(const struct conn *c) { return c->own.state != LINK_FREE; }

void conn_close(struct conn *c)
{
	loop_timer_stop(&c->w->loop, &c->timer);
	if (c->link)
		link_detach(c->link, c, false);
	link_close(&c->own);
	c->state = CONN_FREE;
}

void conn_free(struct conn *c)
{
	conn_close(c);
	link_free(&c->own);
	verify_free(c);
}

/* ---- the end of a request ---- */

void conn_finish(struct conn *c, enum tp_class cls, enum tp_phase phase, const char *fmt, ...)
{
	struct probe_record *r = &c->rec;
	struct req_times *t = &c->times;
	r->cls = cls;
	r->phase = phase;
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(r->detail, sizeof r->detail, fmt, ap);
		va_end(ap);
	}
	t->end = conn_now(c);
	r->dns_ms = ms_since(t->start, t->dns);
	r->connect_ms = ms_since(t->start, t->connect);
	r->proxy_ms = ms_since(t->start, t->proxy);
	r->tls_ms = ms_since(t->start, t->tls);
	r->first_byte_ms = ms_since(t->start, t->first_byte);
	r->total_ms = ms_since(t->start, t->end);
	uint64_t from = c->w->open_loop ? t->intended : t->start;
	r->latency_ms = ms_since(from, t->end);
	c->busy = false;
	c->state = CONN_FREE;
	struct link *l = c->link;
	if (l) {
		memcpy(r->local, l->local_s, sizeof r->local);
		memcpy(r->remote, l->remote_s, sizeof r->remote);
		r->quic = l->quic_facts;
		/* The timer stays: it fires once while idle (on_timer ignores that), or the
		 * next request's deadline takes it over without a heap operation. */
		link_detach(l, c, cls == TP_OK && c->resp_keepalive && c->w->cfg->keepalive);
	}
	worker_request_done(c->w, c);
}

void conn_link_failed(struct conn *c, const struct pf_error *err)
{
	if (c->state != CONN_LINK && conn_retry_if_stale(c))
		return;
	if (err->status)
		c->rec.status = err->status;
	conn_finish(c, err->cls, c->state == CONN_LINK ? err->phase : conn_phase(c), "%s", err->detail);
}

void conn_link_up(struct conn *c)
{
	c->link->proto->begin(c);
}

/* ---- choosing a connection ---- */

/* Puts the request on a connection: with --http3 an https target shares its group's
 * QUIC connection when that fits (or is free to open), else the slot's own — QUIC too
 * when the group's carries another origin's requests. Everything else (http targets,
 * proxies, a request that fell back) rides alone on the slot's own TCP connection. */
static void route(struct conn *c)
{
	const struct probe_target *t = conn_target(c);
	struct link *own = &c->own;
	bool quic = t->quic && !c->rec.fallback[0];
	if (quic && own->fallback[0] && link_fits(own, t, false)) {
		/* The TCP connection an earlier request fell back to: QUIC is not tried
		 * again while it lives (a server without QUIC would cost every request an
		 * attempt), and the record says why it is TCP. */
		memcpy(c->rec.fallback, own->fallback, sizeof c->rec.fallback);
		quic = false;
	}
	c->rec.proto = quic ? "h3" : "http/1.1";
	struct link *g = c->group;
	if (quic && g) {
		if (link_fits(g, t, true)) {
			link_attach(g, c, true);
			return;
		}
		if (g->nusers == 0) {
			if (g->state != LINK_FREE)
				link_close(g);
			link_attach(g, c, true);
			return;
		}
	}
	if (own->state != LINK_FREE && !link_fits(own, t, quic))
		link_close(own);
	link_attach(own, c, quic);
}

void conn_fall_back(struct conn *c, const char *why)
{
	snprintf(c->rec.fallback, sizeof c->rec.fallback, "QUIC: %s", why);
	/* The TCP attempt's phases are the request's: forget the QUIC attempt's. */
	struct req_times *t = &c->times;
	t->dns = t->connect = t->proxy = t->tls = t->first_byte = 0;
	c->rec.reused = false;
	route(c);
}

bool conn_retry_if_stale(struct conn *c)
{
	if (!c->rec.reused || c->retried || c->rec.wire_received > 0)
		return false;
	c->retried = true;
	c->w->stats.tot.retries++;
	c->rec.reused = false;
	c->rec.bytes_sent = 0;
	if (c->link)
		link_detach(c->link, c, false);
	route(c);
	return true;
}

static void on_timer(struct loop *loop, struct loop_timer *timer)
{
	struct conn *c = timer->data;
	const struct probe_config *cfg = c->w->cfg;
	struct probe_record *r = &c->rec;
	if (!c->busy)
		return; /* idle since the deadline was set */
	if (loop_now(loop) < c->deadline_us) {
		loop_timer_start_at(loop, timer, c->deadline_us); /* the deadline moved on */
		return;
	}
	switch (c->state) {
	case CONN_LINK:
		link_deadline(c->link);
		break;
	case CONN_SENDING:
		conn_finish(c, TP_TIMEOUT, TP_PHASE_REQUEST, "request not sent within %.1fs (%" PRIu64 " bytes sent)",
			    cfg->timeout_s, r->bytes_sent);
		break;
	case CONN_HEAD:
		if (r->wire_received == 0)
			conn_finish(c, TP_TIMEOUT, TP_PHASE_FIRST_BYTE, "no response byte within %.1fs",
				    cfg->timeout_s);
		else
			conn_finish(c, TP_TIMEOUT, TP_PHASE_HEADERS, "response head incomplete after %.1fs (%" PRIu64
				    " bytes)", cfg->timeout_s, r->wire_received);
		break;
	case CONN_BODY:
		if (c->closing_wait_fin)
			conn_finish(c, TP_TIMEOUT, TP_PHASE_FIN,
				    "all %" PRIu64 " bytes read, but the end of the response (FIN) never came within %.1fs",
				    r->bytes_received, cfg->timeout_s);
		else
			conn_finish(c, TP_TIMEOUT, TP_PHASE_BODY,
				    "body stalled: %" PRIu64 " bytes read, %" PRId64 " expected, after %.1fs",
				    r->bytes_received, r->bytes_expected, cfg->timeout_s);
		break;
	default:
		break;
	}
}

void conn_init(struct conn *c, struct probe_worker *w, unsigned slot, struct link *group)
{
	/* c is zeroed memory (calloc): no memset, so the buffers' untouched pages never
	 * become resident — 10,000 connections must fit in a few tens of MB. */
	c->w = w;
	c->slot = slot;
	c->group = group;
	link_init(&c->own, w);
	c->own.carrier_slot = w->carriers ? &w->carriers[slot / w->cfg->streams] : NULL;
	loop_timer_init(&c->timer, on_timer, c);
}

/* Appends the decimal digits of v at p; returns the end. */
static char *put_u64(char *p, uint64_t v)
{
	char digits[20];
	size_t nd = 0;
	do {
		digits[sizeof digits - ++nd] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	memcpy(p, digits + sizeof digits - nd, nd);
	return p + nd;
}

/* "PREFIX-TARGET-SEQ" without printf's cost per request; the prefix is at most 23
 * characters and each number at most 20, so it always fits the record's id. */
static void format_id(char *out, const struct probe_config *cfg, unsigned ti, uint64_t seq)
{
	size_t n = strlen(cfg->id_prefix);
	memcpy(out, cfg->id_prefix, n);
	char *p = out + n;
	*p++ = '-';
	p = put_u64(p, ti);
	*p++ = '-';
	p = put_u64(p, seq);
	*p = '\0';
}

void conn_start_request(struct conn *c, unsigned ti, uint64_t seq, uint64_t intended_us)
{
	struct probe_worker *w = c->w;
	struct probe_record *r = &c->rec;
	memset(r, 0, sizeof *r);
	c->busy = true;
	w->inflight++;
	c->retried = false;
	c->req_target = ti;
	c->req_seq = seq;
	format_id(r->id, w->cfg, ti, seq);
	r->target = ti;
	r->bytes_expected = -1;
	memset(&c->times, 0, sizeof c->times);
	c->times.intended = intended_us ? intended_us : conn_now(c);
	c->times.start = conn_now(c);
	r->t = w->wall_start + ((double)c->times.start - (double)w->start_us) / 1e6;
	stats_started(&w->stats, c->times.start);
	const struct probe_target *t = conn_target(c);
	if (t->h3_not_tried)
		snprintf(r->fallback, sizeof r->fallback, "%s", t->h3_not_tried);
	route(c);
}
