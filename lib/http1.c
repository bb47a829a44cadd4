/* http1 — see http1.h. Strict on purpose: tunnelprobe is a verifier, so anything
 * RFC 9112 lets a recipient reject (bare LF, obs-fold, conflicting framing) is
 * reported, not repaired. */
#include "lib/http1.h"

#include <string.h>
#include <strings.h>

const char *http1_strerror(int err)
{
	switch (err) {
	case HTTP1_E_NONE: return "no error";
	case HTTP1_E_TOO_LARGE: return "head too large";
	case HTTP1_E_START_LINE: return "malformed start line";
	case HTTP1_E_VERSION: return "unsupported HTTP version";
	case HTTP1_E_STATUS: return "bad status code";
	case HTTP1_E_HEADER: return "malformed header field";
	case HTTP1_E_BARE_LF: return "bare LF without CR";
	case HTTP1_E_CONTENT_LENGTH: return "bad Content-Length";
	case HTTP1_E_CL_TE_CONFLICT: return "both Content-Length and Transfer-Encoding";
	case HTTP1_E_TRANSFER_ENCODING: return "unsupported Transfer-Encoding";
	case HTTP1_E_CHUNK_SIZE: return "bad chunk size";
	case HTTP1_E_CHUNK_OVERFLOW: return "chunk size overflow";
	case HTTP1_E_CHUNK_CRLF: return "missing CRLF after chunk data";
	case HTTP1_E_TRAILER: return "malformed trailer";
	case HTTP1_E_TRUNCATED: return "message truncated";
	default: return "unknown HTTP/1 error";
	}
}

/* RFC 9110 tchar, as a table: header names are checked byte by byte. */
static const bool tchar_table[256] = {
	['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['*'] = 1, ['+'] = 1,
	['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['|'] = 1, ['~'] = 1,
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
	['8'] = 1, ['9'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
	['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
	['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
	['Y'] = 1, ['Z'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,
	['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
	['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
	['y'] = 1, ['z'] = 1,
};

static inline bool is_tchar(unsigned char c)
{
	return tchar_table[c];
}

/* Field-value bytes: VCHAR, SP, HTAB, obs-text. */
static bool is_vchar(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

bool http1_token_eq(const char *a, size_t a_len, const char *s)
{
	size_t n = strlen(s);
	return a_len == n && strncasecmp(a, s, n) == 0;
}

const struct http1_header *http1_find_header(const struct http1_header *headers, size_t n,
					     const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (http1_token_eq(headers[i].name, headers[i].name_len, name))
			return &headers[i];
	return NULL;
}

/* Does the comma-separated list value contain token (case-insensitive)? */
static bool list_has(const char *v, size_t len, const char *token)
{
	size_t i = 0;
	while (i < len) {
		while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		size_t start = i;
		while (i < len && v[i] != ',')
			i++;
		size_t end = i;
		while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
			end--;
		if (end > start && http1_token_eq(v + start, end - start, token))
			return true;
	}
	return false;
}

/* Is the last coding of a Transfer-Encoding list "chunked"? */
static bool last_is_chunked(const char *v, size_t len)
{
	size_t end = len;
	while (end > 0 && (v[end - 1] == ' ' || v[end - 1] == '\t'))
		end--;
	size_t start = end;
	while (start > 0 && v[start - 1] != ',')
		start--;
	while (start < end && (v[start] == ' ' || v[start] == '\t'))
		start++;
	return http1_token_eq(v + start, end - start, "chunked");
}

/* Parses one Content-Length value (possibly "n, n, n"), requiring equal members. */
static bool parse_content_length(const char *v, size_t len, uint64_t *out, bool *have)
{
	size_t i = 0;
	while (i < len) {
		while (i < len && (v[i] == ' ' || v[i] == '\t'))
			i++;
		if (i == len || v[i] < '0' || v[i] > '9')
			return false;
		uint64_t n = 0;
		for (; i < len && v[i] >= '0' && v[i] <= '9'; i++) {
			if (n > (INT64_MAX - 9) / 10)
				return false;
			n = n * 10 + (uint64_t)(v[i] - '0');
		}
		while (i < len && (v[i] == ' ' || v[i] == '\t'))
			i++;
		if (i < len && v[i] != ',')
			return false;
		if (i < len)
			i++;
		if (*have && n != *out)
			return false;
		*out = n;
		*have = true;
	}
	return *have;
}

/* Finds the end of the head: returns its length (after CRLFCRLF), HTTP1_NEED_MORE, or
 * HTTP1_ERROR (bare LF, or too large). */
static int head_end(const char *buf, size_t len, size_t max_head, int *err)
{
	size_t scan = len < max_head ? len : max_head;
	for (size_t i = 0; i < scan; i++) {
		const char *lf = memchr(buf + i, '\n', scan - i);
		if (!lf)
			break;
		size_t at = (size_t)(lf - buf);
		if (at == 0 || buf[at - 1] != '\r') {
			*err = HTTP1_E_BARE_LF;
			return HTTP1_ERROR;
		}
		if (at >= 3 && buf[at - 2] == '\n' && buf[at - 3] == '\r')
			return (int)(at + 1);
		i = at;
	}
	if (len >= max_head) {
		*err = HTTP1_E_TOO_LARGE;
		return HTTP1_ERROR;
	}
	return HTTP1_NEED_MORE;
}

/* Parses header lines in [p, end) (each ending CRLF, the final empty line excluded). */
static int parse_headers(const char *p, const char *end, struct http1_header *headers,
			 size_t *num, int *err)
{
	*num = 0;
	while (p < end) {
		const char *eol = memchr(p, '\r', (size_t)(end - p));
		if (!eol) {
			*err = HTTP1_E_HEADER;
			return HTTP1_ERROR;
		}
		if (*p == ' ' || *p == '\t') { /* obs-fold */
			*err = HTTP1_E_HEADER;
			return HTTP1_ERROR;
		}
		const char *colon = p;
		while (colon < eol && is_tchar((unsigned char)*colon))
			colon++;
		if (colon == p || colon == eol || *colon != ':') {
			*err = HTTP1_E_HEADER;
			return HTTP1_ERROR;
		}
		const char *v = colon + 1, *ve = eol;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		for (const char *c = v; c < ve; c++)
			if (!is_vchar((unsigned char)*c)) {
				*err = HTTP1_E_HEADER;
				return HTTP1_ERROR;
			}
		if (*num == HTTP1_MAX_HEADERS) {
			*err = HTTP1_E_TOO_LARGE;
			return HTTP1_ERROR;
		}
		headers[*num] = (struct http1_header){p, (size_t)(colon - p), v, (size_t)(ve - v)};
		(*num)++;
		p = eol + 2;
	}
	return 0;
}

/* Content-Length / Transfer-Encoding / Connection, shared by requests and responses.
 * Returns 0 or HTTP1_ERROR. te_chunked: -1 no TE, 0 TE not ending in chunked, 1 chunked. */
static int framing_headers(const struct http1_header *h, size_t n, bool *have_cl, uint64_t *cl,
			   int *te_chunked, bool *conn_close, bool *conn_keepalive, int *err)
{
	*have_cl = false;
	*te_chunked = -1;
	*conn_close = *conn_keepalive = false;
	for (size_t i = 0; i < n; i++) {
		if (http1_token_eq(h[i].name, h[i].name_len, "Content-Length")) {
			if (!parse_content_length(h[i].value, h[i].value_len, cl, have_cl)) {
				*err = HTTP1_E_CONTENT_LENGTH;
				return HTTP1_ERROR;
			}
		} else if (http1_token_eq(h[i].name, h[i].name_len, "Transfer-Encoding")) {
			/* Several TE fields form one list: the last one's last coding counts. */
			*te_chunked = last_is_chunked(h[i].value, h[i].value_len) ? 1 : 0;
		} else if (http1_token_eq(h[i].name, h[i].name_len, "Connection")) {
			*conn_close |= list_has(h[i].value, h[i].value_len, "close");
			*conn_keepalive |= list_has(h[i].value, h[i].value_len, "keep-alive");
		}
	}
	if (*have_cl && *te_chunked >= 0) {
		*err = HTTP1_E_CL_TE_CONFLICT;
		return HTTP1_ERROR;
	}
	return 0;
}

static int parse_version(const char *p, int *minor)
{
	if (memcmp(p, "HTTP/1.", 7) != 0)
		return HTTP1_E_START_LINE;
	if (p[7] != '0' && p[7] != '1')
		return HTTP1_E_VERSION;
	*minor = p[7] - '0';
	return 0;
}

int http1_parse_response(const char *buf, size_t len, size_t max_head, unsigned req_flags,
			 struct http1_response *resp, int *err)
{
	int end = head_end(buf, len, max_head, err);
	if (end < 0)
		return end;
	const char *line_end = memchr(buf, '\r', (size_t)end);
	/* "HTTP/1.1 200" is 12 bytes; a reason is optional (some servers omit the SP too). */
	size_t line_len = (size_t)(line_end - buf);
	if (line_len < 12) {
		*err = HTTP1_E_START_LINE;
		return HTTP1_ERROR;
	}
	int e = parse_version(buf, &resp->minor_version);
	if (e) {
		*err = e;
		return HTTP1_ERROR;
	}
	if (buf[8] != ' ') {
		*err = HTTP1_E_START_LINE;
		return HTTP1_ERROR;
	}
	if (buf[9] < '1' || buf[9] > '9' || buf[10] < '0' || buf[10] > '9' || buf[11] < '0' ||
	    buf[11] > '9' || (line_len > 12 && buf[12] != ' ')) {
		*err = HTTP1_E_STATUS;
		return HTTP1_ERROR;
	}
	resp->status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
	resp->reason = line_len > 12 ? buf + 13 : buf + 12;
	resp->reason_len = line_len > 12 ? line_len - 13 : 0;
	for (size_t i = 0; i < resp->reason_len; i++)
		if (!is_vchar((unsigned char)resp->reason[i])) {
			*err = HTTP1_E_START_LINE;
			return HTTP1_ERROR;
		}
	if (parse_headers(line_end + 2, buf + end - 2, resp->headers, &resp->num_headers, err) < 0)
		return HTTP1_ERROR;
	bool have_cl, conn_close, conn_ka;
	int te;
	uint64_t cl = 0;
	if (framing_headers(resp->headers, resp->num_headers, &have_cl, &cl, &te, &conn_close,
			    &conn_ka, err) < 0)
		return HTTP1_ERROR;
	int s = resp->status;
	resp->content_length = 0;
	if ((req_flags & HTTP1_REQ_HEAD) || (s >= 100 && s < 200) || s == 204 || s == 304 ||
	    ((req_flags & HTTP1_REQ_CONNECT) && s >= 200 && s < 300))
		resp->framing = HTTP1_FRAMING_NONE;
	else if (te == 1)
		resp->framing = HTTP1_FRAMING_CHUNKED;
	else if (te == 0)
		resp->framing = HTTP1_FRAMING_CLOSE;
	else if (have_cl) {
		resp->framing = HTTP1_FRAMING_LENGTH;
		resp->content_length = cl;
	} else
		resp->framing = HTTP1_FRAMING_CLOSE;
	resp->keep_alive = resp->minor_version == 1 ? !conn_close : (conn_ka && !conn_close);
	if (resp->framing == HTTP1_FRAMING_CLOSE)
		resp->keep_alive = false;
	resp->gzip = false;
	const struct http1_header *ce = http1_find_header(resp->headers, resp->num_headers,
							   "Content-Encoding");
	if (ce)
		resp->gzip = list_has(ce->value, ce->value_len, "gzip") ||
			     list_has(ce->value, ce->value_len, "x-gzip");
	return end;
}

int http1_parse_request(const char *buf, size_t len, size_t max_head, struct http1_request *req,
			int *err)
{
	int end = head_end(buf, len, max_head, err);
	if (end < 0)
		return end;
	const char *line_end = memchr(buf, '\r', (size_t)end);
	const char *p = buf;
	while (p < line_end && is_tchar((unsigned char)*p))
		p++;
	if (p == buf || p == line_end || *p != ' ') {
		*err = HTTP1_E_START_LINE;
		return HTTP1_ERROR;
	}
	req->method = buf;
	req->method_len = (size_t)(p - buf);
	const char *t = ++p;
	while (p < line_end && (unsigned char)*p > ' ' && *p != 0x7f)
		p++;
	if (p == t || p == line_end || *p != ' ' || line_end - p != 9) {
		*err = HTTP1_E_START_LINE;
		return HTTP1_ERROR;
	}
	req->target = t;
	req->target_len = (size_t)(p - t);
	int e = parse_version(p + 1, &req->minor_version);
	if (e) {
		*err = e;
		return HTTP1_ERROR;
	}
	if (parse_headers(line_end + 2, buf + end - 2, req->headers, &req->num_headers, err) < 0)
		return HTTP1_ERROR;
	bool have_cl, conn_close, conn_ka;
	int te;
	uint64_t cl = 0;
	if (framing_headers(req->headers, req->num_headers, &have_cl, &cl, &te, &conn_close, &conn_ka,
			    err) < 0)
		return HTTP1_ERROR;
	if (te == 0) {
		*err = HTTP1_E_TRANSFER_ENCODING;
		return HTTP1_ERROR;
	}
	req->content_length = have_cl ? cl : 0;
	req->framing = te == 1 ? HTTP1_FRAMING_CHUNKED : have_cl ? HTTP1_FRAMING_LENGTH
								 : HTTP1_FRAMING_NONE;
	req->keep_alive = req->minor_version == 1 ? !conn_close : (conn_ka && !conn_close);
	const struct http1_header *ex = http1_find_header(req->headers, req->num_headers, "Expect");
	req->expect_continue = ex && http1_token_eq(ex->value, ex->value_len, "100-continue");
	return end;
}

/* ---- bodies ---- */

enum {
	B_SIZE0 = 0, /* first hex digit of a chunk size */
	B_SIZE,      /* more hex digits */
	B_EXT,       /* chunk extension, up to CR */
	B_SIZE_LF,   /* LF ending the size line */
	B_DATA,
	B_DATA_CR,   /* CR after chunk data */
	B_DATA_LF,
	B_TR_START,  /* start of a trailer line, or the final CRLF */
	B_TR_LINE,
	B_TR_LF,
	B_END_LF,    /* LF of the final CRLF */
};

void http1_body_init(struct http1_body *body, enum http1_framing framing,
		     uint64_t content_length)
{
	memset(body, 0, sizeof *body);
	body->framing = framing;
	body->remaining = framing == HTTP1_FRAMING_LENGTH ? content_length : 0;
	body->state = B_SIZE0;
	body->done = framing == HTTP1_FRAMING_NONE ||
		     (framing == HTTP1_FRAMING_LENGTH && content_length == 0);
}

static int hex(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static long fail(int *err, int code)
{
	*err = code;
	return HTTP1_ERROR;
}

static long feed_chunked(struct http1_body *b, const uint8_t *in, size_t len, const uint8_t **data,
			 size_t *data_len, int *err)
{
	size_t i = 0;
	while (i < len && !b->done) {
		unsigned char c = in[i];
		switch (b->state) {
		case B_SIZE0:
		case B_SIZE: {
			int h = hex(c);
			if (h >= 0) {
				if (b->remaining > (INT64_MAX >> 4))
					return fail(err, HTTP1_E_CHUNK_OVERFLOW);
				b->remaining = b->remaining << 4 | (uint64_t)h;
				b->state = B_SIZE;
			} else if (b->state == B_SIZE0) {
				return fail(err, HTTP1_E_CHUNK_SIZE);
			} else if (c == ';' || c == ' ' || c == '\t') {
				b->state = B_EXT;
			} else if (c == '\r') {
				b->state = B_SIZE_LF;
			} else {
				return fail(err, HTTP1_E_CHUNK_SIZE);
			}
			if (++b->chunk_line > HTTP1_MAX_CHUNK_LINE)
				return fail(err, HTTP1_E_CHUNK_SIZE);
			i++;
			break;
		}
		case B_EXT:
			if (c == '\r')
				b->state = B_SIZE_LF;
			else if (c == '\n' || (c < 0x20 && c != '\t') || c == 0x7f)
				return fail(err, HTTP1_E_CHUNK_SIZE);
			if (++b->chunk_line > HTTP1_MAX_CHUNK_LINE)
				return fail(err, HTTP1_E_CHUNK_SIZE);
			i++;
			break;
		case B_SIZE_LF:
			if (c != '\n')
				return fail(err, HTTP1_E_CHUNK_SIZE);
			b->chunk_line = 0;
			b->state = b->remaining ? B_DATA : B_TR_START;
			i++;
			break;
		case B_DATA: {
			if (i > 0)
				return (long)i; /* framing consumed; the data span starts next call */
			size_t n = len < b->remaining ? len : (size_t)b->remaining;
			*data = in;
			*data_len = n;
			b->remaining -= n;
			b->payload += n;
			if (b->remaining == 0)
				b->state = B_DATA_CR;
			return (long)n;
		}
		case B_DATA_CR:
			if (c != '\r')
				return fail(err, HTTP1_E_CHUNK_CRLF);
			b->state = B_DATA_LF;
			i++;
			break;
		case B_DATA_LF:
			if (c != '\n')
				return fail(err, HTTP1_E_CHUNK_CRLF);
			b->state = B_SIZE0;
			i++;
			break;
		case B_TR_START:
			if (c == '\r') {
				b->state = B_END_LF;
				i++;
			} else if (c == ' ' || c == '\t' || c == '\n' || c == ':') {
				return fail(err, HTTP1_E_TRAILER);
			} else {
				b->state = B_TR_LINE;
			}
			break;
		case B_TR_LINE:
			if (c == '\r')
				b->state = B_TR_LF;
			else if (c == '\n' || (c < 0x20 && c != '\t') || c == 0x7f)
				return fail(err, HTTP1_E_TRAILER);
			if (++b->trailer > HTTP1_MAX_TRAILER)
				return fail(err, HTTP1_E_TRAILER);
			i++;
			break;
		case B_TR_LF:
			if (c != '\n')
				return fail(err, HTTP1_E_TRAILER);
			b->state = B_TR_START;
			i++;
			break;
		case B_END_LF:
			if (c != '\n')
				return fail(err, HTTP1_E_TRAILER);
			b->done = true;
			i++;
			break;
		default:
			return fail(err, HTTP1_E_CHUNK_SIZE);
		}
	}
	return (long)i;
}

long http1_body_feed(struct http1_body *body, const uint8_t *in, size_t len,
		     const uint8_t **data, size_t *data_len, int *err)
{
	*data = NULL;
	*data_len = 0;
	if (body->done || len == 0)
		return 0;
	switch (body->framing) {
	case HTTP1_FRAMING_LENGTH: {
		size_t n = len < body->remaining ? len : (size_t)body->remaining;
		*data = in;
		*data_len = n;
		body->remaining -= n;
		body->payload += n;
		body->done = body->remaining == 0;
		return (long)n;
	}
	case HTTP1_FRAMING_CLOSE:
		*data = in;
		*data_len = len;
		body->payload += len;
		return (long)len;
	case HTTP1_FRAMING_CHUNKED:
		return feed_chunked(body, in, len, data, data_len, err);
	default:
		body->done = true;
		return 0;
	}
}

int http1_body_eof(struct http1_body *body)
{
	if (body->done)
		return 0;
	if (body->framing == HTTP1_FRAMING_CLOSE || body->framing == HTTP1_FRAMING_NONE) {
		body->done = true;
		return 0;
	}
	return HTTP1_E_TRUNCATED;
}
