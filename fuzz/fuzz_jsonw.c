/* Fuzz target for lib/jsonw: the input is a program of writer calls (its first two
 * bytes choose the buffer's size) run through tests/helpers/jsonw_roundtrip.h, which
 * aborts here when jsonw and jansson disagree: a document jsonw accepted that jansson
 * cannot read back as built, -ENOSPC for one that fits, a call out of place not
 * refused. Seeds: fuzz/corpus/jsonw/. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "tests/helpers/jsonw_roundtrip.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	size_t cap = 1 + ((size_t)data[0] << 8 | data[1]);
	const char *why = jsonw_roundtrip(data + 2, size - 2, cap);
	if (why) {
		fprintf(stderr, "jsonw: %s\n", why);
		abort();
	}
	return 0;
}
