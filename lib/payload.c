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
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	memcpy(out, &v, 8);
#else
	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(v >> (8 * i));
#endif
}

static inline uint64_t get_le64(const uint8_t *in)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint64_t v;
	memcpy(&v, in, 8);
	return v;
#else
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = v << 8 | in[i];
	return v;
#endif
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
	/* Four independent words per step: the multiplies overlap in the pipeline. */
	for (; len >= 32; len -= 32, out += 32, word += 4) {
		put_le64(out, word_at(seed, word));
		put_le64(out + 8, word_at(seed, word + 1));
		put_le64(out + 16, word_at(seed, word + 2));
		put_le64(out + 24, word_at(seed, word + 3));
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
	size_t done = 0;
	/* Unaligned head and tail go through a small buffer; whole words compare in place. */
	size_t head = (size_t)((8 - offset % 8) % 8);
	if (head > len)
		head = len;
	uint8_t tmp[8];
	if (head) {
		payload_fill(seed, offset, tmp, head);
		for (size_t i = 0; i < head; i++)
			if (tmp[i] != data[i])
				return (long)i;
		done = head;
	}
	uint64_t word = (offset + done) / 8;
	for (; len - done >= 8; done += 8, word++) {
		if (get_le64(data + done) != word_at(seed, word)) {
			put_le64(tmp, word_at(seed, word));
			for (size_t i = 0; i < 8; i++)
				if (tmp[i] != data[done + i])
					return (long)(done + i);
		}
	}
	if (done < len) {
		payload_fill(seed, offset + done, tmp, len - done);
		for (size_t i = 0; done + i < len; i++)
			if (tmp[i] != data[done + i])
				return (long)(done + i);
	}
	return -1;
}
