/* filter_quic — the bottom and top of a QUIC stack: a connected UDP socket, a lib/quic
 * connection and lib/h3 on it. It is the only place ngtcp2 is driven: datagrams are read
 * in batches (recvmmsg, GRO) when the socket is readable, the connection's expiry is a
 * loop timer, and datagrams go out in GSO batches after every read, expiry and kick.
 * HTTP/3 stream events go to the link's protocol (h3x.c); what ends the connection is
 * classified here (pf_quic_describe_close).
 *
 * Lifetime: one struct pf_quic per QUIC connection, allocated when the link builds its
 * stack. Closing it (link_close) may happen inside an ngtcp2 callback, where the
 * connection must not be freed: the filter then stops its watchers, ignores every later
 * event and frees itself when its driver returns to the loop.
 *
 * Loss on the way out: when the socket is full the rest of a batch is dropped and the
 * filter waits for writability; QUIC's loss recovery sends those packets again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/h3.h"
#include "lib/net.h"
#include "lib/quic.h"
#include "probe/link.h"
#include "probe/worker.h"

#define RX_ROUNDS 8               /* recvmmsg calls per readable event */
#define TX_ROUNDS 64              /* GSO batches per drive */
#define FALLBACK_DELAY_US 1000000 /* --http3: how long QUIC may take to answer the Initial */

struct pf_quic {
	struct pf base;
	struct probe_worker *w;   /* kept: the link may carry another connection once we close */
	struct net_udp udp;
	struct loop_io io;
	struct loop_timer timer;  /* the connection's expiry, and kicks */
	struct quic_conn q;
	struct h3_conn h3;
	bool started;             /* socket and connection made */
	bool answered;            /* a datagram came from the server */
	bool goaway;              /* the server is shutting down: no new streams */
	bool busy;                /* inside quic_drive(): never free here */
	bool want_send;           /* kicked while busy: send again before returning */
	bool closed;              /* link_close'd: free when not busy */
	int sock_err;             /* ICMP error seen on the socket before the handshake */

	/* A carrier (a QUIC proxy's connection, shared by tunnels): base.link is NULL. */
	bool carrier;
	bool raw;                 /* ALPN "socks5": raw streams, no HTTP/3 */
	struct pf_qstream *tunnels; /* attached (pf_qstream.next_c) */
	unsigned ntunnels;
	struct pf_quic **slot;    /* the group's pointer to it, cleared when it goes */
	const char *proxy_spec;   /* what it connects to (tunnels of other proxies do not fit) */
	struct net_addr remote;
	char local_s[NET_ADDRSTRLEN], remote_s[NET_ADDRSTRLEN];
};

static void quic_drive(struct pf_quic *qf, bool readable);

struct quic_conn *pf_quic_conn(struct pf_quic *qf) { return &qf->q; }

bool pf_quic_usable(const struct pf_quic *qf)
{
	return !qf->closed && !qf->goaway && (!qf->started || qf->q.state < QUIC_ST_CLOSING);
}

struct h3_conn *pf_quic_h3(struct pf_quic *qf) { return &qf->h3; }

void pf_quic_kick(struct pf_quic *qf)
{
	if (qf->busy)
		qf->want_send = true;
	else if (!qf->closed)
		loop_timer_start_at(&qf->w->loop, &qf->timer, loop_now(&qf->w->loop));
}

/* ---- classification ---- */

/* HTTP/3 and QUIC codes that say the peer found our framing or theirs broken. */
static bool protocol_code(bool app, uint64_t code)
{
	if (app)
		return code == H3_GENERAL_PROTOCOL_ERROR || code == H3_STREAM_CREATION_ERROR ||
		       code == H3_CLOSED_CRITICAL_STREAM || code == H3_FRAME_UNEXPECTED ||
		       code == H3_FRAME_ERROR || code == H3_ID_ERROR || code == H3_SETTINGS_ERROR ||
		       code == H3_MISSING_SETTINGS || code == H3_MESSAGE_ERROR ||
		       (code >= 0x200 && code <= 0x202); /* QPACK */
	return (code >= 0x3 && code <= 0xb) || code == 0xd || code == 0xe;
}

void pf_quic_describe_close(const struct quic_close *cl, bool handshake_done, bool answered,
			    double waited_s, struct pf_error *err)
{
	memset(err, 0, sizeof *err);
	err->fallback = !handshake_done;
	enum tp_phase phase = answered ? TP_PHASE_TLS : TP_PHASE_CONNECT;
	const char *name = cl->app ? h3_error_name(cl->code) : quic_transport_error_name(cl->code);
	switch (cl->reason) {
	case QUIC_CLOSE_TLS:
		if (cl->by_peer)
			pf_fail(err, TP_TLS_ALERT, TP_PHASE_TLS, "%s", quic_alert_name(cl->tls_alert));
		else
			pf_fail(err, TP_TLS_ERROR, TP_PHASE_TLS, "%s (we sent alert %s)",
				cl->detail[0] ? cl->detail : "handshake failed", quic_alert_name(cl->tls_alert));
		break;
	case QUIC_CLOSE_IDLE:
	case QUIC_CLOSE_HANDSHAKE_TIMEOUT:
		if (handshake_done)
			pf_fail(err, TP_TIMEOUT, TP_PHASE_BODY, "QUIC idle timeout: nothing from the server for %.1fs",
				waited_s);
		else if (!answered)
			pf_fail(err, TP_CONNECT_ERROR, TP_PHASE_CONNECT, "no answer to the QUIC Initial within %.1fs",
				waited_s);
		else
			pf_fail(err, TP_TIMEOUT, TP_PHASE_TLS, "QUIC handshake not done within %.1fs", waited_s);
		break;
	case QUIC_CLOSE_PEER:
	case QUIC_CLOSE_PROTOCOL:
	case QUIC_CLOSE_LOCAL: /* our h3 closed it: the code says what it found wrong */
		pf_fail(err, protocol_code(cl->app, cl->code) || cl->reason == QUIC_CLOSE_PROTOCOL ? TP_PROTOCOL_ERROR
												: TP_RESET,
			phase, "connection closed by %s: %s (0x%llx)%s%.100s", cl->by_peer ? "the server" : "the probe",
			name, (unsigned long long)cl->code, cl->detail[0] ? ": " : "", cl->detail);
		break;
	case QUIC_CLOSE_STATELESS_RESET:
		pf_fail(err, TP_RESET, phase, "stateless reset: the server no longer knows the connection");
		break;
	default:
		pf_fail(err, TP_PROTOCOL_ERROR, phase, "QUIC failure: %.150s", cl->detail[0] ? cl->detail : "internal");
		break;
	}
}

/* The connection ended: l->err from how. */
static void describe(struct pf_quic *qf, struct pf_error *err)
{
	const struct probe_config *cfg = qf->w->cfg;
	bool up = qf->q.state >= QUIC_ST_OPEN && (qf->raw || qf->h3.ready);
	double waited = up ? cfg->timeout_s : qf->answered ? cfg->timeout_s : cfg->connect_timeout_s;
	pf_quic_describe_close(&qf->q.close, up, qf->answered, waited, err);
}

/* ---- datagrams ---- */

static void quic_send(struct pf_quic *qf);

/* Reads what the socket holds, a batch at a time; after each batch the ACKs (and
 * anything the events queued) go out at once, so a long batch of body bytes being
 * verified does not delay the server's ACKs — its RTT estimate, pacing and congestion
 * window depend on them. ngtcp2 gets the real clock for the same reason. */
static void quic_recv(struct pf_quic *qf)
{
	struct probe_worker *w = qf->w;
	struct net_dgram d[PROBE_UDP_RX_BUFS];
	for (int round = 0; round < RX_ROUNDS && !qf->closed; round++) {
		for (size_t i = 0; i < PROBE_UDP_RX_BUFS; i++)
			d[i] = (struct net_dgram){.buf = w->udp_rx + i * PROBE_UDP_RX_SIZE, .cap = PROBE_UDP_RX_SIZE};
		int n = net_udp_recv(&qf->udp, d, PROBE_UDP_RX_BUFS);
		if (n == -EAGAIN)
			return;
		if (n < 0) {
			/* ICMP (ECONNREFUSED: no one on that port) matters before the handshake;
			 * later the connection's own timers decide. */
			qf->sock_err = -n;
			return;
		}
		uint64_t now = loop_clock_us();
		for (int i = 0; i < n && !qf->closed; i++) {
			size_t seg = d[i].segment ? d[i].segment : d[i].len;
			for (size_t off = 0; off < d[i].len && !qf->closed; off += seg) {
				size_t len = d[i].len - off < seg ? d[i].len - off : seg;
				quic_conn_read(&qf->q, (struct sockaddr *)&d[i].addr.ss, d[i].addr.len,
					       (uint8_t *)d[i].buf + off, len, now);
			}
			qf->answered = true;
		}
		quic_send(qf);
		if ((size_t)n < PROBE_UDP_RX_BUFS)
			return;
	}
}

static void quic_send(struct pf_quic *qf)
{
	struct probe_worker *w = qf->w;
	struct quic_tx tx = {.buf = w->udp_tx, .cap = PROBE_UDP_TX_SIZE};
	for (int round = 0; round < TX_ROUNDS && !qf->closed; round++) {
		int n = quic_conn_write(&qf->q, loop_clock_us(), &tx);
		if (n <= 0)
			return;
		struct net_dgram d = {.buf = tx.buf, .len = tx.len, .segment = tx.count > 1 ? (uint16_t)tx.seg : 0};
		int sent = net_udp_send(&qf->udp, &d, 1);
		if (sent == 1)
			continue;
		if (sent == 0 || sent == -EAGAIN)
			loop_io_set(&w->loop, &qf->io, LOOP_READ | LOOP_WRITE);
		else if (!qf->answered)
			qf->sock_err = -sent;
		return;
	}
}

static void on_io(struct loop *loop, struct loop_io *io, unsigned events)
{
	struct pf_quic *qf = io->data;
	if (events & LOOP_WRITE)
		loop_io_set(loop, io, LOOP_READ);
	quic_drive(qf, (events & (LOOP_READ | LOOP_ERROR)) != 0);
}

static void on_timer(struct loop *loop, struct loop_timer *timer)
{
	(void)loop;
	quic_drive(timer->data, false);
}

static void destroy(struct pf_quic *qf)
{
	if (qf->slot && *qf->slot == qf)
		*qf->slot = NULL;
	if (qf->started) {
		if (qf->q.state < QUIC_ST_CLOSING && qf->udp.fd >= 0) {
			/* A polite end: CONNECTION_CLOSE with H3_NO_ERROR, sent once and at once
			 * (quic_send() sends nothing for a closed link), so the server ends the
			 * connection and its streams now instead of at its idle timeout. */
			quic_conn_close(&qf->q, true, H3_NO_ERROR, NULL);
			struct quic_tx tx = {.buf = qf->w->udp_tx, .cap = PROBE_UDP_TX_SIZE};
			if (quic_conn_write(&qf->q, loop_clock_us(), &tx) > 0) {
				struct net_dgram d = {.buf = tx.buf, .len = tx.len,
						      .segment = tx.count > 1 ? (uint16_t)tx.seg : 0};
				net_udp_send(&qf->udp, &d, 1);
			}
		}
		h3_conn_free(&qf->h3);
		quic_conn_free(&qf->q);
	}
	if (qf->udp.fd >= 0)
		close(qf->udp.fd);
	free(qf);
}

/* Tells the link what happened to the connection: its phases while connecting, its end
 * while up. */
static void notify_tunnels(struct pf_quic *qf);

static void notify_link(struct pf_quic *qf)
{
	struct link *l = qf->base.link;
	if (qf->carrier) {
		notify_tunnels(qf);
		return;
	}
	if (l->quic_f != qf)
		return;
	if (l->state == LINK_CONNECTING) {
		/* The server answered: the handshake is under way. Its whole time is the
		 * request's "tls" phase (QUIC has no separate connect), so no connect time is
		 * marked; only the deadline and the phase a failure is named by change. */
		if (qf->answered && l->phase == TP_PHASE_CONNECT) {
			l->phase = TP_PHASE_TLS;
			link_set_deadline(l, loop_now(&qf->w->loop) + (uint64_t)(qf->w->cfg->timeout_s * 1e6));
		}
		link_step(l);
	} else if (l->state == LINK_UP && qf->q.state >= QUIC_ST_CLOSING) {
		describe(qf, &l->err);
		link_lost(l);
	}
}

/* Reads, runs timers, writes; then the link. Nothing frees qf until this returns. */
static void quic_drive(struct pf_quic *qf, bool readable)
{
	struct loop *loop = &qf->w->loop;
	qf->busy = true;
	if (readable)
		quic_recv(qf);
	uint64_t now = loop_clock_us(); /* ngtcp2's clock must not go back: never the cached one */
	if (!qf->closed && quic_conn_expiry(&qf->q) <= now)
		quic_conn_handle_expiry(&qf->q, now);
	if (!qf->closed)
		quic_send(qf);
	/* Then the link; what it and the exchange queue meanwhile (a request on a
	 * connection just up, the next request of a slot) goes now, not at the next
	 * expiry, and the link hears of whatever that send changed. */
	for (int round = 0; round < 4 && !qf->closed; round++) {
		notify_link(qf);
		if (!qf->want_send || qf->closed)
			break;
		qf->want_send = false;
		quic_send(qf);
	}
	if (!qf->closed) {
		uint64_t due = qf->want_send ? loop_now(loop) : quic_conn_expiry(&qf->q);
		if (due == UINT64_MAX)
			loop_timer_stop(loop, &qf->timer);
		else
			loop_timer_start_at(loop, &qf->timer, due);
	}
	qf->busy = false;
	if (qf->closed)
		destroy(qf);
}

/* ---- HTTP/3 events: stream events to the exchange ---- */

/* A carrier's connection-level event: the handshake done (HTTP/3 ready, for h3) or room
 * for more streams wakes every tunnel waiting to open its stream. */
static void carrier_quic_event(struct pf_quic *qf, const struct quic_event *ev)
{
	if (ev->type == QUIC_EV_HANDSHAKE_DONE || ev->type == QUIC_EV_STREAMS_AVAILABLE)
		for (struct pf_qstream *s = qf->tunnels; s; s = s->next_c)
			s->wake = true;
}

static void on_h3(struct h3_conn *h, const struct h3_event *ev, void *arg)
{
	(void)h;
	struct pf_quic *qf = arg;
	struct link *l = qf->base.link;
	if (qf->closed)
		return;
	if (qf->carrier) {
		if (ev->type == H3_EV_QUIC)
			carrier_quic_event(qf, ev->quic);
		else if (ev->stream && ev->stream->user)
			pf_qstream_on_h3(ev->stream->user, ev);
		return;
	}
	if (l->quic_f != qf)
		return;
	if (ev->type == H3_EV_QUIC) {
		if (ev->quic->type == QUIC_EV_STREAMS_AVAILABLE && l->state == LINK_UP)
			l->proto->streams_available(l);
		return;
	}
	if (ev->type == H3_EV_GOAWAY) {
		qf->goaway = true;
		return;
	}
	l->proto->stream_event(l, ev);
}

/* ---- the filter ---- */

struct pf *pf_quic_new(struct link *l)
{
	struct pf_quic *qf = calloc(1, sizeof *qf);
	if (!qf)
		return NULL;
	qf->w = l->w;
	qf->udp.fd = -1;
	loop_timer_init(&qf->timer, on_timer, qf);
	return &qf->base;
}

/* Raw streams (a socks5+quic:// carrier): stream events to the tunnel that holds the
 * stream; the connection's end is seen after the drive (notify_tunnels). */
static void on_quic_raw(struct quic_conn *c, const struct quic_event *ev, void *arg)
{
	(void)c;
	struct pf_quic *qf = arg;
	if (qf->closed)
		return;
	if (!ev->stream)
		carrier_quic_event(qf, ev);
	else if (ev->stream->user)
		pf_qstream_on_quic(ev->stream->user, ev);
}

/* The socket, connected to remote so ICMP errors come back, and the connection: to the
 * origin (ALPN h3), or a carrier to a QUIC proxy (h3, or socks5 with raw streams).
 * 0, or -1 with err filled; local_s and remote_s get the addresses. */
static int quic_open(struct pf_quic *qf, const struct net_addr *remote, const struct probe_target *t,
		     struct pf_error *err, char *local_s, char *remote_s)
{
	struct probe_worker *w = qf->w;
	const struct probe_config *cfg = w->cfg;
	struct net_addr any = {.len = remote->len};
	any.ss.ss_family = remote->ss.ss_family;
	int rc = net_udp_bind(&qf->udp, &any, NET_UDP_GRO);
	if (rc == 0) {
		int size = 4 << 20; /* room for a burst; best effort */
		setsockopt(qf->udp.fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
		setsockopt(qf->udp.fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
		if (connect(qf->udp.fd, (const struct sockaddr *)&remote->ss, remote->len) != 0)
			rc = -errno;
	}
	struct net_addr local = {0};
	if (rc == 0)
		rc = net_local_addr(qf->udp.fd, &local);
	if (rc < 0) {
		pf_fail(err, TP_CONNECT_ERROR, TP_PHASE_CONNECT, "UDP socket: %s", strerror(-rc));
		err->fallback = true;
		return -1;
	}
	net_addr_format(&local, local_s);
	net_addr_format(remote, remote_s);
	static const char *const alpn_h3[] = {"h3"}, *const alpn_socks5[] = {"socks5"};
	/* A carrier's peer is the proxy: its name is what the certificate must match. */
	const struct url *peer = qf->carrier ? &t->proxy : &t->url;
	struct quic_conn_opts o = {
		.local = (struct sockaddr *)&local.ss, .local_len = local.len,
		.remote = (struct sockaddr *)&remote->ss, .remote_len = remote->len,
		.sni = peer->host_is_literal ? NULL : peer->host, .verify_host = peer->host,
		.alpn = qf->raw ? alpn_socks5 : alpn_h3, .nalpn = 1,
		/* The link's deadlines classify a slow handshake; ngtcp2's come later. */
		.params = {.idle_timeout_us = (uint64_t)(cfg->timeout_s * 1e6),
			   .handshake_timeout_us = (uint64_t)((cfg->connect_timeout_s + cfg->timeout_s + 1) * 1e6)},
		.cb = on_quic_raw, .arg = qf,
	};
	if (qf->carrier) /* a tunnel's receive ring holds the whole stream window */
		o.params.max_stream_data = o.params.max_stream_window = PF_QSTREAM_RING;
	uint64_t now = loop_clock_us();
	struct h3_opts ho = {.cb = on_h3, .arg = qf, .max_streams = cfg->streams + 16};
	if (quic_conn_init_client(&qf->q, (struct quic_client_ctx *)&cfg->quic, &o, now) != 0 ||
	    (!qf->raw && h3_conn_init(&qf->h3, &qf->q, &ho) != 0)) {
		pf_fail(err, TP_TLS_ERROR, TP_PHASE_CONNECT, "QUIC setup: %s",
			qf->q.close.detail[0] ? qf->q.close.detail : "out of memory");
		h3_conn_free(&qf->h3);
		quic_conn_free(&qf->q);
		return -1;
	}
	qf->started = true;
	w->stats.tot.conns_opened++;
	loop_io_start(&w->loop, &qf->io, qf->udp.fd, LOOP_READ, on_io, qf);
	return 0;
}

static int quic_start(struct pf_quic *qf)
{
	struct link *l = qf->base.link;
	const struct probe_config *cfg = qf->w->cfg;
	if (quic_open(qf, &l->remote, l->target, &l->err, l->local_s, l->remote_s) < 0) {
		l->deferred_fail = true;
		return -EAGAIN;
	}
	/* --http3: a server that does not answer QUIC is not waited for the whole connect
	 * timeout; the request goes on over TCP (as curl's does). */
	uint64_t now = loop_clock_us();
	if (!cfg->http3_only && now + FALLBACK_DELAY_US < l->deadline_us)
		link_set_deadline(l, now + FALLBACK_DELAY_US);
	pf_quic_kick(qf);
	return -EAGAIN;
}

static int quic_connect(struct pf *f)
{
	struct pf_quic *qf = (struct pf_quic *)f;
	struct link *l = f->link;
	if (!qf->started)
		return quic_start(qf);
	if (qf->q.state == QUIC_ST_OPEN && qf->h3.ready)
		return 0;
	if (qf->sock_err) {
		char where[NET_ADDRSTRLEN];
		pf_fail(&l->err, TP_CONNECT_ERROR, TP_PHASE_CONNECT, "%s: %s (ICMP, UDP)",
			net_addr_format(&l->remote, where), strerror(qf->sock_err));
		l->err.fallback = true;
		return PF_ERR;
	}
	if (qf->q.state >= QUIC_ST_CLOSING) {
		describe(qf, &l->err);
		return PF_ERR;
	}
	return -EAGAIN;
}

static void quic_timed_out(struct pf *f, struct pf_error *err)
{
	struct pf_quic *qf = (struct pf_quic *)f;
	const struct probe_config *cfg = qf->w->cfg;
	double waited = (double)(loop_now(&qf->w->loop) - f->link->opened_us) / 1e6;
	if (!qf->answered)
		pf_fail(err, TP_CONNECT_ERROR, TP_PHASE_CONNECT, "no answer to the QUIC Initial within %.1fs",
			waited);
	else
		pf_fail(err, TP_TIMEOUT, TP_PHASE_TLS, "QUIC handshake not done within %.1fs", cfg->timeout_s);
	err->fallback = true;
}

static void quic_close(struct pf *f)
{
	struct pf_quic *qf = (struct pf_quic *)f;
	if (qf->closed)
		return;
	qf->closed = true;
	loop_io_stop(&qf->w->loop, &qf->io);
	loop_timer_stop(&qf->w->loop, &qf->timer);
	if (!qf->busy)
		destroy(qf);
}

/* HTTP/3 carries requests on streams (h3x.c): no byte stream here. */
static long quic_read(struct pf *f, void *buf, size_t len)
{
	(void)f, (void)buf, (void)len;
	return -EOPNOTSUPP;
}
static long quic_write(struct pf *f, const void *buf, size_t len)
{
	(void)f, (void)buf, (void)len;
	return -EOPNOTSUPP;
}
static int quic_shutdown(struct pf *f)
{
	(void)f;
	return -ENOTSUP;
}
static unsigned quic_want(const struct pf *f, unsigned plain)
{
	(void)f, (void)plain;
	return 0; /* the filter watches its own socket */
}
static size_t quic_pending(const struct pf *f)
{
	(void)f;
	return 0;
}

const struct pf_ops pf_quic_ops = {
	.name = "quic",
	.phase = TP_PHASE_CONNECT,
	.connect = quic_connect,
	.read = quic_read,
	.write = quic_write,
	.shutdown = quic_shutdown,
	.close = quic_close,
	.want = quic_want,
	.pending = quic_pending,
	.timed_out = quic_timed_out,
};

/* ---- carriers: a QUIC proxy's connection, shared by tunnels (filter_qstream.c) ---- */

/* After a drive: each tunnel an event woke hears of it — all of them while the
 * connection is not up yet or once it is over. A tunnel may end (and leave the list,
 * and a link reuse its filter for another carrier) while others are notified: the list
 * is copied first and each entry checked before it is told. */
static void notify_tunnels(struct pf_quic *qf)
{
	bool all = !pf_quic_carrier_up(qf) || qf->q.state >= QUIC_ST_CLOSING;
	struct pf_qstream *woken[PROBE_MAX_STREAMS];
	size_t n = 0;
	for (struct pf_qstream *s = qf->tunnels; s && n < PROBE_MAX_STREAMS; s = s->next_c)
		if (s->wake || all)
			woken[n++] = s;
	for (size_t i = 0; i < n && !qf->closed; i++) {
		if (woken[i]->carrier != qf)
			continue;
		woken[i]->wake = false;
		pf_qstream_notify(woken[i]);
	}
}

bool pf_quic_carrier_up(const struct pf_quic *qf)
{
	return qf->q.state == QUIC_ST_OPEN && (qf->raw || qf->h3.ready);
}

bool pf_quic_carrier_answered(const struct pf_quic *qf) { return qf->answered; }

bool pf_quic_carrier_closed(struct pf_quic *qf, struct pf_error *err)
{
	if (qf->sock_err && !pf_quic_carrier_up(qf)) {
		char where[NET_ADDRSTRLEN];
		pf_fail(err, TP_CONNECT_ERROR, TP_PHASE_CONNECT, "QUIC proxy %s: %s (ICMP, UDP)",
			net_addr_format(&qf->remote, where), strerror(qf->sock_err));
		return true;
	}
	if (qf->q.state < QUIC_ST_CLOSING)
		return false;
	describe(qf, err);
	return true;
}

/* A carrier that fits l: same proxy, same framing, still usable. */
static bool carrier_fits(const struct pf_quic *qf, const struct link *l, bool raw)
{
	return qf->raw == raw && pf_quic_usable(qf) && strcmp(qf->proxy_spec, l->target->proxy_spec) == 0 &&
	       qf->remote.len == l->remote.len && memcmp(&qf->remote.ss, &l->remote.ss, l->remote.len) == 0;
}

int pf_quic_carrier_attach(struct link *l, struct pf_qstream *s)
{
	struct pf_quic **slot = l->carrier_slot;
	bool raw = !s->h3;
	struct pf_quic *qf = *slot;
	if (qf && !carrier_fits(qf, l, raw)) {
		/* Its tunnels go on until they end; new ones get a new connection. */
		*slot = NULL;
		qf->slot = NULL;
		if (!qf->ntunnels)
			quic_close(&qf->base);
		qf = NULL;
	}
	if (!qf) {
		if (!(qf = calloc(1, sizeof *qf)))
			return pf_fail(&l->err, TP_CONNECT_ERROR, TP_PHASE_CONNECT, "out of memory for QUIC");
		qf->w = l->w;
		qf->udp.fd = -1;
		qf->carrier = true;
		qf->raw = raw;
		qf->remote = l->remote;
		qf->proxy_spec = l->target->proxy_spec;
		loop_timer_init(&qf->timer, on_timer, qf);
		if (quic_open(qf, &l->remote, l->target, &l->err, qf->local_s, qf->remote_s) < 0) {
			destroy(qf);
			return PF_ERR;
		}
		qf->slot = slot;
		*slot = qf;
		pf_quic_kick(qf);
	}
	memcpy(l->local_s, qf->local_s, sizeof l->local_s);
	memcpy(l->remote_s, qf->remote_s, sizeof l->remote_s);
	s->carrier = qf;
	s->prev_c = NULL;
	s->next_c = qf->tunnels;
	if (qf->tunnels)
		qf->tunnels->prev_c = s;
	qf->tunnels = s;
	qf->ntunnels++;
	return 0;
}

void pf_quic_carrier_detach(struct pf_qstream *s)
{
	struct pf_quic *qf = s->carrier;
	if (!qf)
		return;
	if (s->prev_c)
		s->prev_c->next_c = s->next_c;
	else
		qf->tunnels = s->next_c;
	if (s->next_c)
		s->next_c->prev_c = s->prev_c;
	s->next_c = s->prev_c = NULL;
	s->carrier = NULL;
	qf->ntunnels--;
	if (qf->ntunnels == 0 && (!qf->slot || !qf->w->cfg->keepalive || !pf_quic_usable(qf)))
		quic_close(&qf->base);
	else
		pf_quic_kick(qf); /* what the tunnel's end queued (a RESET_STREAM) goes now */
}

void pf_quic_carrier_release(struct pf_quic **slot)
{
	struct pf_quic *qf = *slot;
	if (!qf || qf->ntunnels)
		return;
	*slot = NULL;
	qf->slot = NULL;
	quic_close(&qf->base);
}
