/* quic_impl — what the files of lib/quic share and nothing else may include: the
 * connection's private state (struct quic_conn_impl, quic_conn.impl) and the few
 * functions one file calls in another. Included only by lib/quic*.c; everyone else's
 * contract is lib/quic.h.
 *
 * The files: quic.c (connections, endings, read, write, timers, names), quic_stream.c
 * (send buffers, streams, ngtcp2 callbacks, stream API), quic_tls.c (the GnuTLS
 * session, contexts, credentials), quic_route.c (for a listener: packet ids, version
 * negotiation, the connection id map; needs no connection and not this header).
 */
#ifndef TP_QUIC_IMPL_H
#define TP_QUIC_IMPL_H

#include "lib/quic.h"

#include <gnutls/gnutls.h>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>

#define CC_PKT_CAP 1500

struct quic_conn_impl {
	ngtcp2_conn *conn;
	gnutls_session_t tls;
	ngtcp2_crypto_conn_ref conn_ref;
	struct quic_client_ctx *cctx;
	struct quic_server_ctx *sctx;
	const uint8_t *secret;         /* QUIC_SECRET_LEN bytes, the context's */
	struct sockaddr_storage local;
	socklen_t local_len;
	struct quic_params params;
	struct quic_chunk_pool pool;
	struct quic_stream *free_streams;
	size_t nfree_streams, nstreams_alive;
	struct quic_stream *q_head, *q_tail;   /* streams with something to send */
	struct quic_stream *w_head;            /* streams waiting for QUIC_EV_STREAM_WRITABLE */
	struct quic_stream *all_head;          /* every stream alive */
	struct quic_stream **smap;             /* stream id -> stream, linear probing */
	size_t smap_n, smap_len;
	FILE *log;
	ngtcp2_connection_close_error ccerr;  /* what our CONNECTION_CLOSE says */
	uint8_t cc_reason[64];
	uint8_t cc_pkt[CC_PKT_CAP];
	size_t cc_len;
	bool cc_pending;               /* CONNECTION_CLOSE still to be built */
	unsigned cc_resends, cc_resend_due;
	uint64_t close_deadline_us;    /* end of the closing or draining period */
	bool close_announced;
	bool conn_blocked;             /* connection-level credit exhausted */
	bool stateless_reset;
	char verify_host[256];         /* GnuTLS keeps the pointer, not a copy, for the session */
};

/* ---- quic.c */

/* Writes the close's detail line (printf, truncated to fit). */
void quic_set_detail(struct quic_close *cl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Hands ev to the connection's callback, if it has one. */
void quic_emit(struct quic_conn *c, struct quic_event *ev);
/* quic_emit of an event that carries only its type and stream s. */
void quic_emit_stream(struct quic_conn *c, enum quic_event_type type, struct quic_stream *s);

/* ---- quic_stream.c */

/* Puts s at the tail of the send queue if it has bytes or a FIN to send and is not
 * blocked or shut; no-op when it is already queued. */
void qs_queue_add(struct quic_conn_impl *im, struct quic_stream *s);
/* Takes s off the send queue; no-op when it is not queued. */
void qs_queue_remove(struct quic_conn_impl *im, struct quic_stream *s);
/* Forgets s (id map, send queue, waiters, list of streams alive), returns its chunks to
 * the pool and keeps or frees the struct: s is invalid afterwards. */
void qs_release(struct quic_conn *c, struct quic_stream *s);
/* Fills ngtcp2's callback table for a server or a client; the callbacks' user data is
 * the struct quic_conn. */
void quic_callbacks_init(ngtcp2_callbacks *cb, bool server);

/* ---- quic_tls.c */

/* Makes c's GnuTLS session (im->tls) from its context and o (ALPN, SNI, verification,
 * key log) and ties it to c. 0, or -ENOMEM, -EPROTO or -EINVAL with c->close.detail
 * set; quic_conn_free frees a session made before a failure. */
int quic_tls_setup(struct quic_conn *c, const struct quic_conn_opts *o);

#endif
