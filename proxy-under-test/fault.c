/* fault — see fault.h. */
#include "proxy-under-test/fault.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALL FAULT_MODES_ALL
#define QUIC FAULT_MODES_QUIC
#define BOTH (FAULT_MODES_ALL | FAULT_MODES_QUIC)

/* The table of fault.h, indexed by kind: name, parameter (and whether it may be left
 * out), hook, scope, modes by dir= (down, up), whether it sees bytes (TCP tunnels: no
 * splice), whether it needs streams legs. inject.c and qinject.c act on it;
 * tests/unit/test_proxy_fault.c checks it is complete. */
static const struct fault_info table[FAULT_KIND_END] = {
	[FAULT_TRUNCATE] = {"truncate", "after", false, FAULT_AT_WRITE, FAULT_SCOPE_DIR, {BOTH, BOTH},
			    true, false},
	[FAULT_RST] = {"rst", "after", false, FAULT_AT_WRITE, FAULT_SCOPE_DIR, {ALL, ALL}, true, false},
	[FAULT_CLOSE_BEFORE_REPLY] = {"close-before-reply", NULL, false, FAULT_AT_REQUEST,
				      FAULT_SCOPE_HANDSHAKE, {ALL, ALL}, false, false},
	[FAULT_CLOSE_MID_REPLY] = {"close-mid-reply", NULL, false, FAULT_AT_REPLY,
				   FAULT_SCOPE_HANDSHAKE, {ALL, ALL}, false, false},
	[FAULT_CLOSE_AFTER_ACCEPT] = {"close-after-accept", NULL, false, FAULT_AT_REPLY,
				      FAULT_SCOPE_HANDSHAKE, {ALL, ALL}, false, false},
	[FAULT_REFUSE] = {"refuse", NULL, false, FAULT_AT_REQUEST, FAULT_SCOPE_HANDSHAKE, {ALL, ALL},
			  false, false},
	[FAULT_NO_FIN] = {"no-fin", NULL, false, FAULT_AT_EOF, FAULT_SCOPE_DIR, {BOTH, BOTH}, false,
			  false},
	[FAULT_FULL_CLOSE] = {"full-close", NULL, false, FAULT_AT_EOF, FAULT_SCOPE_EITHER, {ALL, ALL},
			      false, false},
	[FAULT_STALL] = {"stall", "after", false, FAULT_AT_WRITE, FAULT_SCOPE_DIR, {BOTH, BOTH}, true,
			 false},
	[FAULT_CORRUPT] = {"corrupt", "at", false, FAULT_AT_READ, FAULT_SCOPE_DIR, {ALL, ALL}, true,
			   false},
	[FAULT_SLOW] = {"slow", "bps", false, FAULT_AT_WRITE, FAULT_SCOPE_DIR, {ALL, ALL}, true, false},
	[FAULT_DROP_CHUNK_END] = {"drop-chunk-end", NULL, false, FAULT_AT_LAST_CHUNK, FAULT_SCOPE_DIR,
				  {ALL, ALL}, true, false},
	[FAULT_SHORT_SEND_DROP] = {"short-send-drop", "after", true, FAULT_AT_SENT, FAULT_SCOPE_DIR,
				   {ALL, ALL}, true, true},
	/* A reset is seen by reading, whether the bytes go through a buffer or a pipe. */
	[FAULT_RESET_AS_FIN] = {"reset-as-fin", NULL, false, FAULT_AT_RESET, FAULT_SCOPE_DIR,
				{BOTH, BOTH}, false, false},
	[FAULT_FIN_DELAY] = {"fin-delay", "ms", false, FAULT_AT_EOF, FAULT_SCOPE_DIR, {QUIC, QUIC},
			     false, false},
	[FAULT_RESET] = {"reset", "after", false, FAULT_AT_WRITE, FAULT_SCOPE_DIR, {QUIC, QUIC}, true,
			 false},
	[FAULT_CLOSE_CONN] = {"close-conn", "after", false, FAULT_AT_WRITE, FAULT_SCOPE_DIR,
			      {QUIC, QUIC}, true, false},
	[FAULT_FLOW_STARVE] = {"flow-starve", NULL, false, FAULT_AT_CREDIT, FAULT_SCOPE_UP,
			       {QUIC, QUIC}, false, false},
};

#undef ALL
#undef QUIC
#undef BOTH

const struct fault_info *fault_info(enum fault_kind kind)
{
	return kind > 0 && kind < FAULT_KIND_END ? &table[kind] : NULL;
}

const char *fault_name(enum fault_kind kind)
{
	const struct fault_info *fi = fault_info(kind);
	return fi ? fi->name : "?";
}

bool fault_acts_in(const struct fault *f, enum fault_mode mode)
{
	const struct fault_info *fi = fault_info(f->kind);
	return fi && (fi->modes[f->dir] & mode);
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
		if (table[f->kind].scope == FAULT_SCOPE_UP) {
			*why = "dir= means nothing to this fault (it acts on the client's upload only)";
			return -EINVAL;
		}
		if (table[f->kind].scope != FAULT_SCOPE_DIR) {
			*why = "dir= means nothing to this fault (it has no direction)";
			return -EINVAL;
		}
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
	for (int k = FAULT_TRUNCATE; k < FAULT_KIND_END; k++)
		if (strlen(table[k].name) == nlen && memcmp(table[k].name, spec, nlen) == 0) {
			f->kind = (enum fault_kind)k;
			param = table[k].param;
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
	if (param && !have_param && !table[f->kind].param_optional) {
		*why = f->kind == FAULT_CORRUPT     ? "corrupt needs at=N"
		       : f->kind == FAULT_SLOW      ? "slow needs bps=N"
		       : f->kind == FAULT_FIN_DELAY ? "fin-delay needs ms=N"
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

const struct fault *fault_idle_mode(const struct fault *faults, size_t n, unsigned modes,
				    enum fault_mode *mode)
{
	for (size_t i = 0; i < n; i++)
		for (unsigned m = FAULT_MODE_FORWARD; m <= FAULT_MODE_LAST; m <<= 1)
			if ((modes & m) && !fault_acts_in(&faults[i], (enum fault_mode)m)) {
				*mode = (enum fault_mode)m;
				return &faults[i];
			}
	return NULL;
}

const char *fault_mode_name(enum fault_mode mode)
{
	switch (mode) {
	case FAULT_MODE_FORWARD: return "forward";
	case FAULT_MODE_CONNECT: return "connect";
	case FAULT_MODE_SOCKS5: return "socks5";
	case FAULT_MODE_REVERSE: return "reverse";
	case FAULT_MODE_H3: return "h3-connect";
	case FAULT_MODE_QSOCKS5: return "socks5-quic";
	}
	return "?";
}

uint64_t fault_key_hash(const char *key)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (const unsigned char *p = (const unsigned char *)key; *p; p++)
		h = (h ^ *p) * 0x100000001b3ull;
	return h;
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

/* Does f act on direction dir, by the scope of its kind? */
static bool acts_on(const struct fault *f, enum fault_dir dir)
{
	switch (table[f->kind].scope) {
	case FAULT_SCOPE_DIR:
		return f->dir == dir;
	case FAULT_SCOPE_UP:
		return dir == FAULT_UP;
	case FAULT_SCOPE_HANDSHAKE:
	case FAULT_SCOPE_EITHER:
		break;
	}
	return true;
}

void fault_set_pick(struct fault_set *set, const struct fault *faults, size_t n, uint64_t k)
{
	set->n = 0;
	for (size_t i = 0; i < n && set->n < FAULT_MAX; i++)
		if (fault_hits(&faults[i], k))
			set->hit[set->n++] = &faults[i];
}

const struct fault *fault_set_find(const struct fault_set *set, enum fault_kind kind,
				   enum fault_dir dir)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->hit[i]->kind == kind && acts_on(set->hit[i], dir))
			return set->hit[i];
	return NULL;
}

void fault_set_acted(const struct fault_set *set, uint32_t acts[FAULT_MAX], const struct fault *f)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->hit[i] == f)
			acts[i]++;
}

const struct fault *fault_needs_streams(const struct fault *faults, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fault_info(faults[i].kind) && fault_info(faults[i].kind)->needs_streams)
			return &faults[i];
	return NULL;
}

void fault_set_specs(const struct fault_set *set, char *out, size_t cap)
{
	size_t l = 0;
	out[0] = '\0';
	for (size_t i = 0; i < set->n && l < cap; i++) {
		int n = snprintf(out + l, cap - l, "%s%s", l ? "; " : "", set->hit[i]->spec);
		l += n > 0 ? (size_t)n : 0;
	}
}

bool fault_set_sees_bytes(const struct fault_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		if (fault_info(set->hit[i]->kind)->sees_bytes)
			return true;
	return false;
}

bool fault_ends_last_chunk(const char *buf, size_t len)
{
	return len >= 5 && memcmp(buf + len - 5, "0\r\n\r\n", 5) == 0 &&
	       (len == 5 || buf[len - 6] == '\n');
}
