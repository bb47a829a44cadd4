/* fault — see fault.h. */
#include "proxy-under-test/fault.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
	enum fault_kind kind;
	const char *param; /* the one parameter it needs, or NULL */
} kinds[] = {
	{"truncate", FAULT_TRUNCATE, "after"},
	{"rst", FAULT_RST, "after"},
	{"close-before-reply", FAULT_CLOSE_BEFORE_REPLY, NULL},
	{"close-mid-reply", FAULT_CLOSE_MID_REPLY, NULL},
	{"close-after-accept", FAULT_CLOSE_AFTER_ACCEPT, NULL},
	{"refuse", FAULT_REFUSE, NULL},
	{"no-fin", FAULT_NO_FIN, NULL},
	{"full-close", FAULT_FULL_CLOSE, NULL},
	{"stall", FAULT_STALL, "after"},
	{"corrupt", FAULT_CORRUPT, "at"},
	{"slow", FAULT_SLOW, "bps"},
	{"drop-chunk-end", FAULT_DROP_CHUNK_END, NULL},
};

const char *fault_name(enum fault_kind kind)
{
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (kinds[i].kind == kind)
			return kinds[i].name;
	return "?";
}

static bool parse_u64(const char *s, size_t len, uint64_t *out)
{
	if (len == 0 || len > 19)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return true;
}

/* Applies one "key=value" item. */
static int apply(struct fault *f, const char *param, bool *have_param, const char *item, size_t len,
		 const char **why)
{
	const char *eq = memchr(item, '=', len);
	if (!eq) {
		*why = "expected key=value";
		return -EINVAL;
	}
	size_t klen = (size_t)(eq - item), vlen = len - klen - 1;
	const char *v = eq + 1;
	if (klen == 1 && item[0] == 'p') {
		char buf[32];
		if (vlen == 0 || vlen >= sizeof buf) {
			*why = "bad p=";
			return -EINVAL;
		}
		memcpy(buf, v, vlen);
		buf[vlen] = '\0';
		char *end;
		double p = strtod(buf, &end);
		if (*end || !(p >= 0 && p <= 1)) {
			*why = "p= wants a probability from 0 to 1";
			return -EINVAL;
		}
		f->p = p;
	} else if (klen == 4 && memcmp(item, "seed", 4) == 0) {
		if (!parse_u64(v, vlen, &f->seed)) {
			*why = "bad seed=";
			return -EINVAL;
		}
	} else if (klen == 3 && memcmp(item, "dir", 3) == 0) {
		if (vlen == 4 && memcmp(v, "down", 4) == 0)
			f->dir = FAULT_DOWN;
		else if (vlen == 2 && memcmp(v, "up", 2) == 0)
			f->dir = FAULT_UP;
		else {
			*why = "dir= wants up or down";
			return -EINVAL;
		}
	} else if (param && klen == strlen(param) && memcmp(item, param, klen) == 0) {
		if (!parse_u64(v, vlen, &f->n)) {
			*why = "bad number";
			return -EINVAL;
		}
		*have_param = true;
	} else {
		*why = "unknown parameter";
		return -EINVAL;
	}
	return 0;
}

int fault_parse(const char *spec, struct fault *f, const char **why)
{
	memset(f, 0, sizeof *f);
	f->p = 1.0;
	size_t total = strlen(spec);
	if (total == 0 || total >= sizeof f->spec) {
		*why = total ? "spec too long" : "empty spec";
		return -EINVAL;
	}
	memcpy(f->spec, spec, total + 1);
	size_t nlen = strcspn(spec, ": ,");
	const char *param = NULL;
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
		if (strlen(kinds[i].name) == nlen && memcmp(kinds[i].name, spec, nlen) == 0) {
			f->kind = kinds[i].kind;
			param = kinds[i].param;
		}
	if (!f->kind) {
		*why = "unknown fault name";
		return -EINVAL;
	}
	bool have_param = false;
	const char *p = spec + nlen;
	while (*p) {
		while (*p == ':' || *p == ' ' || *p == ',')
			p++;
		size_t len = strcspn(p, " ,");
		if (len == 0)
			break;
		if (apply(f, param, &have_param, p, len, why) < 0)
			return -EINVAL;
		p += len;
	}
	if (param && !have_param) {
		*why = f->kind == FAULT_CORRUPT ? "corrupt needs at=N"
		       : f->kind == FAULT_SLOW ? "slow needs bps=N"
					       : "this fault needs after=N";
		return -EINVAL;
	}
	if (f->kind == FAULT_SLOW && f->n == 0) {
		*why = "slow needs bps > 0";
		return -EINVAL;
	}
	return 0;
}

/* splitmix64: a good 64-bit mix, so neighbouring tunnel numbers are independent. */
static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

bool fault_hits(const struct fault *f, uint64_t k)
{
	if (f->p >= 1.0)
		return true;
	if (f->p <= 0.0)
		return false;
	double u = (double)(mix(f->seed * 0x100000001b3ull ^ mix(k)) >> 11) / 9007199254740992.0;
	return u < f->p;
}
