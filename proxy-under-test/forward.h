/* forward — plain HTTP forward proxying in the reference proxy: absolute-form requests
 * ("GET http://host/path HTTP/1.1") rewritten for the origin and responses rewritten for
 * the client (rewrite.h), bodies passed through byte for byte with their framing
 * checked (Content-Length, chunked, close-delimited, HEAD/1xx/204/304).
 *
 * Keep-alive on both legs, independently: pipelined requests are answered in order
 * (up to FWD_PIPELINE outstanding); a request for another origin, or one after the
 * origin closed its keep-alive connection, waits for the outstanding responses, then
 * the origin leg is replaced (session_reconnect()). Every request head, the first and
 * each later one, must arrive within the handshake timeout of its first byte.
 *
 * The ledger (fwdledger.h): one line per request, written once its response reached
 * the client and its own bytes reached the origin (or the connection ended). Its counts are in
 * received bytes, so received == sent + dropped: `received` is the request's (up) or
 * its response's (down) bytes as they came, heads included; `sent` how many of them
 * were delivered — a head once its rewrite is written whole, body bytes one for one;
 * `dropped` the rest; `wire_sent` the bytes really written for it (rewritten heads as
 * they are, and the proxy's own answer when it gave one: 400, 502, ...). Bytes that belong to no request (a head that never completed or was refused,
 * an origin's bytes nobody asked for once the lines are out) get one more line at the
 * end, with method null. The forward state is allocated only for forward sessions.
 */
#ifndef TP_PROXY_FORWARD_H
#define TP_PROXY_FORWARD_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/http1.h"
#include "lib/net.h"
#include "lib/url.h"
#include "proxy-under-test/fault.h"

#define FWD_PIPELINE 16

struct session;
struct flow;

/* One request on a forward connection: what its ledger line says. Byte positions are
 * offsets in cumulative streams, so the counts stay exact whatever the reads and writes
 * carried. */
struct fwd_req {
	char id[64];                 /* X-Probe-Id, or "" (64: SESSION_ID_MAX) */
	char target[URL_MAX_HOST + 8];
	char up_local[NET_ADDRSTRLEN], up_peer[NET_ADDRSTRLEN];
	char method[16];
	bool head;                   /* a HEAD request: the response has no body */
	bool client_close;           /* the client asked for the connection to end after it */
	int status;                  /* final status of the response (or the proxy's), 0 until known */
	/* client → origin */
	uint64_t up_in;              /* its client bytes: head + body with its framing */
	uint64_t up_head_in, up_head_out; /* its head as received and as rewritten */
	uint64_t up_a, up_b;         /* [a, b): its rewritten bytes in the origin-leg stream */
	bool up_complete;
	/* origin → client */
	uint64_t down_c, down_d;     /* [c, d): its response in the origin bytes parsed */
	uint64_t down_e, down_g;     /* [e, g): its response in the bytes written to the client */
	uint64_t down_heads_in, down_heads_out; /* its response heads (1xx too) as read / rewritten */
	uint64_t down_extra;         /* origin bytes of its response the parser never took (a
				      * head that did not parse, bytes after it, left at close) */
	uint64_t down_own;           /* the proxy's own answer to it (400, 502, ...) written */
	uint64_t own_a, own_n;       /* reverse mode, an answer of the proxy's own (429, 503,
				      * /metrics): bytes [a, a + n) of the own bytes queued for the
				      * client (fwd.own_queued) */
	uint8_t gate;                /* reverse mode: what was decided for it (reverse.h) */
	bool down_started, down_complete;
	uint64_t ops[6];             /* flow counters when it started (recv/send/short x2) */
	uint32_t acts[FAULT_MAX];    /* fault acts when it started (inject.c) */
	double t;
	uint64_t start_us;
	unsigned index;              /* its position on the client connection, from 0 */
};

struct fwd {
	struct fwd_req q[FWD_PIPELINE];
	uint64_t q_emit, q_resp, q_tail; /* ring positions: emitted < answered < pending < tail */
	char req_buf[HTTP1_MAX_HEAD];  /* client bytes not yet relayed (a head, or its start) */
	size_t req_len;
	bool req_in_body;
	struct http1_body req_body;
	uint64_t head_t0_us;           /* when the first byte of the head in req_buf came (0: none) */
	uint32_t head_acts[FAULT_MAX]; /* fault acts then: from there on they are its request's */
	char rsp_buf[HTTP1_MAX_HEAD];  /* origin bytes not yet relayed (a response head) */
	size_t rsp_len;
	bool rsp_in_body;
	struct http1_body rsp_body;
	bool rsp_close_client;         /* end the client connection after this response */
	bool rsp_retire_origin;        /* the origin will not take another request */
	uint64_t up_queued;            /* bytes put in the client→origin flow */
	uint64_t down_consumed;        /* origin bytes taken by the response parser */
	uint64_t down_queued;          /* bytes put in the origin→client flow */
	uint64_t orphan_up, orphan_down; /* bytes of no request (see above) */
	bool raw;                      /* after 101 Switching Protocols: a plain tunnel */
	bool origin_gone;              /* the origin leg is closed; the next request reconnects */
	uint8_t gate;                  /* reverse mode: the decision on the head in req_buf, made
					* once however often it is held (reverse.h), 0 none yet */
	unsigned gate_arg;             /* its Retry-After, for a 429 or 503 */
	uint64_t own_queued;           /* reverse mode: bytes of the proxy's own answers queued */
	unsigned requests;             /* requests parsed */
	unsigned emitted;              /* ledger lines written */
};

/* The first request of a forward session (its head is in the client flow): takes the
 * destination from the absolute-form target and keeps the client's bytes. Returns 0,
 * or the HTTP status to refuse with (400, 414, 500 when out of memory). */
int forward_start(struct session *s, const struct http1_request *req);

/* The relay's read steps of a forward session (f is empty): client→origin moves the
 * next request head (rewritten) or body bytes into f; origin→client the next response
 * head (rewritten) or body bytes. Return 1 when bytes or an EOF were taken, 0 when
 * nothing can be done now, -1 when the relay must stop (session closed, or the origin
 * leg is being replaced). */
int forward_fill(struct session *s, struct flow *f);
int forward_fill_down(struct session *s, struct flow *f);

/* f drained (both directions call it): a held request may go, and the lines of the
 * requests now answered and delivered are written (fwdledger.h). */
void forward_flushed(struct session *s, struct flow *f);
void forward_free(struct session *s);

/* The request at ring position pos. */
static inline struct fwd_req *fwd_at(struct fwd *fw, uint64_t pos)
{
	return &fw->q[pos % FWD_PIPELINE];
}

#endif
