/* url — see url.h. */
#include "lib/url.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Percent-decodes s[0..n) into out (cap bytes with NUL). Returns 0 or -EINVAL. */
static int pct_decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		if (c == '%') {
			if (i + 2 >= n)
				return -EINVAL;
			int hi = hexval(s[i + 1]), lo = hexval(s[i + 2]);
			if (hi < 0 || lo < 0)
				return -EINVAL;
			c = hi * 16 + lo;
			i += 2;
			if (c == 0)
				return -EINVAL;
		}
		if (o + 1 >= cap)
			return -EINVAL;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

static bool bad_char(unsigned char c)
{
	return c <= 0x20 || c >= 0x7f;
}

/* Parses "[userinfo@]host[:port]" authority[0..n). */
static int parse_authority(const char *a, size_t n, struct url *u, uint16_t default_port,
			   const char **why)
{
	const char *at = memchr(a, '@', n);
	/* The last '@' separates userinfo (a password may hold an escaped one only). */
	for (const char *p = a; p < a + n; p++)
		if (*p == '@')
			at = p;
	if (at) {
		const char *colon = memchr(a, ':', (size_t)(at - a));
		size_t ulen = colon ? (size_t)(colon - a) : (size_t)(at - a);
		if (pct_decode(a, ulen, u->user, sizeof u->user) < 0) {
			*why = "bad user name";
			return -EINVAL;
		}
		if (colon && pct_decode(colon + 1, (size_t)(at - colon - 1), u->pass, sizeof u->pass) < 0) {
			*why = "bad password";
			return -EINVAL;
		}
		u->has_userinfo = true;
		n -= (size_t)(at + 1 - a);
		a = at + 1;
	}
	const char *host = a, *port = NULL;
	size_t hlen;
	if (n > 0 && a[0] == '[') {
		const char *close = memchr(a, ']', n);
		if (!close) {
			*why = "unterminated IPv6 literal";
			return -EINVAL;
		}
		host = a + 1;
		hlen = (size_t)(close - a - 1);
		if (close + 1 < a + n) {
			if (close[1] != ':') {
				*why = "garbage after IPv6 literal";
				return -EINVAL;
			}
			port = close + 2;
		}
		u->host_is_ipv6 = true;
	} else {
		const char *colon = memchr(a, ':', n);
		hlen = colon ? (size_t)(colon - a) : n;
		if (colon)
			port = colon + 1;
	}
	if (hlen == 0) {
		*why = "empty host";
		return -EINVAL;
	}
	if (hlen >= sizeof u->host) {
		*why = "host too long";
		return -EINVAL;
	}
	for (size_t i = 0; i < hlen; i++)
		u->host[i] = (char)tolower((unsigned char)host[i]);
	u->host[hlen] = '\0';
	if (u->host_is_ipv6) {
		struct in6_addr a6;
		if (strchr(u->host, '%') || inet_pton(AF_INET6, u->host, &a6) != 1) {
			*why = "bad IPv6 literal (zone ids are not supported)";
			return -EINVAL;
		}
		u->host_is_literal = true;
	} else {
		struct in_addr a4;
		for (size_t i = 0; i < hlen; i++) {
			char c = u->host[i];
			if (!(isalnum((unsigned char)c) || c == '-' || c == '.' || c == '_')) {
				*why = "bad character in host";
				return -EINVAL;
			}
		}
		u->host_is_literal = inet_pton(AF_INET, u->host, &a4) == 1;
	}
	u->port = default_port;
	if (port) {
		size_t plen = (size_t)(a + n - port);
		if (plen == 0 || plen > 5) {
			*why = "bad port";
			return -EINVAL;
		}
		unsigned long v = 0;
		for (size_t i = 0; i < plen; i++) {
			if (port[i] < '0' || port[i] > '9') {
				*why = "bad port";
				return -EINVAL;
			}
			v = v * 10 + (unsigned long)(port[i] - '0');
		}
		if (v == 0 || v > 65535) {
			*why = "bad port";
			return -EINVAL;
		}
		u->port = (uint16_t)v;
		u->port_explicit = true;
	}
	return 0;
}

static int parse_common(const char *s, struct url *u, bool proxy, const char **why)
{
	static const char *unused;
	if (!why)
		why = &unused;
	memset(u, 0, sizeof *u);
	for (const char *p = s; *p; p++)
		if (bad_char((unsigned char)*p)) {
			*why = "space or control character";
			return -EINVAL;
		}
	const char *rest = s;
	const char *sep = strstr(s, "://");
	uint16_t default_port;
	if (sep) {
		size_t n = (size_t)(sep - s);
		char scheme[16];
		if (n >= sizeof scheme) {
			*why = "unsupported scheme";
			return -EINVAL;
		}
		for (size_t i = 0; i < n; i++)
			scheme[i] = (char)tolower((unsigned char)s[i]);
		scheme[n] = '\0';
		if (strcmp(scheme, "http") == 0)
			u->scheme = URL_HTTP;
		else if (strcmp(scheme, "https") == 0 && !proxy)
			u->scheme = URL_HTTPS;
		else if (strcmp(scheme, "socks5") == 0 && proxy)
			u->scheme = URL_SOCKS5;
		else if (strcmp(scheme, "socks5h") == 0 && proxy)
			u->scheme = URL_SOCKS5H;
		else {
			*why = "unsupported scheme";
			return -EINVAL;
		}
		rest = sep + 3;
	} else if (proxy) {
		u->scheme = URL_HTTP;
	} else {
		*why = "no scheme (http:// or https://)";
		return -EINVAL;
	}
	default_port = proxy ? 1080 : u->scheme == URL_HTTPS ? 443 : 80;
	size_t alen = strcspn(rest, "/?#");
	struct url tmp = *u;
	if (parse_authority(rest, alen, &tmp, default_port, why) < 0)
		return -EINVAL;
	*u = tmp;
	const char *path = rest + alen;
	size_t plen = strcspn(path, "#");
	if (proxy && !(plen == 0 || (plen == 1 && path[0] == '/'))) {
		*why = "a proxy URL has no path";
		return -EINVAL;
	}
	if (plen + 2 > sizeof u->path) {
		*why = "path too long";
		return -EINVAL;
	}
	size_t o = 0;
	if (plen == 0 || path[0] != '/')
		u->path[o++] = '/';
	memcpy(u->path + o, path, plen);
	u->path[o + plen] = '\0';
	return 0;
}

int url_parse(const char *s, struct url *u, const char **why)
{
	return parse_common(s, u, false, why);
}

int url_parse_proxy(const char *s, struct url *u, const char **why)
{
	return parse_common(s, u, true, why);
}

static uint16_t scheme_default_port(enum url_scheme s)
{
	return s == URL_HTTPS ? 443 : s == URL_HTTP ? 80 : 1080;
}

int url_authority(const struct url *u, bool default_port_ok, char *out, size_t cap)
{
	bool omit = default_port_ok && u->port == scheme_default_port(u->scheme);
	int n = u->host_is_ipv6 ? snprintf(out, cap, omit ? "[%s]" : "[%s]:%u", u->host, u->port)
				: snprintf(out, cap, omit ? "%s" : "%s:%u", u->host, u->port);
	return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}

int url_absolute(const struct url *u, char *out, size_t cap)
{
	char auth[URL_MAX_HOST + 16];
	if (url_authority(u, true, auth, sizeof auth) < 0)
		return -ENOSPC;
	int n = snprintf(out, cap, "%s://%s%s", u->scheme == URL_HTTPS ? "https" : "http", auth, u->path);
	return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}

/* True when host matches one entry of a no_proxy list (suffix match on dot
 * boundaries, "*" for all; ":port" and a leading "." ignored). */
static bool no_proxy_match(const char *list, const char *host)
{
	size_t hlen = strlen(host);
	const char *p = list;
	while (*p) {
		while (*p == ',' || *p == ' ')
			p++;
		size_t n = strcspn(p, ", ");
		if (n == 0)
			break;
		const char *e = p;
		size_t elen = n;
		if (elen == 1 && e[0] == '*')
			return true;
		const char *colon = memchr(e, ':', elen);
		if (colon && e[0] != '[')
			elen = (size_t)(colon - e);
		if (elen && e[0] == '.') {
			e++;
			elen--;
		}
		if (elen && elen <= hlen && strncasecmp(host + hlen - elen, e, elen) == 0 &&
		    (elen == hlen || host[hlen - elen - 1] == '.'))
			return true;
		p += n;
	}
	return false;
}

const char *url_proxy_from_env(const struct url *target, const char *(*getenv_fn)(const char *))
{
	const char *no = getenv_fn("no_proxy");
	if (!no || !*no)
		no = getenv_fn("NO_PROXY");
	if (no && *no && no_proxy_match(no, target->host))
		return NULL;
	const char *p = NULL;
	if (target->scheme == URL_HTTP) {
		p = getenv_fn("http_proxy"); /* lower case only, as curl (httpoxy) */
	} else {
		p = getenv_fn("https_proxy");
		if (!p || !*p)
			p = getenv_fn("HTTPS_PROXY");
	}
	if (!p || !*p)
		p = getenv_fn("all_proxy");
	if (!p || !*p)
		p = getenv_fn("ALL_PROXY");
	return p && *p ? p : NULL;
}
