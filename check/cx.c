/* cx — see cx.h. */
#include "check/cx.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/payload.h"

const char *cx_end_name(enum cx_end end)
{
	static const char *const names[] = {
		[CX_COMPLETE] = "complete", [CX_NO_HEAD] = "no head", [CX_TRUNCATED] = "truncated",
		[CX_RESET] = "reset", [CX_TIMEOUT] = "timeout", [CX_PROTOCOL] = "protocol error",
	};
	return (unsigned)end < sizeof names / sizeof names[0] ? names[end] : "?";
}

void cx_init(struct cx *x, struct cio *c)
{
	x->c = c;
	x->off = x->len = 0;
}

/* Reads more bytes into x->buf (moving what is unread to the front first). Returns
 * the count, 0 at EOF, or -errno. */
long cx_fill(struct cx *x, uint64_t deadline)
{
	if (x->off > 0) {
		memmove(x->buf, x->buf + x->off, x->len - x->off);
		x->len -= x->off;
		x->off = 0;
	}
	if (x->len == sizeof x->buf)
		return -ENOBUFS;
	long n = cio_read(x->c, x->buf + x->len, sizeof x->buf - x->len, deadline);
	if (n > 0)
		x->len += (size_t)n;
	return n;
}

static enum cx_end end_of(long n)
{
	if (n == -ETIMEDOUT)
		return CX_TIMEOUT;
	return n == -ECONNRESET || n == -EPIPE ? CX_RESET : CX_TRUNCATED;
}

/* Parses the payload announcement headers of r's head. */
static void announce(struct cx_resp *r)
{
	char v[32];
	r->has_seed = cx_header(r, "X-Tp-Seed", v, sizeof v);
	if (r->has_seed)
		r->seed = strtoull(v, NULL, 16);
}

int cx_read_head(struct cx *x, unsigned flags, struct cx_resp *r, uint64_t deadline)
{
	unsigned req_flags = flags & (HTTP1_REQ_HEAD | HTTP1_REQ_CONNECT);
	for (;;) {
		int err = 0;
		size_t avail = x->len - x->off;
		int n = HTTP1_NEED_MORE;
		if (avail > 0)
			n = http1_parse_response((const char *)x->buf + x->off, avail, HTTP1_MAX_HEAD,
						 req_flags, &r->resp, &err);
		if (n == HTTP1_ERROR) {
			r->end = CX_PROTOCOL;
			r->proto_err = err;
			return -1;
		}
		if (n == HTTP1_NEED_MORE) {
			long got = cx_fill(x, deadline);
			if (got <= 0) {
				/* how it ended (FIN or reset) is in x->c->end */
				r->end = got == -ETIMEDOUT ? CX_TIMEOUT : CX_NO_HEAD;
				return -1;
			}
			continue;
		}
		int status = r->resp.status;
		r->wire += (uint64_t)n;
		if (status >= 100 && status < 200 && status != 101 && !(flags & CX_STOP_1XX)) {
			if (r->ninterim < CX_MAX_INTERIM)
				r->interim[r->ninterim++] = status;
			x->off += (size_t)n;
			continue;
		}
		/* Keep the head in r so the parsed fields stay valid after x->buf moves. */
		memcpy(r->head, x->buf + x->off, (size_t)n);
		r->head_len = (size_t)n;
		x->off += (size_t)n;
		http1_parse_response(r->head, r->head_len, HTTP1_MAX_HEAD, req_flags, &r->resp, &err);
		r->status = status;
		r->bad_at = -1;
		announce(r);
		return 0;
	}
}

/* Takes decoded payload bytes: verification and the copy. */
static void take(struct cx_resp *r, const uint8_t *data, size_t len)
{
	if (r->has_seed && r->bad_at < 0) {
		long bad = payload_verify(r->seed, r->body, data, len);
		if (bad >= 0)
			r->bad_at = (long)(r->body + (uint64_t)bad);
	}
	if (r->copy_len < sizeof r->copy) {
		size_t n = sizeof r->copy - r->copy_len < len ? sizeof r->copy - r->copy_len : len;
		memcpy(r->copy + r->copy_len, data, n);
		r->copy_len += n;
	}
	r->body += len;
}

int cx_read_body(struct cx *x, struct cx_resp *r, uint64_t deadline)
{
	struct http1_body b;
	http1_body_init(&b, r->resp.framing, r->resp.content_length);
	while (!b.done && b.framing != HTTP1_FRAMING_NONE) {
		if (x->off == x->len) {
			long got = cx_fill(x, deadline);
			if (got == 0) {
				if (http1_body_eof(&b) == 0)
					break;
				r->end = CX_TRUNCATED;
				return -1;
			}
			if (got < 0) {
				r->end = end_of(got);
				return -1;
			}
		}
		const uint8_t *data;
		size_t dlen;
		int err = 0;
		long used = http1_body_feed(&b, x->buf + x->off, x->len - x->off, &data, &dlen, &err);
		if (used < 0) {
			r->end = CX_PROTOCOL;
			r->proto_err = err;
			return -1;
		}
		x->off += (size_t)used;
		r->wire += (uint64_t)used;
		if (dlen)
			take(r, data, dlen);
	}
	r->trailer_bytes = b.trailer;
	r->end = CX_COMPLETE;
	return 0;
}

int cx_read_response(struct cx *x, unsigned flags, struct cx_resp *r, uint64_t deadline)
{
	if (cx_read_head(x, flags, r, deadline) < 0)
		return -1;
	return cx_read_body(x, r, deadline);
}

bool cx_header(const struct cx_resp *r, const char *name, char *out, size_t cap)
{
	const struct http1_header *h =
		http1_find_header(r->resp.headers, r->resp.num_headers, name);
	if (!h || cap == 0)
		return false;
	size_t n = h->value_len < cap - 1 ? h->value_len : cap - 1;
	memcpy(out, h->value, n);
	out[n] = '\0';
	return true;
}
