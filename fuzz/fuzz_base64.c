/* Fuzz target for lib/base64: the input decoded (any bytes: it must refuse or decode,
 * never overrun), and whatever decodes must encode back to the input but for the
 * unused bits of a padded group; the input encoded, then decoded back to itself.
 * Seeds: fuzz/corpus/base64/. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base64.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	static unsigned char plain[4096], back[4096];
	static char coded[8192];
	long n = base64_decode((const char *)data, size, plain, sizeof plain);
	if (n >= 0) {
		long len = base64_encode(plain, (size_t)n, coded, sizeof coded);
		if (len != (long)size)
			abort(); /* a decoded input re-encodes to as many characters */
		long again = base64_decode(coded, (size_t)len, back, sizeof back);
		if (again != n || memcmp(back, plain, (size_t)n) != 0)
			abort();
	}
	long len = base64_encode(data, size, coded, sizeof coded);
	if (len < 0 || base64_decode(coded, (size_t)len, back, sizeof back) != (long)size ||
	    memcmp(back, data, size) != 0)
		abort();
	return 0;
}
