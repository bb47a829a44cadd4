/* forward — see forward.h. */
#include "proxy-under-test/forward.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "proxy-under-test/auth.h"
#include "proxy-under-test/fwdledger.h"
#include "proxy-under-test/inject.h"
#include "proxy-under-test/relay.h"
#include "proxy-under-test/reverse.h"
#include "proxy-under-test/rewrite.h"
#include "proxy-under-test/server.h"
#include "proxy-under-test/session.h"

/* ---- the session side ---- */

/* The absolute-form target of req as a URL; false when it is not http://. In reverse
 * mode: the origin's URL with req's path. */
static bool target_url(const struct session *s, const struct http1_request *req, struct url *u)
{
	char target[URL_MAX_PATH + URL_MAX_HOST + 16];
	const char *why;
	if (s->w->cfg->reverse.on)
		return reverse_target(&s->w->cfg->reverse, req, u);
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
	if (!target_url(s, req, &u))
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
	/* Reverse mode: the origin leg opens with the first request that goes there (one
	 * the proxy answers itself never opens it); session.c starts the relay without it. */
	fw->origin_gone = s->w->cfg->reverse.on;
	return 0;
}

/* Re-arms the session's timer: the idle timeout, or sooner the handshake timeout of
 * the request head under way (a later head on a kept-alive connection is bounded as
 * the first one was, however slowly its bytes drip in). */
static void arm(struct session *s)
{
	const struct proxy_config *cfg = s->w->cfg;
	uint64_t now = loop_now(&s->w->loop);
	uint64_t due = now + (uint64_t)(cfg->idle_timeout_s * 1e6);
	uint64_t t0 = s->fwd->head_t0_us;
	if (t0) {
		uint64_t head_due = t0 + (uint64_t)(cfg->handshake_timeout_s * 1e6);
		if (head_due < due)
			due = head_due;
	}
	loop_timer_start_at(&s->w->loop, &s->timer, due);
}

/* A head starts or ends in req_buf: its clock starts with its first byte, and so does
 * what its line counts of the faults' acts (a byte flipped as it was read is its). The
 * first head's start is the connection's: zeros. */
static void head_clock(struct session *s)
{
	struct fwd *fw = s->fwd;
	if (fw->req_in_body || fw->req_len == 0) {
		fw->head_t0_us = 0;
	} else if (!fw->head_t0_us) {
		fw->head_t0_us = loop_now(&s->w->loop);
		if (fw->requests > 0)
			inject_snapshot(s, fw->head_acts);
	}
}

void forward_flushed(struct session *s, struct flow *f)
{
	struct fwd *fw = s->fwd;
	if (!fw)
		return;
	if (f == &s->down) {
		s->upf.held = false; /* a held request may go now */
		/* The client half-closed and has every answer: nothing more can happen here. */
		if (s->upf.eof && fw->q_resp == fw->q_tail && !fw->rsp_in_body && !s->down.eof) {
			if (s->up.end == END_OPEN)
				s->up.end = END_LOCAL;
			s->down.eof = true;
		}
	}
	fwdledger_lines(s);
}

void forward_free(struct session *s)
{
	reverse_release(s);
	free(s->fwd);
	s->fwd = NULL;
}

/* Passes body bytes from in[0..len) into f through the decoder; returns bytes taken.
 * *bad: the framing broke at in[taken]. */
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

/* Starts the record of request req (its head r bytes, rewritten to n) at the tail. */
static struct fwd_req *new_request(struct session *s, const struct http1_request *req,
				   const struct url *u, size_t r, long n)
{
	struct fwd *fw = s->fwd;
	struct fwd_req *q = fwd_at(fw, fw->q_tail++);
	memset(q, 0, sizeof *q);
	q->index = fw->requests++;
	session_copy_probe_id(q->id, req);
	snprintf(q->method, sizeof q->method, "%.*s", (int)(req->method_len < 15 ? req->method_len : 15),
		 req->method);
	snprintf(q->target, sizeof q->target, strchr(u->host, ':') ? "[%s]:%u" : "%s:%u", u->host, u->port);
	snprintf(q->up_local, sizeof q->up_local, "%s", s->up.local);
	snprintf(q->up_peer, sizeof q->up_peer, "%s", s->up.peer);
	q->head = http1_token_eq(req->method, req->method_len, "HEAD");
	q->client_close = !req->keep_alive;
	q->up_in = q->up_head_in = r;
	q->up_head_out = (uint64_t)n;
	q->up_a = fw->up_queued;
	q->gate = fw->gate; /* the decision was this head's */
	fw->gate = REVERSE_NONE;
	fwdledger_start(s, q);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	q->t = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	q->start_us = loop_now(&s->w->loop);
	return q;
}

/* Reverse mode: the proxy answers the head at the start of req_buf itself (fw->gate:
 * 429, 503, /metrics, 405) once the answers before it are out; the head never reaches
 * the origin, so its bytes count as dropped. A body the proxy does not read cannot be
 * skipped: after a request with one (or one asking for close) the connection ends with
 * the answer, and the body bytes already read are the request's, dropped too.
 * Returns 1 taken, 0 held. */
static int own_answer(struct session *s, const struct http1_request *req, const struct url *u,
		      size_t r)
{
	struct fwd *fw = s->fwd;
	if (!idle(s))
		return 0;
	bool body = req->framing == HTTP1_FRAMING_CHUNKED ||
		    (req->framing == HTTP1_FRAMING_LENGTH && req->content_length > 0);
	bool close = !req->keep_alive || body;
	char out[REVERSE_ANSWER_MAX];
	int status;
	long n = reverse_answer(s, fw->gate, fw->gate_arg, http1_token_eq(req->method,
			        req->method_len, "HEAD"), close, out, sizeof out, &status);
	if (n < 0)
		n = 0; /* cannot happen: every answer fits REVERSE_ANSWER_MAX */
	struct fwd_req *q = new_request(s, req, u, r, 0);
	q->up_head_in = 0; /* never relayed: received and dropped */
	q->up_b = fw->up_queued;
	q->up_complete = true;
	q->up_local[0] = q->up_peer[0] = '\0';
	q->client_close = close;
	q->status = status;
	q->down_g = fw->down_queued;
	q->down_complete = true;
	q->own_a = fw->own_queued;
	q->own_n = (uint64_t)n;
	fw->own_queued += (uint64_t)n;
	fw->q_resp++;
	relay_queue_client(s, out, (size_t)n);
	memmove(fw->req_buf, fw->req_buf + r, fw->req_len - r);
	fw->req_len -= r;
	if (close) {
		q->up_in += fw->req_len;
		fw->req_len = 0;
		s->close_after_reply = true; /* forward_fill reads no more */
	}
	head_clock(s);
	return 1;
}

/* Handles one complete request head at the start of req_buf. 1 taken, 0 held (must
 * wait for the outstanding responses), -1 stop. */
static int take_request(struct session *s, struct flow *f, const struct http1_request *req, size_t r)
{
	struct fwd *fw = s->fwd;
	struct url u;
	if (!target_url(s, req, &u) || http1_token_eq(req->method, req->method_len, "CONNECT")) {
		if (!idle(s))
			return 0;
		session_refuse(s, 400, "Bad Request");
		return -1;
	}
	if (s->w->cfg->reverse.on && !fw->gate)
		fw->gate = (uint8_t)reverse_decide(s, req, &fw->gate_arg);
	if (fw->gate && !reverse_gate_forwards(fw->gate))
		return own_answer(s, req, &u, r);
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
			 auth_basic(up->user, up->pass, auth, sizeof auth) > 0;
	long n = rewrite_request(req, &u, http_upstream(s), with_auth ? auth : NULL,
				 f->buf + f->len, sizeof f->buf - f->len);
	if (n < 0) {
		if (f->len > 0)
			return 0; /* flush what is queued, then try with the whole buffer */
		if (!idle(s))
			return 0;
		session_refuse(s, 431, "Request Header Fields Too Large");
		return -1;
	}
	struct fwd_req *q = new_request(s, req, &u, r, n);
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
	head_clock(s);
	return 1;
}

/* Body bytes of the current request went into f (n of them, from before flow length
 * f_before): account for them; at the body's end drop-chunk-end (dir=up) may take its
 * last chunk, and then the origin gets FIN. */
static void request_body_taken(struct session *s, struct flow *f, size_t n)
{
	struct fwd *fw = s->fwd;
	struct fwd_req *q = fwd_at(fw, fw->q_tail - 1);
	q->up_in += n;
	fw->up_queued += n;
	if (!fw->req_body.done)
		return;
	fw->req_in_body = false;
	if (fw->req_body.framing == HTTP1_FRAMING_CHUNKED && inject_last_chunk(s, f)) {
		fw->up_queued -= 5;
		f->eof = true; /* the origin sees the body end without its last chunk */
	}
	q->up_b = fw->up_queued;
	q->up_complete = true;
	head_clock(s);
}

/* The current request's body broke its framing after its head went to the origin. The
 * origin leg is reset (its request will never be whole); the client gets 400 when this
 * request is the only one awaiting an answer and none of its answer was read, else the
 * connection ends. Returns -1 (stop). */
static int request_body_bad(struct session *s, size_t unread)
{
	struct fwd *fw = s->fwd;
	struct fwd_req *q = fwd_at(fw, fw->q_tail - 1);
	q->up_in += unread; /* the malformed rest: received, never relayed */
	fw->req_len = 0;
	fw->req_in_body = false;
	q->up_complete = true;
	q->up_b = fw->up_queued;
	if (!s->first_close)
		s->first_close = "proxy->upstream";
	leg_close(s, &s->up, true);
	fw->origin_gone = true;
	if (fw->q_resp + 1 == fw->q_tail && !q->down_started) {
		q->status = 400;
		session_refuse(s, 400, "Bad Request");
	} else {
		session_close(s, false, false);
	}
	return -1;
}

/* The client half-closed. Returns as forward_fill(). */
static int client_eof(struct session *s, struct flow *f)
{
	struct fwd *fw = s->fwd;
	f->eof = true;
	if (fw->origin_gone || s->up.fd < 0) {
		/* Nothing to pass the FIN to: the client is done with us. */
		if (!s->first_close)
			s->first_close = "client";
		if (s->client.end == END_OPEN) /* reset-as-fin has recorded a reset */
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

/* After 101 Switching Protocols: client bytes go through as they are, the upgraded
 * request's. Returns as forward_fill(). */
static int raw_fill(struct session *s, struct flow *f)
{
	struct fwd *fw = s->fwd;
	long n = relay_fill_read(s, f, f->buf, sizeof f->buf, NULL);
	if (n <= 0)
		return n == RELAY_ENDED ? 1 : (int)n;
	arm(s);
	f->len = (size_t)n;
	f->off = 0;
	fwd_at(fw, fw->q_tail - 1)->up_in += (uint64_t)n;
	fw->up_queued += (uint64_t)n;
	return 1;
}

/* The next head in req_buf: parses and takes it. 1 go on, 0 stop here (*ret is what
 * forward_fill returns). */
static int next_head(struct session *s, struct flow *f, int *ret)
{
	struct fwd *fw = s->fwd;
	struct http1_request req;
	int err = 0;
	int r = http1_parse_request(fw->req_buf, fw->req_len, HTTP1_MAX_HEAD, &req, &err);
	if (r == HTTP1_NEED_MORE)
		return 1;
	if (r == HTTP1_ERROR) {
		if (!idle(s)) {
			f->held = true; /* answer the earlier requests, then refuse */
			*ret = f->len > 0;
			return 0;
		}
		session_refuse(s, err == HTTP1_E_TOO_LARGE ? 431 : 400,
			       err == HTTP1_E_TOO_LARGE ? "Request Header Fields Too Large" : "Bad Request");
		*ret = -1;
		return 0;
	}
	int t = take_request(s, f, &req, (size_t)r);
	if (t < 0) {
		*ret = -1;
		return 0;
	}
	if (t == 0) {
		f->held = f->len == 0;
		*ret = f->len > 0;
		return 0;
	}
	return 1;
}

int forward_fill(struct session *s, struct flow *f)
{
	struct fwd *fw = s->fwd;
	if (fw->raw)
		return raw_fill(s, f);
	for (int round = 0; round < 64; round++) {
		int ret = 1;
		if (s->close_after_reply)
			return 1; /* an answer that ends the connection is queued: nothing more */
		if (!fw->req_in_body && fw->req_len > 0) {
			size_t before = fw->req_len;
			if (!next_head(s, f, &ret))
				return ret;
			if (fw->req_len != before)
				continue; /* a head was taken */
		}
		if (fw->req_in_body && fw->req_len > 0) {
			bool bad = false;
			size_t taken = body_bytes(&fw->req_body, f, fw->req_buf, fw->req_len, &bad);
			memmove(fw->req_buf, fw->req_buf + taken, fw->req_len - taken);
			fw->req_len -= taken;
			request_body_taken(s, f, taken);
			if (bad)
				return request_body_bad(s, fw->req_len);
			if (f->len == sizeof f->buf || f->eof)
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
		long n = leg_read(&s->client, dst, room, NULL);
		if (n == -EAGAIN)
			return 0;
		if (n == 0)
			return client_eof(s, f);
		if (n < 0)
			return inject_reset(s, f) ? client_eof(s, f) : relay_leg_reset(s, &s->client);
		f->received += (uint64_t)n;
		f->recv_ops++;
		inject_read(s, f, dst, (size_t)n);
		if (!fw->req_in_body) {
			fw->req_len += (size_t)n;
			head_clock(s);
			arm(s);
			continue;
		}
		arm(s);
		bool bad = false;
		size_t taken = body_bytes(&fw->req_body, f, body, (size_t)n, &bad);
		request_body_taken(s, f, taken);
		if (bad)
			return request_body_bad(s, (size_t)n - taken);
		memcpy(fw->req_buf, body + taken, (size_t)n - taken); /* req_len was 0 */
		fw->req_len = (size_t)n - taken;
		head_clock(s);
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
	leg_close(s, &s->up, false);
	s->upf.held = false;
}

static void response_done(struct session *s, struct flow *f)
{
	struct fwd *fw = s->fwd;
	struct fwd_req *q = fwd_at(fw, fw->q_resp++);
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
	} else if (fw->rsp_retire_origin) {
		retire_origin(s, END_LOCAL);
	}
	/* The client's next request may have waited for this answer. */
	s->upf.held = false;
}

/* The current response's body broke its framing at in[taken] of a read of len bytes.
 * While no byte of the response has reached the client, the client gets 502 instead
 * (what is queued of it is withdrawn); after, all the proxy can do is end the
 * connection. Returns -1 (stop). */
static long response_body_bad(struct session *s, struct flow *f, size_t unread)
{
	struct fwd *fw = s->fwd;
	struct fwd_req *q = fwd_at(fw, fw->q_resp);
	q->down_extra += unread; /* the malformed rest: received, never relayed */
	if (!s->first_close)
		s->first_close = "upstream";
	if (s->down.sent > q->down_e) {
		session_close(s, false, false);
		return -1;
	}
	/* What is queued past down_e is this response's: take it back. */
	f->len = f->off + (size_t)(q->down_e - s->down.sent);
	fw->down_queued = q->down_e;
	fw->rsp_in_body = false;
	q->status = 502;
	session_refuse(s, 502, "Bad Gateway");
	return -1;
}

/* Takes body bytes of the current response from in[0..len) into f. Returns bytes taken,
 * or -1 when the framing is broken (the session was closed or refused). */
static long response_body(struct session *s, struct flow *f, const char *in, size_t len)
{
	struct fwd *fw = s->fwd;
	bool bad = false;
	size_t before = f->len;
	size_t taken = body_bytes(&fw->rsp_body, f, in, len, &bad);
	fw->down_consumed += taken;
	fw->down_queued += f->len - before;
	if (bad) {
		if (in == fw->rsp_buf)
			fw->rsp_len = 0; /* every byte of it is accounted for right here */
		return response_body_bad(s, f, len - taken);
	}
	if (fw->rsp_body.done)
		response_done(s, f);
	return (long)taken;
}

/* Origin bytes with no request waiting for them: a correct proxy never passes them on.
 * They count as dropped (the last answered request's, while its line is not out), and
 * the client connection ends once what is queued for it is delivered. */
static void stray_bytes(struct session *s)
{
	struct fwd *fw = s->fwd;
	if (fw->q_resp > fw->q_emit)
		fwd_at(fw, fw->q_resp - 1)->down_extra += fw->rsp_len;
	else
		fw->orphan_down += fw->rsp_len;
	fw->rsp_len = 0;
	if (!s->first_close)
		s->first_close = "upstream";
	if (s->up.end == END_OPEN)
		s->up.end = END_LOCAL;
	leg_close(s, &s->up, false);
	fw->origin_gone = true;
	s->close_after_reply = true; /* deliver, then close */
}

/* Parses and rewrites a response head at the start of rsp_buf. 1 taken, 0 need more,
 * 2 nothing more is taken from the origin (relay what is queued, then the session
 * closes), -1 stop. */
static int take_response(struct session *s, struct flow *f)
{
	struct fwd *fw = s->fwd;
	if (fw->q_resp == fw->q_tail) {
		stray_bytes(s);
		return 2;
	}
	struct fwd_req *q = fwd_at(fw, fw->q_resp);
	struct http1_response resp;
	int err = 0;
	int r = http1_parse_response(fw->rsp_buf, fw->rsp_len, HTTP1_MAX_HEAD,
				     q->head ? HTTP1_REQ_HEAD : 0, &resp, &err);
	if (r == HTTP1_NEED_MORE)
		return 0;
	if (!q->down_started) {
		q->down_started = true;
		q->down_c = fw->down_consumed;
		q->down_e = fw->down_queued;
	}
	if (r < 0) {
		/* Malformed or conflicting framing (CL and TE, ...): 502 (RFC 9112 §6.3). The
		 * head stays in rsp_buf: forward_finish() counts it as this request's. */
		q->status = 502;
		session_refuse(s, 502, "Bad Gateway");
		return -1;
	}
	bool interim = resp.status < 200 && resp.status != 101;
	bool close = !interim && (resp.framing == HTTP1_FRAMING_CLOSE || q->client_close);
	long n = rewrite_response(&resp, close, f->buf + f->len, sizeof f->buf - f->len);
	if (n < 0) {
		if (f->len > 0)
			return 0;
		q->status = 502;
		session_refuse(s, 502, "Bad Gateway");
		return -1;
	}
	/* close-mid-reply: only part of the proxy's answer (this head) goes out. */
	size_t keep = inject_response_head(s, (size_t)n);
	f->len += keep;
	fw->down_queued += keep;
	fw->down_consumed += (uint64_t)r;
	q->down_heads_in += (uint64_t)r;
	q->down_heads_out += (uint64_t)n;
	memmove(fw->rsp_buf, fw->rsp_buf + r, fw->rsp_len - (size_t)r);
	fw->rsp_len -= (size_t)r;
	if (keep < (size_t)n)
		return 2; /* the session closes once the part is sent */
	if (interim)
		return 1; /* 100 Continue and friends: the final answer follows */
	q->status = resp.status;
	if (resp.status == 101) {
		/* Upgraded: from here on both directions are a plain tunnel, and everything
		 * they carry is this request's (its line is written at the end). */
		fw->raw = true;
		q->up_complete = false;
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

/* Moves origin bytes waiting in rsp_buf (body, or raw after 101) into f. Returns 1 go
 * on, 0 f is full or ended (return 1), -1 stop. */
static int buffered_down(struct session *s, struct flow *f)
{
	struct fwd *fw = s->fwd;
	size_t take = fw->rsp_len;
	if (fw->raw) {
		if (take > sizeof f->buf - f->len)
			take = sizeof f->buf - f->len;
		memcpy(f->buf + f->len, fw->rsp_buf, take);
		f->len += take;
		fw->down_consumed += take;
		fw->down_queued += take;
	} else {
		long t = response_body(s, f, fw->rsp_buf, fw->rsp_len);
		if (t < 0)
			return -1;
		take = (size_t)t;
	}
	memmove(fw->rsp_buf, fw->rsp_buf + take, fw->rsp_len - take);
	fw->rsp_len -= take;
	return f->len == sizeof f->buf || f->eof ? 0 : 1;
}

int forward_fill_down(struct session *s, struct flow *f)
{
	struct fwd *fw = s->fwd;
	if (s->up.fd < 0 || fw->origin_gone)
		return 0;
	for (int round = 0; round < 64; round++) {
		if ((fw->raw || fw->rsp_in_body) && fw->rsp_len > 0) {
			int r = buffered_down(s, f);
			if (r <= 0)
				return r < 0 ? -1 : 1;
			continue;
		}
		if (!fw->rsp_in_body && fw->rsp_len > 0) {
			int t = take_response(s, f);
			if (t < 0)
				return -1;
			if (t == 2)
				return 1;
			if (t > 0)
				continue;
			if (fw->rsp_len == sizeof fw->rsp_buf) {
				fwd_at(fw, fw->q_resp)->status = 502;
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
		long n = leg_read(&s->up, dst, room, NULL);
		if (n == -EAGAIN)
			return 0;
		if (n == 0)
			return origin_eof(s, f);
		if (n < 0) /* an RST is passed on as an RST, unless reset-as-fin */
			return inject_reset(s, f) ? origin_eof(s, f) : relay_leg_reset(s, &s->up);
		f->received += (uint64_t)n;
		f->recv_ops++;
		arm(s);
		inject_read(s, f, dst, (size_t)n);
		if (!direct) {
			fw->rsp_len += (size_t)n;
			continue;
		}
		if (fw->raw) {
			memcpy(f->buf + f->len, body, (size_t)n); /* f was empty */
			f->len += (size_t)n;
			fw->down_consumed += (uint64_t)n;
			fw->down_queued += (uint64_t)n;
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
