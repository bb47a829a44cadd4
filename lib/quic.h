/* quic — one QUIC connection, client or server, sans I/O, on ngtcp2 0.12 with GnuTLS
 * (ngtcp2_crypto_gnutls). It never touches a socket or a clock: the caller feeds it the
 * datagrams it received (quic_conn_read) and the time, takes the datagrams to send
 * (quic_conn_write) and arms a timer for quic_conn_expiry(). Everything that happens on
 * the connection comes back through one event callback (struct quic_event).
 *
 * Conventions (as lib/loop.h): functions return 0, a byte or datagram count, or a
 * negative errno. Times are microseconds on the caller's monotonic clock (the loop's
 * now_us). Every struct is caller memory: x_init()/x_free() on a struct the caller owns;
 * x_free() is NULL-safe and idempotent. A connection is used by one thread; the
 * contexts (quic_client_ctx, quic_server_ctx, quic_cred) are read-only once made and
 * may be shared by every thread.
 *
 * Memory: received stream data is not buffered here, it is handed to the event
 * callback and the peer can send only as much as the stream's credit allows (see
 * enum quic_credit). Data the application writes is copied into a stream send buffer
 * and kept until the peer acknowledges it (ngtcp2 retransmits from it); each stream's
 * buffer has a cap (quic_params.stream_sndbuf) and all of a connection's buffers
 * together another (conn_sndbuf). Stream structs and buffer chunks are recycled
 * within the connection, so a busy connection does not allocate per stream or packet.
 *
 * 0.x API notes live in docs/quic.md.
 */
#ifndef TP_QUIC_H
#define TP_QUIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#ifdef _WIN32 /* the types only: QUIC itself is not in the Windows build (quic_none.c) */
#include <winsock2.h>
#include <ws2tcpip.h>
#else
#include <sys/socket.h>
#endif

#include <pthread.h>

#define QUIC_CID_LEN 16          /* length of every connection ID we issue */
#define QUIC_MAX_CIDLEN 20       /* longest connection ID on the wire */
#define QUIC_SECRET_LEN 32       /* per-process secret behind stateless reset tokens */
#define QUIC_MAX_ALPN 8          /* protocols in an ALPN list */
#define QUIC_MAX_PAYLOAD 1452    /* default largest datagram we send */
#define QUIC_CHUNK_SIZE 16384    /* send buffers grow and shrink by chunks of this */

/* ---- send buffers with stable addresses ----
 *
 * A chain of fixed chunks: appended at the tail, handed out (peek/advance) from the
 * middle, released from the head once acknowledged. Bytes never move while held, which
 * is what ngtcp2 and nghttp3 require of data they were given (they keep pointers until
 * the peer acknowledges). lib/h3 uses the same buffers for request and response bodies.
 * Chunks come from a pool owned by the connection; the pool caps the total. */

struct quic_vec {          /* same layout as ngtcp2_vec and nghttp3_vec */
	uint8_t *base;
	size_t len;
};

struct quic_chunk {
	struct quic_chunk *next;
	size_t len;                    /* bytes used in data */
	uint8_t data[QUIC_CHUNK_SIZE];
};

struct quic_chunk_pool {
	struct quic_chunk *free;       /* recycled chunks */
	size_t nfree;
	size_t allocated;              /* chunks alive, free or in use */
	size_t max_chunks;             /* cap on allocated */
};

struct quic_sbuf {
	struct quic_chunk *head, *tail;
	uint64_t head_off;             /* stream offset of head->data[0] */
	uint64_t acked;                /* bytes before this offset are released */
	uint64_t sent;                 /* bytes before this offset were handed out */
	uint64_t written;              /* bytes appended so far */
	size_t cap;                    /* written - acked never exceeds this */
	struct quic_chunk *cur;        /* the chunk holding offset `sent` (or one before
					* it), so peeking costs no walk from the head; NULL:
					* start at the head */
	uint64_t cur_off;              /* stream offset of cur->data[0] */
};

/* max_bytes: cap on all chunks of the pool (rounded up to a chunk). */
void quic_chunk_pool_init(struct quic_chunk_pool *pool, size_t max_bytes);
/* Frees the recycled chunks; chunks still held by buffers must be released first. */
void quic_chunk_pool_free(struct quic_chunk_pool *pool);

void quic_sbuf_init(struct quic_sbuf *sb, size_t cap);
/* Copies up to len bytes in; returns how many fit (0 when full or when the pool is
 * exhausted — never an error). */
size_t quic_sbuf_append(struct quic_sbuf *sb, struct quic_chunk_pool *pool, const void *data,
			size_t len);
/* Fills up to n vectors with the bytes from sent to written; returns the count. The
 * vectors stay valid until those bytes are released by quic_sbuf_ack. */
size_t quic_sbuf_peek(const struct quic_sbuf *sb, struct quic_vec *v, size_t n);
/* Marks n more bytes as handed out (n <= written - sent). */
void quic_sbuf_advance(struct quic_sbuf *sb, size_t n);
/* Releases everything before offset upto (<= sent); chunks go back to the pool. */
void quic_sbuf_ack(struct quic_sbuf *sb, struct quic_chunk_pool *pool, uint64_t upto);
/* Returns every chunk to the pool. NULL-safe. */
void quic_sbuf_free(struct quic_sbuf *sb, struct quic_chunk_pool *pool);
static inline size_t quic_sbuf_unsent(const struct quic_sbuf *sb)
{
	return (size_t)(sb->written - sb->sent);
}

/* ---- TLS contexts ---- */

struct quic_keylog {       /* NSS key log (SSLKEYLOGFILE format), shared by threads */
	FILE *file;
	pthread_mutex_t lock;
	bool lock_ready;
};

struct quic_client_ctx {
	void *cred;                    /* gnutls_certificate_credentials_t */
	bool insecure;                 /* no certificate verification (-k) */
	struct quic_keylog keylog;
	uint8_t secret[QUIC_SECRET_LEN]; /* random, for our stateless reset tokens */
};

/* cafile: PEM bundle to trust (NULL: the system store); insecure: verify nothing;
 * keylog_path: file to append NSS key log lines to (NULL: none). Returns 0, or
 * -EINVAL / -ENOMEM with *why set (why may be NULL). */
int quic_client_ctx_init(struct quic_client_ctx *ctx, const char *cafile, bool insecure,
			 const char *keylog_path, const char **why);
void quic_client_ctx_free(struct quic_client_ctx *ctx);

/* A server certificate chain and key. */
struct quic_cred {
	void *cred;                    /* gnutls_certificate_credentials_t */
};

/* cert_pem: the leaf first, then any intermediates; key_pem: its private key (PKCS#8 or
 * traditional PEM). Both are copied. Returns 0, or -EINVAL / -ENOMEM with *why set. */
int quic_cred_init_pem(struct quic_cred *cr, const char *cert_pem, size_t cert_len,
		       const char *key_pem, size_t key_len, const char **why);
int quic_cred_init_files(struct quic_cred *cr, const char *cert_path, const char *key_path,
			 const char **why);
void quic_cred_free(struct quic_cred *cr);

/* Picks the certificate for a client's SNI (name is NULL when the client sent none).
 * Returns the credential to present, or NULL for the default one. It runs during
 * quic_conn_read() in the connection's thread (so possibly in several threads at once)
 * and the credential must outlive every connection that used it. */
typedef const struct quic_cred *(*quic_sni_cb)(void *arg, const char *name);

struct quic_server_ctx {
	const struct quic_cred *cred;  /* default certificate (not owned) */
	quic_sni_cb sni;               /* optional */
	void *sni_arg;
	char alpn[QUIC_MAX_ALPN][32];  /* protocols we accept, in our order of preference */
	size_t nalpn;
	uint8_t secret[QUIC_SECRET_LEN];
	struct quic_keylog keylog;
};

/* cred: the default certificate (kept by pointer, must outlive the context); alpn: the
 * protocols this listener serves, e.g. {"h3", "socks5"} — a client offering none of
 * them fails its handshake with alert no_application_protocol; secret: the caller's
 * per-process random secret (stateless reset tokens are derived from it). Returns 0, or
 * -EINVAL with *why set. */
int quic_server_ctx_init(struct quic_server_ctx *ctx, const struct quic_cred *cred,
			 const char *const *alpn, size_t nalpn,
			 const uint8_t secret[QUIC_SECRET_LEN], const char *keylog_path,
			 const char **why);
void quic_server_ctx_free(struct quic_server_ctx *ctx);

/* ---- connections ---- */

/* Receive credit of a stream: how its flow control window follows the application. */
enum quic_credit {
	QUIC_CREDIT_AUTO = 0,  /* window extended as soon as data is handed to the callback */
	QUIC_CREDIT_MANUAL,    /* extended by quic_stream_consume() (backpressure) */
	QUIC_CREDIT_NONE,      /* never extended: the peer stalls once the window is used
				* (the flow-starve fault); the connection window still moves */
};

/* Transport parameters and limits; 0 in any field means its default. */
struct quic_params {
	uint64_t max_data;          /* connection receive window (4 MiB) */
	uint64_t max_stream_data;   /* initial receive window of every stream (1 MiB) */
	uint64_t max_window;        /* auto-tuning ceiling, connection (16 MiB) */
	uint64_t max_stream_window; /* auto-tuning ceiling, stream (6 MiB) */
	uint64_t max_streams_bidi;  /* concurrent bidi streams the peer may open (100) */
	uint64_t max_streams_uni;   /* concurrent uni streams the peer may open (16) */
	uint64_t idle_timeout_us;   /* (30 s) */
	uint64_t handshake_timeout_us; /* (10 s) */
	size_t stream_sndbuf;       /* unacknowledged bytes a stream may hold (1 MiB) */
	size_t conn_sndbuf;         /* ... all streams together (16 MiB) */
	size_t max_streams_alive;   /* stream structs alive at once, ours + peer's (4096) */
	size_t max_udp_payload;     /* largest datagram we send (1452); larger values are
				     * for loopback and in-memory runs */
	enum quic_credit credit;    /* default credit mode of new streams (AUTO) */
};

enum quic_state {
	QUIC_ST_HANDSHAKE = 0,
	QUIC_ST_OPEN,          /* handshake done */
	QUIC_ST_CLOSING,       /* we sent CONNECTION_CLOSE; waiting out the closing period */
	QUIC_ST_DRAINING,      /* the peer closed; silent until the period ends */
	QUIC_ST_CLOSED,        /* over: nothing more will happen, free it */
};

enum quic_close_reason {
	QUIC_CLOSE_NONE = 0,
	QUIC_CLOSE_LOCAL,             /* quic_conn_close() */
	QUIC_CLOSE_PEER,              /* the peer's CONNECTION_CLOSE (code, app) */
	QUIC_CLOSE_IDLE,              /* idle timeout, no packet sent */
	QUIC_CLOSE_HANDSHAKE_TIMEOUT, /* handshake not done within handshake_timeout_us */
	QUIC_CLOSE_TLS,               /* handshake failure; tls_alert says which, by_peer
				       * who sent it */
	QUIC_CLOSE_PROTOCOL,          /* the peer broke the protocol (transport code) */
	QUIC_CLOSE_STATELESS_RESET,   /* the peer sent a stateless reset */
	QUIC_CLOSE_INTERNAL,          /* no memory, or a library failure (detail) */
};

struct quic_close {
	enum quic_close_reason reason;
	bool by_peer;          /* the peer's CONNECTION_CLOSE / alert / reset */
	bool app;              /* code is an application code (frame 0x1d) */
	uint64_t code;         /* the wire code (transport or application) */
	uint8_t tls_alert;     /* TLS alert for QUIC_CLOSE_TLS (code 0x100 + alert) */
	char detail[160];      /* reason phrase, verification failure, library error */
};

/* Ledger counters of a stream; read-only for the application. */
struct quic_stream_stats {
	uint64_t bytes_written;   /* accepted by quic_stream_write */
	uint64_t bytes_sent;      /* handed to the wire at least once */
	uint64_t bytes_acked;     /* acknowledged by the peer, contiguous from 0 */
	uint64_t bytes_received;  /* delivered to the event callback */
	uint64_t bytes_consumed;  /* credit given back (auto or quic_stream_consume) */
	uint64_t final_size;      /* of the receive side, once known */
	bool fin_sent, fin_acked, fin_received;
	bool reset_sent, reset_received, stop_sending_sent, stop_sending_received;
	uint64_t reset_code_sent, reset_code_received;
	uint64_t stop_sending_code_sent, stop_sending_code_received;
	uint32_t credit_stalls;   /* times the peer's stream window blocked our data */
	uint32_t conn_credit_stalls; /* ... the connection window, while this stream waited */
};

struct quic_conn_stats {
	uint64_t datagrams_sent, datagrams_received;
	uint64_t bytes_sent, bytes_received;       /* UDP payload bytes */
	uint64_t stream_bytes_sent, stream_bytes_received, stream_bytes_acked;
	uint32_t streams_opened_local, streams_opened_peer;
	uint32_t resets_sent, resets_received;
	uint32_t credit_stalls, conn_credit_stalls;
	uint32_t write_refused;   /* quic_stream_write calls that accepted nothing */
};

struct quic_conn;
struct quic_stream;

struct quic_stream {
	int64_t id;
	void *user;               /* the application's */
	struct quic_stream_stats stats;
	/* private below */
	struct quic_conn *conn;
	struct quic_sbuf sbuf;
	enum quic_credit credit;
	bool fin_wanted;          /* the application finished the write side */
	bool fin_with_data;       /* FIN went out in the frame with the last bytes */
	bool zero_ack_seen;       /* ngtcp2 reported a 0-length ack: a FIN-only frame */
	bool write_shut;          /* reset by us or by the peer: writes refused */
	bool blocked;             /* stream flow control: waiting for MAX_STREAM_DATA */
	bool want_writable;       /* a write was short: report WRITABLE when room frees */
	bool queued;              /* in the send queue */
	bool opened_by_peer;
	struct quic_stream *next_q, *prev_q;  /* send queue */
	struct quic_stream *next_all, *prev_all; /* every stream alive */
	struct quic_stream *next_free;        /* free list, or the WRITABLE waiters */
};

enum quic_event_type {
	QUIC_EV_HANDSHAKE_DONE,   /* conn->alpn is set */
	QUIC_EV_STREAMS_AVAILABLE,/* the peer allows more streams: quic_stream_open may work */
	QUIC_EV_STREAM_OPEN,      /* the peer opened stream */
	QUIC_EV_STREAM_DATA,      /* data[0..len) at offset; valid during the callback only */
	QUIC_EV_STREAM_FIN,       /* the peer finished: all data delivered (offset = size) */
	QUIC_EV_STREAM_RESET,     /* the peer's RESET_STREAM: code, offset = final size */
	QUIC_EV_STREAM_STOPPED,   /* the peer's STOP_SENDING cut our write side (code
				   * known only at STREAM_CLOSED: ngtcp2 0.12 reports none) */
	QUIC_EV_STREAM_ACKED,     /* len more bytes acknowledged, offset = total acked;
				   * fin: our FIN is acknowledged too */
	QUIC_EV_STREAM_WRITABLE,  /* the send buffer has room again after a short write */
	QUIC_EV_STREAM_CLOSED,    /* last event of stream (has_code: closed with code;
				   * conn_closed: the connection ended first). Every stream
				   * gets exactly one, after QUIC_EV_CLOSED for the latter */
	QUIC_EV_CID_NEW,          /* server demux: cid now routes to this connection */
	QUIC_EV_CID_RETIRED,      /* ... no longer */
	QUIC_EV_CLOSED,           /* the connection is over or closing: see close */
};

struct quic_event {
	enum quic_event_type type;
	struct quic_stream *stream;
	const uint8_t *data;
	size_t len;
	uint64_t offset;
	uint64_t code;
	bool has_code;
	bool fin;
	bool conn_closed;
	const uint8_t *cid;
	size_t cidlen;
	const struct quic_close *close;
};

/* The callback may call quic_stream_open/write/finish/consume/shutdown_*, set
 * stream->user, quic_stream_set_credit and quic_conn_close. It must not call
 * quic_conn_read/write/handle_expiry or quic_conn_free. After QUIC_EV_STREAM_CLOSED
 * returns, that stream pointer is dead. */
typedef void (*quic_event_cb)(struct quic_conn *c, const struct quic_event *ev, void *arg);

struct quic_conn_opts {
	const struct sockaddr *local;   /* our address as the socket sees it */
	socklen_t local_len;
	const struct sockaddr *remote;  /* the peer's */
	socklen_t remote_len;
	const char *sni;                /* client: name sent (NULL or an IP literal: none) */
	const char *verify_host;        /* client: name or IP the certificate must match
					 * (NULL: sni, or the remote address) */
	const char *const *alpn;        /* client: protocols offered, in order */
	size_t nalpn;
	struct quic_params params;
	FILE *log;                      /* ngtcp2's debug log, or NULL */
	quic_event_cb cb;
	void *arg;
};

struct quic_conn {
	bool server;
	enum quic_state state;
	char alpn[32];               /* negotiated protocol, "" before the handshake */
	struct quic_close close;     /* why it ended, once state >= CLOSING */
	struct quic_conn_stats stats;
	uint8_t scid[QUIC_MAX_CIDLEN];  /* our first connection ID (server demux key) */
	size_t scidlen;
	quic_event_cb cb;            /* may be replaced (lib/h3 takes over a connection) */
	void *arg;
	struct quic_conn_impl *impl; /* private */
};

/* A client connection towards opts->remote; nothing is sent until quic_conn_write().
 * now_us starts its clock. Returns 0, or -EINVAL (bad opts) / -ENOMEM / -EPROTO (TLS
 * setup) with c->close.detail saying why. On failure c is still safe to free. */
int quic_conn_init_client(struct quic_conn *c, struct quic_client_ctx *ctx,
			  const struct quic_conn_opts *opts, uint64_t now_us);

/* A server connection from the client's first Initial pkt[0..len) (which the caller
 * then passes to quic_conn_read, as for any later datagram). The caller routes by
 * connection ID: c->scid and the Initial's DCID (quic_pkt_ids) map to c from now on,
 * then QUIC_EV_CID_NEW/RETIRED keep the map current. Returns 0, -EINVAL when pkt is not
 * an Initial that can start a connection (drop it), -ENOMEM, -EPROTO. */
int quic_conn_init_server(struct quic_conn *c, struct quic_server_ctx *ctx,
			  const struct quic_conn_opts *opts, const uint8_t *pkt, size_t len,
			  uint64_t now_us);

/* Frees everything, streams included, without sending anything (quic_conn_close first
 * for a polite end). No event is delivered. NULL-safe, idempotent. */
void quic_conn_free(struct quic_conn *c);

/* Feeds one received datagram from address from. Events fire from inside. Returns 0
 * (also when the datagram was dropped or ended the connection: see c->state), or
 * -ENOMEM. */
int quic_conn_read(struct quic_conn *c, const struct sockaddr *from, socklen_t fromlen,
		   const uint8_t *pkt, size_t len, uint64_t now_us);

/* Datagrams to send, batched for sendmmsg/GSO: every datagram in buf has size seg
 * except possibly the last; all go to the same address. */
struct quic_tx {
	uint8_t *buf;              /* caller's, cap bytes (>= max_udp_payload) */
	size_t cap;
	size_t len;                /* out: bytes of datagrams in buf */
	size_t seg;                /* out: size of each datagram but the last */
	size_t count;              /* out: datagrams */
	struct sockaddr_storage to;/* out: destination */
	socklen_t tolen;
};

/* Builds the next batch of datagrams (as many as fit in tx->cap, congestion and pacing
 * allow). Returns the count (0: nothing to send now; wait for a datagram or the
 * expiry), or -ENOMEM. Call it after every read, expiry or write to a stream, until it
 * returns 0 or the socket is full. */
int quic_conn_write(struct quic_conn *c, uint64_t now_us, struct quic_tx *tx);

/* When quic_conn_handle_expiry must run next (UINT64_MAX: never). */
uint64_t quic_conn_expiry(const struct quic_conn *c);
/* Runs timers (loss detection, ACK delay, idle and handshake timeouts, the end of the
 * closing period); then call quic_conn_write. Returns 0 or -ENOMEM. */
int quic_conn_handle_expiry(struct quic_conn *c, uint64_t now_us);

/* Starts closing with CONNECTION_CLOSE (app: application code 0x1d, else transport
 * 0x1c) and an optional reason phrase; the next quic_conn_write sends it and delivers
 * QUIC_EV_CLOSED. Before the handshake is done, only a transport close goes out (an
 * application code becomes APPLICATION_ERROR, as RFC 9000 §10.2.3 says). No-op once
 * closing. */
void quic_conn_close(struct quic_conn *c, bool app, uint64_t code, const char *reason);

/* Smoothed RTT and congestion window, for statistics. */
struct quic_path_info {
	uint64_t srtt_us, min_rtt_us, cwnd, bytes_in_flight;
};
void quic_conn_path_info(const struct quic_conn *c, struct quic_path_info *out);

/* The connection IDs that route to c now — a server's include the client's original
 * DCID — for a demux map (after quic_conn_init_server, and to remove c before freeing
 * it). Fills up to n entries and their lengths; returns the count. */
size_t quic_conn_cids(const struct quic_conn *c, uint8_t (*cids)[QUIC_MAX_CIDLEN],
		      size_t *lens, size_t n);

/* Connection IDs for ledgers: the peer's current one (what our packets carry as DCID)
 * and, on a server, the client's original DCID (its first Initial's). Each copies the ID
 * to out and returns its length (0 for a zero-length ID or before there is one). */
size_t quic_conn_peer_cid(const struct quic_conn *c, uint8_t out[QUIC_MAX_CIDLEN]);
size_t quic_conn_original_dcid(const struct quic_conn *c, uint8_t out[QUIC_MAX_CIDLEN]);

/* ---- streams ---- */

/* Opens a stream of ours (bidi or uni). Returns 0 with *out set, -EAGAIN when the peer
 * allows no more streams now (wait for QUIC_EV_STREAMS_AVAILABLE), -ENOSPC at
 * max_streams_alive, -ENOTCONN when closing. */
int quic_stream_open(struct quic_conn *c, bool bidi, void *user, struct quic_stream **out);

/* The live stream with this id, or NULL. */
struct quic_stream *quic_stream_find(struct quic_conn *c, int64_t id);

/* Copies up to len bytes into the stream's send buffer; returns the count accepted,
 * possibly short or 0 when the buffer is full (QUIC_EV_STREAM_WRITABLE follows when room
 * frees), -EPIPE once the write side is finished or reset, -ENOTCONN when closing. fin:
 * finish the stream after these bytes — only when all of them were accepted. */
long quic_stream_write(struct quic_conn *c, struct quic_stream *s, const void *data,
		       size_t len, bool fin);
/* Finishes the write side (FIN after the buffered bytes). 0 or -EPIPE. */
int quic_stream_finish(struct quic_conn *c, struct quic_stream *s);

/* Gives n bytes of receive credit back to the peer (QUIC_CREDIT_MANUAL). */
void quic_stream_consume(struct quic_conn *c, struct quic_stream *s, size_t n);
void quic_stream_set_credit(struct quic_stream *s, enum quic_credit mode);

/* RESET_STREAM with code: unacknowledged bytes are dropped, writes refused. 0 or
 * -EPIPE when already reset or all of it was acknowledged. */
int quic_stream_shutdown_write(struct quic_conn *c, struct quic_stream *s, uint64_t code);
/* STOP_SENDING with code: asks the peer to stop; further data is discarded. */
int quic_stream_shutdown_read(struct quic_conn *c, struct quic_stream *s, uint64_t code);

/* ---- datagram routing (server) ---- */

struct quic_pkt_ids {
	uint8_t dcid[QUIC_MAX_CIDLEN], scid[QUIC_MAX_CIDLEN];
	size_t dcidlen, scidlen;
	uint32_t version;      /* 0 for a short header */
	bool long_header;
};

/* Reads the version and connection IDs of a datagram (short headers are assumed to
 * carry a QUIC_CID_LEN DCID, as ours do). Returns 0; 1 when the version is one we do not
 * speak (answer with quic_write_version_negotiation); -EINVAL when it is not QUIC. */
int quic_pkt_ids(const uint8_t *pkt, size_t len, struct quic_pkt_ids *ids);
/* A Version Negotiation packet answering ids; returns its length or -ENOSPC. */
long quic_write_version_negotiation(uint8_t *buf, size_t cap, const struct quic_pkt_ids *ids);

/* Connection ID -> connection map for a listener: open addressing, fixed capacity,
 * keyed hash (connection IDs in an Initial are chosen by the peer). */
struct quic_cidmap_slot {
	uint8_t cid[QUIC_MAX_CIDLEN];
	uint8_t len;           /* 0: empty; 0xff: deleted */
	void *value;
};

struct quic_cidmap {
	struct quic_cidmap_slot *slots;
	size_t nslots;         /* power of two, twice the entry cap */
	size_t len, max_len;
	size_t used;           /* slots not empty: entries plus deleted */
	uint64_t seed;
};

/* Room for max_entries IDs (e.g. 4 per connection). 0 or -ENOMEM. */
int quic_cidmap_init(struct quic_cidmap *m, size_t max_entries);
void quic_cidmap_free(struct quic_cidmap *m);
/* Adds or replaces. 0, -ENOSPC when full, -EINVAL for a bad length. */
int quic_cidmap_put(struct quic_cidmap *m, const uint8_t *cid, size_t len, void *value);
void *quic_cidmap_get(const struct quic_cidmap *m, const uint8_t *cid, size_t len);
void quic_cidmap_del(struct quic_cidmap *m, const uint8_t *cid, size_t len);

/* ---- names ---- */

/* "handshake failure", "bad certificate", ... (OpenSSL's names, as lib/tls uses). */
const char *quic_alert_name(uint8_t alert);
/* "NO_ERROR", "FLOW_CONTROL_ERROR", "CRYPTO_ERROR" (0x100-0x1ff), ... or "unknown". */
const char *quic_transport_error_name(uint64_t code);
const char *quic_close_reason_name(enum quic_close_reason r);

#endif
