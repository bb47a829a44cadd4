/* libFuzzer target: an HTTP/1.1 request head (what the origin and the proxy parse). */
#include <stddef.h>
#include <stdint.h>

#include "lib/http1.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http1_request r;
	int err = 0;
	int n = http1_parse_request((const char *)data, size, HTTP1_MAX_HEAD, &r, &err);
	if (n > (int)size || (n == HTTP1_ERROR && err == HTTP1_E_NONE))
		__builtin_trap();
	if (n > 0 && (r.method_len == 0 || r.target_len == 0 || r.num_headers > HTTP1_MAX_HEADERS))
		__builtin_trap();
	return 0;
}
