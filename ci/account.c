/* account — see account.h. */
#include "ci/account.h"

#include <jansson.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ci/jsonl.h"
#include "ci/rundir.h"

#define ID_MAX 96 /* longer ids are not ours: counted as unreadable */

/* A set of id strings: open addressing over offsets into one arena. */
struct idset {
	char *arena;
	size_t used, cap;
	uint32_t *slots;   /* arena offset + 1; 0 empty */
	size_t nslots, n;
};

static void idset_free(struct idset *s)
{
	free(s->arena);
	free(s->slots);
	memset(s, 0, sizeof *s);
}

static uint64_t hash(const char *id, size_t len)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)id[i]) * 1099511628211ull;
	return h;
}

/* The slot holding id, or the empty slot where it would go. */
static size_t slot_of(const struct idset *s, const char *id, size_t len)
{
	size_t i = (size_t)hash(id, len) & (s->nslots - 1);
	while (s->slots[i]) {
		const char *have = s->arena + s->slots[i] - 1;
		if (strncmp(have, id, len) == 0 && have[len] == '\0')
			return i;
		i = (i + 1) & (s->nslots - 1);
	}
	return i;
}

static bool idset_has(const struct idset *s, const char *id, size_t len)
{
	return s->nslots && s->slots[slot_of(s, id, len)];
}

static int grow_slots(struct idset *s)
{
	size_t n = s->nslots ? s->nslots * 2 : 1024;
	uint32_t *old = s->slots;
	size_t oldn = s->nslots;
	if (!(s->slots = calloc(n, sizeof *s->slots))) {
		s->slots = old;
		return -ENOMEM;
	}
	s->nslots = n;
	for (size_t i = 0; i < oldn; i++)
		if (old[i]) {
			const char *id = s->arena + old[i] - 1;
			s->slots[slot_of(s, id, strlen(id))] = old[i];
		}
	free(old);
	return 0;
}

/* Adds id. Returns 0, -ENOSPC past ACCOUNT_MAX_IDS, or -ENOMEM. */
static int idset_add(struct idset *s, const char *id, size_t len)
{
	if (idset_has(s, id, len))
		return 0;
	if (s->n >= ACCOUNT_MAX_IDS)
		return -ENOSPC;
	if ((s->n + 1) * 2 > s->nslots && grow_slots(s) < 0)
		return -ENOMEM;
	if (s->used + len + 1 > s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 65536;
		while (cap < s->used + len + 1)
			cap *= 2;
		char *a = realloc(s->arena, cap);
		if (!a)
			return -ENOMEM;
		s->arena = a;
		s->cap = cap;
	}
	memcpy(s->arena + s->used, id, len);
	s->arena[s->used + len] = '\0';
	s->slots[slot_of(s, id, len)] = (uint32_t)(s->used + 1);
	s->used += len + 1;
	s->n++;
	return 0;
}

/* What one ledger or record line says, as far as accounting goes. */
struct line {
	char id[ID_MAX];
	char addr[ID_MAX];   /* "@" + the probe socket's address: a record's `local`, a proxy
			      * line's `client_peer` ("" none) */
	bool has_id, other_run, reused, reached;
};

static const char *const reached_phases[] = {"first_byte", "headers", "body", "fin", "done"};

static bool str_is(json_t *o, const char *key, const char *want)
{
	const char *v = json_string_value(json_object_get(o, key));
	return v && strcmp(v, want) == 0;
}

/* Parses one line (a post-run pass, not a hot path: a small tree per line is fine).
 * Returns 0, or -EINVAL when it is not a JSON object. */
static int parse_line(const char *buf, size_t len, const char *run_id, struct line *l)
{
	memset(l, 0, sizeof *l);
	json_t *o = json_loadb(buf, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return -EINVAL;
	}
	const char *id = json_string_value(json_object_get(o, "id"));
	if (id && *id && strlen(id) < sizeof l->id) {
		strcpy(l->id, id);
		l->has_id = true;
	}
	const char *addr = json_string_value(json_object_get(o, "local"));
	if (!addr)
		addr = json_string_value(json_object_get(o, "client_peer"));
	if (addr && *addr && strlen(addr) + 1 < sizeof l->addr)
		snprintf(l->addr, sizeof l->addr, "@%s", addr);
	const char *run = json_string_value(json_object_get(o, "run"));
	l->other_run = run_id && run && strcmp(run, run_id) != 0;
	l->reused = json_is_true(json_object_get(o, "reused"));
	l->reached = str_is(o, "class", "ok");
	for (size_t i = 0; i < sizeof reached_phases / sizeof reached_phases[0]; i++)
		l->reached |= str_is(o, "phase", reached_phases[i]);
	json_decref(o);
	return 0;
}

typedef int (*line_fn)(void *ctx, const struct line *l);

struct each {
	const char *run_id;
	line_fn fn;
	void *ctx;
};

static int one_line(void *ctx, const char *buf, size_t len)
{
	struct each *e = ctx;
	struct line l;
	if (parse_line(buf, len, e->run_id, &l) < 0)
		return -EINVAL;
	return l.other_run ? 0 : e->fn(e->ctx, &l);
}

/* Calls fn for every line of DIR/name of this run. Returns 0, -ENOENT (no file),
 * -EINVAL (an unreadable line), or what fn returned when it failed. */
static int each_line(const char *dir, const char *name, const char *run_id, line_fn fn, void *ctx)
{
	char path[PATH_MAX];
	struct each e = {.run_id = run_id, .fn = fn, .ctx = ctx};
	if (rundir_path(path, sizeof path, dir, name) < 0)
		return -ENOENT;
	return jsonl_each(path, ACCOUNT_LINE_MAX, one_line, &e);
}

static int add_ledger_id(void *ctx, const struct line *l)
{
	return l->has_id ? idset_add(ctx, l->id, strlen(l->id)) : 0;
}

/* A proxy line: its id, and its client address, which names a tunnel whose request
 * id the proxy could not see (a CONNECT without X-Probe-Id, SOCKS5). */
static int add_proxy_line(void *ctx, const struct line *l)
{
	int rc = add_ledger_id(ctx, l);
	if (rc == 0 && l->addr[0])
		rc = idset_add(ctx, l->addr, strlen(l->addr));
	return rc;
}

struct tally {
	struct account *a;
	struct idset *origin, *proxy, *records;
};

static void missing(struct account *a, const char *id)
{
	if (!a->example[0])
		snprintf(a->example, sizeof a->example, "%s", id);
}

static int tally_record(void *ctx, const struct line *l)
{
	struct tally *t = ctx;
	struct account *a = t->a;
	if (!l->has_id)
		return -EINVAL; /* every record has an id */
	a->records++;
	int rc = idset_add(t->records, l->id, strlen(l->id));
	if (!l->reached)
		return rc;
	a->want_origin++;
	if (!idset_has(t->origin, l->id, strlen(l->id))) {
		a->missing_origin++;
		missing(a, l->id);
	}
	if (a->proxy_checked && !l->reused) {
		a->want_proxy++;
		if (!idset_has(t->proxy, l->id, strlen(l->id)) &&
		    !(l->addr[0] && idset_has(t->proxy, l->addr, strlen(l->addr)))) {
			a->missing_proxy++;
			missing(a, l->id);
		}
	}
	return rc;
}

/* Ledger ids no record has. */
static void unknown_ids(struct account *a, const struct idset *ledger, const struct idset *records)
{
	for (size_t i = 0; i < ledger->nslots; i++) {
		if (!ledger->slots[i])
			continue;
		const char *id = ledger->arena + ledger->slots[i] - 1;
		if (id[0] != '@' && !idset_has(records, id, strlen(id))) {
			a->unknown_ids++;
			missing(a, id);
		}
	}
}

static void unknown_because(struct account *a, const char *name, int rc)
{
	a->known = false;
	snprintf(a->why, sizeof a->why, "%s %s", name,
		 rc == -ENOENT ? "missing" : rc == -ENOSPC ? "has too many ids to check" :
		 rc == -ENOMEM ? "too large for memory" : "has an unreadable line");
}

int account_run(const char *dir, const char *run_id, bool with_proxy, struct account *a)
{
	struct idset origin = {0}, proxy = {0}, records = {0};
	struct tally t = {.a = a, .origin = &origin, .proxy = &proxy, .records = &records};
	int rc;
	memset(a, 0, sizeof *a);
	a->known = true;
	if ((rc = each_line(dir, "origin.jsonl", run_id, add_ledger_id, &origin)) < 0) {
		unknown_because(a, "the origin ledger", rc);
		goto out;
	}
	if (with_proxy) {
		if ((rc = each_line(dir, "proxy.jsonl", run_id, add_proxy_line, &proxy)) < 0) {
			unknown_because(a, "the proxy ledger", rc);
			goto out;
		}
		a->proxy_checked = proxy.n > 0;
	}
	if ((rc = each_line(dir, "records.jsonl", run_id, tally_record, &t)) < 0) {
		unknown_because(a, "the probe records", rc);
		goto out;
	}
	if (a->records == 0) {
		a->known = false;
		snprintf(a->why, sizeof a->why, "no probe record");
		goto out;
	}
	unknown_ids(a, &origin, &records);
	unknown_ids(a, &proxy, &records);
	rc = 0;
out:
	idset_free(&origin);
	idset_free(&proxy);
	idset_free(&records);
	return rc == -ENOMEM ? rc : 0;
}

bool account_ok(const struct account *a)
{
	return a->known && !a->missing_origin && !a->missing_proxy && !a->unknown_ids;
}

void account_text(const struct account *a, char *out, size_t cap)
{
	if (!a->known) {
		snprintf(out, cap, "unknown (%s)", a->why);
		return;
	}
	unsigned long long origin_have = a->want_origin - a->missing_origin;
	int n = snprintf(out, cap, "%llu requests; %llu/%llu that reached the origin in its ledger",
			 (unsigned long long)a->records, origin_have, (unsigned long long)a->want_origin);
	if (n >= 0 && (size_t)n < cap && a->proxy_checked)
		n += snprintf(out + n, cap - (size_t)n, "; %llu/%llu tunnels in the proxy ledger",
			      (unsigned long long)(a->want_proxy - a->missing_proxy),
			      (unsigned long long)a->want_proxy);
	if (n >= 0 && (size_t)n < cap && a->unknown_ids)
		n += snprintf(out + n, cap - (size_t)n, "; %llu ledger ids no record has",
			      (unsigned long long)a->unknown_ids);
	if (n >= 0 && (size_t)n < cap && a->example[0])
		snprintf(out + n, cap - (size_t)n, " (e.g. %s)", a->example);
}
