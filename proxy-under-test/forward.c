/* forward — see forward.h. */
#include "proxy-under-test/forward.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/url.h"
#include "proxy-under-test/server.h"

static bool hop_by_hop(const struct http1_header *h, const struct http1_request *req)
{
	static const char *const names[] = {"Connection", "Keep-Alive", "Proxy-Connection",
					    "Proxy-Authorization", "Proxy-Authenticate", "TE",
					    "Trailer", "Upgrade"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (http1_token_eq(h->name, h->name_len, names[i]))
			return true;
	/* Fields the Connection header names are hop-by-hop too. */
	const struct http1_header *conn = http1_find_header(req->headers, req->num_headers, "Connection");
	if (conn) {
		const char *v = conn->value, *end = v + conn->value_len;
		while (v < end) {
			while (v < end && (*v == ' ' || *v == ','))
				v++;
			const char *t = v;
			while (v < end && *v != ',' && *v != ' ')
				v++;
			if (v > t && h->name_len == (size_t)(v - t) && strncasecmp(h->name, t, h->name_len) == 0)
				return true;
		}
	}
	return false;
}

/* The absolute-form target of req as a URL; false when it is not http://. */
static bool target_url(const struct http1_request *req, struct url *u)
{
	char target[URL_MAX_PATH + URL_MAX_HOST + 16];
	const char *why;
	if (req->target_len >= sizeof target)
		return false;
	memcpy(target, req->target, req->target_len);
	target[req->target_len] = '\0';
	return url_parse(target, u, &why) == 0 && u->scheme == URL_HTTP;
}

int forward_start(struct session *s, const struct http1_request *req)
{
	struct url u;
	if (req->target_len >= URL_MAX_PATH)
		return 414;
	if (!target_url(req, &u))
		return 400;
	s->kind = SK_FORWARD;
	snprintf(s->host, sizeof s->host, "%s", u.host);
	s->port = u.port;
	const struct http1_header *id = http1_find_header(req->headers, req->num_headers, "X-Probe-Id");
	if (id)
		snprintf(s->id, sizeof s->id, "%.*s", (int)(id->value_len < 63 ? id->value_len : 63), id->value);
	/* Every client byte so far (the head and what followed) is parsed again by
	 * forward_fill() once the origin leg is up. */
	memcpy(s->fwd_head, s->upf.buf, s->upf.len);
	s->fwd_len = s->upf.len;
	s->upf.received += s->upf.len;
	s->upf.recv_ops++;
	s->upf.len = s->upf.off = 0;
	return 0;
}

/* The head for the origin: origin form (absolute form to an upstream proxy), hop-by-hop
 * fields removed, Via added. Returns its length, or -1 when it does not fit. */
static long rewrite(const struct session *s, const struct http1_request *req, const struct url *u,
		    char *out, size_t cap)
{
	size_t o = 0;
	int n = s->w->cfg->has_upstream
			? snprintf(out, cap, "%.*s %.*s HTTP/1.1\r\n", (int)req->method_len, req->method,
				   (int)req->target_len, req->target)
			: snprintf(out, cap, "%.*s %s HTTP/1.1\r\n", (int)req->method_len, req->method, u->path);
	if (n < 0 || (size_t)n >= cap)
		return -1;
	o = (size_t)n;
	for (size_t i = 0; i < req->num_headers; i++) {
		const struct http1_header *h = &req->headers[i];
		if (hop_by_hop(h, req))
			continue;
		n = snprintf(out + o, cap - o, "%.*s: %.*s\r\n", (int)h->name_len, h->name, (int)h->value_len,
			     h->value);
		if (n < 0 || (size_t)n >= cap - o)
			return -1;
		o += (size_t)n;
	}
	n = snprintf(out + o, cap - o, "Via: 1.1 tunnelprobe\r\n\r\n");
	if (n < 0 || (size_t)n >= cap - o)
		return -1;
	return (long)(o + (size_t)n);
}

/* Passes body bytes from in[0..len) into f through the decoder; returns bytes taken. */
static size_t body_bytes(struct session *s, struct flow *f, const char *in, size_t len)
{
	size_t taken = 0;
	while (taken < len && !s->fwd_body.done && f->len < sizeof f->buf) {
		const uint8_t *span;
		size_t span_len;
		int err;
		size_t room = sizeof f->buf - f->len;
		size_t feed = len - taken < room ? len - taken : room;
		long n = http1_body_feed(&s->fwd_body, (const uint8_t *)in + taken, feed, &span, &span_len, &err);
		if (n <= 0)
			break;
		memcpy(f->buf + f->len, in + taken, (size_t)n);
		f->len += (size_t)n;
		taken += (size_t)n;
	}
	if (s->fwd_body.done)
		s->fwd_in_body = false;
	return taken;
}

int forward_fill(struct session *s, struct flow *f)
{
	for (int round = 0; round < 64; round++) {
		if (!s->fwd_in_body && s->fwd_len > 0) {
			struct http1_request req;
			int err = 0;
			int r = http1_parse_request(s->fwd_head, s->fwd_len, HTTP1_MAX_HEAD, &req, &err);
			if (r == HTTP1_ERROR) {
				session_close(s, false, false);
				return -1;
			}
			if (r > 0) {
				struct url u;
				/* One origin per connection: a request for another one ends it (the
				 * client opens a new connection, as clients do after a close). */
				if (!target_url(&req, &u) || strcasecmp(u.host, s->host) != 0 || u.port != s->port) {
					session_close(s, false, false);
					return -1;
				}
				long n = rewrite(s, &req, &u, f->buf + f->len, sizeof f->buf - f->len);
				if (n < 0) {
					session_close(s, false, false);
					return -1;
				}
				f->len += (size_t)n;
				s->requests++;
				if (req.framing != HTTP1_FRAMING_NONE) {
					http1_body_init(&s->fwd_body, req.framing, req.content_length);
					s->fwd_in_body = !s->fwd_body.done;
				}
				memmove(s->fwd_head, s->fwd_head + r, s->fwd_len - (size_t)r);
				s->fwd_len -= (size_t)r;
				continue;
			}
		}
		if (s->fwd_in_body && s->fwd_len > 0) {
			size_t taken = body_bytes(s, f, s->fwd_head, s->fwd_len);
			memmove(s->fwd_head, s->fwd_head + taken, s->fwd_len - taken);
			s->fwd_len -= taken;
			if (f->len == sizeof f->buf)
				return 1;
			continue;
		}
		if (f->len > 0)
			return 1; /* relay what is ready before reading more */
		/* Read: head bytes into fwd_head; body bytes through the decoder into the flow,
		 * and whatever follows the body (the next head) into fwd_head. */
		char body[RELAY_BUF];
		char *dst = s->fwd_in_body ? body : s->fwd_head + s->fwd_len;
		size_t room = s->fwd_in_body ? sizeof body : sizeof s->fwd_head - s->fwd_len;
		if (room == 0) {
			session_close(s, false, false); /* a head longer than the cap */
			return -1;
		}
		long n = net_read(s->client.fd, dst, room);
		if (n == -EAGAIN)
			return 0;
		if (n == 0) {
			f->eof = true;
			return relay_propagate_eof(s, f) ? 1 : -1;
		}
		if (n < 0) {
			s->client.end = END_RST;
			if (!s->first_close)
				s->first_close = "client";
			session_close(s, true, false);
			return -1;
		}
		f->received += (uint64_t)n;
		f->recv_ops++;
		loop_timer_start(&s->w->loop, &s->timer, (uint64_t)(s->w->cfg->idle_timeout_s * 1e6));
		if (!s->fwd_in_body) {
			s->fwd_len += (size_t)n;
			continue;
		}
		size_t taken = body_bytes(s, f, body, (size_t)n);
		memcpy(s->fwd_head, body + taken, (size_t)n - taken); /* fwd_len was 0 */
		s->fwd_len = (size_t)n - taken;
		return 1;
	}
	return 1;
}
