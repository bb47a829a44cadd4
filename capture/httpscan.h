/* httpscan — follows HTTP/1 framing over one reassembled direction of a flow, so the
 * capture knows how many bytes a response promised and can tell an early FIN from an
 * orderly end even without any ledger. Requests (and their X-Probe-Id) are read on the
 * client's direction; a CONNECT request and its 2xx reply switch both directions to
 * "tunnel", and the bytes after the heads go to the TLS scanner instead; so does a
 * SOCKS5 exchange (greeting, optional username/password, request and reply).
 *
 * Sans-I/O over lib/http1; the head buffer is allocated on demand (capped at
 * HTTP1_MAX_HEAD) and freed once the head is parsed. Bytes the capture did not hold
 * (snaplen) are skipped by count inside Content-Length bodies and lose sync elsewhere.
 */
#ifndef TP_CAPTURE_HTTPSCAN_H
#define TP_CAPTURE_HTTPSCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/http1.h"

enum httpscan_mode {
	HS_UNKNOWN = 0, /* nothing seen yet */
	HS_REQUESTS,    /* this direction carries HTTP requests */
	HS_RESPONSES,   /* this direction carries HTTP responses */
	HS_TUNNEL,      /* after a CONNECT exchange: opaque bytes follow */
	HS_OTHER,       /* not HTTP/1 (TLS, SOCKS5, ...) */
	HS_LOST,        /* framing lost (a gap, cut bytes in a head, a parse error) */
	HS_SOCKS5,      /* a SOCKS5 greeting/request (or reply) before the tunnel */
};

#define HS_MAX_PENDING 32

struct httpscan {
	enum httpscan_mode mode;
	char *head;          /* head bytes being collected, HTTP1_MAX_HEAD cap */
	uint32_t head_len;
	bool in_body;
	struct http1_body body;
	uint64_t msg_start;  /* stream offset of the current message's head */
	uint64_t msg_end;    /* where it ends when known (Content-Length), else UINT64_MAX */
	uint64_t messages;   /* heads parsed */
	uint64_t complete;   /* messages whose body ended by framing */
	uint64_t body_bytes; /* body bytes of all messages (decoded) */
	uint64_t announced;  /* body length announced for the current message
			      * (Content-Length or X-Tp-Length), UINT64_MAX unknown */
	int last_status;
	int connect_status;  /* the final reply to a CONNECT (server side), 0 none */
	uint64_t tunnel_off; /* stream offset where tunnel bytes begin (mode HS_TUNNEL) */
	int error;           /* HTTP1_E_* that lost sync, 0 when none */
	char probe_id[64];   /* first X-Probe-Id seen (requests) */
	bool from_client;    /* this direction is the connection originator's */
	uint8_t socks_stage; /* SOCKS5: 0 greeting/method, 1 auth, 2 request/reply */
	uint8_t socks_reply; /* SOCKS5 reply code seen (server side), 0xff none */
	/* Requests seen on the other direction, oldest first: HTTP1_REQ_* flags. */
	uint8_t pending[HS_MAX_PENDING];
	uint32_t pending_head, pending_len;
};

void httpscan_init(struct httpscan *h);
void httpscan_free(struct httpscan *h);

/* Feeds the next len bytes of the direction (data NULL: not captured). peer is the
 * scanner of the opposite direction (requests queue their flags there; a CONNECT
 * reply switches it to tunnel), may be NULL. Returns how many of the bytes were HTTP;
 * the rest (len - return) are tunnel/other bytes for the next layer. */
size_t httpscan_feed(struct httpscan *h, struct httpscan *peer, uint64_t off,
		     const uint8_t *data, size_t len);
/* The next len bytes were never seen. */
void httpscan_gap(struct httpscan *h, size_t len);
/* True when the direction ended (FIN/RST) in the middle of a message whose framing
 * says more bytes were due: a head cut short, or a Content-Length/chunked body. */
bool httpscan_incomplete(const struct httpscan *h);
const char *httpscan_mode_name(enum httpscan_mode m);

#endif
