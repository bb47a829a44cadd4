/* jsonw_roundtrip.h — runs bytes as a program of lib/jsonw calls and checks what jsonw
 * wrote against jansson (Linux only): the same calls build a jansson tree, and a
 * document jsonw_finish() accepted must parse with json_loadb() into an equal tree. A
 * document refused for room (-ENOSPC) must be one that does not fit: written again
 * into a large buffer it is at least as long as the room was. Shared by the unit test
 * (tests/unit/test_jsonw.c, seeded random programs) and the fuzz target
 * (fuzz/fuzz_jsonw.c). Strings come from an alphabet of valid UTF-8 that is rich in
 * what needs escaping; the replacement of invalid bytes is tested by exact cases. */
#ifndef TP_JSONW_ROUNDTRIP_H
#define TP_JSONW_ROUNDTRIP_H

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "lib/jsonw.h"

#define JRT_MAX_OPS 256
#define JRT_BIG (1u << 16)

struct jrt_reader {
	const uint8_t *p;
	size_t n;
};

static uint8_t jrt_byte(struct jrt_reader *r)
{
	if (r->n == 0)
		return 0;
	r->n--;
	return *r->p++;
}

static uint64_t jrt_u64(struct jrt_reader *r)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | jrt_byte(r);
	return v;
}

/* A string of up to 31 pieces, each a character worth testing. */
static size_t jrt_string(struct jrt_reader *r, char *out)
{
	static const char *const pieces[] = {"a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t",
					     "\x01", "\x1f", "\x7f", "\xc3\xa9", "\xe2\x82\xac",
					     "\xf0\x9d\x84\x9e", "\0"};
	size_t len = 0, count = jrt_byte(r) % 32;
	for (size_t i = 0; i < count; i++) {
		const char *p = pieces[jrt_byte(r) % 16];
		size_t plen = p[0] ? strlen(p) : 1; /* the last piece is one NUL byte */
		memcpy(out + len, p, plen);
		len += plen;
	}
	return len;
}

struct jrt_mirror {
	json_t *stack[JSONW_MAX_DEPTH + 2];
	size_t depth;
	json_t *root;
	char key[32 * 4 + 1];
	bool have_key;
	bool misused; /* a call out of place was made: jsonw must refuse the document */
};

/* Adds v (a new reference, stolen) where the mirror stands. */
static void jrt_add(struct jrt_mirror *m, json_t *v)
{
	if (!v)
		return;
	if (m->depth == 0) {
		if (!m->root)
			m->root = json_incref(v);
	} else if (json_is_object(m->stack[m->depth - 1])) {
		if (m->have_key)
			json_object_set(m->stack[m->depth - 1], m->key, v);
		m->have_key = false;
	} else {
		json_array_append(m->stack[m->depth - 1], v);
	}
	json_decref(v);
}

static void jrt_begin(struct jsonw *w, struct jrt_mirror *m, bool obj)
{
	json_t *c = obj ? json_object() : json_array();
	obj ? jsonw_object_begin(w) : jsonw_array_begin(w);
	jrt_add(m, json_incref(c));
	m->stack[m->depth++] = c;
}

static void jrt_end(struct jsonw *w, struct jrt_mirror *m)
{
	json_is_object(m->stack[m->depth - 1]) ? jsonw_object_end(w) : jsonw_array_end(w);
	json_decref(m->stack[--m->depth]);
}

static void jrt_value(struct jrt_reader *r, struct jsonw *w, struct jrt_mirror *m, unsigned pick)
{
	char s[32 * 4 + 1];
	switch (pick) {
	case 0: {
		size_t n = jrt_string(r, s);
		jsonw_string_n(w, s, n);
		jrt_add(m, json_stringn(s, n));
		break;
	}
	case 1: {
		long long v = (long long)jrt_u64(r);
		jsonw_int(w, v);
		jrt_add(m, json_integer(v));
		break;
	}
	case 2: {
		unsigned long long v = jrt_u64(r) >> 1; /* what jansson can read */
		jsonw_uint(w, v);
		jrt_add(m, json_integer((long long)v));
		break;
	}
	case 3: {
		uint64_t bits = jrt_u64(r);
		double v;
		memcpy(&v, &bits, sizeof v);
		jsonw_real(w, v);
		jrt_add(m, isfinite(v) ? json_real(v) : json_null());
		break;
	}
	case 4: {
		bool b = jrt_byte(r) & 1;
		jsonw_bool(w, b);
		jrt_add(m, json_boolean(b));
		break;
	}
	default:
		jsonw_null(w);
		jrt_add(m, json_null());
	}
}

static void jrt_key(struct jrt_reader *r, struct jsonw *w, struct jrt_mirror *m)
{
	/* Keys hold no NUL: jansson's object keys are C strings. */
	char s[32 * 4 + 1];
	size_t n = jrt_string(r, s);
	for (size_t i = 0; i < n; i++)
		s[i] = s[i] ? s[i] : '0';
	s[n] = '\0';
	jsonw_key(w, s);
	memcpy(m->key, s, n + 1);
	m->have_key = true;
}

/* Runs the program on w and the mirror. Each byte picks among the calls that are in
 * place where the document stands — except 0xff, a call deliberately out of place,
 * after which the mirror expects -EINVAL. What is still open at the end is closed. */
static void jrt_run(struct jrt_reader *r, struct jsonw *w, struct jrt_mirror *m)
{
	for (int op = 0; op < JRT_MAX_OPS && r->n > 0 && !(m->depth == 0 && m->root); op++) {
		uint8_t b = jrt_byte(r);
		bool in_obj = m->depth > 0 && json_is_object(m->stack[m->depth - 1]);
		if (b == 0xff) {
			in_obj && !m->have_key ? jsonw_null(w) : jsonw_object_end(w);
			m->misused = true;
			return;
		}
		if (in_obj && !m->have_key) {
			if (b % 8 == 0)
				jrt_end(w, m);
			else
				jrt_key(r, w, m);
			continue;
		}
		unsigned pick = b % 10;
		if (pick == 8 && m->depth > 0 && !in_obj)
			jrt_end(w, m);
		else if (pick < 2 && m->depth < JSONW_MAX_DEPTH)
			jrt_begin(w, m, pick == 0);
		else
			jrt_value(r, w, m, pick < 2 ? 5 : pick - 2);
	}
	while (m->depth > 0) {
		if (m->have_key) {
			jsonw_null(w);
			jrt_add(m, json_null());
		}
		jrt_end(w, m);
	}
	if (!m->root) {
		jsonw_null(w);
		jrt_add(m, json_null());
	}
}

static void jrt_mirror_free(struct jrt_mirror *m)
{
	while (m->depth > 0)
		json_decref(m->stack[--m->depth]);
	json_decref(m->root);
}

/* Returns 0 when jsonw and jansson agree on program[0..n) written into cap bytes, else
 * a short reason. */
static const char *jsonw_roundtrip(const uint8_t *program, size_t n, size_t cap)
{
	static char buf[JRT_BIG], big[JRT_BIG];
	if (cap > JRT_BIG)
		cap = JRT_BIG;
	struct jsonw w;
	struct jrt_mirror m = {0};
	struct jrt_reader r = {program, n};
	jsonw_init(&w, buf, cap);
	jrt_run(&r, &w, &m);
	long len = jsonw_finish(&w);
	const char *why = NULL;
	if (m.misused) {
		if (len != -EINVAL && len != -ENOSPC)
			why = "a call out of place was not refused";
	} else if (len >= 0) {
		json_error_t err;
		json_t *parsed = json_loadb(buf, (size_t)len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
		if (!parsed)
			why = "jansson cannot parse what jsonw accepted";
		else if (!json_equal(parsed, m.root))
			why = "jansson reads back a different document";
		json_decref(parsed);
	} else if (len == -ENOSPC) {
		struct jsonw w2;
		struct jrt_mirror m2 = {0};
		struct jrt_reader r2 = {program, n};
		jsonw_init(&w2, big, sizeof big);
		jrt_run(&r2, &w2, &m2);
		long len2 = jsonw_finish(&w2);
		jrt_mirror_free(&m2);
		if (len2 >= 0 && (size_t)len2 + 1 <= cap)
			why = "-ENOSPC for a document that fits";
	} else if (len != -EINVAL) {
		why = "jsonw_finish returned an undocumented code";
	}
	jrt_mirror_free(&m);
	return why;
}

#endif
