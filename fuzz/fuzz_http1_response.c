/* libFuzzer target: an HTTP/1.1 response head, then its body fed to the decoder in
 * pieces whose sizes come from the input; decoded payload can never exceed the input. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/http1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	unsigned flags = data[0] & 3;
	size_t step = (size_t)(data[0] >> 2) + 1;
	data++;
	size--;
	struct http1_response r;
	int err = 0;
	int head = http1_parse_response((const char *)data, size, HTTP1_MAX_HEAD, flags, &r, &err);
	if (head == HTTP1_ERROR && err == HTTP1_E_NONE)
		__builtin_trap();
	if (head <= 0)
		return 0;
	struct http1_body b;
	http1_body_init(&b, r.framing, r.content_length);
	size_t pos = (size_t)head, payload = 0;
	while (pos < size && !b.done) {
		size_t feed = size - pos < step ? size - pos : step;
		const uint8_t *span;
		size_t span_len;
		long n = http1_body_feed(&b, data + pos, feed, &span, &span_len, &err);
		if (n < 0)
			return 0;
		if ((size_t)n > feed || (span_len && (span < data + pos || span + span_len > data + pos + (size_t)n)))
			__builtin_trap();
		payload += span_len;
		if (n == 0 && span_len == 0)
			break;
		pos += (size_t)n;
	}
	if (payload > size || payload != b.payload)
		__builtin_trap();
	(void)http1_body_eof(&b);
	return 0;
}
