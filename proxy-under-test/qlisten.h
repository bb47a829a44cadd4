/* qlisten — the reference proxy's QUIC listener (`proxy --quic-listen ADDR`): one
 * worker's UDP sockets, its QUIC connections routed by connection ID, a timer per
 * connection, datagrams out in GSO batches. Each connection speaks the framing its ALPN
 * names — "h3": CONNECT over HTTP/3 (RFC 9114 §4.4), "socks5": SOCKS5 on QUIC streams —
 * and qtunnel.c makes tunnels of its streams, which qrelay.c relays to TCP.
 *
 * Shared by the workers: struct qserver (the certificate and the TLS server context,
 * read-only once made) and the connection counter. Per worker: struct qlisten, used by
 * that worker's loop thread only; with several workers each binds the same addresses
 * with SO_REUSEPORT and the kernel keeps a client's 4-tuple on one socket.
 *
 * Memory: a connection is allocated when a client's Initial starts it and freed when it
 * is over (lib/quic's CLOSED state); the receive and send buffers are the worker's,
 * allocated once. Nothing is allocated per datagram.
 */
#ifndef TP_PROXY_QLISTEN_H
#define TP_PROXY_QLISTEN_H

#ifdef _WIN32
/* The Windows build has no QUIC (no GnuTLS or ngtcp2 for mingw; the q*.c files are left
 * out of WIN_PARTS): --quic-listen is refused at start with one line, and the worker's
 * hooks do nothing. */
#include <errno.h>
#include <stdio.h>

#include "proxy-under-test/server.h"

struct qserver {
	int none;
};
static inline int qserver_init(struct qserver *qs, const struct proxy_config *cfg)
{
	(void)qs;
	(void)cfg;
	fputs("tunnelprobe proxy: --quic-listen: QUIC is not in the Windows build (Debian has no ngtcp2 or GnuTLS for mingw-w64)\n",
	      stderr);
	return -1;
}
static inline void qserver_free(struct qserver *qs) { (void)qs; }
static inline int qlisten_open(struct qlisten *ql, struct proxy_worker *w, struct qserver *srv,
			       struct net_addr *addrs, size_t n, bool shared, size_t *failed)
{
	(void)ql, (void)w, (void)srv, (void)addrs, (void)shared;
	*failed = n;
	return -ENOTSUP;
}
static inline void qlisten_drain(struct qlisten *ql) { (void)ql; }
static inline void qlisten_close(struct qlisten *ql) { (void)ql; }
static inline size_t qlisten_busy(const struct qlisten *ql) { (void)ql; return 0; }
struct qlisten {
	int none;
};
#else

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/h3.h"
#include "lib/loop.h"
#include "lib/net.h"
#include "lib/quic.h"
#include "proxy-under-test/server.h"

#define QLISTEN_RX_BATCH 16   /* receive entries per syscall (each up to 64 KiB with GRO) */
#define QLISTEN_TX_BYTES 65536 /* one GSO batch of datagrams */

/* The framing of a connection, by its ALPN. */
enum qframing { QF_NONE = 0, QF_H3, QF_SOCKS5 };

/* Shared by the workers; read-only once qserver_init() returned. */
struct qserver {
	struct quic_cred cred;
	struct quic_server_ctx ctx;
	bool cred_ready, ctx_ready;
	atomic_uint_fast64_t conns;   /* connection numbers, in order of arrival */
};

/* Makes the certificate — --quic-cert and --quic-key, or a new CA and a leaf for
 * localhost, 127.0.0.1, ::1 and the --quic-listen addresses, the CA written to --ca-out
 * when given — and the TLS context offering ALPN "h3" and "socks5". Returns 0, or -1
 * after a one-line message on stderr. */
int qserver_init(struct qserver *qs, const struct proxy_config *cfg);
/* NULL-safe; a zero-filled qserver is left alone. */
void qserver_free(struct qserver *qs);

struct qtun;

/* One QUIC connection of a client. */
struct qconn {
	struct qlisten *ql;
	uint64_t number;             /* the ledger's "conn" */
	enum qframing framing;       /* QF_NONE until the handshake is done */
	struct quic_conn q;
	struct h3_conn h3;           /* framing QF_H3 only */
	bool h3_up;
	size_t sock;                 /* the UDP socket it arrived on */
	struct loop_timer timer;     /* at quic_conn_expiry() */
	char peer[NET_ADDRSTRLEN], local[NET_ADDRSTRLEN];
	struct qtun *tunnels;        /* its tunnels not yet ended (qrelay.c keeps the list) */
	size_t ntunnels;
	bool touched;                /* datagrams arrived in this batch: flush after it */
	struct qconn *next, *prev;
};

struct qlisten {
	struct proxy_worker *w;
	struct qserver *srv;
	size_t n;                               /* sockets open */
	struct net_udp udp[PROXY_MAX_LISTEN];
	struct loop_io io[PROXY_MAX_LISTEN];
	struct net_addr addr[PROXY_MAX_LISTEN];  /* as bound (port 0 resolved) */
	struct quic_cidmap map;
	struct qconn *conns;
	size_t nconns;
	bool stopping;                          /* draining: no new connections */
	uint8_t *rx;                            /* QLISTEN_RX_BATCH x 65536 bytes */
	struct net_dgram dg[QLISTEN_RX_BATCH];
	uint8_t tx[QLISTEN_TX_BYTES];
};

/* Binds addrs[0..n) (shared: SO_REUSEPORT, for several workers) and starts taking
 * connections on w's loop. A port 0 in addrs becomes the port bound (so the next
 * worker binds the same one). Returns 0, or a negative errno with *failed the index of
 * the address that could not be bound (-ENOMEM: failed is n); then nothing is left
 * open. */
int qlisten_open(struct qlisten *ql, struct proxy_worker *w, struct qserver *srv,
		 struct net_addr *addrs, size_t n, bool shared, size_t *failed);
/* Draining (SIGTERM): new connections are refused; each open one is closed politely
 * (CONNECTION_CLOSE, H3_NO_ERROR) once its last tunnel ended. */
void qlisten_drain(struct qlisten *ql);
/* Ends every tunnel (each writes its ledger line), closes every connection without a
 * word, closes the sockets and frees. NULL-safe; a closed qlisten is left alone. */
void qlisten_close(struct qlisten *ql);
/* Connections open (also while closing). */
static inline size_t qlisten_busy(const struct qlisten *ql) { return ql ? ql->nconns : 0; }

/* Sends the datagrams qc has to send now and re-arms its timer. Call it after writing
 * to a stream from outside lib/quic's callbacks (a TCP event). It may end tunnels of qc
 * (a connection that closes ends its streams): call it last, touching no tunnel after.
 * qc itself is freed only from qlisten's own callbacks. */
void qlisten_flush(struct qconn *qc);
/* lib/quic's connection-level events for qc (handshake done, connection IDs, closed),
 * also when lib/h3 passes them on (H3_EV_QUIC). */
void qlisten_conn_event(struct qconn *qc, const struct quic_event *ev);

#endif /* _WIN32 */

#endif
