/* flow — see flow.h. */
#include "capture/flow.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define RECENT_WINDOW 8192 /* bytes kept per direction to compare retransmissions */
#define CLOSE_LINGER_S 5.0 /* capture seconds a closed flow keeps its buffers */

int flow_table_init(struct flow_table *t, size_t max_flows, const struct tcpreasm_limits *lim)
{
	memset(t, 0, sizeof *t);
	t->max_flows = max_flows ? max_flows : FLOW_DEFAULT_MAX;
	t->left_out_exact = true;
	if (lim)
		t->lim = *lim;
	else
		t->lim.recent_window = RECENT_WINDOW;
	t->nbuckets = 4096;
	t->buckets = calloc(t->nbuckets, sizeof *t->buckets);
	return t->buckets ? 0 : -ENOMEM;
}

static void dir_release(struct flow_dir *d)
{
	tcpreasm_free(&d->r);
	tlsrec_free(&d->tls);
	httpscan_free(&d->http);
}

void flow_table_free(struct flow_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		dir_release(&t->flows[i]->dir[0]);
		dir_release(&t->flows[i]->dir[1]);
		free(t->flows[i]);
	}
	free(t->flows);
	free(t->buckets);
	free(t->closed);
	free(t->left_out_keys);
	memset(t, 0, sizeof *t);
}

/* FNV-1a over the endpoints in a direction-independent order. */
static uint64_t key_hash(uint8_t v, const uint8_t *a, uint16_t pa, const uint8_t *b, uint16_t pb)
{
	size_t alen = v == 4 ? 4 : 16;
	int c = memcmp(a, b, alen);
	if (c > 0 || (c == 0 && pa > pb)) {
		const uint8_t *ta = a;
		uint16_t tp = pa;
		a = b;
		pa = pb;
		b = ta;
		pb = tp;
	}
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < alen; i++)
		h = (h ^ a[i]) * 0x100000001b3ull;
	for (size_t i = 0; i < alen; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	h = (h ^ pa) * 0x100000001b3ull;
	h = (h ^ pb) * 0x100000001b3ull;
	return h ^ v;
}

/* Which end of f sent p: 0 originator, 1 responder, -1 not this flow. */
static int flow_match(const struct flow *f, const struct pkt *p)
{
	if (f->ip_version != p->ip_version)
		return -1;
	size_t alen = p->ip_version == 4 ? 4 : 16;
	for (int e = 0; e < 2; e++)
		if (f->port[e] == p->sport && f->port[1 - e] == p->dport &&
		    memcmp(f->addr[e], p->src, alen) == 0 && memcmp(f->addr[1 - e], p->dst, alen) == 0)
			return e;
	return -1;
}

/* History letters: Zeek's, originator upper case, responder lower case. */
static void hist_add(struct flow *f, int d, char letter)
{
	if ((size_t)f->hist_len + 1 >= sizeof f->history)
		return;
	f->history[f->hist_len++] = d == 0 ? (char)(letter - 'a' + 'A') : letter;
	f->history[f->hist_len] = '\0';
}

static void hist_once(struct flow *f, int d, char letter)
{
	static const char order[] = "shadfrqi";
	const char *pos = strchr(order, letter);
	if (!pos)
		return;
	uint32_t bit = 1u << ((unsigned)(pos - order) + (d ? 8u : 0u));
	if (f->hist_once & bit)
		return;
	f->hist_once |= bit;
	hist_add(f, d, letter);
}

/* c, g, t, w: recorded at the 1st, 10th, 100th, ... occurrence. */
static void hist_counted(struct flow *f, int d, char letter)
{
	static const char order[] = "cgtw";
	unsigned i = (unsigned)(strchr(order, letter) - order);
	uint32_t n = ++f->dir[d].hist_n[i];
	for (uint32_t p = 1; p <= n; p *= 10) {
		if (p == n) {
			hist_add(f, d, letter);
			return;
		}
		if (p > UINT32_MAX / 10)
			return;
	}
}

static void on_bytes(void *ctx, enum tcpreasm_kind kind, uint64_t off, const uint8_t *data,
		     size_t len)
{
	struct flow_dir *d = ctx;
	struct flow_dir *peer = &d->flow->dir[1 - d->index];
	if (d->flow->finished)
		return; /* released: a late retransmission, counted by tcpreasm only */
	if (kind == TCPREASM_GAP) {
		hist_counted(d->flow, d->index, 'g');
		httpscan_gap(&d->http, len);
		if (d->http.mode == HS_TUNNEL || d->http.mode == HS_OTHER)
			tlsrec_gap(&d->tls, len);
		return;
	}
	const uint8_t *bytes = kind == TCPREASM_DATA ? data : NULL;
	size_t used = 0;
	enum httpscan_mode m = d->http.mode;
	if (m == HS_UNKNOWN || m == HS_REQUESTS || m == HS_RESPONSES || m == HS_SOCKS5)
		used = httpscan_feed(&d->http, &peer->http, off, bytes, len);
	m = d->http.mode;
	if (used < len && (m == HS_TUNNEL || m == HS_OTHER))
		tlsrec_feed(&d->tls, bytes ? bytes + used : NULL, len - used);
}

/* Adds key to the set of refused flows; returns true when it was not there. False
 * once the set is full (the caller counts otherwise). */
static bool left_out_insert(struct flow_table *t, uint64_t key)
{
	key |= 1; /* 0 marks an empty slot */
	if (t->left_out_n * 2 >= t->left_out_cap) {
		size_t nc = t->left_out_cap ? t->left_out_cap * 2 : 1024;
		uint64_t *nk = nc <= FLOW_LEFT_OUT_KEYS ? calloc(nc, sizeof *nk) : NULL;
		if (!nk) {
			t->left_out_exact = false;
			return false;
		}
		for (size_t i = 0; i < t->left_out_cap; i++) {
			uint64_t k = t->left_out_keys[i];
			size_t s = (size_t)(k % nc);
			while (k && nk[s])
				s = (s + 1) % nc;
			if (k)
				nk[s] = k;
		}
		free(t->left_out_keys);
		t->left_out_keys = nk;
		t->left_out_cap = nc;
	}
	size_t s = (size_t)(key % t->left_out_cap);
	while (t->left_out_keys[s]) {
		if (t->left_out_keys[s] == key)
			return false;
		s = (s + 1) % t->left_out_cap;
	}
	t->left_out_keys[s] = key;
	t->left_out_n++;
	return true;
}

/* A segment of a flow the full table refused: each flow is counted once. */
static void left_out(struct flow_table *t, const struct pkt *p, uint64_t key)
{
	t->segments_left_out++;
	if (t->left_out_exact) {
		if (left_out_insert(t, key))
			t->flows_left_out++;
		if (t->left_out_exact)
			return;
	}
	if ((p->flags & (PKT_SYN | PKT_ACK)) == PKT_SYN)
		t->flows_left_out++; /* past the key set: a new connection is a SYN */
}

static struct flow *flow_new(struct flow_table *t, const struct pkt *p, int sender_is_orig)
{
	if (t->n >= t->max_flows)
		return NULL;
	if (t->n == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 1024;
		struct flow **nf = realloc(t->flows, ncap * sizeof *nf);
		if (!nf)
			return NULL;
		t->flows = nf;
		t->cap = ncap;
	}
	struct flow *f = calloc(1, sizeof *f);
	if (!f)
		return NULL;
	f->ip_version = p->ip_version;
	int o = sender_is_orig ? 0 : 1;
	memcpy(f->addr[o], p->src, 16);
	memcpy(f->addr[1 - o], p->dst, 16);
	f->port[o] = p->sport;
	f->port[1 - o] = p->dport;
	f->flipped = !sender_is_orig;
	if (f->flipped)
		f->history[f->hist_len++] = '^';
	for (int i = 0; i < 2; i++) {
		struct flow_dir *d = &f->dir[i];
		d->flow = f;
		d->index = i;
		d->wscale = -1;
		tcpreasm_init(&d->r, &t->lim, on_bytes, d);
		tlsrec_init(&d->tls);
		httpscan_init(&d->http);
		d->http.from_client = i == 0;
	}
	f->serial = t->n;
	t->flows[t->n++] = f;
	/* Grow the hash table with the flows so chains stay short. */
	if (t->n > t->nbuckets * 2) {
		size_t nb = t->nbuckets * 4;
		struct flow **b = calloc(nb, sizeof *b);
		if (b) {
			/* Rebuild from the live chains (unlinked flows stay out). */
			for (size_t i = 0; i < t->nbuckets; i++) {
				struct flow *g = t->buckets[i];
				while (g) {
					struct flow *next = g->hash_next;
					uint64_t h = key_hash(g->ip_version, g->addr[0], g->port[0],
							      g->addr[1], g->port[1]);
					g->hash_next = b[h % nb];
					b[h % nb] = g;
					g = next;
				}
			}
			free(t->buckets);
			t->buckets = b;
			t->nbuckets = nb;
		}
	}
	uint64_t h = key_hash(f->ip_version, f->addr[0], f->port[0], f->addr[1], f->port[1]);
	f->hash_next = t->buckets[h % t->nbuckets];
	t->buckets[h % t->nbuckets] = f;
	return f;
}

static void flow_unlink(struct flow_table *t, struct flow *f)
{
	uint64_t h = key_hash(f->ip_version, f->addr[0], f->port[0], f->addr[1], f->port[1]);
	struct flow **pp = &t->buckets[h % t->nbuckets];
	while (*pp && *pp != f)
		pp = &(*pp)->hash_next;
	if (*pp)
		*pp = f->hash_next;
	f->hash_next = NULL;
}

static void dir_judge_end(struct flow *f, struct flow_dir *d)
{
	bool tls13 = f->dir[0].tls.version == 0x0304 || f->dir[1].tls.version == 0x0304;
	d->tls_close = tlsrec_close_kind(&d->tls, tls13);
}

static void flow_finish(struct flow *f)
{
	if (f->finished)
		return;
	/* Held segments are delivered (and scanned) before anything is judged. */
	tcpreasm_finish(&f->dir[0].r);
	tcpreasm_finish(&f->dir[1].r);
	f->finished = true;
	for (int i = 0; i < 2; i++) {
		struct flow_dir *d = &f->dir[i];
		const struct flow_dir *peer = &f->dir[1 - i];
		if (d->fin_t || d->rst_t)
			dir_judge_end(f, d);
		if (d->fin_t && httpscan_incomplete(&d->http)) {
			f->flags |= FLOW_F_EARLY_FIN;
			d->early_fin = true;
			d->early_fin_expected = d->http.msg_end;
		}
		if (d->r.partial && (d->packets || d->r.started))
			f->flags |= FLOW_F_PARTIAL;
		if (d->r.bytes_missed)
			f->flags |= FLOW_F_GAP;
		if (d->r.overlap_differs)
			f->flags |= FLOW_F_OVERLAP_DIFFERS;
		/* Only the side that closed first can have cut its TLS stream short; the
		 * other side often answers a FIN with a bare FIN. */
		bool closed_first = d->fin_t && (!peer->fin_t || d->fin_t <= peer->fin_t);
		if (closed_first && (d->tls_close == TLSREC_CLOSE_NO_NOTIFY ||
				     d->tls_close == TLSREC_CLOSE_MID_RECORD)) {
			f->flags |= FLOW_F_TLS_TRUNCATION;
			d->tls_truncated = true;
		}
	}
	for (int i = 0; i < 2; i++) {
		dir_release(&f->dir[i]);
		f->dir[i].r.lim.recent_window = 0; /* late segments must not allocate again */
	}
}

/* Both ways closed, or reset: nothing more can arrive that we need buffers for. */
static void maybe_close(struct flow_table *t, struct flow *f)
{
	if (f->closed)
		return;
	bool rst = f->dir[0].rst_t || f->dir[1].rst_t;
	bool fins = f->dir[0].fin_t && f->dir[1].fin_t;
	if (!rst && !fins)
		return;
	f->closed = true;
	f->t_closed = f->t_last;
	if (t->nclosed == t->closed_cap) {
		/* Compact what was swept before growing. */
		if (t->closed_head) {
			memmove(t->closed, t->closed + t->closed_head,
				(t->nclosed - t->closed_head) * sizeof *t->closed);
			t->nclosed -= t->closed_head;
			t->closed_head = 0;
		}
		if (t->nclosed == t->closed_cap) {
			size_t nc = t->closed_cap ? t->closed_cap * 2 : 256;
			struct flow **q = realloc(t->closed, nc * sizeof *q);
			if (!q)
				return; /* released at the end instead */
			t->closed = q;
			t->closed_cap = nc;
		}
	}
	t->closed[t->nclosed++] = f;
}

/* Finishes flows closed for a while, releasing their buffers; late retransmissions
 * and ACKs still count, they just skip the payload scanners. */
static void sweep_closed(struct flow_table *t, double now)
{
	while (t->closed_head < t->nclosed) {
		struct flow *f = t->closed[t->closed_head];
		if (f->t_closed + CLOSE_LINGER_S > now)
			break;
		flow_finish(f);
		t->closed_head++;
	}
}

static void ep_update(struct flow *f, int e, const struct pkt *p)
{
	enum flow_ep_state *s = &f->dir[e].state, *ps = &f->dir[1 - e].state;
	uint8_t fl = p->flags;
	if (fl & PKT_RST) {
		*s = EP_RESET;
		return;
	}
	if (fl & PKT_SYN) {
		if (*s == EP_INACTIVE)
			*s = (fl & PKT_ACK) ? EP_SYN_ACK_SENT : EP_SYN_SENT;
	} else if ((fl & PKT_ACK) || p->payload_len) {
		if (*s == EP_INACTIVE)
			*s = EP_PARTIAL;
		else if ((*s == EP_SYN_SENT || *s == EP_SYN_ACK_SENT) &&
			 (*ps == EP_SYN_SENT || *ps == EP_SYN_ACK_SENT || *ps == EP_ESTABLISHED)) {
			*s = EP_ESTABLISHED;
			if (*ps == EP_SYN_SENT || *ps == EP_SYN_ACK_SENT)
				*ps = EP_ESTABLISHED;
		}
	}
	if ((fl & PKT_FIN) && *s != EP_RESET) {
		if (*s == EP_INACTIVE)
			*s = EP_PARTIAL;
		*s = EP_CLOSED;
	}
}

struct flow *flow_table_segment(struct flow_table *t, double ts, const struct pkt *p)
{
	uint64_t h = key_hash(p->ip_version, p->src, p->sport, p->dst, p->dport);
	struct flow *f = t->buckets[h % t->nbuckets];
	int e = -1;
	for (; f; f = f->hash_next)
		if ((e = flow_match(f, p)) >= 0)
			break;
	bool syn_only = (p->flags & (PKT_SYN | PKT_ACK)) == PKT_SYN;
	if (f && f->closed && syn_only && f->dir[e].r.syn_seen && f->dir[e].r.isn != p->seq) {
		/* Port reuse: a new connection on the same 4-tuple. */
		flow_finish(f);
		flow_unlink(t, f);
		f = NULL;
	}
	if (!f) {
		int sender_is_orig;
		if (p->flags & PKT_SYN)
			sender_is_orig = !(p->flags & PKT_ACK);
		else /* midstream: clients usually sit on the higher (ephemeral) port */
			sender_is_orig = p->sport >= p->dport;
		f = flow_new(t, p, sender_is_orig);
		if (!f) {
			if (t->n >= t->max_flows)
				left_out(t, p, h);
			return NULL;
		}
		f->t_first = ts;
		e = sender_is_orig ? 0 : 1;
	}
	t->segments++;
	f->t_last = ts;
	struct flow_dir *d = &f->dir[e], *o = &f->dir[1 - e];
	d->packets++;
	uint8_t fl = p->flags;

	/* History. */
	if ((fl & PKT_SYN) && (fl & PKT_RST))
		hist_once(f, e, 'i');
	else if ((fl & PKT_SYN) && (fl & PKT_FIN))
		hist_once(f, e, 'q');
	else if (fl & PKT_SYN)
		hist_once(f, e, (fl & PKT_ACK) ? 'h' : 's');
	if (fl & PKT_FIN)
		hist_once(f, e, 'f');
	if (fl & PKT_RST)
		hist_once(f, e, 'r');
	if (p->payload_len)
		hist_once(f, e, 'd');
	else if ((fl & PKT_ACK) && !(fl & (PKT_SYN | PKT_FIN | PKT_RST)))
		hist_once(f, e, 'a');
	if (p->csum == PKT_CSUM_BAD) {
		d->bad_csum++;
		t->bad_csum++;
		hist_counted(f, e, 'c');
	}
	if (p->window == 0 && !(fl & (PKT_SYN | PKT_RST | PKT_FIN)))
		{
		d->zero_windows++;
		hist_counted(f, e, 'w');
	}

	/* Handshake timing. */
	if ((fl & (PKT_SYN | PKT_ACK)) == PKT_SYN && e == 0 && !f->t_syn)
		f->t_syn = ts;
	else if ((fl & (PKT_SYN | PKT_ACK)) == (PKT_SYN | PKT_ACK) && e == 1 && !f->t_synack)
		f->t_synack = ts;
	else if (!(fl & PKT_SYN) && (fl & PKT_ACK) && e == 0 && f->t_synack && !f->t_ack)
		f->t_ack = ts;
	if (fl & PKT_SYN)
		d->wscale = p->wscale;

	ep_update(f, e, p);

	/* Reassembly (payload goes through on_bytes to HTTP and TLS). */
	d->wire_payload += p->payload_len;
	uint64_t retrans_before = d->r.retrans_segments;
	tcpreasm_segment(&d->r, p->seq, fl, p->payload, p->payload_len, p->payload_cap);
	if (d->r.retrans_segments != retrans_before)
		hist_counted(f, e, 't');

	/* The peer's stream as acknowledged by this side. */
	if ((fl & PKT_ACK) && o->r.started) {
		int64_t off = tcpreasm_offset(&o->r, p->ack);
		if (off >= 0 && (!o->acked_valid || (uint64_t)off > o->acked)) {
			o->acked = (uint64_t)off;
			o->acked_valid = true;
		}
	}
	if ((fl & PKT_FIN) && !d->fin_t)
		d->fin_t = ts;
	if ((fl & PKT_RST) && !d->rst_t) {
		d->rst_t = ts;
		f->flags |= e == 0 ? FLOW_F_RST_BY_ORIG : FLOW_F_RST_BY_RESP;
		if (d->fin_t || o->fin_t)
			f->flags |= FLOW_F_RST_AFTER_FIN;
	}
	maybe_close(t, f);
	if ((t->segments & 1023) == 0)
		sweep_closed(t, ts);
	return f;
}

void flow_table_finish(struct flow_table *t)
{
	for (size_t i = 0; i < t->n; i++)
		flow_finish(t->flows[i]);
}

const char *flow_conn_state(const struct flow *f)
{
	enum flow_ep_state os = f->dir[0].state, rs = f->dir[1].state;
	bool o_inactive = os == EP_INACTIVE || os == EP_PARTIAL;
	bool r_inactive = rs == EP_INACTIVE || rs == EP_PARTIAL;
	if (rs == EP_RESET) {
		if (os == EP_SYN_SENT || os == EP_SYN_ACK_SENT ||
		    (os == EP_RESET && f->dir[0].wire_payload == 0 && f->dir[1].wire_payload == 0))
			return "REJ";
		return o_inactive ? "RSTRH" : "RSTR";
	}
	if (os == EP_RESET) {
		if (r_inactive) {
			/* Zeek: history matches ^?S[^HAFGIQ]*R */
			const char *h = f->history;
			if (*h == '^')
				h++;
			if (*h == 'S') {
				for (h++; *h; h++) {
					if (strchr("HAFGIQ", *h))
						break;
					if (*h == 'R')
						return "RSTOS0";
				}
			}
			return "OTH";
		}
		return "RSTO";
	}
	if (rs == EP_CLOSED && os == EP_CLOSED)
		return "SF";
	if (os == EP_CLOSED)
		return r_inactive ? "SH" : "S2";
	if (rs == EP_CLOSED)
		return o_inactive ? "SHR" : "S3";
	if (os == EP_SYN_SENT && rs == EP_INACTIVE)
		return "S0";
	if (os == EP_ESTABLISHED && rs == EP_ESTABLISHED)
		return "S1";
	return "OTH";
}

char *flow_end_format(const struct flow *f, int end, char *out, size_t outlen)
{
	return pkt_addr_format(f->ip_version, f->addr[end], f->port[end], out, outlen);
}

uint64_t flow_dir_bytes(const struct flow_dir *d)
{
	uint64_t n = d->r.next > d->r.highest ? d->r.next : d->r.highest;
	if (d->r.fin_seen && d->r.fin_off > n)
		n = d->r.fin_off;
	return n;
}

uint64_t flow_dir_acked(const struct flow_dir *d)
{
	if (!d->acked_valid)
		return 0;
	if (d->r.fin_seen && d->acked > d->r.fin_off)
		return d->r.fin_off;
	return d->acked;
}
