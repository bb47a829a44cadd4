/* auth — see auth.h. */
#include "proxy-under-test/auth.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/base64.h"

int auth_basic(const char *user, const char *pass, char *out, size_t cap)
{
	char plain[AUTH_MAX_CREDENTIALS];
	int len = snprintf(plain, sizeof plain, "%s:%s", user, pass);
	if (len < 0 || (size_t)len >= sizeof plain || cap < 6 + base64_encoded_len((size_t)len) + 1)
		return -ENOSPC;
	memcpy(out, "Basic ", 6);
	/* Writes the padded encoding and a NUL. */
	return 6 + (int)base64_encode(plain, (size_t)len, out + 6, cap - 6);
}

bool auth_basic_ok(const char *value, size_t len, const char *user, const char *pass)
{
	if (len < 6 || strncasecmp(value, "Basic ", 6) != 0)
		return false; /* the scheme name is case-insensitive; the credentials are not */
	const char *b64 = value + 6;
	size_t blen = len - 6;
	unsigned char plain[AUTH_MAX_CREDENTIALS];
	if (blen == 0)
		return false;
	long n = base64_decode(b64, blen, plain, sizeof plain); /* strict: '=' only at the end */
	if (n < 0)
		return false;
	size_t got = (size_t)n, ulen = strlen(user), plen = strlen(pass);
	return got == ulen + 1 + plen && memcmp(plain, user, ulen) == 0 && plain[ulen] == ':' &&
	       memcmp(plain + ulen + 1, pass, plen) == 0;
}
