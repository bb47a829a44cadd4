/* loop — the part of loop.h every backend shares: init/free around the backend's own,
 * the timer heap, the cached clock, stop, and the count of what keeps a loop running.
 * Backends: loop_epoll.c (Linux), loop_iocp.c (Windows); loop_ready.c gives readiness
 * backends the completion-style connect and accept. */
#include "lib/loop.h"

#include <errno.h>
#include <stdlib.h>

int loop_init(struct loop *loop)
{
	*loop = (struct loop){0};
	int rc = loop_backend_init(loop);
	if (rc < 0) {
		loop_free(loop);
		return rc;
	}
	loop_update_time(loop);
	return 0;
}

void loop_free(struct loop *loop)
{
	if (!loop)
		return;
	if (loop->backend)
		loop_backend_free(loop);
	loop->backend = NULL;
	free(loop->heap);
	loop->heap = NULL;
	loop->heap_len = loop->heap_cap = 0;
	loop->active = 0;
}

void loop_update_time(struct loop *loop) { loop->now_us = loop_clock_us(); }

void loop_stop(struct loop *loop) { loop->stop = true; }

size_t loop_active(const struct loop *loop) { return loop->active + loop->heap_len; }

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

void loop_timers_run(struct loop *loop)
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

int loop_timers_timeout_ms(const struct loop *loop)
{
	int64_t us = loop_timers_timeout_us(loop);
	return us < 0 ? -1 : (int)((us + 999) / 1000);
}

int64_t loop_timers_timeout_us(const struct loop *loop)
{
	if (loop->heap_len == 0)
		return -1;
	uint64_t due = loop->heap[0]->due_us;
	if (due <= loop->now_us)
		return 0;
	uint64_t us = due - loop->now_us;
	return us > 60000000u ? 60000000 : (int64_t)us;
}
