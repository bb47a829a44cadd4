/* h3 — HTTP/3 (RFC 9114) on a lib/quic connection, with nghttp3 0.8: client requests,
 * server responses, and plain CONNECT tunnels (§4.4: ":method CONNECT" and
 * ":authority" only, then DATA both ways, FIN for FIN).
 *
 * Sans I/O like lib/quic: an h3_conn sits on a struct quic_conn whose event callback
 * it takes over (h3_conn_init); datagrams still go through quic_conn_read/write and
 * the expiry timer. Everything that happens comes back through one h3 event callback;
 * connection-level QUIC events (handshake done, closed, connection IDs) pass through as
 * H3_EV_QUIC.
 *
 * Bodies: h3_stream_write copies into the stream's body buffer (capped per stream and
 * per connection, like lib/quic's send buffers, and released as the peer acknowledges);
 * nghttp3 frames it into DATA, and QUIC carries it. A body can be fed incrementally:
 * write what you have, H3_EV_WRITABLE says when there is room for more, h3_stream_end
 * finishes it (FIN). Received header fields are copied into the stream (at most
 * H3_MAX_FIELDS fields and H3_FIELD_BYTES bytes per stream; a larger header section
 * fails the stream with H3_EXCESSIVE_LOAD). Received body bytes are handed to the
 * callback and not kept.
 *
 * Conventions: 0 or a negative errno; h3_conn_init/h3_conn_free on caller memory,
 * h3_conn_free NULL-safe. One thread per connection. Streams are recycled within the
 * connection; a struct h3_stream is valid until its H3_EV_CLOSED callback returns.
 */
#ifndef TP_H3_H
#define TP_H3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/quic.h"

/* HTTP/3 error codes (RFC 9114 §8.1). */
#define H3_NO_ERROR 0x100
#define H3_GENERAL_PROTOCOL_ERROR 0x101
#define H3_INTERNAL_ERROR 0x102
#define H3_STREAM_CREATION_ERROR 0x103
#define H3_CLOSED_CRITICAL_STREAM 0x104
#define H3_FRAME_UNEXPECTED 0x105
#define H3_FRAME_ERROR 0x106
#define H3_EXCESSIVE_LOAD 0x107
#define H3_ID_ERROR 0x108
#define H3_SETTINGS_ERROR 0x109
#define H3_MISSING_SETTINGS 0x10a
#define H3_REQUEST_REJECTED 0x10b
#define H3_REQUEST_CANCELLED 0x10c
#define H3_REQUEST_INCOMPLETE 0x10d
#define H3_MESSAGE_ERROR 0x10e
#define H3_CONNECT_ERROR 0x10f
#define H3_VERSION_FALLBACK 0x110

#define H3_MAX_FIELDS 64
#define H3_FIELD_BYTES 8192

struct h3_header {
	const char *name;   /* lowercase, NUL-terminated */
	const char *value;  /* NUL-terminated (no NUL inside: nghttp3 refuses those) */
};

struct h3_conn;

struct h3_stream {
	int64_t id;
	void *user;                      /* the application's */
	/* The header section last received, read-only. Pointers stay valid until the
	 * stream closes; a trailer section replaces fields[] but not the pseudo-headers. */
	const char *method, *scheme, *authority, *path; /* server: request pseudo-headers
							  * (NULL when absent) */
	int status;                      /* client: final response status (0 before) */
	struct h3_header fields[H3_MAX_FIELDS]; /* regular fields */
	size_t nfields;
	uint64_t body_received;          /* DATA payload bytes handed to the callback */
	uint64_t body_written;           /* accepted by h3_stream_write */
	uint64_t body_acked;             /* of those, acknowledged by the peer */
	bool end_received;               /* the peer's FIN after its body */
	bool body_ended;                 /* h3_stream_end / trailers / reset: no more body */
	/* private below */
	struct h3_conn *h3;
	struct quic_stream *qs;          /* NULL once the QUIC stream closed */
	struct quic_stream_stats quic_final;
	char arena[H3_FIELD_BYTES];
	size_t arena_len;
	bool fields_overflow, in_trailers;
	struct quic_sbuf body;
	bool has_reader, trailers_pending, want_writable, closed_emitted, request_seen, responded;
	enum quic_credit credit;
	struct h3_stream *next_all, *prev_all, *next_free;
};

enum h3_event_type {
	H3_EV_REQUEST,    /* server: a request's header section (method, authority, ...) */
	H3_EV_RESPONSE,   /* client: the final response's header section (status) */
	H3_EV_DATA,       /* body bytes data[0..len), valid during the callback */
	H3_EV_TRAILERS,   /* trailer section in fields[] */
	H3_EV_END,        /* the peer finished its side (all body delivered) */
	H3_EV_RESET,      /* the peer reset its side of the stream: code */
	H3_EV_STOPPED,    /* the peer's STOP_SENDING cut our side (code comes at CLOSED) */
	H3_EV_ERROR,      /* we reset the stream for a protocol error: code */
	H3_EV_ACKED,      /* len more body bytes acknowledged */
	H3_EV_WRITABLE,   /* the body buffer has room again after a short write */
	H3_EV_CLOSED,     /* last event of the stream: code when it closed with one. Every
			   * stream gets one; those still open when the connection ends get
			   * theirs after H3_EV_QUIC(QUIC_EV_CLOSED), without a code */
	H3_EV_GOAWAY,     /* the peer is shutting down: id (streams >= id will not be served) */
	H3_EV_QUIC,       /* a connection-level lib/quic event: quic */
};

struct h3_event {
	enum h3_event_type type;
	struct h3_stream *stream;
	const uint8_t *data;
	size_t len;
	uint64_t code;
	bool has_code;
	int64_t id;
	const struct quic_event *quic;
};

/* The callback may submit requests/responses/trailers, write and end bodies, reset
 * streams, and close the QUIC connection; not free the h3 or quic connection. */
typedef void (*h3_event_cb)(struct h3_conn *h, const struct h3_event *ev, void *arg);

struct h3_opts {
	size_t body_sndbuf;     /* unacknowledged body bytes a stream may hold (1 MiB) */
	size_t conn_body_bytes; /* ... all streams together (16 MiB) */
	size_t max_streams;     /* h3 streams alive at once (1024) */
	h3_event_cb cb;
	void *arg;
};

struct h3_conn_stats {
	uint32_t requests, responses, streams_reset_by_peer, streams_failed;
	uint64_t body_bytes_sent, body_bytes_received;
};

struct h3_conn {
	struct quic_conn *quic;
	bool server;
	bool ready;             /* control and QPACK streams are open */
	struct h3_conn_stats stats;
	h3_event_cb cb;
	void *arg;
	/* private below */
	void *ng;               /* nghttp3_conn * */
	struct h3_opts opts;
	struct quic_chunk_pool pool;
	struct h3_stream *all_head, *free_streams;
	size_t nalive, nfree;
	size_t nwaiting;        /* streams waiting for H3_EV_WRITABLE */
	unsigned depth;         /* nesting of our callbacks: flush only at depth 0 */
	bool failed;
};

/* Puts HTTP/3 on q (client or server as q is): q->cb/arg now point here. A client may
 * call it right after quic_conn_init_client; a server when QUIC_EV_HANDSHAKE_DONE says
 * the ALPN is "h3" (from inside that event is fine). The control and QPACK streams open
 * once the handshake is done; requests can be submitted from then on (the
 * H3_EV_QUIC event carrying QUIC_EV_HANDSHAKE_DONE comes after that). Returns 0 or
 * -ENOMEM. */
int h3_conn_init(struct h3_conn *h, struct quic_conn *q, const struct h3_opts *opts);
/* Frees the HTTP/3 state and every h3 stream, without events; q is untouched except
 * that its callback is cleared. NULL-safe, idempotent. */
void h3_conn_free(struct h3_conn *h);

struct h3_request {
	const char *method;      /* "GET", "POST", "CONNECT", ... */
	const char *scheme;      /* "https"; NULL for CONNECT */
	const char *authority;   /* "host:port" */
	const char *path;        /* "/x"; NULL for CONNECT */
	const struct h3_header *fields;
	size_t nfields;
	bool body;               /* a body follows (h3_stream_write ... h3_stream_end); else
				  * the request ends with its header section */
	void *user;
};

/* Client: opens a stream and sends the request. Returns 0 with *out set, -EAGAIN when
 * the server allows no more streams now (H3_EV_QUIC with QUIC_EV_STREAMS_AVAILABLE
 * says when), -ENOTCONN before the handshake or when closing, -EINVAL (bad request:
 * CONNECT needs authority and no scheme/path, others need all four), -ENOSPC at
 * max_streams, -ENOMEM. */
int h3_submit_request(struct h3_conn *h, const struct h3_request *req, struct h3_stream **out);

/* Server: the response to the request on s. body: a body follows, else the response
 * ends with its header section. 0, -EINVAL (status outside 100-599, client side),
 * -EALREADY (already answered), -ENOMEM. */
int h3_submit_response(struct h3_conn *h, struct h3_stream *s, int status,
		       const struct h3_header *fields, size_t nfields, bool body);

/* Trailers after the body written so far; they end the body. 0, -EPIPE (body already
 * ended or no body was announced), -ENOMEM. */
int h3_submit_trailers(struct h3_conn *h, struct h3_stream *s, const struct h3_header *fields,
		       size_t nfields);

/* Appends body bytes; returns how many fit (possibly 0: H3_EV_WRITABLE follows when
 * there is room), or -EPIPE (no body announced, or ended, or reset). */
long h3_stream_write(struct h3_conn *h, struct h3_stream *s, const void *data, size_t len);
/* Ends the body: FIN after the bytes written. 0 or -EPIPE. */
int h3_stream_end(struct h3_conn *h, struct h3_stream *s);

/* Resets both directions with code (RESET_STREAM + STOP_SENDING), e.g.
 * H3_REQUEST_CANCELLED, or H3_CONNECT_ERROR when a tunnel's TCP side reset. */
int h3_stream_reset(struct h3_conn *h, struct h3_stream *s, uint64_t code);

/* Receive credit for body bytes: AUTO (default: given back as soon as H3_EV_DATA
 * returns), MANUAL (h3_stream_consume), NONE (never: the peer stalls — flow-starve). */
void h3_stream_set_credit(struct h3_conn *h, struct h3_stream *s, enum quic_credit mode);
void h3_stream_consume(struct h3_conn *h, struct h3_stream *s, size_t n);

/* The QUIC stream's counters (live, or as they were when it closed). */
const struct quic_stream_stats *h3_stream_quic(const struct h3_stream *s);

/* Sends what nghttp3 has queued into the QUIC streams. The h3_* calls above do it
 * themselves outside callbacks; call it only after changing things from elsewhere. */
void h3_conn_flush(struct h3_conn *h);

/* "H3_NO_ERROR", "H3_INTERNAL_ERROR", ..., "QPACK_DECOMPRESSION_FAILED", or "unknown". */
const char *h3_error_name(uint64_t code);

#endif
