/* base64 — RFC 4648 base64 (standard alphabet, padded): an encoder and a strict decoder.
 *
 * Written here because HTTP Basic credentials (the probe's Proxy-Authorization, the
 * reference proxy's --auth check and its upstream's user:pass) must work in the Windows
 * build too, where there is no OpenSSL; one code path on every platform. Sans-I/O,
 * allocation-free, caller buffers.
 */
#ifndef TP_BASE64_H
#define TP_BASE64_H

#include <stddef.h>

/* Characters base64_encode() writes for n bytes (without the NUL): 4 * ceil(n / 3). */
static inline size_t base64_encoded_len(size_t n) { return (n + 2) / 3 * 4; }

/* Encodes in[0..n) into out, padded with '=', NUL-terminated. Returns the length
 * (base64_encoded_len(n)), or -ENOSPC when cap < base64_encoded_len(n) + 1 (out is then
 * left alone). */
long base64_encode(const void *in, size_t n, char *out, size_t cap);

/* Decodes in[0..n) into out. Strict: n is a multiple of 4, every character is of the
 * alphabet, '=' only as the last one or two (a decoder that took '=' anywhere, as
 * OpenSSL's EVP_DecodeBlock does, would read "QQ==QQ==" as something). The unused bits
 * of a padded group are not checked (RFC 4648 §3.5 allows either). Returns the number of
 * bytes decoded, -EINVAL for input that is not such base64 (nothing useful in out), or
 * -ENOSPC when they would not fit in cap. */
long base64_decode(const char *in, size_t n, void *out, size_t cap);

#endif
