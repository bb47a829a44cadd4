/* Unit tests for lib/loop (epoll backend): timers in order, io readiness, stopping
 * watchers from inside callbacks, cross-thread wake-up; every test ends with the loop
 * empty (loop_run returns by itself). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/loop.h"

struct order {
	int fired[16];
	int n;
};

static void record_timer(struct loop *loop, struct loop_timer *t)
{
	struct order *o = loop->data;
	o->fired[o->n++] = (int)(intptr_t)t->data;
}

static void test_timers_fire_in_due_order(void **state)
{
	(void)state;
	struct loop loop;
	assert_int_equal(loop_init(&loop), 0);
	struct order o = {0};
	loop.data = &o;
	struct loop_timer t[5];
	const uint64_t after[5] = {5000, 1000, 3000, 2000, 4000};
	for (int i = 0; i < 5; i++) {
		loop_timer_init(&t[i], record_timer, (void *)(intptr_t)i);
		assert_int_equal(loop_timer_start(&loop, &t[i], after[i]), 0);
	}
	loop_timer_stop(&loop, &t[2]); /* the 3000 us one never fires */
	assert_false(loop_timer_active(&t[2]));
	assert_int_equal(loop_run(&loop), 0);
	assert_int_equal(o.n, 4);
	const int want[4] = {1, 3, 4, 0};
	for (int i = 0; i < 4; i++)
		assert_int_equal(o.fired[i], want[i]);
	loop_free(&loop);
}

static void test_timer_heap_survives_many_stops(void **state)
{
	(void)state;
	struct loop loop;
	assert_int_equal(loop_init(&loop), 0);
	struct order o = {0};
	loop.data = &o;
	enum { N = 200 };
	struct loop_timer *t = calloc(N, sizeof *t);
	for (int i = 0; i < N; i++) {
		loop_timer_init(&t[i], record_timer, (void *)(intptr_t)(i % 16));
		loop_timer_start(&loop, &t[i], (uint64_t)((i * 7919) % 1000) + 10000000);
	}
	for (int i = 0; i < N; i++)
		if (i % 3)
			loop_timer_stop(&loop, &t[i]);
	/* The heap property must hold: the remaining timers pop in due order. */
	uint64_t last = 0;
	while (loop.heap_len) {
		struct loop_timer *top = loop.heap[0];
		assert_true(top->due_us >= last);
		last = top->due_us;
		loop_timer_stop(&loop, top);
	}
	free(t);
	loop_free(&loop);
}

struct pair_state {
	int fds[2];
	struct loop_io io[2];
	int reads;
	char got[8];
};

static void on_readable(struct loop *loop, struct loop_io *io, unsigned events)
{
	struct pair_state *ps = io->data;
	assert_true(events & LOOP_READ);
	ssize_t n = read(io->fd, ps->got, sizeof ps->got);
	assert_int_equal(n, 3);
	ps->reads++;
	/* Stop both watchers from inside a callback: the other's pending event (if any)
	 * must be dropped, and the loop must then end by itself. */
	loop_io_stop(loop, &ps->io[0]);
	loop_io_stop(loop, &ps->io[1]);
}

static void test_io_and_stop_from_callback(void **state)
{
	(void)state;
	struct loop loop;
	assert_int_equal(loop_init(&loop), 0);
	struct pair_state ps = {0};
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, ps.fds), 0);
	assert_int_equal(write(ps.fds[0], "abc", 3), 3);
	assert_int_equal(write(ps.fds[1], "xyz", 3), 3);
	assert_int_equal(loop_io_start(&loop, &ps.io[0], ps.fds[0], LOOP_READ, on_readable, &ps), 0);
	assert_int_equal(loop_io_start(&loop, &ps.io[1], ps.fds[1], LOOP_READ, on_readable, &ps), 0);
	assert_int_equal(loop.io_count, 2);
	assert_int_equal(loop_run(&loop), 0);
	assert_int_equal(ps.reads, 1);
	assert_int_equal(loop.io_count, 0);
	close(ps.fds[0]);
	close(ps.fds[1]);
	loop_free(&loop);
}

static void on_wake_stop(struct loop *loop)
{
	int *woken = loop->data;
	(*woken)++;
	loop_stop(loop);
}

static void *waker(void *arg)
{
	usleep(20000);
	loop_wake(arg);
	return NULL;
}

static void never(struct loop *loop, struct loop_timer *t)
{
	(void)loop;
	(void)t;
	fail_msg("the 10 s timer must not fire: loop_wake should have stopped the loop");
}

static void test_wake_from_another_thread(void **state)
{
	(void)state;
	struct loop loop;
	assert_int_equal(loop_init(&loop), 0);
	int woken = 0;
	loop.data = &woken;
	loop.on_wake = on_wake_stop;
	struct loop_timer t;
	loop_timer_init(&t, never, NULL);
	loop_timer_start(&loop, &t, 10000000);
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, waker, &loop), 0);
	assert_int_equal(loop_run(&loop), 0);
	pthread_join(th, NULL);
	assert_int_equal(woken, 1);
	loop_timer_stop(&loop, &t);
	loop_free(&loop);
}

static void test_free_is_null_safe(void **state)
{
	(void)state;
	loop_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timers_fire_in_due_order),
		cmocka_unit_test(test_timer_heap_survives_many_stops),
		cmocka_unit_test(test_io_and_stop_from_callback),
		cmocka_unit_test(test_wake_from_another_thread),
		cmocka_unit_test(test_free_is_null_safe),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
