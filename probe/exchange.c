/* exchange — one HTTP/1.1 request and its response on a probe connection: the request
 * head (and a generated upload body), then the response head and body through
 * lib/http1, the payload handed to verify.h. Bytes go through the top filter of the
 * link's stack: whether TLS, a tunnel or a bare socket carries them is not asked here. */
#include "probe/exchange.h"

#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "lib/payload.h"
#include "probe/conn.h"
#include "probe/verify.h"
#include "probe/worker.h"

static void exchange_send(struct conn *c);
static void exchange_head(struct conn *c);
static void exchange_body(struct conn *c);

/* ---- the request ---- */

static void exchange_begin(struct conn *c)
{
	const struct probe_config *cfg = c->w->cfg;
	const struct probe_target *t = conn_target(c);
	size_t id_len = strlen(c->rec.id);
	size_t need = t->head_len + sizeof "X-Probe-Id: \r\n\r\n" - 1 + id_len;
	if (need > sizeof c->out) {
		conn_finish(c, TP_PROTOCOL_ERROR, TP_PHASE_REQUEST, "request head longer than %zu bytes",
			    sizeof c->out);
		return;
	}
	char *p = c->out;
	memcpy(p, t->head, t->head_len);
	p += t->head_len;
	memcpy(p, "X-Probe-Id: ", 12);
	p += 12;
	memcpy(p, c->rec.id, id_len);
	p += id_len;
	memcpy(p, "\r\n\r\n", 4);
	c->out_len = need;
	c->out_off = 0;
	c->upload_left = cfg->upload_bytes;
	c->upload_off = 0;
	c->in_len = 0;
	c->state = CONN_SENDING;
	conn_arm(c, cfg->timeout_s);
	exchange_send(c);
}

/* A failure classified by a filter (TLS alert, TLS error) in phase. */
static void fail_filter(struct conn *c, enum tp_phase phase)
{
	const struct pf_error *e = &c->link->err;
	conn_finish(c, e->cls, phase, "%s", e->detail);
}

/* A write failed or the connection closed while sending or before any response byte. */
static void fail_early(struct conn *c, long err, enum tp_phase phase)
{
	if (conn_retry_if_stale(c))
		return;
	const struct link *l = c->link;
	bool reset = err == -ECONNRESET;
	if (err == PF_ERR) {
		fail_filter(c, phase);
	} else if (link_tunneled(l) && l->requests_done == 0) {
		conn_finish(c, TP_TUNNEL_CLOSED_EARLY, phase, "tunnel %s before the first response byte",
			    reset ? "reset" : "closed");
	} else if (reset) {
		conn_finish(c, TP_RESET, phase, "connection reset before the first response byte");
	} else if (err == 0 || err == -EPIPE) {
		conn_finish(c, TP_INCOMPLETE_READ, phase, "empty reply: connection closed before any response byte");
	} else {
		conn_finish(c, TP_RESET, phase, "%s", strerror((int)-err));
	}
}

static void exchange_send(struct conn *c)
{
	struct pf *top = c->link->top;
	for (;;) {
		const void *buf;
		size_t len;
		if (c->out_off < c->out_len) {
			buf = c->out + c->out_off;
			len = c->out_len - c->out_off;
		} else if (c->upload_left) {
			len = c->upload_left < sizeof c->w->scratch ? (size_t)c->upload_left
								    : sizeof c->w->scratch;
			payload_fill(conn_target(c)->upload_seed, c->upload_off, c->w->scratch, len);
			buf = c->w->scratch;
		} else {
			break;
		}
		long n = pf_write(top, buf, len);
		if (n == -EAGAIN) {
			link_watch(c->link, pf_want(top, LOOP_WRITE));
			return;
		}
		if (n <= 0) {
			fail_early(c, n == 0 ? -EPIPE : n, TP_PHASE_REQUEST);
			return;
		}
		c->rec.bytes_sent += (uint64_t)n;
		if (c->out_off < c->out_len) {
			c->out_off += (size_t)n;
		} else {
			c->upload_left -= (uint64_t)n;
			c->upload_off += (uint64_t)n;
		}
	}
	/* --half-close: our FIN says "request complete" the way some clients do; a proxy
	 * must keep relaying the response. TLS has no half-close: its filter declines. */
	if (c->w->cfg->half_close)
		pf_shutdown(top);
	c->state = CONN_HEAD;
	conn_arm(c, c->w->cfg->timeout_s);
	link_watch(c->link, LOOP_READ);
}

/* ---- the response ---- */

/* Feeds body bytes to the decoder. 0: more to come; 1 or -1: the request ended. */
static int feed_body(struct conn *c, const uint8_t *data, size_t len)
{
	while (len > 0 && !c->body.done) {
		const uint8_t *span = NULL;
		size_t span_len = 0;
		int err = 0;
		long used = http1_body_feed(&c->body, data, len, &span, &span_len, &err);
		if (used < 0) {
			conn_finish(c, TP_PROTOCOL_ERROR, TP_PHASE_BODY, "%s after %" PRIu64 " body bytes",
				    http1_strerror(err), c->rec.bytes_received);
			return -1;
		}
		if (span_len && verify_body(c, span, span_len) < 0)
			return -1;
		if (used == 0 && span_len == 0)
			break;
		data += used;
		len -= (size_t)used;
	}
	if (c->body.done) {
		if (len > 0)
			c->resp_keepalive = false; /* bytes nobody asked for: never reuse */
		return verify_end(c);
	}
	return 0;
}

/* EOF or an error while reading the response. */
static void fail_read(struct conn *c, long err)
{
	struct probe_record *r = &c->rec;
	enum tp_phase phase = c->state == CONN_HEAD ? TP_PHASE_HEADERS : TP_PHASE_BODY;
	if (c->state == CONN_HEAD && r->wire_received == 0) {
		fail_early(c, err, TP_PHASE_FIRST_BYTE);
		return;
	}
	if (err == PF_ERR) {
		fail_filter(c, phase);
		return;
	}
	if (c->state == CONN_HEAD) {
		if (err == -ECONNRESET)
			conn_finish(c, TP_RESET, TP_PHASE_HEADERS, "reset after %" PRIu64 " bytes of response head",
				    r->wire_received);
		else
			conn_finish(c, TP_INCOMPLETE_READ, TP_PHASE_HEADERS,
				    "connection closed after %" PRIu64 " bytes of response head", r->wire_received);
		return;
	}
	if (err == 0) {
		if (http1_body_eof(&c->body) == 0) {
			verify_end(c);
			return;
		}
		if (!verify_short(c, TP_PHASE_BODY))
			conn_finish(c, TP_INCOMPLETE_READ, TP_PHASE_BODY,
				    "%" PRIu64 " bytes read, chunked body not terminated", r->bytes_received);
		return;
	}
	if (err == -ECONNRESET)
		conn_finish(c, TP_RESET, c->closing_wait_fin ? TP_PHASE_FIN : TP_PHASE_BODY,
			    "reset after %" PRIu64 " body bytes (%" PRId64 " expected)", r->bytes_received,
			    r->bytes_expected);
	else
		conn_finish(c, TP_RESET, TP_PHASE_BODY, "%s after %" PRIu64 " body bytes", strerror((int)-err),
			    r->bytes_received);
}

/* A complete head at c->in[0..head_len): skips interim responses (0 after moving the
 * buffer on), else hands the head to verify.h and the bytes after it to the body
 * decoder. Returns 0 to parse again, 1 when the body goes on, -1 when the request
 * ended. */
static int take_head(struct conn *c, const struct http1_response *resp, size_t head_len)
{
	if (resp->status >= 100 && resp->status < 200) {
		if (resp->status == 101) {
			conn_finish(c, TP_PROTOCOL_ERROR, TP_PHASE_HEADERS, "unexpected 101 upgrade");
			return -1;
		}
		memmove(c->in, c->in + head_len, c->in_len - head_len);
		c->in_len -= head_len;
		return 0; /* an interim response: the real one follows */
	}
	if (verify_head(c, resp) < 0)
		return -1;
	http1_body_init(&c->body, resp->framing, resp->content_length);
	size_t rest = c->in_len - head_len;
	c->in_len = 0;
	/* The rest may alias nothing: the body decoder reads it in place. */
	if (feed_body(c, (const uint8_t *)c->in + head_len, rest) != 0 || c->body.done)
		return -1;
	return 1;
}

static void exchange_head(struct conn *c)
{
	struct pf *top = c->link->top;
	/* Bounded per event as exchange_body is: a server flooding interim (1xx) responses
	 * keeps the socket readable, and the phase deadline must still get its turn. */
	for (int i = 0; i < 16 || pf_pending(top) > 0; i++) {
		size_t room = sizeof c->in - c->in_len;
		long n = room ? pf_read(top, c->in + c->in_len, room) : 0;
		if (n == -EAGAIN) {
			link_watch(c->link, pf_want(top, LOOP_READ));
			return;
		}
		if (n <= 0) {
			fail_read(c, n);
			return;
		}
		if (c->rec.wire_received == 0)
			c->times.first_byte = conn_now(c);
		c->rec.wire_received += (uint64_t)n;
		c->in_len += (size_t)n;
		for (;;) {
			struct http1_response resp;
			int err = 0;
			unsigned flags = strcmp(c->w->cfg->method, "HEAD") == 0 ? HTTP1_REQ_HEAD : 0;
			int r = http1_parse_response(c->in, c->in_len, HTTP1_MAX_HEAD, flags, &resp, &err);
			if (r == HTTP1_NEED_MORE)
				break;
			if (r < 0) {
				conn_finish(c, TP_PROTOCOL_ERROR, TP_PHASE_HEADERS, "bad response head: %s",
					    http1_strerror(err));
				return;
			}
			int taken = take_head(c, &resp, (size_t)r);
			if (taken < 0)
				return;
			if (taken > 0) {
				/* Continue with whatever the socket (or TLS, which the socket will
				 * not signal again) still holds. */
				exchange_body(c);
				return;
			}
		}
	}
	/* the socket is still readable: the loop calls again (level-triggered) */
}

static void exchange_body(struct conn *c)
{
	struct pf *top = c->link->top;
	/* Bounded per event so one fast connection cannot starve the others; past the
	 * bound only what TLS already decrypted (at most one record) is taken, since the
	 * socket will not signal it again. */
	for (int i = 0; i < 16 || pf_pending(top) > 0; i++) {
		long n = pf_read(top, c->w->scratch_in, sizeof c->w->scratch_in);
		if (n == -EAGAIN) {
			link_watch(c->link, pf_want(top, LOOP_READ));
			return;
		}
		if (n <= 0) {
			fail_read(c, n);
			return;
		}
		c->rec.wire_received += (uint64_t)n;
		if (feed_body(c, c->w->scratch_in, (size_t)n) != 0)
			return;
	}
}

/* The link's socket is ready for c's request. */
static void exchange_ready(struct conn *c)
{
	switch (c->state) {
	case CONN_SENDING: exchange_send(c); break;
	case CONN_HEAD: exchange_head(c); break;
	case CONN_BODY: exchange_body(c); break;
	default: break;
	}
}

static void exchange_detach(struct conn *c)
{
	(void)c; /* one request at a time: nothing is held for it on the link */
}

const struct link_proto exchange_http1 = {
	.name = "http/1.1",
	.begin = exchange_begin,
	.ready = exchange_ready,
	.detach = exchange_detach,
};
