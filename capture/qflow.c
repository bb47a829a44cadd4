/* qflow — see qflow.h. */
#include "capture/qflow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX 100000
#define SCRATCH_BYTES 65536

void qflow_table_init(struct qflow_table *t, size_t max_flows)
{
	memset(t, 0, sizeof *t);
	t->max_flows = max_flows ? max_flows : DEFAULT_MAX;
}

void qflow_table_free(struct qflow_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		tlsrec_free(&t->flows[i]->dir[0].hello);
		tlsrec_free(&t->flows[i]->dir[1].hello);
		free(t->flows[i]);
	}
	free(t->flows);
	free(t->buckets);
	free(t->scratch);
	memset(t, 0, sizeof *t);
}

/* ---- the table ---- */

static int end_cmp(const uint8_t *a1, uint16_t p1, const uint8_t *a2, uint16_t p2)
{
	int c = memcmp(a1, a2, 16);
	return c ? c : (int)p1 - (int)p2;
}

/* Order-independent: both directions of a flow hash alike. */
static size_t key_hash(const struct pkt *p, size_t nbuckets)
{
	const uint8_t *lo = p->src, *hi = p->dst;
	uint16_t plo = p->sport, phi = p->dport;
	if (end_cmp(lo, plo, hi, phi) > 0) {
		lo = p->dst, hi = p->src;
		plo = p->dport, phi = p->sport;
	}
	uint64_t h = 0xcbf29ce484222325ull ^ p->ip_version;
	for (int i = 0; i < 16; i++)
		h = (h ^ lo[i]) * 0x100000001b3ull;
	for (int i = 0; i < 16; i++)
		h = (h ^ hi[i]) * 0x100000001b3ull;
	h = (h ^ plo) * 0x100000001b3ull;
	h = (h ^ phi) * 0x100000001b3ull;
	return (size_t)(h ^ (h >> 31)) & (nbuckets - 1);
}

/* The flow of p and the direction p goes in (0: client → server), or NULL. */
static struct qflow *lookup(const struct qflow_table *t, const struct pkt *p, int *dir)
{
	for (struct qflow *f = t->buckets[key_hash(p, t->nbuckets)]; f; f = f->hash_next) {
		if (f->ip_version != p->ip_version)
			continue;
		for (int d = 0; d < 2; d++)
			if (f->port[d] == p->sport && f->port[1 - d] == p->dport &&
			    memcmp(f->addr[d], p->src, 16) == 0 && memcmp(f->addr[1 - d], p->dst, 16) == 0) {
				*dir = d;
				return f;
			}
	}
	return NULL;
}

static int table_grow(struct qflow_table *t)
{
	if (!t->buckets) {
		size_t nb = 1024;
		while (nb < t->max_flows && nb < (1u << 22))
			nb *= 2;
		t->buckets = calloc(nb, sizeof *t->buckets);
		t->scratch = malloc(SCRATCH_BYTES);
		if (!t->buckets || !t->scratch)
			return -1;
		t->nbuckets = nb;
	}
	if (t->n == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 256;
		struct qflow **nf = realloc(t->flows, nc * sizeof *nf);
		if (!nf)
			return -1;
		t->flows = nf;
		t->cap = nc;
	}
	return 0;
}

/* A new flow for p. Only a client opens with an Initial, 0-RTT, or a version the server
 * may not speak; the sender of anything else (a Version Negotiation, a server's
 * packet) is a server, and a flow picked up midstream takes the higher port as the
 * client's. */
static struct qflow *flow_new(struct qflow_table *t, const struct pkt *p, double ts, int *dir)
{
	if (t->n >= t->max_flows || table_grow(t) < 0)
		return NULL;
	struct qflow *f = calloc(1, sizeof *f);
	if (!f)
		return NULL;
	struct quichdr h;
	int rc = p->payload_cap ? quichdr_read(p->payload, p->payload_cap, 0, false, &h) : -1;
	bool opening = (rc == 0 || (rc == QUICHDR_E_TRUNCATED && h.ids)) && h.long_header &&
		       (h.type == QUICHDR_INITIAL || h.type == QUICHDR_0RTT ||
			h.type == QUICHDR_UNKNOWN_VERSION);
	bool answer = rc == 0 && h.type == QUICHDR_VERSION_NEGOTIATION;
	bool client_is_src = opening || (!answer && p->sport > p->dport);
	f->midstream = !opening;
	f->ip_version = p->ip_version;
	memcpy(f->addr[0], client_is_src ? p->src : p->dst, 16);
	memcpy(f->addr[1], client_is_src ? p->dst : p->src, 16);
	f->port[0] = client_is_src ? p->sport : p->dport;
	f->port[1] = client_is_src ? p->dport : p->sport;
	f->t_first = ts;
	f->serial = t->n;
	tlsrec_init(&f->dir[0].hello);
	tlsrec_init(&f->dir[1].hello);
	size_t b = key_hash(p, t->nbuckets);
	f->hash_next = t->buckets[b];
	t->buckets[b] = f;
	t->flows[t->n++] = f;
	*dir = client_is_src ? 0 : 1;
	return f;
}

/* ---- what the packets say ---- */

static void set_cid(uint8_t *dst, uint8_t *dstlen, bool *have, const uint8_t *cid, uint8_t len)
{
	memcpy(dst, cid, len);
	*dstlen = len;
	*have = true;
}

/* Connection IDs and the Initial keys' DCID from a long header sent in direction d. */
static void learn_ids(struct qflow *f, int d, const struct quichdr *h)
{
	f->quic = true;
	if (h->type == QUICHDR_VERSION_NEGOTIATION) {
		f->version_negotiation = true;
		return;
	}
	f->version = h->version;
	if (h->type == QUICHDR_RETRY && d == 1) {
		/* The client's next Initials go to the ID the Retry chose: new keys. */
		f->retry = true;
		set_cid(f->odcid, &f->odcidlen, &f->have_odcid, h->scid, h->scidlen);
		f->keys_ready = false;
		return;
	}
	if (d == 0) {
		if (h->type == QUICHDR_INITIAL && !f->have_odcid)
			set_cid(f->odcid, &f->odcidlen, &f->have_odcid, h->dcid, h->dcidlen);
		set_cid(f->client_cid, &f->client_cidlen, &f->have_client_cid, h->scid, h->scidlen);
	} else if (h->type != QUICHDR_UNKNOWN_VERSION) {
		set_cid(f->server_cid, &f->server_cidlen, &f->have_server_cid, h->scid, h->scidlen);
	}
}

static void note_close(struct qflow_dir *dir, const struct quicinit_frames *fr, double ts)
{
	if (dir->close.seen)
		return;
	dir->close.seen = true;
	dir->close.app = fr->app;
	dir->close.code = fr->code;
	dir->close.frame_type = fr->frame_type;
	dir->close.t = ts;
	memcpy(dir->close.reason, fr->reason, sizeof dir->close.reason);
}

/* An Initial, whole in the capture: decrypted, its close and hello read. */
static void open_initial(struct qflow_table *t, struct qflow *f, int d, const struct quichdr *h,
			 const uint8_t *pkt, double ts)
{
	struct qflow_dir *dir = &f->dir[d];
	if (!f->keys_ready && f->have_odcid) {
		f->keys_ready = quicinit_keys(f->version, f->odcid, f->odcidlen, false, &f->keys[0]) == 0 &&
				quicinit_keys(f->version, f->odcid, f->odcidlen, true, &f->keys[1]) == 0;
	}
	uint64_t pn;
	long n = f->keys_ready && h->length <= SCRATCH_BYTES
			 ? quicinit_open(&f->keys[d], h, pkt, t->scratch, SCRATCH_BYTES, &pn) : -1;
	if (n < 0) {
		dir->initials_failed++;
		return;
	}
	dir->initials_opened++;
	struct quicinit_frames fr;
	quicinit_frames(t->scratch, (size_t)n, &fr);
	if (fr.close)
		note_close(dir, &fr, ts);
	/* The hello: CRYPTO bytes in order (a retransmitted or later piece is skipped). */
	for (size_t i = 0; i < fr.ncrypto; i++) {
		const struct quicinit_crypto *c = &fr.crypto[i];
		if (c->offset == dir->crypto_next && c->len) {
			tlsrec_feed_handshake(&dir->hello, c->data, c->len);
			dir->crypto_next += c->len;
		}
	}
}

/* Walks the packets coalesced in the captured part (cap of len bytes) of a datagram. */
static void read_packets(struct qflow_table *t, struct qflow *f, int d, const uint8_t *pl,
			 size_t cap, size_t len, double ts)
{
	struct qflow_dir *dir = &f->dir[d];
	size_t off = 0;
	for (int k = 0; k < QFLOW_MAX_PACKETS && off < cap; k++) {
		/* A short header carries the ID the receiver chose. */
		size_t sdl = d == 0 ? f->server_cidlen : f->client_cidlen;
		struct quichdr h;
		int rc = quichdr_read(pl + off, cap - off, sdl, f->quic, &h);
		if (rc == QUICHDR_E_TRUNCATED && cap < len) {
			/* The snaplen cut it: what the header said before the cut still counts. */
			dir->cut++;
			if (h.long_header && h.ids) {
				learn_ids(f, d, &h);
				dir->packets[h.type]++;
				dir->initials_cut += h.type == QUICHDR_INITIAL;
			}
			return;
		}
		if (rc < 0) {
			dir->undecodable++;
			return;
		}
		if (h.long_header)
			learn_ids(f, d, &h);
		dir->packets[h.type]++;
		if (h.type == QUICHDR_INITIAL)
			open_initial(t, f, d, &h, pl + off, ts);
		off += h.length;
	}
	if (off < cap)
		dir->undecodable++; /* more coalesced packets than we read */
}

/* Does a packet to the receiver's connection ID start at p[0..len)? A short header, or
 * a long header of a version we read. */
static bool packet_to(const uint8_t *p, size_t len, const uint8_t *cid, size_t cidlen)
{
	if (len > 0 && !(p[0] & 0x80))
		return len > 1 + cidlen && memcmp(p + 1, cid, cidlen) == 0;
	return len > 6 + cidlen && p[5] == cidlen && memcmp(p + 6, cid, cidlen) == 0;
}

/* A GSO send (or a GRO receipt) reaches a capture as one frame of several datagrams of
 * one size, the last maybe shorter: nothing in the frame says so. With the whole frame
 * captured and the receiver's connection ID known (8 bytes or more: a random match is
 * then out of the question), the size is the first offset where a packet to that ID
 * starts and every multiple of which starts one too. Packets coalesced in one datagram
 * are told apart by where the search starts: after the first datagram's long-header
 * packets (their Length fields say where each ends), inside its short-header packet,
 * which runs to the end of its datagram — so a batch of long-header-only datagrams (a
 * handshake) is not split. Returns the size, or 0: one datagram. */
static size_t gso_segment(const struct qflow *f, int d, const uint8_t *pl, size_t cap, size_t len)
{
	const uint8_t *cid = d == 0 ? f->server_cid : f->client_cid;
	size_t cidlen = d == 0 ? f->server_cidlen : f->client_cidlen;
	bool have = d == 0 ? f->have_server_cid : f->have_client_cid;
	size_t min_packet = 1 + cidlen + 1 + 16; /* header byte, ID, number, tag */
	if (!have || cidlen < 8 || cap < len || len < 2 * min_packet || !packet_to(pl, len, cid, cidlen))
		return 0;
	size_t short_at = 0;
	for (int k = 0;; k++) {
		struct quichdr h;
		if (k == QFLOW_MAX_PACKETS || quichdr_read(pl + short_at, len - short_at, cidlen, true, &h) < 0)
			return 0;
		if (!h.long_header)
			break;
		short_at += h.length;
		if (short_at >= len)
			return 0;
	}
	size_t from = short_at + min_packet;
	for (int tries = 0; tries < 8 && from < len; tries++) {
		const uint8_t *hit = memmem(pl + from, len - from, cid, cidlen);
		if (!hit)
			return 0;
		size_t at = (size_t)(hit - pl);
		from = at + 1;
		/* The ID sits 1 byte into a short header, 6 into a long one. */
		for (size_t back = 1; back <= 6; back += 5) {
			if (at < back || at - back < min_packet)
				continue;
			size_t seg = at - back, k = seg;
			while (k < len && packet_to(pl + k, len - k, cid, cidlen))
				k += seg;
			if (k >= len)
				return seg;
		}
	}
	return 0;
}

struct qflow *qflow_table_datagram(struct qflow_table *t, double ts, const struct pkt *p)
{
	t->datagrams++;
	int d = 0;
	struct qflow *f = t->buckets ? lookup(t, p, &d) : NULL;
	if (!f && !(f = flow_new(t, p, ts, &d))) {
		t->datagrams_left_out++;
		return NULL;
	}
	struct qflow_dir *dir = &f->dir[d];
	if (dir->t_first == 0)
		dir->t_first = ts;
	dir->t_last = ts;
	f->t_last = ts;
	size_t seg = gso_segment(f, d, p->payload, p->payload_cap, p->payload_len);
	if (!seg) {
		dir->datagrams++;
		dir->bytes += p->payload_len;
		read_packets(t, f, d, p->payload, p->payload_cap, p->payload_len, ts);
		return f;
	}
	dir->gso_frames++;
	for (size_t off = 0; off < p->payload_len; off += seg) {
		size_t n = p->payload_len - off < seg ? p->payload_len - off : seg;
		dir->datagrams++;
		dir->bytes += n;
		read_packets(t, f, d, p->payload + off, n, n, ts);
	}
	return f;
}

void qflow_table_finish(struct qflow_table *t)
{
	t->quic_datagrams = 0;
	for (size_t i = 0; i < t->n; i++)
		if (t->flows[i]->quic)
			t->quic_datagrams += t->flows[i]->dir[0].datagrams + t->flows[i]->dir[1].datagrams;
}

size_t qflow_table_quic(const struct qflow_table *t)
{
	size_t n = 0;
	for (size_t i = 0; i < t->n; i++)
		n += t->flows[i]->quic;
	return n;
}

char *qflow_end_format(const struct qflow *f, int end, char *out, size_t outlen)
{
	return pkt_addr_format(f->ip_version, f->addr[end], f->port[end], out, outlen);
}
