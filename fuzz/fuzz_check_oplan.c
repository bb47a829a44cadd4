/* libFuzzer target: check/oplan, the check origin's reading of a request target that
 * came through a proxy. The input is copied to an exact-size heap buffer (no NUL), so
 * ASan sees any read past it. Checks the contract as well as "no crash":
 *  - a parsed plan has an action, a tag of 1..47 allowed characters, sizes within
 *    OPLAN_MAX_SIZE, a status in 200..599, a drip interval in 1..10000;
 *  - a failure leaves the action OP_NONE;
 *  - the same target in absolute form parses the same.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check/oplan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 8192)
		return 0;
	char *t = malloc(size ? size : 1), *abs = malloc(size + 16);
	if (!t || !abs)
		goto out;
	memcpy(t, data, size);
	struct oplan p, q;
	int rc = oplan_parse(t, size, &p);
	if (rc < 0 && p.action != OP_NONE)
		__builtin_trap();
	if (rc == 0) {
		size_t n = strlen(p.tag);
		if (p.action == OP_NONE || n == 0 || n >= OPLAN_MAX_TAG || p.n > OPLAN_MAX_SIZE ||
		    p.m > OPLAN_MAX_SIZE)
			__builtin_trap();
		for (size_t i = 0; i < n; i++)
			if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
				    p.tag[i]))
				__builtin_trap();
		if (p.action == OP_STATUS && (p.n < 200 || p.n > 599))
			__builtin_trap();
		if (p.action == OP_DRIP && (p.m == 0 || p.m > 10000))
			__builtin_trap();
	}
	if (size > 0 && t[0] == '/') {
		memcpy(abs, "http://h:1", 10);
		memcpy(abs + 10, t, size);
		int rc2 = oplan_parse(abs, size + 10, &q);
		if (rc2 != rc || (rc == 0 && (q.action != p.action || q.n != p.n || q.m != p.m ||
					      strcmp(q.tag, p.tag) != 0 || strcmp(q.cc, p.cc) != 0)))
			__builtin_trap();
	}
out:
	free(t);
	free(abs);
	return 0;
}
