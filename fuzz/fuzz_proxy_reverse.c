/* libFuzzer target: the reference proxy's reverse-mode option parser (--reverse,
 * --rate-limit, --breaker: the first byte picks which) and the origin URL it makes of
 * a request head (the input, when it parses as one). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/http1.h"
#include "proxy-under-test/reverse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const opts[] = {"--reverse", "--rate-limit", "--breaker"};
	char val[512];
	if (size < 1 || size >= sizeof val)
		return 0;
	memcpy(val, data + 1, size - 1);
	val[size - 1] = '\0';
	struct reverse_config rc = {0};
	const char *why = NULL;
	int r = reverse_option(&rc, opts[data[0] % 3], val, &why);
	if (r < 0 && !why)
		__builtin_trap();
	if (r > 0 && (rc.rate < 0 || rc.rate > RATELIMIT_MAX_RATE || (rc.burst && rc.burst < 1) ||
		      (data[0] % 3 == 2 && (!rc.breaker_failures || !(rc.breaker_cooldown_s > 0)))))
		__builtin_trap();
	/* A rate parsed is one the bucket takes: it never divides by zero or waits 0 s. */
	if (r > 0 && rc.rate > 0) {
		struct ratelimit rl;
		unsigned ra = 0;
		ratelimit_init(&rl, rc.rate, rc.burst);
		for (int i = 0; i < 4 && ratelimit_take(&rl, 1000, &ra); i++)
			;
		if (!ratelimit_take(&rl, 1000, &ra) && ra < 1)
			__builtin_trap();
	}
	struct http1_request req;
	int err;
	if (http1_parse_request((const char *)data, size, HTTP1_MAX_HEAD, &req, &err) > 0) {
		struct reverse_config origin = {0};
		struct url u;
		if (reverse_option(&origin, "--reverse", "http://127.0.0.1:8080", &why) != 1)
			__builtin_trap();
		if (reverse_target(&origin, &req, &u) && strlen(u.path) >= sizeof u.path)
			__builtin_trap();
	}
	return 0;
}
