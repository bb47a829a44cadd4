/* tcpreasm — see tcpreasm.h.
 *
 * Invariants: held[] is sorted by off, its ranges do not overlap each other, and every
 * held range starts beyond next (drain() restores this after each delivery). The ring
 * `recent` mirrors the captured bytes of [max(recent_from, next - window), next).
 */
#include "lib/tcpreasm.h"

#include <stdlib.h>
#include <string.h>

#include "lib/pkt.h"

#define DEFAULT_HELD_SEGMENTS 256
#define DEFAULT_HELD_BYTES (1u << 20)

void tcpreasm_init(struct tcpreasm *r, const struct tcpreasm_limits *lim, tcpreasm_cb cb,
		   void *ctx)
{
	memset(r, 0, sizeof *r);
	if (lim)
		r->lim = *lim;
	if (!r->lim.max_held_segments)
		r->lim.max_held_segments = DEFAULT_HELD_SEGMENTS;
	if (!r->lim.max_held_bytes)
		r->lim.max_held_bytes = DEFAULT_HELD_BYTES;
	r->cb = cb;
	r->ctx = ctx;
}

void tcpreasm_free(struct tcpreasm *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nheld; i++)
		free(r->held[i].data);
	free(r->held);
	r->held = NULL;
	r->nheld = 0;
	r->held_bytes = 0;
	free(r->recent);
	r->recent = NULL;
}

static int64_t unwrap(const struct tcpreasm *r, uint32_t seq)
{
	uint32_t rel = seq - r->base_seq;
	int32_t d = (int32_t)(rel - (uint32_t)r->next);
	int64_t off = (int64_t)r->next + d;
	return off < 0 ? -1 : off;
}

int64_t tcpreasm_offset(const struct tcpreasm *r, uint32_t seq)
{
	return r->started ? unwrap(r, seq) : -1;
}

static void emit(struct tcpreasm *r, enum tcpreasm_kind kind, const uint8_t *data, size_t len)
{
	if (r->cb && len)
		r->cb(r->ctx, kind, r->next, data, len);
	r->next += len;
}

static void ring_store(struct tcpreasm *r, const uint8_t *data, size_t n)
{
	size_t w = r->lim.recent_window;
	if (!w)
		return;
	if (!r->recent) {
		r->recent = malloc(w);
		if (!r->recent) {
			r->lim.recent_window = 0; /* compare nothing rather than fail */
			return;
		}
	}
	uint64_t off = r->next;
	if (n > w) {
		data += n - w;
		off += n - w;
		n = w;
	}
	size_t pos = (size_t)(off % w);
	size_t first = w - pos < n ? w - pos : n;
	memcpy(r->recent + pos, data, first);
	memcpy(r->recent, data + first, n - first);
}

/* Compares captured bytes claimed for [off, off + n) with what was delivered. */
static bool ring_differs(const struct tcpreasm *r, uint64_t off, const uint8_t *data, size_t n)
{
	size_t w = r->lim.recent_window;
	if (!w || !r->recent || !n)
		return false;
	uint64_t lo = r->next > w ? r->next - w : 0;
	if (lo < r->recent_from)
		lo = r->recent_from;
	uint64_t s = off > lo ? off : lo;
	uint64_t e = off + n < r->next ? off + n : r->next;
	for (uint64_t o = s; o < e;) {
		size_t pos = (size_t)(o % w);
		size_t run = w - pos;
		if (run > e - o)
			run = (size_t)(e - o);
		if (memcmp(r->recent + pos, data + (o - off), run) != 0)
			return true;
		o += run;
	}
	return false;
}

/* Delivers len bytes at next, of which the first cap are captured at data. */
static void deliver(struct tcpreasm *r, const uint8_t *data, uint32_t len, uint32_t cap)
{
	if (cap) {
		ring_store(r, data, cap);
		r->bytes_data += cap;
		emit(r, TCPREASM_DATA, data, cap);
	}
	if (len > cap) {
		r->bytes_uncaptured += len - cap;
		emit(r, TCPREASM_UNCAPTURED, NULL, len - cap);
		r->recent_from = r->next;
	}
}

static void declare_gap(struct tcpreasm *r, uint64_t len)
{
	if (!len)
		return;
	r->gaps++;
	r->bytes_missed += len;
	if (r->cb)
		r->cb(r->ctx, TCPREASM_GAP, r->next, NULL, (size_t)len);
	r->next += len;
	r->recent_from = r->next;
}

static void pop_front(struct tcpreasm *r, struct tcpreasm_held *out)
{
	*out = r->held[0];
	r->nheld--;
	memmove(r->held, r->held + 1, r->nheld * sizeof *r->held);
	r->held_bytes -= out->cap;
}

/* Delivers every held segment that has become contiguous. */
static void drain(struct tcpreasm *r)
{
	while (r->nheld && r->held[0].off <= r->next) {
		struct tcpreasm_held h;
		pop_front(r, &h);
		uint64_t end = h.off + h.len;
		if (end > r->next) {
			uint64_t k = r->next - h.off;
			uint32_t kc = (uint32_t)(k < h.cap ? k : h.cap);
			deliver(r, h.data ? h.data + kc : NULL, (uint32_t)(h.len - k),
				h.data ? h.cap - kc : 0);
		}
		free(h.data);
	}
}

/* Declares the hole before the first held segment a gap and drains. */
static void force_one(struct tcpreasm *r)
{
	if (r->held[0].off > r->next)
		declare_gap(r, r->held[0].off - r->next);
	drain(r);
}

static bool insert_piece(struct tcpreasm *r, size_t at, uint64_t off, uint32_t len,
			 const uint8_t *data, uint32_t cap)
{
	size_t room = r->lim.max_held_segments * 2 + 2;
	if (r->nheld == room)
		return false;
	if (!r->held) {
		r->held = calloc(room, sizeof *r->held);
		if (!r->held)
			return false;
	}
	uint8_t *copy = NULL;
	if (cap && data) {
		copy = malloc(cap);
		if (copy)
			memcpy(copy, data, cap);
		else
			cap = 0;
	} else {
		cap = 0;
	}
	memmove(r->held + at + 1, r->held + at, (r->nheld - at) * sizeof *r->held);
	r->held[at] = (struct tcpreasm_held){.off = off, .len = len, .cap = cap, .data = copy};
	r->nheld++;
	r->held_bytes += cap;
	return true;
}

/* Holds [off, off + len) beyond next; bytes already held win (first copy). */
static void hold(struct tcpreasm *r, uint64_t off, const uint8_t *data, uint32_t len, uint32_t cap)
{
	uint64_t s = off, e = off + len;
	size_t i = 0;
	bool differs = false;
	while (i < r->nheld && r->held[i].off + r->held[i].len <= s)
		i++;
	for (; s < e; i++) {
		uint64_t hs = i < r->nheld ? r->held[i].off : e;
		uint64_t he = i < r->nheld ? hs + r->held[i].len : e;
		if (s < hs) {
			uint64_t pe = hs < e ? hs : e;
			uint64_t cap_end = off + cap;
			uint32_t pc = cap_end > s ? (uint32_t)((cap_end < pe ? cap_end : pe) - s) : 0;
			if (!insert_piece(r, i, s, (uint32_t)(pe - s), data ? data + (s - off) : NULL,
					  pc))
				break;
			i++;
			s = pe;
			if (s >= e || i >= r->nheld)
				break;
		}
		/* Overlap with held[i]: [s, min(e, he)). */
		uint64_t oe = e < he ? e : he;
		if (oe > s) {
			r->retrans_bytes += oe - s;
			const struct tcpreasm_held *h = &r->held[i];
			uint64_t cs = s, ce = oe;
			if (ce > off + cap)
				ce = off + cap;
			if (ce > h->off + h->cap)
				ce = h->off + h->cap;
			if (data && h->data && ce > cs &&
			    memcmp(data + (cs - off), h->data + (cs - h->off), (size_t)(ce - cs)) != 0)
				differs = true;
			s = oe;
		}
	}
	if (differs)
		r->overlap_differs++;
	while (r->nheld > r->lim.max_held_segments || r->held_bytes > r->lim.max_held_bytes)
		force_one(r);
}

int64_t tcpreasm_segment(struct tcpreasm *r, uint32_t seq, uint8_t flags, const uint8_t *data,
			 uint32_t payload_len, uint32_t cap)
{
	uint32_t data_seq = seq;
	if (flags & PKT_SYN) {
		data_seq = seq + 1;
		if (!r->syn_seen && (!r->started || (r->next == 0 && r->nheld == 0))) {
			r->syn_seen = true;
			r->partial = false;
			r->isn = seq;
			r->base_seq = seq + 1;
			r->started = true;
		}
	}
	if (!r->started) {
		r->started = true;
		r->partial = true;
		r->base_seq = data_seq;
	}
	if (cap > payload_len)
		cap = payload_len;
	if (!data)
		cap = 0;
	uint32_t wire_len = payload_len;
	int64_t off = unwrap(r, data_seq);
	int64_t first = off;
	if (off < 0 && payload_len) {
		/* Starts before offset 0: keep what lies at or after it. */
		uint32_t below = (uint32_t)(0 - (uint32_t)(data_seq - r->base_seq));
		if (below >= payload_len) {
			r->before_start += payload_len;
			payload_len = 0;
		} else {
			r->before_start += below;
			uint32_t k = below < cap ? below : cap;
			data = data ? data + k : NULL;
			cap -= k;
			payload_len -= below;
			off = 0;
		}
	}
	if (payload_len && off >= 0) {
		uint64_t s = (uint64_t)off, e = s + payload_len;
		r->segments++;
		if (e > r->highest)
			r->highest = e;
		if (s < r->next) {
			uint64_t over = (e < r->next ? e : r->next) - s;
			r->retrans_bytes += over;
			uint32_t oc = (uint32_t)(over < cap ? over : cap);
			if (ring_differs(r, s, data, oc))
				r->overlap_differs++;
			if (e <= r->next) {
				r->retrans_segments++;
				payload_len = 0;
			} else {
				data = data ? data + oc : NULL;
				cap -= oc;
				payload_len -= (uint32_t)over;
				s = r->next;
			}
		}
		if (payload_len && s == r->next) {
			/* The hot path: in order and nothing held in the way, no copy. */
			uint64_t limit = r->nheld ? r->held[0].off : UINT64_MAX;
			uint64_t direct = e < limit ? e - s : limit - s;
			uint32_t dc = (uint32_t)(direct < cap ? direct : cap);
			deliver(r, data, (uint32_t)direct, dc);
			if (direct < payload_len)
				hold(r, s + direct, data ? data + dc : NULL,
				     (uint32_t)(payload_len - direct), cap - dc);
			drain(r);
		} else if (payload_len) {
			r->ooo_segments++;
			hold(r, s, data, payload_len, cap);
		}
	}
	if ((flags & PKT_FIN) && !r->fin_seen) {
		/* The FIN sits after the segment's payload; recompute from the sequence
		 * number since the payload may have been trimmed above. */
		int64_t fo = unwrap(r, data_seq + wire_len);
		r->fin_seen = true;
		r->fin_off = fo < 0 ? 0 : (uint64_t)fo;
	}
	if ((flags & PKT_RST) && !r->rst_seen) {
		r->rst_seen = true;
		r->rst_off = off < 0 ? 0 : (uint64_t)off;
	}
	return first;
}

void tcpreasm_finish(struct tcpreasm *r)
{
	while (r->nheld)
		force_one(r);
	if (r->fin_seen && r->fin_off > r->next)
		declare_gap(r, r->fin_off - r->next);
}
