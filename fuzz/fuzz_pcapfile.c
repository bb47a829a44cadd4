/* libFuzzer target: a whole capture file (pcap or pcapng, read by libpcap from memory)
 * through the capture correlator — link/IP/TCP decoding, reassembly, HTTP and TLS
 * scanning, the flow table, the join and the JSON output. Nothing may crash, leak or
 * read out of bounds, whatever the file claims. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pcap/pcap.h>

#include "capture/analyze.h"
#include "capture/join.h"
#include "capture/output.h"
#include "capture/pcapfile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	/* The in-memory classic pcap walker must stay inside the buffer. */
	struct pcapfile pf;
	if (pcapfile_open(&pf, data, size) == PCAPFILE_OK) {
		struct pcapfile_rec rec;
		while (pcapfile_next(&pf, &rec) == PCAPFILE_OK)
			if (rec.data < data || rec.data + rec.caplen > data + size)
				__builtin_trap();
	}
	FILE *fp = fmemopen((void *)data, size, "rb");
	if (!fp)
		return 0;
	char ebuf[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_fopen_offline(fp, ebuf); /* owns fp from here */
	if (!p) {
		fclose(fp);
		return 0;
	}
	struct cap_opts o = {.read_path = "fuzz", .check_csum = true, .max_flows = 64};
	struct cap_analysis a;
	if (cap_analysis_init(&a, &o) != 0) {
		pcap_close(p);
		return 0;
	}
	a.linktype = pcap_datalink(p);
	a.snaplen = pcap_snapshot(p);
	struct pcap_pkthdr *h;
	const u_char *bytes;
	for (int i = 0; i < 4096 && pcap_next_ex(p, &h, &bytes) == 1; i++) {
		uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
		cap_analysis_frame(&a, ts, bytes, h->caplen, h->len);
	}
	pcap_close(p);
	flow_table_finish(&a.flows);
	struct ledgers l;
	ledgers_init(&l);
	struct join j;
	if (join_build(&j, &l, &a.flows) == 0) {
		json_t *doc = capture_json(&a, &l, &j, true);
		char *s = json_dumps(doc, JSON_COMPACT);
		free(s);
		json_decref(doc);
		FILE *null = fopen("/dev/null", "w");
		if (null) {
			capture_summary(null, &a, &l, &j, true);
			fclose(null);
		}
		join_free(&j);
	}
	ledgers_free(&l);
	cap_analysis_free(&a);
	return 0;
}
