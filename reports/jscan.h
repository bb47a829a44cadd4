/* jscan — walks the top-level members of one flat JSON object without building a tree.
 *
 * Records files hold a million lines; building a jansson tree per line costs ~8 us,
 * reading the dozen fields a report needs straight from the bytes well under 1 us.
 * Sans-I/O: bytes in, member spans out, pointing into the caller's buffer; no
 * allocation. Every byte is read through bounds checks; the whole object is validated
 * as JSON as it is walked (nested values too, to a depth of JSCAN_MAX_DEPTH), so a
 * caller that reached the end (return 0) held a well-formed object.
 */
#ifndef TP_REPORTS_JSCAN_H
#define TP_REPORTS_JSCAN_H

#include <stdbool.h>
#include <stddef.h>

#define JSCAN_MAX_DEPTH 32

enum jscan_type { JSCAN_STRING, JSCAN_NUMBER, JSCAN_TRUE, JSCAN_FALSE, JSCAN_NULL, JSCAN_OBJECT, JSCAN_ARRAY };

struct jscan {
	const char *p, *end;
	int state; /* 0 before '{', 1 after '{', 2 after a member, 3 done, -1 failed */
};

struct jscan_member {
	const char *key;  /* raw key text between the quotes (escapes not decoded) */
	size_t key_len;
	enum jscan_type type;
	const char *val;  /* strings: between the quotes, raw; others: the value's text */
	size_t val_len;
	bool escaped;     /* a string (value) holding backslash escapes: decode with jscan_string */
};

void jscan_init(struct jscan *s, const char *buf, size_t len);
/* The next member. Returns 1 with *m filled, 0 at the end of the object (only white
 * space may follow it), -EINVAL on malformed input (and for every later call). */
int jscan_next(struct jscan *s, struct jscan_member *m);
/* Whether the member's key is exactly `key` (keys with escapes never match). */
bool jscan_key_is(const struct jscan_member *m, const char *key);
/* A JSCAN_NUMBER's value; 0 for any other type. */
double jscan_number(const struct jscan_member *m);
/* Decodes a JSCAN_STRING into out (cap >= 1): escapes resolved (\u to UTF-8, lone
 * surrogates as U+FFFD), truncated to cap - 1 bytes at a character boundary, NUL
 * terminated. Returns the bytes written. Other types give "". */
size_t jscan_string(const struct jscan_member *m, char *out, size_t cap);

#endif
