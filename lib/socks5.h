/* socks5 — sans-I/O SOCKS version 5 (RFC 1928) with username/password (RFC 1929),
 * both the client side (the probe) and the server side (the reference proxy).
 *
 * Encoders write into the caller's buffer and return the length, or -ENOSPC /
 * -EINVAL. Parsers read from the caller's buffer and return bytes consumed (> 0),
 * SOCKS5_NEED_MORE (-2), or SOCKS5_ERROR (-1) with *err set to a SOCKS5_E_* code (err
 * may be NULL). A parser never reads past len, and it may be called again with the
 * same message grown by any number of bytes: a prefix of a valid message gives
 * NEED_MORE; a bad one gives ERROR as soon as the bytes proving it are in. Nothing
 * allocates; nothing keeps pointers into the input after returning except
 * where a field says it points into the input.
 */
#ifndef TP_SOCKS5_H
#define TP_SOCKS5_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SOCKS5_ERROR (-1)
#define SOCKS5_NEED_MORE (-2)

enum {
	SOCKS5_METHOD_NONE = 0x00,
	SOCKS5_METHOD_USERPASS = 0x02,
	SOCKS5_METHOD_UNACCEPTABLE = 0xff,
};

enum { SOCKS5_CMD_CONNECT = 1, SOCKS5_CMD_BIND = 2, SOCKS5_CMD_UDP_ASSOCIATE = 3 };
enum { SOCKS5_ATYP_IPV4 = 1, SOCKS5_ATYP_DOMAIN = 3, SOCKS5_ATYP_IPV6 = 4 };

/* Reply codes (RFC 1928 §6). */
enum {
	SOCKS5_REP_SUCCEEDED = 0,
	SOCKS5_REP_GENERAL_FAILURE = 1,
	SOCKS5_REP_NOT_ALLOWED = 2,
	SOCKS5_REP_NETWORK_UNREACHABLE = 3,
	SOCKS5_REP_HOST_UNREACHABLE = 4,
	SOCKS5_REP_CONNECTION_REFUSED = 5,
	SOCKS5_REP_TTL_EXPIRED = 6,
	SOCKS5_REP_COMMAND_NOT_SUPPORTED = 7,
	SOCKS5_REP_ATYP_NOT_SUPPORTED = 8,
};

enum socks5_error {
	SOCKS5_E_NONE = 0,
	SOCKS5_E_VERSION,     /* first byte is not 5 (or 1 in a RFC 1929 exchange) */
	SOCKS5_E_NO_METHODS,  /* greeting lists zero methods */
	SOCKS5_E_ATYP,        /* unknown address type */
	SOCKS5_E_RESERVED,    /* reserved byte not zero */
	SOCKS5_E_DOMAIN,      /* empty domain name */
	SOCKS5_E_AUTH_FIELD,  /* empty or malformed username/password field */
	SOCKS5_E_METHOD,      /* server chose a method the client did not offer (one that
			       * socks5_client_greeting never offers) */
};

const char *socks5_strerror(int err);
/* "succeeded", "general SOCKS server failure", ... or "unknown reply" */
const char *socks5_reply_name(int rep);

/* A destination or bound address. */
struct socks5_addr {
	uint8_t atyp;          /* SOCKS5_ATYP_* */
	uint8_t ip[16];        /* 4 bytes for IPv4, 16 for IPv6, network order */
	char domain[256];      /* NUL-terminated when atyp == DOMAIN */
	uint16_t port;         /* host order */
};

/* Fills addr from a host string: an IPv4 or IPv6 literal becomes that type, anything
 * else a domain (<= 255 bytes). Returns 0 or -EINVAL. */
int socks5_addr_from_host(struct socks5_addr *addr, const char *host, uint16_t port);
/* The host alone, as a resolver or connect takes it: "1.2.3.4", "::1" or "name".
 * Returns its length, or -ENOSPC (cut) / -EINVAL (unknown atyp; out is then ""). */
int socks5_addr_host(const struct socks5_addr *addr, char *out, size_t cap);
/* Formats addr as "1.2.3.4:80", "[::1]:80" or "name:80". Returns length or -ENOSPC. */
int socks5_addr_format(const struct socks5_addr *addr, char *out, size_t cap);

/* ---- client side ---- */

/* Greeting offering "no auth", plus username/password when offer_userpass. */
int socks5_client_greeting(uint8_t *out, size_t cap, bool offer_userpass);
/* Parses the server's method choice (2 bytes) into *method: NONE, USERPASS or
 * UNACCEPTABLE (0xff, a refusal for the caller to report); any other method is
 * SOCKS5_E_METHOD. The caller still checks USERPASS against what it offered. */
int socks5_client_parse_method(const uint8_t *in, size_t len, uint8_t *method, int *err);
/* RFC 1929 request; user and pass are 1..255 bytes. */
int socks5_client_userpass(uint8_t *out, size_t cap, const char *user, const char *pass);
/* Parses the RFC 1929 reply (2 bytes); *status 0 means success. */
int socks5_client_parse_userpass_reply(const uint8_t *in, size_t len, uint8_t *status, int *err);
/* CONNECT (or another command) request for dst. */
int socks5_client_request(uint8_t *out, size_t cap, uint8_t cmd, const struct socks5_addr *dst);
/* Parses the server's reply (variable length by ATYP): *rep and the bound address. */
int socks5_client_parse_reply(const uint8_t *in, size_t len, uint8_t *rep,
			      struct socks5_addr *bound, int *err);

/* ---- server side ---- */

struct socks5_greeting {
	uint8_t nmethods;
	uint8_t methods[255];
};
int socks5_server_parse_greeting(const uint8_t *in, size_t len, struct socks5_greeting *g, int *err);
bool socks5_greeting_offers(const struct socks5_greeting *g, uint8_t method);
/* Method selection reply (2 bytes). */
int socks5_server_method(uint8_t *out, size_t cap, uint8_t method);
/* RFC 1929 request: user and pass copied NUL-terminated. An empty field or one with a
 * NUL byte is SOCKS5_E_AUTH_FIELD (RFC 1929: 1 to 255 octets each). */
int socks5_server_parse_userpass(const uint8_t *in, size_t len, char user[256], char pass[256],
				 int *err);
int socks5_server_userpass_reply(uint8_t *out, size_t cap, uint8_t status);
/* The client's request: command (any value; the caller answers an unsupported one
 * with SOCKS5_REP_COMMAND_NOT_SUPPORTED) and destination. */
int socks5_server_parse_request(const uint8_t *in, size_t len, uint8_t *cmd,
				struct socks5_addr *dst, int *err);
/* Reply with rep and the bound address (NULL: 0.0.0.0:0). */
int socks5_server_reply(uint8_t *out, size_t cap, uint8_t rep, const struct socks5_addr *bound);

#endif
