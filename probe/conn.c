/* conn — one probe connection's state machine: resolve → connect → (CONNECT | SOCKS5)
 * → (TLS) → request → response head → body, then kept alive or closed.
 *
 * Every way a request can end goes through conn_finish(), which fills the record with its
 * class (SPEC §4) and the phase the connection was in. Classification rules that the
 * incidents depend on:
 *   - the proxy closes (FIN or RST) before its CONNECT/SOCKS reply is complete
 *     → proxy_connect_aborted (what curl calls "Proxy CONNECT aborted");
 *   - a success reply, then a close before the first response byte (during TLS or
 *     while waiting for the response) → tunnel_closed_early;
 *   - an EOF (FIN, or TLS close_notify) inside a body the framing says is longer
 *     → incomplete_read with bytes read and expected; an RST → reset;
 *   - a close-delimited body whose announced length arrived but whose end (FIN) never
 *     comes → timeout in phase fin, distinct from a stall in phase body.
 * A request on a reused keep-alive connection that sees the connection close before
 * any response byte is retried once on a new connection (the server may close idle
 * connections at any time; browsers and curl retry the same way).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "probe/exchange.h"
#include "probe/tunnel.h"
#include "probe/worker.h"

static void on_io(struct loop *loop, struct loop_io *io, unsigned events);
static void on_timer(struct loop *loop, struct loop_timer *timer);
static void conn_connect(struct conn *c);

/* ---- small helpers ---- */

uint64_t conn_now(const struct conn *c) { return loop_now(&c->w->loop); }

void conn_watch(struct conn *c, unsigned events)
{
	int rc = loop_io_start(&c->w->loop, &c->io, c->fd, events, on_io, c);
	(void)rc; /* epoll_ctl on a valid fd we own only fails on ENOMEM; the timer still fires */
}

static void arm_at(struct conn *c, uint64_t due_us)
{
	c->deadline_us = due_us;
	if (!loop_timer_active(&c->timer) || c->timer.due_us > due_us)
		loop_timer_start_at(&c->w->loop, &c->timer, due_us);
}

/* A request moves its deadline three times and almost never reaches one, so the
 * deadline is only stored, and the timer moved only when it must fire earlier;
 * on_timer() re-arms a timer that fired before the deadline. */
void conn_arm(struct conn *c, double secs)
{
	arm_at(c, conn_now(c) + (uint64_t)(secs * 1e6));
}

const struct probe_target *conn_target(const struct conn *c)
{
	return &c->w->cfg->targets[c->req_target];
}

bool conn_via_tunnel(const struct probe_target *t)
{
	return t->has_proxy && (t->tunnel || t->proxy.scheme != URL_HTTP);
}

long conn_read(struct conn *c, void *buf, size_t len)
{
	return c->tls_on ? tls_read(&c->tls, buf, len) : net_read(c->fd, buf, len);
}

long conn_write(struct conn *c, const void *buf, size_t len)
{
	return c->tls_on ? tls_write(&c->tls, buf, len) : net_write(c->fd, buf, len);
}

/* After -EAGAIN: what to wait for. */
unsigned conn_want(const struct conn *c, unsigned plain)
{
	return c->tls_on ? c->tls.want : plain;
}

static double ms_since(uint64_t from, uint64_t to)
{
	return to && to >= from ? (double)(to - from) / 1000.0 : -1;
}

bool conn_fits(const struct conn *c, unsigned ti)
{
	if (c->state != CONN_IDLE || !c->target)
		return false;
	const struct probe_target *a = c->target, *b = &c->w->cfg->targets[ti];
	if (a == b)
		return true;
	if (a->url.scheme != b->url.scheme || a->url.port != b->url.port ||
	    strcmp(a->url.host, b->url.host) != 0 || a->has_proxy != b->has_proxy ||
	    a->tunnel != b->tunnel || a->dial_port != b->dial_port ||
	    strcmp(a->dial_host, b->dial_host) != 0)
		return false;
	return !a->has_proxy || strcmp(a->proxy_spec, b->proxy_spec) == 0;
}

static void free_inflate(struct conn *c)
{
	if (c->zs) {
		inflateEnd(c->zs);
		free(c->zs);
		c->zs = NULL;
	}
}

void conn_close(struct conn *c)
{
	struct loop *loop = &c->w->loop;
	loop_timer_stop(loop, &c->timer);
	if (c->dnsq) {
		dns_cancel(c->dnsq);
		c->dnsq = NULL;
	}
	if (c->fd >= 0) {
		loop_io_stop(loop, &c->io);
		tls_conn_free(&c->tls);
		net_close(c->fd);
	}
	free_inflate(c);
	c->fd = -1;
	c->tls_on = false;
	c->tunnel_up = false;
	c->requests_done = 0;
	c->state = CONN_FREE;
	c->target = NULL;
	c->in_len = 0;
	c->socks_dst_resolved = false;
	c->pending_err = 0;
}

void conn_free(struct conn *c)
{
	conn_close(c);
}

/* Ends the request in flight with a class, the phase it happened in and a detail. */
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
	memcpy(r->local, c->local_s, sizeof r->local);
	memcpy(r->remote, c->remote_s, sizeof r->remote);
	c->busy = false;
	bool keep = cls == TP_OK && c->resp_keepalive && c->w->cfg->keepalive && c->in_len == 0;
	if (keep) {
		/* The timer stays: it fires once while idle (on_timer ignores that), or
		 * the next request's deadline takes it over without a heap operation. */
		c->requests_done++;
		c->state = CONN_IDLE;
		conn_watch(c, LOOP_READ); /* notice the server closing it while idle */
	} else {
		conn_close(c);
	}
	worker_request_done(c->w, c);
}

/* Retries the request on a new connection when a reused one closed before answering. */
bool conn_retry_if_stale(struct conn *c)
{
	if (!c->rec.reused || c->retried || c->rec.wire_received > 0)
		return false;
	c->retried = true;
	c->w->stats.tot.retries++;
	c->rec.reused = false;
	c->rec.bytes_sent = 0;
	conn_close(c);
	conn_connect(c);
	return true;
}

/* ---- connecting ---- */

static const struct net_addr *override_for(const struct probe_config *cfg, const char *host,
					   uint16_t port)
{
	for (size_t i = 0; i < cfg->nresolve; i++)
		if (cfg->resolve[i].port == port && strcasecmp(cfg->resolve[i].host, host) == 0)
			return &cfg->resolve[i].addr;
	return NULL;
}

static void start_connect(struct conn *c);

static void on_resolved(void *arg, int status, const char *why, const struct net_addr *addrs,
			size_t n)
{
	struct conn *c = arg;
	const struct probe_target *t = conn_target(c);
	c->dnsq = NULL;
	bool for_socks_dst = c->state == CONN_RESOLVING && c->resolving_dst;
	const char *host = for_socks_dst || !t->has_proxy ? t->dial_host : t->proxy.host;
	if (status < 0) {
		conn_finish(c, TP_DNS_ERROR, TP_PHASE_DNS, "%s: %s", host, why ? why : "resolution failed");
		return;
	}
	(void)n;
	if (for_socks_dst) {
		c->socks_dst = addrs[0];
		c->socks_dst_resolved = true;
	} else {
		c->remote = addrs[0];
	}
	start_connect(c);
}

/* Resolves whatever the connection still needs, then connects. */
static void resolve_or_connect(struct conn *c)
{
	const struct probe_config *cfg = c->w->cfg;
	const struct probe_target *t = conn_target(c);
	bool socks_local = t->has_proxy && t->proxy.scheme == URL_SOCKS5;
	/* The first hop: the proxy, or the origin's dial address (--connect-to). */
	const char *hop_host = t->has_proxy ? t->proxy.host : t->dial_host;
	uint16_t hop_port = t->has_proxy ? t->proxy.port : t->dial_port;
	const char *host = NULL;
	uint16_t port = 0;
	c->resolving_dst = false;
	if (!c->remote_ready) {
		const struct net_addr *o = override_for(cfg, hop_host, hop_port);
		if (o) {
			c->remote = *o;
			c->remote_ready = true;
		} else {
			host = hop_host;
			port = hop_port;
		}
	}
	if (!host && socks_local && !c->socks_dst_resolved) {
		const struct net_addr *o = override_for(cfg, t->dial_host, t->dial_port);
		if (o) {
			c->socks_dst = *o;
			c->socks_dst_resolved = true;
		} else {
			host = t->dial_host;
			port = t->dial_port;
			c->resolving_dst = true;
		}
	}
	if (host) {
		c->state = CONN_RESOLVING;
		c->dnsq = dns_resolve(&c->w->dns, host, port, cfg->family, on_resolved, c);
		if (!c->dnsq)
			conn_finish(c, TP_DNS_ERROR, TP_PHASE_DNS, "%s: out of memory", host);
		return;
	}
	if (!c->times.dns)
		c->times.dns = conn_now(c);
	c->state = CONN_CONNECTING;
	int fd = net_connect(&c->remote);
	if (fd < 0) {
		/* Report from the loop, never from inside conn_start_request(): a run of
		 * instant failures must not recurse. */
		c->pending_err = fd;
		arm_at(c, conn_now(c));
		return;
	}
	c->fd = fd;
	c->w->stats.tot.conns_opened++;
	conn_watch(c, LOOP_WRITE);
}

static void start_connect(struct conn *c)
{
	/* on_resolved() stored an address: mark it and continue with what is left. */
	if (!c->resolving_dst)
		c->remote_ready = true;
	resolve_or_connect(c);
}

static void conn_connect(struct conn *c)
{
	const struct probe_target *t = conn_target(c);
	c->target = t;
	c->target_index = c->req_target;
	c->remote_ready = false;
	c->socks_dst_resolved = false;
	c->fd = -1;
	memset(&c->io, 0, sizeof c->io);
	conn_arm(c, c->w->cfg->connect_timeout_s);
	resolve_or_connect(c);
}

/* ---- TLS ---- */

static void fail_tls(struct conn *c, int rc)
{
	const struct probe_target *t = conn_target(c);
	if (rc == -EPIPE || rc == -ECONNRESET) {
		const char *how = rc == -EPIPE ? "closed" : "reset";
		if (conn_via_tunnel(t))
			conn_finish(c, TP_TUNNEL_CLOSED_EARLY, TP_PHASE_TLS,
			       "tunnel %s during the TLS handshake", how);
		else
			conn_finish(c, rc == -ECONNRESET ? TP_RESET : TP_TLS_ERROR, TP_PHASE_TLS,
			       "connection %s during the TLS handshake", how);
	} else if (rc == TLS_ERR_ALERT) {
		conn_finish(c, TP_TLS_ALERT, TP_PHASE_TLS, "%s", c->tls.alert);
	} else if (rc == TLS_ERR_VERIFY || rc == TLS_ERR_PROTOCOL) {
		conn_finish(c, TP_TLS_ERROR, TP_PHASE_TLS, "%s", c->tls.detail);
	} else {
		conn_finish(c, TP_TLS_ERROR, TP_PHASE_TLS, "%s", strerror(-rc));
	}
}

static void step_tls(struct conn *c)
{
	int rc = tls_handshake(&c->tls);
	if (rc == -EAGAIN) {
		conn_watch(c, c->tls.want);
		return;
	}
	if (rc < 0) {
		fail_tls(c, rc);
		return;
	}
	c->times.tls = conn_now(c);
	exchange_begin(c);
}

void conn_after_tunnel(struct conn *c)
{
	const struct probe_target *t = conn_target(c);
	if (t->url.scheme != URL_HTTPS) {
		exchange_begin(c);
		return;
	}
	const char *sni = t->url.host_is_literal ? NULL : t->url.host;
	if (tls_conn_init(&c->tls, (struct tls_client_ctx *)&c->w->cfg->tls, c->fd, sni,
			  t->url.host) < 0) {
		conn_finish(c, TP_TLS_ERROR, TP_PHASE_TLS, "out of memory");
		return;
	}
	c->tls_on = true;
	c->state = CONN_TLS;
	conn_arm(c, c->w->cfg->timeout_s);
	step_tls(c);
}

static void step_connected(struct conn *c)
{
	int err = c->pending_err ? c->pending_err : net_connect_result(c->fd);
	if (err < 0) {
		char where[NET_ADDRSTRLEN];
		conn_finish(c, TP_CONNECT_ERROR, TP_PHASE_CONNECT, "%s: %s", net_addr_format(&c->remote, where),
		       net_strerror(err));
		return;
	}
	c->times.connect = conn_now(c);
	struct net_addr local;
	if (net_local_addr(c->fd, &local) == 0)
		net_addr_format(&local, c->local_s);
	net_addr_format(&c->remote, c->remote_s);
	net_nodelay(c->fd);
	const struct probe_target *t = conn_target(c);
	if (conn_via_tunnel(t))
		tunnel_start(c);
	else
		conn_after_tunnel(c);
}

static void step_idle(struct conn *c)
{
	char byte;
	long n = conn_read(c, &byte, 1);
	if (n == -EAGAIN) {
		conn_watch(c, conn_want(c, LOOP_READ));
		return;
	}
	/* EOF, an error, or bytes nobody asked for: the connection is done. */
	conn_close(c);
	worker_conn_closed_idle(c->w, c);
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
	case CONN_RESOLVING:
		conn_finish(c, TP_TIMEOUT, TP_PHASE_DNS, "no DNS answer within %.1fs", cfg->connect_timeout_s);
		break;
	case CONN_CONNECTING:
		if (c->pending_err)
			step_connected(c);
		else
			conn_finish(c, TP_TIMEOUT, TP_PHASE_CONNECT, "not connected within %.1fs",
			       cfg->connect_timeout_s);
		break;
	case CONN_PROXY:
		conn_finish(c, TP_TIMEOUT, TP_PHASE_PROXY, "no complete proxy reply within %.1fs (%zu bytes)",
		       cfg->timeout_s, c->in_len);
		break;
	case CONN_TLS:
		conn_finish(c, TP_TIMEOUT, TP_PHASE_TLS, "TLS handshake not done within %.1fs", cfg->timeout_s);
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

static void on_io(struct loop *loop, struct loop_io *io, unsigned events)
{
	struct conn *c = io->data;
	switch (c->state) {
	case CONN_CONNECTING: step_connected(c); break;
	case CONN_PROXY: tunnel_step(c); break;
	case CONN_TLS: step_tls(c); break;
	case CONN_SENDING: exchange_send(c); break;
	case CONN_HEAD: exchange_head(c); break;
	case CONN_BODY: exchange_body(c); break;
	case CONN_IDLE: step_idle(c); break;
	default: loop_io_stop(loop, io); break;
	}
}

void conn_init(struct conn *c, struct probe_worker *w, unsigned slot)
{
	/* c is zeroed memory (calloc): no memset, so the buffers' untouched pages never
	 * become resident — 10,000 connections must fit in a few tens of MB. */
	c->w = w;
	c->slot = slot;
	c->fd = -1;
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
	memset(&c->times, 0, sizeof c->times);
	c->busy = true;
	w->inflight++;
	c->retried = false;
	c->req_target = ti;
	c->req_seq = seq;
	format_id(r->id, w->cfg, ti, seq);
	r->target = ti;
	r->bytes_expected = -1;
	c->times.intended = intended_us ? intended_us : conn_now(c);
	c->times.start = conn_now(c);
	r->t = w->wall_start + ((double)c->times.start - (double)w->start_us) / 1e6;
	stats_started(&w->stats, c->times.start);
	if (c->state == CONN_IDLE && conn_fits(c, ti)) {
		r->reused = true;
		exchange_begin(c);
		return;
	}
	if (c->state != CONN_FREE)
		conn_close(c);
	c->local_s[0] = c->remote_s[0] = '\0';
	conn_connect(c);
}
