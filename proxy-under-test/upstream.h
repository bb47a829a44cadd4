/* upstream — a reference proxy session's exchange with the upstream proxy it is chained
 * to (`--upstream`): an HTTP CONNECT (with Proxy-Authorization when the URL has
 * credentials, and the client's X-Probe-Id passed on) or a SOCKS5 greeting, user/password
 * and CONNECT request, each reply parsed before the next step (chain.c, sans I/O: the
 * messages and parsers the QUIC tunnels use too).
 * A yes makes the session established (session_established()); a no, an abort or a
 * malformed reply fails it as the client's own request would fail (502, 403, a SOCKS
 * reply code: session_fail_upstream()). Messages go out through the leg (leg.h), so
 * they are written at once or posted, whatever the driver.
 *
 * Functions taking a session may end it (the session is then closed, maybe freed).
 */
#ifndef TP_PROXY_UPSTREAM_H
#define TP_PROXY_UPSTREAM_H

#include <stddef.h>

#include "proxy-under-test/session.h"

/* The outbound leg to the upstream proxy is connected: sends the first message. */
void upstream_start(struct session *s);
/* An event on the upstream leg (state SS_UPSTREAM): writes what is left of the message,
 * or reads and handles the reply. */
void upstream_step(struct session *s);
/* n bytes of the message went out (a write, or a streams leg's completion): once all
 * did, the reply is awaited. */
void upstream_wrote(struct session *s, size_t n);

#endif
