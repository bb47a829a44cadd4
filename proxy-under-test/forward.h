/* forward — plain HTTP forward proxying in the reference proxy: absolute-form requests
 * ("GET http://host/path HTTP/1.1") rewritten for the origin (origin form, hop-by-hop
 * fields removed, Via added), keep-alive on both legs. Each request head on the client
 * leg is parsed and rewritten; bodies and responses pass through byte for byte. */
#ifndef TP_PROXY_FORWARD_H
#define TP_PROXY_FORWARD_H

#include "lib/http1.h"
#include "proxy-under-test/session.h"

/* The first request of a forward session (its head is in the client flow): takes the
 * destination from the absolute-form target and keeps the client's bytes for
 * forward_fill(). Returns 0, or the HTTP status to refuse with (400, 414). */
int forward_start(struct session *s, const struct http1_request *req);

/* The relay's read step for the client→origin flow of a forward session (f is empty):
 * moves the next request head (rewritten) or body bytes into f. Returns 1 when bytes
 * or an EOF were taken, 0 when nothing is readable now, -1 when the session closed
 * (a malformed request, or one for another origin on this connection). */
int forward_fill(struct session *s, struct flow *f);

#endif
