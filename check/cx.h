/* cx — reading HTTP/1.1 responses on a check connection (cio), with the body checked
 * byte for byte against lib/payload when the origin announced its seed.
 *
 * A struct cx holds the bytes read but not yet consumed, so responses that arrive
 * back to back (pipelining, keep-alive, a CONNECT reply followed by tunnel bytes)
 * are each taken whole and in order. Heads are parsed with lib/http1 (capped at
 * HTTP1_MAX_HEAD), bodies decoded with its body decoder; nothing here allocates.
 */
#ifndef TP_CHECK_CX_H
#define TP_CHECK_CX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "check/cio.h"
#include "lib/http1.h"

#define CX_BUF 65536
#define CX_COPY 16384 /* body bytes kept for checks that read the body (echo) */
#define CX_MAX_INTERIM 4

/* cx_read_head() flags, beside HTTP1_REQ_HEAD and HTTP1_REQ_CONNECT. */
enum { CX_STOP_1XX = 1u << 8 /* return an interim (1xx) head instead of skipping it */ };

/* How a response ended. */
enum cx_end {
	CX_COMPLETE = 0, /* its framing said it ended, and it did */
	CX_NO_HEAD,      /* the connection ended (or timed out) before a whole head */
	CX_TRUNCATED,    /* EOF before the framing's end (Content-Length short, no last chunk) */
	CX_RESET,        /* a reset before the framing's end */
	CX_TIMEOUT,      /* the deadline passed first */
	CX_PROTOCOL,     /* malformed head or framing (http1 error in proto_err) */
};

struct cx {
	struct cio *c;
	uint8_t buf[CX_BUF];
	size_t off, len; /* unread bytes are buf[off..len) */
};

struct cx_resp {
	char head[HTTP1_MAX_HEAD]; /* the final head as received */
	size_t head_len;
	struct http1_response resp; /* points into head */
	int status;
	int interim[CX_MAX_INTERIM]; /* 1xx statuses seen before it */
	size_t ninterim;
	bool has_seed;          /* X-Tp-Seed was present: the body was verified */
	uint64_t seed;
	uint64_t body;          /* payload bytes decoded */
	long bad_at;            /* -1, or the body offset of the first wrong byte */
	uint64_t trailer_bytes; /* chunked: the trailer section with its blank line (2: none) */
	enum cx_end end;
	int proto_err;          /* HTTP1_E_* when end == CX_PROTOCOL */
	uint64_t wire;          /* bytes of this response (interim heads, head, framing) */
	char copy[CX_COPY];     /* the body's first bytes */
	size_t copy_len;
};

void cx_init(struct cx *x, struct cio *c);
/* r must be zero-filled before the first call for a response.
 * Reads the next response head. 1xx heads are counted in r->interim and skipped,
 * unless flags has CX_STOP_1XX. Returns 0 with the head in r, or -1 with r->end set
 * (CX_NO_HEAD, CX_PROTOCOL). */
int cx_read_head(struct cx *x, unsigned flags, struct cx_resp *r, uint64_t deadline);
/* Reads the body of the head in r (framing per r->resp) until it ends. Returns 0 when
 * r->end == CX_COMPLETE, else -1. */
int cx_read_body(struct cx *x, struct cx_resp *r, uint64_t deadline);
/* Both. */
int cx_read_response(struct cx *x, unsigned flags, struct cx_resp *r, uint64_t deadline);
/* Reads more bytes into x (after what is unread). Returns the count, 0 at EOF, or
 * -errno (-ENOBUFS when x is full). */
long cx_fill(struct cx *x, uint64_t deadline);
/* Bytes already read past the last response (early tunnel bytes, a next response). */
static inline size_t cx_pending(const struct cx *x) { return x->len - x->off; }

/* A response header's value copied NUL-terminated into out (cap bytes); false when
 * absent. */
bool cx_header(const struct cx_resp *r, const char *name, char *out, size_t cap);
/* "complete", "no head", "truncated", "reset", "timeout", "protocol error". */
const char *cx_end_name(enum cx_end end);

#endif
