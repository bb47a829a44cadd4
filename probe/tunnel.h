/* tunnel — the CONNECT / SOCKS5 stage of a probe connection (see conn.h). */
#ifndef TP_PROBE_TUNNEL_H
#define TP_PROBE_TUNNEL_H

#include "probe/conn.h"

/* Sends the first proxy message for c's target (CONNECT, or the SOCKS5 greeting). On
 * success the exchange continues in tunnel_step() and ends in conn_after_tunnel();
 * on failure the request ends through conn_finish(). */
void tunnel_start(struct conn *c);
/* Advances the exchange when the socket is ready. */
void tunnel_step(struct conn *c);

#endif
