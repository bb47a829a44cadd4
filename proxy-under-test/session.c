/* session — the handshake and the outbound leg of a reference proxy session (see
 * session.h). The client's first byte tells the protocol: 0x05 is SOCKS5, anything else
 * an HTTP request (CONNECT, or a forward request in absolute form). Client bytes are
 * read into the client→upstream flow, so whatever follows the handshake (a request
 * body, an early TLS record) is relayed untouched; replies to the client are queued in
 * the upstream→client flow and sent by the relay. */
#include "proxy-under-test/session.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#ifndef _WIN32
#include <arpa/inet.h> /* ntohs; lib/net.h's Winsock headers have it */
#endif

#include "lib/http1.h"
#include "lib/socks5.h"
#include "proxy-under-test/auth.h"
#include "proxy-under-test/forward.h"
#include "proxy-under-test/fwdledger.h"
#include "proxy-under-test/inject.h"
#include "proxy-under-test/relay.h"
#include "proxy-under-test/server.h"
#include "proxy-under-test/upstream.h"

static void on_timer(struct loop *loop, struct loop_timer *timer);
static void resolve_and_connect(struct session *s);

static void arm(struct session *s, double secs)
{
	loop_timer_start(&s->w->loop, &s->timer, (uint64_t)(secs * 1e6));
}

/* Ends the session with reply[0..len) (len 0: none) for the client, closing once it is
 * sent. Before the relay, the client's bytes still buffered follow the handshake
 * messages taken so far (callers discard a malformed message first): early data,
 * received and never relayed, so counted as received here and as dropped at close. */
static void close_with(struct session *s, const void *reply, size_t len)
{
	if (s->state != SS_RELAY && s->kind != SK_FORWARD) {
		s->upf.received += s->upf.len;
		s->upf.recv_ops += s->upf.len > 0;
	}
	if (s->state == SS_UPSTREAM) {
		/* The upstream proxy said no: its bytes are not the client's, and the leg is
		 * of no more use (nothing of the client's may reach it). */
		s->down.off = s->down.len = s->down.ctl = 0;
		leg_close(s, &s->up, false);
	}
	if (len)
		relay_queue_client(s, reply, len);
	s->close_after_reply = true;
	s->state = SS_RELAY;
	s->upf.done = true;
	relay_step(s);
}

/* Refuses or fails the request with a reply, then closes once it is sent. */
static void reply_and_close(struct session *s, int code, const char *reason)
{
	char buf[256];
	int n;
	if (s->kind == SK_SOCKS5) {
		n = socks5_server_reply((uint8_t *)buf, sizeof buf, (uint8_t)code, NULL);
	} else {
		n = snprintf(buf, sizeof buf,
			     "HTTP/1.1 %d %s\r\nContent-Length: 0\r\nConnection: close\r\n"
			     "Via: 1.1 tunnelprobe\r\n\r\n",
			     code, reason);
	}
	s->reply = code;
	close_with(s, buf, n > 0 ? (size_t)n : 0);
}

void session_refuse(struct session *s, int code, const char *reason)
{
	reply_and_close(s, code, reason);
}

static int socks_rep_for(int err)
{
	switch (-err) {
	case ECONNREFUSED: return SOCKS5_REP_CONNECTION_REFUSED;
	case ENETUNREACH: return SOCKS5_REP_NETWORK_UNREACHABLE;
	case EHOSTUNREACH:
	case ETIMEDOUT: return SOCKS5_REP_HOST_UNREACHABLE;
	case ENOENT: return SOCKS5_REP_HOST_UNREACHABLE;
	case EACCES: return SOCKS5_REP_NOT_ALLOWED;
	default: return SOCKS5_REP_GENERAL_FAILURE;
	}
}

void session_fail_upstream(struct session *s, int err, const char *why)
{
	if (s->kind == SK_SOCKS5)
		reply_and_close(s, socks_rep_for(err), NULL);
	else
		reply_and_close(s, err == -EACCES ? 403 : err == -ETIMEDOUT ? 504 : 502,
				err == -EACCES ? "Forbidden" : err == -ETIMEDOUT ? "Gateway Timeout"
										 : "Bad Gateway");
	(void)why;
}

/* The outbound leg is ready (and the upstream proxy, if any, said yes). */
void session_established(struct session *s)
{
	loop_timer_stop(&s->w->loop, &s->timer);
	if (s->kind == SK_FORWARD) {
		if (!inject_reply(s, NULL, 0))
			relay_start(s);
		return;
	}
	char buf[300];
	int n;
	if (s->kind == SK_SOCKS5) {
		struct socks5_addr bound = {.atyp = SOCKS5_ATYP_IPV4};
		struct net_addr local;
		if (net_local_addr(s->up.fd, &local) == 0 && local.ss.ss_family == AF_INET) {
			const struct sockaddr_in *in4 = (const struct sockaddr_in *)&local.ss;
			memcpy(bound.ip, &in4->sin_addr, 4);
			bound.port = ntohs(in4->sin_port);
		}
		n = socks5_server_reply((uint8_t *)buf, sizeof buf, SOCKS5_REP_SUCCEEDED, &bound);
		s->reply = 0;
	} else {
		n = snprintf(buf, sizeof buf, "HTTP/1.1 200 Connection established\r\n\r\n");
		s->reply = 200;
	}
	inject_reply(s, buf, (size_t)n); /* tunnels: never closes here */
	relay_start(s);
}

/* ---- connecting ---- */

static void connected(struct session *s)
{
	int err = leg_connect_result(&s->up);
	if (err < 0) {
		session_fail_upstream(s, err, "connect failed");
		return;
	}
	struct net_addr a;
	if (net_local_addr(s->up.fd, &a) == 0)
		net_addr_format(&a, s->up.local);
	if (net_peer_addr(s->up.fd, &a) == 0)
		net_addr_format(&a, s->up.peer);
	net_nodelay(s->up.fd);
	/* Forward requests through an http upstream go as they are (absolute form); through
	 * a SOCKS5 upstream the tunnel to the origin comes first. */
	const struct proxy_config *cfg = s->w->cfg;
	if (cfg->has_upstream && !(s->kind == SK_FORWARD && cfg->upstream.scheme == URL_HTTP))
		upstream_start(s);
	else
		session_established(s);
}

static void start_connect(struct session *s, const struct net_addr *addr)
{
	if (!server_allowed(s->w->cfg, addr)) {
		session_fail_upstream(s, -EACCES, "destination not allowed");
		return;
	}
	s->dst = *addr;
	int err = leg_connect(s, &s->up, addr, s->w->cfg->io);
	if (err < 0) {
		session_fail_upstream(s, err, "connect failed");
		return;
	}
	s->state = SS_CONNECTING;
	arm(s, s->w->cfg->connect_timeout_s);
}

static void on_resolved(void *arg, int status, const char *why, const struct net_addr *addrs,
			size_t n)
{
	struct session *s = arg;
	s->dnsq = NULL;
	if (status < 0 || n == 0) {
		session_fail_upstream(s, -ENOENT, why);
		return;
	}
	start_connect(s, &addrs[0]);
}

static void resolve_and_connect(struct session *s)
{
	const struct proxy_config *cfg = s->w->cfg;
	const char *host = cfg->has_upstream ? cfg->upstream.host : s->host;
	uint16_t port = cfg->has_upstream ? cfg->upstream.port : s->port;
	const struct net_addr *o = server_resolve(cfg, host, port);
	if (o) {
		start_connect(s, o);
		return;
	}
	s->state = SS_RESOLVING;
	arm(s, cfg->connect_timeout_s);
	s->dnsq = dns_resolve(&s->w->dns, host, port, AF_UNSPEC, on_resolved, s);
	if (!s->dnsq)
		session_fail_upstream(s, -ENOMEM, "out of memory");
}

/* The request is known: the faults that hit it are picked, the handshake faults may
 * take it, else it goes out. */
static void request_ready(struct session *s)
{
	snprintf(s->target, sizeof s->target, strchr(s->host, ':') ? "[%s]:%u" : "%s:%u", s->host,
		 s->port);
	inject_pick(s);
	if (s->kind == SK_FORWARD) /* the client bytes so far are the start of its stream */
		inject_read(s, &s->upf, s->fwd->req_buf, s->fwd->req_len);
	if (inject_request(s))
		return;
	if (s->fwd && s->fwd->origin_gone)
		relay_start(s); /* reverse mode: no origin leg until a request goes there */
	else
		resolve_and_connect(s);
}

void session_reconnect(struct session *s)
{
	leg_close(s, &s->up, false);
	s->up.end = END_OPEN;
	s->up.shut_wr = false;
	s->up.local[0] = s->up.peer[0] = '\0';
	s->down.eof = s->down.done = false;
	s->upf.held = false;
	s->fwd->origin_gone = false;
	s->fwd->rsp_len = 0;
	s->fwd->rsp_in_body = false;
	snprintf(s->target, sizeof s->target, strchr(s->host, ':') ? "[%s]:%u" : "%s:%u", s->host,
		 s->port);
	s->state = SS_RESOLVING;
	relay_watch(s); /* nothing to watch on the client until the new leg is up */
	resolve_and_connect(s);
}

/* ---- the client's handshake ---- */

/* Consumes n handshake bytes from the client flow. */
static void consume(struct session *s, size_t n)
{
	struct flow *f = &s->upf;
	memmove(f->buf, f->buf + n, f->len - n);
	f->len -= n;
}

bool session_parse_authority(const char *a, size_t len, char host_out[URL_MAX_HOST],
			     uint16_t *port_out)
{
	const char *colon;
	const char *host = a;
	size_t hlen;
	if (len > 0 && a[0] == '[') {
		const char *close = memchr(a, ']', len);
		if (!close || close + 1 >= a + len || close[1] != ':')
			return false;
		host = a + 1;
		hlen = (size_t)(close - a - 1);
		colon = close + 1;
	} else {
		colon = NULL;
		for (size_t i = len; i-- > 0;)
			if (a[i] == ':') {
				colon = a + i;
				break;
			}
		if (!colon)
			return false;
		hlen = (size_t)(colon - a);
	}
	if (hlen == 0 || hlen >= URL_MAX_HOST)
		return false;
	size_t plen = (size_t)(a + len - colon - 1);
	unsigned long port = 0;
	if (plen == 0 || plen > 5)
		return false;
	for (size_t i = 0; i < plen; i++) {
		char c = colon[1 + i];
		if (c < '0' || c > '9')
			return false;
		port = port * 10 + (unsigned long)(c - '0');
	}
	if (port == 0 || port > 65535)
		return false;
	memcpy(host_out, host, hlen);
	host_out[hlen] = '\0';
	*port_out = (uint16_t)port;
	return true;
}

void session_copy_probe_id(char out[SESSION_ID_MAX], const struct http1_request *req)
{
	const struct http1_header *h = http1_find_header(req->headers, req->num_headers, "X-Probe-Id");
	size_t n = h ? h->value_len : 0;
	if (n >= SESSION_ID_MAX)
		n = SESSION_ID_MAX - 1;
	memcpy(out, h ? h->value : "", n);
	out[n] = '\0';
}

static bool auth_ok(const struct session *s, const struct http1_request *req)
{
	const struct proxy_config *cfg = s->w->cfg;
	if (!cfg->require_auth)
		return true;
	const struct http1_header *h = http1_find_header(req->headers, req->num_headers,
							  "Proxy-Authorization");
	return h && auth_basic_ok(h->value, h->value_len, cfg->auth_user, cfg->auth_pass);
}

static void http_handshake(struct session *s)
{
	struct http1_request req;
	int err = 0;
	int r = http1_parse_request(s->upf.buf, s->upf.len, HTTP1_MAX_HEAD, &req, &err);
	if (r == HTTP1_NEED_MORE)
		return;
	if (r < 0) {
		s->kind = SK_CONNECT;
		s->upf.len = 0; /* a malformed head: handshake bytes, never relay data */
		if (err == HTTP1_E_TOO_LARGE)
			reply_and_close(s, 431, "Request Header Fields Too Large");
		else
			reply_and_close(s, 400, "Bad Request");
		return;
	}
	bool connect = http1_token_eq(req.method, req.method_len, "CONNECT");
	bool reverse = s->w->cfg->reverse.on; /* every request but CONNECT is for the origin */
	if (connect)
		session_copy_probe_id(s->id, &req); /* the probe names its tunnels this way */
	if (!auth_ok(s, &req)) {
		static const char resp[] = "HTTP/1.1 407 Proxy Authentication Required\r\n"
					   "Proxy-Authenticate: Basic realm=\"tunnelprobe\"\r\n"
					   "Content-Length: 0\r\nConnection: close\r\n\r\n";
		s->kind = SK_CONNECT;
		s->reply = 407;
		consume(s, (size_t)r);
		close_with(s, resp, sizeof resp - 1);
		return;
	}
	if (connect && !reverse) {
		s->kind = SK_CONNECT;
		bool good = session_parse_authority(req.target, req.target_len, s->host, &s->port);
		consume(s, (size_t)r);
		if (!good) {
			reply_and_close(s, 400, "Bad Request");
			return;
		}
		request_ready(s);
		return;
	}
	if (reverse ? !connect : req.target_len > 7 && strncasecmp(req.target, "http://", 7) == 0) {
		int status = forward_start(s, &req);
		if (status) {
			consume(s, (size_t)r);
			reply_and_close(s, status, status == 414   ? "URI Too Long"
						   : status == 500 ? "Internal Server Error"
								   : "Bad Request");
			return;
		}
		request_ready(s);
		return;
	}
	s->kind = SK_CONNECT;
	consume(s, (size_t)r);
	if (connect) /* reverse mode: no tunnels */
		reply_and_close(s, 405, "Method Not Allowed");
	else
		reply_and_close(s, 400, "Bad Request");
}

/* The SOCKS5 method choice: user/password when --auth asks for it, else "no auth";
 * 0xff when the greeting does not offer it. */
static uint8_t socks_method(const struct session *s, const struct socks5_greeting *g)
{
	uint8_t want = s->w->cfg->require_auth ? SOCKS5_METHOD_USERPASS : SOCKS5_METHOD_NONE;
	return socks5_greeting_offers(g, want) ? want : SOCKS5_METHOD_UNACCEPTABLE;
}

/* One SOCKS5 handshake message at the start of the client flow. Returns 1 taken (go
 * on with the next), 0 need more bytes, -1 the session ended or the request went out. */
static int socks_step(struct session *s)
{
	const struct proxy_config *cfg = s->w->cfg;
	uint8_t *in = (uint8_t *)s->upf.buf;
	uint8_t out[64];
	int err = 0, r, n;
	switch (s->socks_step) {
	case SOCKS_GREETING: {
		struct socks5_greeting g;
		r = socks5_server_parse_greeting(in, s->upf.len, &g, &err);
		if (r == SOCKS5_NEED_MORE)
			return 0;
		uint8_t method = r > 0 ? socks_method(s, &g) : SOCKS5_METHOD_UNACCEPTABLE;
		if (r < 0)
			s->upf.len = 0; /* a malformed greeting is no relay data */
		else
			consume(s, (size_t)r);
		if (r < 0 && err != SOCKS5_E_NO_METHODS) {
			close_with(s, NULL, 0); /* not SOCKS5 after all: nothing to say */
			return -1;
		}
		/* NMETHODS 0 offers nothing we take: "no acceptable methods" (RFC 1928 §3). */
		n = socks5_server_method(out, sizeof out, method);
		if (method == SOCKS5_METHOD_UNACCEPTABLE) {
			close_with(s, out, (size_t)n);
			return -1;
		}
		relay_queue_client(s, out, (size_t)n);
		s->socks_step = method == SOCKS5_METHOD_USERPASS ? SOCKS_AUTH : SOCKS_REQUEST;
		return 1;
	}
	case SOCKS_AUTH: {
		char user[256], pass[256];
		r = socks5_server_parse_userpass(in, s->upf.len, user, pass, &err);
		if (r == SOCKS5_NEED_MORE)
			return 0;
		bool good = r > 0 && strcmp(user, cfg->auth_user) == 0 && strcmp(pass, cfg->auth_pass) == 0;
		if (r > 0)
			consume(s, (size_t)r);
		else
			s->upf.len = 0;
		n = socks5_server_userpass_reply(out, sizeof out, good ? 0 : 1);
		if (!good) {
			close_with(s, out, (size_t)n);
			return -1;
		}
		relay_queue_client(s, out, (size_t)n);
		s->socks_step = SOCKS_REQUEST;
		return 1;
	}
	case SOCKS_REQUEST:
		break;
	}
	uint8_t cmd;
	struct socks5_addr dst;
	r = socks5_server_parse_request(in, s->upf.len, &cmd, &dst, &err);
	if (r == SOCKS5_NEED_MORE)
		return 0;
	if (r < 0) {
		bool socks4 = in[0] == 4;
		s->upf.len = 0;
		if (err == SOCKS5_E_VERSION && !socks4) {
			close_with(s, NULL, 0); /* HTTP or anything else after a greeting: closed */
			return -1;
		}
		/* A SOCKS4 request after a SOCKS5 greeting is refused at once. */
		reply_and_close(s, err == SOCKS5_E_ATYP ? SOCKS5_REP_ATYP_NOT_SUPPORTED
							: SOCKS5_REP_GENERAL_FAILURE, NULL);
		return -1;
	}
	consume(s, (size_t)r);
	if (cmd != SOCKS5_CMD_CONNECT) {
		reply_and_close(s, SOCKS5_REP_COMMAND_NOT_SUPPORTED, NULL);
		return -1;
	}
	socks5_addr_host(&dst, s->host, sizeof s->host); /* a parsed address fits */
	s->port = dst.port;
	if (s->port == 0) {
		reply_and_close(s, SOCKS5_REP_GENERAL_FAILURE, NULL);
		return -1;
	}
	s->state = SS_RESOLVING; /* stop reading handshake bytes */
	request_ready(s);
	return -1;
}

/* The SOCKS5 messages buffered so far (greeting, auth, request: three at most), each in
 * turn; the replies queued go out once more bytes are needed. */
static void socks_handshake(struct session *s)
{
	for (int i = 0; i < 3; i++) {
		int r = socks_step(s);
		if (r < 0)
			return; /* ended, or the request went out: s may be gone */
		if (r == 0)
			break;
	}
	relay_step(s);
}

static void handshake_read(struct session *s)
{
	struct flow *f = &s->upf;
	if (f->len == sizeof f->buf) {
		s->kind = s->kind ? s->kind : SK_CONNECT;
		f->len = 0;
		if (s->kind == SK_SOCKS5)
			close_with(s, NULL, 0);
		else
			reply_and_close(s, 431, "Request Header Fields Too Large");
		return;
	}
	long n = leg_read(&s->client, f->buf + f->len, sizeof f->buf - f->len, NULL);
	if (n == -EAGAIN)
		return;
	if (n <= 0) {
		s->client.end = n == 0 ? END_FIN : END_RST;
		s->first_close = "client";
		session_close(s, false, false);
		return;
	}
	f->len += (size_t)n;
	/* The protocol is chosen once, by the connection's first byte: later messages (an
	 * RFC 1929 request starts with 0x01) are read as what the connection speaks. */
	if (s->kind == SK_UNKNOWN && (uint8_t)f->buf[0] == 5 && !s->w->cfg->reverse.on)
		s->kind = SK_SOCKS5;
	if (s->kind == SK_SOCKS5)
		socks_handshake(s);
	else
		http_handshake(s);
}

void session_on_io(struct loop *loop, struct loop_io *io, unsigned events)
{
	struct session *s = io->data;
	bool is_client = io == &s->client.io;
	if (events & (LOOP_READ | LOOP_ERROR))
		(is_client ? &s->client : &s->up)->readable = true;
	switch (s->state) {
	case SS_HANDSHAKE:
		if (is_client && (events & LOOP_WRITE))
			relay_step(s);
		if (s->state == SS_HANDSHAKE && is_client && (events & LOOP_READ))
			handshake_read(s);
		break;
	case SS_CONNECTING:
		if (!is_client)
			connected(s);
		break;
	case SS_UPSTREAM:
		if (!is_client)
			upstream_step(s);
		break;
	case SS_RELAY:
		relay_step(s);
		break;
	default:
		break;
	}
}

static void on_timer(struct loop *loop, struct loop_timer *timer)
{
	struct session *s = timer->data;
	switch (s->state) {
	case SS_HANDSHAKE:
		s->client.end = END_TIMEOUT;
		session_close(s, false, false);
		break;
	case SS_RESOLVING:
	case SS_CONNECTING:
	case SS_UPSTREAM:
		session_fail_upstream(s, -ETIMEDOUT, "timeout");
		break;
	default:
		/* Idle in the relay (or a fault holding the tunnel open): give up. */
		if (s->client.end == END_OPEN)
			s->client.end = END_TIMEOUT;
		if (s->up.end == END_OPEN)
			s->up.end = END_TIMEOUT;
		session_close(s, false, false);
		break;
	}
}

/* The end of a closed session once its legs are given back: what was never sent is
 * counted, the ledger line(s) written, the memory freed. */
static void finish(struct session *s)
{
	relay_account_close(s, s->relaying_at_close);
	/* Forward sessions write a line per request, and one for bytes no request took
	 * (fwdledger.h); tunnels and connections that never became one write theirs. */
	if (fwdledger_finish(s) == 0)
		relay_write_ledger(s, NULL);
	forward_free(s);
	server_session_finished(s->w);
	free(s);
}

void session_close(struct session *s, bool reset_client, bool reset_up)
{
	if (s->state == SS_CLOSED)
		return;
	s->relaying_at_close = s->state == SS_RELAY;
	s->state = SS_CLOSED;
	loop_timer_stop(&s->w->loop, &s->timer);
	if (s->dnsq) {
		dns_cancel(s->dnsq);
		s->dnsq = NULL;
	}
	inject_free(s);
	if (!s->relaying_at_close && s->target[0] && s->kind != SK_FORWARD) {
		/* The request was known, the tunnel never started (close-before-reply, a
		 * drain): what the client sent after it was received, and never relayed. */
		s->upf.received += s->upf.len;
		s->upf.recv_ops += s->upf.len > 0;
		s->upf.dropped += s->upf.len;
		s->upf.len = 0;
	}
	relay_close(s, reset_client, reset_up);
	server_remove_session(s->w, s); /* closing: no longer the worker's to drain */
	if (s->closing_legs == 0)
		finish(s);
}

void session_leg_closed(struct session *s)
{
	s->closing_legs--;
	if (s->state == SS_CLOSED && s->closing_legs == 0)
		finish(s);
}

void session_on_written(struct session *s, struct leg *leg, bool detached, size_t written, int err)
{
	if (s->state == SS_UPSTREAM && leg == &s->up && !detached) {
		/* The message to the upstream proxy (upstream_step()). */
		if (err < 0) {
			session_fail_upstream(s, err, "upstream proxy write failed");
			return;
		}
		upstream_wrote(s, written);
		upstream_step(s);
		return;
	}
	relay_written(s, leg == &s->client ? &s->down : &s->upf, detached, written, err);
}

struct session *session_accept(struct proxy_worker *w, int fd, uint64_t number)
{
	struct session *s = calloc(1, sizeof *s);
	if (!s) {
		net_close(fd);
		return NULL;
	}
	s->w = w;
	s->number = number;
	s->up.fd = -1;
	s->reply = -1;
	if (leg_open(s, &s->client, fd, w->cfg->io) < 0) {
		net_close(fd);
		free(s);
		return NULL;
	}
	s->start_us = loop_now(&w->loop);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	s->t = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	struct net_addr a;
	if (net_local_addr(fd, &a) == 0)
		net_addr_format(&a, s->client.local);
	if (net_peer_addr(fd, &a) == 0)
		net_addr_format(&a, s->client.peer);
	net_nodelay(fd);
	loop_timer_init(&s->timer, on_timer, s);
	inject_init(s);
	relay_init(s);
	server_add_session(w, s);
	s->state = SS_HANDSHAKE;
	arm(s, w->cfg->handshake_timeout_s);
	if (leg_watch(s, &s->client, LOOP_READ) < 0) {
		session_close(s, false, false);
		return NULL;
	}
	return s;
}
