/* recording — responses recorded elsewhere, for `origin --replay FILE`: a pcap/pcapng
 * of plain HTTP/1.1 (each flow's client→server stream split into requests, its
 * server→client stream into responses by their framing, request i paired with
 * response i), or a directory of raw response files (NNN.http, served in name order,
 * with an optional `index` of "METHOD TARGET FILE" lines to match by request).
 *
 * A loaded recording is read-only but for its match counters (atomic), so every
 * worker thread shares one. Responses are kept byte for byte in one arena capped at
 * RECORDING_MAX_BYTES.
 */
#ifndef TP_REPLAY_RECORDING_H
#define TP_REPLAY_RECORDING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RECORDING_MAX_BYTES (256u << 20)
#define RECORDING_MAX_ENTRIES 100000

struct rec_entry {
	char method[16];     /* "*" matches any (raw files without an index) */
	char target[512];    /* origin form; "*" matches any */
	size_t off, len;     /* the response bytes in the arena */
	bool close;          /* the recorded response ended with the connection */
	atomic_uint *next;   /* shared by the entries of one key: which one answers next */
};

struct recording {
	struct rec_entry *e;
	size_t n, cap;
	uint8_t *arena;
	size_t used, arena_cap;
	atomic_uint *counters; /* one per distinct key */
	size_t ncounters;
	size_t skipped_flows; /* pcap flows left out because bytes were missing */
};

/* Loads a pcap/pcapng file or a directory of raw responses. A flow with bytes missing
 * (snap length, kernel drops) is left out and counted in skipped_flows; a capture with
 * no complete flow fails. Returns 0, or -EINVAL / -EIO / -ENOMEM / -EFBIG with
 * "PATH: why" (and the packet number when it applies) in err. */
int recording_load(struct recording *r, const char *path, char *err, size_t errlen);
void recording_free(struct recording *r);

/* The response for a request: the k-th recording of the same method and target for
 * the k-th such request, wrapping around; NULL when nothing matches. *len receives its
 * length; *close whether the recorded connection ended with it. */
const uint8_t *recording_match(struct recording *r, const char *method, const char *target,
			       size_t *len, bool *close);

#endif
