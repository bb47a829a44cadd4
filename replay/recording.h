/* recording — responses recorded elsewhere, for `origin --replay FILE`: a pcap/pcapng
 * of plain HTTP/1.1 (each flow's client→server stream split into requests, its
 * server→client stream into responses by their framing, request i paired with
 * response i), or a directory of raw response files (NNN.http, served in name order,
 * with an optional `index` of "METHOD TARGET FILE" lines to match by request).
 *
 * Pcap recordings also keep each response's segments as captured (sizes and the gaps
 * between them) for `--replay-timing`.
 *
 * A loaded recording is read-only but for its per-key match counters (atomic), so every
 * worker thread shares one. Responses are kept byte for byte in one arena capped at
 * RECORDING_MAX_BYTES.
 */
#ifndef TP_REPLAY_RECORDING_H
#define TP_REPLAY_RECORDING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define RECORDING_MAX_BYTES (256u << 20)
#define RECORDING_MAX_ENTRIES 100000

/* One server write as recorded: its payload length and the time since the previous
 * one (for the first, since the request's last byte was captured). */
struct rec_seg {
	uint32_t len;
	uint32_t gap_us; /* capped at RECORDING_MAX_GAP_US */
};

#define RECORDING_MAX_GAP_US 30000000u

struct rec_entry {
	char method[16];     /* "*" matches any (raw files without an index) */
	char target[512];    /* origin form; "*" matches any */
	size_t off, len;     /* the response bytes in the arena */
	int status;          /* its final status code (for the ledger) */
	bool close;          /* the recorded response ended with the connection */
	size_t seg_off, nseg; /* its recorded segments in segs (pcap only; 0 for raw files) */
};

struct rec_key {
	uint64_t hash;
	size_t first;          /* its first entry */
	size_t start, count;   /* its entries: order[start .. start + count) */
	atomic_uint next;      /* which of them answers next */
};

struct recording {
	struct rec_entry *e;
	size_t n, cap;
	uint8_t *arena;
	size_t used, arena_cap;
	struct rec_seg *segs;
	size_t nsegs, segs_cap;
	struct rec_key *keys;  /* distinct method + target, in first-recorded order */
	size_t nkeys;
	uint32_t *slots;       /* open addressing: key index + 1, 0 empty */
	size_t nslots;
	uint32_t *order;       /* entry indexes grouped by key, recorded order within one */
	size_t skipped_flows; /* pcap flows left out because bytes were missing */
};

/* Loads a pcap/pcapng file or a directory of raw responses. A flow with bytes missing
 * (snap length, kernel drops) is left out and counted in skipped_flows; a capture with
 * no complete flow fails. Returns 0, or -EINVAL / -EIO / -ENOMEM / -EFBIG with
 * "PATH: why" (and the packet number when it applies) in err. */
int recording_load(struct recording *r, const char *path, char *err, size_t errlen);
/* The same for a capture already open (fuzzing reads one from memory); takes fp and
 * closes it; name is used in messages. */
int recording_load_pcap(struct recording *r, FILE *fp, const char *name, char *err, size_t errlen);
void recording_free(struct recording *r);

/* The recorded entry answering a request: the k-th recording of the same method and
 * target for the k-th such request, wrapping around; NULL when nothing matches. Its
 * bytes are recording_bytes(r, e), its segments r->segs + e->seg_off. */
const struct rec_entry *recording_match(struct recording *r, const char *method, const char *target);
static inline const uint8_t *recording_bytes(const struct recording *r, const struct rec_entry *e)
{
	return r->arena + e->off;
}

#endif
