/* libFuzzer target: what the capture reads of a QUIC datagram without keys — quichdr,
 * the Initial decryption keyed by the datagram's own DCID (quicinit), the Initial frame
 * walker, and the QUIC flow table that ties them together (qflow). The input is a
 * datagram (the seeds are real ones recorded on lo): it is fed as the client's first
 * datagram, then as the server's answer, then cut to every eighth length, so a flow
 * sees it with and without keys and its IDs known. The walk must stay inside the
 * buffer and the counts must add up. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "capture/qflow.h"
#include "capture/quichdr.h"
#include "capture/quicinit.h"

static struct pkt datagram(const uint8_t *data, size_t size, size_t cap, bool from_server)
{
	struct pkt p;
	memset(&p, 0, sizeof p);
	p.ip_version = 4;
	p.proto = PKT_PROTO_UDP;
	p.src[0] = p.dst[0] = 127;
	p.src[3] = from_server ? 2 : 1;
	p.dst[3] = from_server ? 1 : 2;
	p.sport = from_server ? 443 : 50000;
	p.dport = from_server ? 50000 : 443;
	p.payload_len = (uint32_t)size;
	p.payload_cap = (uint32_t)cap;
	p.payload = data;
	return p;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65507)
		return 0;
	struct quichdr h;
	if (quichdr_read(data, size, size ? data[0] % 21 : 0, size & 1, &h) == 0 && h.length > size)
		__builtin_trap();
	struct quicinit_frames fr;
	quicinit_frames(data, size, &fr);
	if (fr.ncrypto > QUICINIT_MAX_CRYPTO || memchr(fr.reason, '\0', sizeof fr.reason) == NULL)
		__builtin_trap();
	for (size_t i = 0; i < fr.ncrypto; i++)
		if (fr.crypto[i].data < data || fr.crypto[i].data + fr.crypto[i].len > data + size)
			__builtin_trap();

	struct qflow_table t;
	qflow_table_init(&t, 4);
	uint64_t fed = 0;
	for (int from_server = 0; from_server < 2; from_server++) {
		struct pkt p = datagram(data, size, size, from_server);
		qflow_table_datagram(&t, 1.0 + from_server, &p);
		fed += size;
	}
	for (size_t cut = 0; cut < size; cut += 8) {
		struct pkt p = datagram(data, size, cut, cut & 8);
		qflow_table_datagram(&t, 3.0, &p);
		fed += size;
	}
	qflow_table_finish(&t);
	/* Every byte lands in one direction's count; a frame is one datagram or, split,
	 * more (never fewer). */
	uint64_t frames = 0, dgrams = 0, bytes = 0;
	for (size_t i = 0; i < t.n; i++)
		for (int d = 0; d < 2; d++) {
			const struct qflow_dir *dir = &t.flows[i]->dir[d];
			dgrams += dir->datagrams;
			bytes += dir->bytes;
			frames += dir->gso_frames;
		}
	if (bytes != fed || dgrams < t.datagrams || frames > t.datagrams || t.datagrams_left_out)
		__builtin_trap();
	qflow_table_free(&t);
	return 0;
}
