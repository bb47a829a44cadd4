/* oresp — see oresp.h. */
#include "check/oresp.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "check/origin.h"
#include "lib/payload.h"

/* A fixed Last-Modified for lm/: the resource never changes after it. */
#define LM_DATE "Mon, 02 Jan 2023 03:04:05 GMT"

struct head {
	char *buf;
	size_t cap, len;
};

static void put(struct head *h, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct head *h, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(h->buf + h->len, h->cap - h->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		h->len = h->len + (size_t)n < h->cap ? h->len + (size_t)n : h->cap - 1;
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 204: return "No Content";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 422: return "Unprocessable Content";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Status";
	}
}

static bool has_header(const struct oresp_in *in, const char *name, const char *needle)
{
	const struct http1_header *f = http1_find_header(in->req->headers, in->req->num_headers, name);
	if (!f)
		return false;
	if (!needle)
		return true;
	size_t n = strlen(needle);
	for (size_t i = 0; i + n <= f->value_len; i++)
		if (memcmp(f->value + i, needle, n) == 0)
			return true;
	return false;
}

uint64_t oresp_vary_seed(const char *target, size_t target_len, const char *lang, size_t lang_len)
{
	char key[512];
	int n = snprintf(key, sizeof key, "%.*s#%.*s", (int)(target_len > 256 ? 256 : target_len),
			 target, (int)(lang_len > 64 ? 64 : lang_len), lang);
	return payload_seed(key, n > 0 ? (size_t)n : 0);
}

/* The status line and the headers every response has. */
static void start_head(struct head *h, int status, const struct oresp_in *in)
{
	char date[64];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	put(h, "HTTP/1.1 %d %s\r\nDate: %s\r\nX-Tp-Conn: %" PRIu64 "\r\nX-Tp-Req: %u\r\n", status,
	    reason(status), date, in->conn, in->index);
}

/* A short text body with Content-Length, written whole. */
static int text(struct oresp_gen *g, struct head *h, const struct oresp_in *in, int status,
		const char *body, bool close)
{
	start_head(h, status, in);
	bool nobody = status == 204 || status == 304;
	if (!nobody)
		put(h, "Content-Type: text/plain\r\nContent-Length: %zu\r\n", strlen(body));
	if (close)
		put(h, "Connection: close\r\n");
	put(h, "\r\n");
	bool head_req = !in->parse_err && in->req->method_len == 4 &&
			memcmp(in->req->method, "HEAD", 4) == 0;
	if (!nobody && !head_req)
		put(h, "%s", body);
	g->finished = true;
	g->end = close ? OEND_FIN : OEND_KEEP;
	return status;
}

/* Validators and caching headers of cc/, etag/, lm/, stale/, vary/. Returns 304 when
 * the request's conditional matches, else 0. */
static int cache_headers(struct head *h, const struct oresp_in *in)
{
	const struct oplan *p = in->plan;
	char etag[OPLAN_MAX_TAG + 8];
	snprintf(etag, sizeof etag, "\"tp-%s\"", p->tag);
	switch (p->action) {
	case OP_CC:
		put(h, "Cache-Control: %s\r\n", p->cc);
		return 0;
	case OP_ETAG:
	case OP_STALE:
		put(h, "ETag: %s\r\nCache-Control: %s\r\n", etag,
		    p->action == OP_ETAG ? "no-cache" : "max-age=1");
		return has_header(in, "If-None-Match", etag) ? 304 : 0;
	case OP_LM:
		put(h, "Last-Modified: " LM_DATE "\r\nCache-Control: no-cache\r\n");
		return has_header(in, "If-Modified-Since", NULL) ? 304 : 0;
	case OP_VARY:
		put(h, "Vary: Accept-Language\r\nCache-Control: max-age=60\r\n");
		return 0;
	default:
		return 0;
	}
}

/* A payload response: head with the seed announced, the generator set for the body. */
static int payload(struct oresp_gen *g, struct head *h, const struct oresp_in *in)
{
	const struct oplan *p = in->plan;
	const struct http1_request *rq = in->req;
	g->seed = payload_seed(rq->target, rq->target_len);
	g->total = p->n;
	g->kind = OGEN_PAYLOAD;
	g->end = OEND_KEEP;
	bool head_req = rq->method_len == 4 && memcmp(rq->method, "HEAD", 4) == 0;
	if (p->action == OP_INFO)
		put(h, "HTTP/1.1 103 Early Hints\r\nLink: </t/%s/bytes/0>; rel=preload\r\n\r\n", p->tag);
	struct head mark = *h; /* where the final head starts, for a 304 rewrite */
	start_head(h, 200, in);
	int cond = cache_headers(h, in);
	if (cond == 304) {
		*h = mark;
		start_head(h, 304, in);
		cache_headers(h, in);
		put(h, "\r\n");
		g->kind = OGEN_NONE;
		g->finished = true;
		return 304;
	}
	if (p->action == OP_VARY) {
		const struct http1_header *l = http1_find_header(rq->headers, rq->num_headers,
								 "Accept-Language");
		g->seed = oresp_vary_seed(rq->target, rq->target_len, l ? l->value : "",
					  l ? l->value_len : 0);
		put(h, "X-Tp-Lang: %.*s\r\n", l ? (int)(l->value_len > 64 ? 64 : l->value_len) : 0,
		    l ? l->value : "");
	}
	if (p->action == OP_HOP)
		put(h, "Connection: X-Tp-Hop\r\nX-Tp-Hop: 1\r\nKeep-Alive: timeout=30\r\n"
		       "X-Tp-End: 1\r\n");
	put(h, "Content-Type: application/octet-stream\r\nX-Tp-Seed: %016" PRIx64
	       "\r\nX-Tp-Length: %" PRIu64 "\r\n", g->seed, g->total);
	switch (p->action) {
	case OP_CHUNKED:
		g->trailer = true;
		put(h, "Trailer: X-Tp-Trailer\r\n");
		/* fall through */
	case OP_CHUNKS:
		g->kind = OGEN_CHUNKED;
		put(h, "Transfer-Encoding: chunked\r\n");
		break;
	case OP_CLOSE:
	case OP_RESET:
	case OP_ENDLESS:
		put(h, "Connection: close\r\n");
		g->end = OEND_FIN;
		if (p->action == OP_ENDLESS)
			g->total = CORIGIN_ENDLESS;
		break;
	default:
		put(h, "Content-Length: %" PRIu64 "\r\n", g->total);
		if (p->action == OP_FIN || p->action == OP_AFTERFIN)
			g->end = OEND_FIN;
	}
	if (p->action == OP_RESET || p->action == OP_RESETCL)
		g->reset_at = p->m;
	if (p->action == OP_DRIP)
		g->drip_ms = p->m;
	put(h, "\r\n");
	if (head_req) {
		g->kind = OGEN_NONE;
		g->finished = true;
	}
	return 200;
}

int oresp_start(struct oresp_gen *g, const struct oresp_in *in, char *out, size_t cap,
		size_t *len)
{
	memset(g, 0, sizeof *g);
	g->reset_at = UINT64_MAX;
	struct head h = {.buf = out, .cap = cap};
	int status;
	char msg[96];
	const struct oplan *p = in->plan;
	if (in->parse_err) {
		status = in->parse_err == HTTP1_E_TOO_LARGE ? 431 : 400;
		snprintf(msg, sizeof msg, "refused: %s\n", http1_strerror(in->parse_err));
		status = text(g, &h, in, status, msg, true);
	} else if (p->action == OP_NONE) {
		status = text(g, &h, in, 404, "not a check target\n", false);
	} else if (p->action == OP_HOLD) {
		g->end = OEND_HOLD;
		g->finished = true;
		status = 0;
	} else if (p->action == OP_STATUS) {
		snprintf(msg, sizeof msg, "status %d\n", (int)p->n);
		status = text(g, &h, in, (int)p->n, msg, false);
	} else if (p->action == OP_GW && in->failing) {
		status = text(g, &h, in, 500, "the origin is failing\n", false);
	} else if (p->action == OP_UPLOAD) {
		if (in->body_complete && in->body_bad_at < 0)
			snprintf(msg, sizeof msg, "ok %llu\n", (unsigned long long)in->body_received);
		else
			snprintf(msg, sizeof msg, "bad upload: %llu bytes, first wrong byte %ld\n",
				 (unsigned long long)in->body_received, in->body_bad_at);
		status = text(g, &h, in, in->body_complete && in->body_bad_at < 0 ? 200 : 422, msg,
			      !in->body_complete);
	} else if (p->action == OP_ECHO) {
		start_head(&h, 200, in);
		put(&h, "Content-Type: text/plain\r\nContent-Length: %zu\r\n\r\n", in->head_len);
		if (h.len + in->head_len <= cap) {
			memcpy(out + h.len, in->head, in->head_len);
			h.len += in->head_len;
		}
		g->finished = true;
		status = 200;
	} else {
		status = payload(g, &h, in);
	}
	*len = h.len;
	if (g->kind == OGEN_NONE)
		g->finished = true;
	return status;
}

static size_t produce_chunks(struct oresp_gen *g, char *out, size_t cap)
{
	size_t len = 0;
	while (g->produced < g->total) {
		uint64_t left = g->total - g->produced;
		size_t n = left < OPLAN_CHUNK ? (size_t)left : OPLAN_CHUNK;
		if (len + n + 16 > cap)
			return len;
		len += (size_t)snprintf(out + len, cap - len, "%zx\r\n", n);
		payload_fill(g->seed, g->produced, (uint8_t *)out + len, n);
		len += n;
		memcpy(out + len, "\r\n", 2);
		len += 2;
		g->produced += n;
	}
	static const char with[] = "0\r\nX-Tp-Trailer: end\r\n\r\n", plain[] = "0\r\n\r\n";
	const char *last = g->trailer ? with : plain;
	size_t n = g->trailer ? sizeof with - 1 : sizeof plain - 1;
	if (len + n > cap)
		return len;
	memcpy(out + len, last, n);
	g->last_chunk = g->finished = true;
	return len + n;
}

int oresp_produce(struct oresp_gen *g, char *out, size_t cap, size_t *len)
{
	*len = 0;
	if (g->finished || g->reset_due)
		return 0;
	if (g->kind == OGEN_CHUNKED) {
		*len = produce_chunks(g, out, cap);
		return 0;
	}
	if (g->waiting)
		return -1;
	uint64_t limit = g->reset_at < g->total ? g->reset_at : g->total;
	if (g->produced >= limit) {
		if (g->reset_at <= g->total && g->produced == g->reset_at)
			g->reset_due = true;
		else
			g->finished = true;
		return 0;
	}
	uint64_t n = limit - g->produced;
	if (n > cap)
		n = cap;
	if (g->drip_ms && n > ORESP_DRIP_BYTES)
		n = ORESP_DRIP_BYTES;
	payload_fill(g->seed, g->produced, (uint8_t *)out, (size_t)n);
	g->produced += n;
	*len = (size_t)n;
	if (g->drip_ms && g->produced < limit)
		g->waiting = true;
	return 0;
}

void oresp_banner(struct oresp_gen *g, char *out, size_t cap, size_t *len)
{
	memset(g, 0, sizeof *g);
	g->reset_at = UINT64_MAX;
	g->kind = OGEN_PAYLOAD;
	g->seed = payload_seed("/banner", 7);
	g->total = CORIGIN_BANNER;
	g->end = OEND_FIN;
	*len = 0;
	(void)out;
	(void)cap;
}
