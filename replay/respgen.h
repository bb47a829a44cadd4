/* respgen — the bytes of one response of the replay origin, produced on demand from a
 * plan (sites.h): the head, then the body from the payload generator (lib/payload.h)
 * with its framing (Content-Length, chunked, close-delimited) and encoding (gzip, via
 * zlib, streaming). Bounded memory whatever the size; sans-I/O. */
#ifndef TP_REPLAY_RESPGEN_H
#define TP_REPLAY_RESPGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "replay/sites.h"

struct respgen {
	struct plan plan;
	uint64_t seed;
	uint64_t produced;      /* decoded payload bytes generated so far */
	char head[1024];
	size_t head_len, head_off;
	bool body_done;         /* every body byte (and the last chunk) was produced */
	size_t seg_i, seg_left; /* timed replay: the next recorded segment, bytes left of this one */
	bool gap_taken;         /* the gap before segment seg_i was waited for */
	void *z;                /* z_stream * while gzip encoding */
	bool z_end;
	uint8_t zin[16384];     /* payload waiting to be compressed */
};

/* Prepares the response for plan and seed; id (the request's X-Probe-Id, may be NULL)
 * is echoed. Returns 0, or -ENOMEM (gzip state). */
int respgen_init(struct respgen *g, const struct plan *plan, uint64_t seed, const char *id,
		 bool keep_alive);
/* Writes the next bytes (at least 64 bytes of room wanted) into out. Returns the count,
 * 0 when the response is complete. */
size_t respgen_fill(struct respgen *g, uint8_t *out, size_t cap);
/* Timed replay: before the next recorded segment, the gap to wait in microseconds (once;
 * 0 afterwards, between segments, or when the plan has no segments). */
uint32_t respgen_gap_us(struct respgen *g);
/* True when the head has been produced in full. */
static inline bool respgen_head_done(const struct respgen *g) { return g->head_off == g->head_len; }
void respgen_free(struct respgen *g);

#endif
