/* exchange — the HTTP/1.1 request/response stage of a probe connection (see conn.h). */
#ifndef TP_PROBE_EXCHANGE_H
#define TP_PROBE_EXCHANGE_H

#include "probe/conn.h"

/* Builds and starts sending the request for c's current target. */
void exchange_begin(struct conn *c);
/* Continue when the socket is ready, in the matching state (CONN_SENDING, CONN_HEAD,
 * CONN_BODY). Each ends the request through conn_finish() when it is over. */
void exchange_send(struct conn *c);
void exchange_head(struct conn *c);
void exchange_body(struct conn *c);

#endif
