/* chain — the handshake with an upstream proxy (--upstream http://H:P or socks5://H:P)
 * that opens a tunnel to host:port through it, sans I/O. The caller connects to the
 * upstream proxy, sends what chain_start() wrote, feeds the bytes the upstream proxy
 * sends to chain_feed() and sends what it answers, until chain_feed() says the tunnel
 * is open (bytes after the reply already belong to the tunnel) or refused.
 *
 * HTTP: "CONNECT target HTTP/1.1" with Host, Proxy-Authorization when the URL has
 * credentials, the client's X-Probe-Id (so the next proxy names the tunnel too) and
 * Via; any 2xx opens the tunnel. SOCKS5: greeting (user/password offered when the URL
 * has credentials), RFC 1929 when chosen, CONNECT; reply 0 opens it.
 * Nothing allocates; parsers never read past len (lib/http1, lib/socks5).
 */
#ifndef TP_PROXY_CHAIN_H
#define TP_PROXY_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "lib/url.h"

#define CHAIN_MSG_MAX 1024 /* room chain_start and chain_feed need in out */

enum {
	CHAIN_NEED_MORE = 0, /* in is a prefix of the reply: call again with more */
	CHAIN_SEND = 1,      /* out[0..*outlen) is the next message to send */
	CHAIN_OPEN = 2,      /* the tunnel is open */
};

struct chain {
	const struct url *up;      /* the upstream proxy (not owned) */
	char host[URL_MAX_HOST];   /* the destination */
	uint16_t port;
	int step;                  /* SOCKS5: 0 method, 1 auth reply, 2 CONNECT reply */
};

/* Starts the handshake for host:port through up (scheme URL_HTTP or URL_SOCKS5*):
 * writes the first message into out[0..cap). target is the CONNECT request target
 * ("host:port", "[v6]:port"), id the X-Probe-Id to pass on ("" for none). Returns the
 * message's length, or -ENOSPC (cap too small, names too long). */
int chain_start(struct chain *c, const struct url *up, const char *host, uint16_t port,
		const char *target, const char *id, char *out, size_t cap);

/* in[0..len) is what the upstream proxy sent since the last CHAIN_SEND (the caller
 * keeps bytes not yet used). Returns CHAIN_NEED_MORE; CHAIN_SEND with *used bytes of in
 * taken and the next message in out[0..*outlen); CHAIN_OPEN with *used the reply's
 * length (in[*used..len) belongs to the tunnel); or the refusal as a negative errno:
 * -EACCES (403, no acceptable SOCKS5 method or one not offered, credentials refused),
 * -ECONNREFUSED (another non-2xx status, SOCKS5 "refused"), -EHOSTUNREACH (other SOCKS5
 * replies), -EPROTO (not a reply of the protocol). */
int chain_feed(struct chain *c, const uint8_t *in, size_t len, size_t *used, char *out,
	       size_t cap, size_t *outlen);

#endif
