/* sha256 — see sha256.h. FIPS 180-4, section 6.2. */
#include "lib/sha256.h"

#include <errno.h>
#include <string.h>

#ifndef _WIN32
#include <openssl/evp.h>
#endif

static const uint32_t k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t ror(uint32_t x, unsigned n) { return x >> n | x << (32 - n); }

static void compress(uint32_t h[8], const uint8_t p[64])
{
	uint32_t w[64];
	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 |
		       p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ror(w[i - 15], 7) ^ ror(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ror(w[i - 2], 17) ^ ror(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
	for (int i = 0; i < 64; i++) {
		uint32_t t1 = hh + (ror(e, 6) ^ ror(e, 11) ^ ror(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
		uint32_t t2 = (ror(a, 2) ^ ror(a, 13) ^ ror(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
		hh = g;
		g = f;
		f = e;
		e = d + t1;
		d = c;
		c = b;
		b = a;
		a = t1 + t2;
	}
	h[0] += a;
	h[1] += b;
	h[2] += c;
	h[3] += d;
	h[4] += e;
	h[5] += f;
	h[6] += g;
	h[7] += hh;
}

void sha256_soft_init(struct sha256_soft *c)
{
	static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
				       0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
	memcpy(c->h, iv, sizeof iv);
	c->bytes = 0;
}

void sha256_soft_update(struct sha256_soft *c, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t have = (size_t)(c->bytes % 64);
	c->bytes += len;
	if (have) {
		size_t take = 64 - have < len ? 64 - have : len;
		memcpy(c->block + have, p, take);
		p += take;
		len -= take;
		if (have + take < 64)
			return;
		compress(c->h, c->block);
	}
	for (; len >= 64; p += 64, len -= 64)
		compress(c->h, p);
	memcpy(c->block, p, len);
}

void sha256_soft_final(struct sha256_soft *c, uint8_t out[SHA256_LEN])
{
	uint64_t bits = c->bytes * 8;
	size_t have = (size_t)(c->bytes % 64);
	c->block[have++] = 0x80;
	if (have > 56) {
		memset(c->block + have, 0, 64 - have);
		compress(c->h, c->block);
		have = 0;
	}
	memset(c->block + have, 0, 56 - have);
	for (int i = 0; i < 8; i++)
		c->block[56 + i] = (uint8_t)(bits >> (56 - 8 * i));
	compress(c->h, c->block);
	for (int i = 0; i < 8; i++) {
		out[4 * i] = (uint8_t)(c->h[i] >> 24);
		out[4 * i + 1] = (uint8_t)(c->h[i] >> 16);
		out[4 * i + 2] = (uint8_t)(c->h[i] >> 8);
		out[4 * i + 3] = (uint8_t)c->h[i];
	}
}

#ifdef _WIN32
int sha256_init(struct sha256 *c)
{
	sha256_soft_init(&c->soft);
	return 0;
}

void sha256_update(struct sha256 *c, const void *data, size_t len)
{
	sha256_soft_update(&c->soft, data, len);
}

void sha256_final(struct sha256 *c, uint8_t out[SHA256_LEN])
{
	sha256_soft_final(&c->soft, out);
}

void sha256_free(struct sha256 *c)
{
	(void)c;
}
#else
/* OpenSSL's EVP calls fail only for want of memory or a broken provider; a context
 * that failed is freed, and what it hashes then is all zeros (never a match). */
int sha256_init(struct sha256 *c)
{
	if (!c->evp && !(c->evp = EVP_MD_CTX_new()))
		return -ENOMEM;
	if (EVP_DigestInit_ex(c->evp, EVP_sha256(), NULL) != 1) {
		sha256_free(c);
		return -ENOMEM;
	}
	return 0;
}

void sha256_update(struct sha256 *c, const void *data, size_t len)
{
	if (c->evp && EVP_DigestUpdate(c->evp, data, len) != 1)
		sha256_free(c);
}

void sha256_final(struct sha256 *c, uint8_t out[SHA256_LEN])
{
	unsigned int n = 0;
	if (!c->evp || EVP_DigestFinal_ex(c->evp, out, &n) != 1 || n != SHA256_LEN)
		memset(out, 0, SHA256_LEN);
}

void sha256_free(struct sha256 *c)
{
	EVP_MD_CTX_free(c->evp);
	c->evp = NULL;
}
#endif
