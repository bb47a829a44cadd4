/* iocp_helpers.h — what the Windows test programs of the loop share: a watchdog that
 * fails a test instead of letting it hang, a loopback listener on a free port, two
 * connected sockets made without a loop, and a byte pattern. */
#ifndef TP_IOCP_HELPERS_H
#define TP_IOCP_HELPERS_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/loop.h"
#include "lib/net.h"
#include "tests/win/wintest.h"

#include <windows.h>

/* Polls done(arg) every 10 ms and lets the loop end once it holds; stops the loop (and
 * so fails the test) when it still does not after secs. */
struct watchdog {
	struct loop_timer timer;
	bool (*done)(void *arg);
	void *arg;
	uint64_t deadline;
	bool fired;
};

static inline void watchdog_tick(struct loop *loop, struct loop_timer *t)
{
	struct watchdog *w = t->data;
	if (w->done(w->arg))
		return;
	if (loop_now(loop) >= w->deadline) {
		w->fired = true;
		loop_stop(loop);
		return;
	}
	loop_timer_start(loop, t, 10000);
}

static inline void watchdog_start(struct loop *loop, struct watchdog *w, uint64_t secs,
			   bool (*done)(void *), void *arg)
{
	*w = (struct watchdog){.done = done, .arg = arg, .deadline = loop_now(loop) + secs * 1000000u};
	loop_timer_init(&w->timer, watchdog_tick, w);
	WT_EQ(loop_timer_start(loop, &w->timer, 10000), 0);
}

/* A listener on 127.0.0.1 with a free port. */
static inline int listen_any(struct net_addr *addr)
{
	WT_EQ(net_addr_parse("127.0.0.1:0", addr), 0);
	int fd = net_listen(addr, 16, false);
	WT_TRUE(fd >= 0);
	WT_EQ(net_local_addr(fd, addr), 0);
	return fd;
}

/* Two connected sockets over loopback, made without a loop (bounded retries). */
static inline void socket_pair(int fds[2])
{
	struct net_addr addr;
	int lfd = listen_any(&addr);
	fds[0] = net_connect(&addr);
	WT_TRUE(fds[0] >= 0);
	fds[1] = -EAGAIN;
	for (int i = 0; i < 2000 && fds[1] == -EAGAIN; i++) {
		fds[1] = net_accept(lfd, NULL);
		if (fds[1] == -EAGAIN)
			Sleep(1);
	}
	WT_TRUE(fds[1] >= 0);
	net_close(lfd);
	for (int i = 0; i < 2000 && net_connect_result(fds[0]) != 0; i++)
		Sleep(1);
	WT_EQ(net_connect_result(fds[0]), 0);
}

static inline void fill_pattern(unsigned char *p, size_t len, uint32_t seed)
{
	uint32_t x = seed;
	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		p[i] = (unsigned char)(x >> 16);
	}
}

#endif
