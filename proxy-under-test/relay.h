/* relay — the byte relay of a reference proxy session (session.h has the session, its
 * two legs and its two flows).
 *
 * Each direction has one bounded buffer: read from the source when it is empty, write
 * to the destination until it is empty (on a streams leg, leg.h, in posted slices whose
 * completions come back through relay_written()). A FIN from one side becomes a FIN (shutdown of
 * the write side) toward the other once the buffer is drained, and the other direction
 * goes on — half-close done right; the session ends when both directions have ended.
 * An RST becomes an RST. Faults change exactly one of these steps (fault.h says which),
 * and the counters (bytes, operations, short sends, dropped bytes) record what really
 * happened. relay.c also closes the legs and writes the ledger line.
 *
 * Functions taking a session may close and free it (session_close()) when a leg fails or
 * a fault ends the tunnel; the ones that can say so in their return value.
 */
#ifndef TP_PROXY_RELAY_H
#define TP_PROXY_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proxy-under-test/session.h"
#include "lib/zcopy.h"

/* Marks the pipes closed (at accept, before anything can close the session). */
void relay_init(struct session *s);
/* Starts relaying both ways (after the reply to the client is queued in down). */
void relay_start(struct session *s);
/* Moves bytes until something would block; closes the session when both ways ended. */
void relay_step(struct session *s);
/* Recomputes which events each leg waits for. */
void relay_watch(struct session *s);

/* Queues bytes for the client (replies), sent by the relay before any relayed byte and
 * never counted as relayed. */
void relay_queue_client(struct session *s, const void *data, size_t len);
/* relay_fill_read(): the source ended and its FIN was passed on. */
#define RELAY_ENDED (-2)
/* Reads up to cap bytes for flow f from its source into buf (or into zp, a pipe): the
 * bytes count as received and the read faults see them (not in a pipe). Returns the
 * count (> 0), 0 nothing now, RELAY_ENDED the source sent FIN (passed on, per the
 * faults), -1 the session was closed (a reset, passed on as a reset, or a fault).
 * The caller arms its timer. */
long relay_fill_read(struct session *s, struct flow *f, char *buf, size_t cap, struct zpipe *zp);
/* The source of f sent FIN: pass it on (or not, per the faults). False when the
 * session was closed. */
bool relay_propagate_eof(struct session *s, struct flow *f);
/* leg failed a read or write (a reset): the session closes and the other leg gets an
 * RST. Returns -1 (the session is gone). */
int relay_leg_reset(struct session *s, struct leg *leg);

/* The relay's part of session_close(): closes both legs (leg_close()). */
void relay_close(struct session *s, bool reset_client, bool reset_up);
/* Once the legs are given back (a streams leg's cancelled write has said what it took):
 * closes the pipes and counts what was received and never sent as dropped (relaying:
 * the session was past its handshake, so its buffers held relayed bytes). */
void relay_account_close(struct session *s, bool relaying);
/* A write of f posted to a streams leg completed (session_on_written()): counts what it
 * took and goes on relaying — the next slice, or what short-send-drop (inject_sent())
 * makes of the rest; an error resets the session (unless the leg was already let go).
 * The session may be freed before this returns. */
void relay_written(struct session *s, struct flow *f, bool detached, size_t n, int err);

/* One ledger line's numbers. The session's own line passes NULL to
 * relay_write_ledger(); forward sessions write one per request (forward.c). Per
 * direction received == sent + dropped; wire_sent is what was written, which differs
 * from sent only where forward heads were rewritten. */
struct relay_dir {
	uint64_t received, sent, recv_ops, send_ops, short_sends, dropped, wire_sent;
};
struct relay_counts {
	struct relay_dir down, up;
	const char *id, *target, *up_local, *up_peer, *method;
	int status;
	int index;          /* the request's position on the connection */
	double t;
	uint64_t start_us;
	const uint32_t *acts0; /* the session's fault acts when this line's span began (NULL:
				* none, the tunnel's start): fault_acted counts acts since */
	bool final;         /* the connection ended: how it ended is known */
};
/* Writes one ledger line (nothing without --ledger). */
void relay_write_ledger(struct session *s, const struct relay_counts *c);

struct jsonw;
/* The ledger's "down"/"up" object for d, as key (docs/ledgers.md), and the name of how a
 * leg ended ("fin", "local_rst", ...): the same on TCP lines and on the QUIC tunnels'
 * lines (qrelay_ledger.c). */
void relay_dir_json(struct jsonw *w, const char *key, const struct relay_dir *d);
const char *relay_end_name(enum leg_end e);

#endif
