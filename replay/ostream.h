/* ostream — one HTTP/3 request stream of the replay origin (oquic.h has the connection):
 * the request's header section and body (an upload to /sink is verified against its
 * X-Tp-Seed as it arrives), the plan (oplan.c, as over HTTP/1.1), the response as
 * h3resp.c shapes it, written as the stream's credit and send buffer allow, with the
 * plan's delay, drip and recorded pacing on a per-stream timer, and the origin faults
 * on the stream. One ledger line when the stream closes, with its QUIC facts.
 *
 * Over QUIC each stream is what a connection is over TCP for the faults: truncate,
 * rst and stall count the response body bytes written on the stream (DATA payload; not
 * the header section or framing) and cut the stream there — truncate with an early
 * FIN, rst with RESET_STREAM H3_INTERNAL_ERROR (0x102), stall by writing nothing more;
 * slow-headers holds every stream's response back.
 *
 * Memory: a stream struct (about 40 KiB: the response generator and one buffer) per
 * request under way, recycled per worker (at most OSTREAM_KEEP kept free).
 */
#ifndef TP_REPLAY_OSTREAM_H
#define TP_REPLAY_OSTREAM_H

#include "lib/h3.h"
#include "replay/oquic.h"

#define OSTREAM_KEEP 64                  /* free stream structs a worker keeps */
#define OSTREAM_REQUEST_TIMEOUT_US 60000000u /* a request must be complete within 60 s */

/* The h3 events of request streams (everything but H3_EV_QUIC, which is oquic's). */
void ostream_event(struct oqconn *qc, const struct h3_event *ev);
/* Frees the worker's recycled stream structs. */
void ostream_pool_free(struct oquic *q);

#endif
