/* libFuzzer target: proxy-under-test/chain, the handshake with an upstream proxy, fed
 * what an upstream proxy might answer. The first byte picks the upstream (HTTP or
 * SOCKS5, with or without credentials); the rest is the upstream's bytes, each step's
 * reply taken from the front as chain_feed() consumes it. Besides "no crash, no read
 * past len" (each step's input is an exact-size heap copy, so ASan sees any overread)
 * it checks the contract: a result is NEED_MORE, SEND, OPEN or one of the documented
 * errnos; *used never exceeds len; a SEND's message fits the buffer; at most three
 * steps (SOCKS5: method, RFC 1929, CONNECT). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy-under-test/chain.h"

static const char *const ups[] = {"http://127.0.0.1:3128", "http://u:p@127.0.0.1:3128",
				  "socks5://127.0.0.1:1080", "socks5://u:p@127.0.0.1:1080"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct url up;
	const char *why;
	if (url_parse_proxy(ups[data[0] % 4], &up, &why) < 0)
		__builtin_trap();
	data++, size--;
	struct chain c;
	char out[CHAIN_MSG_MAX];
	if (chain_start(&c, &up, "example.test", 443, "example.test:443", "id-1-2", out, sizeof out) <= 0)
		__builtin_trap();
	for (int step = 0; step < 4; step++) {
		uint8_t *in = malloc(size ? size : 1);
		if (!in)
			return 0;
		memcpy(in, data, size);
		size_t used = 0, outlen = 0;
		int r = chain_feed(&c, in, size, &used, out, sizeof out, &outlen);
		free(in);
		if (used > size)
			__builtin_trap();
		if (r == CHAIN_SEND) {
			if (step == 3 || outlen == 0 || outlen > sizeof out)
				__builtin_trap();
			data += used, size -= used;
			continue;
		}
		if (r != CHAIN_NEED_MORE && r != CHAIN_OPEN && r != -EACCES && r != -ECONNREFUSED &&
		    r != -EHOSTUNREACH && r != -EPROTO)
			__builtin_trap();
		return 0;
	}
	return 0;
}
