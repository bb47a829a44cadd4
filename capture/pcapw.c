/* pcapw — see pcapw.h. All fields little-endian as written by this host's order; the
 * byte-order magic in each header tells readers which order that is. */
#include "capture/pcapw.h"

#include <errno.h>
#include <string.h>

static int put(struct pcapw *w, const void *p, size_t n)
{
	if (w->error)
		return w->error;
	if (fwrite(p, 1, n, w->fp) != n)
		w->error = -(errno ? errno : EIO);
	return w->error;
}

static int put32(struct pcapw *w, uint32_t v) { return put(w, &v, 4); }
static int put16(struct pcapw *w, uint16_t v) { return put(w, &v, 2); }

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

int pcapw_open(struct pcapw *w, const char *path, int linktype, uint32_t snaplen)
{
	memset(w, 0, sizeof *w);
	w->ng = !ends_with(path, ".pcap");
	w->fp = fopen(path, "wb");
	if (!w->fp)
		return -errno;
	if (!w->ng) {
		put32(w, 0xa1b2c3d4); /* microsecond timestamps */
		put16(w, 2);
		put16(w, 4);
		put32(w, 0);
		put32(w, 0);
		put32(w, snaplen);
		put32(w, (uint32_t)linktype);
		return w->error;
	}
	/* Section Header Block: no options. */
	put32(w, 0x0a0d0d0a);
	put32(w, 28);
	put32(w, 0x1a2b3c4d);
	put16(w, 1);
	put16(w, 0);
	put32(w, 0xffffffff); /* section length unknown */
	put32(w, 0xffffffff);
	put32(w, 28);
	/* Interface Description Block: default resolution (microseconds), no options. */
	put32(w, 1);
	put32(w, 20);
	put16(w, (uint16_t)linktype);
	put16(w, 0);
	put32(w, snaplen);
	put32(w, 20);
	return w->error;
}

int pcapw_write(struct pcapw *w, uint64_t ts_us, const uint8_t *data, uint32_t caplen,
		uint32_t wirelen)
{
	if (!w->fp || w->error)
		return w->error ? w->error : -EBADF;
	if (!w->ng) {
		put32(w, (uint32_t)(ts_us / 1000000));
		put32(w, (uint32_t)(ts_us % 1000000));
		put32(w, caplen);
		put32(w, wirelen);
		put(w, data, caplen);
	} else {
		static const uint8_t pad[4];
		uint32_t padded = (caplen + 3) & ~3u;
		uint32_t total = 32 + padded;
		put32(w, 6); /* Enhanced Packet Block */
		put32(w, total);
		put32(w, 0); /* interface 0 */
		put32(w, (uint32_t)(ts_us >> 32));
		put32(w, (uint32_t)ts_us);
		put32(w, caplen);
		put32(w, wirelen);
		put(w, data, caplen);
		put(w, pad, padded - caplen);
		put32(w, total);
	}
	if (!w->error)
		w->frames++;
	return w->error;
}

int pcapw_close(struct pcapw *w)
{
	if (!w || !w->fp)
		return 0;
	if (fclose(w->fp) != 0 && !w->error)
		w->error = -(errno ? errno : EIO);
	w->fp = NULL;
	return w->error;
}
