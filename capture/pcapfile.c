/* pcapfile — see pcapfile.h. */
#include "capture/pcapfile.h"

#include <string.h>

static uint32_t rd32(const struct pcapfile *f, const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return f->swapped ? __builtin_bswap32(v) : v;
}

int pcapfile_open(struct pcapfile *f, const uint8_t *buf, size_t len)
{
	memset(f, 0, sizeof *f);
	if (len < 24)
		return PCAPFILE_NOT_PCAP;
	uint32_t magic;
	memcpy(&magic, buf, 4);
	switch (magic) {
	case 0xa1b2c3d4: break;
	case 0xa1b23c4d: f->nanos = true; break;
	case 0xd4c3b2a1: f->swapped = true; break;
	case 0x4d3cb2a1: f->swapped = f->nanos = true; break;
	default: return PCAPFILE_NOT_PCAP;
	}
	f->buf = buf;
	f->len = len;
	f->snaplen = rd32(f, buf + 16);
	/* The upper bits of the link type field carry FCS information (LINKTYPE_*). */
	f->linktype = rd32(f, buf + 20) & 0x0fffffff;
	f->off = 24;
	return PCAPFILE_OK;
}

int pcapfile_next(struct pcapfile *f, struct pcapfile_rec *rec)
{
	if (f->off == f->len)
		return PCAPFILE_END;
	if (f->len - f->off < 16)
		return PCAPFILE_TRUNCATED;
	const uint8_t *h = f->buf + f->off;
	uint32_t sec = rd32(f, h), frac = rd32(f, h + 4);
	rec->caplen = rd32(f, h + 8);
	rec->wirelen = rd32(f, h + 12);
	if (rec->caplen > PCAPFILE_MAX_CAPLEN)
		return PCAPFILE_BAD_LENGTH;
	if (f->len - f->off - 16 < rec->caplen)
		return PCAPFILE_TRUNCATED;
	rec->data = h + 16;
	rec->ts_us = (uint64_t)sec * 1000000u + (f->nanos ? frac / 1000u : frac);
	f->off += 16 + (size_t)rec->caplen;
	return PCAPFILE_OK;
}

const char *pcapfile_strerror(int rc)
{
	switch (rc) {
	case PCAPFILE_OK: return "ok";
	case PCAPFILE_END: return "end of file";
	case PCAPFILE_NOT_PCAP: return "not a classic pcap file";
	case PCAPFILE_TRUNCATED: return "truncated dump file (a record runs past the end)";
	case PCAPFILE_BAD_LENGTH: return "invalid packet capture length";
	}
	return "unknown";
}
