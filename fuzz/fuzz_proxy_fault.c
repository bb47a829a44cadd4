/* libFuzzer target: the reference proxy's --fault spec parser. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "proxy-under-test/fault.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char spec[256];
	if (size >= sizeof spec)
		return 0;
	memcpy(spec, data, size);
	spec[size] = '\0';
	struct fault f;
	const char *why = NULL;
	if (fault_parse(spec, &f, &why) == 0) {
		if (!(f.p >= 0 && f.p <= 1) || strcmp(fault_name(f.kind), "?") == 0)
			__builtin_trap();
		(void)fault_hits(&f, 12345);
	} else if (!why) {
		__builtin_trap();
	}
	return 0;
}
