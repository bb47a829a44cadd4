/* libFuzzer target: lib/tcpreasm driven by a script of segments. Each 12-byte step:
 * seq (4), flags (1), payload length (2), captured length (2), data seed (1),
 * 2 spare. Delivery must be in order, each byte once, and memory within the caps. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/tcpreasm.h"

struct check {
	uint64_t next;
};

static void cb(void *ctx, enum tcpreasm_kind kind, uint64_t off, const uint8_t *data, size_t len)
{
	struct check *c = ctx;
	if (off != c->next || len == 0 || (kind == TCPREASM_DATA) != (data != NULL))
		__builtin_trap();
	volatile uint8_t sink = 0;
	if (data)
		for (size_t i = 0; i < len; i++)
			sink ^= data[i]; /* touch every byte: ASan checks it is live */
	(void)sink;
	c->next = off + len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t payload[65536];
	struct check c = {0};
	struct tcpreasm_limits lim = {.max_held_segments = 8, .max_held_bytes = 4096,
				      .recent_window = 512};
	struct tcpreasm r;
	tcpreasm_init(&r, &lim, cb, &c);
	for (size_t i = 0; i + 12 <= size; i += 12) {
		const uint8_t *s = data + i;
		uint32_t seq = (uint32_t)s[0] << 24 | (uint32_t)s[1] << 16 | (uint32_t)s[2] << 8 | s[3];
		uint32_t len = (uint32_t)(s[5] << 8 | s[6]) % 3000;
		uint32_t cap = (uint32_t)(s[7] << 8 | s[8]) % 3001;
		memset(payload, s[9], len);
		tcpreasm_segment(&r, seq, s[4], payload, len, cap);
		if (r.nheld > lim.max_held_segments || r.held_bytes > lim.max_held_bytes)
			__builtin_trap();
	}
	tcpreasm_finish(&r);
	if (c.next != r.next || r.next != r.bytes_data + r.bytes_uncaptured + r.bytes_missed)
		__builtin_trap();
	tcpreasm_free(&r);
	return 0;
}
