/* pcapfile — a sans-I/O reader of classic pcap files held in memory (mmap), so offline
 * analysis reads frames in place instead of copying each through stdio. pcapng and
 * anything unusual go through libpcap instead (analyze.c decides).
 *
 * Every record header is bounds-checked against the buffer: a record that claims more
 * bytes than remain ends the walk with PCAPFILE_TRUNCATED, an absurd capture length
 * with PCAPFILE_BAD_LENGTH; the frames before it stay usable.
 */
#ifndef TP_CAPTURE_PCAPFILE_H
#define TP_CAPTURE_PCAPFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	PCAPFILE_OK = 0,
	PCAPFILE_END = 1,          /* no more records */
	PCAPFILE_NOT_PCAP = -1,    /* not a classic pcap header (maybe pcapng) */
	PCAPFILE_TRUNCATED = -2,   /* a record runs past the end of the file */
	PCAPFILE_BAD_LENGTH = -3,  /* caplen larger than the limit or than the frame */
};

#define PCAPFILE_MAX_CAPLEN 262144u

struct pcapfile {
	const uint8_t *buf;
	size_t len, off;
	bool swapped;   /* written on a host of the other byte order */
	bool nanos;     /* nanosecond timestamps */
	uint32_t snaplen;
	uint32_t linktype;
};

struct pcapfile_rec {
	uint64_t ts_us;
	uint32_t caplen, wirelen;
	const uint8_t *data;
};

/* Reads the file header. Returns PCAPFILE_OK or PCAPFILE_NOT_PCAP. */
int pcapfile_open(struct pcapfile *f, const uint8_t *buf, size_t len);
/* The next record: PCAPFILE_OK (rec filled), PCAPFILE_END, or an error (the walk
 * stops there). */
int pcapfile_next(struct pcapfile *f, struct pcapfile_rec *rec);
const char *pcapfile_strerror(int rc);

#endif
