/* libFuzzer target: lib/tlsrec on an arbitrary stream, fed in pieces whose sizes come
 * from the first byte, with every 7th piece replaced by an uncaptured range or a gap. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/tlsrec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	size_t step = (size_t)data[0] % 17 + 1;
	struct tlsrec t;
	tlsrec_init(&t);
	size_t piece = 0;
	for (size_t off = 1; off < size; off += step, piece++) {
		size_t n = size - off < step ? size - off : step;
		if (data[0] & 0x80 && piece % 7 == 6)
			tlsrec_feed(&t, NULL, n);
		else if (data[0] & 0x40 && piece % 7 == 5)
			tlsrec_gap(&t, n);
		else
			tlsrec_feed(&t, data + off, n);
	}
	if (t.pos != size - 1 || memchr(t.sni, '\0', sizeof t.sni) == NULL)
		__builtin_trap();
	char nb[16];
	(void)tlsrec_close_name(tlsrec_close_kind(&t, data[0] & 1));
	(void)tlsrec_alert_name(t.last_alert.desc, nb, sizeof nb);
	tlsrec_free(&t);
	return 0;
}
