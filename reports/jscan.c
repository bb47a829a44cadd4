/* jscan — see jscan.h. */
#include "reports/jscan.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hex.h"

static const char *skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* p is just past the opening quote. Returns the closing quote or NULL. */
static const char *scan_string(const char *p, const char *end, bool *escaped)
{
	*escaped = false;
	while (p < end) {
		unsigned char c = (unsigned char)*p;
		if (c == '"')
			return p;
		if (c < 0x20)
			return NULL;
		if (c == '\\') {
			*escaped = true;
			if (++p >= end)
				return NULL;
			if (*p == 'u') {
				if (end - p < 5)
					return NULL;
				for (int i = 1; i <= 4; i++)
					if (hex_digit(p[i]) < 0)
						return NULL;
				p += 4;
			} else if (!strchr("\"\\/bfnrt", *p) || *p == '\0') {
				return NULL;
			}
		}
		p++;
	}
	return NULL;
}

static const char *scan_digits(const char *p, const char *end)
{
	const char *start = p;
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	return p > start ? p : NULL;
}

/* JSON number grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static const char *scan_number(const char *p, const char *end)
{
	if (p < end && *p == '-')
		p++;
	if (p < end && *p == '0')
		p++;
	else if (!(p = scan_digits(p, end)))
		return NULL;
	if (p < end && *p == '.' && !(p = scan_digits(p + 1, end)))
		return NULL;
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (!(p = scan_digits(p, end)))
			return NULL;
	}
	return p;
}

static const char *scan_literal(const char *p, const char *end, const char *lit)
{
	size_t n = strlen(lit);
	return (size_t)(end - p) >= n && memcmp(p, lit, n) == 0 ? p + n : NULL;
}

/* Scans one value starting at p (no leading white space). Returns the byte after it
 * or NULL. depth counts the enclosing containers. */
static const char *scan_value(const char *p, const char *end, int depth, enum jscan_type *type)
{
	if (p >= end)
		return NULL;
	bool esc;
	enum jscan_type t;
	const char *q;
	switch (*p) {
	case '"':
		t = JSCAN_STRING;
		q = scan_string(p + 1, end, &esc);
		q = q ? q + 1 : NULL;
		break;
	case 't': t = JSCAN_TRUE; q = scan_literal(p, end, "true"); break;
	case 'f': t = JSCAN_FALSE; q = scan_literal(p, end, "false"); break;
	case 'n': t = JSCAN_NULL; q = scan_literal(p, end, "null"); break;
	case '{':
	case '[': {
		bool obj = *p == '{';
		char close = obj ? '}' : ']';
		t = obj ? JSCAN_OBJECT : JSCAN_ARRAY;
		if (depth + 1 > JSCAN_MAX_DEPTH)
			return NULL;
		q = skip_ws(p + 1, end);
		if (q < end && *q == close) {
			q++;
			break;
		}
		for (;;) {
			if (obj) {
				if (q >= end || *q != '"' || !(q = scan_string(q + 1, end, &esc)))
					return NULL;
				q = skip_ws(q + 1, end);
				if (q >= end || *q != ':')
					return NULL;
				q = skip_ws(q + 1, end);
			}
			enum jscan_type inner;
			if (!(q = scan_value(q, end, depth + 1, &inner)))
				return NULL;
			q = skip_ws(q, end);
			if (q < end && *q == ',') {
				q = skip_ws(q + 1, end);
				continue;
			}
			if (q < end && *q == close) {
				q++;
				break;
			}
			return NULL;
		}
		break;
	}
	default:
		t = JSCAN_NUMBER;
		q = scan_number(p, end);
	}
	*type = t;
	return q;
}

void jscan_init(struct jscan *s, const char *buf, size_t len)
{
	s->p = buf;
	s->end = buf + len;
	s->state = 0;
}

int jscan_next(struct jscan *s, struct jscan_member *m)
{
	const char *p = skip_ws(s->p, s->end), *end = s->end;
	if (s->state == 3)
		return 0;
	if (s->state < 0)
		return -EINVAL;
	if (s->state == 0) {
		if (p >= end || *p != '{')
			goto bad;
		p = skip_ws(p + 1, end);
		if (p < end && *p == '}')
			goto done;
	} else if (s->state == 2) {
		if (p < end && *p == '}')
			goto done;
		if (p >= end || *p != ',')
			goto bad;
		p = skip_ws(p + 1, end);
	}
	bool esc;
	if (p >= end || *p != '"')
		goto bad;
	const char *kend = scan_string(p + 1, end, &esc);
	if (!kend)
		goto bad;
	m->key = esc ? "" : p + 1; /* an escaped key matches nothing */
	m->key_len = esc ? 0 : (size_t)(kend - p - 1);
	p = skip_ws(kend + 1, end);
	if (p >= end || *p != ':')
		goto bad;
	p = skip_ws(p + 1, end);
	const char *vend = scan_value(p, end, 1, &m->type);
	if (!vend)
		goto bad;
	m->escaped = false;
	if (m->type == JSCAN_STRING) {
		m->val = p + 1;
		m->val_len = (size_t)(vend - p - 2);
		m->escaped = memchr(m->val, '\\', m->val_len) != NULL;
	} else {
		m->val = p;
		m->val_len = (size_t)(vend - p);
	}
	s->p = vend;
	s->state = 2;
	return 1;
done:
	p = skip_ws(p + 1, end);
	if (p != end)
		goto bad;
	s->p = p;
	s->state = 3;
	return 0;
bad:
	s->state = -1;
	return -EINVAL;
}

bool jscan_key_is(const struct jscan_member *m, const char *key)
{
	size_t n = strlen(key);
	return m->key_len == n && memcmp(m->key, key, n) == 0;
}

double jscan_number(const struct jscan_member *m)
{
	if (m->type != JSCAN_NUMBER)
		return 0;
	char buf[64];
	if (m->val_len >= sizeof buf) /* absurdly long digits: still a number, read a prefix-free copy */
		return m->val[0] == '-' ? -1e308 : 1e308;
	memcpy(buf, m->val, m->val_len);
	buf[m->val_len] = '\0';
	return strtod(buf, NULL);
}

/* Appends code point cp as UTF-8 if it fits entirely. */
static size_t put_utf8(char *out, size_t at, size_t cap, uint32_t cp, bool *full)
{
	char b[4];
	size_t n;
	if (cp < 0x80) {
		b[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (char)(0xf0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	if (at + n >= cap) {
		*full = true;
		return at;
	}
	memcpy(out + at, b, n);
	return at + n;
}

/* Four hex digits; a malformed escape decodes as U+FFFD instead of shifting a -1. */
static uint32_t hex4(const char *p)
{
	int d[4] = {hex_digit(p[0]), hex_digit(p[1]), hex_digit(p[2]), hex_digit(p[3])};
	if (d[0] < 0 || d[1] < 0 || d[2] < 0 || d[3] < 0)
		return 0xfffd;
	return (uint32_t)d[0] << 12 | (uint32_t)d[1] << 8 | (uint32_t)d[2] << 4 | (uint32_t)d[3];
}

size_t jscan_string(const struct jscan_member *m, char *out, size_t cap)
{
	size_t at = 0;
	if (cap == 0)
		return 0;
	if (m->type != JSCAN_STRING) {
		out[0] = '\0';
		return 0;
	}
	const char *p = m->val, *end = m->val + m->val_len;
	bool full = false;
	while (p < end && !full) {
		if (*p != '\\') {
			/* Copy a whole UTF-8 sequence or stop: never cut a character. */
			unsigned char c = (unsigned char)*p;
			size_t n = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
			if (n > (size_t)(end - p))
				n = (size_t)(end - p);
			if (at + n >= cap)
				break;
			memcpy(out + at, p, n);
			at += n;
			p += n;
			continue;
		}
		/* The escape was validated by scan_string. */
		char e = p[1];
		p += 2;
		uint32_t cp;
		switch (e) {
		case 'b': cp = '\b'; break;
		case 'f': cp = '\f'; break;
		case 'n': cp = '\n'; break;
		case 'r': cp = '\r'; break;
		case 't': cp = '\t'; break;
		case 'u':
			if (end - p < 4) { /* a cut escape: end the string here */
				cp = 0xfffd;
				p = end;
				break;
			}
			cp = hex4(p);
			p += 4;
			if (cp >= 0xd800 && cp < 0xdc00 && end - p >= 6 && p[0] == '\\' && p[1] == 'u') {
				uint32_t lo = hex4(p + 2);
				if (lo >= 0xdc00 && lo < 0xe000) {
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
					p += 6;
				}
			}
			if (cp >= 0xd800 && cp < 0xe000)
				cp = 0xfffd;
			break;
		default: cp = (unsigned char)e; /* \" \\ \/ */
		}
		at = put_utf8(out, at, cap, cp, &full);
	}
	out[at] = '\0';
	return at;
}
