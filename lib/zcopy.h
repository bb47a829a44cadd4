/* zcopy — the zero-copy fast path of the reference proxy's relay: bytes move socket →
 * pipe → socket with splice(2) and never enter user space. Linux only; everywhere else
 * (and when the kernel refuses) zcopy_open() fails with -ENOSYS — Windows has no splice,
 * and its completion streams (proxy-under-test/leg.h) take none — and the relay keeps
 * its user-space buffer.
 *
 * The relay's one OS-specific piece, in lib/ beside net.h's other Linux-only paths
 * (TCP_INFO, SO_REUSEPORT), behind these four calls.
 * Conventions as lib/net.h: a byte count, 0 at EOF (zcopy_in only), -EAGAIN when the
 * call would block, or a negative errno.
 */
#ifndef TP_ZCOPY_H
#define TP_ZCOPY_H

#include <stdbool.h>
#include <stddef.h>

struct zpipe {
	int rd, wr;     /* the pipe's ends; -1 when closed */
	size_t pending; /* bytes spliced in and not yet out */
	size_t cap;     /* how much the pipe holds (what zcopy_in may add at most) */
};

/* Opens the pipe. Returns 0, -ENOSYS where splice does not exist, or -errno
 * (EMFILE: out of descriptors — the caller falls back to buffered relaying). */
int zcopy_open(struct zpipe *z);
/* Moves up to the pipe's free room from socket fd into the pipe. */
long zcopy_in(struct zpipe *z, int fd);
/* Moves up to want pending bytes from the pipe to socket fd. */
long zcopy_out(struct zpipe *z, int fd, size_t want);
/* Closes the pipe (bytes still in it are lost: the caller counts them). NULL-safe. */
void zcopy_close(struct zpipe *z);

#endif
