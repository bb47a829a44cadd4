/* payload — see payload.h. Word-at-a-time so generation runs at memory speed. */
#include "lib/payload.h"

#include <string.h>

static inline uint64_t splitmix64(uint64_t x)
{
	x += PAYLOAD_GOLDEN;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static inline uint64_t word_at(uint64_t seed, uint64_t word_index)
{
	return splitmix64(seed + word_index * PAYLOAD_GOLDEN);
}

static inline void put_le64(uint8_t *out, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(v >> (8 * i));
}

uint64_t payload_seed(const char *target, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < len; i++) {
		h ^= (uint8_t)target[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

void payload_fill(uint64_t seed, uint64_t offset, uint8_t *out, size_t len)
{
	uint64_t word = offset / 8;
	unsigned skip = (unsigned)(offset % 8);
	uint8_t tmp[8];
	if (skip && len) {
		put_le64(tmp, word_at(seed, word++));
		size_t n = 8 - skip < len ? 8 - skip : len;
		memcpy(out, tmp + skip, n);
		out += n;
		len -= n;
	}
	for (; len >= 8; len -= 8, out += 8)
		put_le64(out, word_at(seed, word++));
	if (len) {
		put_le64(tmp, word_at(seed, word));
		memcpy(out, tmp, len);
	}
}

long payload_verify(uint64_t seed, uint64_t offset, const uint8_t *data, size_t len)
{
	uint8_t expect[512];
	size_t done = 0;
	while (done < len) {
		size_t n = len - done < sizeof expect ? len - done : sizeof expect;
		payload_fill(seed, offset + done, expect, n);
		if (memcmp(expect, data + done, n) != 0) {
			for (size_t i = 0; i < n; i++)
				if (expect[i] != data[done + i])
					return (long)(done + i);
		}
		done += n;
	}
	return -1;
}
