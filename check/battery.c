/* battery — see battery.h. */
#include "check/battery.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check/out.h"
#include "check/tun.h"
#include "lib/loop.h"

static const struct ck_table *const tables[] = {
	&ck_bytes_checks, &ck_forward_checks, &ck_rules_checks, &ck_connect_checks, &ck_socks5_checks,
	&ck_slow_checks,  &ck_cache_checks,   &ck_gateway_checks,
};
/* Profiles in the order the battery reports them. */
static const unsigned order[] = {CK_PROFILE_FORWARD, CK_PROFILE_CONNECT, CK_PROFILE_SOCKS5,
				 CK_PROFILE_CACHE, CK_PROFILE_GATEWAY};

void battery_each(void (*fn)(const struct ck_def *def, void *arg), void *arg)
{
	for (size_t p = 0; p < sizeof order / sizeof order[0]; p++)
		for (size_t t = 0; t < sizeof tables / sizeof tables[0]; t++)
			for (size_t i = 0; i < tables[t]->n; i++)
				if (tables[t]->defs[i].profile == order[p])
					fn(&tables[t]->defs[i], arg);
}

bool battery_selected(const struct ck_args *a, const struct ck_def *def)
{
	if (!(a->profiles & def->profile))
		return false;
	if (a->nonly == 0)
		return true;
	for (size_t i = 0; i < a->nonly; i++)
		if (strncmp(def->id, a->only[i], strlen(a->only[i])) == 0)
			return true;
	return false;
}

/* Does the proxy speak SOCKS5 (asked once)? An http:// URL may name a port that
 * serves both (the reference proxy does): a greeting tells. */
static bool socks5_available(struct ck *ck, const char **why)
{
	const struct url *u = &ck->args->proxy;
	if (u->scheme == URL_SOCKS5 || u->scheme == URL_SOCKS5H)
		return true;
	if (ck->socks5_state == 0) {
		struct cio c;
		struct cx x;
		struct tun_socks5 s;
		tun_socks5_init(&s, NULL);
		s.offer_userpass = true; /* any method will do: only the answer's form matters */
		uint64_t deadline = cio_deadline_ms(3000);
		ck->socks5_state = -1;
		if (cio_connect(&c, &ck->proxy, deadline) == 0) {
			cx_init(&x, &c);
			tun_socks5(&c, &x, &s, deadline);
			if (s.method >= 0)
				ck->socks5_state = 1;
			else
				snprintf(ck->socks5_why, sizeof ck->socks5_why,
					 "the proxy does not speak SOCKS5 on this port (to a greeting: %.120s)",
					 s.why);
			cio_close(&c);
		} else {
			snprintf(ck->socks5_why, sizeof ck->socks5_why, "cannot connect to the proxy");
		}
	}
	*why = ck->socks5_why;
	return ck->socks5_state > 0;
}

/* Why def cannot run against what was given, or NULL when it can. */
static const char *unavailable(struct ck *ck, const struct ck_def *def)
{
	const struct ck_args *a = ck->args;
	const char *why;
	if (def->profile == CK_PROFILE_GATEWAY)
		return a->gateway_url ? NULL : "no --gateway URL given";
	if (!a->proxy_url)
		return "no --proxy URL given";
	bool socks = a->proxy.scheme == URL_SOCKS5 || a->proxy.scheme == URL_SOCKS5H;
	if (def->profile == CK_PROFILE_SOCKS5)
		return socks5_available(ck, &why) ? NULL : why;
	if (socks)
		return "the proxy is a SOCKS5 URL: it has no HTTP forwarding or CONNECT to check "
		       "(give its http:// URL if it has one)";
	return NULL;
}

static void run_one(struct ck *ck, const struct ck_def *def, struct ck_outcome *out)
{
	memset(out, 0, sizeof *out);
	uint64_t t0 = loop_clock_us();
	const char *why = unavailable(ck, def);
	if (why) {
		ck_result(out, CK_SKIP, "%s", why);
	} else {
		ck->deadline = t0 + (uint64_t)def->budget_s * 1000000u;
		def->run(ck, def, out);
		if (!out->decided)
			ck_result(out, CK_FAIL, "the check gave no result (a bug in the check)");
	}
	out->ms = (loop_clock_us() - t0) / 1000;
}

struct collect {
	const struct ck_args *a;
	const struct ck_def **defs;
	size_t n, cap;
	bool oom;
};

static void collect_one(const struct ck_def *def, void *arg)
{
	struct collect *c = arg;
	if (!battery_selected(c->a, def))
		return;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		const struct ck_def **d = realloc(c->defs, cap * sizeof *d);
		if (!d) {
			c->oom = true;
			return;
		}
		c->defs = d;
		c->cap = cap;
	}
	c->defs[c->n++] = def;
}

int battery_run(struct ck *ck, struct battery_run *run, FILE *live)
{
	memset(run, 0, sizeof *run);
	struct collect c = {.a = ck->args};
	battery_each(collect_one, &c);
	int rc = -ENOMEM;
	if (c.oom)
		goto out;
	run->rows = calloc(c.n ? c.n : 1, sizeof *run->rows);
	if (!run->rows)
		goto out;
	for (size_t i = 0; i < c.n; i++) {
		struct battery_row *row = &run->rows[run->n++];
		row->def = c.defs[i];
		run_one(ck, row->def, &row->out);
		switch (row->out.result) {
		case CK_PASS: run->passed++; break;
		case CK_FAIL: run->failed++; break;
		case CK_SKIP: run->skipped++; break;
		case CK_WARN: run->warned++; break;
		}
		if (live)
			ckout_row(live, row);
	}
	rc = 0;
out:
	free(c.defs);
	return rc;
}

void battery_free(struct battery_run *run)
{
	if (!run)
		return;
	free(run->rows);
	run->rows = NULL;
	run->n = 0;
}
