/* cio — see cio.h. */
#include "check/cio.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>

#include "lib/loop.h"
#include "lib/payload.h"

const char *cio_end_name(enum cio_end end)
{
	static const char *const names[] = {
		[CIO_OPEN] = "open", [CIO_FIN] = "fin", [CIO_RESET] = "reset",
		[CIO_TIMEOUT] = "timeout", [CIO_ERROR] = "error",
	};
	return (unsigned)end < sizeof names / sizeof names[0] ? names[end] : "?";
}

uint64_t cio_deadline_ms(uint64_t ms)
{
	return loop_clock_us() + ms * 1000;
}

int cio_left_ms(uint64_t deadline)
{
	uint64_t now = loop_clock_us();
	if (now >= deadline)
		return 0;
	uint64_t ms = (deadline - now + 999) / 1000;
	return ms > 60000 ? 60000 : (int)ms;
}

void cio_sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Waits for events on c->fd until deadline: the revents, 0 on timeout. */
static short wait_fd(struct cio *c, short events, uint64_t deadline)
{
	for (;;) {
		struct pollfd p = {.fd = c->fd, .events = events};
		int left = cio_left_ms(deadline);
		int r = poll(&p, 1, left);
		if (r > 0)
			return p.revents;
		if (r == 0 && cio_left_ms(deadline) == 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return POLLERR;
	}
}

static void note_end(struct cio *c, long err)
{
	if (c->end != CIO_OPEN)
		return;
	if (err == 0)
		c->end = CIO_FIN;
	else if (err == -ECONNRESET || err == -EPIPE)
		c->end = CIO_RESET;
	else if (err != -ETIMEDOUT) /* a wait that ran out ends nothing */
		c->end = CIO_ERROR;
}

int cio_connect(struct cio *c, const struct net_addr *addr, uint64_t deadline)
{
	memset(c, 0, sizeof *c);
	c->fd = net_connect(addr);
	if (c->fd < 0) {
		int err = c->fd;
		c->fd = -1;
		return err;
	}
	short ev = wait_fd(c, POLLOUT, deadline);
	int err = ev ? net_connect_result(c->fd) : -ETIMEDOUT;
	if (err < 0) {
		cio_close(c);
		return err;
	}
	struct net_addr local;
	if (net_local_addr(c->fd, &local) == 0)
		net_addr_format(&local, c->local);
	net_nodelay(c->fd);
	return 0;
}

long cio_write(struct cio *c, const void *buf, size_t len, uint64_t deadline)
{
	const char *p = buf;
	size_t done = 0;
	while (done < len) {
		long n = net_write(c->fd, p + done, len - done);
		if (n > 0) {
			done += (size_t)n;
			c->sent += (uint64_t)n;
			continue;
		}
		if (n != -EAGAIN) {
			note_end(c, n);
			return n;
		}
		if (!wait_fd(c, POLLOUT, deadline))
			return -ETIMEDOUT;
	}
	return (long)len;
}

long cio_write_payload(struct cio *c, uint64_t seed, uint64_t offset, uint64_t len,
		       uint64_t deadline)
{
	uint8_t buf[65536];
	uint64_t done = 0;
	while (done < len) {
		size_t n = len - done < sizeof buf ? (size_t)(len - done) : sizeof buf;
		payload_fill(seed, offset + done, buf, n);
		long w = cio_write(c, buf, n, deadline);
		if (w < 0)
			return w;
		done += n;
	}
	return (long)len;
}

long cio_read(struct cio *c, void *buf, size_t cap, uint64_t deadline)
{
	for (;;) {
		long n = net_read(c->fd, buf, cap);
		if (n > 0) {
			c->received += (uint64_t)n;
			return n;
		}
		if (n != -EAGAIN) {
			note_end(c, n);
			return n;
		}
		if (!wait_fd(c, POLLIN, deadline))
			return -ETIMEDOUT;
	}
}

enum cio_end cio_drain(struct cio *c, uint64_t deadline, uint64_t *drained)
{
	uint8_t buf[65536];
	uint64_t total = 0;
	long n;
	while ((n = cio_read(c, buf, sizeof buf, deadline)) > 0)
		total += (uint64_t)n;
	if (drained)
		*drained = total;
	if (n == -ETIMEDOUT)
		return CIO_TIMEOUT;
	return c->end;
}

bool cio_readable(struct cio *c, uint64_t deadline)
{
	return wait_fd(c, POLLIN, deadline) != 0;
}

int cio_shutdown(struct cio *c)
{
	c->shut_wr = true;
	return net_shutdown_write(c->fd);
}

void cio_close(struct cio *c)
{
	if (c && c->fd >= 0) {
		net_close(c->fd);
		c->fd = -1;
	}
}
