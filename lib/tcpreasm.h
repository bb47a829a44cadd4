/* tcpreasm — sans-I/O reassembly of one direction of a TCP stream.
 *
 * Sequence numbers become 64-bit stream offsets counted from the first payload byte
 * (ISN + 1), unwrapped against the delivery point, so a stream longer than 4 GiB or
 * one whose ISN sits just below 2^32 keeps counting. A stream picked up midstream (no
 * SYN) starts at the first sequence number seen and is marked partial.
 *
 * Bytes are delivered in order through one callback, as three kinds of ranges:
 * captured payload, payload that crossed the wire but was cut by the snaplen (no data),
 * and gaps (bytes that never appeared in the capture). Retransmissions and overlaps are
 * first-copy-wins: the later copy is compared with what was delivered (within the last
 * `recent_window` bytes, or against held segments) and `overlap_differs` counts the
 * overlaps whose bytes disagree. Out-of-order segments are held up to caps; when a cap
 * is hit the oldest hole is declared a gap so memory stays bounded per stream.
 *
 * Ownership: struct tcpreasm is caller memory; tcpreasm_init() allocates nothing (the
 * recent-bytes window is allocated on first use, held segments as they arrive);
 * tcpreasm_free() releases that memory and leaves the counters readable.
 */
#ifndef TP_TCPREASM_H
#define TP_TCPREASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tcpreasm_kind {
	TCPREASM_DATA = 0,   /* captured payload bytes */
	TCPREASM_UNCAPTURED, /* bytes on the wire, not in the capture (snaplen); data NULL */
	TCPREASM_GAP,        /* bytes never seen at all; data NULL */
};

/* Receives [off, off + len) of the stream, in order, exactly once per byte. */
typedef void (*tcpreasm_cb)(void *ctx, enum tcpreasm_kind kind, uint64_t off,
			    const uint8_t *data, size_t len);

struct tcpreasm_limits {
	size_t max_held_segments; /* out-of-order segments held (0: 256) */
	size_t max_held_bytes;    /* captured bytes held for them (0: 1 MiB) */
	size_t recent_window;     /* delivered bytes kept to compare retransmissions
				   * (0: none, no comparison of delivered data) */
};

struct tcpreasm_held {
	uint64_t off;
	uint32_t len;     /* bytes on the wire */
	uint32_t cap;     /* of which captured (data holds cap bytes) */
	uint8_t *data;
};

struct tcpreasm {
	struct tcpreasm_limits lim;
	tcpreasm_cb cb;
	void *ctx;

	bool started;      /* base_seq known */
	bool syn_seen;
	bool partial;      /* picked up midstream */
	uint32_t isn;      /* SYN's sequence number (valid when syn_seen) */
	uint32_t base_seq; /* sequence number of stream offset 0 */
	uint64_t next;     /* offset of the next byte to deliver */
	uint64_t highest;  /* highest end offset of any payload seen */

	/* Counters (bytes unless said otherwise). next == data + uncaptured + missed. */
	uint64_t bytes_data, bytes_uncaptured, bytes_missed;
	uint64_t segments;          /* segments with payload */
	uint64_t retrans_segments;  /* segments carrying only bytes seen before */
	uint64_t retrans_bytes;     /* payload bytes seen a second time */
	uint64_t overlap_differs;   /* overlaps whose bytes disagree with the first copy */
	uint64_t ooo_segments;      /* segments that arrived ahead of a hole */
	uint64_t gaps;              /* holes declared (each adds to bytes_missed) */
	uint64_t before_start;      /* payload bytes before offset 0 (dropped) */

	bool fin_seen, rst_seen;
	uint64_t fin_off;  /* stream offset of the FIN (= bytes before it) */
	uint64_t rst_off;  /* stream offset the RST carried */

	struct tcpreasm_held *held; /* sorted by off, non-overlapping */
	size_t nheld, held_bytes;

	uint8_t *recent;        /* ring of lim.recent_window bytes, by offset */
	uint64_t recent_from;   /* ring content is valid for [recent_from, next) */
};

/* Sets up an empty stream. lim may be NULL for the defaults. cb may be NULL (count only). */
void tcpreasm_init(struct tcpreasm *r, const struct tcpreasm_limits *lim, tcpreasm_cb cb,
		   void *ctx);
/* Releases held segments and the ring; counters stay readable. NULL-safe, repeatable. */
void tcpreasm_free(struct tcpreasm *r);

/* Feeds one segment sent in this direction: its sequence number, TCP flags (pkt.h
 * PKT_* bits), payload_len bytes on the wire of which cap were captured at data.
 * Returns the stream offset of the segment's first payload byte (which may be below
 * next for a retransmission), or -1 when the segment lies before the stream start. */
int64_t tcpreasm_segment(struct tcpreasm *r, uint32_t seq, uint8_t flags, const uint8_t *data,
			 uint32_t payload_len, uint32_t cap);

/* The stream offset a sequence number of this direction maps to (unwrapped), e.g. an
 * ACK from the other side. Returns -1 when the stream has not started or the number
 * lies before offset 0. */
int64_t tcpreasm_offset(const struct tcpreasm *r, uint32_t seq);

/* End of input (capture over or connection closed): delivers what is held, declaring
 * the holes before it — and any bytes missing before a seen FIN — as gaps. */
void tcpreasm_finish(struct tcpreasm *r);

#endif
