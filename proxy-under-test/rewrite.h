/* rewrite — the reference proxy's forward rewrites of HTTP/1 heads, pure functions on
 * parsed heads (lib/http1.h) into the caller's buffer: request heads for the next hop
 * (origin form, Host from the URI, hop-by-hop fields removed, Via added) and response
 * heads for the client (HTTP/1.1, hop-by-hop fields removed, Via added). Bodies pass
 * through byte for byte elsewhere, so the framing fields are kept — and made
 * unambiguous: a Content-Length given as a list or repeated ("5, 5", two fields, all
 * equal or the parser refused the head) goes on as one field with one value.
 * Nothing allocates; an output that does not fit is refused, never cut.
 */
#ifndef TP_PROXY_REWRITE_H
#define TP_PROXY_REWRITE_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/http1.h"
#include "lib/url.h"

/* Is the field hop-by-hop (RFC 9110 §7.6.1), or named by the message's Connection?
 * Content-Length and Transfer-Encoding never are: dropping them would change where the
 * body ends for the next hop. */
bool rewrite_hop_by_hop(const struct http1_header *h, const struct http1_header *headers,
			size_t n);
/* Writes the request head for the next hop: origin form with Host from u (or the
 * absolute form, for an upstream HTTP proxy), hop-by-hop fields removed, one
 * Content-Length, Via added, auth (a "Basic ..." credential for the upstream proxy, or
 * NULL). Returns the length, or -1 when it does not fit in cap. */
long rewrite_request(const struct http1_request *req, const struct url *u, bool absolute,
		     const char *auth, char *out, size_t cap);
/* Writes the response head for the client: HTTP/1.1, hop-by-hop fields removed (101
 * keeps its Upgrade/Connection), one Content-Length, Via added, "Connection: close"
 * when close. Returns the length or -1. */
long rewrite_response(const struct http1_response *resp, bool close, char *out, size_t cap);

#endif
