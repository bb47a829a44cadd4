/* exchange — one HTTP/1.1 request and its response on a probe connection: the
 * request head (and a generated upload body), then the response head and body through
 * lib/http1, every payload byte checked against lib/payload when the origin announced
 * X-Tp-Seed (after gzip decoding when the body is gzip), or else the body's SHA-256
 * against a known one (--urls-file, --compare-direct). Records count decoded bytes. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "lib/hex.h"
#include "lib/payload.h"
#include "lib/sha256.h"
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

/* Decoded payload bytes: checked against the generator (X-Tp-Seed), hashed (a known
 * SHA-256, or one to learn), counted. 0, or -1 when it ended the request. */
static int payload_sink(struct conn *c, const uint8_t *data, size_t len)
{
	c->rec.bytes_received += len;
	if (c->check_seed) {
		long bad = payload_verify(c->seed, c->decoded, data, len);
		if (bad >= 0) {
			conn_finish(c, TP_CORRUPT_BODY, TP_PHASE_BODY, "%spayload differs at byte %" PRIu64,
				    c->inflating ? "decoded " : "", c->decoded + (uint64_t)bad);
			return -1;
		}
	}
	if (c->check_sha)
		sha256_update(&c->md, data, len);
	c->decoded += len;
	if (c->check_seed && c->tp_length >= 0 && c->decoded > (uint64_t)c->tp_length) {
		conn_finish(c, TP_CORRUPT_BODY, TP_PHASE_BODY, "%" PRIu64 " payload bytes, %" PRId64 " announced",
		       c->decoded, c->tp_length);
		return -1;
	}
	return 0;
}

/* Body bytes after de-chunking: gzip-decoded first when the body is gzip, then to
 * payload_sink(). 0, or -1 when it ended the request. */
static int consume_payload(struct conn *c, const uint8_t *data, size_t len)
{
	if (!c->inflating)
		return payload_sink(c, data, len);
	z_stream *zs = c->zs;
	zs->next_in = (Bytef *)data;
	zs->avail_in = (uInt)len;
	while (zs->avail_in > 0) {
		zs->next_out = c->w->scratch;
		zs->avail_out = sizeof c->w->scratch;
		int zr = inflate(zs, Z_NO_FLUSH);
		if (payload_sink(c, c->w->scratch, sizeof c->w->scratch - zs->avail_out) < 0)
			return -1;
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
		if (span_len && consume_payload(c, span, span_len) < 0)
			return -1;
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

/* Without a seed: the body against what is known of it (--urls-file sha256= and
 * length=, or the direct fetch of --compare-direct), and its SHA-256 kept for a run
 * that learns. 0, or -1 when it ended the request as corrupt_body. */
static int check_known(struct conn *c)
{
	struct probe_record *r = &c->rec;
	const struct probe_known *k = &conn_target(c)->known;
	const char *source = k->from_direct ? "the direct fetch" : "--urls-file";
	if (k->length >= 0 && c->decoded != (uint64_t)k->length) {
		conn_finish(c, TP_CORRUPT_BODY, TP_PHASE_BODY, "body has %" PRIu64 " bytes, %" PRId64 " per %s",
			    c->decoded, k->length, source);
		return -1;
	}
	if (!c->check_sha)
		return 0;
	sha256_final(&c->md, r->body_sha256);
	r->has_body_sha256 = true;
	if (!k->has_sha256)
		return 0;
	if (memcmp(r->body_sha256, k->sha256, sizeof k->sha256) != 0) {
		conn_finish(c, TP_CORRUPT_BODY, TP_PHASE_BODY, "body (%" PRIu64 " bytes) differs from %s: SHA-256 mismatch",
			    c->decoded, source);
		return -1;
	}
	r->verified = true;
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
	if (c->inflating && !c->gzip_ended) {
		conn_finish(c, TP_CORRUPT_BODY, TP_PHASE_BODY, "gzip stream ends early (%" PRIu64
			    " decoded bytes)", c->decoded);
		return -1;
	}
	if (c->check_seed) {
		if (c->tp_length >= 0 && c->decoded != (uint64_t)c->tp_length) {
			conn_finish(c, TP_CORRUPT_BODY, TP_PHASE_BODY,
			       "body ended after %" PRIu64 " of %" PRId64 " payload bytes", c->decoded,
			       c->tp_length);
			return -1;
		}
		r->verified = true;
	} else if (c->w->cfg->verify && c->framing != HTTP1_FRAMING_NONE && check_known(c) < 0) {
		return -1;
	}
	if (r->status < 0 || r->status >= 1000 || !c->w->cfg->expect_status[r->status]) {
		conn_finish(c, TP_HTTP_ERROR, TP_PHASE_DONE, "status %d", r->status);
		return -1;
	}
	conn_finish(c, TP_OK, TP_PHASE_DONE, NULL);
	return 1;
}

/* Every copy of the header `name` must hold the same valid number (base 16: X-Tp-Seed,
 * up to 16 digits; base 10: X-Tp-Length, up to 2^63-1): a malformed or contradicting
 * copy would otherwise switch off the check it announces and let the body pass as ok.
 * 1 with *value, 0 when absent, -1 after ending the request as protocol_error. */
static int tp_number(struct conn *c, const struct http1_response *resp, const char *name, int base,
		     uint64_t *value)
{
	const struct http1_header *h = resp->headers, *end = resp->headers + resp->num_headers;
	bool found = false;
	while (h < end && (h = http1_find_header(h, (size_t)(end - h), name)) != NULL) {
		bool ok;
		uint64_t v = parse_u64(h->value, h->value_len, base, &ok);
		if (!ok || (base == 10 && v > INT64_MAX)) {
			conn_finish(c, TP_PROTOCOL_ERROR, TP_PHASE_HEADERS, "bad %s '%.*s': want %s", name,
				    (int)(h->value_len > 40 ? 40 : h->value_len), h->value,
				    base == 16 ? "16 hex digits" : "a byte count up to 2^63-1");
			return -1;
		}
		if (found && v != *value) {
			conn_finish(c, TP_PROTOCOL_ERROR, TP_PHASE_HEADERS, "%s copies disagree", name);
			return -1;
		}
		*value = v;
		found = true;
		h++;
	}
	return found;
}

/* What the body will be checked by: the generator, a SHA-256, gzip decoding. 0, or -1
 * when the request ended. */
static int plan_checks(struct conn *c, const struct http1_response *resp)
{
	const struct probe_config *cfg = c->w->cfg;
	const struct probe_target *t = conn_target(c);
	bool body = resp->framing != HTTP1_FRAMING_NONE; /* HEAD, 204, 304: nothing to check */
	c->check_seed = cfg->verify && c->has_seed && body;
	c->check_sha = cfg->verify && !c->check_seed && body && (t->known.has_sha256 || cfg->learn_bodies);
	c->inflating = c->gzip && body;
	if (c->inflating && !c->zs) {
		c->zs = calloc(1, sizeof(z_stream));
		if (!c->zs || inflateInit2(c->zs, 16 + MAX_WBITS) != Z_OK) {
			free(c->zs);
			c->zs = NULL;
			conn_finish(c, TP_PROTOCOL_ERROR, TP_PHASE_HEADERS, "out of memory for gzip");
			return -1;
		}
	} else if (c->inflating) {
		inflateReset(c->zs);
	}
	if (c->check_sha)
		sha256_init(&c->md);
	return 0;
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
	c->decoded = 0;
	c->closing_wait_fin = false;
	uint64_t seed = 0, length = 0;
	int has_seed = tp_number(c, resp, "X-Tp-Seed", 16, &seed);
	int has_length = has_seed < 0 ? -1 : tp_number(c, resp, "X-Tp-Length", 10, &length);
	if (has_length < 0)
		return -1;
	c->seed = seed;
	c->has_seed = has_seed;
	c->tp_length = has_length ? (int64_t)length : -1;
	/* Records count decoded bytes: a gzip body's expected length is X-Tp-Length. */
	if (resp->framing == HTTP1_FRAMING_NONE)
		r->bytes_expected = 0;
	else if (resp->framing == HTTP1_FRAMING_LENGTH && !resp->gzip)
		r->bytes_expected = (int64_t)resp->content_length;
	else
		r->bytes_expected = c->tp_length;
	if (r->bytes_expected < 0 && resp->framing != HTTP1_FRAMING_NONE)
		r->bytes_expected = conn_target(c)->known.length;
	if (plan_checks(c, resp) < 0)
		return -1;
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
	/* Bounded per event as exchange_body is: a server flooding interim (1xx) responses
	 * keeps the socket readable, and the phase deadline must still get its turn. */
	for (int i = 0; i < 16 || (c->tls_on && tls_pending(&c->tls) > 0); i++) {
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
	return; /* the socket is still readable: the loop calls again (level-triggered) */
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

