/* libFuzzer target: an HTTP/1.1 request head (what the origin and the proxy parse).
 * Besides never crashing: results point inside the input, and a prefix of the input
 * never answers differently from the whole (only NEED_MORE or the same error). */
#include <stddef.h>
#include <stdint.h>

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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct http1_request r;
	int err = HTTP1_E_NONE;
	int n = http1_parse_request(buf, size, HTTP1_MAX_HEAD, &r, &err);
	if (n > (int)size || n > HTTP1_MAX_HEAD || n == 0 || n < HTTP1_NEED_MORE ||
	    (n == HTTP1_ERROR && err == HTTP1_E_NONE))
		__builtin_trap();
	if (n > 0) {
		if (r.method_len == 0 || r.target_len == 0 || r.num_headers > HTTP1_MAX_HEADERS ||
		    !inside(r.method, r.method_len, buf, (size_t)n) ||
		    !inside(r.target, r.target_len, buf, (size_t)n) ||
		    (r.minor_version != 0 && r.minor_version != 1) ||
		    r.framing == HTTP1_FRAMING_CLOSE ||
		    (r.framing != HTTP1_FRAMING_LENGTH && r.content_length != 0))
			__builtin_trap();
		for (size_t i = 0; i < r.num_headers; i++)
			if (!r.headers[i].name_len || !inside(r.headers[i].name, r.headers[i].name_len, buf, (size_t)n) ||
			    !inside(r.headers[i].value, r.headers[i].value_len, buf, (size_t)n))
				__builtin_trap();
	}
	size_t prefixes[] = {size / 2, size ? size - 1 : 0, n > 0 ? (size_t)n - 1 : 0};
	for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
		int perr = HTTP1_E_NONE;
		int p = http1_parse_request(buf, prefixes[i], HTTP1_MAX_HEAD, &r, &perr);
		if (prefixes[i] < size && !prefix_agrees(p, perr, n, err, prefixes[i]))
			__builtin_trap();
	}
	return 0;
}
