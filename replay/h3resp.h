/* h3resp — the HTTP/3 shape of a response of the replay origin. respgen.c produces a
 * response as HTTP/1.1 bytes (its head, then the body in its framing), for generated and
 * recorded responses alike; HTTP/3 carries the same response as a header section and
 * plain DATA. This turns one into the other, so the origin has one way to make a
 * response whatever carries it: the head becomes header fields (names lowercased,
 * hop-by-hop fields dropped, interim 1xx heads skipped), and the body loses its framing
 * (chunked becomes plain bytes; a close-delimited body simply ends) but keeps its
 * content coding (gzip stays gzip). A timed replay keeps its recorded schedule: the
 * body comes in the recorded segments, after the recorded gaps.
 *
 * Sans-I/O: bytes out on demand, bounded memory whatever the size (a respgen and one
 * 16 KiB buffer), no allocation but respgen's gzip state.
 */
#ifndef TP_REPLAY_H3RESP_H
#define TP_REPLAY_H3RESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/h3.h"
#include "lib/http1.h"
#include "replay/respgen.h"

/* The header section, for h3_submit_response (which copies it): fields point into
 * arena. Callers keep it on the stack for the call. */
struct h3resp_head {
	int status;                     /* final status, 200..599 */
	bool body;                      /* a body follows (else the response is its head) */
	struct h3_header fields[H3_MAX_FIELDS];
	size_t nfields;
	char arena[HTTP1_MAX_HEAD];
};

struct h3resp {
	struct respgen gen;
	uint64_t head_left;       /* HTTP/1 head bytes (interim heads too) still to drop */
	struct http1_body body;   /* the body's framing, decoded away */
	uint8_t raw[16384];       /* HTTP/1 bytes from respgen */
	size_t raw_off, raw_len;
	const uint8_t *span;      /* decoded body bytes not yet taken (inside raw) */
	size_t span_len;
	uint64_t body_bytes;      /* decoded body bytes handed out so far */
	bool ended;               /* the body is complete (or the recording ran out) */
	bool cut_short;           /* a recorded body ended before its framing said it would */
};

/* Prepares the response for plan (respgen_init's seed and id) to a request of method
 * head_request (HEAD: no body whatever the head says), and fills *head. A recorded
 * response whose head cannot be read becomes a 502 without a body. Returns 0, or
 * -ENOMEM (gzip state: *head is then a 500 without a body, and r needs no free). */
int h3resp_init(struct h3resp *r, const struct plan *plan, uint64_t seed, const char *id,
		bool head_request, struct h3resp_head *head);

/* The next decoded body bytes: *data points into r, valid until the next call to
 * h3resp_peek or h3resp_take. Returns the count (> 0), 0 when the body is complete
 * (r->ended), or -EAGAIN when a timed replay's next segment comes after a gap: *gap_us
 * says how long after the previous one (given once; the next call goes on) — the
 * caller keeps the schedule. -EPROTO when a recorded body's framing is broken (the
 * stream should be reset). */
long h3resp_peek(struct h3resp *r, const uint8_t **data, uint32_t *gap_us);
/* n (<= the last peek's count) of those bytes were taken. */
void h3resp_take(struct h3resp *r, size_t n);

void h3resp_free(struct h3resp *r);

#endif
