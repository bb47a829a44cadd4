/* verify — see verify.h. Moved here from the HTTP/1.1 exchange so HTTP/3 responses are
 * checked by the same code, byte for byte. */
#include "probe/verify.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>


#include "lib/hex.h"
#include "lib/payload.h"
#include "lib/sha256.h"
#include "probe/worker.h"

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

/* Body bytes after de-framing: gzip-decoded first when the body is gzip, then to
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

int verify_body(struct conn *c, const uint8_t *data, size_t len)
{
	if (len && consume_payload(c, data, len) < 0)
		return -1;
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

bool verify_short(struct conn *c, enum tp_phase phase)
{
	struct probe_record *r = &c->rec;
	if (r->bytes_expected < 0 || r->bytes_received >= (uint64_t)r->bytes_expected)
		return false;
	conn_finish(c, TP_INCOMPLETE_READ, phase, "%" PRIu64 " bytes read, %" PRIu64 " more expected",
		    r->bytes_received, (uint64_t)r->bytes_expected - r->bytes_received);
	return true;
}

int verify_end(struct conn *c)
{
	struct probe_record *r = &c->rec;
	if (c->framing == HTTP1_FRAMING_CLOSE && verify_short(c, TP_PHASE_BODY))
		return -1;
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
	if (c->check_sha && sha256_init(&c->md) < 0) {
		conn_finish(c, TP_PROTOCOL_ERROR, TP_PHASE_HEADERS, "out of memory for SHA-256");
		return -1;
	}
	return 0;
}

int verify_head(struct conn *c, const struct http1_response *resp)
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
	c->state = CONN_BODY;
	conn_arm(c, cfg->timeout_s);
	return 0;
}

void verify_free(struct conn *c)
{
	if (c->zs) {
		inflateEnd(c->zs);
		free(c->zs);
		c->zs = NULL;
	}
	sha256_free(&c->md);
}
