/* Unit tests for AcceptEx and ConnectEx in lib/loop_iocp.c (the acceptor and
 * loop_stream_connect of loop.h), lib/net_win.c and lib/listeners on Windows, run
 * under Wine by tests/e2e/win_loop.sh. Every test ends with the loop empty. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/listeners.h"
#include "lib/loop.h"
#include "lib/net.h"
#include "tests/win/iocp_helpers.h"
#include "tests/win/wintest.h"

#include <windows.h>

/* ---- accept and connect ---- */

struct conn_test {
	struct loop_acceptor ac;
	struct loop_stream client;
	int accepted_fd;
	int connect_err;
	int connects, accepts, closes;
	struct net_addr listen_addr;
};

static void acceptor_closed(struct loop *loop, struct loop_acceptor *ac)
{
	struct conn_test *ct = ac->data;
	ct->closes++;
}

static void on_accept(struct loop *loop, struct loop_acceptor *ac, int fd, int err)
{
	struct conn_test *ct = ac->data;
	WT_EQ(err, 0);
	ct->accepted_fd = fd;
	ct->accepts++;
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
	ct->connect_err = err;
	ct->connects++;
	loop_stream_close(loop, st, client_closed);
}

static bool conn_done(void *arg)
{
	struct conn_test *ct = arg;
	return ct->closes == 2;
}

static void no_read(struct loop *loop, struct loop_stream *st, long n) {}

static void accept_and_connect(void)
{
	struct loop loop;
	WT_EQ(loop_init(&loop), 0);
	struct watchdog wd;
	struct conn_test ct = {.accepted_fd = -1, .connect_err = 1};
	int lfd = listen_any(&ct.listen_addr);
	WT_EQ(loop_accept_start(&loop, &ct.ac, lfd, on_accept, &ct), 0);
	int cfd = net_stream_socket(AF_INET);
	WT_TRUE(cfd >= 0);
	WT_EQ(loop_stream_init(&loop, &ct.client, cfd, &ct), 0);
	WT_EQ(loop_stream_connect(&loop, &ct.client, (struct sockaddr *)&ct.listen_addr.ss,
				  ct.listen_addr.len, on_connect),
	      0);
	/* A second connect or a read while connecting is refused. */
	WT_EQ(loop_stream_connect(&loop, &ct.client, (struct sockaddr *)&ct.listen_addr.ss,
				  ct.listen_addr.len, on_connect),
	      -EBUSY);
	char byte;
	WT_EQ(loop_stream_read(&loop, &ct.client, &byte, 1, no_read), -EBUSY);
	watchdog_start(&loop, &wd, 10, conn_done, &ct);
	WT_EQ(loop_run(&loop), 0);
	WT_TRUE(!wd.fired);
	WT_EQ(ct.connect_err, 0);
	WT_EQ(ct.connects, 1);
	WT_EQ(ct.accepts, 1);
	/* Both ends know whom they are connected to (SO_UPDATE_*_CONTEXT was applied). */
	struct net_addr peer, local;
	WT_EQ(net_peer_addr(cfd, &peer), 0);
	WT_EQ(net_addr_port(&peer), net_addr_port(&ct.listen_addr));
	WT_EQ(net_local_addr(cfd, &local), 0);
	WT_EQ(net_peer_addr(ct.accepted_fd, &peer), 0);
	WT_EQ(net_addr_port(&peer), net_addr_port(&local));
	WT_EQ(loop_active(&loop), 0);
	net_close(cfd);
	net_close(ct.accepted_fd);
	net_close(lfd);
	loop_free(&loop);
}

static void on_refused(struct loop *loop, struct loop_stream *st, int err)
{
	int *got = st->data;
	*got = err;
}

static void connect_refused(void)
{
	struct loop loop;
	WT_EQ(loop_init(&loop), 0);
	/* A port that was free a moment ago: nothing listens there. */
	struct net_addr addr;
	int lfd = listen_any(&addr);
	net_close(lfd);
	int cfd = net_stream_socket(AF_INET);
	WT_TRUE(cfd >= 0);
	struct loop_stream st;
	int got = 1;
	WT_EQ(loop_stream_init(&loop, &st, cfd, &got), 0);
	WT_EQ(loop_stream_connect(&loop, &st, (struct sockaddr *)&addr.ss, addr.len, on_refused),
	      0);
	WT_EQ(loop_run(&loop), 0);
	WT_EQ(got, -ECONNREFUSED);
	WT_EQ(loop_active(&loop), 0);
	net_close(cfd);
	loop_free(&loop);
}

static void acceptor_close_with_accept_in_flight(void)
{
	struct loop loop;
	WT_EQ(loop_init(&loop), 0);
	struct conn_test ct = {0};
	int lfd = listen_any(&ct.listen_addr);
	WT_EQ(loop_accept_start(&loop, &ct.ac, lfd, on_accept, &ct), 0);
	WT_EQ(loop_active(&loop), 1);
	loop_accept_close(&loop, &ct.ac, acceptor_closed);
	WT_EQ(ct.closes, 0); /* never from inside the call */
	WT_EQ(loop_run(&loop), 0);
	WT_EQ(ct.closes, 1);
	WT_EQ(ct.accepts, 0);
	WT_EQ(loop_active(&loop), 0);
	net_close(lfd);
	loop_free(&loop);
}

/* A burst of waiting connections: AcceptEx takes them one at a time, all of them. */
enum { BURST = 74 };

struct burst {
	struct loop_acceptor ac;
	int fds[BURST];
	int accepts, closes, errors;
};

static void burst_closed(struct loop *loop, struct loop_acceptor *ac)
{
	struct burst *b = ac->data;
	b->closes++;
}

static void burst_accept(struct loop *loop, struct loop_acceptor *ac, int fd, int err)
{
	struct burst *b = ac->data;
	if (err || fd < 0) {
		b->errors++;
		return;
	}
	b->fds[b->accepts++] = fd;
	if (b->accepts == BURST)
		loop_accept_close(loop, ac, burst_closed);
}

static bool burst_done(void *arg)
{
	struct burst *b = arg;
	return b->closes == 1;
}

static void burst_of_connections(void)
{
	struct loop loop;
	WT_EQ(loop_init(&loop), 0);
	static struct burst b;
	memset(&b, 0, sizeof b);
	struct net_addr addr;
	WT_EQ(net_addr_parse("127.0.0.1:0", &addr), 0);
	int lfd = net_listen(&addr, 128, false);
	WT_TRUE(lfd >= 0);
	WT_EQ(net_local_addr(lfd, &addr), 0);
	int clients[BURST];
	for (int i = 0; i < BURST; i++) {
		clients[i] = net_connect(&addr);
		WT_TRUE(clients[i] >= 0);
	}
	WT_EQ(loop_accept_start(&loop, &b.ac, lfd, burst_accept, &b), 0);
	struct watchdog wd;
	watchdog_start(&loop, &wd, 20, burst_done, &b);
	WT_EQ(loop_run(&loop), 0);
	WT_TRUE(!wd.fired);
	WT_EQ(b.errors, 0);
	WT_EQ(b.accepts, BURST);
	WT_EQ(loop_active(&loop), 0);
	for (int i = 0; i < BURST; i++) {
		net_close(clients[i]);
		net_close(b.fds[i]);
	}
	net_close(lfd);
	loop_free(&loop);
}

/* ---- lib/net on Windows ---- */

static void net_differences_are_reported(void)
{
	int fds[2];
	socket_pair(fds);
	WT_EQ(net_bytes_acked(fds[0]), -ENOTSUP);
	char c;
	WT_EQ(net_read(fds[1], &c, 1), -EAGAIN);
	WT_EQ(net_nodelay(fds[0]), 0);
	/* No SO_REUSEPORT: a listener still works, a second one on its port is refused. */
	struct net_addr addr;
	int lfd = listen_any(&addr);
	WT_EQ(net_listen(&addr, 16, true), -EADDRINUSE);
	struct net_udp u;
	WT_EQ(net_udp_bind(&u, &addr, 0), -ENOTSUP);
	WT_EQ(u.fd, -1);
	/* A reset peer reads as -ECONNRESET, as on Linux. */
	WT_EQ(net_write(fds[1], "unread", 6), 6);
	Sleep(50);
	net_close_reset(fds[0]);
	Sleep(50);
	long n = net_read(fds[1], &c, 1);
	WT_TRUE(n == -ECONNRESET || n == 0);
	net_close(fds[1]);
	net_close(lfd);
}

struct lst {
	struct listeners ls;
	int accepted;
};

static void lst_ready(struct loop *loop, struct loop_io *io, unsigned events)
{
	struct lst *l = io->data;
	int fd = net_accept(io->fd, NULL);
	if (fd >= 0) {
		l->accepted = fd;
		listeners_close(&l->ls);
	}
}

/* lib/listeners on Windows: one set per port works (readiness accept by AFD poll); a
 * second set asking for the same port, as a second worker would, is refused whole —
 * there is no SO_REUSEPORT to share it. */
static void listeners_one_set_per_port(void)
{
	struct loop loop;
	WT_EQ(loop_init(&loop), 0);
	struct net_addr addr[2];
	WT_EQ(net_addr_parse("127.0.0.1:0", &addr[0]), 0);
	WT_EQ(net_addr_parse("127.0.0.1:0", &addr[1]), 0);
	struct lst l = {.accepted = -1}, second;
	size_t failed;
	WT_EQ(listeners_open(&l.ls, &loop, addr, 2, true, lst_ready, &l, &failed), 0);
	WT_TRUE(net_addr_port(&addr[0]) != 0 && net_addr_port(&addr[1]) != 0);
	WT_EQ(listeners_open(&second.ls, &loop, addr, 2, true, lst_ready, &second, &failed),
	      -EADDRINUSE);
	WT_EQ(failed, 0);
	WT_EQ(second.ls.n, 0);
	int client = net_connect(&addr[1]);
	WT_TRUE(client >= 0);
	WT_EQ(loop_run(&loop), 0);
	WT_TRUE(l.accepted >= 0);
	WT_EQ(loop_active(&loop), 0);
	net_close(l.accepted);
	net_close(client);
	loop_free(&loop);
}

int main(int argc, char **argv)
{
	static const struct wt_case cases[] = {
		{"iocp: AcceptEx and ConnectEx", accept_and_connect},
		{"iocp: ConnectEx refused", connect_refused},
		{"iocp: acceptor closed with AcceptEx in flight", acceptor_close_with_accept_in_flight},
		{"iocp: a burst of connections, all accepted", burst_of_connections},
		{"net: Windows differences are reported", net_differences_are_reported},
		{"listeners: one set per port (no SO_REUSEPORT)", listeners_one_set_per_port},
	};
	return wt_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
