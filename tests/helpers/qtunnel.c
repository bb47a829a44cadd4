/* qtunnel — a test client for the reference proxy's QUIC tunnels (docs/proxy.md "QUIC"),
 * on lib/quic + lib/h3, until the probe has quic:// and socks5+quic:// proxies. Not the
 * probe: it reports what each tunnel saw, for tests/e2e/proxy_quic*.sh and
 * bench/quic-tunnel.sh to assert.
 *
 *   qtunnel [options] PROXY_IP PROXY_PORT TARGET_HOST:PORT
 *     --framing h3|socks5   CONNECT over HTTP/3 (default) or SOCKS5 on QUIC streams
 *     --cacert F | -k       trust F for the proxy's certificate, or verify nothing
 *     --auth USER:PASS      Proxy-Authorization (h3) or RFC 1929 (socks5)
 *     --id PREFIX           X-Probe-Id PREFIX-0-K on tunnel K's CONNECT and request (h3)
 *     --tunnels N           tunnels, opened at once (default 1)
 *     --streams K           tunnels per QUIC connection (default: all on one; 1: one
 *                           connection per tunnel)
 *     --get PATH            each tunnel sends "GET PATH" (Connection: close) and reads
 *                           the response, verifying its body by X-Tp-Seed/X-Tp-Length
 *     --post N              each tunnel sends "POST /sink" with N payload bytes
 *     --half-close          finish the stream right after the request
 *     --reset-after N       reset the stream's sending side (RESET_STREAM, 0x10c) once N
 *                           bytes of the --post body are out
 *     --fin-wait S          after a complete body, wait S for the stream's end (default 3)
 *     --timeout S           the whole run's deadline (default 20)
 *     --forward ADDR        instead: listen on TCP ADDR (port 0: any; prints "forwarding
 *                           ADDR") and carry each accepted connection through a tunnel,
 *                           FIN for FIN, RST for a stream error, until --timeout
 *
 * Prints one line per tunnel:
 *   tunnel=K conn=C reply=R status=S body=N expected=N verified=yes|no|- complete=yes|no
 *   end=fin|reset|closed|timeout|refused code=HEX|- sent=N ms=N
 * (reply: the CONNECT status or SOCKS5 reply; end: the stream's FIN, a RESET_STREAM with
 * its code, the connection's CONNECTION_CLOSE with its code, nothing before the deadline,
 * or a refusal), then "tunnels=N ok=N". Exit 0 when every tunnel got its whole body
 * verified and a FIN, 1 otherwise, 2 for bad usage. Every wait is bounded by --timeout.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/h3.h"
#include "lib/http1.h"
#include "lib/loop.h"
#include "lib/net.h"
#include "lib/payload.h"
#include "lib/quic.h"
#include "lib/socks5.h"
#include "proxy-under-test/auth.h"

#define MAX_TUNNELS 4096
#define RX_BATCH 16
#define RX_BYTES 65536
#define HEAD_MAX 16384
#define FWD_BUF 65536
#define UP_SEED 0x7475706c6f616421ull /* the payload of --post */

enum tstate { T_WAIT, T_METHOD, T_AUTH, T_REPLY, T_OPEN, T_DONE };

struct cconn;

struct ctun {
	int index;
	struct cconn *c;
	struct h3_stream *hs;
	struct quic_stream *qs;
	enum tstate state;
	int reply;                 /* CONNECT status or SOCKS5 reply; -1 none */
	uint8_t in[HEAD_MAX];      /* socks5 replies, then the response head */
	size_t inlen;
	char req[1024];            /* the HTTP request head */
	size_t reqlen, reqoff;
	uint64_t upload, upsent;   /* --post body */
	bool fin_sent;
	int status;
	bool head_done;
	struct http1_body body;
	uint64_t seed, expected, got, sent;
	bool has_seed, verified_bad, complete;
	const char *end;           /* NULL while open */
	uint64_t code;
	bool has_code;
	uint64_t start_us, complete_us, end_us;
	/* --forward */
	int fd;
	struct loop_io io;
	uint8_t fbuf[FWD_BUF];     /* TCP bytes not yet taken by the stream */
	size_t foff, flen;
	bool tcp_eof;
	bool socks_req_sent;
	bool reset_pending;        /* --reset-after: the reset waits for the bytes' ACKs */
	struct socks5_addr dst;
};

struct cconn {
	int index;
	struct quic_conn q;
	struct h3_conn h3;
	bool h3_up, ready, gone;
	struct net_udp udp;
	struct loop_io io;
	struct loop_timer timer;
	struct ctun *waiting[MAX_TUNNELS]; /* tunnels to open when the handshake is done */
	size_t nwaiting;
};

static struct {
	const char *framing, *cafile, *user, *pass, *id, *get, *target, *forward;
	bool insecure, half_close;
	unsigned tunnels, streams;
	uint64_t post, reset_after;
	double timeout, fin_wait;
	struct net_addr proxy;
	struct quic_client_ctx ctx;
	struct loop loop;
	struct ctun *tun[MAX_TUNNELS];
	unsigned ntun;
	struct cconn *conns[MAX_TUNNELS];
	unsigned nconns;
	uint8_t *rx;
	struct net_dgram dg[RX_BATCH];
	uint8_t tx[65536];
	uint64_t deadline, ended_us;
	int lfd;
	struct loop_io lio;
	struct loop_timer tick;
} G;

static void die(const char *what)
{
	fprintf(stderr, "qtunnel: %s\n", what);
	exit(2);
}

static bool h3(void) { return strcmp(G.framing, "h3") == 0; }

static void flush(struct cconn *c);
static void sfinish(struct ctun *t);

/* ---- tunnel ends ---- */

static void end(struct ctun *t, const char *how, bool has_code, uint64_t code)
{
	if (t->end)
		return;
	t->end = how;
	if (strcmp(how, "refused") == 0)
		sfinish(t); /* nothing to send through a refused tunnel: our side ends too */
	t->has_code = has_code;
	t->code = code;
	t->end_us = loop_now(&G.loop);
	t->state = T_DONE;
	if (t->fd >= 0) {
		loop_io_stop(&G.loop, &t->io);
		if (strcmp(how, "fin") == 0)
			net_close(t->fd);
		else
			net_close_reset(t->fd);
		t->fd = -1;
	}
}

static long swrite(struct ctun *t, const void *p, size_t n, bool fin)
{
	if (t->hs) {
		long w = h3_stream_write(&t->c->h3, t->hs, p, n);
		if (fin && w == (long)n)
			h3_stream_end(&t->c->h3, t->hs);
		return w;
	}
	return t->qs ? quic_stream_write(&t->c->q, t->qs, p, n, fin) : -EPIPE;
}

static void sfinish(struct ctun *t)
{
	if (t->fin_sent)
		return;
	t->fin_sent = true;
	if (t->hs)
		h3_stream_end(&t->c->h3, t->hs);
	else if (t->qs)
		quic_stream_finish(&t->c->q, t->qs);
}

/* ---- the HTTP exchange inside the tunnel ---- */

static void pump_request(struct ctun *t)
{
	while (t->reqoff < t->reqlen) {
		long w = swrite(t, t->req + t->reqoff, t->reqlen - t->reqoff, false);
		if (w <= 0)
			return;
		t->reqoff += (size_t)w;
		t->sent += (uint64_t)w;
	}
	uint8_t chunk[16384];
	uint64_t upto = G.reset_after && G.reset_after < t->upload ? G.reset_after : t->upload;
	while (t->upsent < upto) {
		size_t n = sizeof chunk;
		if (n > upto - t->upsent)
			n = (size_t)(upto - t->upsent);
		payload_fill(UP_SEED, t->upsent, chunk, n);
		long w = swrite(t, chunk, n, false);
		if (w <= 0)
			return;
		t->upsent += (uint64_t)w;
		t->sent += (uint64_t)w;
	}
	if (t->upsent == upto && upto < t->upload && !t->fin_sent) {
		t->fin_sent = true; /* no FIN: a reset follows once the bytes are acknowledged */
		t->reset_pending = true;
	}
	if (G.half_close)
		sfinish(t);
}

static void fwd_pump(struct ctun *t);

static void start_request(struct ctun *t)
{
	t->state = T_OPEN;
	if (G.forward) {
		fwd_pump(t);
		return;
	}
	char id[160] = "";
	if (G.id)
		snprintf(id, sizeof id, "X-Probe-Id: %s-0-%d\r\n", G.id, t->index);
	if (G.post)
		t->reqlen = (size_t)snprintf(t->req, sizeof t->req,
					     "POST /sink HTTP/1.1\r\nHost: %s\r\n%sX-Tp-Seed: %016" PRIx64
					     "\r\nContent-Length: %" PRIu64 "\r\nConnection: close\r\n\r\n",
					     G.target, id, (uint64_t)UP_SEED, G.post);
	else
		t->reqlen = (size_t)snprintf(t->req, sizeof t->req,
					     "GET %s HTTP/1.1\r\nHost: %s\r\n%sConnection: close\r\n\r\n",
					     G.get ? G.get : "/", G.target, id);
	t->upload = G.post;
	pump_request(t);
}

static const struct http1_header *hdr(const struct http1_response *r, const char *name)
{
	return http1_find_header(r->headers, r->num_headers, name);
}

/* Response bytes data[0..len) of t. */
static void response(struct ctun *t, const uint8_t *data, size_t len)
{
	if (G.forward) {
		if (t->fd >= 0 && net_write(t->fd, data, len) != (long)len)
			end(t, "reset", false, 0); /* the test client keeps no buffer this way */
		t->got += len;
		return;
	}
	while (!t->head_done && len) {
		size_t n = len < sizeof t->in - t->inlen ? len : sizeof t->in - t->inlen;
		memcpy(t->in + t->inlen, data, n);
		t->inlen += n;
		data += n;
		len -= n;
		struct http1_response r;
		int err = 0;
		int h = http1_parse_response((char *)t->in, t->inlen, HEAD_MAX, 0, &r, &err);
		if (h == HTTP1_NEED_MORE)
			continue;
		if (h < 0) {
			t->verified_bad = true;
			return;
		}
		t->status = r.status;
		t->head_done = true;
		const struct http1_header *s = hdr(&r, "X-Tp-Seed"), *l = hdr(&r, "X-Tp-Length");
		t->has_seed = s && l;
		if (t->has_seed) {
			t->seed = strtoull(s->value, NULL, 16);
			t->expected = strtoull(l->value, NULL, 10);
		} else {
			t->expected = r.framing == HTTP1_FRAMING_LENGTH ? r.content_length : 0;
		}
		http1_body_init(&t->body, r.framing, r.content_length);
		/* The head's bytes past h are body bytes: feed them below. */
		uint8_t rest[HEAD_MAX];
		size_t nrest = t->inlen - (size_t)h;
		memcpy(rest, t->in + h, nrest);
		response(t, rest, nrest);
	}
	while (t->head_done && len && !t->body.done) {
		const uint8_t *p;
		size_t plen;
		int err = 0;
		long used = http1_body_feed(&t->body, data, len, &p, &plen, &err);
		if (used < 0) {
			t->verified_bad = true;
			return;
		}
		if (plen && t->has_seed && payload_verify(t->seed, t->got, p, plen) >= 0)
			t->verified_bad = true;
		t->got += plen;
		data += used;
		len -= (size_t)used;
	}
	if (t->head_done && !t->complete && (t->body.done || (t->expected && t->got >= t->expected))) {
		t->complete = true;
		t->complete_us = loop_now(&G.loop);
	}
}

/* ---- SOCKS5 on the stream ---- */

static void socks_request(struct ctun *t)
{
	uint8_t out[600];
	if (t->socks_req_sent)
		return;
	t->socks_req_sent = true;
	int n = socks5_client_request(out, sizeof out, SOCKS5_CMD_CONNECT, &t->dst);
	swrite(t, out, (size_t)n, false);
}

static void socks_in(struct ctun *t, const uint8_t *data, size_t len)
{
	size_t n = len < sizeof t->in - t->inlen ? len : sizeof t->in - t->inlen;
	memcpy(t->in + t->inlen, data, n);
	t->inlen += n;
	for (;;) {
		int err = 0, r;
		uint8_t out[600];
		if (t->state == T_METHOD) {
			uint8_t method;
			r = socks5_client_parse_method(t->in, t->inlen, &method, &err);
			if (r == SOCKS5_NEED_MORE)
				return;
			if (r < 0 || method == SOCKS5_METHOD_UNACCEPTABLE) {
				t->reply = 0xff;
				end(t, "refused", false, 0);
				return;
			}
			if (method == SOCKS5_METHOD_USERPASS) {
				swrite(t, out, (size_t)socks5_client_userpass(out, sizeof out, G.user, G.pass), false);
				t->state = T_AUTH;
			} else {
				socks_request(t);
				t->state = T_REPLY;
			}
		} else if (t->state == T_AUTH) {
			uint8_t status;
			r = socks5_client_parse_userpass_reply(t->in, t->inlen, &status, &err);
			if (r == SOCKS5_NEED_MORE)
				return;
			if (r < 0 || status != 0) {
				t->reply = 0x101;
				end(t, "refused", false, 0);
				return;
			}
			socks_request(t);
			t->state = T_REPLY;
		} else {
			uint8_t rep;
			struct socks5_addr bound;
			r = socks5_client_parse_reply(t->in, t->inlen, &rep, &bound, &err);
			if (r == SOCKS5_NEED_MORE)
				return;
			t->reply = r < 0 ? 0x100 : rep;
			if (r < 0 || rep != 0) {
				end(t, "refused", false, 0);
				return;
			}
			size_t rest = t->inlen - (size_t)r;
			uint8_t early[HEAD_MAX];
			memcpy(early, t->in + r, rest);
			t->inlen = 0;
			start_request(t);
			if (rest)
				response(t, early, rest);
			return;
		}
		memmove(t->in, t->in + r, t->inlen - (size_t)r);
		t->inlen -= (size_t)r;
	}
}

/* Opens t's stream and sends what starts it: the CONNECT request, or the SOCKS5
 * greeting and request together (the proxy takes them in one read or several). */
static int open_tunnel(struct ctun *t)
{
	struct cconn *c = t->c;
	if (h3()) {
		struct h3_header f[4];
		size_t nf = 0;
		char id[160], auth[700];
		if (G.id) {
			snprintf(id, sizeof id, "%s-0-%d", G.id, t->index);
			f[nf++] = (struct h3_header){"x-probe-id", id};
		}
		if (G.user && auth_basic(G.user, G.pass, auth, sizeof auth) > 0)
			f[nf++] = (struct h3_header){"proxy-authorization", auth};
		struct h3_request req = {.method = "CONNECT", .authority = G.target, .fields = f,
					 .nfields = nf, .body = true, .user = t};
		int rc = h3_submit_request(&c->h3, &req, &t->hs);
		if (rc == 0)
			t->hs->user = t;
		t->state = T_REPLY;
		return rc;
	}
	int rc = quic_stream_open(&c->q, true, t, &t->qs);
	if (rc < 0)
		return rc;
	uint8_t out[600];
	int n = socks5_client_greeting(out, sizeof out, G.user != NULL);
	swrite(t, out, (size_t)n, false);
	char host[256];
	snprintf(host, sizeof host, "%s", G.target);
	char *colon = strrchr(host, ':');
	*colon = '\0';
	socks5_addr_from_host(&t->dst, host, (uint16_t)atoi(colon + 1));
	if (!G.user)
		socks_request(t); /* no auth round trip: the request goes with the greeting */
	t->state = T_METHOD;
	return 0;
}

static void open_waiting(struct cconn *c)
{
	size_t k = 0;
	for (; k < c->nwaiting; k++)
		if (open_tunnel(c->waiting[k]) == -EAGAIN)
			break; /* the proxy allows no more streams now: STREAMS_AVAILABLE */
	memmove(c->waiting, c->waiting + k, (c->nwaiting - k) * sizeof c->waiting[0]);
	c->nwaiting -= k;
}

/* ---- stream events ---- */

static void tunnel_data(struct ctun *t, const uint8_t *data, size_t len)
{
	if (t->state == T_METHOD || t->state == T_AUTH || t->state == T_REPLY)
		socks_in(t, data, len);
	else if (t->state == T_OPEN)
		response(t, data, len);
}

/* The stream ended by the proxy's FIN: the client's side follows (as curl closes its
 * side once the tunnel's end arrived). */
static void tunnel_fin(struct ctun *t)
{
	if (t->state == T_OPEN && !G.forward && t->head_done && !t->complete &&
	    http1_body_eof(&t->body) == 0) {
		t->complete = true; /* a close-delimited body ends with the stream */
		t->complete_us = loop_now(&G.loop);
	}
	if (G.forward && t->fd >= 0) {
		net_shutdown_write(t->fd);
		return; /* the TCP side's FIN finishes the stream */
	}
	end(t, t->state == T_OPEN ? "fin" : "refused", false, 0);
	sfinish(t);
}

/* The connection ended: tunnels never opened on it end with it, and why goes to stderr. */
static void conn_closed(struct cconn *c)
{
	const struct quic_close *cl = &c->q.close;
	for (size_t k = 0; k < c->nwaiting; k++)
		end(c->waiting[k], "closed", true, cl->code);
	c->nwaiting = 0;
	if (cl->reason != QUIC_CLOSE_LOCAL)
		fprintf(stderr, "qtunnel: connection %d closed: %s%s%s code=0x%" PRIx64 " %s\n", c->index,
			quic_close_reason_name(cl->reason), cl->reason == QUIC_CLOSE_TLS ? " alert=" : "",
			cl->reason == QUIC_CLOSE_TLS ? quic_alert_name(cl->tls_alert) : "", cl->code,
			cl->detail);
}

static void on_h3(struct h3_conn *h, const struct h3_event *ev, void *arg)
{
	struct cconn *c = arg;
	struct ctun *t = ev->stream ? ev->stream->user : NULL;
	(void)h;
	switch (ev->type) {
	case H3_EV_QUIC:
		if (ev->quic->type == QUIC_EV_HANDSHAKE_DONE ||
		    ev->quic->type == QUIC_EV_STREAMS_AVAILABLE) {
			c->ready = true;
			open_waiting(c);
		} else if (ev->quic->type == QUIC_EV_CLOSED) {
			conn_closed(c);
		}
		return;
	case H3_EV_RESPONSE:
		if (!t)
			return;
		t->reply = ev->stream->status;
		if (t->reply >= 200 && t->reply <= 299)
			start_request(t);
		return;
	default:
		break;
	}
	if (!t)
		return;
	switch (ev->type) {
	case H3_EV_DATA:
		tunnel_data(t, ev->data, ev->len);
		break;
	case H3_EV_END:
		if (t->reply >= 200 && t->reply <= 299)
			tunnel_fin(t);
		else
			end(t, "refused", false, 0);
		break;
	case H3_EV_RESET:
		end(t, t->reply < 0 ? "refused" : "reset", true, ev->code);
		break;
	case H3_EV_WRITABLE:
		if (G.forward)
			fwd_pump(t);
		else
			pump_request(t);
		break;
	case H3_EV_CLOSED:
		if (!t->end && c->q.state >= QUIC_ST_CLOSING)
			end(t, "closed", true, c->q.close.code);
		ev->stream->user = NULL;
		t->hs = NULL;
		break;
	default:
		break;
	}
}

static void on_quic(struct quic_conn *q, const struct quic_event *ev, void *arg)
{
	struct cconn *c = arg;
	struct ctun *t = ev->stream ? ev->stream->user : NULL;
	(void)q;
	switch (ev->type) {
	case QUIC_EV_HANDSHAKE_DONE:
	case QUIC_EV_STREAMS_AVAILABLE:
		c->ready = true;
		open_waiting(c);
		break;
	case QUIC_EV_CLOSED:
		conn_closed(c);
		break;
	case QUIC_EV_STREAM_DATA:
		if (t)
			tunnel_data(t, ev->data, ev->len);
		break;
	case QUIC_EV_STREAM_FIN:
		if (t)
			tunnel_fin(t);
		break;
	case QUIC_EV_STREAM_RESET:
		if (t)
			end(t, "reset", true, ev->code);
		break;
	case QUIC_EV_STREAM_WRITABLE:
		if (t && G.forward)
			fwd_pump(t);
		else if (t)
			pump_request(t);
		break;
	case QUIC_EV_STREAM_CLOSED:
		if (t) {
			if (!t->end && ev->conn_closed)
				end(t, "closed", true, c->q.close.code);
			else if (!t->end && ev->has_code)
				end(t, "reset", true, ev->code);
			t->qs = NULL;
			ev->stream->user = NULL;
		}
		break;
	default:
		break;
	}
}

/* ---- --forward: a TCP connection per tunnel ---- */

static void on_fwd_io(struct loop *loop, struct loop_io *io, unsigned events);

static void fwd_pump(struct ctun *t)
{
	while (t->fd >= 0 && t->state == T_OPEN) {
		if (t->foff == t->flen && !t->tcp_eof) {
			long n = net_read(t->fd, t->fbuf, sizeof t->fbuf);
			if (n == -EAGAIN)
				break;
			if (n < 0) { /* the TCP client reset: the stream is reset too */
				if (t->hs)
					h3_stream_reset(&t->c->h3, t->hs, H3_CONNECT_ERROR);
				else if (t->qs)
					quic_stream_shutdown_write(&t->c->q, t->qs, H3_CONNECT_ERROR);
				end(t, "reset", false, 0);
				break;
			}
			if (n == 0) {
				t->tcp_eof = true;
				sfinish(t);
				break;
			}
			t->foff = 0;
			t->flen = (size_t)n;
		}
		long w = swrite(t, t->fbuf + t->foff, t->flen - t->foff, false);
		if (w <= 0)
			break;
		t->foff += (size_t)w;
		t->sent += (uint64_t)w;
	}
	if (t->fd >= 0)
		loop_io_start(&G.loop, &t->io, t->fd,
			      t->tcp_eof || t->foff < t->flen || t->state != T_OPEN ? 0 : LOOP_READ,
			      on_fwd_io, t);
}

static void on_fwd_io(struct loop *loop, struct loop_io *io, unsigned events)
{
	struct ctun *t = io->data;
	(void)loop;
	(void)events;
	fwd_pump(t);
	flush(t->c);
}

/* ---- connections ---- */

static void flush(struct cconn *c)
{
	struct quic_tx tx = {.buf = G.tx, .cap = sizeof G.tx};
	for (int round = 0; round < 64; round++) {
		int n = quic_conn_write(&c->q, loop_now(&G.loop), &tx);
		if (n <= 0)
			break;
		struct net_dgram d = {.buf = tx.buf, .len = tx.len,
				      .segment = tx.count > 1 ? (uint16_t)tx.seg : 0, .addr = G.proxy};
		if (net_udp_send(&c->udp, &d, 1) != 1)
			break; /* a full socket: QUIC sends them again */
	}
	uint64_t due = quic_conn_expiry(&c->q);
	if (c->q.state == QUIC_ST_CLOSED || due == UINT64_MAX)
		loop_timer_stop(&G.loop, &c->timer);
	else
		loop_timer_start_at(&G.loop, &c->timer, due);
}

static void on_conn_timer(struct loop *loop, struct loop_timer *timer)
{
	struct cconn *c = timer->data;
	quic_conn_handle_expiry(&c->q, loop_now(loop));
	flush(c);
}

static void on_udp(struct loop *loop, struct loop_io *io, unsigned events)
{
	struct cconn *c = io->data;
	(void)events;
	for (int round = 0; round < 8; round++) {
		for (size_t i = 0; i < RX_BATCH; i++)
			G.dg[i] = (struct net_dgram){.buf = G.rx + i * RX_BYTES, .cap = RX_BYTES};
		int got = net_udp_recv(&c->udp, G.dg, RX_BATCH);
		if (got <= 0)
			break;
		for (int i = 0; i < got; i++) {
			const struct net_dgram *d = &G.dg[i];
			size_t seg = d->segment ? d->segment : d->len;
			for (size_t off = 0; off < d->len && !d->truncated; off += seg)
				quic_conn_read(&c->q, (const struct sockaddr *)&d->addr.ss, d->addr.len,
					       (const uint8_t *)d->buf + off,
					       d->len - off < seg ? d->len - off : seg, loop_now(loop));
		}
		if (got < RX_BATCH)
			break;
	}
	flush(c);
}

static struct cconn *new_conn(void)
{
	static const char *const alpn_h3[] = {"h3"}, *const alpn_socks[] = {"socks5"};
	struct cconn *c = calloc(1, sizeof *c);
	if (!c)
		die("out of memory");
	c->index = (int)G.nconns;
	G.conns[G.nconns++] = c;
	struct net_addr any;
	net_addr_from_ip(G.proxy.ss.ss_family == AF_INET6 ? "::1" : "127.0.0.1", 0, &any);
	if (net_udp_bind(&c->udp, &any, NET_UDP_GRO) < 0)
		die("cannot bind a UDP socket");
	int sz = 4 << 20;
	setsockopt(c->udp.fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
	setsockopt(c->udp.fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
	struct net_addr local;
	net_local_addr(c->udp.fd, &local);
	struct quic_conn_opts o = {
		.local = (struct sockaddr *)&local.ss, .local_len = local.len,
		.remote = (struct sockaddr *)&G.proxy.ss, .remote_len = G.proxy.len,
		.alpn = h3() ? alpn_h3 : alpn_socks, .nalpn = 1,
		.params = {.idle_timeout_us = (uint64_t)(G.timeout * 2e6)},
		.cb = on_quic, .arg = c};
	if (quic_conn_init_client(&c->q, &G.ctx, &o, loop_now(&G.loop)) < 0)
		die(c->q.close.detail);
	if (h3()) {
		struct h3_opts ho = {.cb = on_h3, .arg = c};
		if (h3_conn_init(&c->h3, &c->q, &ho) < 0)
			die("h3_conn_init");
		c->h3_up = true;
	}
	loop_timer_init(&c->timer, on_conn_timer, c);
	loop_io_start(&G.loop, &c->io, c->udp.fd, LOOP_READ, on_udp, c);
	return c;
}

/* A new tunnel on the connection the --streams split puts it on. */
static struct ctun *new_tunnel(int fd)
{
	if (G.ntun == MAX_TUNNELS)
		return NULL;
	struct ctun *t = calloc(1, sizeof *t);
	if (!t)
		die("out of memory");
	t->index = (int)G.ntun;
	t->reply = -1;
	t->fd = fd;
	t->start_us = loop_now(&G.loop);
	G.tun[G.ntun++] = t;
	unsigned per = G.streams ? G.streams : MAX_TUNNELS;
	if (G.nconns == 0 || (unsigned)t->index % per == 0)
		new_conn();
	t->c = G.conns[G.nconns - 1];
	t->c->waiting[t->c->nwaiting++] = t;
	if (t->c->ready)
		open_waiting(t->c);
	flush(t->c);
	return t;
}

static void on_accept(struct loop *loop, struct loop_io *io, unsigned events)
{
	(void)loop;
	(void)events;
	for (int i = 0; i < 64; i++) {
		int fd = net_accept(io->fd, NULL);
		if (fd < 0)
			return;
		if (!new_tunnel(fd))
			net_close(fd);
	}
}

/* ---- the run ---- */

static bool all_ended(void)
{
	if (G.forward)
		return false;
	for (unsigned i = 0; i < G.ntun; i++)
		if (!G.tun[i]->end)
			return false;
	return true;
}

static bool all_closed(void)
{
	for (unsigned i = 0; i < G.ntun; i++)
		if (G.tun[i]->hs || G.tun[i]->qs)
			return false;
	return true;
}

static void on_tick(struct loop *loop, struct loop_timer *timer)
{
	uint64_t now = loop_now(loop);
	for (unsigned i = 0; i < G.ntun; i++) {
		struct ctun *t = G.tun[i];
		struct quic_stream *qs = t->hs ? t->hs->qs : t->qs;
		if (t->reset_pending && qs && qs->stats.bytes_acked >= qs->stats.bytes_written) {
			/* Everything written reached the proxy: now the reset, which discards
			 * nothing, is all the proxy has to pass on. */
			t->reset_pending = false;
			quic_stream_shutdown_write(&t->c->q, qs, H3_REQUEST_CANCELLED);
			flush(t->c);
		}
		/* The whole body is here and the end is not: wait --fin-wait, then give up. */
		if (!t->end && t->complete && now - t->complete_us > (uint64_t)(G.fin_wait * 1e6))
			end(t, "timeout", false, 0);
	}
	/* Every tunnel ended: a moment more for the streams to close (our FIN and the
	 * acknowledgement of the proxy's), so a polite CONNECTION_CLOSE cuts nothing short. */
	if (all_ended() && !G.ended_us)
		G.ended_us = now;
	if (now >= G.deadline || (G.ended_us && (all_closed() || now - G.ended_us > 500000))) {
		loop_stop(loop);
		return;
	}
	loop_timer_start(loop, timer, 20000);
}

static void report(void)
{
	unsigned good = 0;
	for (unsigned i = 0; i < G.ntun; i++) {
		struct ctun *t = G.tun[i];
		if (!t->end)
			end(t, "timeout", false, 0);
		bool ok = strcmp(t->end, "fin") == 0 && (G.forward || (t->complete && !t->verified_bad &&
								      t->status >= 200 && t->status <= 299));
		good += ok;
		char code[24] = "-";
		if (t->has_code)
			snprintf(code, sizeof code, "0x%" PRIx64, t->code);
		printf("tunnel=%d conn=%d reply=%d status=%d body=%" PRIu64 " expected=%" PRIu64
		       " verified=%s complete=%s end=%s code=%s sent=%" PRIu64 " ms=%.1f\n",
		       t->index, t->c->index, t->reply, t->status, t->got, t->expected,
		       !t->has_seed ? "-" : t->verified_bad ? "no" : "yes", t->complete ? "yes" : "no",
		       t->end, code, t->sent, (double)(t->end_us - t->start_us) / 1000.0);
	}
	printf("tunnels=%u ok=%u\n", G.ntun, good);
}

static void usage(void)
{
	fputs("usage: qtunnel [--framing h3|socks5] [--cacert F | -k] [--auth U:P] [--id P]\n"
	      "               [--tunnels N] [--streams K] [--get PATH | --post N | --forward ADDR]\n"
	      "               [--half-close] [--reset-after N] [--fin-wait S] [--timeout S]\n"
	      "               PROXY_IP PROXY_PORT HOST:PORT\n",
	      stderr);
	exit(2);
}

static void parse(int argc, char **argv)
{
	G.framing = "h3";
	G.tunnels = 1;
	G.timeout = 20;
	G.fin_wait = 3;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "-k")) {
			G.insecure = true;
			continue;
		}
		if (!strcmp(a, "--half-close")) {
			G.half_close = true;
			continue;
		}
		if (!v)
			usage();
		i++;
		if (!strcmp(a, "--framing") && (!strcmp(v, "h3") || !strcmp(v, "socks5")))
			G.framing = v;
		else if (!strcmp(a, "--cacert"))
			G.cafile = v;
		else if (!strcmp(a, "--auth") && strchr(v, ':')) {
			static char user[256];
			snprintf(user, sizeof user, "%.*s", (int)(strchr(v, ':') - v), v);
			G.user = user;
			G.pass = strchr(v, ':') + 1;
		} else if (!strcmp(a, "--id"))
			G.id = v;
		else if (!strcmp(a, "--tunnels") && atoi(v) > 0 && atoi(v) <= MAX_TUNNELS)
			G.tunnels = (unsigned)atoi(v);
		else if (!strcmp(a, "--streams") && atoi(v) > 0)
			G.streams = (unsigned)atoi(v);
		else if (!strcmp(a, "--get"))
			G.get = v;
		else if (!strcmp(a, "--post") && strtoull(v, NULL, 10) > 0)
			G.post = strtoull(v, NULL, 10);
		else if (!strcmp(a, "--reset-after") && strtoull(v, NULL, 10) > 0)
			G.reset_after = strtoull(v, NULL, 10);
		else if (!strcmp(a, "--forward"))
			G.forward = v;
		else if (!strcmp(a, "--fin-wait") && atof(v) >= 0)
			G.fin_wait = atof(v);
		else if (!strcmp(a, "--timeout") && atof(v) > 0)
			G.timeout = atof(v);
		else
			usage();
	}
	if (argc - i != 3 || !strrchr(argv[i + 2], ':'))
		usage();
	if (net_addr_from_ip(argv[i], (uint16_t)atoi(argv[i + 1]), &G.proxy) < 0)
		die("PROXY_IP must be an address literal");
	G.target = argv[i + 2];
}

int main(int argc, char **argv)
{
	parse(argc, argv);
	signal(SIGPIPE, SIG_IGN);
	const char *why = "?";
	if (quic_client_ctx_init(&G.ctx, G.cafile, G.insecure, NULL, &why) < 0)
		die(why);
	if (loop_init(&G.loop) < 0 || !(G.rx = malloc((size_t)RX_BATCH * RX_BYTES)))
		die("cannot make a loop");
	loop_update_time(&G.loop);
	G.deadline = loop_now(&G.loop) + (uint64_t)(G.timeout * 1e6);
	if (G.forward) {
		struct net_addr a;
		char addr[NET_ADDRSTRLEN];
		if (net_addr_parse(G.forward, &a) < 0 || (G.lfd = net_listen(&a, 128, false)) < 0)
			die("--forward: cannot listen");
		net_local_addr(G.lfd, &a);
		printf("forwarding %s\n", net_addr_format(&a, addr));
		fflush(stdout);
		loop_io_start(&G.loop, &G.lio, G.lfd, LOOP_READ, on_accept, NULL);
	} else {
		for (unsigned k = 0; k < G.tunnels; k++)
			new_tunnel(-1);
	}
	loop_timer_init(&G.tick, on_tick, NULL);
	loop_timer_start(&G.loop, &G.tick, 20000);
	loop_run(&G.loop);
	/* A polite end of every connection: CONNECTION_CLOSE with H3_NO_ERROR. */
	for (unsigned i = 0; i < G.nconns; i++) {
		quic_conn_close(&G.conns[i]->q, true, H3_NO_ERROR, NULL);
		flush(G.conns[i]);
	}
	report();
	bool all_ok = true;
	for (unsigned i = 0; i < G.ntun; i++)
		all_ok = all_ok && strcmp(G.tun[i]->end, "fin") == 0 &&
			 (G.forward || (G.tun[i]->complete && !G.tun[i]->verified_bad));
	for (unsigned i = 0; i < G.nconns; i++) {
		if (G.conns[i]->h3_up)
			h3_conn_free(&G.conns[i]->h3);
		quic_conn_free(&G.conns[i]->q);
		net_close(G.conns[i]->udp.fd);
		free(G.conns[i]);
	}
	for (unsigned i = 0; i < G.ntun; i++)
		free(G.tun[i]);
	quic_client_ctx_free(&G.ctx);
	free(G.rx);
	loop_free(&G.loop);
	return all_ok ? 0 : 1;
}
