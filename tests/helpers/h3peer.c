/* h3peer — an HTTP/3 peer built on lib/quic + lib/h3 over a plain UDP socket, for the
 * interop tests against peers we did not write (tests/e2e/quic_interop.sh: Debian's
 * ngtcp2 examples gtlsserver and gtlsclient), and an in-memory throughput probe.
 *
 *   h3peer get [--cacert F | -k] [--keylog F] [--out F] [--timeout S] HOST PORT URL
 *       GET URL from HOST:PORT (SNI and :authority from the URL); the body goes to --out.
 *       Prints "status=N bytes=N end=0|1 close=REASON"; exit 0 on a 200 with its FIN.
 *   h3peer serve --cert F --key F [--dir D] [--port-file F] [--requests N] [--timeout S]
 *                ADDR PORT
 *       Serves files below D over HTTP/3 (PORT 0: any; the port goes to --port-file);
 *       exits after N responses were fully acknowledged, or at the timeout (status 1).
 *       /gen/SIZE serves SIZE bytes of lib/payload with the probe's verification headers
 *       (x-tp-seed, x-tp-length) and content-length; a query makes it misbehave after N
 *       body bytes (the probe's HTTP/3 tests, tests/e2e/probe_h3.sh):
 *         ?reset=N[&code=C]  RESET_STREAM + STOP_SENDING with code C (default 0x102)
 *         ?close=N[&code=C]  CONNECTION_CLOSE with application code C (default 0x102)
 *         ?fin=N             FIN after N bytes, short of the announced length
 *         ?stall=N           stop sending on the stream; the connection lives on
 *         ?silent=N          stop answering: every later datagram of the connection is
 *                            ignored and nothing more is sent
 *         ?nofin             every announced byte, but never the FIN
 *   h3peer proxy --cert F --key F [--port-file F] [--misbehave M] [--after N] ADDR PORT
 *       A QUIC proxy (ALPN h3: CONNECT; ALPN socks5: SOCKS5 on raw streams) relaying
 *       to TCP targets, with misbehaviours: see h3peer_proxy.h.
 *   h3peer bench [--mib N] [--h3] [--payload N]
 *       N MiB client to server over one stream of an in-memory connection on the real
 *       clock (--h3: server to client as an HTTP/3 GET); prints MB/s. Context only.
 *
 * Plain sockets and poll(); every wait is bounded by --timeout (default 20 s).
 */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/crypto.h>

#include "lib/h3.h"
#include "lib/payload.h"
#include "lib/quic.h"

static void die(const char *what)
{
	fprintf(stderr, "h3peer: %s\n", what);
	exit(3);
}

#define QP_ASSERT(cond)                                                                    \
	do {                                                                               \
		if (!(cond))                                                               \
			die("in-memory pair: " #cond);                                     \
	} while (0)
#include "tests/helpers/quic_pair.h"

#define MAX_CONNS 64
#define RECV_BATCH 256

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint8_t txbuf[64 * 1024];

/* Sends every datagram c has now. */
static void send_all(int fd, struct quic_conn *c)
{
	struct quic_tx tx = {.buf = txbuf, .cap = sizeof txbuf};
	for (int batches = 0; batches < 256; batches++) {
		int n = quic_conn_write(c, now_us(), &tx);
		if (n <= 0)
			return;
		for (size_t off = 0; off < tx.len; off += tx.seg) {
			size_t len = tx.len - off < tx.seg ? tx.len - off : tx.seg;
			/* A full socket drops the datagram; QUIC retransmits. */
			(void)sendto(fd, tx.buf + off, len, 0, (struct sockaddr *)&tx.to, tx.tolen);
		}
	}
}

/* Waits until fd is readable or until min(expiry, deadline). */
static bool wait_readable(int fd, uint64_t expiry, uint64_t deadline)
{
	uint64_t until = expiry < deadline ? expiry : deadline, now = now_us();
	int ms = until <= now ? 0 : (int)((until - now + 999) / 1000);
	struct pollfd p = {.fd = fd, .events = POLLIN};
	return poll(&p, 1, ms) > 0;
}

static int udp_socket(int family)
{
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		die("socket");
	int sz = 4 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
	return fd;
}

static int resolve(const char *host, const char *port, struct sockaddr_storage *ss, socklen_t *len)
{
	struct addrinfo hints = {.ai_socktype = SOCK_DGRAM, .ai_flags = AI_NUMERICSERV}, *res;
	if (getaddrinfo(host, port, &hints, &res) != 0)
		return -1;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

#include "tests/helpers/quic_listener.h"

/* ---------------------------------------------------------------- get */

struct getter {
	struct quic_conn q;
	struct h3_conn h;
	const char *authority, *path;
	FILE *out;
	int status;
	uint64_t received;
	bool end, done, failed;
	uint64_t code;
};

static void get_event(struct h3_conn *h, const struct h3_event *ev, void *arg)
{
	struct getter *g = arg;
	switch (ev->type) {
	case H3_EV_QUIC:
		if (ev->quic->type == QUIC_EV_HANDSHAKE_DONE) {
			struct h3_header f[] = {{"user-agent", "tunnelprobe-h3peer"}};
			struct h3_request req = {.method = "GET", .scheme = "https",
						 .authority = g->authority, .path = g->path,
						 .fields = f, .nfields = 1};
			struct h3_stream *s;
			if (h3_submit_request(h, &req, &s) != 0)
				g->done = g->failed = true;
		} else if (ev->quic->type == QUIC_EV_CLOSED) {
			g->done = true;
		}
		break;
	case H3_EV_RESPONSE:
		g->status = ev->stream->status;
		break;
	case H3_EV_DATA:
		g->received += ev->len;
		if (g->out && fwrite(ev->data, 1, ev->len, g->out) != ev->len)
			g->failed = true;
		break;
	case H3_EV_END:
		g->end = true;
		break;
	case H3_EV_RESET:
	case H3_EV_ERROR:
		g->failed = true;
		g->code = ev->code;
		break;
	case H3_EV_CLOSED:
		g->done = true;
		break;
	default:
		break;
	}
}

static int cmd_get(int argc, char **argv)
{
	const char *cafile = NULL, *keylog = NULL, *outpath = NULL;
	bool insecure = false;
	double timeout = 20;
	int i = 2;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--cacert") && i + 1 < argc)
			cafile = argv[++i];
		else if (!strcmp(argv[i], "-k"))
			insecure = true;
		else if (!strcmp(argv[i], "--keylog") && i + 1 < argc)
			keylog = argv[++i];
		else if (!strcmp(argv[i], "--out") && i + 1 < argc)
			outpath = argv[++i];
		else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			timeout = atof(argv[++i]);
		else
			die("get: unknown option");
	}
	if (argc - i != 3)
		die("usage: h3peer get [--cacert F | -k] [--keylog F] [--out F] HOST PORT URL");
	const char *host = argv[i], *port = argv[i + 1], *url = argv[i + 2];
	/* https://authority/path */
	static char authority[256], sni[256];
	const char *a = strstr(url, "://");
	a = a ? a + 3 : url;
	const char *slash = strchr(a, '/');
	snprintf(authority, sizeof authority, "%.*s", (int)(slash ? slash - a : (long)strlen(a)), a);
	snprintf(sni, sizeof sni, "%s", authority);
	char *colon = strrchr(sni, ':');
	if (colon && !strchr(sni, ']'))
		*colon = '\0';

	struct sockaddr_storage remote, local;
	socklen_t rlen, llen = sizeof local;
	if (resolve(host, port, &remote, &rlen) != 0)
		die("get: cannot resolve");
	int fd = udp_socket(remote.ss_family);
	if (connect(fd, (struct sockaddr *)&remote, rlen) != 0 ||
	    getsockname(fd, (struct sockaddr *)&local, &llen) != 0)
		die("get: connect");

	struct quic_client_ctx ctx;
	const char *why = "?";
	if (quic_client_ctx_init(&ctx, cafile, insecure, keylog, &why) != 0)
		die(why);
	static struct getter g;
	g.authority = authority;
	g.path = slash ? slash : "/";
	g.out = outpath ? fopen(outpath, "wb") : NULL;
	if (outpath && !g.out)
		die("get: cannot open --out");
	static const char *const alpn[] = {"h3"};
	struct quic_conn_opts o = {.local = (struct sockaddr *)&local, .local_len = llen,
				   .remote = (struct sockaddr *)&remote, .remote_len = rlen,
				   .sni = sni, .alpn = alpn, .nalpn = 1};
	if (quic_conn_init_client(&g.q, &ctx, &o, now_us()) != 0)
		die(g.q.close.detail);
	struct h3_opts ho = {.cb = get_event, .arg = &g};
	if (h3_conn_init(&g.h, &g.q, &ho) != 0)
		die("h3_conn_init");

	uint64_t deadline = now_us() + (uint64_t)(timeout * 1e6);
	static uint8_t pkt[65536];
	while (!g.done && now_us() < deadline && g.q.state < QUIC_ST_DRAINING) {
		send_all(fd, &g.q);
		if (wait_readable(fd, quic_conn_expiry(&g.q), deadline)) {
			for (int n = 0; n < RECV_BATCH; n++) {
				struct sockaddr_storage from;
				socklen_t flen = sizeof from;
				ssize_t r = recvfrom(fd, pkt, sizeof pkt, 0, (struct sockaddr *)&from, &flen);
				if (r < 0)
					break;
				quic_conn_read(&g.q, (struct sockaddr *)&from, flen, pkt, (size_t)r, now_us());
			}
		}
		if (now_us() >= quic_conn_expiry(&g.q))
			quic_conn_handle_expiry(&g.q, now_us());
	}
	/* A polite end: CONNECTION_CLOSE with H3_NO_ERROR. */
	quic_conn_close(&g.q, true, H3_NO_ERROR, NULL);
	send_all(fd, &g.q);
	printf("status=%d bytes=%llu end=%d close=%s", g.status, (unsigned long long)g.received,
	       g.end, quic_close_reason_name(g.q.close.reason));
	if (g.q.close.reason == QUIC_CLOSE_TLS)
		printf(" alert=%s", quic_alert_name(g.q.close.tls_alert));
	if (g.failed)
		printf(" code=%s", h3_error_name(g.code));
	printf("\n");
	bool ok = g.status == 200 && g.end && !g.failed;
	if (g.out)
		fclose(g.out);
	h3_conn_free(&g.h);
	quic_conn_free(&g.q);
	quic_client_ctx_free(&ctx);
	close(fd);
	return ok ? 0 : 1;
}

/* ---------------------------------------------------------------- serve */

struct sconn {
	struct quic_conn q;
	struct h3_conn h;
	bool used, h3_up;
	bool silent;              /* ?silent: ignores the client, sends nothing */
	bool peer_done;           /* the client closed with H3_NO_ERROR */
	struct server *srv;
};

struct server {
	struct listener ls;
	struct sconn conns[MAX_CONNS];
	const char *dir;
	unsigned served;
	unsigned sent_whole; /* responses whose every byte was sent, acknowledged or not */
};

enum misbehave { MB_NONE, MB_RESET, MB_CLOSE, MB_FIN, MB_STALL, MB_SILENT, MB_NOFIN };

struct sfile {
	int fd;                   /* a file below --dir, or -1 for /gen/SIZE */
	uint64_t size, sent;
	uint64_t seed;            /* /gen: the payload's seed */
	enum misbehave mb;
	uint64_t after;           /* body bytes before the misbehaviour */
	uint64_t code;
};

/* The value of key in query q ("a=1&b=2"), or NULL. */
static const char *query_get(const char *q, const char *key, char *out, size_t cap)
{
	size_t klen = strlen(key);
	for (const char *p = q; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
		if (strncmp(p, key, klen) != 0 || (p[klen] != '=' && p[klen] != '&' && p[klen] != '\0'))
			continue;
		const char *v = p[klen] == '=' ? p + klen + 1 : p + klen;
		size_t n = strcspn(v, "&");
		snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), v);
		return out;
	}
	return NULL;
}

/* /gen/SIZE[?misbehaviour]: fills f; false when path is not one. */
static bool parse_gen(const char *path, struct sfile *f)
{
	if (strncmp(path, "/gen/", 5) != 0)
		return false;
	char *end;
	f->size = strtoull(path + 5, &end, 10);
	if (end == path + 5 || (*end && *end != '?'))
		return false;
	f->seed = payload_seed(path, (size_t)(end - path));
	const char *q = *end == '?' ? end + 1 : "";
	static const struct {
		const char *key;
		enum misbehave mb;
	} modes[] = {{"reset", MB_RESET}, {"close", MB_CLOSE}, {"fin", MB_FIN}, {"stall", MB_STALL},
		     {"silent", MB_SILENT}, {"nofin", MB_NOFIN}};
	char v[32];
	f->code = H3_INTERNAL_ERROR;
	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
		if (query_get(q, modes[i].key, v, sizeof v)) {
			f->mb = modes[i].mb;
			f->after = strtoull(v, NULL, 10);
		}
	if (query_get(q, "code", v, sizeof v))
		f->code = strtoull(v, NULL, 0);
	if (f->mb == MB_NOFIN)
		f->after = f->size;
	return true;
}

static void on_cid(struct sconn *sc, const struct quic_event *ev) { listener_on_cid(&sc->srv->ls, ev, sc); }

/* What a misbehaving response does once it sent f->after body bytes. */
static void misbehave(struct sconn *sc, struct h3_stream *s, struct sfile *f)
{
	struct h3_conn *h = &sc->h;
	switch (f->mb) {
	case MB_RESET: h3_stream_reset(h, s, f->code); break;
	case MB_CLOSE: quic_conn_close(&sc->q, true, f->code, "h3peer: close"); break;
	case MB_FIN: h3_stream_end(h, s); break;
	case MB_SILENT: sc->silent = true; break;
	default: break; /* stall, nofin: nothing more, ever */
	}
	f->mb = MB_STALL; /* once */
	f->after = 0;
}

static void serve_more(struct sconn *sc, struct h3_stream *s)
{
	struct h3_conn *h = &sc->h;
	struct sfile *f = s->user;
	uint8_t buf[16384];
	if (!f || sc->silent)
		return;
	uint64_t stop = f->mb != MB_NONE ? f->after : f->size;
	while (f->sent < stop && f->sent < f->size) {
		uint64_t want = stop - f->sent < sizeof buf ? stop - f->sent : sizeof buf;
		ssize_t n = (ssize_t)want;
		if (f->fd >= 0)
			n = pread(f->fd, buf, (size_t)want, (off_t)f->sent);
		else
			payload_fill(f->seed, f->sent, buf, (size_t)want);
		if (n <= 0) {
			h3_stream_reset(h, s, H3_INTERNAL_ERROR);
			return;
		}
		long w = h3_stream_write(h, s, buf, (size_t)n);
		if (w <= 0)
			return; /* full: H3_EV_WRITABLE brings us back */
		f->sent += (uint64_t)w;
	}
	if (f->mb == MB_NONE)
		h3_stream_end(h, s);
	else if (f->mb == MB_FIN || s->body_acked >= f->after)
		misbehave(sc, s, f);
	/* else: misbehave once the client has the bytes (H3_EV_ACKED brings us back), so
	 * they arrived before the reset, close or silence */
}

static void on_request(struct sconn *sc, struct h3_stream *s)
{
	struct h3_conn *h = &sc->h;
	char path[PATH_MAX];
	const char *p = s->path ? s->path : "";
	struct sfile gen = {.fd = -1};
	int fd = -1;
	struct stat st;
	bool is_gen = parse_gen(p, &gen);
	if (!is_gen && sc->srv->dir && p[0] == '/' && !strstr(p, "..") &&
	    snprintf(path, sizeof path, "%s%s", sc->srv->dir, p) < (int)sizeof path)
		fd = open(path, O_RDONLY);
	if (!is_gen && (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
		if (fd >= 0)
			close(fd);
		h3_submit_response(h, s, 404, NULL, 0, false);
		return;
	}
	struct sfile *f = malloc(sizeof *f);
	if (!f)
		die("out of memory");
	*f = gen;
	if (!is_gen) {
		f->fd = fd;
		f->size = (uint64_t)st.st_size;
	}
	s->user = f;
	char len[32], seed[24];
	snprintf(len, sizeof len, "%llu", (unsigned long long)f->size);
	snprintf(seed, sizeof seed, "%016llx", (unsigned long long)f->seed);
	struct h3_header fields[] = {{"content-length", len}, {"server", "tunnelprobe-h3peer"},
				     {"x-tp-seed", seed}, {"x-tp-length", len}};
	h3_submit_response(h, s, 200, fields, is_gen ? 4 : 2, true);
	serve_more(sc, s);
}

static void serve_h3_event(struct h3_conn *h, const struct h3_event *ev, void *arg)
{
	struct sconn *sc = arg;
	struct sfile *f = ev->stream ? ev->stream->user : NULL;
	switch (ev->type) {
	case H3_EV_QUIC:
		on_cid(sc, ev->quic);
		if (ev->quic->type == QUIC_EV_CLOSED) {
			const struct quic_close *cl = ev->quic->close;
			sc->peer_done = cl->by_peer && cl->app && cl->code == H3_NO_ERROR;
		}
		break;
	case H3_EV_REQUEST:
		on_request(sc, ev->stream);
		break;
	case H3_EV_WRITABLE:
	case H3_EV_ACKED:
		serve_more(sc, ev->stream);
		break;
	case H3_EV_CLOSED:
		if (f) {
			/* Served: every byte acknowledged, or the client left content (a client
			 * may close before our last ACK arrives). */
			if (!ev->has_code && f->sent == f->size &&
			    (ev->stream->body_acked == f->size || sc->peer_done))
				sc->srv->served++;
			if (!ev->has_code && f->sent == f->size)
				sc->srv->sent_whole++;
			if (f->fd >= 0)
				close(f->fd);
			free(f);
			ev->stream->user = NULL;
		}
		break;
	default:
		break;
	}
}

static void serve_quic_event(struct quic_conn *c, const struct quic_event *ev, void *arg)
{
	struct sconn *sc = arg;
	on_cid(sc, ev);
	if (ev->type == QUIC_EV_HANDSHAKE_DONE && !strcmp(c->alpn, "h3")) {
		struct h3_opts o = {.cb = serve_h3_event, .arg = sc};
		if (h3_conn_init(&sc->h, c, &o) == 0)
			sc->h3_up = true;
	}
}

static void server_datagram(struct server *sv, const uint8_t *pkt, size_t len,
			    struct sockaddr_storage *from, socklen_t flen)
{
	void *found = NULL;
	int rv = listener_route(&sv->ls, pkt, len, from, flen, &found);
	struct sconn *sc = found;
	if (rv < 0 || (sc && sc->silent))
		return; /* ?silent: the server stopped answering this connection */
	if (!sc) {
		for (int i = 0; i < MAX_CONNS && !sc; i++)
			if (!sv->conns[i].used)
				sc = &sv->conns[i];
		if (!sc)
			return;
		sc->srv = sv;
		if (listener_accept(&sv->ls, &sc->q, serve_quic_event, sc, NULL, pkt, len, from, flen) != 0)
			return;
		sc->used = true;
	}
	quic_conn_read(&sc->q, (struct sockaddr *)from, flen, pkt, len, now_us());
}

static void reap(struct server *sv, struct sconn *sc)
{
	listener_forget(&sv->ls, &sc->q);
	if (sc->h3_up)
		h3_conn_free(&sc->h);
	quic_conn_free(&sc->q);
	memset(sc, 0, sizeof *sc);
}

static int cmd_serve(int argc, char **argv)
{
	const char *cert = NULL, *key = NULL, *dir = NULL, *portfile = NULL;
	unsigned want = 0;
	double timeout = 20;
	int i = 2;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--cert") && i + 1 < argc)
			cert = argv[++i];
		else if (!strcmp(argv[i], "--key") && i + 1 < argc)
			key = argv[++i];
		else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
			dir = argv[++i];
		else if (!strcmp(argv[i], "--port-file") && i + 1 < argc)
			portfile = argv[++i];
		else if (!strcmp(argv[i], "--requests") && i + 1 < argc)
			want = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--timeout") && i + 1 < argc)
			timeout = atof(argv[++i]);
		else
			die("serve: unknown option");
	}
	if (argc - i != 2 || !cert || !key)
		die("usage: h3peer serve --cert F --key F [--dir D] [--port-file F] ADDR PORT");
	static struct server sv;
	static const char *const alpn[] = {"h3"};
	sv.dir = dir;
	listener_open(&sv.ls, argv[i], argv[i + 1], portfile, cert, key, alpn, 1);

	uint64_t deadline = now_us() + (uint64_t)(timeout * 1e6);
	static uint8_t pkt[65536];
	bool done = false;
	while (!done && now_us() < deadline) {
		uint64_t expiry = UINT64_MAX;
		for (int k = 0; k < MAX_CONNS; k++)
			if (sv.conns[k].used && !sv.conns[k].silent && quic_conn_expiry(&sv.conns[k].q) < expiry)
				expiry = quic_conn_expiry(&sv.conns[k].q);
		if (wait_readable(sv.ls.fd, expiry, deadline)) {
			for (int n = 0; n < RECV_BATCH; n++) {
				struct sockaddr_storage from;
				socklen_t flen = sizeof from;
				ssize_t r = recvfrom(sv.ls.fd, pkt, sizeof pkt, 0, (struct sockaddr *)&from,
						     &flen);
				if (r < 0)
					break;
				server_datagram(&sv, pkt, (size_t)r, &from, flen);
			}
		}
		for (int k = 0; k < MAX_CONNS; k++) {
			struct sconn *sc = &sv.conns[k];
			if (!sc->used)
				continue;
			if (sc->silent) {
				/* Gone quiet: no timers, no datagrams; freed when the client has
				 * given up (its idle timeout, or the server's end). */
				continue;
			}
			if (now_us() >= quic_conn_expiry(&sc->q))
				quic_conn_handle_expiry(&sc->q, now_us());
			send_all(sv.ls.fd, &sc->q);
			if (sc->q.state == QUIC_ST_CLOSED)
				reap(&sv, sc);
		}
		done = want && sv.served >= want;
	}
	printf("served=%u sent=%u\n", sv.served, sv.sent_whole);
	for (int k = 0; k < MAX_CONNS; k++)
		if (sv.conns[k].used)
			reap(&sv, &sv.conns[k]);
	listener_close(&sv.ls);
	return done || !want ? 0 : 1;
}

/* ---------------------------------------------------------------- proxy */

#include "tests/helpers/h3peer_proxy.h"

/* ---------------------------------------------------------------- bench */

static struct {
	uint64_t total, written, received;
	struct quic_stream *qs;
	struct h3_stream *hs;
	struct h3_conn hc, hs_conn;
	bool h3, hs_up, end;
	uint8_t chunk[65536];
} B;

static void bench_pump_quic(struct quic_conn *c)
{
	while (B.qs && B.written < B.total) {
		size_t n = sizeof B.chunk;
		if (n > B.total - B.written)
			n = (size_t)(B.total - B.written);
		long w = quic_stream_write(c, B.qs, B.chunk, n, B.written + n == B.total);
		if (w <= 0)
			return;
		B.written += (uint64_t)w;
	}
}

static void bench_client_quic(struct quic_conn *c, const struct quic_event *ev, void *arg)
{
	(void)arg;
	if (ev->type == QUIC_EV_HANDSHAKE_DONE && quic_stream_open(c, true, NULL, &B.qs) == 0)
		bench_pump_quic(c);
	else if (ev->type == QUIC_EV_STREAM_WRITABLE)
		bench_pump_quic(c);
	else if (ev->type == QUIC_EV_STREAM_CLOSED)
		B.qs = NULL;
}

static void bench_server_quic(struct quic_conn *c, const struct quic_event *ev, void *arg)
{
	(void)c;
	(void)arg;
	if (ev->type == QUIC_EV_STREAM_DATA)
		B.received += ev->len;
	else if (ev->type == QUIC_EV_STREAM_FIN)
		B.end = true;
}

static void bench_h3_server(struct h3_conn *h, const struct h3_event *ev, void *arg)
{
	(void)arg;
	if (ev->type == H3_EV_REQUEST)
		h3_submit_response(h, ev->stream, 200, NULL, 0, true);
	if (ev->type != H3_EV_REQUEST && ev->type != H3_EV_WRITABLE)
		return;
	while (B.written < B.total) {
		size_t n = sizeof B.chunk;
		if (n > B.total - B.written)
			n = (size_t)(B.total - B.written);
		long w = h3_stream_write(h, ev->stream, B.chunk, n);
		if (w <= 0)
			return;
		B.written += (uint64_t)w;
	}
	h3_stream_end(h, ev->stream);
}

static void bench_h3_server_quic(struct quic_conn *c, const struct quic_event *ev, void *arg)
{
	(void)arg;
	if (ev->type == QUIC_EV_HANDSHAKE_DONE) {
		struct h3_opts o = {.cb = bench_h3_server};
		B.hs_up = h3_conn_init(&B.hs_conn, c, &o) == 0;
	}
}

static void bench_h3_client(struct h3_conn *h, const struct h3_event *ev, void *arg)
{
	(void)arg;
	if (ev->type == H3_EV_QUIC && ev->quic->type == QUIC_EV_HANDSHAKE_DONE) {
		struct h3_request req = {.method = "GET", .scheme = "https",
					 .authority = "localhost", .path = "/bench"};
		h3_submit_request(h, &req, &B.hs);
	} else if (ev->type == H3_EV_DATA) {
		B.received += ev->len;
	} else if (ev->type == H3_EV_END) {
		B.end = true;
	}
}

static int cmd_bench(int argc, char **argv)
{
	unsigned mib = 100;
	size_t payload = 0;
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--mib") && i + 1 < argc)
			mib = (unsigned)atoi(argv[++i]);
		else if (!strcmp(argv[i], "--h3"))
			B.h3 = true;
		else if (!strcmp(argv[i], "--payload") && i + 1 < argc)
			payload = (size_t)atol(argv[++i]);
		else
			die("usage: h3peer bench [--mib N] [--h3] [--payload N]");
	}
	B.total = (uint64_t)mib << 20;
	payload_fill(1, 0, B.chunk, sizeof B.chunk);
	static char dir[256];
	if (qp_certs_make(dir, sizeof dir) != 0)
		die("bench: certificates (run from the repository root or set TP_ROOT)");
	struct qp_setup st = {
		.certdir = dir,
		.cparams = {.max_udp_payload = payload},
		.sparams = {.max_udp_payload = payload},
		.cli_cb = B.h3 ? NULL : bench_client_quic,
		.srv_cb = B.h3 ? bench_h3_server_quic : bench_server_quic,
		.start_us = now_us(), /* the real clock, from the start */
	};
	uint64_t t0 = now_us();
	struct qp_world *w = qp_world_new(&st);
	if (B.h3) {
		struct h3_opts o = {.cb = bench_h3_client};
		QP_ASSERT(h3_conn_init(&B.hc, &w->cli.c, &o) == 0);
	}
	uint64_t deadline = t0 + 120u * 1000000u;
	while (!B.end && now_us() < deadline) {
		w->now = now_us();
		bool moved = qp_flush(w, &w->cli, &w->srv);
		moved |= qp_flush(w, &w->srv, &w->cli);
		w->now = now_us();
		if (!moved && (qp_expiry(&w->cli) <= w->now || qp_expiry(&w->srv) <= w->now))
			qp_handle_expiry(w);
	}
	double secs = (double)(now_us() - t0) / 1e6;
	printf("%s %u MiB in %.2f s: %.1f MB/s (%llu datagrams, payload %zu)\n",
	       B.h3 ? "h3 GET" : "quic stream", mib, secs, (double)B.received / secs / 1e6,
	       (unsigned long long)(w->cli.c.stats.datagrams_sent + w->srv.c.stats.datagrams_sent),
	       payload ? payload : (size_t)QUIC_MAX_PAYLOAD);
	bool ok = B.end && B.received == B.total;
	if (B.h3) {
		h3_conn_free(&B.hc);
		if (B.hs_up)
			h3_conn_free(&B.hs_conn);
	}
	qp_world_free(w);
	qp_certs_remove(dir);
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "get"))
		return cmd_get(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "serve"))
		return cmd_serve(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "bench"))
		return cmd_bench(argc, argv);
	if (argc >= 2 && !strcmp(argv[1], "proxy"))
		return cmd_proxy(argc, argv);
	fprintf(stderr, "usage: h3peer get|serve|proxy|bench ...\n");
	return 2;
}
