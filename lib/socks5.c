/* socks5 — see socks5.h. Every parser checks len before each byte it reads and
 * reports an error as soon as the bytes that prove it have arrived, so feeding a
 * message one byte at a time gives NEED_MORE until it is complete or provably bad. */
#include "lib/socks5.h"

#ifdef _WIN32
#include <ws2tcpip.h> /* inet_pton, inet_ntop */
#else
#include <arpa/inet.h>
#endif
#include <errno.h>
#include <stdio.h>
#include <string.h>

static int error(int *err, int code)
{
	if (err)
		*err = code;
	return SOCKS5_ERROR;
}

const char *socks5_strerror(int err)
{
	switch (err) {
	case SOCKS5_E_NONE: return "no error";
	case SOCKS5_E_VERSION: return "wrong SOCKS version";
	case SOCKS5_E_NO_METHODS: return "no authentication methods offered";
	case SOCKS5_E_ATYP: return "unknown address type";
	case SOCKS5_E_RESERVED: return "reserved byte not zero";
	case SOCKS5_E_DOMAIN: return "empty domain name";
	case SOCKS5_E_AUTH_FIELD: return "bad username/password field";
	case SOCKS5_E_METHOD: return "server chose a method not offered";
	default: return "unknown SOCKS5 error";
	}
}

const char *socks5_reply_name(int rep)
{
	static const char *const names[] = {
		"succeeded", "general SOCKS server failure", "connection not allowed by ruleset",
		"network unreachable", "host unreachable", "connection refused", "TTL expired",
		"command not supported", "address type not supported",
	};
	return rep >= 0 && rep < (int)(sizeof names / sizeof names[0]) ? names[rep] : "unknown reply";
}

int socks5_addr_from_host(struct socks5_addr *addr, const char *host, uint16_t port)
{
	memset(addr, 0, sizeof *addr);
	addr->port = port;
	if (inet_pton(AF_INET, host, addr->ip) == 1) {
		addr->atyp = SOCKS5_ATYP_IPV4;
		return 0;
	}
	if (inet_pton(AF_INET6, host, addr->ip) == 1) {
		addr->atyp = SOCKS5_ATYP_IPV6;
		return 0;
	}
	size_t n = strlen(host);
	if (n == 0 || n > 255)
		return -EINVAL;
	addr->atyp = SOCKS5_ATYP_DOMAIN;
	memcpy(addr->domain, host, n + 1);
	return 0;
}

int socks5_addr_host(const struct socks5_addr *addr, char *out, size_t cap)
{
	char ip[INET6_ADDRSTRLEN] = "";
	const char *h = ip;
	if (addr->atyp == SOCKS5_ATYP_IPV4 || addr->atyp == SOCKS5_ATYP_IPV6)
		inet_ntop(addr->atyp == SOCKS5_ATYP_IPV4 ? AF_INET : AF_INET6, addr->ip, ip, sizeof ip);
	else if (addr->atyp == SOCKS5_ATYP_DOMAIN)
		h = addr->domain;
	int n = snprintf(out, cap, "%.*s", (int)strnlen(h, 255), h);
	if (!ip[0] && h == ip)
		return -EINVAL;
	return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}

int socks5_addr_format(const struct socks5_addr *addr, char *out, size_t cap)
{
	char ip[INET6_ADDRSTRLEN];
	int n;
	switch (addr->atyp) {
	case SOCKS5_ATYP_IPV4:
		inet_ntop(AF_INET, addr->ip, ip, sizeof ip);
		n = snprintf(out, cap, "%s:%u", ip, addr->port);
		break;
	case SOCKS5_ATYP_IPV6:
		inet_ntop(AF_INET6, addr->ip, ip, sizeof ip);
		n = snprintf(out, cap, "[%s]:%u", ip, addr->port);
		break;
	case SOCKS5_ATYP_DOMAIN:
		n = snprintf(out, cap, "%.*s:%u", (int)strnlen(addr->domain, 255), addr->domain,
			     addr->port);
		break;
	default:
		return -EINVAL;
	}
	return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}

/* Encodes ATYP + address + port at out; returns the length or -ENOSPC/-EINVAL. */
static int put_addr(uint8_t *out, size_t cap, const struct socks5_addr *a)
{
	size_t n;
	switch (a->atyp) {
	case SOCKS5_ATYP_IPV4: n = 1 + 4 + 2; break;
	case SOCKS5_ATYP_IPV6: n = 1 + 16 + 2; break;
	case SOCKS5_ATYP_DOMAIN: {
		size_t d = strnlen(a->domain, sizeof a->domain);
		if (d == 0 || d > 255)
			return -EINVAL;
		n = 1 + 1 + d + 2;
		break;
	}
	default: return -EINVAL;
	}
	if (n > cap)
		return -ENOSPC;
	out[0] = a->atyp;
	uint8_t *p = out + 1;
	if (a->atyp == SOCKS5_ATYP_IPV4) {
		memcpy(p, a->ip, 4);
		p += 4;
	} else if (a->atyp == SOCKS5_ATYP_IPV6) {
		memcpy(p, a->ip, 16);
		p += 16;
	} else {
		size_t d = strlen(a->domain);
		*p++ = (uint8_t)d;
		memcpy(p, a->domain, d);
		p += d;
	}
	p[0] = (uint8_t)(a->port >> 8);
	p[1] = (uint8_t)a->port;
	return (int)n;
}

/* True when a NUL is among the bytes of field [start, start+n) that have arrived. */
static bool nul_in(const uint8_t *in, size_t len, size_t start, size_t n)
{
	if (len <= start)
		return false;
	size_t have = len - start < n ? len - start : n;
	return memchr(in + start, 0, have) != NULL;
}

/* Parses ATYP + address + port from in[0..len). Returns bytes used, NEED_MORE, ERROR. */
static int get_addr(const uint8_t *in, size_t len, struct socks5_addr *a, int *err)
{
	memset(a, 0, sizeof *a);
	if (len < 1)
		return SOCKS5_NEED_MORE;
	size_t addr_len;
	switch (in[0]) {
	case SOCKS5_ATYP_IPV4: addr_len = 4; break;
	case SOCKS5_ATYP_IPV6: addr_len = 16; break;
	case SOCKS5_ATYP_DOMAIN:
		if (len < 2)
			return SOCKS5_NEED_MORE;
		if (in[1] == 0 || nul_in(in, len, 2, in[1]))
			return error(err, SOCKS5_E_DOMAIN);
		addr_len = 1 + (size_t)in[1];
		break;
	default:
		return error(err, SOCKS5_E_ATYP);
	}
	size_t need = 1 + addr_len + 2;
	if (len < need)
		return SOCKS5_NEED_MORE;
	a->atyp = in[0];
	if (a->atyp == SOCKS5_ATYP_DOMAIN) {
		memcpy(a->domain, in + 2, in[1]);
		a->domain[in[1]] = '\0';
	} else {
		memcpy(a->ip, in + 1, addr_len);
	}
	a->port = (uint16_t)(in[1 + addr_len] << 8 | in[2 + addr_len]);
	return (int)need;
}

/* VER, CMD or REP, RSV: the three bytes before the address of a request or reply. */
static int check_head(const uint8_t *in, size_t len, int *err)
{
	if (len >= 1 && in[0] != 5)
		return error(err, SOCKS5_E_VERSION);
	if (len >= 3 && in[2] != 0)
		return error(err, SOCKS5_E_RESERVED);
	return len < 3 ? SOCKS5_NEED_MORE : 0;
}

/* ---- client ---- */

int socks5_client_greeting(uint8_t *out, size_t cap, bool offer_userpass)
{
	size_t n = offer_userpass ? 4 : 3;
	if (cap < n)
		return -ENOSPC;
	out[0] = 5;
	out[1] = (uint8_t)(n - 2);
	out[2] = SOCKS5_METHOD_NONE;
	if (offer_userpass)
		out[3] = SOCKS5_METHOD_USERPASS;
	return (int)n;
}

int socks5_client_parse_method(const uint8_t *in, size_t len, uint8_t *method, int *err)
{
	if (len < 1)
		return SOCKS5_NEED_MORE;
	if (in[0] != 5)
		return error(err, SOCKS5_E_VERSION);
	if (len < 2)
		return SOCKS5_NEED_MORE;
	/* socks5_client_greeting offers only these; "no acceptable methods" (0xff) is a
	 * valid answer the caller turns into a refusal. */
	if (in[1] != SOCKS5_METHOD_NONE && in[1] != SOCKS5_METHOD_USERPASS &&
	    in[1] != SOCKS5_METHOD_UNACCEPTABLE)
		return error(err, SOCKS5_E_METHOD);
	*method = in[1];
	return 2;
}

int socks5_client_userpass(uint8_t *out, size_t cap, const char *user, const char *pass)
{
	size_t ul = strlen(user), pl = strlen(pass);
	if (ul == 0 || ul > 255 || pl == 0 || pl > 255)
		return -EINVAL;
	size_t n = 3 + ul + pl;
	if (cap < n)
		return -ENOSPC;
	out[0] = 1;
	out[1] = (uint8_t)ul;
	memcpy(out + 2, user, ul);
	out[2 + ul] = (uint8_t)pl;
	memcpy(out + 3 + ul, pass, pl);
	return (int)n;
}

int socks5_client_parse_userpass_reply(const uint8_t *in, size_t len, uint8_t *status, int *err)
{
	if (len < 1)
		return SOCKS5_NEED_MORE;
	if (in[0] != 1)
		return error(err, SOCKS5_E_VERSION);
	if (len < 2)
		return SOCKS5_NEED_MORE;
	*status = in[1];
	return 2;
}

int socks5_client_request(uint8_t *out, size_t cap, uint8_t cmd, const struct socks5_addr *dst)
{
	if (cap < 3)
		return -ENOSPC;
	out[0] = 5;
	out[1] = cmd;
	out[2] = 0;
	int n = put_addr(out + 3, cap - 3, dst);
	return n < 0 ? n : n + 3;
}

int socks5_client_parse_reply(const uint8_t *in, size_t len, uint8_t *rep,
			      struct socks5_addr *bound, int *err)
{
	int r = check_head(in, len, err);
	if (r < 0)
		return r;
	r = get_addr(in + 3, len - 3, bound, err);
	if (r < 0)
		return r;
	*rep = in[1];
	return r + 3;
}

/* ---- server ---- */

int socks5_server_parse_greeting(const uint8_t *in, size_t len, struct socks5_greeting *g, int *err)
{
	if (len < 1)
		return SOCKS5_NEED_MORE;
	if (in[0] != 5)
		return error(err, SOCKS5_E_VERSION);
	if (len < 2)
		return SOCKS5_NEED_MORE;
	if (in[1] == 0)
		return error(err, SOCKS5_E_NO_METHODS);
	if (len < 2u + in[1])
		return SOCKS5_NEED_MORE;
	g->nmethods = in[1];
	memcpy(g->methods, in + 2, in[1]);
	return 2 + in[1];
}

bool socks5_greeting_offers(const struct socks5_greeting *g, uint8_t method)
{
	return memchr(g->methods, method, g->nmethods) != NULL;
}

int socks5_server_method(uint8_t *out, size_t cap, uint8_t method)
{
	if (cap < 2)
		return -ENOSPC;
	out[0] = 5;
	out[1] = method;
	return 2;
}

int socks5_server_parse_userpass(const uint8_t *in, size_t len, char user[256], char pass[256],
				 int *err)
{
	if (len < 1)
		return SOCKS5_NEED_MORE;
	if (in[0] != 1)
		return error(err, SOCKS5_E_VERSION);
	if (len < 2)
		return SOCKS5_NEED_MORE;
	size_t ul = in[1];
	if (ul == 0 || nul_in(in, len, 2, ul))
		return error(err, SOCKS5_E_AUTH_FIELD);
	if (len < 2 + ul + 1)
		return SOCKS5_NEED_MORE;
	size_t pl = in[2 + ul];
	/* RFC 1929: PASSWD is 1 to 255 octets */
	if (pl == 0 || nul_in(in, len, 3 + ul, pl))
		return error(err, SOCKS5_E_AUTH_FIELD);
	if (len < 3 + ul + pl)
		return SOCKS5_NEED_MORE;
	memcpy(user, in + 2, ul);
	user[ul] = '\0';
	memcpy(pass, in + 3 + ul, pl);
	pass[pl] = '\0';
	return (int)(3 + ul + pl);
}

int socks5_server_userpass_reply(uint8_t *out, size_t cap, uint8_t status)
{
	if (cap < 2)
		return -ENOSPC;
	out[0] = 1;
	out[1] = status;
	return 2;
}

int socks5_server_parse_request(const uint8_t *in, size_t len, uint8_t *cmd,
				struct socks5_addr *dst, int *err)
{
	int r = check_head(in, len, err);
	if (r < 0)
		return r;
	r = get_addr(in + 3, len - 3, dst, err);
	if (r < 0)
		return r;
	*cmd = in[1];
	return r + 3;
}

int socks5_server_reply(uint8_t *out, size_t cap, uint8_t rep, const struct socks5_addr *bound)
{
	struct socks5_addr zero = {.atyp = SOCKS5_ATYP_IPV4};
	if (cap < 3)
		return -ENOSPC;
	out[0] = 5;
	out[1] = rep;
	out[2] = 0;
	int n = put_addr(out + 3, cap - 3, bound ? bound : &zero);
	return n < 0 ? n : n + 3;
}
