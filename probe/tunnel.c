/* tunnel — the proxy exchange of a probe connection: HTTP CONNECT (RFC 9110 §9.3.6)
 * or SOCKS5 (RFC 1928/1929), sent and parsed with lib/http1 and lib/socks5. A proxy that
 * closes before its reply is complete ends the request as proxy_connect_aborted; a
 * refusal as proxy_refused. */
#ifndef _WIN32
#include <arpa/inet.h> /* inet_ntop; lib/net.h's Winsock headers have it */
#endif
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/socks5.h"
#include "probe/tunnel.h"
#include "probe/worker.h"

/* Writes out[out_off..out_len) on the raw socket. 1 done, 0 wait, < 0 -errno. */
static int flush_raw(struct conn *c)
{
	while (c->out_off < c->out_len) {
		long n = net_write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
		if (n == -EAGAIN) {
			conn_watch(c, LOOP_WRITE);
			return 0;
		}
		if (n < 0)
			return (int)n;
		c->out_off += (size_t)n;
	}
	return 1;
}

static void proxy_aborted(struct conn *c, long err)
{
	const char *how = err == -ECONNRESET ? "reset the connection" : "closed the connection";
	if (err < 0 && err != -ECONNRESET && err != -EPIPE)
		conn_finish(c, TP_PROXY_CONNECT_ABORTED, TP_PHASE_PROXY, "proxy connection failed: %s",
		       net_strerror((int)err));
	else
		conn_finish(c, TP_PROXY_CONNECT_ABORTED, TP_PHASE_PROXY,
		       "proxy %s before its reply was complete (%zu reply bytes)", how, c->in_len);
}

static void send_proxy_message(struct conn *c, enum proxy_step step, int len)
{
	if (len < 0) {
		conn_finish(c, TP_PROTOCOL_ERROR, TP_PHASE_PROXY, "cannot encode the proxy request");
		return;
	}
	c->proxy_step = step;
	c->out_len = (size_t)len;
	c->out_off = 0;
	c->in_len = 0;
	tunnel_step(c);
}

void tunnel_start(struct conn *c)
{
	const struct probe_target *t = conn_target(c);
	c->state = CONN_PROXY;
	conn_arm(c, c->w->cfg->timeout_s);
	if (t->proxy.scheme == URL_HTTP) {
		/* The proxy is asked for the dial address (--connect-to), and told the id of
		 * the request the tunnel is opened for, so its ledger can name the tunnel. */
		char authority[URL_MAX_HOST + 16];
		probe_target_dial_authority(t, authority, sizeof authority);
		int n = snprintf(c->out, sizeof c->out,
				 "CONNECT %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: tunnelprobe/0.1\r\n"
				 "%s%s%sX-Probe-Id: %s\r\n\r\n",
				 authority, authority, t->proxy_auth[0] ? "Proxy-Authorization: " : "",
				 t->proxy_auth, t->proxy_auth[0] ? "\r\n" : "", c->rec.id);
		send_proxy_message(c, PX_CONNECT_SEND, n < (int)sizeof c->out ? n : -1);
	} else {
		int n = socks5_client_greeting((uint8_t *)c->out, sizeof c->out, t->proxy.has_userinfo);
		send_proxy_message(c, PX_SOCKS_GREETING, n);
	}
}

/* What one reply handler made of the bytes in c->in. */
enum reply {
	REPLY_NEED_MORE, /* the reply is incomplete: read more and call again */
	REPLY_DONE,      /* the step is over: the next message went out, the tunnel is up,
			  * or the request ended through conn_finish() */
};

/* The proxy accepted: its reply was the first reply_len bytes of c->in. */
static enum reply proxy_established(struct conn *c, int reply_len)
{
	memmove(c->in, c->in + reply_len, c->in_len - (size_t)reply_len);
	c->in_len -= (size_t)reply_len;
	if (c->in_len > 0) {
		conn_finish(c, TP_PROTOCOL_ERROR, TP_PHASE_PROXY,
		       "%zu unexpected bytes after the proxy's success reply", c->in_len);
		return REPLY_DONE;
	}
	c->tunnel_up = true;
	c->times.proxy = conn_now(c);
	conn_after_tunnel(c);
	return REPLY_DONE;
}

/* A reply that does not parse ends the request as a protocol error. */
static enum reply malformed(struct conn *c, const char *what, const char *why)
{
	conn_finish(c, TP_PROTOCOL_ERROR, TP_PHASE_PROXY, "bad %s: %s", what, why);
	return REPLY_DONE;
}

/* Sends the SOCKS5 CONNECT request for the dial host: with the address we resolved
 * for socks5://, with the name (or the literal, as an address) for socks5h://. */
static enum reply socks_request(struct conn *c)
{
	const struct probe_target *t = conn_target(c);
	struct socks5_addr dst;
	if (c->socks_dst_resolved) {
		char ip[INET6_ADDRSTRLEN];
		const struct sockaddr_storage *ss = &c->socks_dst.ss;
		const void *a = ss->ss_family == AF_INET
					? (const void *)&((const struct sockaddr_in *)ss)->sin_addr
					: (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr;
		inet_ntop(ss->ss_family, a, ip, sizeof ip);
		socks5_addr_from_host(&dst, ip, t->dial_port);
	} else {
		socks5_addr_from_host(&dst, t->dial_host, t->dial_port);
	}
	int n = socks5_client_request((uint8_t *)c->out, sizeof c->out, SOCKS5_CMD_CONNECT, &dst);
	send_proxy_message(c, PX_SOCKS_REQUEST, n);
	return REPLY_DONE;
}

static enum reply connect_reply(struct conn *c)
{
	struct http1_response resp;
	int err = 0;
	int r = http1_parse_response(c->in, c->in_len, HTTP1_MAX_HEAD, HTTP1_REQ_CONNECT, &resp,
				     &err);
	if (r == HTTP1_NEED_MORE)
		return REPLY_NEED_MORE;
	if (r < 0)
		return malformed(c, "CONNECT reply", http1_strerror(err));
	if (resp.status < 200 || resp.status > 299) {
		c->rec.status = resp.status;
		conn_finish(c, TP_PROXY_REFUSED, TP_PHASE_PROXY, "CONNECT %d %.*s", resp.status,
			    (int)(resp.reason_len > 80 ? 80 : resp.reason_len), resp.reason);
		return REPLY_DONE;
	}
	return proxy_established(c, r);
}

static enum reply socks_method_reply(struct conn *c)
{
	const struct probe_target *t = conn_target(c);
	uint8_t method;
	int err = 0;
	int r = socks5_client_parse_method((const uint8_t *)c->in, c->in_len, &method, &err);
	if (r == SOCKS5_NEED_MORE)
		return REPLY_NEED_MORE;
	if (r < 0)
		return malformed(c, "SOCKS5 method reply", socks5_strerror(err));
	if (method == SOCKS5_METHOD_UNACCEPTABLE) {
		conn_finish(c, TP_PROXY_REFUSED, TP_PHASE_PROXY, "SOCKS5: no acceptable method");
		return REPLY_DONE;
	}
	if (method == SOCKS5_METHOD_USERPASS) {
		int n = socks5_client_userpass((uint8_t *)c->out, sizeof c->out, t->proxy.user,
					       t->proxy.pass);
		send_proxy_message(c, PX_SOCKS_AUTH, n);
		return REPLY_DONE;
	}
	return socks_request(c);
}

static enum reply socks_auth_reply(struct conn *c)
{
	uint8_t status;
	int err = 0;
	int r = socks5_client_parse_userpass_reply((const uint8_t *)c->in, c->in_len, &status, &err);
	if (r == SOCKS5_NEED_MORE)
		return REPLY_NEED_MORE;
	if (r < 0)
		return malformed(c, "SOCKS5 auth reply", socks5_strerror(err));
	if (status != 0) {
		conn_finish(c, TP_PROXY_REFUSED, TP_PHASE_PROXY, "SOCKS5 authentication failed");
		return REPLY_DONE;
	}
	return socks_request(c);
}

static enum reply socks_reply(struct conn *c)
{
	uint8_t rep;
	struct socks5_addr bound;
	int err = 0;
	int r = socks5_client_parse_reply((const uint8_t *)c->in, c->in_len, &rep, &bound, &err);
	if (r == SOCKS5_NEED_MORE)
		return REPLY_NEED_MORE;
	if (r < 0)
		return malformed(c, "SOCKS5 reply", socks5_strerror(err));
	if (rep != SOCKS5_REP_SUCCEEDED) {
		conn_finish(c, TP_PROXY_REFUSED, TP_PHASE_PROXY, "SOCKS5 reply %u: %s", rep,
			    socks5_reply_name(rep));
		return REPLY_DONE;
	}
	return proxy_established(c, r);
}

/* The handler of the reply the current step waits for. */
static enum reply proxy_reply(struct conn *c)
{
	switch (c->proxy_step) {
	case PX_CONNECT_RECV: return connect_reply(c);
	case PX_SOCKS_METHOD: return socks_method_reply(c);
	case PX_SOCKS_AUTH_REPLY: return socks_auth_reply(c);
	case PX_SOCKS_REPLY: return socks_reply(c);
	default: return REPLY_NEED_MORE;
	}
}

void tunnel_step(struct conn *c)
{
	if (c->state != CONN_PROXY)
		return;
	if (c->proxy_step == PX_CONNECT_SEND || c->proxy_step == PX_SOCKS_GREETING ||
	    c->proxy_step == PX_SOCKS_AUTH || c->proxy_step == PX_SOCKS_REQUEST) {
		int rc = flush_raw(c);
		if (rc < 0) {
			proxy_aborted(c, rc);
		} else if (rc == 1) {
			c->proxy_step++; /* each send step is followed by its reply step */
			conn_watch(c, LOOP_READ);
		}
		return;
	}
	for (;;) {
		/* Nothing may follow a proxy's reply before our request: the origin speaks
		 * second in HTTP and TLS, so extra bytes are a protocol error. */
		size_t room = sizeof c->in - c->in_len;
		if (room == 0) {
			conn_finish(c, TP_PROTOCOL_ERROR, TP_PHASE_PROXY, "proxy reply longer than %zu bytes",
			       sizeof c->in);
			return;
		}
		long n = net_read(c->fd, c->in + c->in_len, room);
		if (n == -EAGAIN)
			return;
		if (n <= 0) {
			proxy_aborted(c, n == 0 ? -EPIPE : n);
			return;
		}
		c->in_len += (size_t)n;
		if (proxy_reply(c) == REPLY_DONE)
			return;
	}
}

