/* link — see link.h: resolve → build the stack → connect it filter by filter → up; the
 * requests that ride on it; idle keep-alive; closing.
 *
 * Deadlines while connecting are the link's: dns and connect share --connect-timeout
 * from the start, each later phase (proxy, tls) gets --timeout; every request waiting on
 * the link is armed at the link's deadline, and the first to see it pass reports it
 * for all (link_deadline). A link that fails or is lost lets go of its requests before
 * ending them, so a request that starts again at once (the worker's next) finds it
 * closed and free to reopen.
 */
#include "probe/link.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "probe/conn.h"
#include "probe/exchange.h"
#include "probe/h3x.h"
#include "probe/worker.h"

static void link_on_io(struct loop *loop, struct loop_io *io, unsigned events);
static void link_connect_stack(struct link *l);

void link_init(struct link *l, struct probe_worker *w)
{
	/* l is zeroed memory: its buffers' untouched pages never become resident. */
	l->w = w;
	l->fd = -1;
}

void link_free(struct link *l)
{
	if (!l || !l->w)
		return;
	link_close(l);
	free(l->proxy);
	l->proxy = NULL;
	free(l->qstream);
	l->qstream = NULL;
}

bool link_same_target(const struct probe_target *a, const struct probe_target *b)
{
	if (a == b)
		return true;
	if (a->url.scheme != b->url.scheme || a->url.port != b->url.port ||
	    strcmp(a->url.host, b->url.host) != 0 || a->has_proxy != b->has_proxy ||
	    a->tunnel != b->tunnel || a->dial_port != b->dial_port ||
	    strcmp(a->dial_host, b->dial_host) != 0)
		return false;
	return !a->has_proxy || strcmp(a->proxy_spec, b->proxy_spec) == 0;
}

bool link_fits(const struct link *l, const struct probe_target *t, bool quic)
{
	if (l->state == LINK_FREE || l->quic != quic || !l->target || l->nusers >= l->max_users)
		return false;
	if (quic ? l->quic_f && !pf_quic_usable(l->quic_f) : l->state != LINK_UP)
		return false;
	return link_same_target(l->target, t);
}

bool link_tunneled(const struct link *l)
{
	for (unsigned i = 0; i < l->nstack; i++)
		if (l->stack[i]->ops->tunnel)
			return true;
	return false;
}

void link_watch(struct link *l, unsigned events)
{
	if (l->fd < 0)
		return;
	int rc = loop_io_start(&l->w->loop, &l->io, l->fd, events, link_on_io, l);
	(void)rc; /* epoll_ctl on a valid fd we own only fails on ENOMEM; the deadline still fires */
}

/* ---- requests on the link ---- */

static void users_add(struct link *l, struct conn *c)
{
	c->link = l;
	c->link_prev = NULL;
	c->link_next = l->users;
	if (l->users)
		l->users->link_prev = c;
	l->users = c;
	l->nusers++;
}

static void users_remove(struct link *l, struct conn *c)
{
	if (c->link_prev)
		c->link_prev->link_next = c->link_next;
	else
		l->users = c->link_next;
	if (c->link_next)
		c->link_next->link_prev = c->link_prev;
	c->link_next = c->link_prev = NULL;
	c->link = NULL;
	l->nusers--;
}

/* Takes every request off l (their records keep its addresses) into out[]; returns how
 * many. The link's own state is untouched. */
static size_t users_take(struct link *l, struct conn **out, size_t cap)
{
	size_t n = 0;
	while (l->users && n < cap) {
		struct conn *c = l->users;
		memcpy(c->rec.local, l->local_s, sizeof c->rec.local);
		memcpy(c->rec.remote, l->remote_s, sizeof c->rec.remote);
		c->rec.quic = l->quic_facts;
		l->proto->detach(c);
		users_remove(l, c);
		out[n++] = c;
	}
	return n;
}

/* Sets the requests' time for the phase l was in, now that it is over. The clock is
 * read afresh: on loopback a TLS handshake can complete in the same loop iteration as
 * the TCP connect, and the loop's cached time would make it take no time at all. */
static void mark_phase_done(struct link *l)
{
	uint64_t now = loop_clock_us();
	for (struct conn *c = l->users; c; c = c->link_next) {
		struct req_times *t = &c->times;
		uint64_t *slot = l->phase == TP_PHASE_DNS ? &t->dns
				 : l->phase == TP_PHASE_CONNECT ? &t->connect
				 : l->phase == TP_PHASE_PROXY ? &t->proxy
				 : l->phase == TP_PHASE_TLS ? &t->tls : NULL;
		if (slot && !*slot)
			*slot = now;
	}
}

void link_set_deadline(struct link *l, uint64_t due_us)
{
	l->deadline_us = due_us;
	for (struct conn *c = l->users; c; c = c->link_next)
		if (c->state == CONN_LINK)
			conn_arm_at(c, due_us);
}

void link_phase(struct link *l, enum tp_phase next)
{
	uint64_t now = loop_now(&l->w->loop);
	mark_phase_done(l);
	l->phase = next;
	/* dns and connect share --connect-timeout from the start; later phases get
	 * --timeout each. */
	if (next != TP_PHASE_DNS && next != TP_PHASE_CONNECT)
		link_set_deadline(l, now + (uint64_t)(l->w->cfg->timeout_s * 1e6));
}

/* Every filter is connected: the requests waiting go. */
static void link_up(struct link *l)
{
	mark_phase_done(l);
	l->state = LINK_UP;
	l->connecting = NULL;
	l->top = l->stack[l->nstack - 1];
	/* A request that fails at once lets its slot start the next one, which may attach
	 * here again and go at once: only the ones waiting now are started, each once. */
	struct conn *waiting[PROBE_MAX_STREAMS];
	size_t n = 0;
	for (struct conn *c = l->users; c && n < PROBE_MAX_STREAMS; c = c->link_next)
		if (c->state == CONN_LINK)
			waiting[n++] = c;
	for (size_t i = 0; i < n; i++)
		if (waiting[i]->link == l && waiting[i]->state == CONN_LINK)
			conn_link_up(waiting[i]);
}

/* Lets go of every request on l, closes it, then ends each request with l->err — or,
 * with fall_back, hands it to TCP. Requests first, so one that starts again at once
 * (its slot's next) finds the link closed and free to reopen. */
static void end_users(struct link *l, bool fall_back)
{
	struct pf_error err = l->err;
	struct conn *taken[PROBE_MAX_STREAMS];
	size_t n = users_take(l, taken, PROBE_MAX_STREAMS);
	link_close(l);
	for (size_t i = 0; i < n; i++) {
		if (fall_back)
			conn_fall_back(taken[i], err.detail);
		else
			conn_link_failed(taken[i], &err);
	}
}

/* The link failed while connecting (l->err says how): each waiting request ends, or
 * with --http3 a failed QUIC attempt goes on over TCP. */
static void link_failed(struct link *l)
{
	end_users(l, l->quic && l->err.fallback && !l->w->cfg->http3_only);
}

void link_lost(struct link *l) { end_users(l, false); }

void link_step(struct link *l)
{
	while (l->state == LINK_CONNECTING && l->nconnected < l->nstack) {
		struct pf *f = l->stack[l->nconnected];
		l->connecting = f;
		int rc = f->ops->connect(f);
		if (rc == -EAGAIN) {
			if (l->deferred_fail) /* failed at once: report from the loop */
				link_set_deadline(l, loop_now(&l->w->loop));
			return;
		}
		if (rc < 0) {
			link_failed(l);
			return;
		}
		f->connected = true;
		if (++l->nconnected < l->nstack)
			link_phase(l, l->stack[l->nconnected]->ops->phase);
	}
	if (l->state == LINK_CONNECTING)
		link_up(l);
}

void link_deadline(struct link *l)
{
	const struct probe_config *cfg = l->w->cfg;
	if (l->deferred_fail) {
		link_failed(l);
		return;
	}
	if (l->state == LINK_RESOLVING) {
		pf_fail(&l->err, TP_TIMEOUT, TP_PHASE_DNS, "no DNS answer within %.1fs", cfg->connect_timeout_s);
		link_failed(l);
		return;
	}
	if (l->state != LINK_CONNECTING)
		return;
	struct pf *f = l->connecting;
	if (f && f->ops->timed_out)
		f->ops->timed_out(f, &l->err);
	else
		pf_fail(&l->err, TP_TIMEOUT, l->phase, "%s not connected within the phase's deadline",
			f ? f->ops->name : "connection");
	link_failed(l);
}

/* ---- resolving ---- */

static const struct net_addr *override_for(const struct probe_config *cfg, const char *host,
					   uint16_t port)
{
	for (size_t i = 0; i < cfg->nresolve; i++)
		if (cfg->resolve[i].port == port && strcasecmp(cfg->resolve[i].host, host) == 0)
			return &cfg->resolve[i].addr;
	return NULL;
}

static void resolve_or_connect(struct link *l);

static void on_resolved(void *arg, int status, const char *why, const struct net_addr *addrs, size_t n)
{
	struct link *l = arg;
	const struct probe_target *t = l->target;
	l->dnsq = NULL;
	const char *host = l->resolving_dst || !t->has_proxy ? t->dial_host : t->proxy.host;
	(void)n;
	if (status < 0) {
		pf_fail(&l->err, TP_DNS_ERROR, TP_PHASE_DNS, "%s: %s", host, why ? why : "resolution failed");
		link_failed(l);
		return;
	}
	if (l->resolving_dst) {
		l->socks_dst = addrs[0];
		l->socks_dst_resolved = true;
	} else {
		l->remote = addrs[0];
		l->remote_ready = true;
	}
	resolve_or_connect(l);
}

/* Resolves whatever the connection still needs (the first hop; a socks5:// proxy's
 * destination), then connects the stack. */
static void resolve_or_connect(struct link *l)
{
	const struct probe_config *cfg = l->w->cfg;
	const struct probe_target *t = l->target;
	bool socks_local = t->has_proxy && t->proxy.scheme == URL_SOCKS5;
	/* The first hop: the proxy, or the origin's dial address (--connect-to). */
	const char *hop_host = t->has_proxy ? t->proxy.host : t->dial_host;
	uint16_t hop_port = t->has_proxy ? t->proxy.port : t->dial_port;
	const char *host = NULL;
	uint16_t port = 0;
	l->resolving_dst = false;
	if (!l->remote_ready) {
		const struct net_addr *o = override_for(cfg, hop_host, hop_port);
		if (o) {
			l->remote = *o;
			l->remote_ready = true;
		} else {
			host = hop_host;
			port = hop_port;
		}
	}
	if (!host && socks_local && !l->socks_dst_resolved) {
		const struct net_addr *o = override_for(cfg, t->dial_host, t->dial_port);
		if (o) {
			l->socks_dst = *o;
			l->socks_dst_resolved = true;
		} else {
			host = t->dial_host;
			port = t->dial_port;
			l->resolving_dst = true;
		}
	}
	if (!host) {
		link_connect_stack(l);
		return;
	}
	l->state = LINK_RESOLVING;
	l->dnsq = dns_resolve(&l->w->dns, host, port, cfg->family, on_resolved, l);
	if (!l->dnsq) {
		/* Reported from the loop, like every failure at the start of a request. */
		pf_fail(&l->err, TP_DNS_ERROR, TP_PHASE_DNS, "%s: out of memory", host);
		l->deferred_fail = true;
		link_set_deadline(l, loop_now(&l->w->loop));
	}
}

/* ---- the stack ---- */

static void push(struct link *l, struct pf *f, const struct pf_ops *ops)
{
	f->ops = ops;
	f->link = l;
	f->connected = false;
	f->next = l->nstack ? l->stack[l->nstack - 1] : NULL;
	l->stack[l->nstack++] = f;
}

/* A tunnel through a QUIC proxy: quic-stream → socks5, or h3-connect (the QUIC
 * connection below is the group's carrier, shared). */
static int build_quic_tunnel(struct link *l)
{
	const struct probe_target *t = l->target;
	if (!l->qstream && !(l->qstream = calloc(1, sizeof *l->qstream)))
		return pf_fail(&l->err, TP_CONNECT_ERROR, TP_PHASE_CONNECT, "out of memory for a QUIC tunnel");
	bool h3 = t->proxy.scheme == URL_HTTP;
	l->qstream->h3 = h3;
	push(l, &l->qstream->base, h3 ? &pf_h3_connect_ops : &pf_quic_stream_ops);
	if (!h3) {
		if (!l->proxy && !(l->proxy = calloc(1, sizeof *l->proxy)))
			return pf_fail(&l->err, TP_PROXY_CONNECT_ABORTED, TP_PHASE_PROXY, "out of memory");
		push(l, &l->proxy->base, &pf_socks5_ops);
	}
	if (t->url.scheme == URL_HTTPS)
		push(l, &l->tls.base, &pf_tls_ops);
	return 0;
}

/* tcp → [socks5 | http-connect] → [tls], quic, or a tunnel through a QUIC proxy. */
static int build_stack(struct link *l)
{
	const struct probe_target *t = l->target;
	l->nstack = l->nconnected = 0;
	if (t->proxy_quic && !l->quic)
		return build_quic_tunnel(l);
	if (l->quic) {
		struct pf *q = pf_quic_new(l);
		if (!q)
			return pf_fail(&l->err, TP_CONNECT_ERROR, TP_PHASE_CONNECT, "out of memory for QUIC");
		l->quic_f = (struct pf_quic *)q;
		push(l, q, &pf_quic_ops);
		return 0;
	}
	push(l, &l->tcp.base, &pf_tcp_ops);
	if (t->has_proxy && (t->tunnel || t->proxy.scheme != URL_HTTP)) {
		if (!l->proxy && !(l->proxy = calloc(1, sizeof *l->proxy)))
			return pf_fail(&l->err, TP_PROXY_CONNECT_ABORTED, TP_PHASE_PROXY, "out of memory");
		push(l, &l->proxy->base, t->proxy.scheme == URL_HTTP ? &pf_http_connect_ops : &pf_socks5_ops);
	}
	if (t->url.scheme == URL_HTTPS)
		push(l, &l->tls.base, &pf_tls_ops);
	return 0;
}

static void link_connect_stack(struct link *l)
{
	l->state = LINK_CONNECTING;
	if (build_stack(l) < 0) {
		l->deferred_fail = true; /* reported from the loop */
		link_set_deadline(l, loop_now(&l->w->loop));
		return;
	}
	link_phase(l, l->stack[0]->ops->phase);
	link_step(l);
}

/* Opens l for t: resolving first, then the stack. */
static void link_open(struct link *l, const struct probe_target *t, bool quic)
{
	const struct probe_config *cfg = l->w->cfg;
	l->target = t;
	l->quic = quic;
	l->proto = quic ? &h3x_proto : &exchange_http1;
	l->max_users = quic ? cfg->streams : 1;
	l->remote_ready = false;
	l->socks_dst_resolved = false;
	l->deferred_fail = false;
	l->requests_done = 0;
	l->local_s[0] = l->remote_s[0] = '\0';
	memset(&l->err, 0, sizeof l->err);
	memset(&l->quic_facts, 0, sizeof l->quic_facts);
	l->state = LINK_RESOLVING;
	l->phase = TP_PHASE_DNS;
	l->opened_us = loop_now(&l->w->loop);
	link_set_deadline(l, loop_now(&l->w->loop) + (uint64_t)(cfg->connect_timeout_s * 1e6));
	resolve_or_connect(l);
}

void link_attach(struct link *l, struct conn *c, bool quic)
{
	users_add(l, c);
	if (l->state == LINK_UP) {
		c->rec.reused = true;
		conn_link_up(c);
		return;
	}
	c->state = CONN_LINK;
	if (l->state != LINK_FREE) {
		conn_arm_at(c, l->deadline_us);
		return;
	}
	memcpy(l->opener_id, c->rec.id, sizeof l->opener_id);
	memcpy(l->fallback, c->rec.fallback, sizeof l->fallback);
	link_open(l, conn_target(c), quic);
}

void link_detach(struct link *l, struct conn *c, bool keep)
{
	l->proto->detach(c);
	users_remove(l, c);
	if (keep)
		l->requests_done++;
	if (!l->quic) {
		if (keep) /* notice the server closing it while idle */
			link_watch(l, LOOP_READ);
		else
			link_close(l);
	} else if (l->nusers == 0 &&
		   (!l->w->cfg->keepalive || (l->quic_f && !pf_quic_usable(l->quic_f)))) {
		link_close(l);
	}
}

void link_close(struct link *l)
{
	if (l->dnsq) {
		dns_cancel(l->dnsq);
		l->dnsq = NULL;
	}
	for (unsigned i = l->nstack; i-- > 0;)
		l->stack[i]->ops->close(l->stack[i]);
	l->quic_f = NULL; /* a closed QUIC filter frees itself */
	l->nstack = l->nconnected = 0;
	l->top = l->connecting = NULL;
	l->state = LINK_FREE;
	l->target = NULL;
	l->requests_done = 0;
	l->deferred_fail = false;
	l->socks_dst_resolved = false;
	l->remote_ready = false;
}

/* ---- the socket of a TCP link ---- */

/* An idle kept-alive connection became readable: EOF, an error, or bytes nobody asked
 * for — the connection is done. */
static void idle_read(struct link *l)
{
	char byte;
	long n = pf_read(l->top, &byte, 1);
	if (n == -EAGAIN) {
		link_watch(l, pf_want(l->top, LOOP_READ));
		return;
	}
	link_close(l);
	worker_conn_closed_idle(l->w);
}

void link_wake(struct link *l)
{
	if (l->state == LINK_CONNECTING)
		link_step(l);
	else if (l->state != LINK_UP)
		return;
	else if (l->users)
		l->proto->ready(l->users);
	else
		idle_read(l);
}

static void link_on_io(struct loop *loop, struct loop_io *io, unsigned events)
{
	struct link *l = io->data;
	(void)events;
	if (l->state == LINK_CONNECTING || l->state == LINK_UP)
		link_wake(l);
	else
		loop_io_stop(loop, io);
}
