/* http1 — see http1.h. Strict on purpose: tunnelprobe is a verifier, so anything
 * RFC 9112 lets a recipient reject (bare LF or CR, obs-fold, conflicting framing,
 * a chunk size that does not fit) is reported, not repaired.
 *
 * Heads are parsed line by line as lines complete, so a malformed line is reported
 * as soon as its CRLF arrives and a prefix of a head never gives a different answer
 * than the whole head (only NEED_MORE, or the same error). Every byte class is a
 * table lookup; lines are found with memchr. */
#include "lib/http1.h"

#include <limits.h>
#include <string.h>
#include <strings.h>

#include "lib/hex.h"

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

/* ---- byte classes ---- */

/* Bits of char_class[]: one lookup per byte in every loop below. */
enum {
	C_TCHAR = 1 << 0, /* RFC 9110 tchar: methods, header names, codings */
	C_FIELD = 1 << 1, /* field-value / reason-phrase byte: VCHAR, SP, HTAB, obs-text */
	C_HEX = 1 << 2,   /* HEXDIG */
	C_HOST = 1 << 3,  /* reg-name / IPv4 byte of an authority: unreserved, sub-delims, % */
	C_SCHEME = 1 << 4 /* scheme byte after the first: ALPHA, DIGIT, + - . */
};

/* Generated from the RFC 9110 / RFC 3986 character sets; tests/unit/test_http1.c checks
 * every byte against a spelled-out reference. */
static const unsigned char char_class[256] = {
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  2,  0,  0,  0,  0,  0,  0,  /* 0x00 */
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  /* 0x10 */
	 2, 11,  2,  3, 11, 11, 11, 11, 10, 10, 11, 27, 10, 27, 27,  2,  /* 0x20 */
	31, 31, 31, 31, 31, 31, 31, 31, 31, 31,  2, 10,  2, 10,  2,  2,  /* 0x30 */
	 2, 31, 31, 31, 31, 31, 31, 27, 27, 27, 27, 27, 27, 27, 27, 27,  /* 0x40 */
	27, 27, 27, 27, 27, 27, 27, 27, 27, 27, 27,  2,  2,  2,  3, 11,  /* 0x50 */
	 3, 31, 31, 31, 31, 31, 31, 27, 27, 27, 27, 27, 27, 27, 27, 27,  /* 0x60 */
	27, 27, 27, 27, 27, 27, 27, 27, 27, 27, 27,  2,  3,  2, 11,  0,  /* 0x70 */
	 2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  /* 0x80 */
	 2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  /* 0x90 */
	 2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  /* 0xa0 */
	 2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  /* 0xb0 */
	 2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  /* 0xc0 */
	 2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  /* 0xd0 */
	 2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  /* 0xe0 */
	 2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  2,  /* 0xf0 */
};

static inline bool has_class(unsigned char c, unsigned cls)
{
	return (char_class[c] & cls) != 0;
}

static inline bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static inline bool is_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* ---- counted strings and lists ---- */

bool http1_token_eq(const char *a, size_t a_len, const char *s)
{
	size_t n = strlen(s);
	return a_len == n && strncasecmp(a, s, n) == 0;
}

const struct http1_header *http1_find_header(const struct http1_header *headers, size_t n,
					     const char *name)
{
	size_t len = strlen(name);
	for (size_t i = 0; i < n; i++)
		if (headers[i].name_len == len && strncasecmp(headers[i].name, name, len) == 0)
			return &headers[i];
	return NULL;
}

/* Steps through a comma-separated list value: each call yields the next element with
 * OWS trimmed (possibly empty, as RFC 9110 §5.6.1 allows) and returns false after the
 * last one. *pos starts at 0. */
static bool list_next(const char *v, size_t len, size_t *pos, const char **elem,
		      size_t *elem_len)
{
	if (*pos > len)
		return false;
	size_t start = *pos;
	const char *comma = memchr(v + start, ',', len - start);
	size_t end = comma ? (size_t)(comma - v) : len;
	*pos = end + 1; /* past len after the last element */
	while (start < end && is_ows(v[start]))
		start++;
	while (end > start && is_ows(v[end - 1]))
		end--;
	*elem = v + start;
	*elem_len = end - start;
	return true;
}

/* Does a list value contain one of the tokens (case-insensitive)? */
static bool list_has(const char *v, size_t len, const char *token, const char *alias)
{
	size_t pos = 0, n;
	const char *e;
	while (list_next(v, len, &pos, &e, &n))
		if (http1_token_eq(e, n, token) || (alias && http1_token_eq(e, n, alias)))
			return true;
	return false;
}

/* Parses a non-negative decimal that must fit in 63 bits. */
static bool parse_u63(const char *s, size_t n, uint64_t *out)
{
	if (n == 0)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < n; i++) {
		if (!is_digit((unsigned char)s[i]))
			return false;
		unsigned d = (unsigned)(s[i] - '0');
		if (v > ((uint64_t)INT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/* ---- head lines ---- */

/* The region of a head being split into lines: buf[pos..limit). */
struct head_scan {
	const char *buf;
	size_t pos, limit;
};

/* Yields the next complete line without its CRLF. Returns 1, 0 when no complete line
 * is left within the limit, or HTTP1_ERROR (bare LF). */
static int next_line(struct head_scan *s, const char **line, size_t *line_len, int *err)
{
	if (s->pos >= s->limit)
		return 0;
	const char *start = s->buf + s->pos;
	const char *lf = memchr(start, '\n', s->limit - s->pos);
	if (!lf)
		return 0;
	if (lf == start || lf[-1] != '\r') {
		*err = HTTP1_E_BARE_LF;
		return HTTP1_ERROR;
	}
	*line = start;
	*line_len = (size_t)(lf - 1 - start);
	s->pos = (size_t)(lf + 1 - s->buf);
	return 1;
}

static int head_error(int *err, int code)
{
	*err = code;
	return HTTP1_ERROR;
}

/* The input ran out inside the head: more may come unless the cap is reached. */
static int head_incomplete(size_t len, size_t max_head, int *err)
{
	return len >= max_head ? head_error(err, HTTP1_E_TOO_LARGE) : HTTP1_NEED_MORE;
}

/* field-line = field-name ":" OWS field-value OWS. A line starting with whitespace is
 * obs-fold, which a strict recipient rejects; a lone CR is not a field byte. */
static bool parse_field(const char *p, size_t n, struct http1_header *h)
{
	size_t i = 0;
	while (i < n && has_class((unsigned char)p[i], C_TCHAR))
		i++;
	if (i == 0 || i == n || p[i] != ':')
		return false;
	h->name = p;
	h->name_len = i;
	size_t v = i + 1, end = n;
	while (v < end && is_ows(p[v]))
		v++;
	while (end > v && is_ows(p[end - 1]))
		end--;
	for (size_t k = v; k < end; k++)
		if (!has_class((unsigned char)p[k], C_FIELD))
			return false;
	h->value = p + v;
	h->value_len = end - v;
	return true;
}

/* Reads header lines up to the empty line. Returns 1 at the end of the head, 0 when
 * more input is needed, or HTTP1_ERROR. */
static int parse_header_lines(struct head_scan *s, struct http1_header *headers, size_t *num,
			      int *err)
{
	*num = 0;
	for (;;) {
		const char *line;
		size_t n;
		int r = next_line(s, &line, &n, err);
		if (r <= 0)
			return r;
		if (n == 0)
			return 1;
		if (*num == HTTP1_MAX_HEADERS)
			return head_error(err, HTTP1_E_TOO_LARGE);
		if (!parse_field(line, n, &headers[*num]))
			return head_error(err, HTTP1_E_HEADER);
		(*num)++;
	}
}

/* "HTTP/1.0" or "HTTP/1.1" exactly; another HTTP-version is HTTP1_E_VERSION. */
static int parse_version(const char *p, size_t n, int *minor)
{
	if (n < 6 || memcmp(p, "HTTP/", 5) != 0 || !is_digit((unsigned char)p[5]))
		return HTTP1_E_START_LINE;
	if (n == 8 && p[5] == '1' && p[6] == '.' && (p[7] == '0' || p[7] == '1')) {
		*minor = p[7] - '0';
		return 0;
	}
	if (n == 6 || (n == 8 && p[6] == '.' && is_digit((unsigned char)p[7])))
		return HTTP1_E_VERSION; /* "HTTP/2", "HTTP/1.2", "HTTP/0.9" */
	return HTTP1_E_START_LINE;
}

/* status-line = HTTP-version SP 3DIGIT [SP reason-phrase]; the SP before an empty
 * reason is optional because many servers omit it. */
static int parse_status_line(const char *p, size_t n, struct http1_response *r)
{
	const char *sp = memchr(p, ' ', n);
	size_t vlen = sp ? (size_t)(sp - p) : n;
	int e = parse_version(p, vlen, &r->minor_version);
	if (e)
		return e;
	if (!sp)
		return HTTP1_E_START_LINE;
	const unsigned char *s = (const unsigned char *)sp + 1;
	size_t rest = n - vlen - 1;
	if (rest < 3 || s[0] < '1' || s[0] > '9' || !is_digit(s[1]) || !is_digit(s[2]) ||
	    (rest > 3 && s[3] != ' '))
		return HTTP1_E_STATUS;
	r->status = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
	r->reason = (const char *)s + (rest > 3 ? 4 : 3);
	r->reason_len = rest > 3 ? rest - 4 : 0;
	for (size_t i = 0; i < r->reason_len; i++)
		if (!has_class((unsigned char)r->reason[i], C_FIELD))
			return HTTP1_E_START_LINE;
	return 0;
}

/* authority-form = uri-host ":" port, the only form CONNECT takes. */
static bool is_authority_form(const char *t, size_t n)
{
	const char *colon = NULL;
	for (size_t i = n; i > 0; i--)
		if (t[i - 1] == ':') {
			colon = t + i - 1;
			break;
		}
	if (!colon)
		return false;
	size_t host_len = (size_t)(colon - t), port_len = n - host_len - 1;
	if (host_len == 0 || port_len == 0 || port_len > 5)
		return false;
	for (size_t i = 0; i < port_len; i++)
		if (!is_digit((unsigned char)colon[1 + i]))
			return false;
	if (t[0] == '[') { /* IP-literal */
		if (host_len < 3 || t[host_len - 1] != ']')
			return false;
		for (size_t i = 1; i + 1 < host_len; i++)
			if (!has_class((unsigned char)t[i], C_HEX) && t[i] != ':' && t[i] != '.')
				return false;
		return true;
	}
	for (size_t i = 0; i < host_len; i++)
		if (!has_class((unsigned char)t[i], C_HOST))
			return false;
	return true;
}

/* absolute-form starts with a scheme: ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" */
static bool is_absolute_form(const char *t, size_t n)
{
	unsigned char c0 = (unsigned char)t[0];
	if (!((c0 | 0x20) >= 'a' && (c0 | 0x20) <= 'z'))
		return false;
	for (size_t i = 1; i < n; i++) {
		if (t[i] == ':')
			return true;
		if (!has_class((unsigned char)t[i], C_SCHEME))
			return false;
	}
	return false;
}

/* request-line = method SP request-target SP HTTP-version. The target must be in a
 * form the method allows (RFC 9112 §3.2): authority-form for CONNECT only, "*" for
 * OPTIONS only, otherwise origin-form or absolute-form. */
static int parse_request_line(const char *p, size_t n, struct http1_request *r)
{
	size_t i = 0;
	while (i < n && has_class((unsigned char)p[i], C_TCHAR))
		i++;
	if (i == 0 || i == n || p[i] != ' ')
		return HTTP1_E_START_LINE;
	r->method = p;
	r->method_len = i;
	size_t t = ++i;
	while (i < n && (unsigned char)p[i] > ' ' && p[i] != 0x7f)
		i++;
	if (i == t || i == n || p[i] != ' ')
		return HTTP1_E_START_LINE;
	r->target = p + t;
	r->target_len = i - t;
	int e = parse_version(p + i + 1, n - i - 1, &r->minor_version);
	if (e)
		return e;
	/* Methods are case-sensitive (RFC 9110 §9.1). */
	bool connect = r->method_len == 7 && memcmp(r->method, "CONNECT", 7) == 0;
	bool options = r->method_len == 7 && memcmp(r->method, "OPTIONS", 7) == 0;
	const char *tg = r->target;
	size_t tn = r->target_len;
	bool ok;
	if (connect)
		ok = is_authority_form(tg, tn);
	else if (tn == 1 && tg[0] == '*')
		ok = options;
	else
		ok = tg[0] == '/' || is_absolute_form(tg, tn);
	return ok ? 0 : HTTP1_E_START_LINE;
}

/* ---- framing (RFC 9112 §6) ---- */

/* What the framing-related header fields of one message say. */
struct framing_fields {
	bool have_cl, have_te, te_chunked_last, conn_close, conn_keep_alive, gzip, expect_100;
	unsigned te_chunked_count;
	uint64_t cl;
};

/* Content-Length: every field and every list member must be the same 1*DIGIT value. */
static bool add_content_length(struct framing_fields *f, const char *v, size_t len)
{
	size_t pos = 0, n;
	const char *e;
	while (list_next(v, len, &pos, &e, &n)) {
		uint64_t value;
		if (!parse_u63(e, n, &value) || (f->have_cl && value != f->cl))
			return false;
		f->cl = value;
		f->have_cl = true;
	}
	return true;
}

/* Transfer-Encoding fields form one list; what matters is whether "chunked" is its
 * last coding and whether it occurs more than once. */
static void add_transfer_encoding(struct framing_fields *f, const char *v, size_t len)
{
	size_t pos = 0, n;
	const char *e;
	f->have_te = true;
	while (list_next(v, len, &pos, &e, &n)) {
		if (n == 0)
			continue;
		size_t name = 0; /* the coding's name, before any ";param" */
		while (name < n && e[name] != ';' && !is_ows(e[name]))
			name++;
		f->te_chunked_last = http1_token_eq(e, name, "chunked");
		f->te_chunked_count += f->te_chunked_last;
	}
}

static int framing_fields(const struct http1_header *h, size_t n, struct framing_fields *f)
{
	memset(f, 0, sizeof *f);
	for (size_t i = 0; i < n; i++) {
		const char *name = h[i].name, *v = h[i].value;
		size_t vn = h[i].value_len;
		/* Dispatch on the length first: most fields are none of these. */
		switch (h[i].name_len) {
		case 6:
			if (http1_token_eq(name, 6, "Expect"))
				f->expect_100 = http1_token_eq(v, vn, "100-continue");
			break;
		case 10:
			if (http1_token_eq(name, 10, "Connection")) {
				f->conn_close |= list_has(v, vn, "close", NULL);
				f->conn_keep_alive |= list_has(v, vn, "keep-alive", NULL);
			}
			break;
		case 14:
			if (http1_token_eq(name, 14, "Content-Length") && !add_content_length(f, v, vn))
				return HTTP1_E_CONTENT_LENGTH;
			break;
		case 16:
			if (http1_token_eq(name, 16, "Content-Encoding"))
				f->gzip |= list_has(v, vn, "gzip", "x-gzip");
			break;
		case 17:
			if (http1_token_eq(name, 17, "Transfer-Encoding"))
				add_transfer_encoding(f, v, vn);
			break;
		}
	}
	if (f->have_cl && f->have_te)
		return HTTP1_E_CL_TE_CONFLICT;
	if (f->te_chunked_count > 1) /* chunked applied twice (RFC 9112 §6.1) */
		return HTTP1_E_TRANSFER_ENCODING;
	return 0;
}

/* HTTP/1.1 persists unless "close"; HTTP/1.0 only with "keep-alive". A Transfer-Encoding
 * in an HTTP/1.0 message means the framing cannot be trusted (RFC 9112 §6.1): close. */
static bool keep_alive(int minor, const struct framing_fields *f)
{
	if (f->conn_close || (minor == 0 && f->have_te))
		return false;
	return minor == 1 || f->conn_keep_alive;
}

/* ---- public head parsers ---- */

int http1_parse_response(const char *buf, size_t len, size_t max_head, unsigned req_flags,
			 struct http1_response *resp, int *err)
{
	if (max_head > INT_MAX)
		max_head = INT_MAX;
	/* Anything that cannot begin "HTTP/" fails at once (a TLS alert or a SOCKS reply
	 * answering a plain request would otherwise sit until the cap). */
	if (len > 0 && memcmp(buf, "HTTP/", len < 5 ? len : 5) != 0)
		return head_error(err, HTTP1_E_START_LINE);
	struct head_scan s = {buf, 0, len < max_head ? len : max_head};
	const char *line;
	size_t n;
	int r = next_line(&s, &line, &n, err);
	if (r <= 0)
		return r < 0 ? r : head_incomplete(len, max_head, err);
	int e = parse_status_line(line, n, resp);
	if (e)
		return head_error(err, e);
	r = parse_header_lines(&s, resp->headers, &resp->num_headers, err);
	if (r <= 0)
		return r < 0 ? r : head_incomplete(len, max_head, err);

	struct framing_fields f;
	e = framing_fields(resp->headers, resp->num_headers, &f);
	if (e)
		return head_error(err, e);
	int st = resp->status;
	resp->content_length = 0;
	if ((req_flags & HTTP1_REQ_HEAD) || st < 200 || st == 204 || st == 304 ||
	    ((req_flags & HTTP1_REQ_CONNECT) && st < 300))
		resp->framing = HTTP1_FRAMING_NONE;
	else if (f.have_te)
		/* A response whose last coding is not chunked runs until close (§6.3 p4). */
		resp->framing = f.te_chunked_last ? HTTP1_FRAMING_CHUNKED : HTTP1_FRAMING_CLOSE;
	else if (f.have_cl) {
		resp->framing = HTTP1_FRAMING_LENGTH;
		resp->content_length = f.cl;
	} else
		resp->framing = HTTP1_FRAMING_CLOSE;
	resp->keep_alive = resp->framing != HTTP1_FRAMING_CLOSE && keep_alive(resp->minor_version, &f);
	resp->gzip = f.gzip;
	return (int)s.pos;
}

int http1_parse_request(const char *buf, size_t len, size_t max_head, struct http1_request *req,
			int *err)
{
	if (max_head > INT_MAX)
		max_head = INT_MAX;
	struct head_scan s = {buf, 0, len < max_head ? len : max_head};
	const char *line;
	size_t n;
	int r = next_line(&s, &line, &n, err);
	if (r <= 0)
		return r < 0 ? r : head_incomplete(len, max_head, err);
	int e = parse_request_line(line, n, req);
	if (e)
		return head_error(err, e);
	r = parse_header_lines(&s, req->headers, &req->num_headers, err);
	if (r <= 0)
		return r < 0 ? r : head_incomplete(len, max_head, err);

	struct framing_fields f;
	e = framing_fields(req->headers, req->num_headers, &f);
	if (e)
		return head_error(err, e);
	/* A request cannot be close-delimited, so a TE not ending in chunked is fatal. */
	if (f.have_te && !f.te_chunked_last)
		return head_error(err, HTTP1_E_TRANSFER_ENCODING);
	req->content_length = f.have_cl ? f.cl : 0;
	req->framing = f.have_te ? HTTP1_FRAMING_CHUNKED
		       : f.have_cl ? HTTP1_FRAMING_LENGTH
				   : HTTP1_FRAMING_NONE;
	req->keep_alive = keep_alive(req->minor_version, &f);
	req->expect_continue = f.expect_100;
	return (int)s.pos;
}

/* ---- body decoder ---- */

/* Chunked states (body->state); 0 is the start so a zeroed struct is ready. */
enum {
	CH_SIZE_FIRST = 0, /* first hex digit of a chunk size */
	CH_SIZE,           /* more hex digits, or what follows them */
	CH_SIZE_BWS,       /* whitespace after the size: only ";" may follow */
	CH_EXT,            /* chunk extensions, up to CR */
	CH_SIZE_LF,        /* LF ending the size line */
	CH_DATA,
	CH_DATA_CR,        /* CRLF after chunk data */
	CH_DATA_LF,
	CH_TR_START,       /* start of a trailer field line, or CR of the final CRLF */
	CH_TR_NAME,
	CH_TR_VALUE,
	CH_TR_LF,
	CH_END_LF,         /* LF of the final CRLF */
};

void http1_body_init(struct http1_body *body, enum http1_framing framing,
		     uint64_t content_length)
{
	memset(body, 0, sizeof *body);
	body->framing = framing;
	body->remaining = framing == HTTP1_FRAMING_LENGTH ? content_length : 0;
	body->state = CH_SIZE_FIRST;
	body->done = framing == HTTP1_FRAMING_NONE ||
		     (framing == HTTP1_FRAMING_LENGTH && content_length == 0);
}

static long body_error(int *err, int code)
{
	*err = code;
	return HTTP1_ERROR;
}

/* Consumes the run of extension bytes in[0..len) up to a CR (not included). Returns
 * the count, or -1 on a control byte. Extensions are not interpreted, only bounded. */
static long ext_span(const uint8_t *in, size_t len)
{
	const uint8_t *cr = memchr(in, '\r', len);
	size_t n = cr ? (size_t)(cr - in) : len;
	for (size_t i = 0; i < n; i++)
		if (!has_class(in[i], C_FIELD))
			return -1;
	return (long)n;
}

/* One byte of the chunk-size line (every state before CH_DATA). */
static int size_line_byte(struct http1_body *b, unsigned char c)
{
	if (++b->chunk_line > HTTP1_MAX_CHUNK_LINE)
		return HTTP1_E_CHUNK_SIZE;
	switch (b->state) {
	case CH_SIZE_FIRST:
	case CH_SIZE:
		if (has_class(c, C_HEX)) {
			if (b->remaining > ((uint64_t)INT64_MAX >> 4))
				return HTTP1_E_CHUNK_OVERFLOW;
			b->remaining = b->remaining << 4 | (unsigned)hex_digit(c);
			b->state = CH_SIZE;
			return 0;
		}
		if (b->state == CH_SIZE_FIRST)
			return HTTP1_E_CHUNK_SIZE;
		if (c == '\r')
			b->state = CH_SIZE_LF;
		else if (c == ';')
			b->state = CH_EXT;
		else if (is_ows((char)c))
			b->state = CH_SIZE_BWS;
		else
			return HTTP1_E_CHUNK_SIZE;
		return 0;
	case CH_SIZE_BWS:
		if (c == ';')
			b->state = CH_EXT;
		else if (!is_ows((char)c))
			return HTTP1_E_CHUNK_SIZE;
		return 0;
	case CH_EXT:
		if (c == '\r')
			b->state = CH_SIZE_LF;
		else if (!has_class(c, C_FIELD))
			return HTTP1_E_CHUNK_SIZE;
		return 0;
	case CH_SIZE_LF:
		if (c != '\n')
			return HTTP1_E_CHUNK_SIZE;
		b->chunk_line = 0;
		/* last-chunk: the trailer section follows. */
		b->state = b->remaining ? CH_DATA : CH_TR_START;
		return 0;
	default:
		return HTTP1_E_CHUNK_SIZE;
	}
}

/* One byte of the trailer section: field lines like a head's, then CRLF. */
static int trailer_byte(struct http1_body *b, unsigned char c)
{
	if (++b->trailer > HTTP1_MAX_TRAILER)
		return HTTP1_E_TRAILER;
	switch (b->state) {
	case CH_TR_START:
		if (c == '\r')
			b->state = CH_END_LF;
		else if (has_class(c, C_TCHAR))
			b->state = CH_TR_NAME;
		else
			return HTTP1_E_TRAILER; /* obs-fold, empty name, bare LF, ... */
		return 0;
	case CH_TR_NAME:
		if (c == ':')
			b->state = CH_TR_VALUE;
		else if (!has_class(c, C_TCHAR))
			return HTTP1_E_TRAILER;
		return 0;
	case CH_TR_VALUE:
		if (c == '\r')
			b->state = CH_TR_LF;
		else if (!has_class(c, C_FIELD))
			return HTTP1_E_TRAILER;
		return 0;
	case CH_TR_LF:
		if (c != '\n')
			return HTTP1_E_TRAILER;
		b->state = CH_TR_START;
		return 0;
	case CH_END_LF:
		if (c != '\n')
			return HTTP1_E_TRAILER;
		b->done = true;
		return 0;
	default:
		return HTTP1_E_TRAILER;
	}
}

/* Decodes chunked framing. Framing bytes go through the small per-byte state machine
 * (they are a few bytes per chunk); chunk data and extension runs are taken as spans.
 * Stops before a second data span, so each call returns at most one. A malformed byte
 * leaves the state as it was; when it follows a data span in the same call, the call
 * returns the span and the next call (starting at that byte) reports the error, so no
 * decoded payload is ever hidden behind an error return. */
static long feed_chunked(struct http1_body *b, const uint8_t *in, size_t len,
			 const uint8_t **data, size_t *data_len, int *err)
{
	size_t i = 0;
	bool have_span = false;
	while (i < len && !b->done) {
		int e = 0;
		struct http1_body before = *b;
		switch (b->state) {
		case CH_DATA: {
			if (have_span)
				return (long)i;
			size_t n = len - i;
			if ((uint64_t)n > b->remaining)
				n = (size_t)b->remaining;
			*data = in + i;
			*data_len = n;
			have_span = true;
			b->remaining -= n;
			b->payload += n;
			if (b->remaining == 0)
				b->state = CH_DATA_CR;
			i += n;
			continue;
		}
		case CH_DATA_CR:
			if (in[i] != '\r')
				e = HTTP1_E_CHUNK_CRLF;
			else
				b->state = CH_DATA_LF;
			break;
		case CH_DATA_LF:
			if (in[i] != '\n')
				e = HTTP1_E_CHUNK_CRLF;
			else
				b->state = CH_SIZE_FIRST;
			break;
		case CH_EXT: {
			long n = ext_span(in + i, len - i);
			if (n < 0 || b->chunk_line + (uint64_t)n > HTTP1_MAX_CHUNK_LINE) {
				e = HTTP1_E_CHUNK_SIZE;
				break;
			}
			b->chunk_line += (uint64_t)n;
			i += (size_t)n;
			if (i == len)
				continue;
			before = *b; /* the run is consumed; only the CR may still fail */
			e = size_line_byte(b, in[i]);
			break;
		}
		case CH_SIZE_FIRST:
		case CH_SIZE:
		case CH_SIZE_BWS:
		case CH_SIZE_LF:
			e = size_line_byte(b, in[i]);
			break;
		default:
			e = trailer_byte(b, in[i]);
			break;
		}
		if (e) {
			*b = before;
			return have_span ? (long)i : body_error(err, e);
		}
		i++;
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
	/* A long never holds more than LONG_MAX bytes consumed. */
	if (len > LONG_MAX)
		len = LONG_MAX;
	switch (body->framing) {
	case HTTP1_FRAMING_LENGTH: {
		size_t n = (uint64_t)len < body->remaining ? len : (size_t)body->remaining;
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
