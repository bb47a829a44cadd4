/* jsonw — a JSON writer into a caller's buffer: bounded, allocation-free, fail-closed.
 *
 * Hand-written because the ledger lines of the proxy and the origin must be built on
 * Windows too, where jansson is not available (Debian has no mingw build of it and
 * the project cross-builds no third-party library): one writer, one code path on every
 * platform. It writes; it never parses (jansson reads our JSON on Linux).
 *
 * Use: jsonw_init() on a buffer, then calls that mirror the document — begin/end of
 * objects and arrays, a key before each member's value, scalar values — then
 * jsonw_finish(). The output is compact (no spaces), as jansson's JSON_COMPACT.
 * Errors are sticky: after the first one (no room, a call out of place) every call is
 * a no-op and jsonw_finish() reports it, so callers check once, at the end, and a
 * half-written document is never mistaken for a whole one.
 *
 * Values: strings are escaped as JSON requires (\" \\ \b \f \n \r \t, other control
 * bytes as \u00XX); bytes that are not valid UTF-8 become U+FFFD, one per bad byte, so
 * the output is always valid JSON. Integers are exact (signed and unsigned 64-bit;
 * parsers with signed 64-bit integers, jansson among them, refuse unsigned values above
 * 2^63-1). Reals are written with 17 significant digits (they read back to the same
 * double) and always look like reals ("1.0", "1e+300"); NaN and infinities, which
 * JSON cannot carry, are written as null.
 *
 * Limits: JSONW_MAX_DEPTH nested containers; the buffer's size. Thread-safe as far as
 * the caller's struct is used by one thread.
 */
#ifndef TP_JSONW_H
#define TP_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSONW_MAX_DEPTH 32

struct jsonw {
	char *buf;
	size_t cap;
	size_t len;      /* bytes written; buf[len] is always NUL once initialised */
	int err;         /* 0, or the first error: -ENOSPC, -EINVAL */
	unsigned depth;  /* containers open */
	uint32_t object; /* bit d: the container at depth d+1 is an object (else array) */
	uint32_t items;  /* bit d: that container has a member already (a comma is due) */
	bool key_done;   /* inside an object: the key is written, its value is due */
	bool top_done;   /* the one top-level value is complete */
};

/* Prepares w to write into buf[0..cap) (cap >= 1: one byte is kept for the NUL). */
void jsonw_init(struct jsonw *w, char *buf, size_t cap);

void jsonw_object_begin(struct jsonw *w);
void jsonw_object_end(struct jsonw *w);
void jsonw_array_begin(struct jsonw *w);
void jsonw_array_end(struct jsonw *w);
/* The name of the next member; only inside an object, before each value. */
void jsonw_key(struct jsonw *w, const char *key);

void jsonw_string(struct jsonw *w, const char *s); /* NULL writes null */
void jsonw_string_n(struct jsonw *w, const char *s, size_t n); /* may hold NULs: \u0000 */
void jsonw_int(struct jsonw *w, long long v);
void jsonw_uint(struct jsonw *w, unsigned long long v);
void jsonw_real(struct jsonw *w, double v);
void jsonw_bool(struct jsonw *w, bool v);
void jsonw_null(struct jsonw *w);

/* Members: a key and its value in one call. */
void jsonw_field_string(struct jsonw *w, const char *key, const char *s);
void jsonw_field_int(struct jsonw *w, const char *key, long long v);
void jsonw_field_uint(struct jsonw *w, const char *key, unsigned long long v);
void jsonw_field_real(struct jsonw *w, const char *key, double v);
void jsonw_field_bool(struct jsonw *w, const char *key, bool v);
void jsonw_field_null(struct jsonw *w, const char *key);

/* Ends the document. Returns its length (buf holds it, NUL-terminated), or -ENOSPC
 * (it did not fit in cap - 1 bytes) or -EINVAL (a call out of place: a value where a
 * key was due or the reverse, an end that matches no begin, containers left open, no
 * value or a second top-level value, more than JSONW_MAX_DEPTH levels). On error buf
 * holds a prefix of the document: never use it. */
long jsonw_finish(struct jsonw *w);

#endif
