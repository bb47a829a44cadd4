/* libFuzzer target: the body decoder alone. Byte 0 picks the framing and a piece-size
 * seed, bytes 1-2 a Content-Length; the rest is fed whole, one byte at a time and in
 * pseudo-random pieces. All three must decode the same payload to the same outcome,
 * and every call must keep the contract (progress, spans inside the consumed bytes,
 * nothing consumed after the end). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/http1.h"

struct outcome {
	int err;          /* HTTP1_E_* or 0 */
	bool done;
	size_t consumed;  /* meaningful without an error */
	uint64_t payload, hash;
	int eof;
};

static uint64_t mix(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 0x100000001b3ull;
	return h;
}

/* step 0: everything at once; otherwise pieces of 1..step bytes from an xorshift. */
static void feed_all(enum http1_framing framing, uint64_t cl, const uint8_t *in, size_t len,
		     size_t step, uint64_t seed, struct outcome *o)
{
	struct http1_body b;
	http1_body_init(&b, framing, cl);
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
			if (err == HTTP1_E_NONE || span_len)
				__builtin_trap();
			o->err = err;
			break;
		}
		if ((size_t)n > feed || (n == 0 && !b.done))
			__builtin_trap();
		if (span_len && (span < in + pos || span + span_len > in + pos + n))
			__builtin_trap();
		o->hash = mix(o->hash, span, span_len);
		o->payload += span_len;
		if (b.payload != o->payload)
			__builtin_trap();
		pos += (size_t)n;
	}
	o->done = b.done;
	o->consumed = pos;
	if (!o->err) {
		if (b.done) { /* done is final */
			const uint8_t *span;
			size_t span_len;
			int err = 0;
			if (http1_body_feed(&b, in, len ? 1 : 0, &span, &span_len, &err) != 0)
				__builtin_trap();
		}
		o->eof = http1_body_eof(&b);
	}
}

static bool same(const struct outcome *a, const struct outcome *b)
{
	if (a->err != b->err || a->payload != b->payload || a->hash != b->hash)
		return false;
	return a->err || (a->done == b->done && a->consumed == b->consumed && a->eof == b->eof);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 3)
		return 0;
	enum http1_framing framing = (enum http1_framing)(data[0] & 3);
	size_t step = (size_t)(data[0] >> 2) + 1;
	uint64_t cl = (uint64_t)data[1] | (uint64_t)data[2] << 8;
	const uint8_t *in = data + 3;
	size_t len = size - 3;
	struct outcome whole, bytes, pieces;
	feed_all(framing, cl, in, len, 0, 0, &whole);
	feed_all(framing, cl, in, len, 1, 0, &bytes);
	feed_all(framing, cl, in, len, step, size, &pieces);
	if (!same(&whole, &bytes) || !same(&whole, &pieces))
		__builtin_trap();
	if (whole.payload > len || (framing == HTTP1_FRAMING_LENGTH && whole.payload > cl))
		__builtin_trap();
	return 0;
}
