/* Unit tests for the completion-style accept and connect of lib/loop.h on a readiness
 * backend (lib/loop_ready.c over epoll), the same assertions tests/win/test_loop_iocp.c
 * makes of AcceptEx/ConnectEx: connect then accept, the callbacks only from loop_run,
 * a refused connect, a connect cancelled by a close, an acceptor closed with nothing
 * to accept, a burst of connections accepted in batches, and a stream used for I/O
 * after its connect. Every test ends with the loop empty. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "lib/loop.h"
#include "lib/net.h"

static int listen_any(struct net_addr *addr)
{
	assert_int_equal(net_addr_parse("127.0.0.1:0", addr), 0);
	int fd = net_listen(addr, 128, false);
	assert_true(fd >= 0);
	assert_int_equal(net_local_addr(fd, addr), 0);
	return fd;
}

struct conn_test {
	struct loop_acceptor ac;
	struct loop_stream client;
	int accepted[80];
	int accepts;
	int accept_limit;
	int connect_err;
	int connects, closes;
	bool inside_call; /* set while a loop_* call that must not call back runs */
};

static void acceptor_closed(struct loop *loop, struct loop_acceptor *ac)
{
	struct conn_test *ct = ac->data;
	assert_false(ct->inside_call);
	ct->closes++;
}

static void on_accept(struct loop *loop, struct loop_acceptor *ac, int fd, int err)
{
	struct conn_test *ct = ac->data;
	assert_false(ct->inside_call);
	assert_int_equal(err, 0);
	assert_true(fd >= 0);
	ct->accepted[ct->accepts++] = fd;
	if (ct->accepts == ct->accept_limit)
		loop_accept_close(loop, ac, acceptor_closed);
}

static void client_closed(struct loop *loop, struct loop_stream *st)
{
	struct conn_test *ct = st->data;
	ct->closes++;
}

static void on_connect(struct loop *loop, struct loop_stream *st, int err)
{
	struct conn_test *ct = st->data;
	assert_false(ct->inside_call);
	ct->connect_err = err;
	ct->connects++;
	loop_stream_close(loop, st, client_closed);
}

static void test_connect_then_accept(void **state)
{
	(void)state;
	struct loop loop;
	assert_int_equal(loop_init(&loop), 0);
	struct conn_test ct = {.connect_err = 1, .accept_limit = 1};
	struct net_addr addr;
	int lfd = listen_any(&addr);
	ct.inside_call = true;
	assert_int_equal(loop_accept_start(&loop, &ct.ac, lfd, on_accept, &ct), 0);
	int cfd = net_stream_socket(AF_INET);
	assert_true(cfd >= 0);
	assert_int_equal(loop_stream_init(&loop, &ct.client, cfd, &ct), 0);
	assert_int_equal(loop_stream_connect(&loop, &ct.client, (struct sockaddr *)&addr.ss,
					     (int)addr.len, on_connect),
			 0);
	assert_int_equal(loop_stream_connect(&loop, &ct.client, (struct sockaddr *)&addr.ss,
					     (int)addr.len, on_connect),
			 -EBUSY);
	ct.inside_call = false;
	assert_int_equal(loop_run(&loop), 0);
	assert_int_equal(ct.connect_err, 0);
	assert_int_equal(ct.connects, 1);
	assert_int_equal(ct.accepts, 1);
	assert_int_equal(ct.closes, 2);
	struct net_addr peer, local;
	assert_int_equal(net_peer_addr(cfd, &peer), 0);
	assert_int_equal(net_addr_port(&peer), net_addr_port(&addr));
	assert_int_equal(net_local_addr(cfd, &local), 0);
	assert_int_equal(net_peer_addr(ct.accepted[0], &peer), 0);
	assert_int_equal(net_addr_port(&peer), net_addr_port(&local));
	assert_int_equal(loop_active(&loop), 0);
	net_close(cfd);
	net_close(ct.accepted[0]);
	net_close(lfd);
	loop_free(&loop);
}

static void on_connect_result(struct loop *loop, struct loop_stream *st, int err)
{
	int *got = st->data;
	*got = err;
}

static void test_connect_refused(void **state)
{
	(void)state;
	struct loop loop;
	assert_int_equal(loop_init(&loop), 0);
	struct net_addr addr;
	net_close(listen_any(&addr)); /* a port nothing listens on */
	int cfd = net_stream_socket(AF_INET);
	struct loop_stream st;
	int got = 1;
	assert_int_equal(loop_stream_init(&loop, &st, cfd, &got), 0);
	assert_int_equal(loop_stream_connect(&loop, &st, (struct sockaddr *)&addr.ss, (int)addr.len,
					     on_connect_result),
			 0);
	assert_int_equal(got, 1);
	assert_int_equal(loop_run(&loop), 0);
	assert_int_equal(got, -ECONNREFUSED);
	assert_int_equal(loop_active(&loop), 0);
	net_close(cfd);
	loop_free(&loop);
}

static void count_close(struct loop *loop, struct loop_stream *st)
{
	int *closes = (int *)st->data + 1;
	(*closes)++;
}

/* A close while connecting: the connect callback runs with -ECANCELED, then the close. */
static void test_close_cancels_connect(void **state)
{
	(void)state;
	struct loop loop;
	assert_int_equal(loop_init(&loop), 0);
	struct net_addr addr;
	int lfd = listen_any(&addr);
	int cfd = net_stream_socket(AF_INET);
	struct loop_stream st;
	int got[2] = {1, 0}; /* connect result, closes */
	assert_int_equal(loop_stream_init(&loop, &st, cfd, got), 0);
	assert_int_equal(loop_stream_connect(&loop, &st, (struct sockaddr *)&addr.ss, (int)addr.len,
					     on_connect_result),
			 0);
	loop_stream_close(&loop, &st, count_close);
	assert_int_equal(got[0], 1);
	assert_int_equal(loop_run(&loop), 0);
	assert_int_equal(got[0], -ECANCELED);
	assert_int_equal(got[1], 1);
	assert_int_equal(loop_active(&loop), 0);
	net_close(cfd);
	net_close(lfd);
	loop_free(&loop);
}

static void test_acceptor_closed_with_nothing_to_accept(void **state)
{
	(void)state;
	struct loop loop;
	assert_int_equal(loop_init(&loop), 0);
	struct conn_test ct = {0};
	struct net_addr addr;
	int lfd = listen_any(&addr);
	assert_int_equal(loop_accept_start(&loop, &ct.ac, lfd, on_accept, &ct), 0);
	assert_int_equal(loop_active(&loop), 1);
	ct.inside_call = true;
	loop_accept_close(&loop, &ct.ac, acceptor_closed);
	ct.inside_call = false;
	assert_int_equal(ct.closes, 0);
	assert_int_equal(loop_run(&loop), 0);
	assert_int_equal(ct.closes, 1);
	assert_int_equal(ct.accepts, 0);
	assert_int_equal(loop_active(&loop), 0);
	net_close(lfd);
	loop_free(&loop);
}

/* More connections waiting than LOOP_ACCEPT_BATCH: all are accepted, over several
 * events, and the acceptor closed from the callback stops at the one that closed it. */
static void test_burst_of_connections(void **state)
{
	(void)state;
	enum { N = LOOP_ACCEPT_BATCH + 10 };
	struct loop loop;
	assert_int_equal(loop_init(&loop), 0);
	static struct conn_test ct;
	memset(&ct, 0, sizeof ct);
	ct.accept_limit = N;
	struct net_addr addr;
	int lfd = listen_any(&addr);
	int clients[N];
	for (int i = 0; i < N; i++) {
		clients[i] = net_connect(&addr);
		assert_true(clients[i] >= 0);
	}
	assert_int_equal(loop_accept_start(&loop, &ct.ac, lfd, on_accept, &ct), 0);
	assert_int_equal(loop_run(&loop), 0);
	assert_int_equal(ct.accepts, N);
	assert_int_equal(ct.closes, 1);
	assert_int_equal(loop_active(&loop), 0);
	for (int i = 0; i < N; i++) {
		net_close(clients[i]);
		net_close(ct.accepted[i]);
	}
	net_close(lfd);
	loop_free(&loop);
}

struct io_after {
	struct loop_stream st;
	char buf[8];
	long nread;
	int closes;
};

static void after_closed(struct loop *loop, struct loop_stream *st)
{
	struct io_after *io = st->data;
	io->closes++;
}

static void after_read(struct loop *loop, struct loop_stream *st, long n)
{
	struct io_after *io = st->data;
	io->nread = n;
	loop_stream_close(loop, st, after_closed);
}

static void after_connect(struct loop *loop, struct loop_stream *st, int err)
{
	struct io_after *io = st->data;
	assert_int_equal(err, 0);
	assert_int_equal(loop_stream_read(loop, st, io->buf, sizeof io->buf, after_read), 0);
}

/* Accepts one connection, greets it, and closes the acceptor. */
static void accept_and_greet(struct loop *loop, struct loop_acceptor *ac, int fd, int err)
{
	struct conn_test *ct = ac->data;
	assert_int_equal(err, 0);
	ct->accepted[ct->accepts++] = fd;
	assert_int_equal(net_write(fd, "hello", 5), 5);
	loop_accept_close(loop, ac, acceptor_closed);
}

static void test_stream_io_after_connect(void **state)
{
	(void)state;
	struct loop loop;
	assert_int_equal(loop_init(&loop), 0);
	struct net_addr addr;
	int lfd = listen_any(&addr);
	struct conn_test ct = {0};
	assert_int_equal(loop_accept_start(&loop, &ct.ac, lfd, accept_and_greet, &ct), 0);
	struct io_after io = {0};
	int cfd = net_stream_socket(AF_INET);
	assert_int_equal(loop_stream_init(&loop, &io.st, cfd, &io), 0);
	assert_int_equal(loop_stream_connect(&loop, &io.st, (struct sockaddr *)&addr.ss,
					     (int)addr.len, after_connect),
			 0);
	assert_int_equal(loop_run(&loop), 0);
	assert_int_equal(ct.accepts, 1);
	assert_int_equal(ct.closes, 1);
	assert_int_equal(io.nread, 5);
	assert_memory_equal(io.buf, "hello", 5);
	assert_int_equal(io.closes, 1);
	assert_int_equal(loop_active(&loop), 0);
	net_close(cfd);
	net_close(ct.accepted[0]);
	net_close(lfd);
	loop_free(&loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect_then_accept),
		cmocka_unit_test(test_connect_refused),
		cmocka_unit_test(test_close_cancels_connect),
		cmocka_unit_test(test_acceptor_closed_with_nothing_to_accept),
		cmocka_unit_test(test_burst_of_connections),
		cmocka_unit_test(test_stream_io_after_connect),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
