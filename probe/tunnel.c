/* tunnel — the proxy exchange of a probe connection: HTTP CONNECT (RFC 9110 §9.3.6)
 * or SOCKS5 (RFC 1928/1929), sent and parsed with lib/http1 and lib/socks5. A proxy that
 * closes before its reply is complete ends the request as proxy_connect_aborted; a
 * refusal as proxy_refused. */
#include <arpa/inet.h>
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
		       strerror((int)-err));
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
		char authority[URL_MAX_HOST + 16];
		url_authority(&t->url, false, authority, sizeof authority);
		int n = snprintf(c->out, sizeof c->out,
				 "CONNECT %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: tunnelprobe/0.1\r\n"
				 "%s%s%s\r\n",
				 authority, authority, t->proxy_auth[0] ? "Proxy-Authorization: " : "",
				 t->proxy_auth, t->proxy_auth[0] ? "\r\n" : "");
		send_proxy_message(c, PX_CONNECT_SEND, n < (int)sizeof c->out ? n : -1);
	} else {
		int n = socks5_client_greeting((uint8_t *)c->out, sizeof c->out, t->proxy.has_userinfo);
		send_proxy_message(c, PX_SOCKS_GREETING, n);
	}
}

static void proxy_established(struct conn *c)
{
	if (c->in_len > 0) {
		conn_finish(c, TP_PROTOCOL_ERROR, TP_PHASE_PROXY,
		       "%zu unexpected bytes after the proxy's success reply", c->in_len);
		return;
	}
	c->tunnel_up = true;
	c->times.proxy = conn_now(c);
	conn_after_tunnel(c);
}

/* Handles a complete reply in in[0..consumed); returns false when the request ended. */
static bool proxy_reply(struct conn *c, size_t consumed)
{
	const struct probe_target *t = conn_target(c);
	uint8_t *in = (uint8_t *)c->in;
	int err = 0;
	switch (c->proxy_step) {
	case PX_CONNECT_RECV: {
		struct http1_response resp;
		int r = http1_parse_response(c->in, c->in_len, HTTP1_MAX_HEAD, HTTP1_REQ_CONNECT,
					     &resp, &err);
		(void)consumed;
		if (r == HTTP1_NEED_MORE)
			return true;
		if (r < 0) {
			conn_finish(c, TP_PROTOCOL_ERROR, TP_PHASE_PROXY, "bad CONNECT reply: %s",
			       http1_strerror(err));
			return false;
		}
		if (resp.status < 200 || resp.status > 299) {
			c->rec.status = resp.status;
			conn_finish(c, TP_PROXY_REFUSED, TP_PHASE_PROXY, "CONNECT %d %.*s", resp.status,
			       (int)(resp.reason_len > 80 ? 80 : resp.reason_len), resp.reason);
			return false;
		}
		memmove(c->in, c->in + r, c->in_len - (size_t)r);
		c->in_len -= (size_t)r;
		proxy_established(c);
		return false;
	}
	case PX_SOCKS_METHOD: {
		uint8_t method;
		int r = socks5_client_parse_method(in, c->in_len, &method, &err);
		if (r == SOCKS5_NEED_MORE)
			return true;
		if (r < 0 || method == SOCKS5_METHOD_UNACCEPTABLE) {
			conn_finish(c, r < 0 ? TP_PROTOCOL_ERROR : TP_PROXY_REFUSED, TP_PHASE_PROXY,
			       r < 0 ? "bad SOCKS5 method reply: %s" : "SOCKS5: no acceptable method%s",
			       r < 0 ? socks5_strerror(err) : "");
			return false;
		}
		if (method == SOCKS5_METHOD_USERPASS) {
			int n = socks5_client_userpass((uint8_t *)c->out, sizeof c->out, t->proxy.user,
						       t->proxy.pass);
			send_proxy_message(c, PX_SOCKS_AUTH, n);
			return false;
		}
		goto socks_request;
	}
	case PX_SOCKS_AUTH_REPLY: {
		uint8_t status;
		int r = socks5_client_parse_userpass_reply(in, c->in_len, &status, &err);
		if (r == SOCKS5_NEED_MORE)
			return true;
		if (r < 0 || status != 0) {
			conn_finish(c, r < 0 ? TP_PROTOCOL_ERROR : TP_PROXY_REFUSED, TP_PHASE_PROXY,
			       r < 0 ? "bad SOCKS5 auth reply: %s" : "SOCKS5 authentication failed%s",
			       r < 0 ? socks5_strerror(err) : "");
			return false;
		}
		goto socks_request;
	}
	case PX_SOCKS_REPLY: {
		uint8_t rep;
		struct socks5_addr bound;
		int r = socks5_client_parse_reply(in, c->in_len, &rep, &bound, &err);
		if (r == SOCKS5_NEED_MORE)
			return true;
		if (r < 0) {
			conn_finish(c, TP_PROTOCOL_ERROR, TP_PHASE_PROXY, "bad SOCKS5 reply: %s",
			       socks5_strerror(err));
			return false;
		}
		if (rep != SOCKS5_REP_SUCCEEDED) {
			conn_finish(c, TP_PROXY_REFUSED, TP_PHASE_PROXY, "SOCKS5 reply %u: %s", rep,
			       socks5_reply_name(rep));
			return false;
		}
		memmove(c->in, c->in + r, c->in_len - (size_t)r);
		c->in_len -= (size_t)r;
		proxy_established(c);
		return false;
	}
	default:
		return true;
	}
socks_request: {
	struct socks5_addr dst;
	if (c->socks_dst_resolved) {
		/* socks5://: we resolved the name; send the address. */
		char ip[INET6_ADDRSTRLEN];
		const struct sockaddr_storage *ss = &c->socks_dst.ss;
		const void *a = ss->ss_family == AF_INET
					? (const void *)&((const struct sockaddr_in *)ss)->sin_addr
					: (const void *)&((const struct sockaddr_in6 *)ss)->sin6_addr;
		inet_ntop(ss->ss_family, a, ip, sizeof ip);
		socks5_addr_from_host(&dst, ip, t->url.port);
	} else {
		socks5_addr_from_host(&dst, t->url.host, t->url.port);
	}
	int n = socks5_client_request((uint8_t *)c->out, sizeof c->out, SOCKS5_CMD_CONNECT, &dst);
	send_proxy_message(c, PX_SOCKS_REQUEST, n);
	return false;
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
		if (!proxy_reply(c, (size_t)n))
			return;
	}
}

