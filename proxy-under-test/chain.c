/* chain — see chain.h. */
#include "proxy-under-test/chain.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/http1.h"
#include "lib/socks5.h"
#include "proxy-under-test/auth.h"

int chain_start(struct chain *c, const struct url *up, const char *host, uint16_t port,
		const char *target, const char *id, char *out, size_t cap)
{
	c->up = up;
	c->port = port;
	c->step = 0;
	if (snprintf(c->host, sizeof c->host, "%s", host) >= (int)sizeof c->host)
		return -ENOSPC;
	if (up->scheme != URL_HTTP)
		return socks5_client_greeting((uint8_t *)out, cap, up->has_userinfo);
	char auth[700] = "";
	if (up->has_userinfo && auth_basic(up->user, up->pass, auth, sizeof auth) < 0)
		auth[0] = '\0';
	int n = snprintf(out, cap, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n%s%s%s%s%s%sVia: 1.1 tunnelprobe\r\n\r\n",
			 target, target, auth[0] ? "Proxy-Authorization: " : "", auth,
			 auth[0] ? "\r\n" : "", id[0] ? "X-Probe-Id: " : "", id, id[0] ? "\r\n" : "");
	return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}

/* The SOCKS5 CONNECT for the destination. */
static int socks_request(const struct chain *c, char *out, size_t cap)
{
	struct socks5_addr dst;
	if (socks5_addr_from_host(&dst, c->host, c->port) < 0)
		return -EPROTO;
	return socks5_client_request((uint8_t *)out, cap, SOCKS5_CMD_CONNECT, &dst);
}

/* A message made (n > 0) for CHAIN_SEND, or its error. */
static int sent(int n, size_t *outlen)
{
	if (n < 0)
		return -EPROTO;
	*outlen = (size_t)n;
	return CHAIN_SEND;
}

int chain_feed(struct chain *c, const uint8_t *in, size_t len, size_t *used, char *out,
	       size_t cap, size_t *outlen)
{
	int err = 0, r;
	*used = 0;
	if (c->up->scheme == URL_HTTP) {
		struct http1_response resp;
		r = http1_parse_response((const char *)in, len, HTTP1_MAX_HEAD, HTTP1_REQ_CONNECT, &resp, &err);
		if (r == HTTP1_NEED_MORE)
			return CHAIN_NEED_MORE;
		if (r < 0)
			return -EPROTO;
		if (resp.status < 200 || resp.status > 299)
			return resp.status == 403 ? -EACCES : -ECONNREFUSED;
		*used = (size_t)r; /* bytes after the reply already belong to the origin */
		return CHAIN_OPEN;
	}
	switch (c->step) {
	case 0: { /* the method chosen */
		uint8_t method;
		r = socks5_client_parse_method(in, len, &method, &err);
		if (r == SOCKS5_NEED_MORE)
			return CHAIN_NEED_MORE;
		if (r < 0)
			return -EPROTO;
		if (method == SOCKS5_METHOD_UNACCEPTABLE ||
		    (method == SOCKS5_METHOD_USERPASS && !c->up->has_userinfo))
			return -EACCES;
		*used = (size_t)r;
		if (method == SOCKS5_METHOD_USERPASS) {
			c->step = 1;
			return sent(socks5_client_userpass((uint8_t *)out, cap, c->up->user, c->up->pass), outlen);
		}
		c->step = 2;
		return sent(socks_request(c, out, cap), outlen);
	}
	case 1: { /* the RFC 1929 reply */
		uint8_t status;
		r = socks5_client_parse_userpass_reply(in, len, &status, &err);
		if (r == SOCKS5_NEED_MORE)
			return CHAIN_NEED_MORE;
		if (r < 0)
			return -EPROTO;
		if (status != 0)
			return -EACCES;
		*used = (size_t)r;
		c->step = 2;
		return sent(socks_request(c, out, cap), outlen);
	}
	default: { /* the reply to CONNECT */
		uint8_t rep;
		struct socks5_addr bound;
		r = socks5_client_parse_reply(in, len, &rep, &bound, &err);
		if (r == SOCKS5_NEED_MORE)
			return CHAIN_NEED_MORE;
		if (r < 0)
			return -EPROTO;
		if (rep != SOCKS5_REP_SUCCEEDED)
			return rep == SOCKS5_REP_CONNECTION_REFUSED ? -ECONNREFUSED : -EHOSTUNREACH;
		*used = (size_t)r;
		return CHAIN_OPEN;
	}
	}
}
