/* loop_epoll — the Linux backend of loop.h: epoll (level-triggered), an eventfd behind
 * loop_wake(), and streams emulated on a readiness watcher (try the syscall when the
 * socket is ready, complete the request when it is done).
 *
 * Timers fire within microseconds: the wait is epoll_pwait2() with a timespec (Linux
 * 5.11+); where the kernel lacks it (ENOSYS), a timerfd armed for the first timer sits
 * in the epoll set. epoll_wait's whole milliseconds would make every sub-millisecond
 * timer up to 1 ms late (an open-loop probe at 0.2 ms service time reported p50 ~1 ms).
 * TP_LOOP_TIMERFD=1 in the environment forces the timerfd path (for its tests). */
#ifdef __linux__
#include "lib/loop.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <stdbool.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LOOP_MAX_EVENTS 256

struct loop_backend {
	int epoll_fd;
	int wake_fd;   /* eventfd behind loop_wake() */
	int timer_fd;  /* timerfd for kernels without epoll_pwait2; -1 until needed */
	bool no_pwait2; /* epoll_pwait2 said ENOSYS (or TP_LOOP_TIMERFD=1) */
	int batch_len; /* events of batch being delivered; 0 outside delivery */
	struct epoll_event batch[LOOP_MAX_EVENTS];
	/* Streams whose close is to be called back, in the order they were closed. */
	struct loop_stream *closing, *closing_tail;
};

/* Markers in epoll_event.data.ptr: the wake-up eventfd, and an event whose watcher
 * was stopped after the batch was collected. */
static char wake_event, dropped_event, timer_event;

uint64_t loop_clock_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void backend_release(struct loop_backend *b)
{
	if (b->epoll_fd >= 0)
		close(b->epoll_fd);
	if (b->wake_fd >= 0)
		close(b->wake_fd);
	if (b->timer_fd >= 0)
		close(b->timer_fd);
	free(b);
}

int loop_backend_init(struct loop *loop)
{
	struct loop_backend *b = calloc(1, sizeof *b);
	if (!b)
		return -ENOMEM;
	b->wake_fd = -1;
	b->timer_fd = -1;
	const char *force = getenv("TP_LOOP_TIMERFD");
	b->no_pwait2 = force && strcmp(force, "1") == 0;
	b->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (b->epoll_fd < 0)
		goto fail;
	b->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (b->wake_fd < 0)
		goto fail;
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &wake_event};
	if (epoll_ctl(b->epoll_fd, EPOLL_CTL_ADD, b->wake_fd, &ev) < 0)
		goto fail;
	loop->backend = b;
	return 0;
fail:;
	int err = -errno;
	backend_release(b);
	return err;
}

void loop_backend_free(struct loop *loop)
{
	backend_release(loop->backend);
	loop->backend = NULL;
}

void loop_wake(struct loop *loop)
{
	uint64_t one = 1;
	/* A full eventfd counter still wakes the loop, so a failed write is harmless. */
	ssize_t n = write(loop->backend->wake_fd, &one, sizeof one);
	(void)n;
}

/* ---- readiness ---- */

static uint32_t to_epoll(unsigned events)
{
	return (events & LOOP_READ ? EPOLLIN | EPOLLRDHUP : 0) |
	       (events & LOOP_WRITE ? EPOLLOUT : 0);
}

int loop_io_start(struct loop *loop, struct loop_io *io, int fd, unsigned events,
		  loop_io_cb cb, void *data)
{
	if (io->events && io->fd != fd)
		loop_io_stop(loop, io);
	io->cb = cb;
	io->data = data;
	if (!io->events)
		io->fd = fd;
	return loop_io_set(loop, io, events);
}

int loop_io_set(struct loop *loop, struct loop_io *io, unsigned events)
{
	events &= LOOP_READ | LOOP_WRITE;
	if (events == io->events)
		return 0;
	if (!events) {
		loop_io_stop(loop, io);
		return 0;
	}
	struct epoll_event ev = {.events = to_epoll(events), .data.ptr = io};
	int op = io->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (epoll_ctl(loop->backend->epoll_fd, op, io->fd, &ev) < 0)
		return -errno;
	if (!io->events)
		loop->active++;
	io->events = events;
	return 0;
}

void loop_io_stop(struct loop *loop, struct loop_io *io)
{
	struct loop_backend *b = loop->backend;
	if (!io->events)
		return;
	epoll_ctl(b->epoll_fd, EPOLL_CTL_DEL, io->fd, NULL);
	io->events = 0;
	loop->active--;
	for (int i = 0; i < b->batch_len; i++)
		if (b->batch[i].data.ptr == io)
			b->batch[i].data.ptr = &dropped_event;
}

static void deliver(struct loop *loop, const struct epoll_event *e)
{
	void *ptr = e->data.ptr;
	if (ptr == &dropped_event)
		return;
	if (ptr == &timer_event) {
		uint64_t expirations;
		ssize_t r = read(loop->backend->timer_fd, &expirations, sizeof expirations);
		(void)r; /* only wakes the wait; the timers run after delivery */
		return;
	}
	if (ptr == &wake_event) {
		uint64_t count;
		ssize_t r = read(loop->backend->wake_fd, &count, sizeof count);
		(void)r;
		if (loop->on_wake)
			loop->on_wake(loop);
		return;
	}
	struct loop_io *io = ptr;
	unsigned fired = (e->events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP) ? LOOP_READ : 0) |
			 (e->events & EPOLLOUT ? LOOP_WRITE : 0) |
			 (e->events & (EPOLLERR | EPOLLHUP) ? LOOP_ERROR : 0);
	/* Report errors as whatever the watcher waits for, so its next syscall surfaces the
	 * errno. */
	if (fired & LOOP_ERROR)
		fired |= io->events;
	fired &= io->events | LOOP_ERROR;
	if (io->events && fired)
		io->cb(loop, io, fired);
}

/* ---- streams, on a readiness watcher ---- */

static void stream_io(struct loop *loop, struct loop_io *io, unsigned events);

/* Watches for what the requests in flight need, or nothing. */
static int stream_watch(struct loop *loop, struct loop_stream *st)
{
	unsigned events = (st->read_cb ? LOOP_READ : 0) | (st->write_cb ? LOOP_WRITE : 0);
	return loop_io_start(loop, &st->io, st->fd, events, stream_io, st);
}

/* The request's state is cleared before the callback, which may start the next one. */
static void read_done(struct loop *loop, struct loop_stream *st, long nread)
{
	loop_read_cb cb = st->read_cb;
	st->read_cb = NULL;
	st->rbuf = NULL;
	cb(loop, st, nread);
}

static void write_done(struct loop *loop, struct loop_stream *st, int err)
{
	loop_write_cb cb = st->write_cb;
	size_t written = st->wdone;
	st->write_cb = NULL;
	st->wbuf = NULL;
	cb(loop, st, written, err);
}

static void stream_recv(struct loop *loop, struct loop_stream *st)
{
	for (;;) {
		ssize_t n = recv(st->fd, st->rbuf, st->rlen, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return; /* a spurious report: wait for the next one */
		read_done(loop, st, n < 0 ? -errno : (long)n);
		return;
	}
}

/* Sends what the socket takes. A short send is the remainder posted again: the loop
 * goes round, and the next send() either takes more or says to wait. */
static void stream_send(struct loop *loop, struct loop_stream *st)
{
	while (st->wdone < st->wlen) {
		size_t want = st->wlen - st->wdone;
		ssize_t n = send(st->fd, st->wbuf + st->wdone, want, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		st->send_ops++;
		if (n < 0) {
			write_done(loop, st, -errno);
			return;
		}
		st->wdone += (size_t)n;
		if ((size_t)n < want) {
			st->short_sends++;
			if (st->wflags & LOOP_WRITE_PARTIAL)
				break;
		}
	}
	write_done(loop, st, 0);
}

/* The watcher cannot be changed (epoll_ctl failed): the requests in flight end with
 * that error rather than wait for events that will never come. */
static void stream_fail(struct loop *loop, struct loop_stream *st, int err)
{
	if (st->write_cb)
		write_done(loop, st, err);
	if (st->read_cb && !st->closing)
		read_done(loop, st, err);
}

static void stream_io(struct loop *loop, struct loop_io *io, unsigned events)
{
	struct loop_stream *st = io->data;
	if ((events & LOOP_WRITE) && st->write_cb)
		stream_send(loop, st);
	if ((events & LOOP_READ) && st->read_cb && !st->closing)
		stream_recv(loop, st);
	/* A closing stream's memory stays valid until its close callback, which only runs
	 * from the closing queue. */
	if (st->closing)
		return;
	int rc = stream_watch(loop, st);
	if (rc < 0)
		stream_fail(loop, st, rc);
}

int loop_stream_init(struct loop *loop, struct loop_stream *st, int fd, void *data)
{
	(void)loop;
	*st = (struct loop_stream){.fd = fd, .data = data};
	st->io.fd = -1;
	return 0;
}

int loop_stream_read(struct loop *loop, struct loop_stream *st, void *buf, size_t len,
		     loop_read_cb cb)
{
	if (st->closing)
		return -EBADF;
	if (!buf || len == 0 || !cb)
		return -EINVAL;
	if (st->read_cb)
		return -EBUSY;
	st->rbuf = buf;
	st->rlen = len;
	st->read_cb = cb;
	int rc = stream_watch(loop, st);
	if (rc < 0)
		st->read_cb = NULL;
	return rc;
}

int loop_stream_write(struct loop *loop, struct loop_stream *st, const void *buf, size_t len,
		      unsigned flags, loop_write_cb cb)
{
	if (st->closing)
		return -EBADF;
	if (!buf || len == 0 || !cb || (flags & ~(unsigned)LOOP_WRITE_PARTIAL))
		return -EINVAL;
	if (st->write_cb)
		return -EBUSY;
	st->wbuf = buf;
	st->wlen = len;
	st->wdone = 0;
	st->wflags = flags;
	st->write_cb = cb;
	int rc = stream_watch(loop, st);
	if (rc < 0)
		st->write_cb = NULL;
	return rc;
}

void loop_stream_close(struct loop *loop, struct loop_stream *st, loop_close_cb cb)
{
	struct loop_backend *b = loop->backend;
	st->closing = true;
	st->close_cb = cb;
	loop_io_stop(loop, &st->io);
	st->next_closing = NULL;
	if (b->closing_tail)
		b->closing_tail->next_closing = st;
	else
		b->closing = st;
	b->closing_tail = st;
	loop->active++;
}

/* Cancels the requests of the streams closed so far, then calls their close callbacks.
 * Streams closed by these callbacks wait for the next iteration. */
static void run_closing(struct loop *loop)
{
	struct loop_backend *b = loop->backend;
	struct loop_stream *st = b->closing;
	b->closing = b->closing_tail = NULL;
	while (st) {
		struct loop_stream *next = st->next_closing;
		if (st->write_cb)
			write_done(loop, st, -ECANCELED);
		if (st->read_cb)
			read_done(loop, st, -ECANCELED);
		loop->active--;
		st->close_cb(loop, st); /* may free st */
		st = next;
	}
}

/* ---- the loop ---- */

/* Waits with a timerfd for the sub-millisecond part: armed (one-shot) for timeout_us,
 * while epoll_wait's own timeout, rounded up, stays as a bound. Without a timerfd the
 * wait is epoll_wait's alone. */
static int wait_timerfd(struct loop_backend *b, int64_t timeout_us)
{
	if (timeout_us > 0 && timeout_us % 1000 != 0 && b->timer_fd < 0) {
		int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &timer_event};
		if (fd >= 0 && epoll_ctl(b->epoll_fd, EPOLL_CTL_ADD, fd, &ev) == 0)
			b->timer_fd = fd;
		else if (fd >= 0)
			close(fd);
	}
	if (timeout_us > 0 && timeout_us % 1000 != 0 && b->timer_fd >= 0) {
		struct itimerspec its = {.it_value = {.tv_sec = timeout_us / 1000000,
						      .tv_nsec = (long)(timeout_us % 1000000) * 1000}};
		timerfd_settime(b->timer_fd, 0, &its, NULL);
	}
	int ms = timeout_us < 0 ? -1 : (int)((timeout_us + 999) / 1000);
	return epoll_wait(b->epoll_fd, b->batch, LOOP_MAX_EVENTS, ms);
}

/* Waits for events at most timeout_us (-1: no limit). Returns epoll's count or -1. */
static int wait_events(struct loop_backend *b, int64_t timeout_us)
{
	if (!b->no_pwait2) {
		struct timespec ts = {.tv_sec = timeout_us / 1000000, .tv_nsec = (long)(timeout_us % 1000000) * 1000};
		int n = epoll_pwait2(b->epoll_fd, b->batch, LOOP_MAX_EVENTS, timeout_us < 0 ? NULL : &ts, NULL);
		if (n >= 0 || errno != ENOSYS)
			return n;
		b->no_pwait2 = true;
	}
	return wait_timerfd(b, timeout_us);
}

int loop_run(struct loop *loop)
{
	struct loop_backend *b = loop->backend;
	loop->stop = false;
	while (!loop->stop && loop_active(loop) > 0) {
		int64_t timeout = b->closing ? 0 : loop_timers_timeout_us(loop);
		int n = wait_events(b, timeout);
		if (n < 0) {
			if (errno != EINTR)
				return -errno;
			n = 0;
		}
		loop_update_time(loop);
		b->batch_len = n;
		for (int i = 0; i < n; i++)
			deliver(loop, &b->batch[i]);
		b->batch_len = 0;
		run_closing(loop);
		loop_timers_run(loop);
	}
	return 0;
}

#endif /* __linux__ */
