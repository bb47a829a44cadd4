/* libFuzzer target: a capture file (pcap or pcapng, read by libpcap from memory)
 * loaded as an `origin --replay` recording — reassembly, request/response pairing by
 * HTTP/1 framing, segment timing, the key table — then matched. Nothing may crash,
 * leak or read out of bounds, whatever the file claims. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "replay/recording.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	FILE *fp = fmemopen((void *)data, size, "rb");
	if (!fp)
		return 0;
	struct recording r;
	char err[600];
	if (recording_load_pcap(&r, fp, "fuzz", err, sizeof err) < 0)
		return 0;
	size_t total = 0;
	for (size_t i = 0; i < r.n; i++) {
		const struct rec_entry *e = &r.e[i];
		if (e->off + e->len > r.used || e->seg_off + e->nseg > r.nsegs)
			__builtin_trap();
		size_t seglen = 0;
		for (size_t s = 0; s < e->nseg; s++)
			seglen += r.segs[e->seg_off + s].len;
		if (e->nseg && seglen != e->len)
			__builtin_trap(); /* the segments cover the response exactly */
		const struct rec_entry *m = recording_match(&r, e->method, e->target);
		if (!m)
			__builtin_trap(); /* every recorded key answers */
		total += recording_bytes(&r, m)[0];
	}
	(void)total;
	recording_free(&r);
	return 0;
}
