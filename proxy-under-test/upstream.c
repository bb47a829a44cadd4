/* upstream — see upstream.h. */
#include "proxy-under-test/upstream.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/http1.h"
#include "lib/socks5.h"
#include "proxy-under-test/auth.h"
#include "proxy-under-test/inject.h"
#include "proxy-under-test/server.h"

static void upstream_send(struct session *s, int len)
{
	s->ctl_len = len > 0 ? (size_t)len : 0;
	s->ctl_off = 0;
	s->down.len = s->down.off = 0;
}

void upstream_start(struct session *s)
{
	const struct url *u = &s->w->cfg->upstream;
	s->state = SS_UPSTREAM;
	s->upstream_step = 0;
	loop_timer_start(&s->w->loop, &s->timer, (uint64_t)(s->w->cfg->handshake_timeout_s * 1e6));
	if (u->scheme == URL_HTTP) {
		char auth[700] = "";
		if (u->has_userinfo && auth_basic(u->user, u->pass, auth, sizeof auth) < 0)
			auth[0] = '\0';
		/* The client's X-Probe-Id goes on, so the next proxy names the tunnel too. */
		upstream_send(s, snprintf(s->ctl, sizeof s->ctl,
					  "CONNECT %s HTTP/1.1\r\nHost: %s\r\n%s%s%s%s%s%sVia: 1.1 tunnelprobe\r\n\r\n",
					  s->target, s->target, auth[0] ? "Proxy-Authorization: " : "",
					  auth, auth[0] ? "\r\n" : "", s->id[0] ? "X-Probe-Id: " : "", s->id,
					  s->id[0] ? "\r\n" : ""));
	} else {
		upstream_send(s, socks5_client_greeting((uint8_t *)s->ctl, sizeof s->ctl, u->has_userinfo));
	}
	leg_watch(s, &s->up, LOOP_WRITE);
}

/* The upstream proxy's reply (its first r bytes of down) said yes: bytes after it
 * already belong to the origin, received like any other (the client gets them after
 * the proxy's own reply). */
static void upstream_early(struct session *s, size_t r)
{
	struct flow *f = &s->down;
	memmove(f->buf, f->buf + r, f->len - r);
	f->len -= r;
	f->received += f->len;
	if (f->len) {
		f->recv_ops++;
		inject_read(s, f, f->buf, f->len);
	}
	session_established(s);
}

/* n bytes of the message to the upstream proxy went out: once all did, its reply is
 * awaited. */
void upstream_wrote(struct session *s, size_t n)
{
	s->ctl_off += n;
	leg_watch(s, &s->up, s->ctl_off < s->ctl_len ? LOOP_WRITE : LOOP_READ);
}

/* Reads and handles the upstream proxy's replies. */
void upstream_step(struct session *s)
{
	const struct url *u = &s->w->cfg->upstream;
	if (s->ctl_off < s->ctl_len) {
		long n = leg_write(&s->up, s->ctl + s->ctl_off, s->ctl_len - s->ctl_off);
		if (n == -EAGAIN || n == LEG_POSTED)
			return; /* a streams leg says what it took in session_on_written() */
		if (n < 0) {
			session_fail_upstream(s, (int)n, "upstream proxy write failed");
			return;
		}
		upstream_wrote(s, (size_t)n);
		return;
	}
	struct flow *f = &s->down;
	long n = leg_read(&s->up, f->buf + f->len, sizeof f->buf - f->len, NULL);
	if (n == -EAGAIN)
		return;
	if (n <= 0) {
		/* The upstream proxy aborted its reply: a correct proxy says 502. */
		session_fail_upstream(s, -ECONNRESET, "upstream proxy closed before its reply");
		return;
	}
	f->len += (size_t)n;
	int err = 0;
	if (u->scheme == URL_HTTP) {
		struct http1_response resp;
		int r = http1_parse_response(f->buf, f->len, HTTP1_MAX_HEAD, HTTP1_REQ_CONNECT, &resp, &err);
		if (r == HTTP1_NEED_MORE)
			return;
		if (r < 0 || resp.status < 200 || resp.status > 299) {
			f->len = 0;
			session_fail_upstream(s, r < 0 ? -EPROTO : resp.status == 403 ? -EACCES : -ECONNREFUSED,
				      "upstream proxy refused");
			return;
		}
		/* Bytes after the reply already belong to the origin: keep them for the client. */
		upstream_early(s, (size_t)r);
		return;
	}
	uint8_t *in = (uint8_t *)f->buf;
	int r;
	switch (s->upstream_step) {
	case 0: { /* method choice */
		uint8_t method;
		r = socks5_client_parse_method(in, f->len, &method, &err);
		if (r == SOCKS5_NEED_MORE)
			return;
		if (r < 0 || method == SOCKS5_METHOD_UNACCEPTABLE) {
			session_fail_upstream(s, -EACCES, "upstream SOCKS5 method");
			return;
		}
		f->len = 0;
		if (method == SOCKS5_METHOD_USERPASS) {
			s->upstream_step = 1;
			upstream_send(s, socks5_client_userpass((uint8_t *)s->ctl, sizeof s->ctl, u->user, u->pass));
		} else {
			s->upstream_step = 2;
			struct socks5_addr dst;
			socks5_addr_from_host(&dst, s->host, s->port);
			upstream_send(s, socks5_client_request((uint8_t *)s->ctl, sizeof s->ctl, SOCKS5_CMD_CONNECT, &dst));
		}
		leg_watch(s, &s->up, LOOP_WRITE);
		return;
	}
	case 1: { /* auth reply */
		uint8_t status;
		r = socks5_client_parse_userpass_reply(in, f->len, &status, &err);
		if (r == SOCKS5_NEED_MORE)
			return;
		if (r < 0 || status != 0) {
			session_fail_upstream(s, -EACCES, "upstream SOCKS5 auth");
			return;
		}
		f->len = 0;
		s->upstream_step = 2;
		struct socks5_addr dst;
		socks5_addr_from_host(&dst, s->host, s->port);
		upstream_send(s, socks5_client_request((uint8_t *)s->ctl, sizeof s->ctl, SOCKS5_CMD_CONNECT, &dst));
		leg_watch(s, &s->up, LOOP_WRITE);
		return;
	}
	default: { /* the reply to our request */
		uint8_t rep;
		struct socks5_addr bound;
		r = socks5_client_parse_reply(in, f->len, &rep, &bound, &err);
		if (r == SOCKS5_NEED_MORE)
			return;
		if (r < 0 || rep != 0) {
			f->len = 0;
			session_fail_upstream(s, r < 0 ? -EPROTO : rep == SOCKS5_REP_CONNECTION_REFUSED ? -ECONNREFUSED : -EHOSTUNREACH,
				      "upstream SOCKS5 reply");
			return;
		}
		upstream_early(s, (size_t)r);
		return;
	}
	}
}
