/* libFuzzer target: the report's JSON-object scanner (reports/jscan.c), which reads
 * probe records line by line; every member must lie inside the input. */
#include <stddef.h>
#include <stdint.h>

#include "reports/jscan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	struct jscan s;
	struct jscan_member m;
	char out[256];
	jscan_init(&s, buf, size);
	for (int i = 0; i < 10000 && jscan_next(&s, &m) > 0; i++) {
		/* An escaped key is reported as "" (it matches nothing): only real spans are checked. */
		if ((m.key_len && (m.key < buf || m.key + m.key_len > buf + size)) ||
		    (m.val_len && (m.val < buf || m.val + m.val_len > buf + size)))
			__builtin_trap();
		if (m.type == JSCAN_NUMBER)
			(void)jscan_number(&m);
		if (m.type == JSCAN_STRING && jscan_string(&m, out, sizeof out) >= sizeof out)
			__builtin_trap();
		(void)jscan_key_is(&m, "class");
	}
	return 0;
}
