/* libFuzzer target: "I/N" shard parsing (lib/shard.h). The input is copied to an
 * exact-size NUL-terminated heap buffer, so ASan sees any read past the string.
 * Checks the contract as well as "no crash": a failure has a reason and leaves the
 * output alone; a success has 0 <= I < N <= SHARD_MAX, formats back to text that
 * parses to the same shard, and its split stays in range. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/shard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 256)
		return 0;
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	struct shard sh = {7, 0}, back;
	const char *why = NULL;
	if (shard_parse(s, &sh, &why) == 0) {
		char text[SHARD_TEXT_MAX];
		if (sh.count == 0 || sh.count > SHARD_MAX || sh.index >= sh.count)
			__builtin_trap();
		if (shard_parse(shard_text(&sh, text, sizeof text), &back, &why) != 0 || back.index != sh.index ||
		    back.count != sh.count)
			__builtin_trap();
		if (shard_part(&sh, 1000) > 1000 || shard_connections(&sh, 3) == 0)
			__builtin_trap();
		if (shard_part(&sh, 1000) && shard_number(&sh, shard_part(&sh, 1000) - 1) >= 1000)
			__builtin_trap();
	} else if (!why || sh.index != 7 || sh.count != 0) {
		__builtin_trap();
	}
	free(s);
	return 0;
}
