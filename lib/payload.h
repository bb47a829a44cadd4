/* payload — the deterministic body generator the origin serves and the probe verifies.
 *
 * A body is the byte stream of a seed: byte i is byte (i % 8) of
 * splitmix64(seed + (i / 8) * PAYLOAD_GOLDEN), little-endian. Any offset can be
 * generated or checked without the bytes before it, so a verifier works on whatever
 * span arrives. The origin derives the seed from the request target
 * (payload_seed()) and announces it in the response as
 *   X-Tp-Seed: <16 hex digits>     X-Tp-Length: <decoded body length>
 * so the probe can verify any response carrying them (also from nginx serving files
 * written by `tunnelprobe gen`).
 */
#ifndef TP_PAYLOAD_H
#define TP_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#define PAYLOAD_GOLDEN 0x9e3779b97f4a7c15ull

/* FNV-1a 64 of the origin-form request target ("/bytes/1024?x=1"). */
uint64_t payload_seed(const char *target, size_t len);
/* Writes len bytes of the seed's stream, starting at stream offset `offset`. */
void payload_fill(uint64_t seed, uint64_t offset, uint8_t *out, size_t len);
/* Checks data against the stream at `offset`. Returns -1 when all bytes match, else
 * the index (within data) of the first byte that differs. */
long payload_verify(uint64_t seed, uint64_t offset, const uint8_t *data, size_t len);

#endif
