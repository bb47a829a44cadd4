/* libFuzzer target: lib/pkt on arbitrary frames. The first byte picks the link type,
 * the second caps the captured length (its top bit asks for UDP too: pkt_parse_ip);
 * the parse must stay inside the buffer and a TCP or UDP result must be
 * self-consistent. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/pkt.h"

static const int links[] = {0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 999};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	int lt = links[data[0] % (sizeof links / sizeof links[0])];
	size_t frame_len = size - 2;
	/* The claimed wire length may exceed the captured length, as with a snaplen. */
	size_t wire = frame_len + (size_t)data[1] * 64;
	struct pkt p;
	bool udp = data[1] & 0x80;
	int rc = udp ? pkt_parse_ip(lt, data + 2, frame_len, wire, data[1] & 1, &p)
		     : pkt_parse(lt, data + 2, frame_len, wire, data[1] & 1, &p);
	if (rc == 0) {
		if (p.proto != PKT_PROTO_TCP && !(udp && p.proto == PKT_PROTO_UDP))
			__builtin_trap();
		if (p.payload_cap > p.payload_len)
			__builtin_trap();
		if (p.payload_cap && (p.payload < data + 2 || p.payload + p.payload_cap > data + size))
			__builtin_trap();
		if (p.ip_version != 4 && p.ip_version != 6)
			__builtin_trap();
		char out[64];
		pkt_addr_format(p.ip_version, p.src, p.sport, out, sizeof out);
	} else if (rc < -PKT_E_COUNT) {
		__builtin_trap();
	}
	(void)pkt_strerror(rc);
	return 0;
}
