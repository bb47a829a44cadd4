/* jsonw — see jsonw.h. */
#include "lib/jsonw.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static void fail(struct jsonw *w, int err)
{
	if (!w->err)
		w->err = err;
}

static void put(struct jsonw *w, const char *s, size_t n)
{
	if (w->err)
		return;
	if (n >= w->cap - w->len) { /* one byte stays for the NUL */
		fail(w, -ENOSPC);
		return;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
	w->buf[w->len] = '\0';
}

void jsonw_init(struct jsonw *w, char *buf, size_t cap)
{
	*w = (struct jsonw){.buf = buf, .cap = cap};
	if (cap == 0)
		w->err = -ENOSPC;
	else
		buf[0] = '\0';
}

static bool in_object(const struct jsonw *w)
{
	return w->depth > 0 && (w->object >> (w->depth - 1) & 1u);
}

/* Before any value: the comma an array needs, the key an object needs, or the room for
 * the one top-level value. Returns false (and fails w) when a value is out of place. */
static bool value_start(struct jsonw *w)
{
	if (w->err)
		return false;
	if (w->depth == 0) {
		if (w->top_done) {
			fail(w, -EINVAL);
			return false;
		}
		return true;
	}
	if (in_object(w)) {
		if (!w->key_done) {
			fail(w, -EINVAL);
			return false;
		}
		w->key_done = false;
		return true;
	}
	uint32_t bit = 1u << (w->depth - 1);
	if (w->items & bit)
		put(w, ",", 1);
	w->items |= bit;
	return !w->err;
}

/* After a scalar or a closed container at the top level, the document is complete. */
static void value_end(struct jsonw *w)
{
	if (w->depth == 0)
		w->top_done = true;
}

static void begin(struct jsonw *w, bool object)
{
	if (!value_start(w))
		return;
	if (w->depth == JSONW_MAX_DEPTH) {
		fail(w, -EINVAL);
		return;
	}
	put(w, object ? "{" : "[", 1);
	uint32_t bit = 1u << w->depth;
	w->object = object ? w->object | bit : w->object & ~bit;
	w->items &= ~bit;
	w->depth++;
}

static void end(struct jsonw *w, bool object)
{
	if (w->err)
		return;
	if (w->depth == 0 || in_object(w) != object || w->key_done) {
		fail(w, -EINVAL);
		return;
	}
	put(w, object ? "}" : "]", 1);
	w->depth--;
	value_end(w);
}

void jsonw_object_begin(struct jsonw *w) { begin(w, true); }
void jsonw_object_end(struct jsonw *w) { end(w, true); }
void jsonw_array_begin(struct jsonw *w) { begin(w, false); }
void jsonw_array_end(struct jsonw *w) { end(w, false); }

/* The length of the valid UTF-8 sequence at s[0..n) (n >= 1, s[0] >= 0x80), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf; /* the range of the second byte */
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0; /* no overlong forms */
	else if (c == 0xed)
		hi = 0x9f; /* no surrogates */
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f; /* nothing past U+10FFFF */
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/* Writes s[0..n) as a JSON string body: runs that need nothing are copied whole. */
static void put_escaped(struct jsonw *w, const unsigned char *s, size_t n)
{
	size_t run = 0; /* start of the run not yet written */
	for (size_t i = 0; i < n && !w->err;) {
		unsigned char c = s[i];
		size_t len = 1;
		const char *esc = NULL;
		char hex[8];
		if (c >= 0x80) {
			len = utf8_len(s + i, n - i);
			if (len) {
				i += len;
				continue;
			}
			len = 1;
			esc = "\xef\xbf\xbd"; /* U+FFFD for a byte that is not UTF-8 */
		} else if (c == '"') {
			esc = "\\\"";
		} else if (c == '\\') {
			esc = "\\\\";
		} else if (c < 0x20) {
			switch (c) {
			case '\b': esc = "\\b"; break;
			case '\f': esc = "\\f"; break;
			case '\n': esc = "\\n"; break;
			case '\r': esc = "\\r"; break;
			case '\t': esc = "\\t"; break;
			default:
				snprintf(hex, sizeof hex, "\\u%04x", c);
				esc = hex;
			}
		} else {
			i++;
			continue;
		}
		put(w, (const char *)s + run, i - run);
		put(w, esc, strlen(esc));
		i += len;
		run = i;
	}
	put(w, (const char *)s + run, n - run);
}

static void put_string(struct jsonw *w, const char *s, size_t n)
{
	put(w, "\"", 1);
	put_escaped(w, (const unsigned char *)s, n);
	put(w, "\"", 1);
}

void jsonw_key(struct jsonw *w, const char *key)
{
	if (w->err)
		return;
	if (!in_object(w) || w->key_done || !key) {
		fail(w, -EINVAL);
		return;
	}
	uint32_t bit = 1u << (w->depth - 1);
	if (w->items & bit)
		put(w, ",", 1);
	w->items |= bit;
	put_string(w, key, strlen(key));
	put(w, ":", 1);
	w->key_done = true;
}

void jsonw_string_n(struct jsonw *w, const char *s, size_t n)
{
	if (!value_start(w))
		return;
	put_string(w, s, n);
	value_end(w);
}

void jsonw_string(struct jsonw *w, const char *s)
{
	if (!s)
		jsonw_null(w);
	else
		jsonw_string_n(w, s, strlen(s));
}

static void put_scalar(struct jsonw *w, const char *text)
{
	if (!value_start(w))
		return;
	put(w, text, strlen(text));
	value_end(w);
}

void jsonw_int(struct jsonw *w, long long v)
{
	char text[24];
	snprintf(text, sizeof text, "%lld", v);
	put_scalar(w, text);
}

void jsonw_uint(struct jsonw *w, unsigned long long v)
{
	char text[24];
	snprintf(text, sizeof text, "%llu", v);
	put_scalar(w, text);
}

void jsonw_real(struct jsonw *w, double v)
{
	if (!isfinite(v)) {
		put_scalar(w, "null");
		return;
	}
	char text[40];
	snprintf(text, sizeof text, "%.17g", v);
	/* "%g" drops the point of an integral value: add ".0" so it reads back as a real,
	 * as jansson's own writer does. */
	if (!strpbrk(text, ".eE"))
		strcat(text, ".0");
	put_scalar(w, text);
}

void jsonw_bool(struct jsonw *w, bool v) { put_scalar(w, v ? "true" : "false"); }
void jsonw_null(struct jsonw *w) { put_scalar(w, "null"); }

void jsonw_field_string(struct jsonw *w, const char *key, const char *s)
{
	jsonw_key(w, key);
	jsonw_string(w, s);
}

void jsonw_field_int(struct jsonw *w, const char *key, long long v)
{
	jsonw_key(w, key);
	jsonw_int(w, v);
}

void jsonw_field_uint(struct jsonw *w, const char *key, unsigned long long v)
{
	jsonw_key(w, key);
	jsonw_uint(w, v);
}

void jsonw_field_real(struct jsonw *w, const char *key, double v)
{
	jsonw_key(w, key);
	jsonw_real(w, v);
}

void jsonw_field_bool(struct jsonw *w, const char *key, bool v)
{
	jsonw_key(w, key);
	jsonw_bool(w, v);
}

void jsonw_field_null(struct jsonw *w, const char *key)
{
	jsonw_key(w, key);
	jsonw_null(w);
}

long jsonw_finish(struct jsonw *w)
{
	if (!w->err && (w->depth != 0 || !w->top_done))
		fail(w, -EINVAL);
	return w->err ? w->err : (long)w->len;
}
