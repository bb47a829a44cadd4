/* libFuzzer target: an HTTP/1.1 response head, then its body fed to the decoder in
 * pieces whose sizes come from the input. Byte 0 holds the request flags (HEAD,
 * CONNECT) and the piece-size seed. Checked besides never crashing: results point
 * inside the input, a prefix never answers differently from the whole, and the body
 * decodes the same whether fed whole or in pieces, never past the message end. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/http1.h"

static bool inside(const char *p, size_t n, const char *buf, size_t len)
{
	return p >= buf && p + n <= buf + len;
}

static bool prefix_agrees(int ret, int err, int want, int want_err, size_t n)
{
	if (ret == HTTP1_ERROR)
		return want == HTTP1_ERROR && err == want_err;
	if (ret == HTTP1_NEED_MORE)
		return want < 0 || n < (size_t)want;
	return ret == want;
}

struct outcome {
	int err;
	bool done;
	size_t consumed;
	uint64_t payload, hash;
};

/* step 0: all at once; otherwise pieces of 1..step bytes from an xorshift. */
static void feed_body(const struct http1_response *r, const uint8_t *in, size_t len, size_t step,
		      uint64_t seed, struct outcome *o)
{
	struct http1_body b;
	http1_body_init(&b, r->framing, r->content_length);
	memset(o, 0, sizeof *o);
	o->hash = 0xcbf29ce484222325ull;
	uint64_t x = seed | 1;
	size_t pos = 0;
	while (pos < len && !b.done) {
		size_t feed = len - pos;
		if (step) {
			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			size_t piece = 1 + (size_t)(x % step);
			feed = piece < feed ? piece : feed;
		}
		const uint8_t *span;
		size_t span_len;
		int err = HTTP1_E_NONE;
		long n = http1_body_feed(&b, in + pos, feed, &span, &span_len, &err);
		if (n < 0) {
			if (err == HTTP1_E_NONE)
				__builtin_trap();
			o->err = err;
			break;
		}
		if ((size_t)n > feed || (n == 0 && !b.done) ||
		    (span_len && (span < in + pos || span + span_len > in + pos + n)))
			__builtin_trap();
		for (size_t i = 0; i < span_len; i++)
			o->hash = (o->hash ^ span[i]) * 0x100000001b3ull;
		o->payload += span_len;
		pos += (size_t)n;
	}
	if (b.payload != o->payload)
		__builtin_trap();
	o->done = b.done;
	o->consumed = pos;
	if (!o->err && (http1_body_eof(&b) == 0) != (b.done || r->framing == HTTP1_FRAMING_CLOSE))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned flags = data[0] & 3;
	size_t step = (size_t)(data[0] >> 2) + 1;
	const char *buf = (const char *)data + 1;
	size--;
	struct http1_response r;
	int err = HTTP1_E_NONE;
	int head = http1_parse_response(buf, size, HTTP1_MAX_HEAD, flags, &r, &err);
	if (head > (int)size || head > HTTP1_MAX_HEAD || head == 0 || head < HTTP1_NEED_MORE ||
	    (head == HTTP1_ERROR && err == HTTP1_E_NONE))
		__builtin_trap();
	size_t prefixes[] = {size / 2, size ? size - 1 : 0, head > 0 ? (size_t)head - 1 : 0};
	for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
		struct http1_response pr;
		int perr = HTTP1_E_NONE;
		int p = http1_parse_response(buf, prefixes[i], HTTP1_MAX_HEAD, flags, &pr, &perr);
		if (prefixes[i] < size && !prefix_agrees(p, perr, head, err, prefixes[i]))
			__builtin_trap();
	}
	if (head <= 0)
		return 0;
	if (r.status < 100 || r.status > 999 || r.num_headers > HTTP1_MAX_HEADERS ||
	    !inside(r.reason, r.reason_len, buf, (size_t)head) ||
	    (r.framing == HTTP1_FRAMING_CLOSE && r.keep_alive) ||
	    (r.framing == HTTP1_FRAMING_NONE && !(flags & HTTP1_REQ_HEAD) && r.status >= 200 &&
	     r.status != 204 && r.status != 304 && !((flags & HTTP1_REQ_CONNECT) && r.status < 300)))
		__builtin_trap();
	for (size_t i = 0; i < r.num_headers; i++)
		if (!r.headers[i].name_len || !inside(r.headers[i].name, r.headers[i].name_len, buf, (size_t)head) ||
		    !inside(r.headers[i].value, r.headers[i].value_len, buf, (size_t)head))
			__builtin_trap();
	const uint8_t *body = (const uint8_t *)buf + head;
	size_t body_len = size - (size_t)head;
	struct outcome whole, pieces;
	feed_body(&r, body, body_len, 0, 0, &whole);
	feed_body(&r, body, body_len, step, data[0] + size, &pieces);
	if (whole.err != pieces.err || whole.payload != pieces.payload || whole.hash != pieces.hash ||
	    (!whole.err && (whole.done != pieces.done || whole.consumed != pieces.consumed)))
		__builtin_trap();
	if (whole.payload > body_len)
		__builtin_trap();
	return 0;
}
