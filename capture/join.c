/* join — see join.h. */
#include "capture/join.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- sorted indexes: lines by a string key (then a number, then input order) ---- */

struct ref {
	const char *key;
	long long aux;
	size_t idx;
};

static int ref_cmp(const void *a, const void *b)
{
	const struct ref *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	if (c)
		return c;
	if (x->aux != y->aux)
		return x->aux < y->aux ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* The first ref with key (and aux, unless any_aux), or n. */
static size_t ref_find(const struct ref *refs, size_t n, const char *key, long long aux, bool any_aux)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(refs[mid].key, key);
		if (c == 0 && !any_aux && refs[mid].aux != aux)
			c = refs[mid].aux < aux ? -1 : 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < n && strcmp(refs[lo].key, key) == 0 && (any_aux || refs[lo].aux == aux))
		return lo;
	return n;
}

/* The indexes the join looks things up in, built once. */
struct index {
	struct ref *origin_id;    /* origin lines by id (lines without one left out) */
	size_t norigin_id;
	struct ref *origin_conn;  /* origin lines by peer, conn */
	struct ref *proxy_id;     /* forward proxy lines by id */
	size_t nproxy_id;
	struct ref *flows;        /* flows by originator address */
	size_t nflows;
	char (*flow_addr)[64];
	char prefixes[32][16];    /* id prefixes the origin ledger saw (first dash field) */
	double latest_t;          /* the latest start of a request in the origin ledger */
	size_t nprefixes;
	bool many_prefixes;       /* more than fit: every prefix counts as seen */
};

static void index_free(struct index *x)
{
	free(x->origin_id);
	free(x->origin_conn);
	free(x->proxy_id);
	free(x->flows);
	free(x->flow_addr);
}

/* The id's first dash-separated field (the probe's per-run prefix). */
static void id_prefix(const char *id, char out[16])
{
	size_t n = strcspn(id, "-");
	n = n < 15 ? n : 15;
	memcpy(out, id, n);
	out[n] = '\0';
}

static void note_prefix(struct index *x, const char *id)
{
	char p[16];
	id_prefix(id, p);
	for (size_t i = 0; i < x->nprefixes; i++)
		if (strcmp(x->prefixes[i], p) == 0)
			return;
	if (x->nprefixes == sizeof x->prefixes / sizeof x->prefixes[0]) {
		x->many_prefixes = true;
		return;
	}
	memcpy(x->prefixes[x->nprefixes++], p, sizeof p);
}

static int index_build(struct index *x, const struct ledgers *l, struct flow_table *flows)
{
	memset(x, 0, sizeof *x);
	x->origin_id = calloc(l->norigin + 1, sizeof *x->origin_id);
	x->origin_conn = calloc(l->norigin + 1, sizeof *x->origin_conn);
	x->proxy_id = calloc(l->nproxy + 1, sizeof *x->proxy_id);
	x->nflows = flows ? flows->n : 0;
	x->flows = calloc(x->nflows + 1, sizeof *x->flows);
	x->flow_addr = calloc(x->nflows + 1, sizeof *x->flow_addr);
	if (!x->origin_id || !x->origin_conn || !x->proxy_id || !x->flows || !x->flow_addr)
		return -ENOMEM;
	for (size_t i = 0; i < l->norigin; i++) {
		const struct jorigin *o = &l->origin[i];
		x->origin_conn[i] = (struct ref){o->peer, o->conn, i};
		if (o->t > x->latest_t)
			x->latest_t = o->t;
		if (o->id[0]) {
			x->origin_id[x->norigin_id++] = (struct ref){o->id, 0, i};
			note_prefix(x, o->id);
		}
	}
	for (size_t i = 0; i < l->nproxy; i++)
		if (l->proxy[i].id[0] && strcmp(l->proxy[i].kind, "forward") == 0)
			x->proxy_id[x->nproxy_id++] = (struct ref){l->proxy[i].id, 0, i};
	for (size_t i = 0; i < x->nflows; i++) {
		flow_end_format(flows->flows[i], 0, x->flow_addr[i], sizeof x->flow_addr[i]);
		x->flows[i] = (struct ref){x->flow_addr[i], 0, i};
	}
	qsort(x->origin_id, x->norigin_id, sizeof *x->origin_id, ref_cmp);
	qsort(x->origin_conn, l->norigin, sizeof *x->origin_conn, ref_cmp);
	qsort(x->proxy_id, x->nproxy_id, sizeof *x->proxy_id, ref_cmp);
	qsort(x->flows, x->nflows, sizeof *x->flows, ref_cmp);
	return 0;
}

/* The flow whose originator is addr: the latest that started by t + 1 s (t 0: the first). */
static struct flow *find_flow(const struct index *x, struct flow_table *flows, const char *addr, double t)
{
	if (!addr[0] || !x->nflows)
		return NULL;
	struct flow *best = NULL;
	for (size_t i = ref_find(x->flows, x->nflows, addr, 0, true);
	     i < x->nflows && strcmp(x->flows[i].key, addr) == 0; i++) {
		struct flow *f = flows->flows[x->flows[i].idx];
		if (!best || (t > 0 && f->t_first <= t + 1.0 && f->t_first > best->t_first))
			best = f;
	}
	return best;
}

/* The line that ended o's connection (the last line of its peer and conn with an end). */
static const struct jorigin *origin_end(const struct index *x, const struct ledgers *l,
					const struct jorigin *o)
{
	const struct jorigin *end = NULL;
	for (size_t i = ref_find(x->origin_conn, l->norigin, o->peer, o->conn, false);
	     i < l->norigin && x->origin_conn[i].aux == o->conn &&
	     strcmp(x->origin_conn[i].key, o->peer) == 0; i++)
		if (l->origin[x->origin_conn[i].idx].has_end)
			end = &l->origin[x->origin_conn[i].idx];
	return end;
}

/* ---- chains ---- */

static void chain_init(struct chain *c)
{
	long long *all[] = {&c->expected, &c->probe_body, &c->origin_wrote, &c->origin_leg,
			    &c->proxy_received, &c->proxy_sent, &c->client_leg, &c->probe,
			    &c->wire.origin_acked, &c->wire.origin_leg, &c->wire.proxy_received,
			    &c->wire.proxy_sent, &c->wire.client_leg};
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		*all[i] = JOIN_UNKNOWN;
}

/* A sum that stays unknown once any part is: a partial total would hide the part. */
static long long add_all(long long acc, long long v, bool first)
{
	if (first)
		return v;
	return acc < 0 || v < 0 ? JOIN_UNKNOWN : acc + v;
}

static void request_chains(struct jrequest *q)
{
	const struct jprobe *r = q->probe;
	chain_init(&q->down);
	chain_init(&q->up);
	q->down.expected = r->expected;
	q->down.probe_body = r->received;
	q->down.probe = r->wire_received;
	q->up.probe = r->sent;
	if (q->origin) {
		q->down.origin_wrote = q->origin->bytes_written;
		q->up.origin_wrote = q->origin->bytes_received;
	}
	/* A forward proxy's line is this request's, in plain HTTP: message bytes and
	 * stream bytes alike. */
	if (q->proxy) {
		q->down.proxy_received = q->down.wire.proxy_received = q->proxy->down.received;
		q->down.proxy_sent = q->down.wire.proxy_sent = q->proxy->down.sent;
		q->up.proxy_received = q->up.wire.proxy_received = q->proxy->up.received;
		q->up.proxy_sent = q->up.wire.proxy_sent = q->proxy->up.sent;
	}
}

/* Stream bytes a leg carried one way, after the proxy's own CONNECT/SOCKS exchange. */
static long long leg_stream(const struct flow *f, int dir)
{
	const struct flow_dir *d = &f->dir[dir];
	uint64_t total = flow_dir_bytes(d), off = d->http.mode == HS_TUNNEL ? d->http.tunnel_off : 0;
	return (long long)(total >= off ? total - off : 0);
}

/* Whether a leg's stream bytes are application bytes too: plain HTTP, not TLS. */
static bool leg_plain(const struct flow *f, int dir)
{
	const struct flow_dir *d = &f->dir[dir];
	return d->http.mode == HS_REQUESTS || d->http.mode == HS_RESPONSES ||
	       (d->http.mode == HS_TUNNEL && d->tls.state == TLSREC_NOT_TLS);
}

static void leg_counts(const struct flow *f, int dir, long long *msg, long long *wire)
{
	if (!f)
		return;
	*wire = leg_stream(f, dir);
	if (leg_plain(f, dir))
		*msg = *wire;
}

/* What the origin's peer acknowledged: once per origin connection of the tunnel. */
static long long origin_acked(const struct join *j, const struct tunnel *t)
{
	const struct jorigin *seen[8];
	size_t nseen = 0;
	long long sum = JOIN_UNKNOWN;
	for (size_t i = 0; i < t->nrequests; i++) {
		const struct jrequest *q = &j->req[t->first + i];
		const struct jorigin *e = q->origin_end ? q->origin_end : q->origin;
		if (!e)
			continue;
		bool dup = false;
		for (size_t k = 0; k < nseen; k++)
			dup = dup || (seen[k]->conn == e->conn && strcmp(seen[k]->peer, e->peer) == 0);
		if (dup)
			continue;
		if (nseen == sizeof seen / sizeof seen[0])
			return JOIN_UNKNOWN; /* too many to tell apart */
		seen[nseen++] = e;
		sum = add_all(sum, e->has_end ? e->acked_close : e->acked_after, nseen == 1);
	}
	return sum;
}

/* The tunnel's totals: its requests' counts summed, and what the connection carried. */
static void tunnel_chains(const struct join *j, struct tunnel *t)
{
	chain_init(&t->down);
	chain_init(&t->up);
	for (size_t i = 0; i < t->nrequests; i++) {
		const struct jrequest *q = &j->req[t->first + i];
		struct chain *cs[2] = {&t->down, &t->up};
		const struct chain *qs[2] = {&q->down, &q->up};
		for (int d = 0; d < 2; d++) {
			cs[d]->expected = add_all(cs[d]->expected, qs[d]->expected, i == 0);
			cs[d]->probe_body = add_all(cs[d]->probe_body, qs[d]->probe_body, i == 0);
			cs[d]->origin_wrote = add_all(cs[d]->origin_wrote, qs[d]->origin_wrote, i == 0);
			cs[d]->probe = add_all(cs[d]->probe, qs[d]->probe, i == 0);
		}
	}
	const struct jproxy *p = t->proxy;
	if (p && strcmp(p->kind, "forward") != 0) {
		/* The tunnel's line counts the relayed stream: application bytes too when
		 * no TLS runs inside (a plain http URL through SOCKS5). */
		bool plain = t->nrequests && j->req[t->first].probe->plain;
		t->down.wire.proxy_received = p->down.received;
		t->down.wire.proxy_sent = p->down.sent;
		t->up.wire.proxy_received = p->up.received;
		t->up.wire.proxy_sent = p->up.sent;
		if (plain) {
			t->down.proxy_received = p->down.received;
			t->down.proxy_sent = p->down.sent;
			t->up.proxy_received = p->up.received;
			t->up.proxy_sent = p->up.sent;
		}
	} else if (t->nrequests) {
		for (size_t i = 0; i < t->nrequests; i++) {
			const struct jrequest *q = &j->req[t->first + i];
			t->down.proxy_received = add_all(t->down.proxy_received, q->down.proxy_received, i == 0);
			t->down.proxy_sent = add_all(t->down.proxy_sent, q->down.proxy_sent, i == 0);
			t->up.proxy_received = add_all(t->up.proxy_received, q->up.proxy_received, i == 0);
			t->up.proxy_sent = add_all(t->up.proxy_sent, q->up.proxy_sent, i == 0);
		}
		t->down.wire.proxy_received = t->down.proxy_received;
		t->down.wire.proxy_sent = t->down.proxy_sent;
		t->up.wire.proxy_received = t->up.proxy_received;
		t->up.wire.proxy_sent = t->up.proxy_sent;
	} else {
		/* A tunnel of proxy lines alone: their sums. */
		for (size_t i = 0; i < t->nproxy; i++) {
			const struct jproxy *x = j->proxy_order[t->first_proxy + i];
			t->down.wire.proxy_received = add_all(t->down.wire.proxy_received, x->down.received, i == 0);
			t->down.wire.proxy_sent = add_all(t->down.wire.proxy_sent, x->down.sent, i == 0);
			t->up.wire.proxy_received = add_all(t->up.wire.proxy_received, x->up.received, i == 0);
			t->up.wire.proxy_sent = add_all(t->up.wire.proxy_sent, x->up.sent, i == 0);
		}
	}
	leg_counts(t->client_flow, 1, &t->down.client_leg, &t->down.wire.client_leg);
	leg_counts(t->client_flow, 0, &t->up.client_leg, &t->up.wire.client_leg);
	leg_counts(t->origin_flow, 1, &t->down.origin_leg, &t->down.wire.origin_leg);
	leg_counts(t->origin_flow, 0, &t->up.origin_leg, &t->up.wire.origin_leg);
	t->down.wire.origin_acked = origin_acked(j, t);
}

/* ---- grouping ---- */

static int req_cmp(const void *a, const void *b)
{
	const struct jprobe *x = ((const struct jrequest *)a)->probe, *y = ((const struct jrequest *)b)->probe;
	/* Records without a local address never share a connection: apart, last. */
	bool xe = !x->local[0], ye = !y->local[0];
	if (xe != ye)
		return xe ? 1 : -1;
	int c = xe ? 0 : strcmp(x->local, y->local);
	if (c)
		return c;
	if (!xe && x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x < y ? -1 : x > y;
}

static struct tunnel *new_tunnel(struct join *j, const char *local, const char *id)
{
	struct tunnel *t = &j->t[j->n++];
	memset(t, 0, sizeof *t);
	snprintf(t->local, sizeof t->local, "%s", local);
	snprintf(t->id, sizeof t->id, "%s", id);
	return t;
}

static bool origin_covers(const struct index *x, const struct ledgers *l, const char *id)
{
	if (!l->norigin)
		return false;
	if (l->run_id[0] || x->many_prefixes)
		return true; /* the origin ledger is this run's */
	char p[16];
	id_prefix(id, p);
	for (size_t i = 0; i < x->nprefixes; i++)
		if (strcmp(x->prefixes[i], p) == 0)
			return true;
	return false;
}

/* The requests: each probe record with its origin and forward-proxy lines. */
static void join_requests(struct join *j, const struct ledgers *l, const struct index *x, bool *claimed)
{
	for (size_t i = 0; i < l->nprobe; i++)
		j->req[i].probe = &l->probe[i];
	j->nreq = l->nprobe;
	qsort(j->req, j->nreq, sizeof *j->req, req_cmp);
	size_t nv = 0;
	for (size_t i = 0; i < j->nreq; i++) {
		struct jrequest *q = &j->req[i];
		const struct jprobe *r = q->probe;
		size_t k = r->id[0] ? ref_find(x->origin_id, x->norigin_id, r->id, 0, false) : x->norigin_id;
		if (k < x->norigin_id) {
			q->origin = &l->origin[x->origin_id[k].idx];
			/* An HTTP/3 stream's line says how the stream ended: it is its own end. */
			q->origin_end = q->origin->h3 ? q->origin : origin_end(x, l, q->origin);
		}
		k = r->id[0] ? ref_find(x->proxy_id, x->nproxy_id, r->id, 0, false) : x->nproxy_id;
		if (k < x->nproxy_id) {
			q->proxy = &l->proxy[x->proxy_id[k].idx];
			claimed[x->proxy_id[k].idx] = true;
		}
		q->origin_covered = origin_covers(x, l, r->id);
		q->origin_later = q->origin_covered && x->latest_t > r->t + r->latency_s;
		if (strcmp(r->cls, "ok") != 0)
			q->verdict = &j->verdicts[nv++];
		request_chains(q);
	}
	j->nverdicts = nv;
}

/* Proxy lines by client address, for the tunnels that claim them. */
static int peer_cmp(const void *a, const void *b)
{
	const struct jproxy *x = *(const struct jproxy *const *)a, *y = *(const struct jproxy *const *)b;
	int c = strcmp(x->client_peer, y->client_peer);
	if (c)
		return c;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x < y ? -1 : x > y;
}

/* Tunnels in address order, those without an address last (as group_tunnels makes them). */
static int tunnel_local_cmp(const void *key, const void *elem)
{
	const struct tunnel *t = elem;
	return t->local[0] ? strcmp(key, t->local) : -1;
}

/* Attaches the proxy lines not claimed by id: a CONNECT/SOCKS5 line to the tunnel of its
 * client address; forward lines without an id to that tunnel's requests in order; the
 * rest make tunnels of their own, one per client address. */
static void join_proxy_lines(struct join *j, const struct ledgers *l, const bool *claimed)
{
	size_t n = 0;
	for (size_t i = 0; i < l->nproxy; i++)
		if (!claimed[i])
			j->proxy_order[n++] = &l->proxy[i];
	qsort(j->proxy_order, n, sizeof *j->proxy_order, peer_cmp);
	size_t ntunnels = j->n, kept = 0;
	for (size_t i = 0; i < n;) {
		const char *peer = j->proxy_order[i]->client_peer;
		size_t end = i;
		while (end < n && strcmp(j->proxy_order[end]->client_peer, peer) == 0 && peer[0])
			end++;
		if (end == i)
			end = i + 1; /* no client address: a tunnel of its own */
		struct tunnel *t = peer[0] ? bsearch(peer, j->t, ntunnels, sizeof *j->t, tunnel_local_cmp) : NULL;
		if (t) {
			size_t next = 0;
			for (size_t k = i; k < end; k++) {
				const struct jproxy *p = j->proxy_order[k];
				if (strcmp(p->kind, "forward") != 0) {
					t->proxy = p;
					continue;
				}
				while (next < t->nrequests && j->req[t->first + next].proxy)
					next++;
				if (next < t->nrequests) {
					struct jrequest *q = &j->req[t->first + next];
					q->proxy = p;
					request_chains(q);
				}
			}
		} else {
			/* Kept in proxy_order from `kept` on, in client-address order. */
			t = new_tunnel(j, peer, j->proxy_order[i]->id);
			memmove(&j->proxy_order[kept], &j->proxy_order[i], (end - i) * sizeof *j->proxy_order);
			t->first_proxy = kept;
			t->nproxy = end - i;
			t->proxy = j->proxy_order[kept];
			kept += end - i;
		}
		i = end;
	}
	j->nproxy_order = kept;
}

static void group_tunnels(struct join *j)
{
	for (size_t i = 0; i < j->nreq;) {
		const struct jprobe *r = j->req[i].probe;
		size_t end = i + 1;
		while (r->local[0] && end < j->nreq && strcmp(j->req[end].probe->local, r->local) == 0)
			end++;
		struct tunnel *t = new_tunnel(j, r->local, r->id);
		t->first = i;
		t->nrequests = end - i;
		for (size_t k = i; k < end; k++) {
			const struct jrequest *q = &j->req[k];
			if (q->verdict && t->nfailed++ == 0) {
				t->deciding = q;
				t->first_failed = q->probe;
			}
		}
		i = end;
	}
}

/* The tunnel's origin line, forward line and flows. */
static void tunnel_witnesses(struct join *j, struct tunnel *t, const struct index *x,
			     struct flow_table *flows)
{
	const struct jrequest *q = t->deciding ? t->deciding :
				   t->nrequests ? &j->req[t->first + t->nrequests - 1] : NULL;
	if (q) {
		t->origin = q->origin;
		t->origin_end = q->origin_end;
		if (!t->proxy)
			t->proxy = q->proxy;
	}
	double when = t->nrequests ? j->req[t->first].probe->t : t->proxy ? t->proxy->t : 0;
	t->client_flow = find_flow(x, flows, t->local, when);
	const char *up = t->origin ? t->origin->peer : t->proxy ? t->proxy->upstream_local : "";
	t->origin_flow = find_flow(x, flows, up, when);
	if (t->origin_flow == t->client_flow)
		t->origin_flow = NULL; /* a direct run: the one flow is the client leg */
	if (t->client_flow)
		j->flows_in_tunnels++;
	if (t->origin_flow)
		j->flows_in_tunnels++;
}

int join_build(struct join *j, const struct ledgers *l, struct flow_table *flows)
{
	memset(j, 0, sizeof *j);
	struct index x;
	bool *claimed = NULL;
	size_t nfailed = 0;
	for (size_t i = 0; i < l->nprobe; i++)
		nfailed += strcmp(l->probe[i].cls, "ok") != 0;
	int rc = index_build(&x, l, flows);
	j->t = calloc(l->nprobe + l->nproxy + 1, sizeof *j->t);
	j->req = calloc(l->nprobe + 1, sizeof *j->req);
	j->verdicts = calloc(nfailed + 1, sizeof *j->verdicts);
	j->proxy_order = calloc(l->nproxy + 1, sizeof *j->proxy_order);
	claimed = calloc(l->nproxy + 1, sizeof *claimed);
	if (rc < 0 || !j->t || !j->req || !j->verdicts || !j->proxy_order || !claimed) {
		rc = -ENOMEM;
		join_free(j);
		goto out;
	}
	j->in = (struct join_inputs){l->norigin > 0, l->nproxy > 0, flows != NULL};
	join_requests(j, l, &x, claimed);
	group_tunnels(j);
	join_proxy_lines(j, l, claimed);
	for (size_t k = 0; k < j->n; k++) {
		struct tunnel *t = &j->t[k];
		tunnel_witnesses(j, t, &x, flows);
		tunnel_chains(j, t);
		judge_tunnel(j, t);
		j->counts[t->verdict.code]++;
	}
out:
	free(claimed);
	index_free(&x);
	return rc;
}

void join_free(struct join *j)
{
	if (!j)
		return;
	free(j->t);
	free(j->req);
	free(j->verdicts);
	free(j->proxy_order);
	memset(j, 0, sizeof *j);
}

int join_quic(struct join *j, const struct qflow_table *q)
{
	struct ref *refs = calloc(q->n + 1, sizeof *refs);
	char (*addr)[64] = calloc(q->n + 1, sizeof *addr);
	size_t n = 0;
	if (!refs || !addr) {
		free(refs);
		free(addr);
		return -ENOMEM;
	}
	for (size_t i = 0; i < q->n; i++)
		if (q->flows[i]->quic) {
			qflow_end_format(q->flows[i], 0, addr[n], sizeof addr[n]);
			refs[n] = (struct ref){addr[n], 0, i};
			n++;
		}
	qsort(refs, n, sizeof *refs, ref_cmp);
	for (size_t k = 0; k < j->n; k++) {
		struct tunnel *t = &j->t[k];
		if (!t->nrequests || strcmp(j->req[t->first].probe->proto, "h3") != 0)
			continue;
		double when = j->req[t->first].probe->t;
		for (size_t i = ref_find(refs, n, t->local, 0, true); i < n && strcmp(refs[i].key, t->local) == 0; i++) {
			struct qflow *f = q->flows[refs[i].idx];
			if (!t->quic_flow || (f->t_first <= when + 1.0 && f->t_first > t->quic_flow->t_first))
				t->quic_flow = f;
		}
	}
	free(refs);
	free(addr);
	return 0;
}
