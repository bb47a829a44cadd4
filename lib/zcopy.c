/* zcopy — see zcopy.h. */
#include "lib/zcopy.h"

#include <errno.h>
#include <unistd.h>

#ifdef __linux__
#include <fcntl.h>

int zcopy_open(struct zpipe *z)
{
	int p[2];
	z->rd = z->wr = -1;
	z->pending = 0;
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0)
		return -errno;
	z->rd = p[0];
	z->wr = p[1];
	/* The default pipe holds 64 KiB; ask for 256 KiB so each splice moves more per
	 * wake-up (the kernel may refuse above /proc/sys/fs/pipe-max-size: keep what we got). */
	int got = fcntl(z->wr, F_SETPIPE_SZ, 262144);
	if (got < 0)
		got = fcntl(z->wr, F_GETPIPE_SZ);
	z->cap = got > 0 ? (size_t)got : 65536;
	return 0;
}

long zcopy_in(struct zpipe *z, int fd)
{
	if (z->pending >= z->cap)
		return -EAGAIN;
	ssize_t n = splice(fd, NULL, z->wr, NULL, z->cap - z->pending,
			   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	z->pending += (size_t)n;
	return (long)n;
}

long zcopy_out(struct zpipe *z, int fd, size_t want)
{
	if (want > z->pending)
		want = z->pending;
	if (want == 0)
		return 0;
	ssize_t n = splice(z->rd, NULL, fd, NULL, want, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
	if (n < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	z->pending -= (size_t)n;
	return (long)n;
}

#else

int zcopy_open(struct zpipe *z)
{
	z->rd = z->wr = -1;
	z->pending = z->cap = 0;
	return -ENOSYS;
}

long zcopy_in(struct zpipe *z, int fd)
{
	(void)z;
	(void)fd;
	return -ENOSYS;
}

long zcopy_out(struct zpipe *z, int fd, size_t want)
{
	(void)z;
	(void)fd;
	(void)want;
	return -ENOSYS;
}

#endif

void zcopy_close(struct zpipe *z)
{
	if (!z)
		return;
	if (z->rd >= 0)
		close(z->rd);
	if (z->wr >= 0)
		close(z->wr);
	z->rd = z->wr = -1;
	z->pending = 0;
}
