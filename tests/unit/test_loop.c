/* Unit tests for lib/loop (the epoll backend on Linux): timers in order, io readiness
 * and its level-triggered promise, stopping watchers from inside callbacks,
 * cross-thread wake-up, and completion-style streams (whole writes, partial writes,
 * EOF, resets, cancelled requests on close). Every test ends with the loop empty:
 * loop_run returns by itself and loop_active() is 0. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
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
	assert_int_equal(loop_active(&loop), 4);
	assert_int_equal(loop_run(&loop), 0);
	assert_int_equal(o.n, 4);
	const int want[4] = {1, 3, 4, 0};
	for (int i = 0; i < 4; i++)
		assert_int_equal(o.fired[i], want[i]);
	assert_int_equal(loop_active(&loop), 0);
	loop_free(&loop);
}

struct due_log {
	uint64_t last_due;
	int fired;
	bool in_order;
};

/* Sub-millisecond timers: a chain of 100 timers, each re-armed from its callback for
 * 300 us later. Waiting whole milliseconds (epoll_wait) makes every one ~700 us late
 * (none on time, measured); a microsecond wait fires them within ~60 us (epoll_pwait2's
 * default timer slack) or ~15 us (timerfd). Counted, not timed to
 * the microsecond, so a loaded machine's odd late wake-up does not fail the test. */
struct precision {
	int fired, on_time;
};

static void precise_tick(struct loop *loop, struct loop_timer *t)
{
	struct precision *p = t->data;
	uint64_t late = loop_clock_us() - t->due_us;
	p->on_time += late < 350;
	if (++p->fired < 100)
		loop_timer_start(loop, t, 300);
}

static void run_precision(bool timerfd)
{
	if (timerfd)
		setenv("TP_LOOP_TIMERFD", "1", 1);
	struct loop loop;
	assert_int_equal(loop_init(&loop), 0);
	unsetenv("TP_LOOP_TIMERFD");
	struct precision p = {0};
	struct loop_timer t;
	loop_timer_init(&t, precise_tick, &p);
	loop_update_time(&loop);
	loop_timer_start(&loop, &t, 300);
	assert_int_equal(loop_run(&loop), 0);
	assert_int_equal(p.fired, 100);
	if (p.on_time < 50)
		fail_msg("%s: only %d of 100 timers fired within 350 us of their due time",
			 timerfd ? "timerfd" : "epoll_pwait2", p.on_time);
	assert_int_equal(loop_active(&loop), 0);
	loop_free(&loop);
}

static void test_timers_have_microsecond_precision(void **state)
{
	(void)state;
	struct loop loop;
	assert_int_equal(loop_init(&loop), 0);
	struct loop_timer t;
	loop_timer_init(&t, record_timer, NULL);
	loop_timer_start(&loop, &t, 250);
	assert_int_equal(loop_timers_timeout_us(&loop), 250); /* not rounded to 1 ms */
	assert_int_equal(loop_timers_timeout_ms(&loop), 1);
	loop_timer_stop(&loop, &t);
	assert_int_equal(loop_timers_timeout_us(&loop), -1);
	loop_free(&loop);
	run_precision(false);
	run_precision(true);
}

static void check_due_order(struct loop *loop, struct loop_timer *t)
{
	struct due_log *log = loop->data;
	if (t->due_us < log->last_due)
		log->in_order = false;
	log->last_due = t->due_us;
	log->fired++;
}

static void test_timer_heap_survives_many_stops(void **state)
{
	(void)state;
	struct loop loop;
	assert_int_equal(loop_init(&loop), 0);
	struct due_log log = {.in_order = true};
	loop.data = &log;
	enum { N = 200 };
	struct loop_timer *t = calloc(N, sizeof *t);
	assert_non_null(t);
	/* Due times already past (so the loop fires them at once) in scrambled order;
	 * stopping two thirds of them reshapes the heap many times. */
	uint64_t base = loop_now(&loop) - 1000000;
	for (int i = 0; i < N; i++) {
		loop_timer_init(&t[i], check_due_order, NULL);
		assert_int_equal(loop_timer_start_at(&loop, &t[i], base + (uint64_t)((i * 7919) % 1000)), 0);
	}
	for (int i = 0; i < N; i++)
		if (i % 3)
			loop_timer_stop(&loop, &t[i]);
	assert_int_equal(loop_active(&loop), (N + 2) / 3);
	assert_int_equal(loop_run(&loop), 0);
	assert_int_equal(log.fired, (N + 2) / 3);
	assert_true(log.in_order);
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
	assert_int_equal(loop_active(&loop), 2);
	assert_int_equal(loop_run(&loop), 0);
	assert_int_equal(ps.reads, 1);
	assert_int_equal(loop_active(&loop), 0);
	close(ps.fds[0]);
	close(ps.fds[1]);
	loop_free(&loop);
}

struct drip {
	int fd;
	struct loop_io io;
	int calls;
	char got[16];
	size_t len;
};

/* Reads one byte per callback, leaving the rest unread: the level-triggered promise
 * (loop.h) says the loop reports the socket again until it is drained. */
static void read_one_byte(struct loop *loop, struct loop_io *io, unsigned events)
{
	struct drip *d = io->data;
	assert_true(events & LOOP_READ);
	d->calls++;
	ssize_t n = read(d->fd, d->got + d->len, 1);
	if (n <= 0) { /* EOF after the ten bytes */
		loop_io_stop(loop, io);
		return;
	}
	d->len += (size_t)n;
}

static void test_readiness_is_level_triggered(void **state)
{
	(void)state;
	struct loop loop;
	assert_int_equal(loop_init(&loop), 0);
	int fds[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
	assert_int_equal(write(fds[1], "0123456789", 10), 10);
	close(fds[1]);
	struct drip d = {.fd = fds[0]};
	assert_int_equal(loop_io_start(&loop, &d.io, fds[0], LOOP_READ, read_one_byte, &d), 0);
	assert_int_equal(loop_run(&loop), 0);
	assert_int_equal(d.len, 10);
	assert_memory_equal(d.got, "0123456789", 10);
	assert_int_equal(d.calls, 11); /* ten bytes, then the EOF */
	assert_int_equal(loop_active(&loop), 0);
	close(fds[0]);
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
	assert_int_equal(loop_active(&loop), 0);
	loop_free(&loop);
}

static void test_free_is_safe_on_null_zeroed_and_freed_loops(void **state)
{
	(void)state;
	loop_free(NULL);
	/* A worker array from calloc whose start-up failed before loop_init: loop_free
	 * must not close fd 0 (or anything else). */
	if (fcntl(0, F_GETFD) < 0) /* make sure there is an fd 0 to lose */
		assert_int_equal(open("/dev/null", O_RDONLY), 0);
	struct loop zeroed = {0};
	loop_free(&zeroed);
	assert_true(fcntl(0, F_GETFD) >= 0);
	struct loop loop;
	assert_int_equal(loop_init(&loop), 0);
	loop_free(&loop);
	loop_free(&loop);
	assert_null(loop.backend);
}

/* ---- streams ---- */

enum { BIG = 4 << 20 };

struct stream_pair {
	int fds[2];
	struct loop_stream st[2];
	unsigned char *out, *in;
	size_t in_len;
	size_t written;
	int write_err;
	int write_calls;
	long last_read;
	int read_calls;
	int closed;
	char log[32]; /* the order callbacks ran in: w(rite) r(ead) c(lose) */
	size_t log_len;
};

static void note(struct stream_pair *p, char c)
{
	if (p->log_len < sizeof p->log - 1)
		p->log[p->log_len++] = c;
}

static void pair_open(struct loop *loop, struct stream_pair *p)
{
	memset(p, 0, sizeof *p);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, p->fds), 0);
	/* Small kernel buffers: a 4 MiB write cannot be taken in one send(). */
	int small = 16384;
	setsockopt(p->fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
	setsockopt(p->fds[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
	for (int i = 0; i < 2; i++)
		assert_int_equal(loop_stream_init(loop, &p->st[i], p->fds[i], p), 0);
	p->out = malloc(BIG);
	p->in = malloc(BIG + 1); /* read_to_eof's last read, which gets the EOF, asks for 1 */
	assert_non_null(p->out);
	assert_non_null(p->in);
	for (size_t i = 0; i < BIG; i++)
		p->out[i] = (unsigned char)(i * 131 + (i >> 13));
}

static void pair_close(struct stream_pair *p)
{
	close(p->fds[0]);
	close(p->fds[1]);
	free(p->out);
	free(p->in);
}

static void on_written(struct loop *loop, struct loop_stream *st, size_t written, int err)
{
	(void)loop;
	struct stream_pair *p = st->data;
	p->written = written;
	p->write_err = err;
	p->write_calls++;
	note(p, 'w');
}

static void on_closed(struct loop *loop, struct loop_stream *st)
{
	(void)loop;
	struct stream_pair *p = st->data;
	p->closed++;
	note(p, 'c');
}

/* Reads until EOF, starting each next read from the callback. */
static void read_to_eof(struct loop *loop, struct loop_stream *st, long n)
{
	struct stream_pair *p = st->data;
	p->read_calls++;
	p->last_read = n;
	if (n <= 0) {
		note(p, 'r');
		return;
	}
	p->in_len += (size_t)n;
	assert_true(p->in_len < BIG + 1);
	size_t room = BIG - p->in_len;
	assert_int_equal(loop_stream_read(loop, st, p->in + p->in_len, room ? room : 1, read_to_eof), 0);
}

static void shut_after_write(struct loop *loop, struct loop_stream *st, size_t written, int err)
{
	on_written(loop, st, written, err);
	shutdown(st->fd, SHUT_WR);
}

static void test_stream_write_completes_the_whole_buffer(void **state)
{
	(void)state;
	struct loop loop;
	assert_int_equal(loop_init(&loop), 0);
	struct stream_pair p;
	pair_open(&loop, &p);
	assert_int_equal(loop_stream_write(&loop, &p.st[0], p.out, BIG, 0, shut_after_write), 0);
	/* Callbacks run from loop_run only, never inside the call. */
	assert_int_equal(p.write_calls, 0);
	assert_int_equal(loop_stream_write(&loop, &p.st[0], p.out, 1, 0, on_written), -EBUSY);
	assert_int_equal(loop_stream_read(&loop, &p.st[1], p.in, BIG, read_to_eof), 0);
	assert_int_equal(loop_stream_read(&loop, &p.st[1], p.in, BIG, read_to_eof), -EBUSY);
	assert_int_equal(loop_run(&loop), 0);
	assert_int_equal(p.write_calls, 1);
	assert_int_equal(p.write_err, 0);
	assert_int_equal(p.written, BIG);
	/* The socket took it in many pieces: every short send was continued. */
	assert_true(p.st[0].short_sends >= 1);
	assert_true(p.st[0].send_ops > p.st[0].short_sends);
	assert_int_equal(p.last_read, 0); /* EOF after the last byte */
	assert_int_equal(p.in_len, BIG);
	assert_memory_equal(p.in, p.out, BIG);
	assert_int_equal(loop_active(&loop), 0);
	pair_close(&p);
	loop_free(&loop);
}

static void test_stream_partial_write_hands_the_rest_back(void **state)
{
	(void)state;
	struct loop loop;
	assert_int_equal(loop_init(&loop), 0);
	struct stream_pair p;
	pair_open(&loop, &p);
	/* Nobody reads: the socket takes what fits in its buffers, then the request ends
	 * there with err 0 instead of waiting to post the remainder. */
	assert_int_equal(loop_stream_write(&loop, &p.st[0], p.out, BIG, LOOP_WRITE_PARTIAL, on_written), 0);
	assert_int_equal(loop_run(&loop), 0);
	assert_int_equal(p.write_calls, 1);
	assert_int_equal(p.write_err, 0);
	assert_true(p.written > 0 && p.written < BIG);
	assert_int_equal(p.st[0].short_sends, 1);
	/* Exactly the bytes reported as written reach the peer. */
	shutdown(p.fds[0], SHUT_WR);
	assert_int_equal(loop_stream_read(&loop, &p.st[1], p.in, BIG, read_to_eof), 0);
	assert_int_equal(loop_run(&loop), 0);
	assert_int_equal(p.in_len, p.written);
	assert_memory_equal(p.in, p.out, p.in_len);
	assert_int_equal(loop_active(&loop), 0);
	pair_close(&p);
	loop_free(&loop);
}

static void test_stream_read_reports_a_reset(void **state)
{
	(void)state;
	struct loop loop;
	assert_int_equal(loop_init(&loop), 0);
	struct stream_pair p;
	pair_open(&loop, &p);
	/* TCP has RSTs; a Unix socket closed with unread data gives ECONNRESET the same way. */
	assert_int_equal(write(p.fds[0], "x", 1), 1);
	close(p.fds[1]);
	p.fds[1] = -1;
	assert_int_equal(loop_stream_read(&loop, &p.st[0], p.in, 16, read_to_eof), 0);
	assert_int_equal(loop_run(&loop), 0);
	assert_int_equal(p.read_calls, 1);
	assert_int_equal(p.last_read, -ECONNRESET);
	assert_int_equal(loop_active(&loop), 0);
	pair_close(&p);
	loop_free(&loop);
}

static void record_read(struct loop *loop, struct loop_stream *st, long n)
{
	(void)loop;
	struct stream_pair *p = st->data;
	p->read_calls++;
	p->last_read = n;
	note(p, 'r');
}

static void close_when_stuck(struct loop *loop, struct loop_timer *t)
{
	struct stream_pair *p = t->data;
	loop_stream_close(loop, &p->st[0], on_closed);
	assert_int_equal(loop_stream_read(loop, &p->st[0], p->in, 1, record_read), -EBADF);
	assert_int_equal(loop_stream_write(loop, &p->st[0], p->out, 1, 0, on_written), -EBADF);
}

static void test_stream_close_cancels_what_is_in_flight(void **state)
{
	(void)state;
	struct loop loop;
	assert_int_equal(loop_init(&loop), 0);
	struct stream_pair p;
	pair_open(&loop, &p);
	/* A write the peer never drains and a read that nothing answers, then a close. */
	assert_int_equal(loop_stream_write(&loop, &p.st[0], p.out, BIG, 0, on_written), 0);
	assert_int_equal(loop_stream_read(&loop, &p.st[0], p.in, BIG, record_read), 0);
	struct loop_timer t;
	loop_timer_init(&t, close_when_stuck, &p);
	assert_int_equal(loop_timer_start(&loop, &t, 1000), 0);
	assert_int_equal(loop_run(&loop), 0);
	/* The write says how far it got, the read is cancelled, then the close runs. */
	assert_string_equal(p.log, "wrc");
	assert_int_equal(p.write_err, -ECANCELED);
	assert_true(p.written > 0 && p.written < BIG);
	assert_int_equal(p.last_read, -ECANCELED);
	assert_int_equal(p.closed, 1);
	assert_int_equal(loop_active(&loop), 0);
	pair_close(&p);
	loop_free(&loop);
}

static void test_stream_rejects_bad_requests(void **state)
{
	(void)state;
	struct loop loop;
	assert_int_equal(loop_init(&loop), 0);
	struct stream_pair p;
	pair_open(&loop, &p);
	assert_int_equal(loop_stream_read(&loop, &p.st[0], p.in, 0, record_read), -EINVAL);
	assert_int_equal(loop_stream_read(&loop, &p.st[0], p.in, 1, NULL), -EINVAL);
	assert_int_equal(loop_stream_write(&loop, &p.st[0], p.out, 0, 0, on_written), -EINVAL);
	assert_int_equal(loop_stream_write(&loop, &p.st[0], p.out, 1, 1u << 7, on_written), -EINVAL);
	assert_int_equal(loop_active(&loop), 0);
	/* A close with nothing in flight still calls back, from the loop. */
	loop_stream_close(&loop, &p.st[0], on_closed);
	assert_int_equal(p.closed, 0);
	assert_int_equal(loop_run(&loop), 0);
	assert_string_equal(p.log, "c");
	pair_close(&p);
	loop_free(&loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timers_fire_in_due_order),
		cmocka_unit_test(test_timer_heap_survives_many_stops),
		cmocka_unit_test(test_timers_have_microsecond_precision),
		cmocka_unit_test(test_io_and_stop_from_callback),
		cmocka_unit_test(test_readiness_is_level_triggered),
		cmocka_unit_test(test_wake_from_another_thread),
		cmocka_unit_test(test_free_is_safe_on_null_zeroed_and_freed_loops),
		cmocka_unit_test(test_stream_write_completes_the_whole_buffer),
		cmocka_unit_test(test_stream_partial_write_hands_the_rest_back),
		cmocka_unit_test(test_stream_read_reports_a_reset),
		cmocka_unit_test(test_stream_close_cancels_what_is_in_flight),
		cmocka_unit_test(test_stream_rejects_bad_requests),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
