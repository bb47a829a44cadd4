/* oquic — the replay origin's HTTP/3 listener (`origin --quic-listen ADDR`): UDP
 * sockets through lib/net, QUIC connections through lib/quic, HTTP/3 through lib/h3;
 * each request stream is ostream.c's.
 *
 * Workers: every worker thread binds its own UDP socket on each --quic-listen address
 * (SO_REUSEPORT when there are several workers, as the TCP listeners do), and the
 * kernel keeps a client's datagrams on one socket by their address pair. A worker knows
 * only its own connections (its own connection-ID map): a client whose address changes
 * mid-connection (migration, NAT rebinding) may land on another worker, which drops its
 * datagrams — the origin does not support migration. With one worker (the default)
 * that cannot happen.
 *
 * Per worker: a connection-ID map (lib/quic's cidmap, its hash seeded at random), one
 * receive area for a batch of datagrams (recvmmsg, GRO when the kernel has it), per
 * socket one send area for a batch of equal datagrams (sendmmsg with GSO), a loop timer
 * per connection at lib/quic's expiry. A socket that stops taking datagrams keeps the
 * batch it refused and makes every connection on it wait for LOOP_WRITE: nothing is
 * dropped by us.
 *
 * Shared by every worker (read-only once made, but the certificate cache under its
 * lock): the QUIC server context (ALPN h3), the default certificate and one made on
 * first use for each name a client sends in SNI — leaves from the origin's generated CA
 * (lib/tlsserv), as for --tls-listen — and the random secret behind stateless reset
 * tokens, made at start.
 *
 * Ledger: one line per request stream (ostream.c) and one per connection when it ends
 * (docs/origin.md, "HTTP/3").
 */
#ifndef TP_REPLAY_OQUIC_H
#define TP_REPLAY_OQUIC_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/h3.h"
#include "lib/loop.h"
#include "lib/net.h"
#include "lib/quic.h"
#include "lib/tlsserv.h"
#include "replay/origin.h"

#define OQUIC_MAX_CONNS 4096      /* QUIC connections per worker; more Initials are dropped */
#define OQUIC_RX_BATCH 16         /* receive entries per recvmmsg */
#define OQUIC_RX_ENTRY 65536      /* bytes per receive entry (a GRO run, or one datagram) */
#define OQUIC_RX_ROUNDS 8         /* recvmmsg calls per readiness event */
#define OQUIC_TX_DGRAMS 64        /* datagrams per send batch (lib/quic's batch) */
#define OQUIC_FLUSH_ROUNDS 64     /* send batches per connection per flush; then the timer */

struct oquic_leaf {
	char name[256];
	struct quic_cred cred;
};

struct oquic_shared {
	struct tlsserv *tls;          /* the origin's CA (not owned) */
	struct quic_cred dflt;        /* localhost, 127.0.0.1, ::1 */
	bool dflt_ready, ctx_ready;
	struct quic_server_ctx ctx;   /* ALPN h3 */
	uint8_t secret[QUIC_SECRET_LEN];
	size_t max_udp_payload;       /* datagrams we send, at most */
	pthread_mutex_t lock;         /* leaves: the SNI callback runs in every worker */
	struct oquic_leaf leaves[TLSSERV_MAX_NAMES];
	size_t nleaves;
};

struct oquic;
struct oqconn;

/* One --quic-listen address of one worker. */
struct oquic_sock {
	struct oquic *q;
	struct net_udp udp;
	struct loop_io io;
	struct net_addr local;
	uint8_t *tx;                  /* one send batch: up to OQUIC_TX_DGRAMS datagrams
				       * and NET_UDP_MAX_PAYLOAD bytes (a GSO send) */
	size_t tx_cap;
	struct net_dgram pending;     /* what the socket refused (len 0: nothing) */
	struct oqconn *wait_head;     /* connections waiting for it to take datagrams */
};

/* One QUIC connection. */
struct oqconn {
	struct oquic *q;
	struct oquic_sock *sock;
	struct quic_conn quic;
	struct h3_conn h3;
	bool h3_up;
	struct loop_timer timer;      /* at quic_conn_expiry */
	uint64_t serial;              /* conn: the origin's connection number */
	char peer[NET_ADDRSTRLEN], local[NET_ADDRSTRLEN];
	char server_cid[2 * QUIC_MAX_CIDLEN + 1];   /* hex, for the ledger */
	char client_cid[2 * QUIC_MAX_CIDLEN + 1];
	char original_dcid[2 * QUIC_MAX_CIDLEN + 1];
	unsigned nreq;                /* request streams opened so far (the next req index) */
	unsigned nstreams;            /* request streams open now */
	uint64_t t0_us;
	double t_wall;
	bool dirty;                   /* on q->dirty: to flush after the datagrams in hand */
	bool waiting;                 /* on sock->wait_head */
	struct oqconn *next, *prev;   /* q->conns */
	struct oqconn *next_dirty, *next_wait;
};

/* A worker's QUIC side. */
struct oquic {
	struct origin_worker *w;
	struct oquic_sock sock[ORIGIN_MAX_LISTEN];
	size_t nsock;
	struct quic_cidmap map;
	struct oqconn *conns;
	size_t nconns;
	struct oqconn *dirty;
	struct net_dgram rx[OQUIC_RX_BATCH];
	uint8_t *rxbuf;               /* OQUIC_RX_BATCH * OQUIC_RX_ENTRY */
	struct ostream *free_streams; /* ostream.c's recycled request streams */
	size_t nfree_streams;
	bool stopping;
};

/* Makes sh->quic for cfg (nothing without --quic-listen): the default certificate from
 * sh->tls (which must be ready), the server context and the secrets. Returns 0, or
 * -ENOMEM / -EIO with *why set. */
int oquic_shared_init(struct origin_shared *sh, const char **why);
void oquic_shared_free(struct origin_shared *sh);

/* Binds the worker's UDP sockets on cfg->quic_listen (the first worker binds a port 0
 * and writes the port back into cfg, so the others share it) and watches them on its
 * loop; w->quic stays NULL without --quic-listen. Returns 0, or a negative errno with
 * *failed the index of the address that could not be bound (nothing left open). */
int oquic_worker_init(struct origin_worker *w, struct origin_config *cfg, size_t *failed);
/* Closes every connection without a word (after the loop ended) and the sockets.
 * NULL-safe. */
void oquic_worker_free(struct origin_worker *w);
/* Shutdown: refuses new connections and closes those with no request under way
 * (CONNECTION_CLOSE H3_NO_ERROR); the others close when their last stream ends. */
void oquic_stop(struct origin_worker *w);

/* For ostream.c: sends what the connection has to send now and re-arms its timer.
 * Not from inside a lib/quic or lib/h3 callback (flush after the event instead: the
 * datagram or timer that caused the event flushes). */
void oquic_conn_flush(struct oqconn *qc);
/* For ostream.c: a request stream ended (nstreams already lowered); in shutdown an idle
 * connection closes. Safe inside callbacks. */
void oquic_conn_stream_ended(struct oqconn *qc);

#endif
