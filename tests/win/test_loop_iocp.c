/* Unit tests for lib/loop_iocp.c, run under Wine by tests/e2e/win_loop.sh: timers, the
 * cross-thread wake, 10 MiB echoed byte-exact through the stream API, sends the peer is
 * not reading, a request the OS refuses, readiness (the level-triggered promise, stops
 * from callbacks, watchers freed with their poll in flight), and closes with
 * operations in flight. Accept and connect are in test_net_iocp.c. Every test ends
 * with loop_run() returning by itself and loop_active() 0; a watchdog timer fails a
 * test that would otherwise hang. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/loop.h"
#include "lib/net.h"
#include "tests/win/iocp_helpers.h"
#include "tests/win/wintest.h"

#include <windows.h>

/* ---- timers and wake ---- */

struct order {
	int fired[8];
	int n;
};

static void record_timer(struct loop *loop, struct loop_timer *t)
{
	struct order *o = loop->data;
	o->fired[o->n++] = (int)(intptr_t)t->data;
}

static void timers_fire_in_due_order(void)
{
	struct loop loop;
	WT_EQ(loop_init(&loop), 0);
	struct order o = {0};
	loop.data = &o;
	struct loop_timer t[5];
	const uint64_t after[5] = {50000, 10000, 30000, 20000, 40000};
	for (int i = 0; i < 5; i++) {
		loop_timer_init(&t[i], record_timer, (void *)(intptr_t)i);
		WT_EQ(loop_timer_start(&loop, &t[i], after[i]), 0);
	}
	loop_timer_stop(&loop, &t[2]);
	uint64_t start = loop_clock_us();
	WT_EQ(loop_run(&loop), 0);
	WT_EQ(o.n, 4);
	const int want[4] = {1, 3, 4, 0};
	for (int i = 0; i < 4; i++)
		WT_EQ(o.fired[i], want[i]);
	/* The clock is monotonic and the last timer did not fire early. */
	WT_TRUE(loop_clock_us() - start >= 50000);
	WT_EQ(loop_active(&loop), 0);
	loop_free(&loop);
}

enum { WAKES = 1000 };

struct waker {
	struct loop *loop;
	atomic_int sent;
	int seen_last;
	int on_wakes;
	struct loop_timer keepalive;
};

static void *wake_thread(void *arg)
{
	struct waker *w = arg;
	for (int i = 0; i < WAKES; i++) {
		atomic_fetch_add(&w->sent, 1);
		loop_wake(w->loop);
	}
	return NULL;
}

static void on_wake_count(struct loop *loop)
{
	struct waker *w = loop->data;
	w->on_wakes++;
	w->seen_last = atomic_load(&w->sent);
	if (w->seen_last == WAKES)
		loop_timer_stop(loop, &w->keepalive);
}

static void keepalive_expired(struct loop *loop, struct loop_timer *t) { loop_stop(loop); }

static void wake_from_another_thread(void)
{
	struct loop loop;
	WT_EQ(loop_init(&loop), 0);
	struct waker w = {.loop = &loop};
	atomic_init(&w.sent, 0);
	loop.data = &w;
	loop.on_wake = on_wake_count;
	/* The timer keeps the loop running until the last wake is seen (or fails the
	 * test after 10 s). */
	loop_timer_init(&w.keepalive, keepalive_expired, &w);
	WT_EQ(loop_timer_start(&loop, &w.keepalive, 10000000u), 0);
	pthread_t th;
	WT_EQ(pthread_create(&th, NULL, wake_thread, &w), 0);
	WT_EQ(loop_run(&loop), 0);
	pthread_join(th, NULL);
	WT_EQ(w.seen_last, WAKES);
	WT_TRUE(w.on_wakes >= 1 && w.on_wakes <= WAKES);
	WT_EQ(loop_active(&loop), 0);
	loop_free(&loop);
}

/* ---- streams: 10 MiB echoed ---- */

enum { ECHO_LEN = 10 << 20, ECHO_CHUNK = 64 << 10 };

struct echo {
	struct loop_stream client, server;
	unsigned char *out, *in;      /* what the client sends, what it got back */
	size_t got;
	unsigned char sbuf[ECHO_CHUNK]; /* the server's read-then-write buffer */
	bool client_eof, server_eof;
	int errors;
	int closes;
};

static void echo_closed(struct loop *loop, struct loop_stream *st)
{
	struct echo *e = st->data;
	e->closes++;
}

static void server_read(struct loop *loop, struct loop_stream *st, long n);

static void server_wrote(struct loop *loop, struct loop_stream *st, size_t written, int err)
{
	struct echo *e = st->data;
	if (err) {
		e->errors++;
		return;
	}
	if (loop_stream_read(loop, st, e->sbuf, sizeof e->sbuf, server_read) != 0)
		e->errors++;
}

static void server_read(struct loop *loop, struct loop_stream *st, long n)
{
	struct echo *e = st->data;
	if (n < 0) {
		e->errors++;
		return;
	}
	if (n == 0) { /* the client's FIN: pass it on */
		e->server_eof = true;
		if (net_shutdown_write(st->fd) != 0)
			e->errors++;
		loop_stream_close(loop, st, echo_closed);
		return;
	}
	if (loop_stream_write(loop, st, e->sbuf, (size_t)n, 0, server_wrote) != 0)
		e->errors++;
}

static void client_read(struct loop *loop, struct loop_stream *st, long n)
{
	struct echo *e = st->data;
	if (n < 0) {
		e->errors++;
		return;
	}
	if (n == 0) {
		e->client_eof = true;
		loop_stream_close(loop, st, echo_closed);
		return;
	}
	e->got += (size_t)n;
	size_t room = ECHO_LEN - e->got;
	/* One byte of room past the end, to see an echo that sends too much. */
	if (loop_stream_read(loop, st, e->in + e->got, room ? room : 1, client_read) != 0)
		e->errors++;
}

static void client_wrote(struct loop *loop, struct loop_stream *st, size_t written, int err)
{
	struct echo *e = st->data;
	if (err || written != ECHO_LEN || net_shutdown_write(st->fd) != 0)
		e->errors++;
}

static bool echo_done(void *arg)
{
	struct echo *e = arg;
	return e->closes == 2;
}

static void echo_10mib_byte_exact(void)
{
	struct loop loop;
	WT_EQ(loop_init(&loop), 0);
	struct echo *e = calloc(1, sizeof *e);
	WT_TRUE(e != NULL);
	e->out = malloc(ECHO_LEN);
	e->in = malloc(ECHO_LEN + 1);
	WT_TRUE(e->out && e->in);
	fill_pattern(e->out, ECHO_LEN, 7);
	int fds[2];
	socket_pair(fds);
	WT_EQ(loop_stream_init(&loop, &e->client, fds[0], e), 0);
	WT_EQ(loop_stream_init(&loop, &e->server, fds[1], e), 0);
	/* The whole 10 MiB as one request: the backend posts it and whatever remains. */
	WT_EQ(loop_stream_write(&loop, &e->client, e->out, ECHO_LEN, 0, client_wrote), 0);
	WT_EQ(loop_stream_write(&loop, &e->client, e->out, 1, 0, client_wrote), -EBUSY);
	WT_EQ(loop_stream_read(&loop, &e->client, e->in, ECHO_LEN + 1, client_read), 0);
	WT_EQ(loop_stream_read(&loop, &e->server, e->sbuf, sizeof e->sbuf, server_read), 0);
	struct watchdog wd;
	watchdog_start(&loop, &wd, 60, echo_done, e);
	WT_EQ(loop_run(&loop), 0);
	WT_EQ(e->errors, 0);
	WT_TRUE(!wd.fired);
	WT_TRUE(e->client_eof && e->server_eof);
	WT_EQ(e->got, ECHO_LEN);
	WT_MEM_EQ(e->in, e->out, ECHO_LEN);
	WT_TRUE(e->client.send_ops >= 1);
	printf("# echo: client send completions %llu, of which short %llu\n",
	       (unsigned long long)e->client.send_ops, (unsigned long long)e->client.short_sends);
	WT_EQ(loop_active(&loop), 0);
	net_close(fds[0]);
	net_close(fds[1]);
	free(e->out);
	free(e->in);
	free(e);
	loop_free(&loop);
}

/* ---- streams: a peer that does not read, and closes with requests in flight ---- */

enum { BIG = 32 << 20 };

struct stalled {
	struct loop_stream st;
	struct loop_timer later;
	size_t written;
	int write_err, read_err;
	int write_cbs, read_cbs, closes;
	int order; /* 1 when both request callbacks ran before the close callback */
};

static void stalled_closed(struct loop *loop, struct loop_stream *st)
{
	struct stalled *s = st->data;
	s->closes++;
	s->order = s->write_cbs == 1 && s->read_cbs == 1;
}

static void stalled_wrote(struct loop *loop, struct loop_stream *st, size_t written, int err)
{
	struct stalled *s = st->data;
	s->written = written;
	s->write_err = err;
	s->write_cbs++;
}

static void stalled_read(struct loop *loop, struct loop_stream *st, long n)
{
	struct stalled *s = st->data;
	s->read_err = (int)n;
	s->read_cbs++;
}

static void close_stalled(struct loop *loop, struct loop_timer *t)
{
	struct stalled *s = t->data;
	loop_stream_close(loop, &s->st, stalled_closed);
}

static void close_with_requests_in_flight(void)
{
	struct loop loop;
	WT_EQ(loop_init(&loop), 0);
	int fds[2];
	socket_pair(fds);
	struct stalled s = {0};
	unsigned char *big = calloc(1, BIG);
	char rbuf[16];
	WT_TRUE(big != NULL);
	WT_EQ(loop_stream_init(&loop, &s.st, fds[0], &s), 0);
	/* The peer (fds[1]) reads nothing: 32 MiB cannot all be taken. */
	WT_EQ(loop_stream_write(&loop, &s.st, big, BIG, 0, stalled_wrote), 0);
	WT_EQ(loop_stream_read(&loop, &s.st, rbuf, sizeof rbuf, stalled_read), 0);
	loop_timer_init(&s.later, close_stalled, &s);
	WT_EQ(loop_timer_start(&loop, &s.later, 200000), 0);
	WT_EQ(loop_run(&loop), 0);
	WT_EQ(s.closes, 1);
	WT_EQ(s.order, 1);
	WT_EQ(s.write_err, -ECANCELED);
	WT_EQ(s.read_err, -ECANCELED);
	WT_TRUE(s.written < BIG);
	printf("# cancelled 32 MiB write: %zu bytes reported taken\n", s.written);
	WT_EQ(loop_active(&loop), 0);
	net_close(fds[0]);
	net_close(fds[1]);
	free(big);
	loop_free(&loop);
}

/* A write larger than the socket buffers to a peer that reads only later: the request
 * stays in flight until the peer drains it, then completes whole; short_sends counts
 * any completion the OS made with fewer bytes than were posted. */
struct drain {
	struct loop_stream st;
	struct loop_timer later;
	int peer;
	unsigned char *rx;
	size_t rx_len;
	size_t written;
	int write_err, write_cbs, closes;
	bool in_flight_before_drain;
	int ticks;
	unsigned flags;
};

static void drain_closed(struct loop *loop, struct loop_stream *st)
{
	struct drain *d = st->data;
	d->closes++;
}

static void drain_wrote(struct loop *loop, struct loop_stream *st, size_t written, int err)
{
	struct drain *d = st->data;
	d->written = written;
	d->write_err = err;
	d->write_cbs++;
	loop_stream_close(loop, st, drain_closed);
}

static void drain_peer(struct loop *loop, struct loop_timer *t)
{
	struct drain *d = t->data;
	if (d->ticks++ == 0)
		d->in_flight_before_drain = d->write_cbs == 0;
	/* Read what arrived, without blocking; come back until the write completed. */
	for (int i = 0; i < 64; i++) {
		long n = net_read(d->peer, d->rx + d->rx_len, BIG - d->rx_len);
		if (n <= 0)
			break;
		d->rx_len += (size_t)n;
	}
	if (d->write_cbs == 0 || d->rx_len < d->written)
		loop_timer_start(loop, t, 1000);
}

static bool drain_done(void *arg)
{
	struct drain *d = arg;
	return d->closes == 1 && !loop_timer_active(&d->later);
}

static void run_drain(unsigned flags, struct drain *d, unsigned char *big)
{
	struct loop loop;
	WT_EQ(loop_init(&loop), 0);
	int fds[2];
	socket_pair(fds);
	d->peer = fds[1];
	d->flags = flags;
	fill_pattern(big, BIG, 3);
	WT_EQ(loop_stream_init(&loop, &d->st, fds[0], d), 0);
	loop_update_time(&loop); /* the pattern took a while: time the peer from now */
	WT_EQ(loop_stream_write(&loop, &d->st, big, BIG, flags, drain_wrote), 0);
	loop_timer_init(&d->later, drain_peer, d);
	WT_EQ(loop_timer_start(&loop, &d->later, 300000), 0); /* the peer reads after 0.3 s */
	struct watchdog wd;
	watchdog_start(&loop, &wd, 60, drain_done, d);
	WT_EQ(loop_run(&loop), 0);
	WT_TRUE(!wd.fired);
	WT_EQ(loop_active(&loop), 0);
	net_close(fds[0]);
	net_close(fds[1]);
	loop_free(&loop);
}

static void big_write_to_slow_reader(void)
{
	struct drain d = {0};
	unsigned char *big = malloc(BIG);
	d.rx = malloc(BIG);
	WT_TRUE(big && d.rx);
	run_drain(0, &d, big);
	WT_EQ(d.write_err, 0);
	WT_EQ(d.write_cbs, 1);
	WT_TRUE(d.in_flight_before_drain);
	WT_EQ(d.written, BIG);
	WT_EQ(d.rx_len, BIG);
	WT_MEM_EQ(d.rx, big, BIG);
	printf("# 32 MiB to a slow reader: send completions %llu, short %llu\n",
	       (unsigned long long)d.st.send_ops, (unsigned long long)d.st.short_sends);
	free(big);
	free(d.rx);
}

/* With LOOP_WRITE_PARTIAL the request completes at the first completion that took
 * fewer bytes than posted — if the OS makes one; else it completes whole. Either way
 * written says exactly what the peer gets. */
static void partial_flag_reports_what_was_taken(void)
{
	struct drain d = {0};
	unsigned char *big = malloc(BIG);
	d.rx = malloc(BIG);
	WT_TRUE(big && d.rx);
	run_drain(LOOP_WRITE_PARTIAL, &d, big);
	WT_EQ(d.write_err, 0);
	WT_TRUE(d.written > 0 && d.written <= BIG);
	WT_EQ(d.written < BIG, d.st.short_sends > 0);
	WT_EQ(d.rx_len, d.written);
	WT_MEM_EQ(d.rx, big, d.written);
	printf("# LOOP_WRITE_PARTIAL: %zu of %d bytes, short completions %llu\n", d.written, BIG,
	       (unsigned long long)d.st.short_sends);
	free(big);
	free(d.rx);
}

/* A write the OS refuses at once (the write side was shut down) is still answered from
 * loop_run(), with the errno a Linux socket gives (-EPIPE); the stream stays usable. */
struct refused {
	struct loop_stream st;
	int write_err, write_cbs, closes;
	bool inside_call;
};

static void refused_closed(struct loop *loop, struct loop_stream *st)
{
	struct refused *r = st->data;
	r->closes++;
}

static void refused_wrote(struct loop *loop, struct loop_stream *st, size_t written, int err)
{
	struct refused *r = st->data;
	WT_TRUE(!r->inside_call);
	r->write_err = err;
	r->write_cbs++;
	WT_EQ(written, 0);
	if (r->write_cbs == 2)
		loop_stream_close(loop, st, refused_closed);
	else /* the same request again: its record comes back clean */
		WT_EQ(loop_stream_write(loop, st, "again", 5, 0, refused_wrote), 0);
}

static void refused_request_answered_from_loop(void)
{
	struct loop loop;
	WT_EQ(loop_init(&loop), 0);
	int fds[2];
	socket_pair(fds);
	struct refused r = {0};
	WT_EQ(loop_stream_init(&loop, &r.st, fds[0], &r), 0);
	WT_EQ(net_shutdown_write(fds[0]), 0);
	r.inside_call = true;
	WT_EQ(loop_stream_write(&loop, &r.st, "late", 4, 0, refused_wrote), 0);
	r.inside_call = false;
	WT_EQ(r.write_cbs, 0);
	WT_EQ(loop_run(&loop), 0);
	WT_EQ(r.write_cbs, 2);
	WT_EQ(r.write_err, -EPIPE);
	WT_EQ(r.closes, 1);
	WT_EQ(loop_active(&loop), 0);
	net_close(fds[0]);
	net_close(fds[1]);
	loop_free(&loop);
}

/* ---- readiness ---- */

struct drip {
	int fd;
	struct loop_io io;
	int calls;
	char got[16];
	size_t len;
};

/* One byte per callback: the loop must report the socket again until it is drained. */
static void read_one_byte(struct loop *loop, struct loop_io *io, unsigned events)
{
	struct drip *d = io->data;
	d->calls++;
	long n = net_read(io->fd, d->got + d->len, 1);
	if (n == 1)
		d->len++;
	if (d->len == 10 || d->calls > 100)
		loop_io_stop(loop, io);
}

static void readiness_is_level_triggered(void)
{
	struct loop loop;
	WT_EQ(loop_init(&loop), 0);
	int fds[2];
	socket_pair(fds);
	WT_EQ(net_write(fds[0], "0123456789", 10), 10);
	struct drip d = {.fd = fds[1]};
	Sleep(50); /* let the ten bytes arrive together */
	WT_EQ(loop_io_start(&loop, &d.io, fds[1], LOOP_READ, read_one_byte, &d), 0);
	WT_EQ(loop_active(&loop), 1);
	WT_EQ(loop_run(&loop), 0);
	WT_EQ(d.len, 10);
	WT_MEM_EQ(d.got, "0123456789", 10);
	WT_TRUE(d.calls >= 10 && d.calls <= 12); /* spurious reports are allowed, few */
	WT_EQ(loop_active(&loop), 0);
	net_close(fds[0]);
	net_close(fds[1]);
	loop_free(&loop);
}

struct writable {
	struct loop_io io;
	int calls;
	struct loop_io *other;
	bool saw_eof;
};

static void count_writable(struct loop *loop, struct loop_io *io, unsigned events)
{
	struct writable *w = io->data;
	WT_TRUE(events & LOOP_WRITE);
	if (++w->calls == 3)
		loop_io_stop(loop, io);
}

static void writable_reported_while_room(void)
{
	struct loop loop;
	WT_EQ(loop_init(&loop), 0);
	int fds[2];
	socket_pair(fds);
	struct writable w = {0};
	WT_EQ(loop_io_start(&loop, &w.io, fds[0], LOOP_WRITE, count_writable, &w), 0);
	WT_EQ(loop_run(&loop), 0);
	WT_EQ(w.calls, 3);
	WT_EQ(loop_active(&loop), 0);
	net_close(fds[0]);
	net_close(fds[1]);
	loop_free(&loop);
}

struct two {
	struct loop_io io[2];
	int calls;
};

/* Stops both watchers: the other's event, if collected in the same batch, is dropped. */
static void stop_both(struct loop *loop, struct loop_io *io, unsigned events)
{
	struct two *t = io->data;
	t->calls++;
	loop_io_stop(loop, &t->io[0]);
	loop_io_stop(loop, &t->io[1]);
}

static void stop_from_callback_drops_collected_events(void)
{
	struct loop loop;
	WT_EQ(loop_init(&loop), 0);
	int a[2], b[2];
	socket_pair(a);
	socket_pair(b);
	WT_EQ(net_write(a[0], "x", 1), 1);
	WT_EQ(net_write(b[0], "y", 1), 1);
	Sleep(50);
	struct two t = {0};
	WT_EQ(loop_io_start(&loop, &t.io[0], a[1], LOOP_READ, stop_both, &t), 0);
	WT_EQ(loop_io_start(&loop, &t.io[1], b[1], LOOP_READ, stop_both, &t), 0);
	WT_EQ(loop_run(&loop), 0);
	WT_EQ(t.calls, 1);
	WT_EQ(loop_active(&loop), 0);
	for (int i = 0; i < 2; i++) {
		net_close(a[i]);
		net_close(b[i]);
	}
	loop_free(&loop);
}

static void never_called(struct loop *loop, struct loop_io *io, unsigned events)
{
	WT_TRUE(!"a stopped watcher was called");
}

static void tick(struct loop *loop, struct loop_timer *t) {}

/* A watcher freed right after loop_io_stop(), its poll still in flight: the backend's
 * record outlives it, and the late completion touches nothing of the caller's. */
static void watcher_freed_with_poll_in_flight(void)
{
	struct loop loop;
	WT_EQ(loop_init(&loop), 0);
	int fds[2];
	socket_pair(fds);
	for (int i = 0; i < 100; i++) {
		struct loop_io *io = calloc(1, sizeof *io);
		WT_TRUE(io != NULL);
		WT_EQ(loop_io_start(&loop, io, fds[1], LOOP_READ, never_called, NULL), 0);
		WT_EQ(loop_io_set(&loop, io, LOOP_READ | LOOP_WRITE), 0); /* re-issues the poll */
		loop_io_stop(&loop, io);
		memset(io, 0xa5, sizeof *io);
		free(io);
	}
	WT_EQ(net_write(fds[0], "z", 1), 1);
	struct loop_timer t;
	loop_timer_init(&t, tick, NULL);
	WT_EQ(loop_timer_start(&loop, &t, 100000), 0);
	WT_EQ(loop_run(&loop), 0);
	WT_EQ(loop_active(&loop), 0);
	net_close(fds[0]);
	net_close(fds[1]);
	loop_free(&loop);
}

int main(int argc, char **argv)
{
	static const struct wt_case cases[] = {
		{"iocp: timers fire in due order", timers_fire_in_due_order},
		{"iocp: wake from another thread", wake_from_another_thread},
		{"iocp: 10 MiB echoed byte-exact", echo_10mib_byte_exact},
		{"iocp: close with read and write in flight", close_with_requests_in_flight},
		{"iocp: 32 MiB write to a slow reader", big_write_to_slow_reader},
		{"iocp: LOOP_WRITE_PARTIAL reports what was taken", partial_flag_reports_what_was_taken},
		{"iocp: a refused request is answered from the loop", refused_request_answered_from_loop},
		{"iocp: readiness is level-triggered", readiness_is_level_triggered},
		{"iocp: writable reported while there is room", writable_reported_while_room},
		{"iocp: stop from a callback drops collected events",
		 stop_from_callback_drops_collected_events},
		{"iocp: watcher freed with its poll in flight", watcher_freed_with_poll_in_flight},
	};
	return wt_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
