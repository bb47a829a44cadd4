/* libFuzzer target: target and proxy URL parsing, and formatting what parsed. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char s[8192];
	if (size >= sizeof s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	static struct url u;
	static char out[URL_MAX_PATH + URL_MAX_HOST + 64];
	const char *why = NULL;
	if (url_parse(s, &u, &why) == 0) {
		if (u.port == 0 || u.path[0] != '/')
			__builtin_trap();
		(void)url_absolute(&u, out, sizeof out);
	} else if (!why) {
		__builtin_trap();
	}
	if (url_parse_proxy(s, &u, &why) == 0)
		(void)url_authority(&u, false, out, sizeof out);
	return 0;
}
