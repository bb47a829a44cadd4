/* qrelay — see qrelay.h. The TCP leg (resolve, connect, an upstream proxy), the relay
 * of both directions, and how a tunnel ends; qrelay_ledger.c writes its ledger line. */
#include "proxy-under-test/qrelay.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proxy-under-test/qinject.h"
#include "proxy-under-test/qtunnel.h"
#include "proxy-under-test/server.h"

#define QRELAY_STEPS 32 /* relay rounds per event: a fast tunnel cannot starve the others */

static void on_tcp_io(struct loop *loop, struct loop_io *io, unsigned events);
static void relay_step(struct qtun *t);

static struct loop *loop_of(const struct qtun *t) { return &t->qc->ql->w->loop; }
static const struct proxy_config *cfg_of(const struct qtun *t) { return t->qc->ql->w->cfg; }

static void arm(struct qtun *t, double secs)
{
	loop_timer_start(loop_of(t), &t->timer, (uint64_t)(secs * 1e6));
}

static void first_close(struct qtun *t, const char *who)
{
	if (!t->first_close)
		t->first_close = who;
}

/* ---- the TCP leg ---- */

/* Which events the TCP leg waits for, by state and buffers. */
static void watch(struct qtun *t)
{
	if (t->fd < 0)
		return;
	unsigned ev = 0;
	if (t->state == QR_CONNECTING || (t->state == QR_UPSTREAM && t->ctl_off < t->ctl_len))
		ev = LOOP_WRITE;
	else if (t->state == QR_UPSTREAM)
		ev = LOOP_READ;
	else if (t->state == QR_RELAY) {
		if (t->uoff < t->ulen && !t->up.stalled)
			ev |= LOOP_WRITE;
		if (t->doff == t->dlen && !t->down.eof && !t->down.done && !t->down.stalled &&
		    !t->stream_full)
			ev |= LOOP_READ;
	}
	loop_io_start(loop_of(t), &t->io, t->fd, ev, on_tcp_io, t);
}

/* Closes the TCP leg: an RST when reset, else a FIN (unless one was sent) and close. */
static void close_tcp(struct qtun *t, bool reset)
{
	if (t->dnsq) {
		dns_cancel(t->dnsq);
		t->dnsq = NULL;
	}
	if (t->fd >= 0) {
		loop_io_stop(loop_of(t), &t->io);
		if (reset) {
			net_close_reset(t->fd);
		} else {
			if (!t->shut_wr)
				net_shutdown_write(t->fd);
			net_close(t->fd);
		}
		if (t->end == END_OPEN)
			t->end = reset ? END_LOCAL_RST : END_LOCAL;
		t->fd = -1;
	}
	if (t->state < QR_REFUSED)
		t->state = QR_ENDED;
}

/* Bytes held in a direction's buffer that will never go: dropped. */
static void drop_down(struct qtun *t)
{
	t->down.dropped += t->dlen - t->doff;
	t->doff = t->dlen = 0;
	t->down.done = true;
}

static void drop_up(struct qtun *t)
{
	size_t n = t->ulen - t->uoff;
	if (t->state == QR_HANDSHAKE)
		n = 0; /* handshake bytes (socks5 framing): never tunnel bytes */
	t->up.dropped += n;
	if (n)
		qtunnel_consume(t, n);
	t->uoff = t->ulen = 0;
	t->up.done = true;
}

/* Both sources ended and both buffers are empty: the TCP leg is of no more use. */
static void maybe_close_tcp(struct qtun *t)
{
	if (t->fd >= 0 && t->state == QR_RELAY && t->down.eof && t->up.eof && t->doff == t->dlen &&
	    t->uoff == t->ulen && (t->down.done || t->down.held) && (t->up.done || t->up.held))
		close_tcp(t, false);
}

/* The end of direction dir goes on now: a stream FIN toward the client, a TCP FIN
 * toward the origin. */
static void pass_end(struct qtun *t, enum fault_dir dir)
{
	struct qrelay_dir *d = qrelay_dir(t, dir);
	d->done = true;
	d->held = false;
	if (dir == FAULT_DOWN) {
		if (qtunnel_finish(t) == 0)
			t->fin_to_client = true;
	} else if (t->fd >= 0 && !t->shut_wr) {
		net_shutdown_write(t->fd);
		t->shut_wr = true;
	}
	maybe_close_tcp(t);
}

/* The source of dir ended and its buffer is empty: its end goes on, unless a fault
 * holds it. */
static void end_toward(struct qtun *t, enum fault_dir dir)
{
	struct qrelay_dir *d = qrelay_dir(t, dir);
	if (d->done || d->held)
		return;
	if (qinject_eof(t, dir) == 0) {
		maybe_close_tcp(t);
		return;
	}
	pass_end(t, dir);
}

void qrelay_end_due(struct qtun *t, enum fault_dir dir)
{
	if (qrelay_dir(t, dir)->held)
		pass_end(t, dir);
}

/* The TCP leg failed: a reset read from it (or a write that failed). reset-as-fin
 * (reads only) makes it an orderly end; else it goes to the client as a stream error
 * H3_CONNECT_ERROR and the tunnel ends. */
static void tcp_failed(struct qtun *t, bool on_read)
{
	if (t->end == END_OPEN)
		t->end = END_RST;
	first_close(t, "upstream");
	if (on_read && qinject_reset(t, FAULT_DOWN)) {
		t->down.eof = true;
		if (t->doff == t->dlen)
			end_toward(t, FAULT_DOWN);
		return;
	}
	drop_down(t);
	drop_up(t);
	qtunnel_reset(t, QTUNNEL_CONNECT_ERROR);
	t->reset_code = QTUNNEL_CONNECT_ERROR;
	if (t->client_end == END_OPEN)
		t->client_end = END_LOCAL_RST;
	close_tcp(t, true);
}

/* ---- the relay ---- */

/* Writes up to len client bytes at p to the TCP leg, with the faults of the upload.
 * Returns the count written (short: would block, or held); *ended is set when the
 * direction was cut by a fault or the leg failed (the tunnel is ending: the rest will
 * never be written). */
static size_t up_write(struct qtun *t, const uint8_t *p, size_t len, bool *ended)
{
	size_t done = 0;
	*ended = false;
	while (done < len && !t->up.stalled) {
		size_t want = len - done;
		int go = qinject_write(t, FAULT_UP, &want);
		if (go <= 0) {
			*ended = go < 0;
			break;
		}
		long n = net_write(t->fd, p + done, want);
		if (n == -EAGAIN)
			break;
		if (n < 0) {
			tcp_failed(t, false);
			*ended = true;
			break;
		}
		t->up.send_ops++;
		if ((size_t)n < len - done)
			t->up.short_sends++;
		t->up.sent += (uint64_t)n;
		done += (size_t)n;
		qtunnel_consume(t, (size_t)n); /* written on: the client may send as much again */
		if ((size_t)n < want)
			break;
	}
	return done;
}

/* The up buffer to the TCP leg. 1 moved bytes, 0 nothing now, -1 the tunnel is ending. */
static int up_flush(struct qtun *t)
{
	if (t->state != QR_RELAY || t->fd < 0)
		return 0;
	int moved = 0;
	if (t->uoff < t->ulen) {
		bool ended;
		size_t n = up_write(t, t->ubuf + t->uoff, t->ulen - t->uoff, &ended);
		if (ended)
			return -1; /* the cut counted what the buffer held as dropped */
		t->uoff += n;
		moved = n > 0;
		if (t->uoff == t->ulen)
			t->uoff = t->ulen = 0;
	}
	if (t->up.eof && t->uoff == t->ulen && !t->up.done)
		end_toward(t, FAULT_UP);
	return moved;
}

/* The down buffer into the stream. 1 moved bytes, 0 nothing now, -1 ending. */
static int down_flush(struct qtun *t)
{
	int moved = 0;
	while (t->doff < t->dlen && !t->stream_full && !t->down.stalled && t->state == QR_RELAY) {
		size_t want = t->dlen - t->doff;
		int go = qinject_write(t, FAULT_DOWN, &want);
		if (go <= 0)
			return go;
		long n = qtunnel_write(t, t->dbuf + t->doff, want);
		if (n < 0) { /* the client stopped the stream: nothing more reaches it */
			drop_down(t);
			return 0;
		}
		if (n == 0) {
			t->stream_full = true; /* qrelay_on_writable resumes */
			break;
		}
		t->down.send_ops++;
		if ((size_t)n < t->dlen - t->doff)
			t->down.short_sends++;
		t->down.sent += (uint64_t)n;
		t->doff += (size_t)n;
		moved = 1;
	}
	if (t->doff == t->dlen) {
		t->doff = t->dlen = 0;
		if (t->down.eof && !t->down.done && t->state == QR_RELAY)
			end_toward(t, FAULT_DOWN);
	}
	return moved;
}

/* Reads origin bytes into the (empty) down buffer. 1 read, 0 nothing now, -1 ending. */
static int down_fill(struct qtun *t)
{
	if (t->fd < 0 || t->doff < t->dlen || t->down.eof || t->down.done || t->down.stalled ||
	    t->stream_full || t->state != QR_RELAY || !t->readable)
		return 0;
	long n = net_read(t->fd, t->dbuf, sizeof t->dbuf);
	if (n == -EAGAIN) {
		t->readable = false;
		return 0;
	}
	if (n < 0) {
		tcp_failed(t, true);
		return t->state == QR_RELAY ? 1 : -1;
	}
	if (n == 0) {
		if (t->end == END_OPEN)
			t->end = END_FIN;
		first_close(t, "upstream");
		t->down.eof = true;
		end_toward(t, FAULT_DOWN);
		return 1;
	}
	if ((size_t)n < sizeof t->dbuf)
		t->readable = false; /* almost surely drained; level-triggered readiness says if not */
	t->down.received += (uint64_t)n;
	t->down.recv_ops++;
	t->dlen = (size_t)n;
	t->doff = 0;
	arm(t, cfg_of(t)->idle_timeout_s);
	return 1;
}

static void relay_step(struct qtun *t)
{
	for (int i = 0; i < QRELAY_STEPS && t->state == QR_RELAY; i++) {
		int a = up_flush(t);
		if (a < 0)
			break;
		int b = down_flush(t);
		if (b < 0)
			break;
		int c = down_fill(t);
		if (c < 0)
			break;
		if (!a && !b && !c)
			break;
	}
	watch(t);
}

/* ---- opening the TCP leg ---- */

static void established(struct qtun *t)
{
	struct net_addr local = {0};
	net_local_addr(t->fd, &local);
	t->state = QR_RELAY;
	qtunnel_reply_ok(t, &local);
	arm(t, cfg_of(t)->idle_timeout_s);
	relay_step(t);
}

void qrelay_refused(struct qtun *t)
{
	if (t->client_end == END_OPEN)
		t->client_end = END_LOCAL; /* we end it: whatever the client does next answers that */
	drop_up(t);
	t->state = QR_REFUSED;
	arm(t, cfg_of(t)->idle_timeout_s); /* the stream must close; if the client lingers, give up */
}

static void refuse(struct qtun *t, int err)
{
	close_tcp(t, false);
	qrelay_refused(t);
	qtunnel_refuse(t, err);
}

/* The upstream proxy's exchange (chain.h): its messages out, its replies in. The reply
 * is read into the down buffer; bytes after it are the origin's first. */
static void chain_step(struct qtun *t)
{
	if (t->ctl_off < t->ctl_len) {
		long n = net_write(t->fd, t->ctl + t->ctl_off, t->ctl_len - t->ctl_off);
		if (n == -EAGAIN)
			return;
		if (n < 0) {
			refuse(t, (int)n);
			return;
		}
		t->ctl_off += (size_t)n;
		watch(t);
		return;
	}
	long n = net_read(t->fd, t->dbuf + t->dlen, sizeof t->dbuf - t->dlen);
	if (n == -EAGAIN)
		return;
	if (n <= 0 || t->dlen + (size_t)n == sizeof t->dbuf) {
		refuse(t, n < 0 ? (int)n : -EPROTO); /* closed before its reply, or an endless one */
		return;
	}
	t->dlen += (size_t)n;
	size_t used = 0, outlen = 0;
	int r = chain_feed(&t->chain, t->dbuf, t->dlen, &used, t->ctl, sizeof t->ctl, &outlen);
	if (r < 0) {
		refuse(t, r);
		return;
	}
	memmove(t->dbuf, t->dbuf + used, t->dlen - used);
	t->dlen -= used;
	if (r == CHAIN_SEND) {
		t->ctl_len = outlen;
		t->ctl_off = 0;
		watch(t);
	} else if (r == CHAIN_OPEN) {
		t->down.received += t->dlen; /* the origin's first bytes, read with the reply */
		t->down.recv_ops += t->dlen > 0;
		established(t);
	}
}

static void connected(struct qtun *t)
{
	int err = net_connect_result(t->fd);
	if (err < 0) {
		refuse(t, err);
		return;
	}
	struct net_addr a;
	if (net_local_addr(t->fd, &a) == 0)
		net_addr_format(&a, t->local);
	if (net_peer_addr(t->fd, &a) == 0)
		net_addr_format(&a, t->peer);
	net_nodelay(t->fd);
	const struct proxy_config *cfg = cfg_of(t);
	if (!cfg->has_upstream) {
		established(t);
		return;
	}
	int n = chain_start(&t->chain, &cfg->upstream, t->host, t->port, t->target, t->id, t->ctl,
			    sizeof t->ctl);
	if (n < 0) {
		refuse(t, -EPROTO);
		return;
	}
	t->ctl_len = (size_t)n;
	t->ctl_off = 0;
	t->state = QR_UPSTREAM;
	arm(t, cfg->handshake_timeout_s);
	watch(t);
}

static void on_tcp_io(struct loop *loop, struct loop_io *io, unsigned events)
{
	struct qtun *t = io->data;
	struct qconn *qc = t->qc;
	(void)loop;
	if (events & (LOOP_READ | LOOP_ERROR))
		t->readable = true;
	switch (t->state) {
	case QR_CONNECTING:
		connected(t);
		break;
	case QR_UPSTREAM:
		chain_step(t);
		break;
	case QR_RELAY:
		relay_step(t);
		break;
	default:
		watch(t);
		break;
	}
	qlisten_flush(qc); /* last: it may end tunnels */
}

static void start_connect(struct qtun *t, const struct net_addr *addr)
{
	if (!server_allowed(cfg_of(t), addr)) {
		refuse(t, -EACCES);
		return;
	}
	int fd = net_connect(addr);
	if (fd < 0) {
		refuse(t, fd);
		return;
	}
	t->fd = fd;
	t->readable = true;
	t->state = QR_CONNECTING;
	arm(t, cfg_of(t)->connect_timeout_s);
	watch(t);
}

static void on_resolved(void *arg, int status, const char *why, const struct net_addr *addrs,
			size_t n)
{
	struct qtun *t = arg;
	struct qconn *qc = t->qc;
	(void)why;
	t->dnsq = NULL;
	if (status < 0 || n == 0)
		refuse(t, -ENOENT);
	else
		start_connect(t, &addrs[0]);
	qlisten_flush(qc);
}

void qrelay_request(struct qtun *t)
{
	const struct proxy_config *cfg = cfg_of(t);
	snprintf(t->target, sizeof t->target, strchr(t->host, ':') ? "[%s]:%u" : "%s:%u", t->host,
		 t->port);
	/* Bytes the client sent after its request (early data) are tunnel bytes. */
	t->up.received += t->ulen - t->uoff;
	t->up.recv_ops += t->ulen > t->uoff;
	qinject_pick(t);
	qtunnel_set_credit(t, qinject_credit(t));
	const char *host = cfg->has_upstream ? cfg->upstream.host : t->host;
	uint16_t port = cfg->has_upstream ? cfg->upstream.port : t->port;
	const struct net_addr *o = server_resolve(cfg, host, port);
	if (o) {
		start_connect(t, o);
		return;
	}
	t->state = QR_RESOLVING;
	arm(t, cfg->connect_timeout_s);
	t->dnsq = dns_resolve(&t->qc->ql->w->dns, host, port, AF_UNSPEC, on_resolved, t);
	if (!t->dnsq)
		refuse(t, -ENOMEM);
}

/* ---- the client's stream ---- */

/* Keeps len client bytes in the up buffer (made now if need be). False when they do not
 * fit, which the stream's window rules out unless the client broke flow control. */
bool qrelay_hold(struct qtun *t, const uint8_t *data, size_t len)
{
	if (!t->ubuf && !(t->ubuf = malloc(QRELAY_WINDOW)))
		return false;
	if (QRELAY_WINDOW - t->ulen < len && t->uoff) {
		memmove(t->ubuf, t->ubuf + t->uoff, t->ulen - t->uoff);
		t->ulen -= t->uoff;
		t->uoff = 0;
	}
	if (QRELAY_WINDOW - t->ulen < len)
		return false;
	memcpy(t->ubuf + t->ulen, data, len);
	t->ulen += len;
	return true;
}

void qrelay_on_data(struct qtun *t, const uint8_t *data, size_t len)
{
	t->up.received += len;
	t->up.recv_ops++;
	if (t->state >= QR_REFUSED || t->up.done) {
		t->up.dropped += len; /* no tunnel to carry them */
		qtunnel_consume(t, len);
		return;
	}
	if (qtunnel_stats(t)->bytes_received >= QRELAY_WINDOW)
		qinject_starved(t);
	if (t->state == QR_RELAY)
		arm(t, cfg_of(t)->idle_timeout_s);
	size_t n = 0;
	if (t->state == QR_RELAY && t->uoff == t->ulen) {
		bool ended;
		n = up_write(t, data, len, &ended); /* straight on when nothing waits before them */
		if (ended) {
			t->up.dropped += len - n; /* cut by a fault, or the leg failed: never sent */
			return;
		}
	}
	if (n < len && !qrelay_hold(t, data + n, len - n)) {
		t->up.dropped += len - n;
		tcp_failed(t, false); /* cannot happen with flow control kept: end it */
		return;
	}
	watch(t);
}

void qrelay_on_fin(struct qtun *t)
{
	if (t->client_end == END_OPEN)
		t->client_end = END_FIN;
	first_close(t, "client");
	t->up.eof = true;
	if (t->state == QR_HANDSHAKE) {
		/* The client ended before its request: nothing to do but end our side. */
		if (qtunnel_finish(t) == 0)
			t->fin_to_client = true;
		qrelay_refused(t);
		return;
	}
	if (t->state == QR_RELAY && t->uoff == t->ulen)
		end_toward(t, FAULT_UP);
	else if (t->state >= QR_REFUSED)
		t->up.done = true;
}

void qrelay_on_reset(struct qtun *t, uint64_t code, bool stop_sending)
{
	(void)code;
	if (t->client_end == END_OPEN)
		t->client_end = END_RST;
	first_close(t, "client");
	if (t->state >= QR_REFUSED) {
		/* Our side already ended (a refusal, a fault's cut, the TCP leg's end): the
		 * client answering our STOP_SENDING, or leaving, changes nothing of it. */
		drop_up(t);
		return;
	}
	if (!stop_sending && t->state != QR_HANDSHAKE && qinject_reset(t, FAULT_UP)) {
		qrelay_on_fin(t); /* reset-as-fin: the origin sees an orderly end */
		return;
	}
	/* The client abandoned the tunnel: the origin gets an RST (RFC 9114 §4.4), our side
	 * of the stream ends too so it can close. */
	drop_up(t);
	drop_down(t);
	if (stop_sending)
		qtunnel_stop_reading(t, QTUNNEL_CANCELLED);
	else
		qtunnel_reset(t, QTUNNEL_CANCELLED);
	close_tcp(t, true);
	if (t->state < QR_REFUSED)
		t->state = QR_ENDED;
}

void qrelay_on_writable(struct qtun *t)
{
	t->stream_full = false;
	if (t->state == QR_RELAY)
		relay_step(t);
}

void qrelay_cut(struct qtun *t, enum fault_dir dir, bool fin, uint64_t code)
{
	first_close(t, dir == FAULT_DOWN ? "proxy->client" : "proxy->upstream");
	drop_down(t);
	drop_up(t);
	if (dir == FAULT_DOWN && !fin) {
		qtunnel_reset(t, code);
		t->reset_code = code;
		if (t->client_end == END_OPEN)
			t->client_end = END_LOCAL_RST;
	} else {
		/* The client's side ends orderly: FIN, and its further bytes are not wanted. */
		if (qtunnel_finish(t) == 0)
			t->fin_to_client = true;
		qtunnel_stop_reading(t, QTUNNEL_NO_ERROR);
		if (t->client_end == END_OPEN)
			t->client_end = END_LOCAL;
	}
	close_tcp(t, dir == FAULT_UP && !fin);
}

/* ---- the tunnel's life ---- */

static void on_timer(struct loop *loop, struct loop_timer *timer)
{
	struct qtun *t = timer->data;
	struct qconn *qc = t->qc;
	(void)loop;
	switch (t->state) {
	case QR_RESOLVING:
	case QR_CONNECTING:
	case QR_UPSTREAM:
		refuse(t, -ETIMEDOUT);
		break;
	default:
		/* A handshake not finished, an idle tunnel (a fault may be holding it), or a
		 * stream the client does not close: give up on it. */
		if (t->client_end == END_OPEN)
			t->client_end = END_TIMEOUT;
		if (t->fd >= 0 && t->end == END_OPEN)
			t->end = END_TIMEOUT;
		drop_down(t);
		drop_up(t);
		close_tcp(t, false);
		qtunnel_reset(t, QTUNNEL_CANCELLED);
		if (!t->reset_code)
			t->reset_code = QTUNNEL_CANCELLED;
		if (t->state == QR_HANDSHAKE)
			qrelay_refused(t);
		arm(t, cfg_of(t)->idle_timeout_s); /* the connection's end closes it at the latest */
		break;
	}
	qlisten_flush(qc);
}

struct qtun *qrelay_new(struct qconn *qc, struct h3_stream *hs, struct quic_stream *qs)
{
	struct qtun *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	struct proxy_worker *w = qc->ql->w;
	t->qc = qc;
	t->number = atomic_fetch_add(&w->shared->tunnels, 1);
	t->framing = qc->framing;
	t->hs = hs;
	t->qs = qs;
	t->stream_id = hs ? hs->id : qs ? qs->id : -1;
	t->state = QR_HANDSHAKE;
	t->fd = -1;
	t->reply = -1;
	t->start_us = loop_now(&w->loop);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	t->t = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	loop_timer_init(&t->timer, on_timer, t);
	qinject_init(t);
	t->next = qc->tunnels;
	if (qc->tunnels)
		qc->tunnels->prev = t;
	qc->tunnels = t;
	qc->ntunnels++;
	arm(t, w->cfg->handshake_timeout_s);
	return t;
}

/* Ends t: its TCP leg closed, its line written, t freed. */
static void finish(struct qtun *t, bool reset_tcp)
{
	struct qconn *qc = t->qc;
	drop_down(t);
	drop_up(t);
	close_tcp(t, reset_tcp);
	loop_timer_stop(loop_of(t), &t->timer);
	qinject_free(t);
	qrelay_write_ledger(t);
	if (t->prev)
		t->prev->next = t->next;
	else
		qc->tunnels = t->next;
	if (t->next)
		t->next->prev = t->prev;
	qc->ntunnels--;
	free(t->ubuf);
	free(t);
	if (qc->ql->stopping && !qc->ntunnels)
		quic_conn_close(&qc->q, true, QTUNNEL_NO_ERROR, "shutting down");
}

void qrelay_on_closed(struct qtun *t, bool conn_closed)
{
	const struct quic_stream_stats *st = &t->qstats;
	t->conn_closed = conn_closed;
	if (t->client_end == END_OPEN) {
		/* The connection ended under the stream: the client's polite close (NO_ERROR,
		 * H3_NO_ERROR) counts as its orderly end, any other code as a reset. */
		const struct quic_close *cl = &t->qc->q.close;
		bool polite = cl->code == (cl->app ? QTUNNEL_NO_ERROR : 0);
		t->client_end = !conn_closed ? (st->fin_received ? END_FIN : END_RST)
				: cl->reason == QUIC_CLOSE_IDLE ? END_TIMEOUT
				: !cl->by_peer ? END_LOCAL_RST
				: polite ? END_FIN : END_RST;
	}
	first_close(t, "client");
	/* An orderly end both ways is a FIN toward the origin; anything else an RST. */
	bool clean = st->fin_received && st->fin_sent && !st->reset_received && !st->reset_sent;
	finish(t, !clean && t->fd >= 0 && !(t->down.eof && t->up.eof));
}

void qrelay_abort(struct qtun *t, bool reset, uint64_t code)
{
	if (t->client_end == END_OPEN)
		t->client_end = END_LOCAL_RST;
	qtunnel_reset(t, code);
	t->qstats = *qtunnel_stats(t);
	finish(t, reset);
}
