/* qrelay — a QUIC tunnel of the reference proxy: one client stream (CONNECT over HTTP/3,
 * or SOCKS5 on a QUIC stream: qtunnel.c) relayed to a TCP leg toward the origin or an
 * upstream proxy, with exact counters, ends passed on both ways and the faults this
 * tunnel was chosen for (qinject.c acts them).
 *
 * Ends, both ways (RFC 9114 §4.4, and the same for the socks5 framing):
 *   origin FIN -> stream FIN (after the bytes before it); client stream FIN -> TCP FIN
 *   (shutdown of the write side); origin RST or a failed connect -> RESET_STREAM and
 *   STOP_SENDING with H3_CONNECT_ERROR (0x10f); the client's RESET_STREAM or
 *   STOP_SENDING (any code), or its connection closing with an error -> TCP RST.
 * The tunnel ends when its stream is closed (both sides finished or reset and
 * acknowledged, or the connection ended); its ledger line is written then, with the
 * stream's final QUIC counters beside the TCP leg's.
 *
 * Buffers, bounded per tunnel: QRELAY_DOWN_BUF bytes read from TCP not yet taken by the
 * stream (the stream's own send buffer holds what is sent and unacknowledged); the
 * client's bytes not yet written to TCP in an up buffer of QRELAY_WINDOW bytes, made
 * when first needed. Credit is manual: a stream's window (QRELAY_WINDOW, never
 * auto-tuned larger) is given back as its bytes are written to TCP, so the up buffer
 * cannot overflow and a slow origin slows the client down.
 *
 * A tunnel is freed only by qrelay_on_closed (its stream's last event) and
 * qrelay_abort; everything else leaves it alive. Everything runs in the connection's
 * worker thread.
 */
#ifndef TP_PROXY_QRELAY_H
#define TP_PROXY_QRELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/dns.h"
#include "lib/h3.h"
#include "lib/loop.h"
#include "lib/net.h"
#include "lib/quic.h"
#include "lib/url.h"
#include "proxy-under-test/chain.h"
#include "proxy-under-test/fault.h"
#include "proxy-under-test/qlisten.h"
#include "proxy-under-test/session.h"

#define QRELAY_DOWN_BUF 65536       /* origin bytes read, not yet in the stream */
#define QRELAY_WINDOW (256 * 1024)  /* a stream's receive window, and the up buffer */

enum qrelay_state {
	QR_HANDSHAKE,  /* socks5 framing: greeting, auth, request on the stream */
	QR_RESOLVING,
	QR_CONNECTING,
	QR_UPSTREAM,   /* the CONNECT or SOCKS5 exchange with an upstream proxy */
	QR_RELAY,
	QR_REFUSED,    /* answered without a tunnel (an error status or reply) */
	QR_ENDED,      /* the TCP leg is closed; waiting for the stream to close */
};

/* One direction's counters, as in the TCP tunnels' ledger lines. */
struct qrelay_dir {
	uint64_t received, sent, recv_ops, send_ops, short_sends, dropped;
	bool eof;      /* its source ended (FIN, or a reset passed on as one) */
	bool done;     /* its end was passed on, or will never be: nothing more goes this way */
	bool stalled;  /* a stall fault holds it */
	bool held;     /* no-fin or fin-delay holds its end */
	uint64_t fin_due_us; /* fin-delay: when the held end goes on (0: not delayed) */
};

struct qtun {
	struct qconn *qc;
	uint64_t number;                 /* the ledger's "tunnel" (shared with TCP tunnels) */
	enum qframing framing;
	struct h3_stream *hs;            /* QF_H3: the request stream; NULL once closed */
	struct quic_stream *qs;          /* QF_SOCKS5: the stream; NULL once closed */
	int64_t stream_id;
	bool conn_closed;                /* the stream ended because its connection did */
	struct quic_stream_stats qstats; /* the stream's counters as of its close */
	uint64_t body_received, body_written, body_acked; /* QF_H3: DATA payload bytes */
	enum qrelay_state state;
	int socks_step;                  /* QF_SOCKS5 handshake: 0 greeting, 1 auth, 2 request */
	char host[URL_MAX_HOST];
	uint16_t port;
	char target[URL_MAX_HOST + 8];
	char id[SESSION_ID_MAX];         /* the CONNECT request's X-Probe-Id, or "" */
	int reply;                       /* status or SOCKS5 reply sent, -1 none */
	struct fault_set faults;
	uint32_t fault_acts[FAULT_MAX];
	char fault_key[URL_MAX_HOST + 32];
	/* the TCP leg */
	int fd;
	struct loop_io io;
	bool readable;                   /* no read came back short since the last event */
	char local[NET_ADDRSTRLEN], peer[NET_ADDRSTRLEN];
	enum leg_end end;                /* how the TCP leg ended */
	bool shut_wr;                    /* we sent FIN toward it */
	struct dns_query *dnsq;
	struct chain chain;
	char ctl[CHAIN_MSG_MAX];         /* a message to the upstream proxy */
	size_t ctl_len, ctl_off;
	struct loop_timer timer;         /* handshake, connect and idle deadlines */
	struct loop_timer fin_timer;     /* fin-delay */
	/* origin -> client */
	struct qrelay_dir down;
	uint8_t dbuf[QRELAY_DOWN_BUF];
	size_t doff, dlen;
	bool stream_full;                /* the stream took less than offered: wait for WRITABLE */
	/* client -> origin */
	struct qrelay_dir up;
	uint8_t *ubuf;                   /* QRELAY_WINDOW bytes, made when first needed */
	size_t uoff, ulen;
	/* the client's stream */
	enum leg_end client_end;         /* fin / rst (its RESET_STREAM or STOP_SENDING) / timeout
					  * / local (we finished) / local_rst (we reset) */
	bool fin_to_client;              /* we finished the stream (FIN) */
	uint64_t reset_code;             /* what we reset the stream with, when we did */
	bool credit_stalled;             /* flow-starve: the client's window ran out */
	const char *first_close;
	double t;
	uint64_t start_us;
	struct qtun *next, *prev;        /* the connection's tunnels */
};

/* A new tunnel on stream hs (QF_H3) or qs (QF_SOCKS5) of qc, in the handshake state,
 * listed on qc. Returns it, or NULL (out of memory: the caller resets the stream). */
struct qtun *qrelay_new(struct qconn *qc, struct h3_stream *hs, struct quic_stream *qs);
/* The request is known (host, port, id set): picks the faults, then resolves and
 * connects (through --upstream when there is one). */
void qrelay_request(struct qtun *t);

/* The framing answered the client without a tunnel (an error status or SOCKS5 reply, a
 * handshake the client broke off): the tunnel waits for its stream to close. */
void qrelay_refused(struct qtun *t);
/* Keeps len client bytes in the up buffer (made now if need be): the socks5 framing's
 * handshake bytes until a message is whole, tunnel bytes the TCP leg cannot take yet.
 * False when they do not fit — ruled out by the stream's window unless the client broke
 * flow control — or out of memory. */
bool qrelay_hold(struct qtun *t, const uint8_t *data, size_t len);

/* Client stream events (qtunnel.c passes them on). Only qrelay_on_closed ends (frees)
 * the tunnel. */
/* Tunnel bytes data[0..len) from the client (after its handshake, if any). */
void qrelay_on_data(struct qtun *t, const uint8_t *data, size_t len);
/* The client finished its side (FIN). */
void qrelay_on_fin(struct qtun *t);
/* The client reset its side (RESET_STREAM, code) or asked us to stop (STOP_SENDING). */
void qrelay_on_reset(struct qtun *t, uint64_t code, bool stop_sending);
/* The stream has room again after a short write. */
void qrelay_on_writable(struct qtun *t);
/* The stream is closed (its last event): ends the tunnel, writes its ledger line and
 * frees it. conn_closed: the connection ended first (its close says how). */
void qrelay_on_closed(struct qtun *t, bool conn_closed);

/* Ends the tunnel now: the TCP leg is closed (RST when reset), the stream reset with
 * code when it is still open, the ledger line written, t freed. For a connection that
 * is going away without events (qlisten_close). */
void qrelay_abort(struct qtun *t, bool reset, uint64_t code);

/* Writes the tunnel's ledger line (qrelay_ledger.c; nothing without --ledger). */
void qrelay_write_ledger(const struct qtun *t);

/* For qinject.c: the direction a fault acts on, its flow. */
static inline struct qrelay_dir *qrelay_dir(struct qtun *t, enum fault_dir dir)
{
	return dir == FAULT_DOWN ? &t->down : &t->up;
}
/* For qinject.c: the tunnel ends now by a fault's act (down: toward the client; up:
 * toward the origin): how (fin: an orderly end after the bytes so far; else a reset with
 * code — a RESET_STREAM toward the client, an RST toward the origin), the rest of that
 * direction dropped, the other direction closed orderly. */
void qrelay_cut(struct qtun *t, enum fault_dir dir, bool fin, uint64_t code);
/* For qinject.c: the end of direction dir, held by fin-delay, goes on now. */
void qrelay_end_due(struct qtun *t, enum fault_dir dir);

#endif
