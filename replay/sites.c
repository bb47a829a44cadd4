/* sites — see sites.h. */
#include "replay/sites.h"

#include "lib/textfile.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_SIZE (1ull << 40) /* a TiB: large enough for soaks, small enough to be sane */

static int perr(char *err, size_t errlen, const char *name, unsigned line, const char *fmt, ...)
{
	int n = snprintf(err, errlen, "%s:%u: ", name, line);
	va_list ap;
	va_start(ap, fmt);
	if (n >= 0 && (size_t)n < errlen)
		vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static bool parse_u64(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	if (len == 0 || len > 20)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		if (v > (max - (uint64_t)(s[i] - '0')) / 10)
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return true;
}

static void plan_default(struct plan *p)
{
	memset(p, 0, sizeof *p);
	p->status = 200;
	p->chunk = 16384;
}

static bool add_header(struct plan *p, const char *name, size_t nlen, const char *value, size_t vlen)
{
	size_t used = strlen(p->headers);
	int n = snprintf(p->headers + used, sizeof p->headers - used, "%.*s: %.*s\r\n", (int)nlen, name,
			 (int)vlen, value);
	return n > 0 && (size_t)n < sizeof p->headers - used;
}

/* One "key=value" of a route. Returns NULL or the reason it is wrong. */
static const char *apply_kv(struct plan *p, const char *kv, size_t len)
{
	const char *eq = memchr(kv, '=', len);
	if (!eq)
		return "expected key=value";
	size_t klen = (size_t)(eq - kv), vlen = len - klen - 1;
	const char *v = eq + 1;
	uint64_t n;
#define KEY(s) (klen == sizeof s - 1 && memcmp(kv, s, klen) == 0)
#define IS(s) (vlen == sizeof s - 1 && memcmp(v, s, vlen) == 0)
	if (KEY("size")) {
		if (!parse_u64(v, vlen, MAX_SIZE, &p->size))
			return "size wants bytes (at most 2^40)";
	} else if (KEY("framing")) {
		if (IS("length"))
			p->framing = PLAN_LENGTH;
		else if (IS("chunked"))
			p->framing = PLAN_CHUNKED;
		else if (IS("close"))
			p->framing = PLAN_CLOSE;
		else
			return "framing wants length, chunked or close";
	} else if (KEY("chunk")) {
		if (!parse_u64(v, vlen, 1 << 20, &n) || n == 0)
			return "chunk wants 1..1048576";
		p->chunk = (uint32_t)n;
	} else if (KEY("gzip")) {
		if (IS("on"))
			p->gzip = true;
		else if (IS("off"))
			p->gzip = false;
		else
			return "gzip wants on or off";
	} else if (KEY("status")) {
		if (!parse_u64(v, vlen, 999, &n) || n < 100 || (n >= 100 && n < 200))
			return "status wants 200..999";
		p->status = (int)n;
	} else if (KEY("delay") || KEY("drip")) {
		if (!parse_u64(v, vlen, 600000, &n))
			return "delay and drip want milliseconds (at most 600000)";
		*(kv[1] == 'e' ? &p->delay_ms : &p->drip_ms) = (uint32_t)n;
	} else if (KEY("close")) {
		if (!(IS("on") || IS("off")))
			return "close wants on or off";
		p->close = IS("on");
	} else if (KEY("header")) {
		const char *colon = memchr(v, ':', vlen);
		if (!colon || colon == v)
			return "header wants Name:value";
		for (const char *c = v; c < v + vlen; c++)
			if ((unsigned char)*c < 0x21 || *c == 0x7f)
				return "header has a space or control character (write Name:value)";
		if (!add_header(p, v, (size_t)(colon - v), colon + 1, (size_t)(v + vlen - colon - 1)))
			return "too many header bytes";
	} else {
		return "unknown key";
	}
#undef KEY
#undef IS
	return NULL;
}

int sites_parse(struct sites *s, const char *text, size_t len, const char *name, char *err,
		size_t errlen)
{
	memset(s, 0, sizeof *s);
	unsigned line = 0;
	size_t pos = 0;
	while (pos < len) {
		line++;
		const char *start = text + pos;
		const char *nl = memchr(start, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - start) : len - pos;
		pos += n + (nl ? 1 : 0);
		char buf[2048];
		if (n >= sizeof buf)
			return perr(err, errlen, name, line, "line longer than %zu bytes", sizeof buf - 1);
		memcpy(buf, start, n);
		buf[n] = '\0';
		for (size_t i = 0; i < n; i++) {
			unsigned char c = (unsigned char)buf[i];
			if (c == 0 || (c < 0x20 && c != '\t' && c != '\r'))
				return perr(err, errlen, name, line, "control character");
			if (c == '#' && (i == 0 || buf[i - 1] == ' ' || buf[i - 1] == '\t')) {
				buf[i] = '\0';
				break;
			}
		}
		char *save = NULL;
		char *host = strtok_r(buf, " \t\r", &save);
		if (!host)
			continue;
		char *path = strtok_r(NULL, " \t\r", &save);
		if (!path)
			return perr(err, errlen, name, line, "a route is HOST PATH key=value...");
		if (s->n == SITES_MAX_ROUTES)
			return perr(err, errlen, name, line, "more than %d routes", SITES_MAX_ROUTES);
		struct route *r = &s->routes[s->n];
		if (strlen(host) >= sizeof r->host || strlen(path) >= sizeof r->path)
			return perr(err, errlen, name, line, "host or path too long");
		if (path[0] != '/')
			return perr(err, errlen, name, line, "path must start with /");
		strcpy(r->host, host);
		strcpy(r->path, path);
		size_t pl = strlen(r->path);
		if (r->path[pl - 1] == '*') {
			r->prefix = true;
			r->path[pl - 1] = '\0';
		}
		plan_default(&r->plan);
		bool framing_set = false;
		for (char *kv; (kv = strtok_r(NULL, " \t\r", &save));) {
			const char *why = apply_kv(&r->plan, kv, strlen(kv));
			if (why)
				return perr(err, errlen, name, line, "'%s': %s", kv, why);
			framing_set |= strncmp(kv, "framing=", 8) == 0;
		}
		if (r->plan.gzip && r->plan.framing == PLAN_LENGTH) {
			if (framing_set)
				return perr(err, errlen, name, line,
					    "gzip with framing=length is not supported (use chunked or close)");
			r->plan.framing = PLAN_CHUNKED;
		}
		s->n++;
	}
	return 0;
}

int sites_load(struct sites *s, const char *path, char *err, size_t errlen)
{
	char *buf;
	size_t n;
	int rc = textfile_read(path, 1 << 20, &buf, &n, err, errlen);
	if (rc < 0)
		return rc == -EFBIG ? -EINVAL : rc;
	rc = sites_parse(s, buf, n, path, err, errlen);
	free(buf);
	return rc;
}

/* The value of query parameter key in q ("a=1&b=2"), or false. */
static bool query_u64(const char *q, const char *key, uint64_t max, uint64_t *out)
{
	size_t klen = strlen(key);
	for (const char *p = q; p && *p;) {
		if (strncmp(p, key, klen) == 0 && p[klen] == '=')
			return parse_u64(p + klen + 1, strcspn(p + klen + 1, "&"), max, out);
		p = strchr(p, '&');
		if (p)
			p++;
	}
	return false;
}

/* "/bytes/123" with prefix "/bytes/" → 123. */
static bool path_number(const char *path, size_t plen, const char *prefix, uint64_t max, uint64_t *out)
{
	size_t n = strlen(prefix);
	return plen > n && strncmp(path, prefix, n) == 0 && parse_u64(path + n, plen - n, max, out);
}

void sites_plan(const struct sites *s, const char *method, const char *host, const char *target,
		struct plan *plan)
{
	size_t plen = strcspn(target, "?");
	const char *query = target[plen] == '?' ? target + plen + 1 : NULL;
	for (size_t i = 0; s && i < s->n; i++) {
		const struct route *r = &s->routes[i];
		if (strcmp(r->host, "*") != 0 && strcasecmp(r->host, host) != 0)
			continue;
		size_t rl = strlen(r->path);
		if (r->prefix ? strncmp(target, r->path, rl) == 0 : (rl == plen && strncmp(target, r->path, rl) == 0)) {
			*plan = r->plan;
			return;
		}
	}
	plan_default(plan);
	uint64_t n;
	if (path_number(target, plen, "/bytes/", MAX_SIZE, &n)) {
		plan->size = n;
	} else if (path_number(target, plen, "/chunked/", MAX_SIZE, &n)) {
		plan->size = n;
		plan->framing = PLAN_CHUNKED;
		uint64_t k;
		if (query_u64(query, "chunk", 1 << 20, &k) && k > 0)
			plan->chunk = (uint32_t)k;
	} else if (path_number(target, plen, "/gzip/", MAX_SIZE, &n)) {
		plan->size = n;
		plan->gzip = true;
		plan->framing = PLAN_CHUNKED;
	} else if (path_number(target, plen, "/close/", MAX_SIZE, &n)) {
		plan->size = n;
		plan->framing = PLAN_CLOSE;
	} else if (path_number(target, plen, "/delay/", 600000, &n)) {
		plan->delay_ms = (uint32_t)n;
		plan->size = 64;
	} else if (path_number(target, plen, "/status/", 999, &n) && n >= 200) {
		plan->status = (int)n;
		plan->size = 32;
		if (n == 429)
			add_header(plan, "Retry-After", 11, "1", 1);
		if (n == 503)
			add_header(plan, "X-Circuit-Breaker", 17, "open", 4);
	} else if (plen == 5 && strncmp(target, "/drip", 5) == 0) {
		uint64_t bytes = 10, ms = 100;
		query_u64(query, "bytes", 1 << 20, &bytes);
		query_u64(query, "ms", 600000, &ms);
		plan->size = bytes;
		plan->drip_ms = (uint32_t)ms;
	} else if (plen == 5 && strncmp(target, "/sink", 5) == 0 && strcmp(method, "POST") == 0) {
		plan->sink = true;
		plan->size = 0;
	} else if (plen == 1 && target[0] == '/') {
		plan->size = 1024;
	} else {
		plan->status = 404;
		plan->size = 0;
	}
}
