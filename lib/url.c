/* url — see url.h. One pass over the string, left to right: scheme, authority
 * (userinfo, host, port), then path and query; the fragment is dropped. Every field is
 * written into the caller's struct with an explicit length check, and *why names the
 * first thing that was wrong.
 */
#include "lib/url.h"

#ifdef _WIN32
#include <ws2tcpip.h> /* inet_pton, inet_ntop */
#else
#include <arpa/inet.h>
#endif
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lib/hex.h"

static bool is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int to_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

/* Percent-decodes s[0..n) into out (cap bytes including the NUL). An escaped NUL is
 * refused: it would silently cut the credential short. Returns 0, -EINVAL for a bad
 * escape, -ENAMETOOLONG when the result does not fit. */
static int pct_decode(const char *s, size_t n, char *out, size_t cap)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[i];
		if (c == '%') {
			if (n - i < 3)
				return -EINVAL;
			int hi = hex_digit(s[i + 1]), lo = hex_digit(s[i + 2]);
			if (hi < 0 || lo < 0)
				return -EINVAL;
			c = hi * 16 + lo;
			i += 2;
			if (c == 0)
				return -EINVAL;
		}
		if (o + 1 >= cap)
			return -ENAMETOOLONG;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}

static int fail(const char **why, const char *reason)
{
	*why = reason;
	return -EINVAL;
}

static uint16_t scheme_default_port(enum url_scheme s, bool proxy)
{
	if (proxy)
		return 1080;
	return s == URL_HTTPS ? 443 : 80;
}

static const char *scheme_name(enum url_scheme s)
{
	switch (s) {
	case URL_HTTPS: return "https";
	case URL_SOCKS5: return "socks5";
	case URL_SOCKS5H: return "socks5h";
	case URL_HTTP:
	default: return "http";
	}
}

/* Reads "scheme://" at the start of s (RFC 3986: ALPHA *( ALPHA / DIGIT / "+" / "-" /
 * "." )). Returns the scheme length, or 0 when s does not start with one. */
static size_t scheme_len(const char *s)
{
	if (!is_alpha((unsigned char)s[0]))
		return 0;
	size_t n = 1;
	while (is_alpha((unsigned char)s[n]) || is_digit((unsigned char)s[n]) || s[n] == '+' ||
	       s[n] == '-' || s[n] == '.')
		n++;
	return strncmp(s + n, "://", 3) == 0 ? n : 0;
}

static int parse_scheme(const char *s, size_t n, bool proxy, struct url *u, const char **why)
{
	static const struct {
		const char *name;
		enum url_scheme scheme;
		bool target, proxy;
	} schemes[] = {
		{"http", URL_HTTP, true, true},
		{"https", URL_HTTPS, true, false},
		{"socks5", URL_SOCKS5, false, true},
		{"socks5h", URL_SOCKS5H, false, true},
	};
	for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
		if (strlen(schemes[i].name) != n || strncasecmp(s, schemes[i].name, n) != 0)
			continue;
		if (proxy ? !schemes[i].proxy : !schemes[i].target)
			break;
		u->scheme = schemes[i].scheme;
		return 0;
	}
	return fail(why, proxy ? "unsupported proxy scheme (http, socks5, socks5h)"
			       : "unsupported scheme (http or https)");
}

static int parse_userinfo(const char *a, size_t n, struct url *u, const char **why)
{
	const char *colon = memchr(a, ':', n);
	size_t ulen = colon ? (size_t)(colon - a) : n;
	int r = pct_decode(a, ulen, u->user, sizeof u->user);
	if (r < 0)
		return fail(why, r == -ENAMETOOLONG ? "user name too long" : "bad escape in user name");
	if (colon) {
		r = pct_decode(colon + 1, n - ulen - 1, u->pass, sizeof u->pass);
		if (r < 0)
			return fail(why, r == -ENAMETOOLONG ? "password too long" : "bad escape in password");
	}
	u->has_userinfo = true;
	return 0;
}

/* True when label is all digits, or "0x" and hex digits: a host whose last label looks
 * like that is meant as an IPv4 address (WHATWG "ends in a number"), so when it is not
 * a dotted quad it is an error, never a name to look up. */
static bool label_is_number(const char *label, size_t n)
{
	if (n == 0)
		return false;
	size_t i = 0;
	bool hex = n >= 2 && label[0] == '0' && (label[1] == 'x' || label[1] == 'X');
	if (hex)
		i = 2;
	for (; i < n; i++)
		if (hex ? hex_digit(label[i]) < 0 : !is_digit(label[i]))
			return false;
	return true;
}

static int parse_ipv6_host(const char *h, size_t n, struct url *u, const char **why)
{
	char text[64];
	struct in6_addr a6;
	if (n == 0)
		return fail(why, "empty host");
	if (memchr(h, '%', n))
		return fail(why, "IPv6 zone ids are not supported");
	if (n >= sizeof text)
		return fail(why, "bad IPv6 literal");
	memcpy(text, h, n);
	text[n] = '\0';
	if (inet_pton(AF_INET6, text, &a6) != 1)
		return fail(why, "bad IPv6 literal");
	/* The canonical text form (RFC 5952), as curl does: "[0::1]" and "[::1]" are one
	 * host for no_proxy, Host headers and ledgers alike. */
	if (!inet_ntop(AF_INET6, &a6, u->host, sizeof u->host))
		return fail(why, "bad IPv6 literal");
	u->host_is_ipv6 = true;
	u->host_is_literal = true;
	return 0;
}

static int parse_name_host(const char *h, size_t n, struct url *u, const char **why)
{
	if (n == 0)
		return fail(why, "empty host");
	if (n >= sizeof u->host)
		return fail(why, "host too long");
	size_t label_start = 0;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)h[i];
		if (c == '.') {
			if (i == label_start)
				return fail(why, "empty label in host");
			label_start = i + 1;
		} else if (!(is_alpha(c) || is_digit(c) || c == '-' || c == '_')) {
			return fail(why, c == '%' ? "percent-encoded host names are not supported"
						  : "bad character in host");
		}
		u->host[i] = (char)to_lower(c);
	}
	u->host[n] = '\0';
	struct in_addr a4;
	if (inet_pton(AF_INET, u->host, &a4) == 1) {
		u->host_is_literal = true;
		return 0;
	}
	/* The last label, ignoring one trailing dot ("example.com." is a name). */
	size_t end = n, start;
	if (end > 0 && u->host[end - 1] == '.')
		end--;
	for (start = end; start > 0 && u->host[start - 1] != '.'; start--)
		;
	if (label_is_number(u->host + start, end - start))
		return fail(why, "bad IPv4 address (only dotted quads)");
	return 0;
}

static int parse_port(const char *p, size_t n, struct url *u, const char **why)
{
	/* An empty port is legal in RFC 3986 but is nearly always "host:$PORT" with PORT
	 * unset; silently going to port 80 would hide that. */
	if (n == 0)
		return fail(why, "empty port");
	uint32_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit((unsigned char)p[i]))
			return fail(why, "bad port");
		v = v * 10 + (uint32_t)(p[i] - '0');
		if (v > 65535)
			return fail(why, "bad port (above 65535)");
	}
	if (v == 0)
		return fail(why, "bad port (0)");
	u->port = (uint16_t)v;
	u->port_explicit = true;
	return 0;
}

/* Parses "[userinfo@]host[:port]" in a[0..n). */
static int parse_authority(const char *a, size_t n, struct url *u, const char **why)
{
	/* The last '@' ends the userinfo: a literal '@' in a password must be escaped, but
	 * browsers and curl both split at the last one, so a raw one still works. */
	const char *at = NULL;
	for (size_t i = 0; i < n; i++)
		if (a[i] == '@')
			at = a + i;
	if (at) {
		if (parse_userinfo(a, (size_t)(at - a), u, why) < 0)
			return -EINVAL;
		n -= (size_t)(at + 1 - a);
		a = at + 1;
	}
	const char *port = NULL;
	size_t hlen;
	int r;
	if (n > 0 && a[0] == '[') {
		const char *close = memchr(a, ']', n);
		if (!close)
			return fail(why, "unterminated IPv6 literal");
		hlen = (size_t)(close - a - 1);
		if (close + 1 < a + n) {
			if (close[1] != ':')
				return fail(why, "garbage after IPv6 literal");
			port = close + 2;
		}
		r = parse_ipv6_host(a + 1, hlen, u, why);
	} else {
		const char *colon = memchr(a, ':', n);
		hlen = colon ? (size_t)(colon - a) : n;
		if (colon)
			port = colon + 1;
		r = parse_name_host(a, hlen, u, why);
	}
	if (r < 0)
		return r;
	if (port)
		return parse_port(port, (size_t)(a + n - port), u, why);
	return 0;
}

static int parse_common(const char *s, struct url *u, bool proxy, const char **why)
{
	const char *ignored;
	if (!why)
		why = &ignored;
	memset(u, 0, sizeof *u);
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c >= 0x80)
			return fail(why, "non-ASCII character (percent-encode it)");
		if (c <= 0x20 || c == 0x7f)
			return fail(why, "space or control character");
	}
	const char *rest = s;
	size_t slen = scheme_len(s);
	if (slen) {
		if (parse_scheme(s, slen, proxy, u, why) < 0)
			return -EINVAL;
		rest = s + slen + 3;
	} else if (proxy) {
		u->scheme = URL_HTTP; /* "host:port" means an HTTP proxy, as in curl */
	} else {
		return fail(why, "no scheme (http:// or https://)");
	}
	u->port = scheme_default_port(u->scheme, proxy);
	size_t alen = strcspn(rest, "/?#");
	if (parse_authority(rest, alen, u, why) < 0)
		return -EINVAL;

	const char *path = rest + alen;
	size_t plen = strcspn(path, "#");
	if (proxy) {
		if (!(plen == 0 || (plen == 1 && path[0] == '/')))
			return fail(why, "a proxy URL has no path or query");
		u->path[0] = '/';
		return 0;
	}
	size_t o = path[0] == '/' ? 0 : 1; /* "" and "?q" get the leading "/" */
	if (o + plen >= sizeof u->path)
		return fail(why, "path too long");
	u->path[0] = '/';
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

int url_authority(const struct url *u, bool default_port_ok, char *out, size_t cap)
{
	bool proxy = u->scheme == URL_SOCKS5 || u->scheme == URL_SOCKS5H;
	bool omit = default_port_ok && u->port == scheme_default_port(u->scheme, proxy);
	const char *open = u->host_is_ipv6 ? "[" : "", *close = u->host_is_ipv6 ? "]" : "";
	int n = omit ? snprintf(out, cap, "%s%s%s", open, u->host, close)
		     : snprintf(out, cap, "%s%s%s:%u", open, u->host, close, (unsigned)u->port);
	return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}

int url_absolute(const struct url *u, char *out, size_t cap)
{
	char auth[URL_MAX_HOST + 16];
	if (url_authority(u, true, auth, sizeof auth) < 0)
		return -ENOSPC;
	int n = snprintf(out, cap, "%s://%s%s", scheme_name(u->scheme), auth,
			 u->path[0] ? u->path : "/");
	return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}

/* ---- --connect-to, as curl parses it ---- */

/* The next ':'-separated field of s at *pos (a bracketed IPv6 literal is one field);
 * its bounds in *start and *len, brackets excluded and *bracketed set. -1 when malformed. */
static int next_field(const char *s, size_t *pos, bool last, const char **start, size_t *len,
		      bool *bracketed)
{
	const char *p = s + *pos;
	*bracketed = *p == '[';
	if (*bracketed) {
		const char *close = strchr(p, ']');
		if (!close)
			return -1;
		*start = p + 1;
		*len = (size_t)(close - p - 1);
		p = close + 1;
		if (*p != (last ? '\0' : ':'))
			return -1;
	} else {
		const char *end = last ? p + strlen(p) : strchr(p, ':');
		if (!end)
			return -1;
		*start = p;
		*len = (size_t)(end - p);
		p = end;
	}
	*pos = (size_t)(p - s) + (last ? 0 : 1);
	return 0;
}

/* A rule's host field into out ("" stays ""); literal/ipv6 as url_parse sets them. */
static int connect_to_host(const char *h, size_t n, bool bracketed, char *out, bool *ipv6,
			   bool *literal, const char **why)
{
	struct url u;
	memset(&u, 0, sizeof u);
	if (n == 0 && !bracketed) {
		out[0] = '\0';
		return 0;
	}
	int r = bracketed ? parse_ipv6_host(h, n, &u, why) : parse_name_host(h, n, &u, why);
	if (r < 0)
		return r;
	memcpy(out, u.host, sizeof u.host);
	if (ipv6)
		*ipv6 = u.host_is_ipv6;
	if (literal)
		*literal = u.host_is_literal;
	return 0;
}

static int connect_to_port(const char *p, size_t n, uint16_t *out, const char **why)
{
	struct url u;
	*out = 0;
	if (n == 0)
		return 0;
	if (parse_port(p, n, &u, why) < 0)
		return -EINVAL;
	*out = u.port;
	return 0;
}

int url_parse_connect_to(const char *s, struct url_connect_to *c, const char **why)
{
	memset(c, 0, sizeof *c);
	size_t pos = 0;
	const char *f[4];
	size_t len[4];
	bool br[4];
	for (int i = 0; i < 4; i++)
		if (next_field(s, &pos, i == 3, &f[i], &len[i], &br[i]) < 0)
			return fail(why, "want HOST:PORT:ADDR:PORT");
	if (br[1] || br[3])
		return fail(why, "bad port");
	if (connect_to_host(f[0], len[0], br[0], c->host, NULL, NULL, why) < 0 ||
	    connect_to_port(f[1], len[1], &c->port, why) < 0 ||
	    connect_to_host(f[2], len[2], br[2], c->to_host, &c->to_is_ipv6, &c->to_is_literal, why) < 0 ||
	    connect_to_port(f[3], len[3], &c->to_port, why) < 0)
		return -EINVAL;
	return 0;
}

bool url_connect_to_matches(const struct url_connect_to *c, const struct url *u)
{
	return (!c->host[0] || strcmp(c->host, u->host) == 0) && (!c->port || c->port == u->port);
}

/* ---- no_proxy, as curl (7.86+) matches it ---- */

/* Reads the "/bits" suffix as curl does with atoi: leading digits, else 0. Returns
 * the bits, or -1 when the number cannot be a prefix length at all. */
static int cidr_bits(const char *s)
{
	int bits = 0;
	if (!is_digit((unsigned char)*s))
		return *s == '-' ? -1 : 0;
	for (; is_digit((unsigned char)*s); s++) {
		bits = bits * 10 + (*s - '0');
		if (bits > 128)
			return -1;
	}
	return bits;
}

/* Does address (4 or 16 bytes) fall inside network/bits? bits 0 means the whole
 * address must be equal, as in curl. */
static bool prefix_match(const uint8_t *addr, const uint8_t *net, unsigned len, int bits)
{
	if (bits < 0 || bits > (int)len * 8)
		return false;
	if (bits == 0)
		bits = (int)len * 8;
	unsigned whole = (unsigned)bits / 8, rest = (unsigned)bits % 8;
	if (memcmp(addr, net, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return ((addr[whole] ^ net[whole]) & mask) == 0;
}

/* One no_proxy token against an address literal: "1.2.3.4", "10.0.0.0/8", "::1",
 * "fd00::/8". */
static bool token_matches_address(const char *tok, size_t n, const struct url *t)
{
	char buf[64];
	if (n >= sizeof buf)
		return false;
	memcpy(buf, tok, n);
	buf[n] = '\0';
	int bits = 0;
	char *slash = strchr(buf, '/');
	if (slash) {
		bits = cidr_bits(slash + 1);
		*slash = '\0';
	}
	int af = t->host_is_ipv6 ? AF_INET6 : AF_INET;
	uint8_t addr[16], net[16];
	if (inet_pton(af, t->host, addr) != 1 || inet_pton(af, buf, net) != 1)
		return false;
	return prefix_match(addr, net, af == AF_INET6 ? 16 : 4, bits);
}

/* One token against a host name: equal, or a suffix on a label boundary, ignoring
 * case, one leading dot and one trailing dot on the token. */
static bool token_matches_name(const char *tok, size_t n, const char *host, size_t hlen)
{
	if (n > 0 && tok[n - 1] == '.')
		n--;
	if (n > 0 && tok[0] == '.') {
		tok++;
		n--;
	}
	if (n == 0 || n > hlen)
		return false;
	if (n < hlen && host[hlen - n - 1] != '.')
		return false;
	return strncasecmp(host + hlen - n, tok, n) == 0;
}

static bool no_proxy_match(const char *list, const struct url *t)
{
	if (strcmp(list, "*") == 0) /* only the whole value: "a,*" matches nothing extra */
		return true;
	size_t hlen = strlen(t->host);
	if (hlen == 0)
		return false;
	if (!t->host_is_literal && t->host[hlen - 1] == '.')
		hlen--;
	const char *p = list;
	while (*p) {
		p += strspn(p, ", \t");
		size_t n = strcspn(p, ", \t");
		if (n == 0)
			break;
		if (t->host_is_literal ? token_matches_address(p, n, t)
				       : token_matches_name(p, n, t->host, hlen))
			return true;
		p += n;
	}
	return false;
}

/* curl's curl_getenv: an empty variable counts as unset. */
static const char *env_value(const char *(*getenv_fn)(const char *), const char *name)
{
	const char *v = getenv_fn(name);
	return v && *v ? v : NULL;
}

const char *url_proxy_from_env(const struct url *target, const char *(*getenv_fn)(const char *))
{
	const char *no = env_value(getenv_fn, "no_proxy");
	if (!no)
		no = env_value(getenv_fn, "NO_PROXY");
	if (no && no_proxy_match(no, target))
		return NULL;
	const char *p;
	if (target->scheme == URL_HTTPS) {
		p = env_value(getenv_fn, "https_proxy");
		if (!p)
			p = env_value(getenv_fn, "HTTPS_PROXY");
	} else {
		/* Never HTTP_PROXY: in a CGI environment a request header "Proxy:" becomes
		 * HTTP_PROXY ("httpoxy"), so curl reads only the lower-case name. */
		p = env_value(getenv_fn, "http_proxy");
	}
	if (!p)
		p = env_value(getenv_fn, "all_proxy");
	if (!p)
		p = env_value(getenv_fn, "ALL_PROXY");
	return p;
}

const char *url_origin_form(const char *target, size_t *len)
{
	size_t skip = *len >= 7 && strncasecmp(target, "http://", 7) == 0	  ? 7
		      : *len >= 8 && strncasecmp(target, "https://", 8) == 0 ? 8
									  : 0;
	if (!skip)
		return target;
	const char *slash = memchr(target + skip, '/', *len - skip);
	if (!slash) {
		*len = 1;
		return "/";
	}
	*len -= (size_t)(slash - target);
	return slash;
}
