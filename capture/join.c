/* join — see join.h. */
#include "capture/join.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/ledger.h"

static const char *const codes[V_COUNT] = {
	[V_OK] = "ok",
	[V_TRUNC_PROXY_CLIENT] = "truncated_proxy_client",
	[V_RESET_BY_PROXY] = "reset_by_proxy",
	[V_TRUNC_ORIGIN_PROXY] = "truncated_origin_proxy",
	[V_RESET_BY_ORIGIN] = "reset_by_origin",
	[V_RESET_UPSTREAM_BY_PROXY] = "reset_upstream_by_proxy",
	[V_LOST_GAP] = "lost_gap",
	[V_CLIENT_TIMEOUT] = "client_timeout",
	[V_NO_FIN] = "no_fin",
	[V_CLIENT_SHORT_READ] = "client_short_read",
	[V_RESET_BY_CLIENT] = "reset_by_client",
	[V_TLS_ALERT] = "tls_alert",
	[V_CLOSED_EARLY] = "closed_early",
	[V_FAILED] = "failed_unlocated",
	[V_FLOW_EARLY_FIN] = "early_fin",
	[V_FLOW_RESET] = "reset",
	[V_FLOW_TLS_TRUNCATION] = "tls_truncation",
	[V_FLOW_GAP] = "gap",
	[V_UNKNOWN] = "unknown",
};

const char *verdict_code(enum verdict v)
{
	return (unsigned)v < V_COUNT && codes[v] ? codes[v] : "unknown";
}

void ledgers_init(struct ledgers *l)
{
	memset(l, 0, sizeof *l);
}

void ledgers_free(struct ledgers *l)
{
	if (!l)
		return;
	free(l->probe);
	free(l->origin);
	free(l->proxy);
	memset(l, 0, sizeof *l);
}

static void str_field(json_t *o, const char *k, char *out, size_t outlen)
{
	const char *s = json_string_value(json_object_get(o, k));
	snprintf(out, outlen, "%s", s ? s : "");
}

static long long int_field(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	if (json_is_integer(v))
		return (long long)json_integer_value(v);
	if (json_is_real(v))
		return (long long)json_real_value(v);
	return JOIN_UNKNOWN;
}

static bool bool_field(json_t *o, const char *k)
{
	return json_is_true(json_object_get(o, k));
}

static double real_field(json_t *o, const char *k)
{
	return json_number_value(json_object_get(o, k));
}

/* Grows an array of elem-sized items by one; returns the new slot or NULL. */
static void *grow(void **arr, size_t *n, size_t *cap, size_t elem)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		void *na = realloc(*arr, nc * elem);
		if (!na)
			return NULL;
		*arr = na;
		*cap = nc;
	}
	void *slot = (char *)*arr + (*n)++ * elem;
	memset(slot, 0, elem);
	return slot;
}

static void proxy_dir(json_t *o, struct jproxy_dir *d)
{
	d->received = int_field(o, "received");
	d->sent = int_field(o, "sent");
	d->short_sends = int_field(o, "short_sends");
	d->dropped = int_field(o, "dropped");
}

bool ledgers_add(struct ledgers *l, json_t *o)
{
	if (!json_is_object(o))
		return false;
	if (json_object_get(o, "bytes_expected") && json_object_get(o, "class")) {
		struct jprobe *r = grow((void **)&l->probe, &l->nprobe, &l->probe_cap, sizeof *r);
		if (!r)
			return false;
		str_field(o, "id", r->id, sizeof r->id);
		str_field(o, "local", r->local, sizeof r->local);
		str_field(o, "remote", r->remote, sizeof r->remote);
		str_field(o, "class", r->cls, sizeof r->cls);
		str_field(o, "phase", r->phase, sizeof r->phase);
		str_field(o, "detail", r->detail, sizeof r->detail);
		r->expected = int_field(o, "bytes_expected");
		r->received = int_field(o, "bytes_received");
		r->wire_received = int_field(o, "wire_received");
		r->sent = int_field(o, "bytes_sent");
		r->status = (int)int_field(o, "status");
		r->t = real_field(o, "t");
		return true;
	}
	if (json_object_get(o, "bytes_written")) {
		struct jorigin *r = grow((void **)&l->origin, &l->norigin, &l->origin_cap, sizeof *r);
		if (!r)
			return false;
		str_field(o, "id", r->id, sizeof r->id);
		str_field(o, "peer", r->peer, sizeof r->peer);
		str_field(o, "local", r->local, sizeof r->local);
		str_field(o, "end", r->end, sizeof r->end);
		r->bytes_written = int_field(o, "bytes_written");
		r->bytes_received = int_field(o, "bytes_received");
		r->body_bytes = int_field(o, "body_bytes");
		r->acked_close = int_field(o, "bytes_acked_at_close");
		r->acked_after = int_field(o, "bytes_acked_after_response");
		r->rst_received = bool_field(o, "rst_received");
		r->fin_sent = bool_field(o, "fin_sent");
		r->t = real_field(o, "t");
		return true;
	}
	if (json_object_get(o, "kind") && json_is_object(json_object_get(o, "down"))) {
		struct jproxy *r = grow((void **)&l->proxy, &l->nproxy, &l->proxy_cap, sizeof *r);
		if (!r)
			return false;
		str_field(o, "id", r->id, sizeof r->id);
		str_field(o, "kind", r->kind, sizeof r->kind);
		str_field(o, "client_peer", r->client_peer, sizeof r->client_peer);
		str_field(o, "client_local", r->client_local, sizeof r->client_local);
		str_field(o, "upstream_local", r->upstream_local, sizeof r->upstream_local);
		str_field(o, "upstream_peer", r->upstream_peer, sizeof r->upstream_peer);
		str_field(o, "first_close", r->first_close, sizeof r->first_close);
		str_field(o, "client_end", r->client_end, sizeof r->client_end);
		str_field(o, "upstream_end", r->upstream_end, sizeof r->upstream_end);
		str_field(o, "fault", r->fault, sizeof r->fault);
		proxy_dir(json_object_get(o, "down"), &r->down);
		proxy_dir(json_object_get(o, "up"), &r->up);
		r->shut_client = bool_field(o, "shutdown_write_client");
		r->shut_upstream = bool_field(o, "shutdown_write_upstream");
		r->t = real_field(o, "t");
		return true;
	}
	return false;
}

int ledgers_load(struct ledgers *l, const char *path)
{
	FILE *fp = fopen(path, "r");
	if (!fp)
		return -errno;
	/* A run.json is one object; its "failures" are probe records. */
	json_error_t jerr;
	json_t *whole = json_loadf(fp, JSON_DISABLE_EOF_CHECK, &jerr);
	if (whole && json_is_object(whole) && json_object_get(whole, "schema")) {
		json_t *fails = json_object_get(whole, "failures");
		size_t i;
		json_t *v;
		json_array_foreach(fails, i, v)
			if (!ledgers_add(l, v))
				l->bad_lines++;
		json_decref(whole);
		fclose(fp);
		return 0;
	}
	json_decref(whole);
	rewind(fp);
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	while ((n = getline(&line, &cap, fp)) > 0) {
		if (n > 1 << 20) { /* no ledger line is that long */
			l->bad_lines++;
			continue;
		}
		size_t k = (size_t)n;
		while (k && (line[k - 1] == '\n' || line[k - 1] == '\r' || line[k - 1] == ' '))
			k--;
		if (!k)
			continue;
		json_t *o = json_loadb(line, k, 0, &jerr);
		if (!o || !ledgers_add(l, o))
			l->bad_lines++;
		json_decref(o);
	}
	free(line);
	int rc = ferror(fp) ? -EIO : 0;
	fclose(fp);
	return rc;
}

/* Flows by originator address, for the joins. */
struct flow_ref {
	char addr[64];
	struct flow *f;
};

static int ref_cmp(const void *a, const void *b)
{
	return strcmp(((const struct flow_ref *)a)->addr, ((const struct flow_ref *)b)->addr);
}

/* The flow whose originator is addr, closest in time to t (0: any). */
static struct flow *find_flow(const struct flow_ref *refs, size_t n, const char *addr, double t)
{
	if (!addr[0] || !n)
		return NULL;
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (strcmp(refs[mid].addr, addr) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	struct flow *best = NULL;
	for (size_t i = lo; i < n && strcmp(refs[i].addr, addr) == 0; i++) {
		struct flow *f = refs[i].f;
		if (!best || (t > 0 && f->t_first <= t + 1.0 && f->t_first > best->t_first))
			best = f;
	}
	return best;
}

/* Bytes a leg carried toward the client (down) or the origin (up), in the unit the
 * two legs share: tunnel bytes after a CONNECT exchange, HTTP body bytes when the
 * proxy rewrites heads (plain forwarding), raw stream bytes otherwise. */
static long long leg_bytes(const struct flow *f, int dir)
{
	const struct flow_dir *d = &f->dir[dir];
	uint64_t total = flow_dir_bytes(d);
	if (d->http.mode == HS_TUNNEL)
		return (long long)(total >= d->http.tunnel_off ? total - d->http.tunnel_off : 0);
	if (d->http.mode == HS_RESPONSES || d->http.mode == HS_REQUESTS)
		return (long long)d->http.body_bytes;
	return (long long)total;
}

static uint64_t tunnel_prefix(const struct flow_dir *d)
{
	return d->http.mode == HS_TUNNEL ? d->http.tunnel_off : 0;
}

static void chain_init(struct chain *c)
{
	c->expected = c->origin_wrote = c->origin_leg = JOIN_UNKNOWN;
	c->proxy_received = c->proxy_sent = c->client_leg = c->probe_read = JOIN_UNKNOWN;
}

static long long add_known(long long acc, long long v)
{
	if (v < 0)
		return acc;
	return acc < 0 ? v : acc + v;
}

static void set_verdict(struct tunnel *t, enum verdict v, long long off, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void set_verdict(struct tunnel *t, enum verdict v, long long off, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	t->verdict = v;
	t->offset = off;
	vsnprintf(t->text, sizeof t->text, fmt, ap);
	va_end(ap);
}

/* The verdict from the capture's flows (and the ledgers' claims). Returns true when
 * one was set. */
static bool judge_wire(struct tunnel *t, bool failed, const char *cls)
{
	struct flow *cf = t->client_flow, *of = t->origin_flow;
	/* When the proxy ended the client leg; origin-leg events after it are consequences
	 * (a proxy that closes the client side often resets the upstream next). */
	double client_end = 0;
	if (cf) {
		const struct flow_dir *x = &cf->dir[1];
		client_end = x->fin_t && (!x->rst_t || x->fin_t < x->rst_t) ? x->fin_t : x->rst_t;
		if (cf->dir[0].rst_t && (!client_end || cf->dir[0].rst_t < client_end))
			client_end = cf->dir[0].rst_t;
	}
#define BEFORE_CLIENT_END(when) ((when) && (!client_end || (when) <= client_end))
	if (of) {
		const struct flow_dir *od = &of->dir[1], *pu = &of->dir[0];
		long long O = leg_bytes(of, 1);
		bool client_reset_first = cf && cf->dir[0].rst_t &&
					  (!pu->rst_t || cf->dir[0].rst_t <= pu->rst_t);
		if (BEFORE_CLIENT_END(od->rst_t)) {
			set_verdict(t, V_RESET_BY_ORIGIN, O, "reset by origin (origin leg, after %lld bytes)", O);
			return true;
		}
		if (BEFORE_CLIENT_END(pu->rst_t) && !client_reset_first) {
			set_verdict(t, V_RESET_UPSTREAM_BY_PROXY, O,
				    "reset by proxy on the origin leg (after %lld bytes)", O);
			return true;
		}
		if (BEFORE_CLIENT_END(od->fin_t) && od->early_fin) {
			long long at = (long long)(od->r.fin_off - tunnel_prefix(od));
			set_verdict(t, V_TRUNC_ORIGIN_PROXY, at,
				    "truncated at origin→proxy (early FIN by origin at byte %lld)", at);
			return true;
		}
		if (od->r.bytes_missed && (!cf || leg_bytes(cf, 1) < O)) {
			set_verdict(t, V_LOST_GAP, (long long)od->r.bytes_missed,
				    "lost on the wire (gap of %llu bytes on the origin leg)",
				    (unsigned long long)od->r.bytes_missed);
			return true;
		}
	}
#undef BEFORE_CLIENT_END
	if (!cf)
		return false;
	const struct flow_dir *cd = &cf->dir[1], *cu = &cf->dir[0];
	long long C = leg_bytes(cf, 1);
	bool shortfall = (of && C < leg_bytes(of, 1)) ||
			 (cd->fin_t && (cf->flags & (FLOW_F_EARLY_FIN | FLOW_F_TLS_TRUNCATION))) ||
			 (t->down.expected >= 0 && t->down.probe_read >= 0 &&
			  t->down.probe_read < t->down.expected) ||
			 (t->proxy && t->proxy->down.received >= 0 &&
			  t->proxy->down.sent < t->proxy->down.received);
	bool client_reset_first = cu->rst_t && (!cd->rst_t || cu->rst_t < cd->rst_t);
	if (cd->rst_t && !client_reset_first) {
		set_verdict(t, V_RESET_BY_PROXY, C, "reset by proxy (client leg, at byte %lld)", C);
		return true;
	}
	if (cd->fin_t && (!cu->fin_t || cd->fin_t <= cu->fin_t || shortfall) && shortfall &&
	    !client_reset_first) {
		long long at = (long long)cd->r.fin_off - (long long)tunnel_prefix(cd);
		if (at < 0)
			at = 0;
		if (at == 0 && cd->http.mode == HS_TUNNEL)
			set_verdict(t, V_CLOSED_EARLY, 0,
				    "proxy closed the tunnel after accepting it (early FIN by proxy at byte 0)");
		else
			set_verdict(t, V_TRUNC_PROXY_CLIENT, at,
				    "truncated at proxy→client (early FIN by proxy at byte %lld)", at);
		return true;
	}
	if (cd->r.bytes_missed && shortfall) {
		set_verdict(t, V_LOST_GAP, (long long)cd->r.bytes_missed,
			    "lost on the wire (gap of %llu bytes on the client leg)",
			    (unsigned long long)cd->r.bytes_missed);
		return true;
	}
	if (failed && strcmp(cls, "timeout") == 0) {
		if (!cd->fin_t && !cd->rst_t && !shortfall)
			set_verdict(t, V_NO_FIN, C,
				    "client gave up (timeout): all %lld bytes arrived but the proxy never sent FIN", C);
		else
			set_verdict(t, V_CLIENT_TIMEOUT, C,
				    "client gave up (timeout) after %lld bytes on the client leg", C);
		return true;
	}
	if (failed && client_reset_first) {
		set_verdict(t, V_RESET_BY_CLIENT, C, "reset by client (after %lld bytes)", C);
		return true;
	}
	if (failed && strcmp(cls, "tls_alert") == 0) {
		set_verdict(t, V_TLS_ALERT, C, "TLS alert ended the tunnel (%s)",
			    t->first_failed ? t->first_failed->detail : "");
		return true;
	}
	if (failed && t->down.probe_read >= 0 && t->first_failed &&
	    t->first_failed->wire_received >= 0 && (uint64_t)t->first_failed->wire_received <
	    flow_dir_bytes(cd) - tunnel_prefix(cd)) {
		set_verdict(t, V_CLIENT_SHORT_READ, t->first_failed->wire_received,
			    "the wire carried %lld bytes to the client, the probe read %lld",
			    C, t->first_failed->wire_received);
		return true;
	}
	return false;
}

/* The verdict from ledgers alone (no capture, or the capture said nothing). */
static bool judge_ledgers(struct tunnel *t, const struct jprobe *r)
{
	const struct jorigin *o = t->origin;
	const struct jproxy *p = t->proxy;
	if (p && p->down.received >= 0 && p->down.sent >= 0 && p->down.sent < p->down.received) {
		if (strcmp(p->client_end, "local_rst") == 0)
			set_verdict(t, V_RESET_BY_PROXY, p->down.sent,
				    "reset by proxy (proxy ledger: sent %lld of %lld bytes)",
				    p->down.sent, p->down.received);
		else
			set_verdict(t, V_TRUNC_PROXY_CLIENT, p->down.sent,
				    "truncated at proxy→client (early FIN by proxy at byte %lld; proxy "
				    "ledger: sent %lld of %lld)", p->down.sent, p->down.sent, p->down.received);
		return true;
	}
	if (!r)
		return false;
	if (o && (strcmp(o->end, "rst") == 0 || o->rst_received)) {
		set_verdict(t, V_RESET_UPSTREAM_BY_PROXY, o->bytes_written,
			    "reset by proxy on the origin leg (origin saw RST after writing %lld bytes)",
			    o->bytes_written);
		return true;
	}
	if (strcmp(r->cls, "incomplete_read") == 0 || strcmp(r->cls, "reset") == 0) {
		bool origin_done = o && o->body_bytes >= 0 && r->expected >= 0 &&
				   o->body_bytes >= r->expected &&
				   (o->acked_close >= o->bytes_written || o->acked_after >= o->bytes_written);
		if (origin_done || (o && !o->rst_received)) {
			if (strcmp(r->cls, "reset") == 0)
				set_verdict(t, V_RESET_BY_PROXY, r->received,
					    "reset by proxy (probe read %lld of %lld; the origin wrote all)",
					    r->received, r->expected);
			else
				set_verdict(t, V_TRUNC_PROXY_CLIENT, r->received,
					    "truncated at proxy→client (early FIN by proxy at body byte %lld; "
					    "the origin wrote %lld bytes%s)", r->received, o->bytes_written,
					    origin_done ? " and the proxy acknowledged them" : "");
			return true;
		}
	}
	if (strcmp(r->cls, "timeout") == 0) {
		set_verdict(t, V_CLIENT_TIMEOUT, r->received, "client gave up (timeout in %s)", r->phase);
		return true;
	}
	return false;
}

static void judge(struct tunnel *t)
{
	const struct jprobe *r = t->first_failed;
	bool failed = t->nfailed > 0;
	const char *cls = r ? r->cls : "ok";
	if (judge_wire(t, failed, cls) || judge_ledgers(t, failed ? r : NULL))
		return;
	if (failed) {
		set_verdict(t, V_FAILED, r->received, "%s in %s (%s): no hop could be named from the inputs",
			    r->cls, r->phase, r->detail);
		return;
	}
	if (t->client_flow && (t->client_flow->flags & (FLOW_F_GAP | FLOW_F_EARLY_FIN))) {
		long long off;
		char text[200];
		enum verdict v = flow_verdict(t->client_flow, text, sizeof text, &off);
		set_verdict(t, v, off, "%s", text);
		return;
	}
	set_verdict(t, V_OK, -1, "ok");
}

static void fill_chains(struct tunnel *t, const struct ledgers *l, const char *local)
{
	chain_init(&t->down);
	chain_init(&t->up);
	for (size_t i = 0; i < l->nprobe; i++) {
		const struct jprobe *r = &l->probe[i];
		if (strcmp(r->local, local) != 0)
			continue;
		t->down.expected = add_known(t->down.expected, r->expected);
		t->down.probe_read = add_known(t->down.probe_read, r->received);
		t->up.probe_read = add_known(t->up.probe_read, r->sent);
		for (size_t k = 0; k < l->norigin; k++) {
			const struct jorigin *o = &l->origin[k];
			if (r->id[0] && strcmp(o->id, r->id) == 0) {
				t->down.origin_wrote = add_known(t->down.origin_wrote, o->bytes_written);
				t->up.origin_wrote = add_known(t->up.origin_wrote, o->bytes_received);
				t->origin = o;
			}
		}
	}
	if (t->proxy) {
		t->down.proxy_received = t->proxy->down.received;
		t->down.proxy_sent = t->proxy->down.sent;
		t->up.proxy_received = t->proxy->up.received;
		t->up.proxy_sent = t->proxy->up.sent;
	}
	if (t->client_flow) {
		t->down.client_leg = leg_bytes(t->client_flow, 1);
		t->up.client_leg = leg_bytes(t->client_flow, 0);
	}
	if (t->origin_flow) {
		t->down.origin_leg = leg_bytes(t->origin_flow, 1);
		t->up.origin_leg = leg_bytes(t->origin_flow, 0);
	}
}

int join_build(struct join *j, const struct ledgers *l, struct flow_table *flows)
{
	memset(j, 0, sizeof *j);
	struct flow_ref *refs = NULL;
	size_t nrefs = flows ? flows->n : 0;
	size_t cap = 0;
	int rc = 0;
	if (nrefs) {
		refs = calloc(nrefs, sizeof *refs);
		if (!refs)
			return -ENOMEM;
		for (size_t i = 0; i < nrefs; i++) {
			refs[i].f = flows->flows[i];
			flow_end_format(refs[i].f, 0, refs[i].addr, sizeof refs[i].addr);
		}
		qsort(refs, nrefs, sizeof *refs, ref_cmp);
	}
	/* One tunnel per client connection: probe records grouped by local address, then
	 * proxy ledger lines no probe record claimed. */
	size_t nsrc = l->nprobe + l->nproxy;
	for (size_t i = 0; i < nsrc; i++) {
		const struct jprobe *r = i < l->nprobe ? &l->probe[i] : NULL;
		const struct jproxy *px = r ? NULL : &l->proxy[i - l->nprobe];
		const char *local = r ? r->local : px->client_peer;
		struct tunnel *t = NULL;
		for (size_t k = 0; k < j->n; k++)
			if (local[0] && strcmp(j->t[k].local, local) == 0)
				t = &j->t[k];
		if (px && t)
			continue;
		if (!t) {
			if (j->n == cap) {
				size_t nc = cap ? cap * 2 : 64;
				struct tunnel *nt = realloc(j->t, nc * sizeof *nt);
				if (!nt) {
					rc = -ENOMEM;
					goto out;
				}
				j->t = nt;
				cap = nc;
			}
			t = &j->t[j->n++];
			memset(t, 0, sizeof *t);
			snprintf(t->local, sizeof t->local, "%s", local);
			snprintf(t->id, sizeof t->id, "%s", r ? r->id : px->id);
		}
		if (r) {
			t->nrequests++;
			if (strcmp(r->cls, "ok") != 0 && t->nfailed++ == 0)
				t->first_failed = r;
		} else {
			t->proxy = px;
		}
	}
	for (size_t k = 0; k < j->n; k++) {
		struct tunnel *t = &j->t[k];
		double when = 0;
		for (size_t i = 0; i < l->nprobe && !when; i++)
			if (strcmp(l->probe[i].local, t->local) == 0)
				when = l->probe[i].t;
		for (size_t i = 0; i < l->nproxy && !t->proxy; i++)
			if (strcmp(l->proxy[i].client_peer, t->local) == 0)
				t->proxy = &l->proxy[i];
		fill_chains(t, l, t->local);
		t->client_flow = find_flow(refs, nrefs, t->local, when);
		const char *up = t->origin ? t->origin->peer : t->proxy ? t->proxy->upstream_local : "";
		t->origin_flow = find_flow(refs, nrefs, up, when);
		if (t->origin_flow == t->client_flow)
			t->origin_flow = NULL; /* a direct run: the one flow is the client leg */
		fill_chains(t, l, t->local);
		if (t->client_flow)
			j->flows_in_tunnels++;
		if (t->origin_flow)
			j->flows_in_tunnels++;
		judge(t);
		j->counts[t->verdict]++;
	}
out:
	free(refs);
	return rc;
}

void join_free(struct join *j)
{
	if (!j)
		return;
	free(j->t);
	memset(j, 0, sizeof *j);
}

enum verdict flow_verdict(const struct flow *f, char *text, size_t textlen, long long *offset)
{
	const struct flow_dir *o = &f->dir[0], *r = &f->dir[1];
	*offset = -1;
	for (int i = 1; i >= 0; i--) {
		const struct flow_dir *d = &f->dir[i];
		const char *who = i ? "responder" : "originator";
		if (d->rst_t && !(f->dir[1 - i].rst_t && f->dir[1 - i].rst_t < d->rst_t)) {
			*offset = (long long)flow_dir_bytes(d);
			snprintf(text, textlen, "reset by %s (after %lld bytes from it)", who, *offset);
			return V_FLOW_RESET;
		}
	}
	for (int i = 1; i >= 0; i--) {
		const struct flow_dir *d = &f->dir[i];
		if (d->fin_t && d->early_fin) {
			*offset = (long long)d->r.fin_off;
			if (d->early_fin_expected != UINT64_MAX)
				snprintf(text, textlen,
					 "early FIN by %s at byte %lld (HTTP framing expected %llu)",
					 i ? "responder" : "originator", *offset,
					 (unsigned long long)d->early_fin_expected);
			else
				snprintf(text, textlen, "early FIN by %s at byte %lld (inside a chunked body)",
					 i ? "responder" : "originator", *offset);
			return V_FLOW_EARLY_FIN;
		}
	}
	if (o->r.bytes_missed || r->r.bytes_missed) {
		*offset = (long long)(o->r.bytes_missed + r->r.bytes_missed);
		snprintf(text, textlen, "gap: %lld bytes missing from the capture", *offset);
		return V_FLOW_GAP;
	}
	for (int i = 1; i >= 0; i--) {
		const struct flow_dir *d = &f->dir[i];
		const struct tlsrec_alert *al = &d->tls.last_alert;
		if (d->tls.alerts && !al->encrypted && al->level == 2) {
			char nb[16];
			*offset = (long long)al->off;
			snprintf(text, textlen, "TLS alert from %s: fatal %s",
				 i ? "responder" : "originator", tlsrec_alert_name(al->desc, nb, sizeof nb));
			return V_TLS_ALERT;
		}
	}
	for (int i = 1; i >= 0; i--) {
		const struct flow_dir *d = &f->dir[i];
		if (d->tls_truncated) {
			*offset = (long long)d->r.fin_off;
			snprintf(text, textlen, "TLS truncation candidate: FIN by %s at byte %lld %s",
				 i ? "responder" : "originator", *offset,
				 d->tls_close == TLSREC_CLOSE_MID_RECORD ? "inside a TLS record" :
									   "without close_notify");
			return V_FLOW_TLS_TRUNCATION;
		}
	}
	snprintf(text, textlen, "ok");
	return V_OK;
}
