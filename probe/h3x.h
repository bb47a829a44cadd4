/* h3x — the HTTP/3 request/response of a probe request: one stream of its link's QUIC
 * connection (filter_quic.c). The request carries what an HTTP/1.1 one does (Host as
 * :authority, X-Probe-Id, Accept-Encoding, an upload body with X-Tp-Seed); the response
 * head is handed to verify.h in the same struct as an HTTP/1.1 head, its DATA as
 * payload, its FIN as the end of a body that runs to the stream's end — so a FIN before
 * the announced length is incomplete_read and an announced body whose FIN never comes
 * is a timeout in phase fin, as over TCP.
 *
 * Stream endings, with the wire code in the detail ("H3_INTERNAL_ERROR (0x102)"): the
 * server's RESET_STREAM → reset; a response nghttp3 found malformed (we reset it) →
 * protocol_error, or incomplete_read when it was a FIN short of content-length; the
 * connection's end → what pf_quic_describe_close() says, in the request's phase.
 */
#ifndef TP_PROBE_H3X_H
#define TP_PROBE_H3X_H

#include "probe/link.h"

/* The protocol table a QUIC link carries (link.h). */
extern const struct link_proto h3x_proto;

#endif
