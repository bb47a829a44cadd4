/* forward — plain HTTP forward proxying in the reference proxy: absolute-form requests
 * ("GET http://host/path HTTP/1.1") rewritten for the origin (origin form, Host from
 * the URI, hop-by-hop fields removed, Via added) and responses rewritten for the client
 * (hop-by-hop fields removed, Via added), bodies passed through byte for byte with their
 * framing checked (Content-Length, chunked, close-delimited, HEAD/1xx/204/304).
 *
 * Keep-alive on both legs, independently: pipelined requests are answered in order
 * (up to FWD_PIPELINE outstanding); a request for another origin, or one after the
 * origin closed its keep-alive connection, waits for the outstanding responses, then
 * the origin leg is replaced (session_reconnect()). One ledger line per request, written
 * once its response reached the client (or the connection ended).
 *
 * The forward state is allocated only for forward sessions (tunnels do not pay for it).
 */
#ifndef TP_PROXY_FORWARD_H
#define TP_PROXY_FORWARD_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/http1.h"
#include "lib/net.h"
#include "lib/url.h"

#define FWD_PIPELINE 16

struct session;
struct flow;

/* One request on a forward connection: what the ledger line says about it. Byte
 * positions are offsets in cumulative streams, so the counts stay exact whatever the
 * reads and writes carried. */
struct fwd_req {
	char id[64];                 /* X-Probe-Id, or "" (64: SESSION_ID_MAX) */
	char target[URL_MAX_HOST + 8];
	char up_local[NET_ADDRSTRLEN], up_peer[NET_ADDRSTRLEN];
	char method[16];
	bool head;                   /* a HEAD request: the response has no body */
	bool client_close;           /* the client asked for the connection to end after it */
	int status;                  /* final status of the response, 0 until read */
	uint64_t up_received;        /* client bytes of this request (head + body) */
	uint64_t up_a, up_b;         /* [a, b): its rewritten bytes in the origin-leg stream */
	bool up_complete;
	uint64_t down_c, down_d;     /* [c, d): its response in the bytes read from the origin */
	uint64_t down_e, down_g;     /* [e, g): its response in the bytes written to the client */
	bool down_started, down_complete;
	uint64_t ops[8];             /* flow counters when it started (recv/send/short/dropped x2) */
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
	char rsp_buf[HTTP1_MAX_HEAD];  /* origin bytes not yet relayed (a response head) */
	size_t rsp_len;
	bool rsp_in_body;
	struct http1_body rsp_body;
	bool rsp_close_client;         /* end the client connection after this response */
	bool rsp_retire_origin;        /* the origin will not take another request */
	uint64_t up_queued;            /* bytes put in the client→origin flow */
	uint64_t down_consumed;        /* origin bytes taken by the response parser */
	uint64_t down_queued;          /* bytes put in the origin→client flow */
	bool raw;                      /* after 101 Switching Protocols: a plain tunnel */
	bool origin_gone;              /* the origin leg is closed; the next request reconnects */
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

/* The origin→client flow drained: writes the ledger lines of the answered requests. */
void forward_flushed(struct session *s);
/* The session ends: writes the lines of every request not written yet. Returns how
 * many lines forward sessions wrote in all (0: the caller writes a connection line). */
unsigned forward_finish(struct session *s);
void forward_free(struct session *s);

/* Pure helpers (tested on their own). */
/* Is the field hop-by-hop (RFC 9110 §7.6.1), or named by the message's Connection? */
bool forward_hop_by_hop(const struct http1_header *h, const struct http1_header *headers,
			size_t n);
/* Writes the request head for the next hop: origin form with Host from the URI (or the
 * absolute form, for an upstream HTTP proxy), hop-by-hop fields removed, Via added,
 * auth (a "Basic ..." credential for the upstream proxy, or NULL). Returns the length,
 * or -1 when it does not fit in cap. */
long forward_rewrite_request(const struct http1_request *req, const struct url *u, bool absolute,
			     const char *auth, char *out, size_t cap);
/* Writes the response head for the client: HTTP/1.1, hop-by-hop fields removed, Via
 * added, "Connection: close" when close. Returns the length or -1. */
long forward_rewrite_response(const struct http1_response *resp, bool close, char *out,
			      size_t cap);

#endif
