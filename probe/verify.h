/* verify — what the probe checks in every response, whatever carried it (HTTP/1.1 or
 * HTTP/3): the status, every payload byte against lib/payload when the origin announced
 * X-Tp-Seed (after gzip decoding for gzip bodies; X-Tp-Length the decoded length), or
 * the body's SHA-256 against a known one (--urls-file sha256=/length=, or the direct
 * fetch of --compare-direct). Records count decoded bytes.
 *
 * The exchanges hand over a parsed head (struct http1_response: HTTP/3 fields are put
 * into the same struct, with framing LENGTH for a content-length and CLOSE for a body
 * that runs to the stream's end), then payload bytes after their own framing, then the
 * end. Every function that returns -1 has ended the request through conn_finish().
 */
#ifndef TP_PROBE_VERIFY_H
#define TP_PROBE_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "lib/http1.h"
#include "probe/conn.h"

/* The head is complete: status, what the body will be checked by, what it should
 * hold. Sets c->framing and c->state = CONN_BODY. 0, or -1 (the request ended). */
int verify_head(struct conn *c, const struct http1_response *resp);
/* Payload bytes after de-framing (still gzip-encoded when the body is gzip). 0, or -1. */
int verify_body(struct conn *c, const uint8_t *data, size_t len);
/* The body ended by its framing (or at EOF for CLOSE framing): lengths, gzip end,
 * seed or SHA-256, status. 1 when the request ended ok, -1 when it ended otherwise. */
int verify_end(struct conn *c);
/* The end of a close-delimited body came (EOF / stream FIN) short of what was
 * announced: true, having ended the request as incomplete_read. */
bool verify_short(struct conn *c, enum tp_phase phase);
/* Frees what the slot keeps for checks (gzip and SHA-256 contexts). */
void verify_free(struct conn *c);

#endif
