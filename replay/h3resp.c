/* h3resp — see h3resp.h. */
#include "replay/h3resp.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_INTERIM 8 /* 1xx heads skipped before the final one */

/* Fields HTTP/3 forbids (RFC 9114 §4.2): connection-specific, or framing of HTTP/1. */
static bool hop_by_hop(const struct http1_header *h)
{
	static const char *const names[] = {"connection", "keep-alive", "proxy-connection",
					    "transfer-encoding", "upgrade", "te"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (http1_token_eq(h->name, h->name_len, names[i]))
			return true;
	return false;
}

/* A head without fields: status only. */
static void bare_head(struct h3resp_head *head, int status)
{
	head->status = status;
	head->body = false;
	head->nfields = 0;
}

/* Copies the final head's fields into head->arena as NUL-terminated lowercase names
 * and values; fields that do not fit are left out (a recorded head near the cap). */
static void copy_fields(const struct http1_response *resp, struct h3resp_head *head)
{
	size_t used = 0;
	head->nfields = 0;
	for (size_t i = 0; i < resp->num_headers && head->nfields < H3_MAX_FIELDS; i++) {
		const struct http1_header *h = &resp->headers[i];
		if (hop_by_hop(h) || h->name_len == 0)
			continue;
		if (sizeof head->arena - used < h->name_len + h->value_len + 2)
			break;
		char *name = head->arena + used;
		for (size_t k = 0; k < h->name_len; k++) {
			char c = h->name[k];
			name[k] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
		}
		name[h->name_len] = '\0';
		char *value = name + h->name_len + 1;
		memcpy(value, h->value, h->value_len);
		value[h->value_len] = '\0';
		used += h->name_len + h->value_len + 2;
		head->fields[head->nfields++] = (struct h3_header){name, value};
	}
}

/* Parses the head(s) at buf: skips interim responses, then fills head from the final
 * one and sets up the body decoder. Returns the bytes of all heads, or -1 when no final
 * head can be read. */
static long parse_heads(struct h3resp *r, const char *buf, size_t len, bool head_request,
			struct h3resp_head *head)
{
	struct http1_response resp;
	size_t off = 0;
	for (int i = 0; i <= MAX_INTERIM; i++) {
		int err = 0;
		int n = http1_parse_response(buf + off, len - off, HTTP1_MAX_HEAD,
					     head_request ? HTTP1_REQ_HEAD : 0, &resp, &err);
		if (n <= 0)
			return -1;
		off += (size_t)n;
		if (resp.status >= 200)
			break;
		if (i == MAX_INTERIM)
			return -1;
	}
	/* HTTP/3 status codes are 100-599 (a site may say 999, which HTTP/1.1 carries). */
	head->status = resp.status <= 599 ? resp.status : 502;
	copy_fields(&resp, head);
	http1_body_init(&r->body, resp.framing, resp.content_length);
	head->body = resp.framing != HTTP1_FRAMING_NONE &&
		     !(resp.framing == HTTP1_FRAMING_LENGTH && resp.content_length == 0);
	return (long)off;
}

int h3resp_init(struct h3resp *r, const struct plan *plan, uint64_t seed, const char *id,
		bool head_request, struct h3resp_head *head)
{
	/* Not memset: raw is 16 KiB, written before it is read. */
	r->raw_off = r->raw_len = 0;
	r->span = NULL;
	r->span_len = 0;
	r->body_bytes = 0;
	r->ended = r->cut_short = false;
	r->head_left = 0;
	if (respgen_init(&r->gen, plan, seed, id, true) < 0) {
		bare_head(head, 500);
		r->ended = true;
		return -ENOMEM;
	}
	const char *buf = plan->raw ? (const char *)plan->raw : r->gen.head;
	size_t len = plan->raw ? plan->raw_len : r->gen.head_len;
	long heads = parse_heads(r, buf, len, head_request, head);
	if (heads < 0) {
		bare_head(head, 502); /* cannot happen for generated heads */
		r->ended = true;
		return 0;
	}
	r->head_left = (uint64_t)heads;
	r->ended = !head->body;
	return 0;
}

/* More HTTP/1 bytes from respgen into raw. Returns 1, 0 when it has no more, or
 * -EAGAIN with *gap_us when a recorded gap comes first. */
static int refill(struct h3resp *r, uint32_t *gap_us)
{
	uint32_t gap = respgen_gap_us(&r->gen);
	if (gap) {
		*gap_us = gap;
		return -EAGAIN;
	}
	r->raw_len = respgen_fill(&r->gen, r->raw, sizeof r->raw);
	r->raw_off = 0;
	return r->raw_len > 0;
}

long h3resp_peek(struct h3resp *r, const uint8_t **data, uint32_t *gap_us)
{
	*gap_us = 0;
	if (r->span_len) {
		*data = r->span;
		return (long)r->span_len;
	}
	/* Every round consumes input or ends: the guard only caps a broken decoder. */
	for (unsigned guard = 0; !r->ended && guard < (1u << 20); guard++) {
		if (r->raw_off == r->raw_len) {
			int rc = refill(r, gap_us);
			if (rc < 0)
				return rc;
			if (rc == 0) {
				/* The response ran out: complete for a close-delimited body, cut
				 * short for a recording that lost its end. */
				r->cut_short = !r->body.done && http1_body_eof(&r->body) != 0;
				r->ended = true;
				break;
			}
		}
		size_t avail = r->raw_len - r->raw_off;
		if (r->head_left) {
			size_t skip = r->head_left < avail ? (size_t)r->head_left : avail;
			r->raw_off += skip;
			r->head_left -= skip;
			continue;
		}
		const uint8_t *d = NULL;
		size_t dl = 0;
		int err = 0;
		long used = http1_body_feed(&r->body, r->raw + r->raw_off, avail, &d, &dl, &err);
		if (used < 0)
			return -EPROTO;
		r->raw_off += (size_t)used;
		if (dl) {
			r->span = d;
			r->span_len = dl;
			*data = d;
			return (long)dl;
		}
		if (r->body.done)
			r->ended = true; /* bytes after the message are not the body's */
		else if (used == 0)
			return -EPROTO;
	}
	return r->ended ? 0 : -EPROTO;
}

void h3resp_take(struct h3resp *r, size_t n)
{
	if (n > r->span_len)
		n = r->span_len;
	r->span += n;
	r->span_len -= n;
	r->body_bytes += n;
}

void h3resp_free(struct h3resp *r)
{
	if (r)
		respgen_free(&r->gen);
}
