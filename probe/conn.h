/* conn — one request slot of a probe worker: the request in flight, its deadline, its
 * record, and the state of its response checks. The slot rides on a transport
 * connection (struct link, link.h): its own, or — with --http3 — the QUIC connection
 * it shares with the other slots of its group (-c connections × --streams slots).
 *
 * conn.c owns the life of a request: conn_finish() is the single exit that classifies
 * it (SPEC §4) and hands it to the worker; the phase is where the request was (its
 * link's connecting phase, or the exchange's state). The exchanges (exchange.c for
 * HTTP/1.1, h3x.c for HTTP/3) and the response checks (verify.c) fill the rest.
 */
#ifndef TP_PROBE_CONN_H
#define TP_PROBE_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/http1.h"
#include "lib/ledger.h"
#include "lib/loop.h"
#include "lib/sha256.h"
#include "probe/config.h"
#include "probe/link.h"
#include "probe/stats.h"

struct probe_worker;
struct h3_stream;

enum conn_state {
	CONN_FREE = 0,   /* no request */
	CONN_LINK,       /* waiting for its connection (the phase is the link's) */
	CONN_SENDING,    /* writing the request (and upload body); HTTP/3: or waiting for
			  * the peer to allow another stream */
	CONN_HEAD,       /* waiting for / reading the response head */
	CONN_BODY,       /* reading the response body */
};

/* Monotonic timestamps (us) of one request's phases; 0 when not reached. */
struct req_times {
	uint64_t intended, start, dns, connect, proxy, tls, first_byte, end;
};

struct conn {
	struct probe_worker *w;
	unsigned slot;
	enum conn_state state;
	struct loop_timer timer;        /* fires at or before deadline_us */
	uint64_t deadline_us;           /* the current phase's deadline (conn_arm) */
	struct link *link;              /* the connection the request rides on, or NULL */
	struct conn *link_next, *link_prev; /* the link's list of requests */
	struct link *group;             /* --http3: the QUIC link of this slot's group */
	struct link own;                /* this slot's own connection */

	/* The request in flight. */
	bool busy;
	unsigned req_target;
	uint64_t req_seq;               /* the request's number among its target's */
	bool retried;
	struct req_times times;
	struct probe_record rec;

	/* The response being checked (verify.c). */
	enum http1_framing framing;     /* HTTP/3: LENGTH or CLOSE (the stream's end) */
	bool resp_keepalive, gzip, has_seed;
	bool check_seed;                /* body checked against the generator */
	bool check_sha;                 /* body hashed: a known SHA-256, or one to learn */
	bool inflating;                 /* gzip body decoded (records count decoded bytes) */
	struct sha256 md;               /* the body's hash while check_sha */
	uint64_t seed;
	int64_t tp_length;              /* X-Tp-Length, -1 when absent */
	uint64_t decoded;               /* payload bytes after content decoding */
	void *zs;                       /* z_stream *, kept for the slot's gzip bodies */
	bool gzip_ended;                /* inflate reached the end of the gzip stream */
	bool closing_wait_fin;          /* close-delimited body complete, waiting for FIN */

	/* HTTP/3 (h3x.c). */
	struct h3_stream *stream;       /* the request's stream, NULL when none */
	uint64_t upload_sent;           /* upload bytes accepted by the stream */

	/* HTTP/1.1 (exchange.c): the request head, then an upload body from the generator;
	 * the response head (capped like curl's) and the body decoder. */
	struct http1_body body;
	char out[2048];
	size_t out_len, out_off;
	uint64_t upload_left, upload_off;
	size_t in_len;
	char in[HTTP1_MAX_HEAD];        /* last: only the pages a head touches become resident */
};

/* ---- used by worker.c ---- */

/* Prepares slot number slot of w as a free slot; c must be zeroed memory. group: the
 * QUIC link of its group (--http3), else NULL. */
void conn_init(struct conn *c, struct probe_worker *w, unsigned slot, struct link *group);
/* Starts a request for target index ti on c, the seq-th of that target in the run (its
 * X-Probe-Id is "PREFIX-ti-seq"; intended_us: its due time in an open-loop run, 0 for
 * now): rides on a connection that fits (reused) or opens one. The request ends in
 * worker_request_done(). */
void conn_start_request(struct conn *c, unsigned ti, uint64_t seq, uint64_t intended_us);
/* Leaves the slot's connections (closing its own); no record is written. */
void conn_close(struct conn *c);
/* conn_close, and frees what the slot keeps across requests. */
void conn_free(struct conn *c);
/* True when a request for ti could start on a connection that is up now. */
bool conn_fits(const struct conn *c, unsigned ti);
/* True when the slot holds an open connection of its own. */
bool conn_connected(const struct conn *c);

/* ---- shared by conn.c, link.c, the filters and the exchanges ---- */

/* Ends the request in flight: class, the phase it happened in, a printf detail (NULL
 * for none). The connection is kept for more only for an ok response that allows it.
 * After this returns, c may already carry the worker's next request: touch nothing. */
void conn_finish(struct conn *c, enum tp_class cls, enum tp_phase phase, const char *fmt, ...)
	__attribute__((format(PF_PRINTF, 4, 5)));
/* The link failed while c waited for it (err->phase) or while c's request rode on it
 * (the phase c was in): ends the request with err's class and detail. */
void conn_link_failed(struct conn *c, const struct pf_error *err);
/* The QUIC attempt failed before its handshake (why): with --http3 the request goes on
 * over TCP+TLS on the slot's own connection, and its record says so. */
void conn_fall_back(struct conn *c, const char *why);
/* The link c rides on is up: start the request. */
void conn_link_up(struct conn *c);
/* A reused connection closed before any response byte: retries once on a new
 * connection and returns true (the request goes on), else false. */
bool conn_retry_if_stale(struct conn *c);
/* The phase c is in (for classifying what happened to it). */
enum tp_phase conn_phase(const struct conn *c);

uint64_t conn_now(const struct conn *c);
/* (Re)arms the request's deadline, secs from now, or at an absolute time. */
void conn_arm(struct conn *c, double secs);
void conn_arm_at(struct conn *c, uint64_t due_us);
const struct probe_target *conn_target(const struct conn *c);

#endif
