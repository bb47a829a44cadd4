/* auth — the reference proxy's credentials: HTTP Basic (RFC 7617) for the
 * Proxy-Authorization it checks (--auth) and sends (an upstream's user:pass), with
 * the same limits as SOCKS5's RFC 1929 fields. Pure functions; lib/base64 (no OpenSSL, so the Windows
 * build has them too). */
#ifndef TP_PROXY_AUTH_H
#define TP_PROXY_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#define AUTH_MAX_CREDENTIALS 520 /* "user:pass": 255 each (RFC 1929) */

/* "Basic base64(user:pass)" (RFC 7617) into out, NUL-terminated. Returns its length, or
 * -ENOSPC when "user:pass" is AUTH_MAX_CREDENTIALS or longer or out is too small. */
int auth_basic(const char *user, const char *pass, char *out, size_t cap);
/* Does a Proxy-Authorization value value[0..len) ("Basic " and the base64 of
 * user:pass) carry exactly these credentials? Malformed base64 never matches. */
bool auth_basic_ok(const char *value, size_t len, const char *user, const char *pass);

#endif
