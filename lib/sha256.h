/* sha256 — SHA-256 (FIPS 180-4), incremental: what the probe hashes bodies with to
 * compare them (seedless bodies against --compare-direct or learned ones).
 *
 * On Linux the digest is OpenSSL's (about 10x the portable code's speed here: 1.1 GB/s
 * against 0.11 GB/s on 16 KiB pieces); the Windows build has no OpenSSL and uses the
 * portable code below. sha256_init(), sha256_update() any number of times with any
 * lengths, sha256_final(); sha256_free() when the struct is done with.
 */
#ifndef TP_SHA256_H
#define TP_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32

/* The portable code's state (what the Windows build hashes with). */
struct sha256_soft {
	uint32_t h[8];
	uint64_t bytes;      /* hashed so far */
	uint8_t block[64];   /* the block being filled: bytes % 64 of it are in */
};

struct sha256 {
#ifdef _WIN32
	struct sha256_soft soft;
#else
	void *evp;           /* EVP_MD_CTX *: made by the first sha256_init(), kept until
			      * sha256_free() (zero the struct before the first init) */
#endif
};

/* Starts a digest. 0, or -ENOMEM (Linux: the first init of a struct allocates). */
int sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *data, size_t len);
/* Writes the digest; c must be initialised again before it is used again. */
void sha256_final(struct sha256 *c, uint8_t out[SHA256_LEN]);
/* Frees what init made; c may be zeroed or already freed. */
void sha256_free(struct sha256 *c);

/* The portable implementation, on every platform (the unit test holds it to OpenSSL). */
void sha256_soft_init(struct sha256_soft *c);
void sha256_soft_update(struct sha256_soft *c, const void *data, size_t len);
void sha256_soft_final(struct sha256_soft *c, uint8_t out[SHA256_LEN]);

#endif
