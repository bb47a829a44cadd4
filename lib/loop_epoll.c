/* loop_epoll — the Linux backend of loop.h: epoll (level-triggered) + a timer heap. */
#include "lib/loop.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define LOOP_MAX_EVENTS 256

/* Markers in epoll_event.data.ptr: the wake-up eventfd, and an event whose watcher
 * was stopped after the batch was collected. */
static char wake_event, dropped_event;

uint64_t loop_clock_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void loop_update_time(struct loop *loop) { loop->now_us = loop_clock_us(); }

int loop_init(struct loop *loop)
{
	*loop = (struct loop){.backend_fd = -1, .wake_fd = -1};
	loop->backend_fd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->backend_fd < 0)
		return -errno;
	loop->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (loop->wake_fd < 0)
		goto fail;
	struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &wake_event};
	if (epoll_ctl(loop->backend_fd, EPOLL_CTL_ADD, loop->wake_fd, &ev) < 0)
		goto fail;
	loop_update_time(loop);
	return 0;
fail:;
	int err = -errno;
	loop_free(loop);
	return err;
}

void loop_free(struct loop *loop)
{
	if (!loop)
		return;
	if (loop->backend_fd >= 0)
		close(loop->backend_fd);
	if (loop->wake_fd >= 0)
		close(loop->wake_fd);
	free(loop->heap);
	loop->heap = NULL;
	loop->heap_len = loop->heap_cap = 0;
	loop->backend_fd = loop->wake_fd = -1;
}

void loop_stop(struct loop *loop) { loop->stop = 1; }

void loop_wake(struct loop *loop)
{
	uint64_t one = 1;
	loop->woken = 1;
	/* A full eventfd counter still wakes the loop, so a failed write is harmless. */
	ssize_t n = write(loop->wake_fd, &one, sizeof one);
	(void)n;
}

static uint32_t to_epoll(unsigned events)
{
	return (events & LOOP_READ ? EPOLLIN | EPOLLRDHUP : 0) | (events & LOOP_WRITE ? EPOLLOUT : 0);
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
	if (epoll_ctl(loop->backend_fd, op, io->fd, &ev) < 0)
		return -errno;
	if (!io->events)
		loop->io_count++;
	io->events = events;
	return 0;
}

void loop_io_stop(struct loop *loop, struct loop_io *io)
{
	if (!io->events)
		return;
	epoll_ctl(loop->backend_fd, EPOLL_CTL_DEL, io->fd, NULL);
	io->events = 0;
	loop->io_count--;
	struct epoll_event *batch = loop->pending;
	for (int i = 0; i < loop->pending_len; i++)
		if (batch[i].data.ptr == io)
			batch[i].data.ptr = &dropped_event;
}

/* ---- timer heap ---- */

static void heap_place(struct loop *loop, size_t i, struct loop_timer *t)
{
	loop->heap[i] = t;
	t->heap_index = i;
}

static void heap_up(struct loop *loop, size_t i)
{
	struct loop_timer *t = loop->heap[i];
	while (i > 0) {
		size_t parent = (i - 1) / 2;
		if (loop->heap[parent]->due_us <= t->due_us)
			break;
		heap_place(loop, i, loop->heap[parent]);
		i = parent;
	}
	heap_place(loop, i, t);
}

static void heap_down(struct loop *loop, size_t i)
{
	struct loop_timer *t = loop->heap[i];
	for (;;) {
		size_t child = 2 * i + 1;
		if (child >= loop->heap_len)
			break;
		if (child + 1 < loop->heap_len &&
		    loop->heap[child + 1]->due_us < loop->heap[child]->due_us)
			child++;
		if (t->due_us <= loop->heap[child]->due_us)
			break;
		heap_place(loop, i, loop->heap[child]);
		i = child;
	}
	heap_place(loop, i, t);
}

void loop_timer_init(struct loop_timer *timer, loop_timer_cb cb, void *data)
{
	*timer = (struct loop_timer){.heap_index = SIZE_MAX, .cb = cb, .data = data};
}

void loop_timer_stop(struct loop *loop, struct loop_timer *timer)
{
	size_t i = timer->heap_index;
	if (i == SIZE_MAX)
		return;
	timer->heap_index = SIZE_MAX;
	struct loop_timer *last = loop->heap[--loop->heap_len];
	if (i == loop->heap_len)
		return;
	heap_place(loop, i, last);
	heap_up(loop, i);
	heap_down(loop, last->heap_index);
}

int loop_timer_start_at(struct loop *loop, struct loop_timer *timer, uint64_t due_us)
{
	loop_timer_stop(loop, timer);
	if (loop->heap_len == loop->heap_cap) {
		size_t cap = loop->heap_cap ? loop->heap_cap * 2 : 64;
		struct loop_timer **heap = realloc(loop->heap, cap * sizeof *heap);
		if (!heap)
			return -ENOMEM;
		loop->heap = heap;
		loop->heap_cap = cap;
	}
	timer->due_us = due_us;
	heap_place(loop, loop->heap_len++, timer);
	heap_up(loop, timer->heap_index);
	return 0;
}

int loop_timer_start(struct loop *loop, struct loop_timer *timer, uint64_t after_us)
{
	return loop_timer_start_at(loop, timer, loop->now_us + after_us);
}

static void run_timers(struct loop *loop)
{
	/* Bounded: timers re-armed for "now" by their own callback wait for the next
	 * iteration, so a zero-delay timer cannot starve io. */
	size_t budget = loop->heap_len;
	while (budget-- > 0 && loop->heap_len > 0 && loop->heap[0]->due_us <= loop->now_us) {
		struct loop_timer *t = loop->heap[0];
		loop_timer_stop(loop, t);
		t->cb(loop, t);
	}
}

static int next_timeout_ms(const struct loop *loop)
{
	if (loop->heap_len == 0)
		return -1;
	uint64_t due = loop->heap[0]->due_us;
	if (due <= loop->now_us)
		return 0;
	uint64_t ms = (due - loop->now_us + 999) / 1000;
	return ms > 60000 ? 60000 : (int)ms;
}

int loop_run(struct loop *loop)
{
	struct epoll_event events[LOOP_MAX_EVENTS];
	loop->stop = 0;
	while (!loop->stop && (loop->io_count > 0 || loop->heap_len > 0)) {
		int n = epoll_wait(loop->backend_fd, events, LOOP_MAX_EVENTS, next_timeout_ms(loop));
		if (n < 0) {
			if (errno == EINTR)
				n = 0;
			else
				return -errno;
		}
		loop_update_time(loop);
		loop->pending = events;
		loop->pending_len = n;
		for (int i = 0; i < n; i++) {
			void *ptr = events[i].data.ptr;
			if (ptr == &dropped_event)
				continue;
			if (ptr == &wake_event) {
				uint64_t count;
				ssize_t r = read(loop->wake_fd, &count, sizeof count);
				(void)r;
				loop->woken = 0;
				if (loop->on_wake)
					loop->on_wake(loop);
				continue;
			}
			struct loop_io *io = ptr;
			uint32_t ev = events[i].events;
			unsigned fired = (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP) ? LOOP_READ : 0) |
					 (ev & EPOLLOUT ? LOOP_WRITE : 0) |
					 (ev & (EPOLLERR | EPOLLHUP) ? LOOP_ERROR : 0);
			/* Report errors as whatever the watcher waits for, so its next syscall
			 * surfaces the errno; a watcher stopped earlier in this batch is skipped. */
			if (fired & LOOP_ERROR)
				fired |= io->events;
			fired &= io->events | LOOP_ERROR;
			if (io->events && fired)
				io->cb(loop, io, fired);
		}
		loop->pending_len = 0;
		run_timers(loop);
	}
	return 0;
}
