/* cio — the check client's sockets: one connection, blocking calls with a deadline.
 *
 * The battery runs one check at a time and each check is a short script (connect,
 * send, read, half-close, watch how the connection ends), so its client side is
 * written as straight-line code over non-blocking lib/net sockets and poll(2), every
 * call bounded by an absolute deadline on the loop clock (loop_clock_us()). What the
 * connection carried and how it ended are counted here, so every check can state the
 * bytes each side saw and the wire ending.
 *
 * Returns follow lib/net: a byte count or 0, 0 at EOF for reads, a negative errno:
 * -ETIMEDOUT when the deadline passed, -ECONNRESET, -EPIPE, ...
 */
#ifndef TP_CHECK_CIO_H
#define TP_CHECK_CIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/net.h"

/* How the connection ended, as this side saw it. */
enum cio_end {
	CIO_OPEN = 0,  /* nothing ended it yet */
	CIO_FIN,       /* an orderly EOF was read */
	CIO_RESET,     /* a read or write failed with ECONNRESET */
	CIO_TIMEOUT,   /* still open when the deadline passed (cio_drain only) */
	CIO_ERROR,     /* another socket error */
};

struct cio {
	int fd;                 /* -1 when closed */
	uint64_t sent;          /* bytes written */
	uint64_t received;      /* bytes read */
	enum cio_end end;       /* the first ending seen: FIN, RESET or ERROR */
	bool shut_wr;           /* we sent FIN */
	char local[NET_ADDRSTRLEN];
};

/* "open", "fin", "reset", "timeout", "error". */
const char *cio_end_name(enum cio_end end);

/* Connects to addr before deadline. Returns 0, or -errno (-ETIMEDOUT, -ECONNREFUSED)
 * with c->fd == -1. */
int cio_connect(struct cio *c, const struct net_addr *addr, uint64_t deadline);
/* Writes all len bytes. Returns len, or -errno (how far it got is in c->sent). */
long cio_write(struct cio *c, const void *buf, size_t len, uint64_t deadline);
/* Writes len bytes of the payload stream of seed from offset (lib/payload). Same
 * returns as cio_write(). */
long cio_write_payload(struct cio *c, uint64_t seed, uint64_t offset, uint64_t len,
		       uint64_t deadline);
/* Reads what is available, at most cap bytes, waiting until deadline for some.
 * Returns > 0, 0 at EOF, or -errno. */
long cio_read(struct cio *c, void *buf, size_t cap, uint64_t deadline);
/* Reads and discards until the connection ends or the deadline: returns the ending
 * (CIO_TIMEOUT when it is still open then); *drained gets the bytes read (may be
 * NULL). */
enum cio_end cio_drain(struct cio *c, uint64_t deadline, uint64_t *drained);
/* Waits until deadline for the peer to send something or end; true if it did. The
 * bytes stay unread. */
bool cio_readable(struct cio *c, uint64_t deadline);
/* Sends FIN (shutdown of the write side). Returns 0 or -errno. */
int cio_shutdown(struct cio *c);
/* Closes (NULL-safe, idempotent). */
void cio_close(struct cio *c);

/* The loop clock plus ms milliseconds: a deadline. */
uint64_t cio_deadline_ms(uint64_t ms);
/* Milliseconds left before deadline (0 when passed). */
int cio_left_ms(uint64_t deadline);
/* Sleeps ms milliseconds (bounded waits between steps of a check). */
void cio_sleep_ms(unsigned ms);

#endif
