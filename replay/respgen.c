/* respgen — see respgen.h. Chunk sizes are written as eight hex digits (leading zeros
 * are valid chunk-size syntax), so a chunk's header can be placed before its data is
 * known. */
#include "replay/respgen.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "lib/payload.h"
#include "replay/recording.h"

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 408: return "Request Timeout";
	case 413: return "Content Too Large";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "Status";
	}
}

int respgen_init(struct respgen *g, const struct plan *plan, uint64_t seed, const char *id,
		 bool keep_alive)
{
	/* Not memset: zin is 16 KiB that only gzip responses use. */
	g->produced = 0;
	g->head_off = 0;
	g->body_done = false;
	g->z = NULL;
	g->z_end = false;
	g->plan = *plan;
	g->seed = seed;
	struct plan *p = &g->plan;
	if (p->raw) { /* a recorded response: no head of ours, no generated body */
		g->head_len = 0;
		return 0;
	}
	bool no_body = p->status == 204 || p->status == 304;
	if (no_body)
		p->size = 0;
	char framing[64];
	if (no_body)
		framing[0] = '\0';
	else if (p->framing == PLAN_LENGTH)
		snprintf(framing, sizeof framing, "Content-Length: %" PRIu64 "\r\n", p->size);
	else if (p->framing == PLAN_CHUNKED)
		snprintf(framing, sizeof framing, "Transfer-Encoding: chunked\r\n");
	else
		framing[0] = '\0';
	bool close = p->close || p->framing == PLAN_CLOSE || !keep_alive;
	int n = snprintf(g->head, sizeof g->head,
			 "HTTP/1.1 %d %s\r\nServer: tunnelprobe-origin\r\n"
			 "Content-Type: application/octet-stream\r\n%s%s"
			 "X-Tp-Seed: %016" PRIx64 "\r\nX-Tp-Length: %" PRIu64 "\r\n%s%s%s%s%s\r\n",
			 p->status, reason(p->status), framing, p->gzip ? "Content-Encoding: gzip\r\n" : "",
			 seed, p->size, id ? "X-Probe-Id: " : "", id ? id : "", id ? "\r\n" : "",
			 p->headers, close ? "Connection: close\r\n" : "");
	if (n < 0 || (size_t)n >= sizeof g->head)
		n = snprintf(g->head, sizeof g->head, "HTTP/1.1 500 Internal Server Error\r\n"
						      "Content-Length: 0\r\nConnection: close\r\n\r\n");
	g->head_len = (size_t)n;
	if (p->gzip && !no_body) {
		z_stream *z = calloc(1, sizeof *z);
		if (!z || deflateInit2(z, 1, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
			free(z);
			return -ENOMEM;
		}
		g->z = z;
	}
	return 0;
}

void respgen_free(struct respgen *g)
{
	if (g && g->z) {
		deflateEnd(g->z);
		free(g->z);
		g->z = NULL;
	}
}

/* Compressed bytes into out[0..cap). */
static size_t gzip_some(struct respgen *g, uint8_t *out, size_t cap)
{
	z_stream *z = g->z;
	z->next_out = out;
	z->avail_out = (uInt)cap;
	while (z->avail_out > 0 && !g->z_end) {
		if (z->avail_in == 0 && g->produced < g->plan.size) {
			uint64_t left = g->plan.size - g->produced;
			size_t n = left < sizeof g->zin ? (size_t)left : sizeof g->zin;
			payload_fill(g->seed, g->produced, g->zin, n);
			g->produced += n;
			z->next_in = g->zin;
			z->avail_in = (uInt)n;
		}
		int flush = g->produced == g->plan.size ? Z_FINISH : Z_NO_FLUSH;
		int r = deflate(z, flush);
		if (r == Z_STREAM_END)
			g->z_end = true;
		else if (r != Z_OK && r != Z_BUF_ERROR)
			g->z_end = true; /* cannot happen with valid state; end the body */
	}
	return cap - z->avail_out;
}

uint32_t respgen_gap_us(struct respgen *g)
{
	if (!g->plan.raw || g->seg_left || g->seg_i >= g->plan.nsegs || g->gap_taken)
		return 0;
	g->gap_taken = true;
	return g->plan.segs[g->seg_i].gap_us;
}

size_t respgen_fill(struct respgen *g, uint8_t *out, size_t cap)
{
	if (g->plan.raw) {
		size_t left = g->plan.raw_len - (size_t)g->produced;
		if (g->plan.nsegs) { /* timed: no write spans two recorded segments */
			if (g->seg_left == 0 && g->seg_i < g->plan.nsegs) {
				g->seg_left = g->plan.segs[g->seg_i++].len;
				g->gap_taken = false;
			}
			if (g->seg_left && g->seg_left < left)
				left = g->seg_left;
		}
		size_t n = left < cap ? left : cap;
		g->seg_left -= g->seg_left >= n ? n : g->seg_left;
		memcpy(out, g->plan.raw + g->produced, n);
		g->produced += n;
		g->body_done = g->produced == g->plan.raw_len;
		return n;
	}
	if (g->head_off < g->head_len) {
		size_t n = g->head_len - g->head_off < cap ? g->head_len - g->head_off : cap;
		memcpy(out, g->head + g->head_off, n);
		g->head_off += n;
		return n;
	}
	const struct plan *p = &g->plan;
	if (g->body_done || cap < 64)
		return 0;
	bool no_body = p->status == 204 || p->status == 304;
	if (no_body) {
		g->body_done = true;
		return 0;
	}
	if (p->framing != PLAN_CHUNKED) {
		size_t n;
		if (g->z) {
			n = gzip_some(g, out, cap);
			if (g->z_end && n == 0)
				g->body_done = true;
		} else {
			uint64_t left = p->size - g->produced;
			n = left < cap ? (size_t)left : cap;
			payload_fill(g->seed, g->produced, out, n);
			g->produced += n;
			if (g->produced == p->size)
				g->body_done = true;
		}
		return n;
	}
	/* Chunked: "%08x\r\n" + data + "\r\n", then "0\r\n\r\n". */
	size_t room = cap - 12;
	size_t n;
	if (g->z) {
		if (room > p->chunk)
			room = p->chunk;
		n = g->z_end ? 0 : gzip_some(g, out + 10, room);
	} else {
		uint64_t left = p->size - g->produced;
		n = left < room ? (size_t)left : room;
		if (n > p->chunk)
			n = p->chunk;
		payload_fill(g->seed, g->produced, out + 10, n);
		g->produced += n;
	}
	if (n == 0) {
		memcpy(out, "0\r\n\r\n", 5);
		g->body_done = true;
		return 5;
	}
	char hdr[24];
	snprintf(hdr, sizeof hdr, "%08x\r\n", (unsigned)n); /* n <= 1 MiB: eight digits */
	memcpy(out, hdr, 10);
	memcpy(out + 10 + n, "\r\n", 2);
	return n + 12;
}
