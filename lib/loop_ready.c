/* loop_ready — loop_stream_connect() and the acceptor of loop.h for readiness backends
 * (loop_epoll.c), made from the public readiness calls: a non-blocking connect()
 * finished at writability, accept() at readability. A completion port does both
 * natively (loop_iocp.c). */
#ifndef _WIN32
#include "lib/loop.h"

#include <errno.h>
#include <sys/socket.h>

#include "lib/net.h"

/* ---- connect ---- */

/* While connecting, the stream's write slot holds this callback, so a close cancels the
 * connect the way the backend cancels any write: through write_cb with -ECANCELED. */
static void connect_cancelled(struct loop *loop, struct loop_stream *st, size_t written, int err)
{
	(void)written;
	loop_connect_cb cb = st->connect_cb;
	st->connect_cb = NULL;
	cb(loop, st, err < 0 ? err : -ECANCELED);
}

static void connect_ready(struct loop *loop, struct loop_io *io, unsigned events)
{
	(void)events;
	struct loop_stream *st = io->data;
	loop_io_stop(loop, &st->io);
	loop_connect_cb cb = st->connect_cb;
	st->connect_cb = NULL;
	st->write_cb = NULL;
	cb(loop, st, net_connect_result(st->fd));
}

int loop_stream_connect(struct loop *loop, struct loop_stream *st, const struct sockaddr *addr,
			int addrlen, loop_connect_cb cb)
{
	if (st->closing)
		return -EBADF;
	if (!addr || addrlen <= 0 || !cb)
		return -EINVAL;
	if (st->write_cb || st->connect_cb || st->read_cb)
		return -EBUSY;
	int rc;
	do
		rc = connect(st->fd, addr, (socklen_t)addrlen);
	while (rc < 0 && errno == EINTR);
	if (rc < 0 && errno != EINPROGRESS)
		return -errno;
	/* Connected or not, the answer comes at writability, from loop_run(). */
	rc = loop_io_start(loop, &st->io, st->fd, LOOP_WRITE, connect_ready, st);
	if (rc < 0)
		return rc;
	st->connect_cb = cb;
	st->write_cb = connect_cancelled;
	st->wdone = 0;
	return 0;
}

/* ---- accept ---- */

static void accept_ready(struct loop *loop, struct loop_io *io, unsigned events)
{
	(void)events;
	struct loop_acceptor *ac = io->data;
	for (int i = 0; i < LOOP_ACCEPT_BATCH && !ac->is_closing; i++) {
		int fd = net_accept(ac->fd, NULL);
		if (fd == -EAGAIN)
			return;
		if (fd == -ECONNABORTED || fd == -EINTR)
			continue; /* the peer gave up before we took it */
		if (fd < 0) {
			ac->cb(loop, ac, -1, fd);
			return; /* readiness persists: the next iteration tries again */
		}
		ac->cb(loop, ac, fd, 0);
	}
}

int loop_accept_start(struct loop *loop, struct loop_acceptor *ac, int listen_fd,
		      loop_accept_cb cb, void *data)
{
	*ac = (struct loop_acceptor){.fd = listen_fd, .data = data, .cb = cb};
	ac->io.fd = -1;
	return loop_io_start(loop, &ac->io, listen_fd, LOOP_READ, accept_ready, ac);
}

static void accept_closed(struct loop *loop, struct loop_timer *timer)
{
	struct loop_acceptor *ac = timer->data;
	ac->close_cb(loop, ac); /* may free ac */
}

void loop_accept_close(struct loop *loop, struct loop_acceptor *ac, loop_acceptor_close_cb cb)
{
	ac->is_closing = true;
	ac->close_cb = cb;
	loop_io_stop(loop, &ac->io);
	/* A timer due now runs the close callback from loop_run(), and keeps the loop
	 * running until it has. */
	loop_timer_init(&ac->closing, accept_closed, ac);
	if (loop_timer_start(loop, &ac->closing, 0) < 0)
		cb(loop, ac); /* no room in the timer heap: the only way left to say it */
}

#endif /* !_WIN32 */
