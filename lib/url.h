/* url — parsing target URLs and proxy URLs, and proxy selection from the environment
 * as curl does it. Pure functions on caller memory; no I/O except reading the
 * environment through the getenv function the caller passes.
 */
#ifndef TP_URL_H
#define TP_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum url_scheme {
	URL_HTTP = 1,
	URL_HTTPS,
	URL_SOCKS5,  /* proxy only: the client resolves the target name */
	URL_SOCKS5H, /* proxy only: the proxy resolves the target name */
};

#define URL_MAX_HOST 256
#define URL_MAX_PATH 4096
#define URL_MAX_USERINFO 256

struct url {
	enum url_scheme scheme;
	char host[URL_MAX_HOST]; /* name or address literal, IPv6 without brackets */
	bool host_is_ipv6;       /* was written as [v6] */
	bool host_is_literal;    /* an IPv4 or IPv6 address literal: no DNS needed */
	uint16_t port;           /* explicit, or the scheme's default */
	bool port_explicit;
	char path[URL_MAX_PATH]; /* origin-form: "/" when empty, with "?query"; no fragment */
	char user[URL_MAX_USERINFO]; /* percent-decoded; empty when absent */
	char pass[URL_MAX_USERINFO];
	bool has_userinfo;
};

/* Parses an http:// or https:// target URL. Returns 0, or -EINVAL with *why set to a
 * short static reason ("unsupported scheme", "bad port", "host too long", ...; why may
 * be NULL). On failure *u holds nothing useful.
 * Rejects control characters, spaces and non-ASCII bytes anywhere, empty hosts and
 * empty labels ("a..b"), empty ports ("h:/", usually an unset $PORT), ports 0 and
 * > 65535. The scheme is case-insensitive; host names are lower-cased. A host whose
 * last label is a number ("1234", "10.1", "0x7f") must be a dotted-quad IPv4 address,
 * never a name to look up. IPv6 literals are stored in canonical form ("[0::1]" ->
 * "::1", as curl does); zone ids ("[fe80::1%25eth0]") are rejected. Userinfo is
 * percent-decoded (an escaped NUL is rejected); the fragment is dropped. */
int url_parse(const char *s, struct url *u, const char **why);

/* Parses a proxy URL: http://, socks5://, socks5h://; no scheme means http:// (as
 * curl). Default ports: 1080 for every scheme (curl's default). A path other than
 * empty or "/" is rejected. Returns 0 or -EINVAL with *why. */
int url_parse_proxy(const char *s, struct url *u, const char **why);

/* Writes "host:port" as a Host header or CONNECT authority wants it (brackets around
 * IPv6; the port omitted when default_port_ok and it is the scheme's default).
 * Returns the length written (excluding NUL), or -ENOSPC. */
int url_authority(const struct url *u, bool default_port_ok, char *out, size_t cap);

/* Writes the absolute URI "scheme://authority/path" for a forward-proxy request.
 * Returns the length or -ENOSPC. */
int url_absolute(const struct url *u, char *out, size_t cap);

/* The origin-form path of a request target: for an absolute form ("http://h/p?q",
 * scheme case-insensitive) a pointer into target at "/p?q" (or to a static "/" when
 * the URI has no path), else target itself. *len is the target's length on entry and
 * the path's on return. */
const char *url_origin_form(const char *target, size_t *len);

/* One --connect-to rule (curl's "HOST1:PORT1:HOST2:PORT2"): a target whose host and
 * port match is connected to another host and port, while requests keep its name. */
struct url_connect_to {
	char host[URL_MAX_HOST];    /* host to match, canonical as url_parse stores it; "" any */
	uint16_t port;              /* port to match; 0 matches any */
	char to_host[URL_MAX_HOST]; /* where to connect instead; "" keeps the target's host */
	bool to_is_ipv6;            /* to_host is an IPv6 literal (written in brackets) */
	bool to_is_literal;         /* to_host is an address literal: never resolved */
	uint16_t to_port;           /* 0 keeps the target's port */
};

/* Parses "HOST1:PORT1:HOST2:PORT2" (IPv6 hosts in brackets; any field may be empty, as
 * in curl). Hosts are checked and stored as url_parse stores them (lower case, IPv6
 * canonical without brackets); ports are 1..65535. Returns 0, or -EINVAL with *why set
 * to a short static reason. */
int url_parse_connect_to(const char *s, struct url_connect_to *c, const char **why);

/* Whether rule c applies to target u (host and port match, empty fields match any). */
bool url_connect_to_matches(const struct url_connect_to *c, const struct url *u);

/* Chooses the proxy for target as curl (7.86+) does: "http_proxy" (lower case only)
 * for http URLs, "https_proxy" or "HTTPS_PROXY" for https URLs, then "all_proxy" or
 * "ALL_PROXY"; an empty variable counts as unset. "no_proxy", else "NO_PROXY",
 * disables it: "*" alone matches every host; otherwise tokens separated by commas,
 * spaces or tabs, each a host name matching the host or any domain above it (case-
 * insensitive; one leading and one trailing dot ignored; no wildcards; a ":port" is
 * part of the token, so "h:80" never matches, as in curl), or for an address literal
 * target an address or CIDR ("10.0.0.0/8", "::1", "fd00::/8"). getenv_fn is getenv or
 * a test double. Returns the proxy URL string (owned by the environment) or NULL for
 * direct. */
const char *url_proxy_from_env(const struct url *target, const char *(*getenv_fn)(const char *));

#endif
