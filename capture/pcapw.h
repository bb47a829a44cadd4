/* pcapw — writes what the capture saw: pcapng (SHB, one IDB, EPBs), or classic pcap
 * when the file name ends in ".pcap". Wireshark and tshark open both; with the probe's
 * key log (`editcap --inject-secrets tls,KEYLOG in.pcapng out.pcapng`, or Wireshark's
 * TLS preferences) TLS tunnels decrypt. Buffered stdio; the caller owns the struct.
 */
#ifndef TP_CAPTURE_PCAPW_H
#define TP_CAPTURE_PCAPW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct pcapw {
	FILE *fp;
	bool ng;        /* pcapng, else classic pcap */
	uint64_t frames;
	int error;      /* first write error (negative errno), 0 when none */
};

/* Creates path and writes the file header for linktype/snaplen. Returns 0 or -errno. */
int pcapw_open(struct pcapw *w, const char *path, int linktype, uint32_t snaplen);
/* Appends one frame (timestamp in microseconds). Returns 0 or -errno (also kept in
 * w->error; later writes are skipped). */
int pcapw_write(struct pcapw *w, uint64_t ts_us, const uint8_t *data, uint32_t caplen,
		uint32_t wirelen);
/* Flushes and closes. Returns 0 or the first error. NULL-safe. */
int pcapw_close(struct pcapw *w);

#endif
