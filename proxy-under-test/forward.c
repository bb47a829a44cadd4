/* forward — see forward.h. */
#include "proxy-under-test/forward.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "proxy-under-test/inject.h"
#include "proxy-under-test/relay.h"
#include "proxy-under-test/server.h"
#include "proxy-under-test/session.h"

#define VIA "Via: 1.1 tunnelprobe\r\n"

/* ---- pure helpers ---- */

bool forward_hop_by_hop(const struct http1_header *h, const struct http1_header *headers, size_t n)
{
	/* Transfer-Encoding is hop-by-hop too, but bodies pass through with their framing
	 * untouched, so it must stay. */
	static const char *const names[] = {"Connection", "Keep-Alive", "Proxy-Connection",
					    "Proxy-Authorization", "Proxy-Authenticate", "TE",
					    "Upgrade"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (http1_token_eq(h->name, h->name_len, names[i]))
			return true;
	/* The framing fields stay even when Connection names them: dropping them would
	 * change where the body ends for the next hop (a desync a hostile peer could ask for). */
	if (http1_token_eq(h->name, h->name_len, "Content-Length") ||
	    http1_token_eq(h->name, h->name_len, "Transfer-Encoding"))
		return false;
	for (size_t k = 0; k < n; k++) {
		const struct http1_header *conn = &headers[k];
		if (!http1_token_eq(conn->name, conn->name_len, "Connection"))
			continue;
		const char *v = conn->value, *end = v + conn->value_len;
		while (v < end) {
			while (v < end && (*v == ' ' || *v == '\t' || *v == ','))
				v++;
			const char *t = v;
			while (v < end && *v != ',' && *v != ' ' && *v != '\t')
				v++;
			if (v > t && h->name_len == (size_t)(v - t) && strncasecmp(h->name, t, h->name_len) == 0)
				return true;
		}
	}
	return false;
}

/* Appends fmt to out[*o..cap); false when it does not fit. */
static bool put(char *out, size_t cap, size_t *o, const char *data, size_t len)
{
	if (len > cap - *o)
		return false;
	memcpy(out + *o, data, len);
	*o += len;
	return true;
}

static bool put_header(char *out, size_t cap, size_t *o, const struct http1_header *h)
{
	return put(out, cap, o, h->name, h->name_len) && put(out, cap, o, ": ", 2) &&
	       put(out, cap, o, h->value, h->value_len) && put(out, cap, o, "\r\n", 2);
}

long forward_rewrite_request(const struct http1_request *req, const struct url *u, bool absolute,
			     const char *auth, char *out, size_t cap)
{
	size_t o = 0;
	char authority[URL_MAX_HOST + 8];
	if (url_authority(u, true, authority, sizeof authority) < 0)
		return -1;
	if (!put(out, cap, &o, req->method, req->method_len) || !put(out, cap, &o, " ", 1))
		return -1;
	if (absolute ? !put(out, cap, &o, req->target, req->target_len)
		     : !put(out, cap, &o, u->path, strlen(u->path)))
		return -1;
	if (!put(out, cap, &o, " HTTP/1.1\r\nHost: ", 17) ||
	    !put(out, cap, &o, authority, strlen(authority)) || !put(out, cap, &o, "\r\n", 2))
		return -1;
	for (size_t i = 0; i < req->num_headers; i++) {
		const struct http1_header *h = &req->headers[i];
		/* The proxy must replace Host with the URI's authority (RFC 9112 §3.2.2). */
		if (http1_token_eq(h->name, h->name_len, "Host") ||
		    forward_hop_by_hop(h, req->headers, req->num_headers))
			continue;
		if (!put_header(out, cap, &o, h))
			return -1;
	}
	if (auth && (!put(out, cap, &o, "Proxy-Authorization: ", 21) ||
		     !put(out, cap, &o, auth, strlen(auth)) || !put(out, cap, &o, "\r\n", 2)))
		return -1;
	/* An HTTP/1.0 client without keep-alive gets its close from us; the origin leg
	 * stays persistent whatever the client asked. */
	if (!put(out, cap, &o, VIA "\r\n", sizeof VIA + 1))
		return -1;
	return (long)o;
}

long forward_rewrite_response(const struct http1_response *resp, bool close, char *out, size_t cap)
{
	size_t o = 0;
	char line[32];
	int n = snprintf(line, sizeof line, "HTTP/1.1 %03d ", resp->status);
	if (n < 0 || !put(out, cap, &o, line, (size_t)n) ||
	    !put(out, cap, &o, resp->reason, resp->reason_len) || !put(out, cap, &o, "\r\n", 2))
		return -1;
	for (size_t i = 0; i < resp->num_headers; i++) {
		const struct http1_header *h = &resp->headers[i];
		/* 101 keeps its Upgrade/Connection: they are what it answers. */
		if (resp->status != 101 && forward_hop_by_hop(h, resp->headers, resp->num_headers))
			continue;
		if (!put_header(out, cap, &o, h))
			return -1;
	}
	if (!put(out, cap, &o, VIA, sizeof VIA - 1))
		return -1;
	if (close && !put(out, cap, &o, "Connection: close\r\n", 19))
		return -1;
	if (!put(out, cap, &o, "\r\n", 2))
		return -1;
	return (long)o;
}

/* ---- the session side ---- */

static struct fwd_req *q_at(struct fwd *fw, uint64_t pos) { return &fw->q[pos % FWD_PIPELINE]; }

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

static bool http_upstream(const struct session *s)
{
	return s->w->cfg->has_upstream && s->w->cfg->upstream.scheme == URL_HTTP;
}

int forward_start(struct session *s, const struct http1_request *req)
{
	struct url u;
	if (req->target_len >= URL_MAX_PATH)
		return 414;
	if (!target_url(req, &u))
		return 400;
	s->fwd = calloc(1, sizeof *s->fwd);
	if (!s->fwd)
		return 500;
	s->kind = SK_FORWARD;
	snprintf(s->host, sizeof s->host, "%s", u.host);
	s->port = u.port;
	session_copy_probe_id(s->id, req);
	/* Every client byte so far (the head and what followed) is parsed again by
	 * forward_fill() once the origin leg is up. */
	struct fwd *fw = s->fwd;
	memcpy(fw->req_buf, s->upf.buf, s->upf.len);
	fw->req_len = s->upf.len;
	s->upf.received += s->upf.len;
	s->upf.recv_ops++;
	s->upf.len = s->upf.off = 0;
	return 0;
}

static void snapshot(const struct session *s, uint64_t ops[8])
{
	const struct flow *fl[2] = {&s->down, &s->upf};
	for (int k = 0; k < 2; k++) {
		ops[4 * k] = fl[k]->recv_ops;
		ops[4 * k + 1] = fl[k]->send_ops;
		ops[4 * k + 2] = fl[k]->short_sends;
		ops[4 * k + 3] = fl[k]->dropped;
	}
}

static uint64_t span(uint64_t at, uint64_t a, uint64_t b)
{
	if (at < a)
		return 0;
	return (at < b ? at : b) - a;
}

/* Writes the ledger line of request r. */
static void emit(struct session *s, struct fwd_req *r, bool final)
{
	struct fwd *fw = s->fwd;
	uint64_t now_ops[8];
	snapshot(s, now_ops);
	struct relay_counts c = {0};
	c.down.received = span(fw->down_consumed, r->down_c, r->down_complete ? r->down_d : UINT64_MAX);
	c.down.sent = span(s->down.sent, r->down_e, r->down_complete ? r->down_g : UINT64_MAX);
	c.up.received = r->up_received;
	c.up.sent = span(s->upf.sent, r->up_a, r->up_complete ? r->up_b : UINT64_MAX);
	if (!r->down_started)
		c.down.received = c.down.sent = 0;
	struct relay_dir *d[2] = {&c.down, &c.up};
	for (int k = 0; k < 2; k++) {
		d[k]->recv_ops = now_ops[4 * k] - r->ops[4 * k];
		d[k]->send_ops = now_ops[4 * k + 1] - r->ops[4 * k + 1];
		d[k]->short_sends = now_ops[4 * k + 2] - r->ops[4 * k + 2];
		d[k]->dropped = now_ops[4 * k + 3] - r->ops[4 * k + 3];
	}
	c.id = r->id;
	c.target = r->target;
	c.up_local = r->up_local;
	c.up_peer = r->up_peer;
	c.method = r->method;
	c.status = r->status;
	c.index = (int)r->index;
	c.t = r->t;
	c.start_us = r->start_us;
	c.final = final;
	relay_write_ledger(s, &c);
	fw->emitted++;
}

void forward_flushed(struct session *s)
{
	struct fwd *fw = s->fwd;
	if (!fw)
		return;
	s->upf.held = false; /* a held request may go now */
	/* The client half-closed and has every answer: nothing more can happen here. */
	if (s->upf.eof && fw->q_resp == fw->q_tail && !fw->rsp_in_body && !s->down.eof) {
		if (s->up.end == END_OPEN)
			s->up.end = END_LOCAL;
		s->down.eof = true;
	}
	while (fw->q_emit < fw->q_resp) {
		struct fwd_req *r = q_at(fw, fw->q_emit);
		if (s->down.sent < r->down_g)
			break;
		emit(s, r, false);
		fw->q_emit++;
	}
}

unsigned forward_finish(struct session *s)
{
	struct fwd *fw = s->fwd;
	if (!fw)
		return 0;
	for (; fw->q_emit < fw->q_tail; fw->q_emit++)
		emit(s, q_at(fw, fw->q_emit), true);
	return fw->emitted;
}

void forward_free(struct session *s)
{
	free(s->fwd);
	s->fwd = NULL;
}

/* Passes body bytes from in[0..len) into f through the decoder; returns bytes taken. */
static size_t body_bytes(struct http1_body *body, struct flow *f, const char *in, size_t len,
			 bool *bad)
{
	size_t taken = 0;
	while (taken < len && !body->done && f->len < sizeof f->buf) {
		const uint8_t *data;
		size_t data_len;
		int err;
		size_t room = sizeof f->buf - f->len;
		size_t feed = len - taken < room ? len - taken : room;
		long n = http1_body_feed(body, (const uint8_t *)in + taken, feed, &data, &data_len, &err);
		if (n < 0) {
			*bad = true;
			break;
		}
		if (n == 0)
			break;
		memcpy(f->buf + f->len, in + taken, (size_t)n);
		f->len += (size_t)n;
		taken += (size_t)n;
	}
	return taken;
}

/* The next request needs a new origin leg; possible once nothing is outstanding. */
static bool idle(const struct session *s)
{
	const struct fwd *fw = s->fwd;
	return fw->q_resp == fw->q_tail && s->down.off == s->down.len && !fw->rsp_in_body &&
	       fw->rsp_len == 0;
}

/* Handles one complete request head at the start of req_buf. 1 taken, 0 held (must
 * wait for the outstanding responses), -1 stop. */
static int take_request(struct session *s, struct flow *f, const struct http1_request *req, size_t r)
{
	struct fwd *fw = s->fwd;
	struct url u;
	if (!target_url(req, &u) || http1_token_eq(req->method, req->method_len, "CONNECT")) {
		if (!idle(s))
			return 0;
		session_refuse(s, 400, "Bad Request");
		return -1;
	}
	bool other = strcasecmp(u.host, s->host) != 0 || u.port != s->port;
	if (fw->origin_gone || (other && !http_upstream(s))) {
		if (!idle(s))
			return 0; /* answers to earlier requests first */
		snprintf(s->host, sizeof s->host, "%s", u.host);
		s->port = u.port;
		session_reconnect(s);
		return -1;
	}
	if (fw->q_tail - fw->q_emit == FWD_PIPELINE)
		return 0;
	char auth[700];
	const struct url *up = &s->w->cfg->upstream;
	bool with_auth = http_upstream(s) && up->has_userinfo &&
			 session_basic_auth(up->user, up->pass, auth, sizeof auth) > 0;
	long n = forward_rewrite_request(req, &u, http_upstream(s), with_auth ? auth : NULL,
					 f->buf + f->len, sizeof f->buf - f->len);
	if (n < 0) {
		if (f->len > 0)
			return 0; /* flush what is queued, then try with the whole buffer */
		if (!idle(s))
			return 0;
		session_refuse(s, 431, "Request Header Fields Too Large");
		return -1;
	}
	struct fwd_req *q = q_at(fw, fw->q_tail++);
	memset(q, 0, sizeof *q);
	q->index = fw->requests++;
	session_copy_probe_id(q->id, req);
	snprintf(q->method, sizeof q->method, "%.*s", (int)(req->method_len < 15 ? req->method_len : 15),
		 req->method);
	snprintf(q->target, sizeof q->target, strchr(u.host, ':') ? "[%s]:%u" : "%s:%u", u.host, u.port);
	snprintf(q->up_local, sizeof q->up_local, "%s", s->up.local);
	snprintf(q->up_peer, sizeof q->up_peer, "%s", s->up.peer);
	q->head = http1_token_eq(req->method, req->method_len, "HEAD");
	q->client_close = !req->keep_alive;
	q->up_received = r;
	q->up_a = fw->up_queued;
	snapshot(s, q->ops);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	q->t = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	q->start_us = loop_now(&s->w->loop);
	f->len += (size_t)n;
	fw->up_queued += (uint64_t)n;
	http1_body_init(&fw->req_body, req->framing, req->content_length);
	fw->req_in_body = req->framing != HTTP1_FRAMING_NONE && !fw->req_body.done;
	if (!fw->req_in_body) {
		q->up_b = fw->up_queued;
		q->up_complete = true;
	}
	memmove(fw->req_buf, fw->req_buf + r, fw->req_len - r);
	fw->req_len -= r;
	return 1;
}

/* Body bytes of the current request went into f: account for them. */
static void request_body_taken(struct session *s, size_t n)
{
	struct fwd *fw = s->fwd;
	struct fwd_req *q = q_at(fw, fw->q_tail - 1);
	q->up_received += n;
	fw->up_queued += n;
	if (fw->req_body.done) {
		fw->req_in_body = false;
		q->up_b = fw->up_queued;
		q->up_complete = true;
	}
}

int forward_fill(struct session *s, struct flow *f)
{
	struct fwd *fw = s->fwd;
	if (fw->raw) {
		long n = relay_read(&s->client, f->buf, sizeof f->buf, NULL);
		if (n == -EAGAIN)
			return 0;
		if (n == 0) {
			f->eof = true;
			return relay_propagate_eof(s, f) ? 1 : -1;
		}
		if (n < 0)
			return relay_leg_reset(s, &s->client);
		f->received += (uint64_t)n;
		f->recv_ops++;
		f->len = (size_t)n;
		f->off = 0;
		return 1;
	}
	for (int round = 0; round < 64; round++) {
		if (!fw->req_in_body && fw->req_len > 0) {
			struct http1_request req;
			int err = 0;
			int r = http1_parse_request(fw->req_buf, fw->req_len, HTTP1_MAX_HEAD, &req, &err);
			if (r == HTTP1_ERROR) {
				if (!idle(s)) {
					f->held = true; /* answer the earlier requests, then refuse */
					return f->len > 0;
				}
				session_refuse(s, err == HTTP1_E_TOO_LARGE ? 431 : 400,
					       err == HTTP1_E_TOO_LARGE ? "Request Header Fields Too Large"
									: "Bad Request");
				return -1;
			}
			if (r > 0) {
				int t = take_request(s, f, &req, (size_t)r);
				if (t < 0)
					return -1;
				if (t == 0) {
					f->held = f->len == 0;
					return f->len > 0;
				}
				continue;
			}
		}
		if (fw->req_in_body && fw->req_len > 0) {
			bool bad = false;
			size_t taken = body_bytes(&fw->req_body, f, fw->req_buf, fw->req_len, &bad);
			if (bad) {
				session_close(s, false, false); /* framing broken mid-body: nothing to say */
				return -1;
			}
			memmove(fw->req_buf, fw->req_buf + taken, fw->req_len - taken);
			fw->req_len -= taken;
			request_body_taken(s, taken);
			if (f->len == sizeof f->buf)
				return 1;
			continue;
		}
		if (f->len > 0)
			return 1; /* relay what is ready before reading more */
		/* Read: head bytes into req_buf; body bytes through the decoder into the flow,
		 * and whatever follows the body (the next head) into req_buf. */
		char body[RELAY_BUF];
		char *dst = fw->req_in_body ? body : fw->req_buf + fw->req_len;
		size_t room = fw->req_in_body ? sizeof body : sizeof fw->req_buf - fw->req_len;
		if (room == 0) {
			if (!idle(s)) {
				f->held = true;
				return 0;
			}
			session_refuse(s, 431, "Request Header Fields Too Large");
			return -1;
		}
		long n = relay_read(&s->client, dst, room, NULL);
		if (n == -EAGAIN)
			return 0;
		if (n == 0) {
			f->eof = true;
			if (fw->origin_gone || s->up.fd < 0) {
				/* Nothing to pass the FIN to: the client is done with us. */
				if (!s->first_close)
					s->first_close = "client";
				s->client.end = END_FIN;
				if (idle(s)) {
					session_close(s, false, false);
					return -1;
				}
				f->done = true;
				return 1;
			}
			if (idle(s)) {
				/* Every answer is out: end the client leg too. */
				if (s->up.end == END_OPEN)
					s->up.end = END_LOCAL;
				s->down.eof = true;
			}
			return relay_propagate_eof(s, f) ? 1 : -1;
		}
		if (n < 0)
			return relay_leg_reset(s, &s->client);
		f->received += (uint64_t)n;
		f->recv_ops++;
		loop_timer_start(&s->w->loop, &s->timer, (uint64_t)(s->w->cfg->idle_timeout_s * 1e6));
		if (!fw->req_in_body) {
			fw->req_len += (size_t)n;
			continue;
		}
		bool bad = false;
		size_t taken = body_bytes(&fw->req_body, f, body, (size_t)n, &bad);
		if (bad) {
			session_close(s, false, false);
			return -1;
		}
		request_body_taken(s, taken);
		memcpy(fw->req_buf, body + taken, (size_t)n - taken); /* req_len was 0 */
		fw->req_len = (size_t)n - taken;
		return 1;
	}
	return 1;
}

/* ---- responses ---- */

/* The origin leg will carry no more requests: close it now (a readable EOF left
 * watched would spin the loop); the next request opens a new one. */
static void retire_origin(struct session *s, enum leg_end end)
{
	struct fwd *fw = s->fwd;
	fw->origin_gone = true;
	if (s->up.end == END_OPEN)
		s->up.end = end;
	relay_close_leg(s, &s->up, false);
	s->upf.held = false;
}

static void response_done(struct session *s, struct flow *f)
{
	struct fwd *fw = s->fwd;
	struct fwd_req *q = q_at(fw, fw->q_resp++);
	q->down_d = fw->down_consumed;
	q->down_g = fw->down_queued;
	q->down_complete = true;
	fw->rsp_in_body = false;
	if (fw->rsp_body.framing == HTTP1_FRAMING_CHUNKED && inject_last_chunk(s, f)) {
		/* The last chunk never reaches the client; then the connection ends. */
		fw->down_queued -= 5;
		q->down_g -= 5;
		fw->rsp_close_client = true;
	}
	if (fw->rsp_close_client) {
		/* Close-delimited, or the client asked: the client connection ends here. */
		f->eof = true;
	} else if (fw->rsp_retire_origin && !fw->raw) {
		retire_origin(s, END_LOCAL);
	}
	/* The client's next request may have waited for this answer. */
	s->upf.held = false;
}

/* Takes body bytes of the current response from in[0..len) into f. Returns bytes taken,
 * or -1 when the framing is broken (the session was closed). */
static long response_body(struct session *s, struct flow *f, const char *in, size_t len)
{
	struct fwd *fw = s->fwd;
	bool bad = false;
	size_t before = f->len;
	size_t taken = body_bytes(&fw->rsp_body, f, in, len, &bad);
	if (bad) {
		/* Part of the response already reached the client: all we can do is end it. */
		if (!s->first_close)
			s->first_close = "upstream";
		session_close(s, false, false);
		return -1;
	}
	fw->down_consumed += taken;
	fw->down_queued += f->len - before;
	if (fw->rsp_body.done)
		response_done(s, f);
	return (long)taken;
}

/* Parses and rewrites a response head at the start of rsp_buf. 1 taken, 0 need more,
 * -1 stop. */
static int take_response(struct session *s, struct flow *f)
{
	struct fwd *fw = s->fwd;
	if (fw->q_resp == fw->q_tail) {
		/* Bytes nobody asked for: a correct proxy does not pass them on. */
		if (!s->first_close)
			s->first_close = "upstream";
		session_close(s, false, false);
		return -1;
	}
	struct fwd_req *q = q_at(fw, fw->q_resp);
	struct http1_response resp;
	int err = 0;
	int r = http1_parse_response(fw->rsp_buf, fw->rsp_len, HTTP1_MAX_HEAD,
				     q->head ? HTTP1_REQ_HEAD : 0, &resp, &err);
	if (r == HTTP1_NEED_MORE)
		return 0;
	if (r < 0) {
		/* Malformed or conflicting framing (CL and TE, ...): 502 (RFC 9112 §6.3). */
		q->status = 502;
		if (!q->down_started) {
			q->down_started = true;
			q->down_c = fw->down_consumed;
			q->down_e = fw->down_queued;
		}
		session_refuse(s, 502, "Bad Gateway");
		return -1;
	}
	if (!q->down_started) {
		q->down_started = true;
		q->down_c = fw->down_consumed;
		q->down_e = fw->down_queued;
	}
	bool interim = resp.status < 200 && resp.status != 101;
	bool close = !interim && (resp.framing == HTTP1_FRAMING_CLOSE || q->client_close);
	long n = forward_rewrite_response(&resp, close, f->buf + f->len, sizeof f->buf - f->len);
	if (n < 0) {
		if (f->len > 0)
			return 0;
		session_refuse(s, 502, "Bad Gateway");
		return -1;
	}
	f->len += (size_t)n;
	fw->down_queued += (uint64_t)n;
	fw->down_consumed += (uint64_t)r;
	memmove(fw->rsp_buf, fw->rsp_buf + r, fw->rsp_len - (size_t)r);
	fw->rsp_len -= (size_t)r;
	if (interim)
		return 1; /* 100 Continue and friends: the final answer follows */
	q->status = resp.status;
	if (resp.status == 101) {
		/* Upgraded: from here on both directions are a plain tunnel. */
		fw->raw = true;
		response_done(s, f);
		return 1;
	}
	fw->rsp_close_client = close;
	fw->rsp_retire_origin = !resp.keep_alive;
	http1_body_init(&fw->rsp_body, resp.framing, resp.content_length);
	fw->rsp_in_body = true;
	if (fw->rsp_body.done)
		response_done(s, f);
	return 1;
}

/* The origin closed its leg. */
static int origin_eof(struct session *s, struct flow *f)
{
	struct fwd *fw = s->fwd;
	if (fw->raw) {
		f->eof = true;
		return relay_propagate_eof(s, f) ? 1 : -1;
	}
	if (fw->rsp_in_body && http1_body_eof(&fw->rsp_body) == 0) {
		response_done(s, f); /* a close-delimited body ends here */
		f->eof = true;
		return relay_propagate_eof(s, f) ? 1 : -1;
	}
	if (!fw->rsp_in_body && fw->rsp_len == 0 && fw->q_resp == fw->q_tail && !s->upf.eof) {
		/* An idle keep-alive connection closed by the origin: the client's connection
		 * lives on, the next request opens a new origin leg. */
		retire_origin(s, END_FIN);
		return 1;
	}
	/* A response cut short: the client sees the same (FIN after what arrived). */
	f->eof = true;
	return relay_propagate_eof(s, f) ? 1 : -1;
}

int forward_fill_down(struct session *s, struct flow *f)
{
	struct fwd *fw = s->fwd;
	if (s->up.fd < 0 || fw->origin_gone)
		return 0;
	for (int round = 0; round < 64; round++) {
		if ((fw->raw || fw->rsp_in_body) && fw->rsp_len > 0) {
			size_t take = fw->rsp_len;
			if (fw->raw) {
				if (take > sizeof f->buf - f->len)
					take = sizeof f->buf - f->len;
				memcpy(f->buf + f->len, fw->rsp_buf, take);
				f->len += take;
			} else {
				long t = response_body(s, f, fw->rsp_buf, fw->rsp_len);
				if (t < 0)
					return -1;
				take = (size_t)t;
			}
			memmove(fw->rsp_buf, fw->rsp_buf + take, fw->rsp_len - take);
			fw->rsp_len -= take;
			if (f->len == sizeof f->buf || f->eof)
				return 1;
			continue;
		}
		if (!fw->rsp_in_body && fw->rsp_len > 0) {
			int t = take_response(s, f);
			if (t < 0)
				return -1;
			if (t > 0)
				continue;
			if (fw->rsp_len == sizeof fw->rsp_buf) {
				session_refuse(s, 502, "Bad Gateway"); /* an endless response head */
				return -1;
			}
		}
		if (f->len > 0 || f->eof)
			return 1;
		char body[RELAY_BUF];
		bool direct = fw->rsp_in_body || fw->raw;
		char *dst = direct ? body : fw->rsp_buf + fw->rsp_len;
		size_t room = direct ? sizeof body : sizeof fw->rsp_buf - fw->rsp_len;
		long n = relay_read(&s->up, dst, room, NULL);
		if (n == -EAGAIN)
			return 0;
		if (n == 0)
			return origin_eof(s, f);
		if (n < 0)
			return relay_leg_reset(s, &s->up); /* an RST is passed on as an RST */
		f->received += (uint64_t)n;
		f->recv_ops++;
		loop_timer_start(&s->w->loop, &s->timer, (uint64_t)(s->w->cfg->idle_timeout_s * 1e6));
		inject_read(s, f, dst, (size_t)n);
		if (!direct) {
			fw->rsp_len += (size_t)n;
			continue;
		}
		if (fw->raw) {
			memcpy(f->buf + f->len, body, (size_t)n); /* f was empty */
			f->len += (size_t)n;
			return 1;
		}
		long t = response_body(s, f, body, (size_t)n);
		if (t < 0)
			return -1;
		/* What follows the body is the next response's head. */
		memcpy(fw->rsp_buf, body + t, (size_t)n - (size_t)t);
		fw->rsp_len = (size_t)n - (size_t)t;
		if (s->state != SS_RELAY)
			return -1;
		return 1;
	}
	return f->len > 0;
}
