/* sha256 — SHA-256 (FIPS 180-4), incremental: what the probe hashes bodies with to
 * compare them (seedless bodies against --compare-direct or learned ones).
 *
 * Written here because the Windows build has no OpenSSL; one code path on every
 * platform. Caller memory, no allocation: sha256_init(), sha256_update() any number of
 * times with any lengths, sha256_final().
 */
#ifndef TP_SHA256_H
#define TP_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32

struct sha256 {
	uint32_t h[8];
	uint64_t bytes;      /* hashed so far */
	uint8_t block[64];   /* the block being filled: bytes % 64 of it are in */
};

void sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *data, size_t len);
/* Writes the digest; c must be initialised again before it is used again. */
void sha256_final(struct sha256 *c, uint8_t out[SHA256_LEN]);

#endif
