/* http1 — sans-I/O HTTP/1.x message parsing (RFC 9112): response heads, request
 * heads, and an incremental body decoder (Content-Length, chunked, close-delimited).
 *
 * Nothing here allocates or does I/O. Head parsers are picohttpparser-style: the
 * caller keeps the head bytes in its own (capped) buffer and calls again with more
 * bytes until the head is complete; parsed names and values point into that buffer.
 * The body decoder's state is a small struct the caller owns.
 *
 * Return convention of the parsers: > 0 bytes consumed (the head length),
 * HTTP1_NEED_MORE (-2) when the input ends before the head does, HTTP1_ERROR (-1)
 * with *err set to an HTTP1_E_* code (see http1_strerror()).
 */
#ifndef TP_HTTP1_H
#define TP_HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP1_ERROR (-1)
#define HTTP1_NEED_MORE (-2)

/* Defaults callers use as caps (curl caps CONNECT reply headers the same way). */
#define HTTP1_MAX_HEAD 16384      /* bytes of a whole head */
#define HTTP1_MAX_HEADERS 64      /* header fields */
#define HTTP1_MAX_TRAILER 16384   /* bytes of chunked trailers */
#define HTTP1_MAX_CHUNK_LINE 4096 /* bytes of one chunk-size line incl. extensions */

enum http1_error {
	HTTP1_E_NONE = 0,
	HTTP1_E_TOO_LARGE,       /* head longer than max_head, or too many header fields */
	HTTP1_E_START_LINE,      /* malformed status line or request line */
	HTTP1_E_VERSION,         /* not HTTP/1.0 or HTTP/1.1 */
	HTTP1_E_STATUS,          /* status code not three digits */
	HTTP1_E_HEADER,          /* malformed header field (no colon, bad name char, obs-fold) */
	HTTP1_E_BARE_LF,         /* LF without CR where CRLF is required (we are strict) */
	HTTP1_E_CONTENT_LENGTH,  /* invalid, overflowing, or conflicting Content-Length values */
	HTTP1_E_CL_TE_CONFLICT,  /* both Content-Length and Transfer-Encoding */
	HTTP1_E_TRANSFER_ENCODING, /* a Transfer-Encoding whose last coding is not chunked */
	HTTP1_E_CHUNK_SIZE,      /* chunk-size line malformed or longer than HTTP1_MAX_CHUNK_LINE */
	HTTP1_E_CHUNK_OVERFLOW,  /* chunk size does not fit in 63 bits */
	HTTP1_E_CHUNK_CRLF,      /* chunk data not followed by CRLF */
	HTTP1_E_TRAILER,         /* malformed trailer section or longer than HTTP1_MAX_TRAILER */
	HTTP1_E_TRUNCATED,       /* EOF before the body's framing said it ends */
};

/* A stable, short English name for an HTTP1_E_* code ("bad chunk size", ...). */
const char *http1_strerror(int err);

struct http1_header {
	const char *name;
	size_t name_len;
	const char *value; /* leading and trailing whitespace removed */
	size_t value_len;
};

enum http1_framing {
	HTTP1_FRAMING_NONE = 0, /* no body (HEAD, 1xx, 204, 304, or a request without one) */
	HTTP1_FRAMING_LENGTH,   /* Content-Length bytes */
	HTTP1_FRAMING_CHUNKED,  /* chunked transfer coding */
	HTTP1_FRAMING_CLOSE,    /* response body runs until the connection closes */
};

struct http1_response {
	int minor_version;      /* 0 or 1 */
	int status;             /* 100..999 */
	const char *reason;
	size_t reason_len;
	struct http1_header headers[HTTP1_MAX_HEADERS];
	size_t num_headers;
	/* Derived from the headers and the request (RFC 9112 §6.3): */
	enum http1_framing framing;
	uint64_t content_length; /* valid when framing == HTTP1_FRAMING_LENGTH */
	bool keep_alive;         /* the connection may carry another request after this */
	bool gzip;               /* Content-Encoding: gzip */
};

/* Flags describing the request the response answers, which decide its framing. */
enum {
	HTTP1_REQ_HEAD = 1u << 0,    /* the request was HEAD: no body whatever the headers say */
	HTTP1_REQ_CONNECT = 1u << 1, /* the request was CONNECT: a 2xx has no body, tunnel follows */
};

/* Parses a response head from buf[0..len). Returns the head length, HTTP1_NEED_MORE,
 * or HTTP1_ERROR (*err set). A 1xx response (other than 101) is returned like any
 * other with framing NONE: the caller skips it and parses again after it.
 * HTTP1_E_TOO_LARGE is returned as soon as len reaches max_head without a complete
 * head, so an endless header costs at most max_head bytes.
 * Each line is checked as soon as its CRLF is in buf, and input that cannot start
 * with "HTTP/" fails at once (HTTP1_E_START_LINE), so a prefix of a head never gives
 * a different answer than the whole head: only HTTP1_NEED_MORE or the same error. */
int http1_parse_response(const char *buf, size_t len, size_t max_head, unsigned req_flags,
			 struct http1_response *resp, int *err);

struct http1_request {
	const char *method;
	size_t method_len;
	const char *target; /* as sent: origin-form, absolute-form, authority-form or "*" */
	size_t target_len;
	int minor_version;
	struct http1_header headers[HTTP1_MAX_HEADERS];
	size_t num_headers;
	enum http1_framing framing; /* NONE, LENGTH or CHUNKED (requests are never CLOSE) */
	uint64_t content_length;
	bool keep_alive;
	bool expect_continue;
};

/* Parses a request head; same conventions as http1_parse_response(). The target must
 * be in a form its method allows (RFC 9112 §3.2): authority-form (host:port, [v6]:port)
 * for CONNECT and only there, "*" only for OPTIONS, else origin-form or absolute-form;
 * anything else is HTTP1_E_START_LINE. */
int http1_parse_request(const char *buf, size_t len, size_t max_head,
			struct http1_request *req, int *err);

/* Finds a header by case-insensitive name; returns it or NULL. */
const struct http1_header *http1_find_header(const struct http1_header *headers, size_t n,
					     const char *name);
/* Case-insensitive comparison of a header value (or any counted string) with s. */
bool http1_token_eq(const char *a, size_t a_len, const char *s);

/* Incremental body decoder. Zero-initialise, or use http1_body_init(). */
struct http1_body {
	enum http1_framing framing;
	uint64_t remaining;   /* LENGTH: bytes left; CHUNKED: bytes left in this chunk */
	uint64_t payload;     /* payload bytes decoded so far */
	uint64_t chunk_line;  /* CHUNKED: bytes of the current size line or trailer so far */
	uint64_t trailer;     /* CHUNKED: trailer bytes so far */
	int state;            /* private */
	bool done;            /* the message ended; later bytes belong to the next one */
};

void http1_body_init(struct http1_body *body, enum http1_framing framing,
		     uint64_t content_length);

/* Feeds body bytes in[0..len). Returns the number of bytes consumed (0..len) or
 * HTTP1_ERROR with *err set. *data and *data_len receive the payload bytes found
 * within the consumed input — at most one contiguous span per call, so callers loop
 * until all input is consumed or body->done is set. Bytes after the end of the
 * message are never consumed. With len > 0 and the message not done, a call always
 * consumes at least one byte or fails. A malformed byte that follows a payload span
 * in the same call is reported by the next call (so the span is never lost), and a
 * failing call leaves the state unchanged. */
long http1_body_feed(struct http1_body *body, const uint8_t *in, size_t len,
		     const uint8_t **data, size_t *data_len, int *err);

/* Tells the decoder the connection reached EOF. Returns 0 when that completes the
 * message (CLOSE framing, or already done), else HTTP1_E_TRUNCATED. */
int http1_body_eof(struct http1_body *body);

#endif
