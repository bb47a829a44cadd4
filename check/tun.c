/* tun — see tun.h. */
#include "check/tun.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "check/ck.h"

int tun_connect(struct cio *c, struct cx *x, const char *authority, const char *extra,
		struct cx_resp *r, uint64_t deadline)
{
	char head[1024];
	int n = snprintf(head, sizeof head, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n%s\r\n", authority,
			 authority, extra ? extra : "");
	if (n < 0 || (size_t)n >= sizeof head || cio_write(c, head, (size_t)n, deadline) < 0) {
		r->end = CX_NO_HEAD;
		return -1;
	}
	if (cx_read_head(x, HTTP1_REQ_CONNECT, r, deadline) < 0)
		return -1;
	return r->status;
}

void tun_connect_failed(struct ck_outcome *out, const struct cio *c, const struct cx_resp *r,
			int status, const char *authority)
{
	ck_num(out, "client_received", c->received);
	ck_str(out, "client_end", "%s", cio_end_name(c->end));
	if (status > 0) {
		ck_num(out, "status", (uint64_t)status);
		ck_result(out, CK_FAIL, "CONNECT %s answered %d", authority, status);
	} else if (r->end == CX_TIMEOUT) {
		ck_result(out, CK_FAIL, "CONNECT %s: no reply before the deadline", authority);
	} else if (r->end == CX_PROTOCOL) {
		ck_result(out, CK_FAIL, "CONNECT %s: malformed reply (%s)", authority,
			  http1_strerror(r->proto_err));
	} else {
		ck_result(out, CK_FAIL, "CONNECT %s: the proxy %s the connection after %" PRIu64
			  " reply bytes (\"Proxy CONNECT aborted\")", authority,
			  c->end == CIO_RESET ? "reset" : "closed", c->received);
	}
}

void tun_socks5_init(struct tun_socks5 *s, const struct url *proxy)
{
	memset(s, 0, sizeof *s);
	s->offer_none = true;
	if (proxy && proxy->has_userinfo && proxy->user[0]) {
		s->offer_userpass = true;
		snprintf(s->user, sizeof s->user, "%s", proxy->user);
		snprintf(s->pass, sizeof s->pass, "%s", proxy->pass);
	}
	s->cmd = SOCKS5_CMD_CONNECT;
	s->method = s->auth_status = s->rep = -1;
	s->stage = "connect";
}

static int stop(struct tun_socks5 *s, const char *stage, const char *fmt, const char *arg)
{
	s->stage = stage;
	snprintf(s->why, sizeof s->why, fmt, arg);
	return -1;
}

/* Reads until x holds at least want bytes. Returns 0, or -1 with s->why. */
static int need(struct cx *x, size_t want, struct tun_socks5 *s, const char *stage,
		uint64_t deadline)
{
	while (cx_pending(x) < want) {
		long n = cx_fill(x, deadline);
		if (n <= 0)
			return stop(s, stage, "%s",
				    n == -ETIMEDOUT	    ? "no answer before the deadline"
				    : x->c->end == CIO_RESET ? "the proxy reset the connection"
							     : "the proxy closed the connection");
	}
	return 0;
}

static int greet(struct cio *c, struct cx *x, struct tun_socks5 *s, uint64_t deadline)
{
	uint8_t msg[4] = {5, 0};
	if (s->offer_none)
		msg[2 + msg[1]++] = SOCKS5_METHOD_NONE;
	if (s->offer_userpass)
		msg[2 + msg[1]++] = SOCKS5_METHOD_USERPASS;
	s->stage = "method";
	if (cio_write(c, msg, 2u + msg[1], deadline) < 0)
		return stop(s, "method", "%s", "cannot send the greeting");
	if (need(x, 2, s, "method", deadline) < 0)
		return -1;
	const uint8_t *in = x->buf + x->off;
	if (in[0] != 5)
		return stop(s, "method", "%s", "the answer to the greeting is not SOCKS5");
	s->method = in[1];
	x->off += 2;
	if (s->method == SOCKS5_METHOD_UNACCEPTABLE)
		return stop(s, "method", "%s", "no acceptable method (0xff)");
	if ((s->method == SOCKS5_METHOD_NONE && !s->offer_none) ||
	    (s->method == SOCKS5_METHOD_USERPASS && !s->offer_userpass) ||
	    (s->method != SOCKS5_METHOD_NONE && s->method != SOCKS5_METHOD_USERPASS))
		return stop(s, "method", "%s", "the proxy chose a method that was not offered");
	return 0;
}

static int auth(struct cio *c, struct cx *x, struct tun_socks5 *s, uint64_t deadline)
{
	uint8_t msg[520];
	s->stage = "auth";
	int n = socks5_client_userpass(msg, sizeof msg, s->user, s->pass);
	if (n < 0 || cio_write(c, msg, (size_t)n, deadline) < 0)
		return stop(s, "auth", "%s", "cannot send the user/password request");
	if (need(x, 2, s, "auth", deadline) < 0)
		return -1;
	s->auth_status = x->buf[x->off + 1];
	x->off += 2;
	if (s->auth_status != 0)
		return stop(s, "auth", "%s", "user/password refused");
	return 0;
}

static int request(struct cio *c, struct cx *x, struct tun_socks5 *s, uint64_t deadline)
{
	uint8_t msg[300];
	int n;
	s->stage = "reply";
	if (s->raw_atyp) {
		const uint8_t raw[] = {5, s->cmd, 0, s->raw_atyp, 127, 0, 0, 1, 0, 80};
		memcpy(msg, raw, sizeof raw);
		n = (int)sizeof raw;
	} else {
		n = socks5_client_request(msg, sizeof msg, s->cmd, &s->dst);
	}
	if (n < 0 || cio_write(c, msg, (size_t)n, deadline) < 0)
		return stop(s, "reply", "%s", "cannot send the request");
	for (;;) {
		int err = 0;
		uint8_t rep;
		int used = cx_pending(x) ? socks5_client_parse_reply(x->buf + x->off, cx_pending(x), &rep,
								    &s->bound, &err)
					 : SOCKS5_NEED_MORE;
		if (used == SOCKS5_ERROR)
			return stop(s, "reply", "malformed reply (%s)", socks5_strerror(err));
		if (used > 0) {
			x->off += (size_t)used;
			s->rep = rep;
			break;
		}
		if (need(x, cx_pending(x) + 1, s, "reply", deadline) < 0)
			return -1;
	}
	if (s->rep != SOCKS5_REP_SUCCEEDED) {
		char why[120];
		snprintf(why, sizeof why, "reply %d (%s)", s->rep, socks5_reply_name(s->rep));
		return stop(s, "reply", "%s", why);
	}
	s->stage = "done";
	return 0;
}

int tun_socks5(struct cio *c, struct cx *x, struct tun_socks5 *s, uint64_t deadline)
{
	if (greet(c, x, s, deadline) < 0)
		return -1;
	if (s->method == SOCKS5_METHOD_USERPASS && auth(c, x, s, deadline) < 0)
		return -1;
	return request(c, x, s, deadline);
}
