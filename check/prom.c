/* prom — see prom.h. */
#include "check/prom.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static bool name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}

static bool name_char(char c)
{
	return name_start(c) || (c >= '0' && c <= '9');
}

/* A line being read: [p, end). */
struct cur {
	const char *p, *end;
};

static bool ident(struct cur *c, const char **s, size_t *n)
{
	if (c->p >= c->end || !name_start(*c->p))
		return false;
	*s = c->p;
	while (c->p < c->end && name_char(*c->p))
		c->p++;
	*n = (size_t)(c->p - *s);
	return true;
}

static bool contains(const char *s, size_t n, const char *needle)
{
	size_t k = strlen(needle);
	for (size_t i = 0; i + k <= n; i++)
		if (memcmp(s + i, needle, k) == 0)
			return true;
	return false;
}

/* A quoted label value; a status when it is three digits 100..599, else -1 in *status. */
static bool label_value(struct cur *c, int *status)
{
	if (c->p >= c->end || *c->p != '"')
		return false;
	c->p++;
	int digits = 0, v = 0;
	bool plain = true;
	while (c->p < c->end && *c->p != '"') {
		char ch = *c->p++;
		if (ch == '\\') {
			if (c->p >= c->end)
				return false;
			c->p++;
			plain = false;
			continue;
		}
		if (ch >= '0' && ch <= '9' && digits < 4) {
			v = v * 10 + (ch - '0');
			digits++;
		} else {
			plain = false;
		}
	}
	if (c->p >= c->end)
		return false;
	c->p++;
	*status = plain && digits == 3 && v >= 100 && v <= 599 ? v : -1;
	return true;
}

/* The {...} label set; *status from a code/status/status_code label, else -1. */
static bool labels(struct cur *c, int *status)
{
	*status = -1;
	if (c->p >= c->end || *c->p != '{')
		return true;
	c->p++;
	for (int i = 0; i < 64; i++) {
		if (c->p < c->end && *c->p == '}') {
			c->p++;
			return true;
		}
		const char *name;
		size_t n;
		int v;
		if (!ident(c, &name, &n) || c->p >= c->end || *c->p++ != '=' || !label_value(c, &v))
			return false;
		if ((n == 4 && memcmp(name, "code", 4) == 0) || (n == 6 && memcmp(name, "status", 6) == 0) ||
		    (n == 11 && memcmp(name, "status_code", 11) == 0))
			*status = v;
		if (c->p < c->end && *c->p == ',')
			c->p++;
	}
	return false;
}

static void line(const char *s, size_t n, struct prom_counts *out)
{
	struct cur c = {s, s + n};
	while (c.p < c.end && (*c.p == ' ' || *c.p == '\t'))
		c.p++;
	if (c.p == c.end || *c.p == '#')
		return;
	const char *name;
	size_t nlen;
	int status;
	char num[64];
	if (n > PROM_MAX_LINE || !ident(&c, &name, &nlen) || !labels(&c, &status) || c.p >= c.end ||
	    (*c.p != ' ' && *c.p != '\t')) {
		out->bad_lines++;
		return;
	}
	while (c.p < c.end && (*c.p == ' ' || *c.p == '\t'))
		c.p++;
	size_t vlen = 0;
	while (c.p + vlen < c.end && c.p[vlen] != ' ' && c.p[vlen] != '\t')
		vlen++;
	if (vlen == 0 || vlen >= sizeof num) {
		out->bad_lines++;
		return;
	}
	memcpy(num, c.p, vlen);
	num[vlen] = '\0';
	char *end;
	double v = strtod(num, &end);
	if (*end != '\0') {
		out->bad_lines++;
		return;
	}
	bool counter = nlen > 6 && memcmp(name + nlen - 6, "_total", 6) == 0 &&
		       (contains(name, nlen, "request") || contains(name, nlen, "response"));
	if (!counter || status < 0 || !(v >= 0) || v > 1e15)
		return;
	out->by_status[status] += v;
	out->samples++;
}

void prom_parse(const char *text, size_t len, struct prom_counts *out)
{
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *e = nl ? nl : end;
		size_t n = (size_t)(e - p);
		if (n && p[n - 1] == '\r')
			n--;
		line(p, n, out);
		p = nl ? nl + 1 : end;
	}
}
