/* oplan — see oplan.h. */
#include "check/oplan.h"

#include <stdbool.h>
#include <string.h>

#include "lib/units.h"
#include "lib/url.h"

static const struct {
	const char *name;
	enum oplan_action action;
	int args; /* how many numeric arguments follow (cc/ has its value first) */
} actions[] = {
	{"bytes", OP_BYTES, 1},     {"chunked", OP_CHUNKED, 1}, {"chunks", OP_CHUNKS, 1},
	{"close", OP_CLOSE, 1},
	{"info", OP_INFO, 1},       {"status", OP_STATUS, 1},   {"reset", OP_RESET, 2},
	{"resetcl", OP_RESETCL, 2}, {"fin", OP_FIN, 1},         {"drip", OP_DRIP, 2},
	{"echo", OP_ECHO, 0},       {"upload", OP_UPLOAD, 0},   {"endless", OP_ENDLESS, 0},
	{"hold", OP_HOLD, 0},       {"afterfin", OP_AFTERFIN, 1}, {"cc", OP_CC, 1},
	{"etag", OP_ETAG, 1},       {"lm", OP_LM, 1},           {"stale", OP_STALE, 1},
	{"vary", OP_VARY, 1},       {"gw", OP_GW, 1},           {"hop", OP_HOP, 1},
};

const char *oplan_name(enum oplan_action a)
{
	for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
		if (actions[i].action == a)
			return actions[i].name;
	return "?";
}

/* The next '/'-separated segment of [*p, end): its start and length; *p moves past it
 * and its slash. False at the end. */
static bool segment(const char **p, const char *end, const char **seg, size_t *len)
{
	if (*p >= end)
		return false;
	const char *s = *p;
	const char *slash = memchr(s, '/', (size_t)(end - s));
	*seg = s;
	*len = (size_t)((slash ? slash : end) - s);
	*p = slash ? slash + 1 : end;
	return true;
}

/* A decimal segment up to max (lib/units reads it once it is a string). */
static bool number(const char *s, size_t len, uint64_t max, uint64_t *out)
{
	char buf[16];
	if (len == 0 || len >= sizeof buf)
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return units_count(buf, max, out);
}

static bool tag_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

static bool cc_value(const char *s, size_t len, char out[OPLAN_MAX_CC])
{
	if (len == 0 || len >= OPLAN_MAX_CC)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '+')
			c = ',';
		else if (!(c >= 'a' && c <= 'z') && !(c >= '0' && c <= '9') && c != '=' && c != '-')
			return false;
		out[i] = c;
	}
	out[len] = '\0';
	return true;
}

int oplan_parse(const char *target, size_t len, struct oplan *p)
{
	memset(p, 0, sizeof *p);
	const char *path = url_origin_form(target, &len);
	const char *q = memchr(path, '?', len);
	const char *end = q ? q : path + len;
	const char *cur = path, *seg;
	size_t slen;
	if (end - cur < 3 || memcmp(cur, "/t/", 3) != 0)
		return -1;
	cur += 3;
	if (!segment(&cur, end, &seg, &slen) || slen == 0 || slen >= OPLAN_MAX_TAG)
		return -1;
	for (size_t i = 0; i < slen; i++)
		if (!tag_char(seg[i]))
			return -1;
	memcpy(p->tag, seg, slen);
	if (!segment(&cur, end, &seg, &slen))
		return -1;
	size_t k = 0;
	while (k < sizeof actions / sizeof actions[0] &&
	       !(strlen(actions[k].name) == slen && memcmp(actions[k].name, seg, slen) == 0))
		k++;
	if (k == sizeof actions / sizeof actions[0])
		return -1;
	enum oplan_action a = actions[k].action;
	if (a == OP_CC && (!segment(&cur, end, &seg, &slen) || !cc_value(seg, slen, p->cc)))
		return -1;
	uint64_t *args[2] = {&p->n, &p->m};
	for (int i = 0; i < actions[k].args; i++)
		if (!segment(&cur, end, &seg, &slen) || !number(seg, slen, OPLAN_MAX_SIZE, args[i]))
			return -1;
	if (cur != end)
		return -1; /* more segments than the action takes */
	if (a == OP_STATUS && (p->n < 200 || p->n > 599))
		return -1;
	if (a == OP_DRIP && (p->m == 0 || p->m > 10000))
		return -1;
	p->action = a;
	return 0;
}
