/* filter — the transport stack of a probe connection, in the manner of curl's connection
 * filters: each layer is a struct pf with one ops table, stacked on the layer below it
 * (f->next). A stack is built per connection (probe/link.c) from the bottom up:
 *
 *     tcp → [socks5 | http-connect] → [tls]        the HTTP/1.1 exchange on top
 *     quic                                          the HTTP/3 exchange on top
 *
 * and, through a QUIC proxy (issue 17), one tunnel per stream of a shared QUIC connection:
 *
 *     quic-stream → socks5                          socks5+quic://, socks5h+quic://
 *     h3-connect                                    quic:// (CONNECT over HTTP/3)
 *
 * with the HTTP/1.1 exchange on top. Filters never
 * know what sits above them: a tunnel filter reads and writes through f->next, so it
 * works over any byte stream; the exchange above reads and writes through the top.
 *
 * Conventions (net.h's, plus one): functions return 0, a byte count, 0 at EOF (read),
 * -EAGAIN when the caller must wait (pf_want() says for what), -ECONNRESET, -EPIPE, or
 * PF_ERR: a failure the filter has classified itself into the link's pf_error (a TLS
 * alert, a proxy refusal) — the caller takes class and detail from there and the phase
 * from where it is. Filters are caller memory inside struct link; close is idempotent.
 */
#ifndef TP_PROBE_FILTER_H
#define TP_PROBE_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/ledger.h"
#include "lib/tls.h"

#define PF_ERR (-4200) /* classified by the filter: see struct pf_error */

struct link;
struct pf;

/* How a connection or a request on it failed, as the filter that saw it says. */
struct pf_error {
	enum tp_class cls;
	enum tp_phase phase;  /* for connect failures: the phase it happened in */
	int status;           /* a proxy's refusal status (CONNECT 407...), 0 when none */
	bool fallback;        /* the QUIC attempt failed before its handshake: with --http3
			       * the request may go on over TCP+TLS */
	char detail[200];
};

struct pf_ops {
	const char *name;        /* "tcp", "socks5", "http-connect", "tls", "quic" */
	enum tp_phase phase;     /* the phase a connection is in while this filter connects */
	bool tunnel;             /* a proxy tunnel: what closes above it closed "early" */
	/* Advances connecting this filter (the ones below are connected). 0 when done,
	 * -EAGAIN to wait (pf_want), PF_ERR failed (link->err filled). */
	int (*connect)(struct pf *f);
	long (*read)(struct pf *f, void *buf, size_t len);
	long (*write)(struct pf *f, const void *buf, size_t len);
	/* Ends our sending direction (TCP FIN). 0, or -ENOTSUP where the protocol has no
	 * half-close (TLS). */
	int (*shutdown)(struct pf *f);
	/* Releases what the filter holds (the socket, the TLS session). Idempotent. */
	void (*close)(struct pf *f);
	/* After -EAGAIN from this filter: the socket events to wait for, given what the
	 * caller wanted (plain) — TLS may need the other direction. */
	unsigned (*want)(const struct pf *f, unsigned plain);
	/* Bytes held that the socket will not signal again (decrypted TLS records). */
	size_t (*pending)(const struct pf *f);
	/* Optional: fills err for a connect deadline that passed in this filter's phase;
	 * without it the connection ends as `timeout` in ops->phase. */
	void (*timed_out)(struct pf *f, struct pf_error *err);
};

struct pf {
	const struct pf_ops *ops;
	struct pf *next;          /* the filter below; NULL at the bottom */
	struct link *link;        /* the connection the stack belongs to */
	bool connected;
};

static inline long pf_read(struct pf *f, void *buf, size_t len) { return f->ops->read(f, buf, len); }
static inline long pf_write(struct pf *f, const void *buf, size_t len)
{
	return f->ops->write(f, buf, len);
}
static inline int pf_shutdown(struct pf *f) { return f->ops->shutdown(f); }
static inline unsigned pf_want(const struct pf *f, unsigned plain) { return f->ops->want(f, plain); }
static inline size_t pf_pending(const struct pf *f) { return f->ops->pending(f); }

/* Pass-through ops for a filter that adds nothing once connected (a tunnel). */
long pf_next_read(struct pf *f, void *buf, size_t len);
long pf_next_write(struct pf *f, const void *buf, size_t len);
int pf_next_shutdown(struct pf *f);
unsigned pf_next_want(const struct pf *f, unsigned plain);
size_t pf_next_pending(const struct pf *f);

/* The format checks of the probe's printf-like calls (pf_fail, conn_finish): mingw's
 * "printf" archetype is msvcrt's, and its C99 printf is the one in use there. */
#ifdef __MINGW_PRINTF_FORMAT
#define PF_PRINTF __MINGW_PRINTF_FORMAT
#else
#define PF_PRINTF printf
#endif

/* Fills err with a class, phase and printf detail; returns PF_ERR. */
int pf_fail(struct pf_error *err, enum tp_class cls, enum tp_phase phase, const char *fmt, ...)
	__attribute__((format(PF_PRINTF, 4, 5)));

/* ---- the filters (one file each: filter_tcp.c, filter_proxy.c, filter_tls.c,
 * filter_quic.c) ---- */

/* tcp: a non-blocking connect to link->remote; the socket is link->fd, watched by the
 * link. The bottom of every TCP stack. */
struct pf_tcp {
	struct pf base;
	bool started;
};
extern const struct pf_ops pf_tcp_ops;

/* socks5 and http-connect: the proxy's handshake over the filter below, then a
 * pass-through. The proxy's reply is capped like curl's (HTTP1_MAX_HEAD); bytes after
 * a success reply are a protocol error (the origin speaks second in HTTP and TLS). */
struct pf_proxy {
	struct pf base;
	int step;                 /* private: which message is being sent or awaited */
	char out[2048];
	size_t out_len, out_off;
	size_t in_len;
	char in[16384];           /* last: only the pages a reply touches become resident */
};
extern const struct pf_ops pf_socks5_ops;
extern const struct pf_ops pf_http_connect_ops;

/* tls: OpenSSL (lib/tls) on the connection's socket. The filters below hold no bytes
 * once connected, so OpenSSL reads and writes the socket itself; a filter below that is
 * not a socket (issue 17's QUIC streams) needs a BIO over pf_read/pf_write first. */
struct pf_tls {
	struct pf base;
	struct tls_conn tls;
	bool on;
};
extern const struct pf_ops pf_tls_ops;

/* quic: a connected UDP socket, a lib/quic connection and HTTP/3 (lib/h3) on it; the
 * requests are its streams (h3x.c), so it has no byte stream (read/write say
 * -EOPNOTSUPP). It watches its own socket and timer. Allocated per connection; after
 * close it frees itself once ngtcp2 is off the stack (see filter_quic.c). */
struct pf_quic;
struct h3_conn;
struct quic_close;
extern const struct pf_ops pf_quic_ops;
/* A new QUIC filter for l (not yet connecting), or NULL when out of memory. */
struct pf *pf_quic_new(struct link *l);
/* Its HTTP/3 connection (valid once it is connecting). */
struct h3_conn *pf_quic_h3(struct pf_quic *q);
/* Sends what the connection has queued soon, from the loop (never inside ngtcp2). */
void pf_quic_kick(struct pf_quic *q);
/* True while new requests may go on it: not closing, no GOAWAY. */
bool pf_quic_usable(const struct pf_quic *q);
/* How a QUIC connection's end reads as a class (SPEC §4), with the wire code in the
 * detail ("connection closed by the server: H3_INTERNAL_ERROR (0x102)"):
 *   TLS alert from the server → tls_alert (the alert's name); our verification or
 *     handshake failure → tls_error (why, and the alert we sent);
 *   idle or handshake timeout → before any answer connect_error ("no answer to the
 *     QUIC Initial"), during the handshake timeout (tls), once up timeout (the phase is
 *     the request's, filled in by the caller);
 *   CONNECTION_CLOSE → protocol_error for codes that name broken framing (QUIC
 *     FLOW_CONTROL..INVALID_TOKEN, H3 GENERAL_PROTOCOL_ERROR, FRAME_*, SETTINGS_*,
 *     MESSAGE_ERROR, QPACK), else reset; a stateless reset → reset.
 * handshake_done: the connection was up; answered: a datagram came back; waited_s:
 * the time named in a timeout's detail. err->fallback is set before the handshake. */
void pf_quic_describe_close(const struct quic_close *cl, bool handshake_done, bool answered,
			    double waited_s, struct pf_error *err);

/* ---- tunnels through a QUIC proxy (filter_qstream.c, carriers in filter_quic.c) ----
 *
 * A carrier is a struct pf_quic that is nobody's stack: a QUIC connection to the proxy
 * (ALPN "h3" for quic://, "socks5" for socks5+quic://) shared by the tunnels of one
 * group of --streams slots; each tunnel is a link of its own (one request at a time,
 * HTTP/1.1) whose bottom filter is a pf_qstream holding one stream of the carrier.
 * The carrier delivers stream events into the filter's receive ring (credit is given
 * back only as the exchange reads, so the ring never overflows) and wakes the tunnel's
 * link once per drive, outside ngtcp2's callbacks. */
struct quic_stream;
struct quic_event;
struct quic_conn;
struct h3_stream;
struct h3_event;
#define PF_QSTREAM_RING (512u * 1024u) /* = the carrier's stream window */

struct pf_qstream {
	struct pf base;
	struct pf_quic *carrier;      /* attached to, or NULL */
	struct pf_qstream *next_c, *prev_c; /* the carrier's list */
	bool h3;                      /* h3-connect (quic://), else a raw stream */
	bool opened;                  /* the stream exists (qs or hs set until it closes) */
	bool wake;                    /* an event arrived: notify the link after the drive */
	bool fin, reset, stream_gone, conn_gone;
	int status;                   /* h3-connect: the CONNECT reply's status, 0 before */
	struct quic_stream *qs;       /* raw */
	struct h3_stream *hs;         /* h3-connect */
	size_t ring_head, ring_len;
	uint8_t ring[PF_QSTREAM_RING];
};
extern const struct pf_ops pf_quic_stream_ops;
extern const struct pf_ops pf_h3_connect_ops;

/* Attaches s to the carrier of l's group (l->carrier_slot), opening one towards
 * l->remote when there is none that is usable for l's proxy. 0, or PF_ERR with l->err
 * filled (no socket, out of memory). */
int pf_quic_carrier_attach(struct link *l, struct pf_qstream *s);
/* s leaves its carrier; a carrier left with no tunnel is closed unless keep-alive
 * allows it to wait for the next. */
void pf_quic_carrier_detach(struct pf_qstream *s);
/* Closes the carrier in *slot when no tunnel rides on it (the end of a worker). */
void pf_quic_carrier_release(struct pf_quic **slot);
/* The carrier's state for its tunnels: up (handshake done, and HTTP/3 ready for h3);
 * answered (a datagram came back); closed (*err says how, as pf_quic_describe_close). */
bool pf_quic_carrier_up(const struct pf_quic *q);
bool pf_quic_carrier_answered(const struct pf_quic *q);
bool pf_quic_carrier_closed(struct pf_quic *q, struct pf_error *err);
struct quic_conn *pf_quic_conn(struct pf_quic *q);
/* For filter_quic.c: a stream event for s (h3 or raw), and the wake after a drive. */
void pf_qstream_on_h3(struct pf_qstream *s, const struct h3_event *ev);
void pf_qstream_on_quic(struct pf_qstream *s, const struct quic_event *ev);
void pf_qstream_notify(struct pf_qstream *s);

#endif
