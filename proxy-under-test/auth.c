/* auth — see auth.h. */
#include "proxy-under-test/auth.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

int auth_basic(const char *user, const char *pass, char *out, size_t cap)
{
	char plain[AUTH_MAX_CREDENTIALS];
	int len = snprintf(plain, sizeof plain, "%s:%s", user, pass);
	if (len < 0 || (size_t)len >= sizeof plain || cap < 6 + ((size_t)len + 2) / 3 * 4 + 1)
		return -ENOSPC;
	memcpy(out, "Basic ", 6);
	/* Writes the padded encoding and a NUL. */
	return 6 + EVP_EncodeBlock((unsigned char *)out + 6, (const unsigned char *)plain, len);
}

bool auth_basic_ok(const char *value, size_t len, const char *user, const char *pass)
{
	if (len < 6 || strncasecmp(value, "Basic ", 6) != 0)
		return false; /* the scheme name is case-insensitive; the credentials are not */
	const char *b64 = value + 6;
	size_t blen = len - 6;
	unsigned char plain[AUTH_MAX_CREDENTIALS];
	if (blen == 0 || blen % 4 != 0 || blen / 4 * 3 > sizeof plain)
		return false;
	/* EVP_DecodeBlock takes '=' anywhere as zero bits and counts the padding in its
	 * result: padding is allowed only as the last one or two characters, and taken off. */
	size_t pad = 0;
	while (pad < 2 && b64[blen - 1 - pad] == '=')
		pad++;
	if (memchr(b64, '=', blen - pad))
		return false;
	int n = EVP_DecodeBlock(plain, (const unsigned char *)b64, (int)blen);
	if (n < 0 || (size_t)n < pad)
		return false;
	size_t got = (size_t)n - pad, ulen = strlen(user), plen = strlen(pass);
	return got == ulen + 1 + plen && memcmp(plain, user, ulen) == 0 && plain[ulen] == ':' &&
	       memcmp(plain + ulen + 1, pass, plen) == 0;
}
