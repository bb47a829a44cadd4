/* libFuzzer target: the origin's site file parser and route matching. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "replay/sites.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sites s;
	char err[300];
	if (sites_parse(&s, (const char *)data, size, "fuzz", err, sizeof err) != 0) {
		if (strncmp(err, "fuzz:", 5) != 0)
			__builtin_trap();
		return 0;
	}
	struct plan p;
	sites_plan(&s, "GET", "www.baidu.com", "/", &p);
	sites_plan(&s, "POST", "", "/sink?x=1", &p);
	if (p.status < 100 || p.status > 999)
		__builtin_trap();
	return 0;
}
