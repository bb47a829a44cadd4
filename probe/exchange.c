/* exchange — one HTTP/1.1 request and its response on a probe connection: the
 * request head (and a generated upload body), then the response head and body through
 * lib/http1, every payload byte checked against lib/payload when the origin announced
 * X-Tp-Seed (after gzip decoding when the body is gzip). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "lib/hex.h"
#include "lib/payload.h"
#include "probe/exchange.h"
#include "probe/worker.h"

/* ---- the request ---- */

void exchange_begin(struct conn *c)
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

/* A write failed or the connection closed while sending or before any response byte. */
static void fail_early(struct conn *c, long err, enum tp_phase phase)
{
	if (conn_retry_if_stale(c))
		return;
	const struct probe_target *t = conn_target(c);
	bool reset = err == -ECONNRESET;
	if (err == TLS_ERR_ALERT) {
		conn_finish(c, TP_TLS_ALERT, phase, "%s", c->tls.alert);
	} else if (err == TLS_ERR_PROTOCOL || err == TLS_ERR_VERIFY) {
		conn_finish(c, TP_TLS_ERROR, phase, "%s", c->tls.detail);
	} else if (conn_via_tunnel(t) && c->requests_done == 0) {
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

void exchange_send(struct conn *c)
{
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
		long n = conn_write(c, buf, len);
		if (n == -EAGAIN) {
			conn_watch(c, conn_want(c, LOOP_WRITE));
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
	 * must keep relaying the response (TLS has no half-close, so plain HTTP only). */
	if (c->w->cfg->half_close && !c->tls_on)
		net_shutdown_write(c->fd);
	c->state = CONN_HEAD;
	conn_arm(c, c->w->cfg->timeout_s);
	conn_watch(c, LOOP_READ);
}

/* ---- the response ---- */

static uint64_t parse_u64(const char *s, size_t len, int base, bool *ok)
{
	uint64_t v = 0;
	*ok = len > 0 && len <= (base == 16 ? 16u : 19u);
	for (size_t i = 0; *ok && i < len; i++) {
		int d = base == 16 ? hex_digit(s[i]) : s[i] >= '0' && s[i] <= '9' ? s[i] - '0' : -1;
		if (d < 0)
			*ok = false;
		else
			v = v * (uint64_t)base + (uint64_t)d;
	}
	return v;
}

static int body_complete(struct conn *c);

/* Verifies (and for gzip first inflates) payload bytes. 0, or -1 when it ended the
 * request with corrupt_body. */
static int consume_payload(struct conn *c, const uint8_t *data, size_t len)
{
	const struct probe_config *cfg = c->w->cfg;
	if (!cfg->verify || !c->has_seed) {
		return 0;
	}
	if (!c->gzip) {
		long bad = payload_verify(c->seed, c->decoded, data, len);
		if (bad >= 0) {
			conn_finish(c, TP_CORRUPT_BODY, TP_PHASE_BODY, "payload differs at byte %" PRIu64,
			       c->decoded + (uint64_t)bad);
			return -1;
		}
		c->decoded += len;
	} else {
		z_stream *zs = c->zs;
		zs->next_in = (Bytef *)data;
		zs->avail_in = (uInt)len;
		while (zs->avail_in > 0) {
			zs->next_out = c->w->scratch;
			zs->avail_out = sizeof c->w->scratch;
			int zr = inflate(zs, Z_NO_FLUSH);
			size_t out = sizeof c->w->scratch - zs->avail_out;
			long bad = payload_verify(c->seed, c->decoded, c->w->scratch, out);
			if (bad >= 0) {
				conn_finish(c, TP_CORRUPT_BODY, TP_PHASE_BODY,
				       "decoded payload differs at byte %" PRIu64, c->decoded + (uint64_t)bad);
				return -1;
			}
			c->decoded += out;
			if (zr == Z_STREAM_END) {
				c->gzip_ended = true;
				if (zs->avail_in > 0) {
					conn_finish(c, TP_CORRUPT_BODY, TP_PHASE_BODY,
					       "%u bytes after the end of the gzip stream", zs->avail_in);
					return -1;
				}
				break;
			}
			if (zr != Z_OK && zr != Z_BUF_ERROR) {
				conn_finish(c, TP_CORRUPT_BODY, TP_PHASE_BODY, "gzip stream broken: %s",
				       zs->msg ? zs->msg : "inflate error");
				return -1;
			}
		}
	}
	if (c->tp_length >= 0 && c->decoded > (uint64_t)c->tp_length) {
		conn_finish(c, TP_CORRUPT_BODY, TP_PHASE_BODY, "%" PRIu64 " payload bytes, %" PRId64 " announced",
		       c->decoded, c->tp_length);
		return -1;
	}
	return 0;
}

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
		if (span_len) {
			c->rec.bytes_received += span_len;
			if (consume_payload(c, span, span_len) < 0)
				return -1;
		}
		if (used == 0 && span_len == 0)
			break;
		data += used;
		len -= (size_t)used;
	}
	if (c->body.done) {
		if (len > 0)
			c->resp_keepalive = false; /* bytes nobody asked for: never reuse */
		return body_complete(c);
	}
	if (c->framing == HTTP1_FRAMING_CLOSE && c->rec.bytes_expected >= 0 &&
	    c->rec.bytes_received >= (uint64_t)c->rec.bytes_expected && !c->closing_wait_fin) {
		/* All announced bytes are here; only the end (FIN) is missing. */
		c->closing_wait_fin = true;
		conn_arm(c, c->w->cfg->timeout_s);
	}
	return 0;
}

static int body_complete(struct conn *c)
{
	struct probe_record *r = &c->rec;
	if (c->framing == HTTP1_FRAMING_CLOSE && r->bytes_expected >= 0 &&
	    r->bytes_received < (uint64_t)r->bytes_expected) {
		conn_finish(c, TP_INCOMPLETE_READ, TP_PHASE_BODY, "%" PRIu64 " bytes read, %" PRIu64 " more expected",
		       r->bytes_received, (uint64_t)r->bytes_expected - r->bytes_received);
		return -1;
	}
	if (c->has_seed && c->w->cfg->verify) {
		if (c->gzip && !c->gzip_ended) {
			conn_finish(c, TP_CORRUPT_BODY, TP_PHASE_BODY, "gzip stream ends early (%" PRIu64
			       " decoded bytes)", c->decoded);
			return -1;
		}
		if (c->tp_length >= 0 && c->decoded != (uint64_t)c->tp_length) {
			conn_finish(c, TP_CORRUPT_BODY, TP_PHASE_BODY,
			       "body ended after %" PRIu64 " of %" PRId64 " payload bytes", c->decoded,
			       c->tp_length);
			return -1;
		}
		r->verified = true;
	}
	if (r->status < 0 || r->status >= 1000 || !c->w->cfg->expect_status[r->status]) {
		conn_finish(c, TP_HTTP_ERROR, TP_PHASE_DONE, "status %d", r->status);
		return -1;
	}
	conn_finish(c, TP_OK, TP_PHASE_DONE, NULL);
	return 1;
}

/* The head is complete: take what the body needs from it. 0 or -1 (request ended). */
static int take_head(struct conn *c, const struct http1_response *resp)
{
	const struct probe_config *cfg = c->w->cfg;
	struct probe_record *r = &c->rec;
	r->status = resp->status;
	c->framing = resp->framing;
	c->resp_keepalive = resp->keep_alive;
	c->gzip = resp->gzip;
	c->gzip_ended = false;
	c->has_seed = false;
	c->tp_length = -1;
	c->decoded = 0;
	c->closing_wait_fin = false;
	const struct http1_header *h = http1_find_header(resp->headers, resp->num_headers, "X-Tp-Seed");
	bool ok = false;
	if (h)
		c->seed = parse_u64(h->value, h->value_len, 16, &ok);
	c->has_seed = ok;
	h = http1_find_header(resp->headers, resp->num_headers, "X-Tp-Length");
	if (h) {
		uint64_t v = parse_u64(h->value, h->value_len, 10, &ok);
		if (ok && v <= INT64_MAX)
			c->tp_length = (int64_t)v;
	}
	if (resp->framing == HTTP1_FRAMING_LENGTH)
		r->bytes_expected = (int64_t)resp->content_length;
	else if (resp->framing == HTTP1_FRAMING_NONE)
		r->bytes_expected = 0;
	else if (!resp->gzip && c->tp_length >= 0)
		r->bytes_expected = c->tp_length;
	else
		r->bytes_expected = -1;
	if (resp->framing == HTTP1_FRAMING_NONE)
		c->has_seed = false; /* HEAD, 204, 304: nothing to verify */
	if (c->gzip && c->has_seed && cfg->verify) {
		if (!c->zs) {
			c->zs = calloc(1, sizeof(z_stream));
			if (!c->zs || inflateInit2(c->zs, 16 + MAX_WBITS) != Z_OK) {
				free(c->zs);
				c->zs = NULL;
				conn_finish(c, TP_PROTOCOL_ERROR, TP_PHASE_HEADERS, "out of memory for gzip");
				return -1;
			}
		} else {
			inflateReset(c->zs);
		}
	}
	http1_body_init(&c->body, resp->framing, resp->content_length);
	c->state = CONN_BODY;
	conn_arm(c, cfg->timeout_s);
	return 0;
}

/* EOF or an error while reading the response. */
static void fail_read(struct conn *c, long err)
{
	struct probe_record *r = &c->rec;
	if (c->state == CONN_HEAD && r->wire_received == 0) {
		fail_early(c, err, TP_PHASE_FIRST_BYTE);
		return;
	}
	if (err == TLS_ERR_ALERT) {
		conn_finish(c, TP_TLS_ALERT, c->state == CONN_HEAD ? TP_PHASE_HEADERS : TP_PHASE_BODY, "%s",
		       c->tls.alert);
		return;
	}
	if (err == TLS_ERR_PROTOCOL || err == TLS_ERR_VERIFY) {
		conn_finish(c, TP_TLS_ERROR, c->state == CONN_HEAD ? TP_PHASE_HEADERS : TP_PHASE_BODY, "%s",
		       c->tls.detail);
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
			body_complete(c);
			return;
		}
		if (r->bytes_expected >= 0 && r->bytes_received < (uint64_t)r->bytes_expected)
			conn_finish(c, TP_INCOMPLETE_READ, TP_PHASE_BODY,
			       "%" PRIu64 " bytes read, %" PRIu64 " more expected", r->bytes_received,
			       (uint64_t)r->bytes_expected - r->bytes_received);
		else
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

void exchange_head(struct conn *c)
{
	for (;;) {
		size_t room = sizeof c->in - c->in_len;
		long n = room ? conn_read(c, c->in + c->in_len, room) : 0;
		if (n == -EAGAIN) {
			conn_watch(c, conn_want(c, LOOP_READ));
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
			if (resp.status >= 100 && resp.status < 200) {
				if (resp.status == 101) {
					conn_finish(c, TP_PROTOCOL_ERROR, TP_PHASE_HEADERS, "unexpected 101 upgrade");
					return;
				}
				memmove(c->in, c->in + r, c->in_len - (size_t)r);
				c->in_len -= (size_t)r;
				continue; /* an interim response: the real one follows */
			}
			if (take_head(c, &resp) < 0)
				return;
			size_t rest = c->in_len - (size_t)r;
			c->in_len = 0;
			/* The rest may alias nothing: the body decoder reads it in place. */
			if (feed_body(c, (const uint8_t *)c->in + r, rest) != 0)
				return;
			if (c->body.done)
				return;
			goto body;
		}
	}
body:
	/* Continue with whatever the socket (or TLS, which the socket will not signal
	 * again) still holds. */
	exchange_body(c);
}

void exchange_body(struct conn *c)
{
	/* Bounded per event so one fast connection cannot starve the others; past the
	 * bound only what TLS already decrypted (at most one record) is taken, since the
	 * socket will not signal it again. */
	for (int i = 0; i < 16 || (c->tls_on && tls_pending(&c->tls) > 0); i++) {
		long n = conn_read(c, c->w->scratch_in, sizeof c->w->scratch_in);
		if (n == -EAGAIN) {
			conn_watch(c, conn_want(c, LOOP_READ));
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

