/* base64 — see base64.h. */
#include "lib/base64.h"

#include <errno.h>
#include <stdint.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

long base64_encode(const void *in, size_t n, char *out, size_t cap)
{
	const uint8_t *p = in;
	size_t need = base64_encoded_len(n);
	if (cap < need + 1)
		return -ENOSPC;
	char *o = out;
	for (size_t i = 0; i < n; i += 3) {
		size_t left = n - i;
		uint32_t v = (uint32_t)p[i] << 16 | (left > 1 ? (uint32_t)p[i + 1] << 8 : 0) |
			     (left > 2 ? p[i + 2] : 0);
		*o++ = alphabet[v >> 18 & 63];
		*o++ = alphabet[v >> 12 & 63];
		*o++ = left > 1 ? alphabet[v >> 6 & 63] : '=';
		*o++ = left > 2 ? alphabet[v & 63] : '=';
	}
	*o = '\0';
	return (long)need;
}

/* The value of one alphabet character, or -1. */
static int value_of(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

long base64_decode(const char *in, size_t n, void *out, size_t cap)
{
	if (n % 4 != 0)
		return -EINVAL;
	size_t pad = 0;
	while (pad < 2 && pad < n && in[n - 1 - pad] == '=')
		pad++;
	size_t bytes = n / 4 * 3 - pad;
	if (bytes > cap)
		return -ENOSPC;
	uint8_t *o = out;
	size_t got = 0;
	for (size_t i = 0; i < n; i += 4) {
		uint32_t v = 0;
		for (size_t k = 0; k < 4; k++) {
			int d = i + k >= n - pad ? 0 : value_of(in[i + k]);
			if (d < 0)
				return -EINVAL; /* not of the alphabet, or '=' before the end */
			v = v << 6 | (uint32_t)d;
		}
		uint8_t group[3] = {(uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
		for (size_t k = 0; k < 3 && got < bytes; k++)
			o[got++] = group[k];
	}
	return (long)got;
}
