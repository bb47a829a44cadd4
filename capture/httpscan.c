/* httpscan — see httpscan.h. */
#include "capture/httpscan.h"

#include <stdlib.h>
#include <string.h>

void httpscan_init(struct httpscan *h)
{
	memset(h, 0, sizeof *h);
	h->msg_end = UINT64_MAX;
	h->announced = UINT64_MAX;
	h->socks_reply = 0xff;
}

void httpscan_free(struct httpscan *h)
{
	if (!h)
		return;
	free(h->head);
	h->head = NULL;
	h->head_len = 0;
}

const char *httpscan_mode_name(enum httpscan_mode m)
{
	switch (m) {
	case HS_UNKNOWN: return "unknown";
	case HS_REQUESTS: return "http_requests";
	case HS_RESPONSES: return "http_responses";
	case HS_TUNNEL: return "tunnel";
	case HS_OTHER: return "other";
	case HS_SOCKS5: return "socks5";
	case HS_LOST: return "lost";
	}
	return "unknown";
}

static void push_pending(struct httpscan *h, uint8_t flags)
{
	if (h->pending_len == HS_MAX_PENDING)
		return; /* a pipelining burst beyond the window: later HEADs are misread */
	h->pending[(h->pending_head + h->pending_len) % HS_MAX_PENDING] = flags;
	h->pending_len++;
}

static uint8_t pop_pending(struct httpscan *h)
{
	if (!h->pending_len)
		return 0;
	uint8_t f = h->pending[h->pending_head];
	h->pending_head = (h->pending_head + 1) % HS_MAX_PENDING;
	h->pending_len--;
	return f;
}

/* Decides what a direction carries from its first bytes. */
static enum httpscan_mode detect(const uint8_t *p, size_t n, bool from_client)
{
	/* SOCKS5: a greeting (05, nmethods >= 1) from the client, a method choice (05, 00 |
	 * 02 | ff) from the server. TLS starts with 0x16 and HTTP with a letter. */
	if (p[0] == 5 && (n < 2 || (from_client ? p[1] >= 1 : (p[1] == 0 || p[1] == 2 || p[1] == 0xff))))
		return HS_SOCKS5;
	static const char resp[] = "HTTP/";
	size_t k = n < 5 ? n : 5;
	if (memcmp(p, resp, k) == 0)
		return HS_RESPONSES;
	size_t i = 0;
	while (i < n && i < 16 && p[i] >= 'A' && p[i] <= 'Z')
		i++;
	if (i > 0 && (i == n || (p[i] == ' ' && i >= 3)))
		return HS_REQUESTS;
	return HS_OTHER;
}

static uint64_t header_u64(const struct http1_header *hs, size_t n, const char *name)
{
	const struct http1_header *hd = http1_find_header(hs, n, name);
	if (!hd || hd->value_len == 0 || hd->value_len > 19)
		return UINT64_MAX;
	uint64_t v = 0;
	for (size_t i = 0; i < hd->value_len; i++) {
		if (hd->value[i] < '0' || hd->value[i] > '9')
			return UINT64_MAX;
		v = v * 10 + (uint64_t)(hd->value[i] - '0');
	}
	return v;
}

static void start_body(struct httpscan *h, enum http1_framing framing, uint64_t cl,
		       uint64_t body_off)
{
	h->messages++;
	http1_body_init(&h->body, framing, cl);
	h->msg_end = framing == HTTP1_FRAMING_LENGTH ? body_off + cl :
		     framing == HTTP1_FRAMING_NONE ? body_off : UINT64_MAX;
	if (framing == HTTP1_FRAMING_NONE) {
		h->complete++;
		h->in_body = false;
	} else {
		h->in_body = true;
	}
}

/* Parses the collected head. Returns its length (> 0), 0 when more is needed, or -1
 * when sync is lost. */
static int parse_head(struct httpscan *h, struct httpscan *peer, uint64_t head_off)
{
	int err = 0, n;
	if (h->mode == HS_REQUESTS) {
		struct http1_request req;
		n = http1_parse_request(h->head, h->head_len, HTTP1_MAX_HEAD, &req, &err);
		if (n == HTTP1_NEED_MORE)
			return 0;
		if (n < 0)
			goto fail;
		uint8_t flags = 0;
		if (http1_token_eq(req.method, req.method_len, "HEAD"))
			flags |= HTTP1_REQ_HEAD;
		if (http1_token_eq(req.method, req.method_len, "CONNECT"))
			flags |= HTTP1_REQ_CONNECT;
		if (peer)
			push_pending(peer, flags);
		const struct http1_header *id = http1_find_header(req.headers, req.num_headers,
								  "X-Probe-Id");
		if (id && !h->probe_id[0]) {
			size_t l = id->value_len < sizeof h->probe_id - 1 ? id->value_len :
									   sizeof h->probe_id - 1;
			memcpy(h->probe_id, id->value, l);
			h->probe_id[l] = '\0';
		}
		if (flags & HTTP1_REQ_CONNECT) {
			h->messages++;
			h->complete++;
			h->mode = HS_TUNNEL;
			h->tunnel_off = head_off + (uint64_t)n;
			return n;
		}
		h->announced = req.framing == HTTP1_FRAMING_LENGTH ? req.content_length : UINT64_MAX;
		start_body(h, req.framing, req.content_length, head_off + (uint64_t)n);
		return n;
	}
	struct http1_response resp;
	uint8_t flags = h->pending_len ? h->pending[h->pending_head] : 0;
	n = http1_parse_response(h->head, h->head_len, HTTP1_MAX_HEAD, flags, &resp, &err);
	if (n == HTTP1_NEED_MORE)
		return 0;
	if (n < 0)
		goto fail;
	h->last_status = resp.status;
	if (resp.status >= 100 && resp.status < 200 && resp.status != 101) {
		h->messages++;
		h->complete++;
		return n; /* interim: the final response follows */
	}
	pop_pending(h);
	if (flags & HTTP1_REQ_CONNECT)
		h->connect_status = resp.status;
	if (((flags & HTTP1_REQ_CONNECT) && resp.status >= 200 && resp.status < 300) ||
	    resp.status == 101) {
		h->messages++;
		h->complete++;
		h->mode = HS_TUNNEL;
		h->tunnel_off = head_off + (uint64_t)n;
		if (peer && peer->mode == HS_REQUESTS) {
			peer->mode = HS_TUNNEL;
			peer->tunnel_off = peer->msg_end != UINT64_MAX ? peer->msg_end : 0;
		}
		return n;
	}
	h->announced = resp.framing == HTTP1_FRAMING_LENGTH ?
			       resp.content_length :
			       header_u64(resp.headers, resp.num_headers, "X-Tp-Length");
	start_body(h, resp.framing, resp.content_length, head_off + (uint64_t)n);
	return n;
fail:
	h->error = err ? err : HTTP1_E_START_LINE;
	h->mode = HS_LOST;
	return -1;
}

/* Consumes body bytes; returns how many. */
static size_t body_bytes(struct httpscan *h, const uint8_t *data, size_t len)
{
	struct http1_body *b = &h->body;
	if (b->framing == HTTP1_FRAMING_LENGTH || b->framing == HTTP1_FRAMING_CLOSE) {
		size_t take = len;
		if (b->framing == HTTP1_FRAMING_LENGTH && b->remaining < take)
			take = (size_t)b->remaining;
		if (b->framing == HTTP1_FRAMING_LENGTH)
			b->remaining -= take;
		b->payload += take;
		h->body_bytes += take;
		if (b->framing == HTTP1_FRAMING_LENGTH && b->remaining == 0) {
			b->done = true;
			h->in_body = false;
			h->complete++;
		}
		return take;
	}
	if (!data) {
		h->mode = HS_LOST; /* chunk framing cannot be followed blind */
		return len;
	}
	size_t used = 0;
	while (used < len && !b->done) {
		const uint8_t *p;
		size_t pl;
		int err = 0;
		long n = http1_body_feed(b, data + used, len - used, &p, &pl, &err);
		if (n < 0) {
			h->error = err;
			h->mode = HS_LOST;
			return len;
		}
		h->body_bytes += pl;
		used += (size_t)n;
		if (n == 0 && !b->done)
			break;
	}
	if (b->done) {
		h->in_body = false;
		h->complete++;
	}
	return used;
}

/* Length of the complete SOCKS5 message at the start of b (n bytes), 0 when more
 * bytes are needed, -1 when it is not SOCKS5. */
static int socks_msg(const struct httpscan *h, const uint8_t *b, size_t n)
{
	if (n < 2)
		return 0;
	if (h->socks_stage == 0)
		return h->from_client ? (n >= 2u + b[1] ? 2 + b[1] : 0) : 2;
	if (h->socks_stage == 1 || (h->from_client && b[0] == 1)) { /* RFC 1929 auth */
		if (h->from_client) {
			if (b[0] != 1)
				return -1;
			size_t need = 2u + b[1] + 1;
			if (n < need)
				return 0;
			need += b[2u + b[1]];
			return n >= need ? (int)need : 0;
		}
		return 2;
	}
	if (n < 5)
		return 0;
	if (b[0] != 5)
		return -1;
	size_t alen = b[3] == 1 ? 4 : b[3] == 4 ? 16 : b[3] == 3 ? 1u + b[4] : 0;
	if (!alen)
		return -1;
	return n >= 4 + alen + 2 ? (int)(4 + alen + 2) : 0;
}

/* Consumes the SOCKS5 exchange; returns bytes used. Switches to HS_TUNNEL after the
 * request (client) or a success reply (server). */
static size_t socks_feed(struct httpscan *h, uint64_t off, const uint8_t *data, size_t len)
{
	size_t used = 0;
	if (!h->head) {
		h->head = malloc(HTTP1_MAX_HEAD);
		if (!h->head) {
			h->mode = HS_LOST;
			return len;
		}
	}
	while (used < len && h->mode == HS_SOCKS5) {
		if (h->head_len >= 600) {
			h->mode = HS_LOST;
			return len;
		}
		h->head[h->head_len++] = (char)data[used++];
		int m = socks_msg(h, (const uint8_t *)h->head, h->head_len);
		if (m == 0)
			continue;
		if (m < 0) {
			h->mode = HS_LOST;
			return len;
		}
		const uint8_t *b = (const uint8_t *)h->head;
		if (h->socks_stage == 0) {
			/* The client's next message is auth when it starts with 01. */
			h->socks_stage = (!h->from_client && b[1] == 2) ? 1 : 2;
		} else if (h->socks_stage == 1 || (h->from_client && b[0] == 1)) {
			h->socks_stage = 2;
		} else {
			h->messages++;
			h->complete++;
			if (!h->from_client)
				h->socks_reply = b[1];
			if (h->from_client || b[1] == 0) {
				h->mode = HS_TUNNEL;
				h->tunnel_off = off + used;
			} else {
				h->mode = HS_OTHER; /* refused: nothing follows */
			}
		}
		h->head_len = 0;
	}
	if (h->mode != HS_SOCKS5) {
		free(h->head);
		h->head = NULL;
		h->head_len = 0;
	}
	return used;
}

size_t httpscan_feed(struct httpscan *h, struct httpscan *peer, uint64_t off,
		     const uint8_t *data, size_t len)
{
	size_t used = 0;
	while (used < len) {
		switch (h->mode) {
		case HS_UNKNOWN:
			if (!data) {
				h->mode = HS_LOST;
				return len;
			}
			h->mode = detect(data + used, len - used, h->from_client);
			continue;
		case HS_TUNNEL:
		case HS_OTHER:
			return used;
		case HS_LOST:
			return len;
		case HS_SOCKS5:
			if (!data) {
				h->mode = HS_LOST;
				return len;
			}
			used += socks_feed(h, off + used, data + used, len - used);
			continue;
		case HS_REQUESTS:
		case HS_RESPONSES:
			break;
		}
		if (h->in_body) {
			used += body_bytes(h, data ? data + used : NULL, len - used);
			continue;
		}
		if (!data) {
			h->mode = HS_LOST;
			return len;
		}
		if (!h->head) {
			h->head = malloc(HTTP1_MAX_HEAD);
			if (!h->head) {
				h->mode = HS_LOST;
				return len;
			}
			h->msg_start = off + used;
		}
		uint32_t before = h->head_len;
		size_t room = HTTP1_MAX_HEAD - before;
		size_t take = len - used < room ? len - used : room;
		memcpy(h->head + before, data + used, take);
		h->head_len += (uint32_t)take;
		int n = parse_head(h, peer, h->msg_start);
		if (n == 0) {
			used += take;
			continue;
		}
		if (n < 0)
			return len;
		used += (size_t)n - before;
		free(h->head);
		h->head = NULL;
		h->head_len = 0;
	}
	return used;
}

void httpscan_gap(struct httpscan *h, size_t len)
{
	if (h->mode == HS_TUNNEL || h->mode == HS_OTHER || h->mode == HS_LOST)
		return;
	if (h->in_body && h->body.framing == HTTP1_FRAMING_LENGTH && h->body.remaining >= len) {
		body_bytes(h, NULL, len);
		return;
	}
	h->mode = HS_LOST;
}

bool httpscan_incomplete(const struct httpscan *h)
{
	if (h->mode != HS_REQUESTS && h->mode != HS_RESPONSES)
		return false;
	if (h->in_body)
		return h->body.framing != HTTP1_FRAMING_CLOSE && !h->body.done;
	return h->head_len > 0;
}
