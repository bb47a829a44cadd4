/* filter_proxy — the socks5 and http-connect filters: a proxy's handshake over the
 * filter below, HTTP CONNECT (RFC 9110 §9.3.6) or SOCKS5 (RFC 1928/1929), sent and
 * parsed with lib/http1 and lib/socks5; then a pass-through. A proxy that closes before
 * its reply is complete ends the connection as proxy_connect_aborted; a refusal as
 * proxy_refused; both in phase proxy. */
#ifndef _WIN32
#include <arpa/inet.h> /* inet_ntop; lib/net.h's Winsock headers have it */
#endif
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/http1.h"
#include "lib/socks5.h"
#include "probe/link.h"
#include "probe/worker.h"

enum proxy_step {
	PX_START = 0,
	PX_CONNECT_SEND, PX_CONNECT_RECV,
	PX_SOCKS_GREETING, PX_SOCKS_METHOD, PX_SOCKS_AUTH, PX_SOCKS_AUTH_REPLY,
	PX_SOCKS_REQUEST, PX_SOCKS_REPLY,
	PX_UP,
};

/* What one reply handler made of the bytes in p->in. */
enum reply {
	REPLY_NEED_MORE, /* the reply is incomplete: read more and call again */
	REPLY_NEXT,      /* the next message is ready to go out */
	REPLY_UP,        /* the tunnel is up */
	REPLY_FAILED,    /* link->err is filled */
};

static struct pf_error *err_of(struct pf_proxy *p) { return &p->base.link->err; }

static enum reply aborted(struct pf_proxy *p, long err)
{
	const char *how = err == -ECONNRESET ? "reset the connection" : "closed the connection";
	if (err == PF_ERR)
		return REPLY_FAILED; /* the filter below classified it */
	if (err < 0 && err != -ECONNRESET && err != -EPIPE)
		pf_fail(err_of(p), TP_PROXY_CONNECT_ABORTED, TP_PHASE_PROXY, "proxy connection failed: %s",
			net_strerror((int)err));
	else
		pf_fail(err_of(p), TP_PROXY_CONNECT_ABORTED, TP_PHASE_PROXY,
			"proxy %s before its reply was complete (%zu reply bytes)", how, p->in_len);
	return REPLY_FAILED;
}

/* A message of len bytes (negative: it could not be encoded) is in p->out. */
static enum reply message(struct pf_proxy *p, enum proxy_step step, int len)
{
	if (len < 0) {
		pf_fail(err_of(p), TP_PROTOCOL_ERROR, TP_PHASE_PROXY, "cannot encode the proxy request");
		return REPLY_FAILED;
	}
	p->step = step;
	p->out_len = (size_t)len;
	p->out_off = 0;
	p->in_len = 0;
	return REPLY_NEXT;
}

static enum reply first_message(struct pf_proxy *p)
{
	struct link *l = p->base.link;
	const struct probe_target *t = l->target;
	if (t->proxy.scheme == URL_HTTP) {
		/* The proxy is asked for the dial address (--connect-to), and told the id of
		 * the request the tunnel is opened for, so its ledger can name the tunnel. */
		char authority[URL_MAX_HOST + 16];
		probe_target_dial_authority(t, authority, sizeof authority);
		int n = snprintf(p->out, sizeof p->out,
				 "CONNECT %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: tunnelprobe/0.1\r\n"
				 "%s%s%sX-Probe-Id: %s\r\n\r\n",
				 authority, authority, t->proxy_auth[0] ? "Proxy-Authorization: " : "",
				 t->proxy_auth, t->proxy_auth[0] ? "\r\n" : "", l->opener_id);
		return message(p, PX_CONNECT_SEND, n < (int)sizeof p->out ? n : -1);
	}
	int n = socks5_client_greeting((uint8_t *)p->out, sizeof p->out, t->proxy.has_userinfo);
	return message(p, PX_SOCKS_GREETING, n);
}

/* The proxy accepted: its reply was the first reply_len bytes of p->in. */
static enum reply established(struct pf_proxy *p, int reply_len)
{
	p->in_len -= (size_t)reply_len;
	if (p->in_len > 0) {
		/* Nothing may follow a proxy's reply before our request: the origin speaks
		 * second in HTTP and TLS, so extra bytes are a protocol error. */
		pf_fail(err_of(p), TP_PROTOCOL_ERROR, TP_PHASE_PROXY,
			"%zu unexpected bytes after the proxy's success reply", p->in_len);
		return REPLY_FAILED;
	}
	p->step = PX_UP;
	return REPLY_UP;
}

static enum reply malformed(struct pf_proxy *p, const char *what, const char *why)
{
	pf_fail(err_of(p), TP_PROTOCOL_ERROR, TP_PHASE_PROXY, "bad %s: %s", what, why);
	return REPLY_FAILED;
}


/* The SOCKS5 CONNECT request for the dial host: with the address the link resolved for
 * socks5://, with the name (or the literal, as an address) for socks5h://. */
static enum reply socks_request(struct pf_proxy *p)
{
	struct link *l = p->base.link;
	const struct probe_target *t = l->target;
	struct socks5_addr dst;
	if (l->socks_dst_resolved) {
		char ip[INET6_ADDRSTRLEN];
		const struct sockaddr_storage *ss = &l->socks_dst.ss;
		const void *a = ss->ss_family == AF_INET
					? (const void *)&((const struct sockaddr_in *)ss)->sin_addr
					: (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr;
		inet_ntop(ss->ss_family, a, ip, sizeof ip);
		socks5_addr_from_host(&dst, ip, t->dial_port);
	} else {
		socks5_addr_from_host(&dst, t->dial_host, t->dial_port);
	}
	int n = socks5_client_request((uint8_t *)p->out, sizeof p->out, SOCKS5_CMD_CONNECT, &dst);
	return message(p, PX_SOCKS_REQUEST, n);
}

static enum reply connect_reply(struct pf_proxy *p)
{
	struct http1_response resp;
	int err = 0;
	int r = http1_parse_response(p->in, p->in_len, HTTP1_MAX_HEAD, HTTP1_REQ_CONNECT, &resp, &err);
	if (r == HTTP1_NEED_MORE)
		return REPLY_NEED_MORE;
	if (r < 0)
		return malformed(p, "CONNECT reply", http1_strerror(err));
	if (resp.status < 200 || resp.status > 299) {
		pf_fail(err_of(p), TP_PROXY_REFUSED, TP_PHASE_PROXY, "CONNECT %d %.*s", resp.status,
			(int)(resp.reason_len > 80 ? 80 : resp.reason_len), resp.reason);
		err_of(p)->status = resp.status;
		return REPLY_FAILED;
	}
	return established(p, r);
}

static enum reply socks_method_reply(struct pf_proxy *p)
{
	const struct probe_target *t = p->base.link->target;
	uint8_t method;
	int err = 0;
	int r = socks5_client_parse_method((const uint8_t *)p->in, p->in_len, &method, &err);
	if (r == SOCKS5_NEED_MORE)
		return REPLY_NEED_MORE;
	if (r < 0)
		return malformed(p, "SOCKS5 method reply", socks5_strerror(err));
	if (method == SOCKS5_METHOD_UNACCEPTABLE) {
		pf_fail(err_of(p), TP_PROXY_REFUSED, TP_PHASE_PROXY, "SOCKS5: no acceptable method");
		return REPLY_FAILED;
	}
	if (method == SOCKS5_METHOD_USERPASS) {
		int n = socks5_client_userpass((uint8_t *)p->out, sizeof p->out, t->proxy.user, t->proxy.pass);
		return message(p, PX_SOCKS_AUTH, n);
	}
	return socks_request(p);
}

static enum reply socks_auth_reply(struct pf_proxy *p)
{
	uint8_t status;
	int err = 0;
	int r = socks5_client_parse_userpass_reply((const uint8_t *)p->in, p->in_len, &status, &err);
	if (r == SOCKS5_NEED_MORE)
		return REPLY_NEED_MORE;
	if (r < 0)
		return malformed(p, "SOCKS5 auth reply", socks5_strerror(err));
	if (status != 0) {
		pf_fail(err_of(p), TP_PROXY_REFUSED, TP_PHASE_PROXY, "SOCKS5 authentication failed");
		return REPLY_FAILED;
	}
	return socks_request(p);
}

static enum reply socks_reply(struct pf_proxy *p)
{
	uint8_t rep;
	struct socks5_addr bound;
	int err = 0;
	int r = socks5_client_parse_reply((const uint8_t *)p->in, p->in_len, &rep, &bound, &err);
	if (r == SOCKS5_NEED_MORE)
		return REPLY_NEED_MORE;
	if (r < 0)
		return malformed(p, "SOCKS5 reply", socks5_strerror(err));
	if (rep != SOCKS5_REP_SUCCEEDED) {
		pf_fail(err_of(p), TP_PROXY_REFUSED, TP_PHASE_PROXY, "SOCKS5 reply %u: %s", rep,
			socks5_reply_name(rep));
		return REPLY_FAILED;
	}
	return established(p, r);
}

/* The handler of the reply the current step waits for. */
static enum reply proxy_reply(struct pf_proxy *p)
{
	switch (p->step) {
	case PX_CONNECT_RECV: return connect_reply(p);
	case PX_SOCKS_METHOD: return socks_method_reply(p);
	case PX_SOCKS_AUTH_REPLY: return socks_auth_reply(p);
	case PX_SOCKS_REPLY: return socks_reply(p);
	default: return REPLY_NEED_MORE;
	}
}

static bool sending(int step)
{
	return step == PX_CONNECT_SEND || step == PX_SOCKS_GREETING || step == PX_SOCKS_AUTH ||
	       step == PX_SOCKS_REQUEST;
}

/* Writes p->out[out_off..out_len) through the filter below. 1 done, 0 wait, or what the
 * write failed with. */
static long flush_out(struct pf_proxy *p)
{
	struct pf *next = p->base.next;
	while (p->out_off < p->out_len) {
		long n = pf_write(next, p->out + p->out_off, p->out_len - p->out_off);
		if (n == -EAGAIN) {
			link_watch(p->base.link, pf_want(next, LOOP_WRITE));
			return 0;
		}
		if (n <= 0)
			return n == 0 ? -EPIPE : n;
		p->out_off += (size_t)n;
	}
	return 1;
}

/* Reads what the proxy sent and hands it to the step's reply handler. */
static enum reply read_reply(struct pf_proxy *p)
{
	struct pf *next = p->base.next;
	for (;;) {
		size_t room = sizeof p->in - p->in_len;
		if (room == 0) {
			pf_fail(err_of(p), TP_PROTOCOL_ERROR, TP_PHASE_PROXY, "proxy reply longer than %zu bytes",
				sizeof p->in);
			return REPLY_FAILED;
		}
		long n = pf_read(next, p->in + p->in_len, room);
		if (n == -EAGAIN) {
			link_watch(p->base.link, pf_want(next, LOOP_READ));
			return REPLY_NEED_MORE;
		}
		if (n <= 0)
			return aborted(p, n == 0 ? -EPIPE : n);
		p->in_len += (size_t)n;
		enum reply r = proxy_reply(p);
		if (r != REPLY_NEED_MORE)
			return r;
	}
}

static int proxy_connect(struct pf *f)
{
	struct pf_proxy *p = (struct pf_proxy *)f;
	enum reply r = p->step == PX_START ? first_message(p) : REPLY_NEXT;
	/* Each send step is followed by its reply step; bounded by the steps of SOCKS5. */
	for (int guard = 0; guard < 16 && r != REPLY_FAILED; guard++) {
		if (p->step == PX_UP)
			return 0;
		if (sending(p->step)) {
			long rc = flush_out(p);
			if (rc == 0)
				return -EAGAIN;
			if (rc < 0)
				r = aborted(p, rc);
			else
				p->step++;
			continue;
		}
		r = read_reply(p);
		if (r == REPLY_NEED_MORE)
			return -EAGAIN;
	}
	return PF_ERR;
}

static void proxy_close(struct pf *f)
{
	struct pf_proxy *p = (struct pf_proxy *)f;
	p->step = PX_START;
	p->in_len = p->out_len = p->out_off = 0;
}

static void proxy_timed_out(struct pf *f, struct pf_error *err)
{
	struct pf_proxy *p = (struct pf_proxy *)f;
	pf_fail(err, TP_TIMEOUT, TP_PHASE_PROXY, "no complete proxy reply within %.1fs (%zu bytes)",
		f->link->w->cfg->timeout_s, p->in_len);
}

/* The two proxy filters differ only by name: the step machine reads the target's proxy
 * scheme. */
#define PROXY_OPS(filter_name)                                                             \
	{                                                                                  \
		.name = filter_name, .phase = TP_PHASE_PROXY, .tunnel = true,                 \
		.connect = proxy_connect, .read = pf_next_read, .write = pf_next_write,       \
		.shutdown = pf_next_shutdown, .close = proxy_close, .want = pf_next_want,     \
		.pending = pf_next_pending, .timed_out = proxy_timed_out,                     \
	}
const struct pf_ops pf_http_connect_ops = PROXY_OPS("http-connect");
const struct pf_ops pf_socks5_ops = PROXY_OPS("socks5");
