/* h3peer_proxy — h3peer's `proxy` mode (included by h3peer.c, which would pass 800
 * lines with it): a QUIC proxy for the probe's tests (tests/e2e/probe_quicproxy.sh),
 * serving both framings on one port and relaying each tunnel to a TCP target on
 * loopback:
 *   ALPN h3      HTTP/3 CONNECT (RFC 9114 §4.4): 200, then DATA both ways, FIN for FIN
 *   ALPN socks5  SOCKS5 on each bidirectional stream the client opens (greeting, no
 *                auth, CONNECT request, reply), then the tunnel's bytes
 * with one misbehaviour for every tunnel (--misbehave):
 *   nofin        relays everything, but never FINs the stream after the target's EOF
 *   reset[=C]    RESET_STREAM (+ STOP_SENDING) with code C after --after N bytes down
 *   close[=C]    CONNECTION_CLOSE with application code C after --after N bytes down
 *   cut          FIN after --after N bytes down (the target's bytes after are dropped)
 *   refuse       CONNECT answered 403 / SOCKS5 reply 0x02 (not allowed)
 *   abort        the stream ends before the reply (h3: reset H3_CONNECT_ERROR; socks5:
 *                FIN)
 *   early        a success reply, then FIN at once, before any byte of the target's
 * Bounded: MAX_TUNNELS tunnels at once, every wait bounded by --timeout.
 */
#ifndef TP_H3PEER_PROXY_H
#define TP_H3PEER_PROXY_H

#include <netinet/in.h>

#include "lib/socks5.h"

#define MAX_TUNNELS 256
#define PX_CHUNK 65536

enum px_mode { PX_NONE, PX_NOFIN, PX_RESET, PX_CLOSE, PX_CUT, PX_REFUSE, PX_ABORT, PX_EARLY };

struct px_conn {
	struct quic_conn q;
	struct h3_conn h;
	bool used, h3_up;
	struct listener *ls;
};

struct tunnel {
	bool used, up, tcp_eof, done_down;
	struct px_conn *pc;
	struct h3_stream *hs;       /* h3 */
	struct quic_stream *qs;     /* socks5 */
	int fd;                     /* the target, or -1 */
	uint8_t in[600];            /* socks5: greeting and request */
	size_t in_len;
	int socks_stage;            /* 0 greeting, 1 request, 2 relaying */
	uint64_t down;              /* target bytes accepted by the stream */
	uint64_t reply_bytes;       /* socks5: the stream's bytes before the tunnel's */
	size_t pend_off, pend_len;  /* target bytes not yet accepted */
	uint8_t pend[PX_CHUNK];
};

static struct {
	enum px_mode mode;
	uint64_t code, after;
	struct px_conn conns[MAX_CONNS];
	struct tunnel tunnels[MAX_TUNNELS];
	unsigned opened;
} PX;

static struct tunnel *px_new_tunnel(struct px_conn *pc)
{
	for (int i = 0; i < MAX_TUNNELS; i++)
		if (!PX.tunnels[i].used) {
			struct tunnel *t = &PX.tunnels[i];
			memset(t, 0, offsetof(struct tunnel, pend));
			t->used = true;
			t->pc = pc;
			t->fd = -1;
			PX.opened++;
			return t;
		}
	return NULL;
}

static void px_free_tunnel(struct tunnel *t)
{
	if (t->fd >= 0)
		close(t->fd);
	if (t->hs)
		t->hs->user = NULL;
	if (t->qs)
		t->qs->user = NULL;
	t->used = false;
	t->fd = -1;
}

/* A blocking connect to host:port on loopback, then non-blocking. -1 on failure. */
static int px_dial(const char *host, uint16_t port)
{
	char ps[8];
	snprintf(ps, sizeof ps, "%u", port);
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *res;
	if (getaddrinfo(host, ps, &hints, &res) != 0)
		return -1;
	int fd = socket(res->ai_family, SOCK_STREAM, 0);
	if (fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd >= 0)
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

/* Client bytes to the target (small: requests; a short blocking wait is fine here). */
static void px_up(struct tunnel *t, const uint8_t *data, size_t len)
{
	for (size_t off = 0; off < len && t->fd >= 0;) {
		ssize_t n = send(t->fd, data + off, len - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
		} else if (n < 0 && errno == EAGAIN) {
			struct pollfd p = {.fd = t->fd, .events = POLLOUT};
			if (poll(&p, 1, 1000) <= 0)
				return;
		} else {
			return;
		}
	}
}

static long px_stream_write(struct tunnel *t, const uint8_t *data, size_t len)
{
	if (t->hs)
		return h3_stream_write(&t->pc->h, t->hs, data, len);
	if (t->qs)
		return quic_stream_write(&t->pc->q, t->qs, data, len, false);
	return -EPIPE;
}

static void px_stream_fin(struct tunnel *t)
{
	if (t->hs)
		h3_stream_end(&t->pc->h, t->hs);
	else if (t->qs)
		quic_stream_finish(&t->pc->q, t->qs);
}

static bool px_cuts(void) { return PX.mode == PX_RESET || PX.mode == PX_CLOSE || PX.mode == PX_CUT; }

/* The target's bytes the client acknowledged. */
static uint64_t px_acked(const struct tunnel *t)
{
	if (t->hs)
		return t->hs->body_acked;
	if (!t->qs || t->qs->stats.bytes_acked < t->reply_bytes)
		return 0; /* the SOCKS5 replies not all acknowledged yet */
	return t->qs->stats.bytes_acked - t->reply_bytes;
}

/* The misbehaviours that act once N bytes went down — and were acknowledged, as a
 * reset or close discards what is still in flight: true when the tunnel is over. */
static bool px_misbehave_now(struct tunnel *t)
{
	if (!px_cuts() || t->done_down || t->down < PX.after || px_acked(t) < PX.after)
		return false;
	if (PX.mode == PX_RESET) {
		if (t->hs) {
			h3_stream_reset(&t->pc->h, t->hs, PX.code);
		} else if (t->qs) {
			quic_stream_shutdown_write(&t->pc->q, t->qs, PX.code);
			quic_stream_shutdown_read(&t->pc->q, t->qs, PX.code);
		}
	} else if (PX.mode == PX_CLOSE) {
		quic_conn_close(&t->pc->q, true, PX.code, "h3peer proxy: close");
	} else {
		px_stream_fin(t);
	}
	t->done_down = true;
	return true;
}

/* Target bytes to the stream, as far as the stream takes them. */
static void px_down(struct tunnel *t)
{
	for (int rounds = 0; rounds < 64 && t->up && !t->done_down; rounds++) {
		if (t->pend_len == 0) {
			if (t->tcp_eof || t->fd < 0)
				break;
			size_t want = PX_CHUNK;
			if (px_cuts() && PX.after - t->down < want)
				want = (size_t)(PX.after - t->down);
			ssize_t n = want ? recv(t->fd, t->pend, want, 0) : 0;
			if (n < 0 && errno == EAGAIN)
				return;
			if (n <= 0 && want) {
				t->tcp_eof = true;
				break;
			}
			t->pend_off = 0;
			t->pend_len = (size_t)(n > 0 ? n : 0);
		}
		if (t->pend_len) {
			long w = px_stream_write(t, t->pend + t->pend_off, t->pend_len);
			if (w <= 0)
				return; /* WRITABLE calls again */
			t->pend_off += (size_t)w;
			t->pend_len -= (size_t)w;
			t->down += (uint64_t)w;
		}
		if (px_misbehave_now(t))
			return;
	}
	if (t->up && t->tcp_eof && t->pend_len == 0 && !t->done_down) {
		t->done_down = true;
		if (PX.mode != PX_NOFIN)
			px_stream_fin(t);
	}
}

/* The tunnel's target answered the CONNECT: up, or the misbehaviour before it. */
static void px_open_h3(struct tunnel *t)
{
	struct h3_stream *s = t->hs;
	if (PX.mode == PX_ABORT) {
		h3_stream_reset(&t->pc->h, s, H3_CONNECT_ERROR);
		return;
	}
	const char *colon = s->authority ? strrchr(s->authority, ':') : NULL;
	char host[256];
	if (!colon || (size_t)(colon - s->authority) >= sizeof host) {
		h3_submit_response(&t->pc->h, s, 400, NULL, 0, false);
		return;
	}
	size_t hl = (size_t)(colon - s->authority);
	memcpy(host, s->authority, hl);
	host[hl] = '\0';
	if (host[0] == '[') { /* [v6]:port */
		memmove(host, host + 1, hl);
		host[hl > 1 ? hl - 2 : 0] = '\0';
	}
	if (PX.mode == PX_REFUSE || (t->fd = px_dial(host, (uint16_t)atoi(colon + 1))) < 0) {
		h3_submit_response(&t->pc->h, s, PX.mode == PX_REFUSE ? 403 : 502, NULL, 0, false);
		return;
	}
	h3_submit_response(&t->pc->h, s, 200, NULL, 0, true);
	t->up = true;
	if (PX.mode == PX_EARLY) {
		px_stream_fin(t);
		t->done_down = true;
	}
}

static void px_h3_event(struct h3_conn *h, const struct h3_event *ev, void *arg)
{
	struct px_conn *pc = arg;
	(void)h;
	struct tunnel *t = ev->stream ? ev->stream->user : NULL;
	switch (ev->type) {
	case H3_EV_REQUEST:
		if (!ev->stream->method || strcmp(ev->stream->method, "CONNECT") != 0 ||
		    !(t = px_new_tunnel(pc))) {
			h3_submit_response(h, ev->stream, 405, NULL, 0, false);
			return;
		}
		ev->stream->user = t;
		t->hs = ev->stream;
		px_open_h3(t);
		break;
	case H3_EV_DATA:
		if (t)
			px_up(t, ev->data, ev->len);
		break;
	case H3_EV_END:
		if (t && t->fd >= 0)
			shutdown(t->fd, SHUT_WR);
		break;
	case H3_EV_WRITABLE:
		if (t)
			px_down(t);
		break;
	case H3_EV_ACKED:
		if (t)
			px_misbehave_now(t);
		break;
	case H3_EV_CLOSED:
		if (t) {
			t->hs = NULL;
			px_free_tunnel(t);
		}
		break;
	default:
		break;
	}
}

/* SOCKS5 on a raw stream: the greeting and request from t->in, then relaying. */
static void px_socks(struct tunnel *t)
{
	uint8_t out[64];
	int err;
	if (t->socks_stage == 0) {
		struct socks5_greeting g;
		int n = socks5_server_parse_greeting(t->in, t->in_len, &g, &err);
		if (n == SOCKS5_NEED_MORE)
			return;
		if (n < 0 || PX.mode == PX_ABORT) {
			px_stream_fin(t);
			t->socks_stage = 3;
			return;
		}
		memmove(t->in, t->in + n, t->in_len - (size_t)n);
		t->in_len -= (size_t)n;
		int m = socks5_server_method(out, sizeof out, 0);
		quic_stream_write(&t->pc->q, t->qs, out, (size_t)m, false);
		t->socks_stage = 1;
	}
	if (t->socks_stage == 1) {
		uint8_t cmd;
		struct socks5_addr dst;
		int n = socks5_server_parse_request(t->in, t->in_len, &cmd, &dst, &err);
		if (n == SOCKS5_NEED_MORE)
			return;
		char host[300];
		uint8_t rep = 0;
		if (n < 0 || cmd != SOCKS5_CMD_CONNECT || socks5_addr_format(&dst, host, sizeof host) < 0)
			rep = 1;
		else if (PX.mode == PX_REFUSE)
			rep = 2;
		else {
			/* socks5_addr_format gives host:port; dial the host part. */
			char *colon = strrchr(host, ':');
			if (colon)
				*colon = '\0';
			char *h = host[0] == '[' ? host + 1 : host;
			if (h != host && strchr(h, ']'))
				*strchr(h, ']') = '\0';
			if ((t->fd = px_dial(h, dst.port)) < 0)
				rep = 5;
		}
		int m = socks5_server_reply(out, sizeof out, rep, NULL);
		quic_stream_write(&t->pc->q, t->qs, out, (size_t)m, rep != 0);
		t->socks_stage = rep ? 3 : 2;
		if (rep)
			return;
		t->up = true;
		t->reply_bytes = t->qs->stats.bytes_written;
		if (n > 0 && t->in_len > (size_t)n)
			px_up(t, t->in + n, t->in_len - (size_t)n);
		t->in_len = 0;
		if (PX.mode == PX_EARLY) {
			px_stream_fin(t);
			t->done_down = true;
		}
	}
}

static void px_quic_event(struct quic_conn *c, const struct quic_event *ev, void *arg)
{
	struct px_conn *pc = arg;
	struct tunnel *t = ev->stream ? ev->stream->user : NULL;
	listener_on_cid(pc->ls, ev, pc);
	switch (ev->type) {
	case QUIC_EV_HANDSHAKE_DONE:
		if (!strcmp(c->alpn, "h3")) {
			struct h3_opts o = {.cb = px_h3_event, .arg = pc};
			if (h3_conn_init(&pc->h, c, &o) == 0)
				pc->h3_up = true;
		}
		break;
	case QUIC_EV_STREAM_OPEN:
		if ((t = px_new_tunnel(pc))) {
			ev->stream->user = t;
			t->qs = ev->stream;
		}
		break;
	case QUIC_EV_STREAM_DATA:
		if (!t)
			break;
		if (t->socks_stage == 2) {
			px_up(t, ev->data, ev->len);
		} else if (t->socks_stage < 2) {
			size_t n = ev->len < sizeof t->in - t->in_len ? ev->len : sizeof t->in - t->in_len;
			memcpy(t->in + t->in_len, ev->data, n);
			t->in_len += n;
			px_socks(t);
		}
		break;
	case QUIC_EV_STREAM_FIN:
		if (t && t->fd >= 0)
			shutdown(t->fd, SHUT_WR);
		break;
	case QUIC_EV_STREAM_WRITABLE:
		if (t)
			px_down(t);
		break;
	case QUIC_EV_STREAM_ACKED:
		if (t && t->up)
			px_misbehave_now(t);
		break;
	case QUIC_EV_STREAM_CLOSED:
		if (t) {
			t->qs = NULL;
			px_free_tunnel(t);
		}
		break;
	default:
		break;
	}
}

static void px_datagram(struct listener *ls, const uint8_t *pkt, size_t len, struct sockaddr_storage *from,
			socklen_t flen)
{
	void *found = NULL;
	if (listener_route(ls, pkt, len, from, flen, &found) < 0)
		return;
	struct px_conn *pc = found;
	if (!pc) {
		for (int i = 0; i < MAX_CONNS && !pc; i++)
			if (!PX.conns[i].used)
				pc = &PX.conns[i];
		if (!pc)
			return;
		/* Room for many tunnels at once (the probe's --streams). */
		struct quic_params params = {.max_streams_bidi = 1000, .idle_timeout_us = 30000000};
		if (listener_accept(ls, &pc->q, px_quic_event, pc, &params, pkt, len, from, flen) != 0)
			return;
		pc->used = true;
		pc->ls = ls;
	}
	quic_conn_read(&pc->q, (struct sockaddr *)from, flen, pkt, len, now_us());
}

static void px_reap(struct listener *ls, struct px_conn *pc)
{
	listener_forget(ls, &pc->q);
	for (int i = 0; i < MAX_TUNNELS; i++)
		if (PX.tunnels[i].used && PX.tunnels[i].pc == pc) {
			PX.tunnels[i].hs = NULL;
			PX.tunnels[i].qs = NULL;
			px_free_tunnel(&PX.tunnels[i]);
		}
	if (pc->h3_up)
		h3_conn_free(&pc->h);
	quic_conn_free(&pc->q);
	memset(pc, 0, sizeof *pc);
}

static int px_parse_mode(const char *m)
{
	static const struct {
		const char *name;
		enum px_mode mode;
		uint64_t code;
	} modes[] = {{"none", PX_NONE, 0},     {"nofin", PX_NOFIN, 0},   {"reset", PX_RESET, H3_INTERNAL_ERROR},
		     {"close", PX_CLOSE, H3_INTERNAL_ERROR}, {"cut", PX_CUT, 0}, {"refuse", PX_REFUSE, 0},
		     {"abort", PX_ABORT, 0},   {"early", PX_EARLY, 0}};
	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
		size_t n = strlen(modes[i].name);
		if (strncmp(m, modes[i].name, n) != 0 || (m[n] != '\0' && m[n] != '='))
			continue;
		PX.mode = modes[i].mode;
		PX.code = m[n] == '=' ? strtoull(m + n + 1, NULL, 0) : modes[i].code;
		return 0;
	}
	return -1;
}

/* One poll round: the UDP socket and every tunnel's target waiting to be read. */
static void px_poll(struct listener *ls, uint64_t deadline)
{
	int ufd = ls->fd;
	static struct pollfd pfd[1 + MAX_TUNNELS];
	static struct tunnel *who[1 + MAX_TUNNELS];
	static uint8_t pkt[65536];
	size_t n = 0;
	pfd[n++] = (struct pollfd){.fd = ufd, .events = POLLIN};
	for (int i = 0; i < MAX_TUNNELS; i++) {
		struct tunnel *t = &PX.tunnels[i];
		if (t->used && t->up && t->fd >= 0 && !t->tcp_eof && !t->done_down && t->pend_len == 0 &&
		    !(px_cuts() && t->down >= PX.after)) {
			who[n] = t;
			pfd[n++] = (struct pollfd){.fd = t->fd, .events = POLLIN};
		}
	}
	uint64_t expiry = deadline;
	for (int k = 0; k < MAX_CONNS; k++)
		if (PX.conns[k].used && quic_conn_expiry(&PX.conns[k].q) < expiry)
			expiry = quic_conn_expiry(&PX.conns[k].q);
	uint64_t now = now_us();
	int ms = expiry <= now ? 0 : (int)((expiry - now + 999) / 1000);
	if (poll(pfd, n, ms > 100 ? 100 : ms) <= 0)
		return;
	if (pfd[0].revents) {
		for (int r = 0; r < RECV_BATCH; r++) {
			struct sockaddr_storage from;
			socklen_t flen = sizeof from;
			ssize_t len = recvfrom(ufd, pkt, sizeof pkt, 0, (struct sockaddr *)&from, &flen);
			if (len < 0)
				break;
			px_datagram(ls, pkt, (size_t)len, &from, flen);
		}
	}
	for (size_t i = 1; i < n; i++)
		if (pfd[i].revents && who[i]->used)
			px_down(who[i]);
}

static int cmd_proxy(int argc, char **argv)
{
	const char *cert = NULL, *key = NULL, *portfile = NULL;
	double timeout = 20;
	int i = 2;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--cert") && i + 1 < argc)
			cert = argv[++i];
		else if (!strcmp(argv[i], "--key") && i + 1 < argc)
			key = argv[++i];
		else if (!strcmp(argv[i], "--port-file") && i + 1 < argc)
			portfile = argv[++i];
		else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			timeout = atof(argv[++i]);
		else if (!strcmp(argv[i], "--after") && i + 1 < argc)
			PX.after = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--misbehave") && i + 1 < argc) {
			if (px_parse_mode(argv[++i]) < 0)
				die("proxy: unknown --misbehave");
		} else
			die("proxy: unknown option");
	}
	if (argc - i != 2 || !cert || !key)
		die("usage: h3peer proxy --cert F --key F [--port-file F] [--misbehave M] [--after N] ADDR PORT");
	static const char *const alpn[] = {"h3", "socks5"};
	static struct listener ls;
	listener_open(&ls, argv[i], argv[i + 1], portfile, cert, key, alpn, 2);
	uint64_t deadline = now_us() + (uint64_t)(timeout * 1e6);
	while (now_us() < deadline) {
		px_poll(&ls, deadline);
		for (int k = 0; k < MAX_CONNS; k++) {
			struct px_conn *pc = &PX.conns[k];
			if (!pc->used)
				continue;
			if (now_us() >= quic_conn_expiry(&pc->q))
				quic_conn_handle_expiry(&pc->q, now_us());
			send_all(ls.fd, &pc->q);
			if (pc->q.state == QUIC_ST_CLOSED)
				px_reap(&ls, pc);
		}
	}
	printf("tunnels=%u\n", PX.opened);
	for (int k = 0; k < MAX_CONNS; k++)
		if (PX.conns[k].used)
			px_reap(&ls, &PX.conns[k]);
	listener_close(&ls);
	return 0;
}

#endif
