/* conn — one probe connection, a chain of stages in the manner of curl's connection
 * filters: tcp → (CONNECT | SOCKS5: tunnel.c) → (TLS) → HTTP/1.1 (exchange.c). The
 * state a connection is in when its request ends is the record's phase.
 *
 * conn.c owns the connection (socket, timer, resolver query, TLS) and the life of a
 * request: conn_finish() is the single exit that classifies it (SPEC §4) and hands it
 * to the worker. The helpers below are shared by tunnel.c and exchange.c only.
 */
#ifndef TP_PROBE_CONN_H
#define TP_PROBE_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/dns.h"
#include "lib/http1.h"
#include "lib/ledger.h"
#include "lib/loop.h"
#include "lib/net.h"
#include "lib/sha256.h"
#include "lib/tls.h"
#include "probe/config.h"
#include "probe/stats.h"

struct probe_worker;

enum conn_state {
	CONN_FREE = 0,   /* no socket */
	CONN_RESOLVING,
	CONN_CONNECTING,
	CONN_PROXY,      /* CONNECT or SOCKS5 exchange; proxy_step says which message */
	CONN_TLS,
	CONN_IDLE,       /* connected and kept alive, no request on it */
	CONN_SENDING,    /* writing the request head (and upload body) */
	CONN_HEAD,       /* reading the response head */
	CONN_BODY,       /* reading the response body */
};

enum proxy_step {
	PX_CONNECT_SEND, PX_CONNECT_RECV,
	PX_SOCKS_GREETING, PX_SOCKS_METHOD, PX_SOCKS_AUTH, PX_SOCKS_AUTH_REPLY,
	PX_SOCKS_REQUEST, PX_SOCKS_REPLY,
};

/* Monotonic timestamps (us) of one request's phases; 0 when not reached. */
struct req_times {
	uint64_t intended, start, dns, connect, proxy, tls, first_byte, end;
};

struct conn {
	struct probe_worker *w;
	unsigned slot;
	int fd;
	struct loop_io io;
	struct loop_timer timer;        /* fires at or before deadline_us */
	uint64_t deadline_us;           /* the current phase's deadline (conn_arm) */
	struct dns_query *dnsq;
	enum conn_state state;
	enum proxy_step proxy_step;
	const struct probe_target *target; /* what the connection is connected for */
	unsigned target_index;
	struct net_addr remote;         /* where the socket connects: proxy or origin */
	struct net_addr socks_dst;      /* socks5:// with local resolution: the origin */
	bool socks_dst_resolved;
	bool remote_ready;              /* remote holds the address to connect to */
	bool resolving_dst;             /* the DNS query under way is for socks_dst */
	int pending_err;                /* a connect() failure to report from the loop */
	bool tls_on;
	struct tls_conn tls;
	bool tunnel_up;                 /* CONNECT 2xx or SOCKS success received */
	unsigned requests_done;         /* completed on this connection */
	char local_s[NET_ADDRSTRLEN], remote_s[NET_ADDRSTRLEN];

	/* The request in flight. */
	bool busy;
	unsigned req_target;
	uint64_t req_seq;               /* the request's number among its target's */
	bool retried;
	struct req_times times;
	struct probe_record rec;

	/* The response being read. */
	enum http1_framing framing;
	bool resp_keepalive, gzip, has_seed;
	bool check_seed;                /* body checked against the generator */
	bool check_sha;                 /* body hashed: a known SHA-256, or one to learn */
	bool inflating;                 /* gzip body decoded (records count decoded bytes) */
	struct sha256 md;               /* the body's hash while check_sha */
	uint64_t seed;
	int64_t tp_length;              /* X-Tp-Length, -1 when absent */
	struct http1_body body;
	uint64_t decoded;               /* payload bytes after content decoding */
	void *zs;                       /* z_stream *, kept for the connection's gzip bodies */
	bool gzip_ended;                /* inflate reached the end of the gzip stream */
	bool closing_wait_fin;          /* close-delimited body complete, waiting for FIN */

	/* Output: a proxy message or the request head; then an upload body from the
	 * generator. */
	char out[2048];
	size_t out_len, out_off;
	uint64_t upload_left, upload_off;

	/* Input: a proxy reply or the response head (capped like curl's). */
	char in[HTTP1_MAX_HEAD];         /* last: only the pages a head touches become resident */
	size_t in_len;
};

/* ---- used by worker.c ---- */

/* Prepares slot number slot of w as a free connection; c must be zeroed memory. */
void conn_init(struct conn *c, struct probe_worker *w, unsigned slot);
/* Starts a request for target index ti on c, the seq-th of that target in the run (its
 * X-Probe-Id is "PREFIX-ti-seq"; intended_us: its due time in an open-loop run, 0 for
 * now): reuses c's connection when it is idle and connected for an
 * equivalent target, else (re)connects. The request ends in worker_request_done(). */
void conn_start_request(struct conn *c, unsigned ti, uint64_t seq, uint64_t intended_us);
/* Closes the socket and forgets the connection state (no record written). */
void conn_close(struct conn *c);
/* conn_close, and frees what the slot keeps across connections (the SHA-256 context). */
void conn_free(struct conn *c);
/* True when c is idle and connected for a target equivalent to ti (same origin, same
 * proxy path), so a request for ti can reuse it. */
bool conn_fits(const struct conn *c, unsigned ti);

/* ---- shared by conn.c, tunnel.c and exchange.c ---- */

/* Ends the request in flight: class, the phase it happened in, a printf detail (NULL
 * for none). Keeps the connection alive only for an ok response that allows it. After
 * this returns, c may already carry the worker's next request: touch nothing. */
#ifdef __MINGW_PRINTF_FORMAT /* mingw's "printf" is msvcrt's; its C99 printf is in use */
#define CONN_PRINTF __MINGW_PRINTF_FORMAT
#else
#define CONN_PRINTF printf
#endif
void conn_finish(struct conn *c, enum tp_class cls, enum tp_phase phase, const char *fmt, ...)
	__attribute__((format(CONN_PRINTF, 4, 5)));
/* A reused keep-alive connection closed before any response byte: retries once on a
 * new connection and returns true (the request goes on), else false. */
bool conn_retry_if_stale(struct conn *c);
/* The proxy (if any) said yes: TLS for https targets, then the request. */
void conn_after_tunnel(struct conn *c);

uint64_t conn_now(const struct conn *c);
/* Watches c's socket for events (LOOP_READ/LOOP_WRITE). */
void conn_watch(struct conn *c, unsigned events);
/* (Re)arms the phase deadline, secs from now. */
void conn_arm(struct conn *c, double secs);
const struct probe_target *conn_target(const struct conn *c);
/* True when the target is reached through a tunnel (CONNECT or SOCKS5). */
bool conn_via_tunnel(const struct probe_target *t);
/* Reads/writes through TLS when on, else the socket: net.h / tls.h conventions. */
long conn_read(struct conn *c, void *buf, size_t len);
long conn_write(struct conn *c, const void *buf, size_t len);
/* The events to wait for after -EAGAIN (TLS may need the other direction). */
unsigned conn_want(const struct conn *c, unsigned plain);

#endif
