/* Unit tests for lib/listeners: a port 0 is bound once and shared by the sets opened
 * after it, a failing address names itself and leaves nothing open, closing is
 * idempotent. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>

#include "lib/listeners.h"
#include "lib/loop.h"
#include "lib/net.h"
#include "tests/unit/fds.h"

static void on_accept(struct loop *loop, struct loop_io *io, unsigned events) {}

static void test_port_zero_shared(void **state)
{
	(void)state;
	struct loop loop;
	assert_int_equal(loop_init(&loop), 0);
	struct net_addr addrs[2];
	assert_int_equal(net_addr_parse("127.0.0.1:0", &addrs[0]), 0);
	assert_int_equal(net_addr_parse("127.0.0.1:0", &addrs[1]), 0);
	struct listeners a, b;
	size_t failed = 99;
	assert_int_equal(listeners_open(&a, &loop, addrs, 2, true, on_accept, NULL, &failed), 0);
	assert_int_equal(a.n, 2);
	assert_int_not_equal(net_addr_port(&addrs[0]), 0); /* written back */
	assert_int_not_equal(net_addr_port(&addrs[1]), 0);
	assert_int_equal(listeners_index(&a, &a.io[1]), 1);
	assert_ptr_equal(a.io[0].data, NULL);
	/* A second worker's set shares the ports (SO_REUSEPORT). */
	assert_int_equal(listeners_open(&b, &loop, addrs, 2, true, on_accept, NULL, &failed), 0);
	listeners_close(&b);
	listeners_close(&a);
	listeners_close(&a); /* idempotent */
	assert_int_equal(a.n, 0);
	listeners_close(NULL);
	loop_free(&loop);
}

static void test_failure_leaves_nothing_open(void **state)
{
	(void)state;
	struct loop loop;
	assert_int_equal(loop_init(&loop), 0);
	struct net_addr held;
	assert_int_equal(net_addr_parse("127.0.0.1:0", &held), 0);
	struct listeners holder;
	size_t failed;
	/* Not shared: no SO_REUSEPORT socket may bind its port. */
	assert_int_equal(listeners_open(&holder, &loop, &held, 1, false, on_accept, NULL, &failed), 0);
	struct net_addr addrs[3];
	assert_int_equal(net_addr_parse("127.0.0.1:0", &addrs[0]), 0);
	addrs[1] = held;
	assert_int_equal(net_addr_parse("127.0.0.1:0", &addrs[2]), 0);
	int before = open_fds();
	struct listeners ls;
	assert_int_equal(listeners_open(&ls, &loop, addrs, 3, true, on_accept, NULL, &failed),
			 -EADDRINUSE);
	assert_int_equal(failed, 1);
	assert_int_equal(ls.n, 0);
	assert_int_equal(open_fds(), before);
	listeners_close(&ls);
	struct net_addr many[LISTENERS_MAX + 1];
	assert_int_equal(listeners_open(&ls, &loop, many, LISTENERS_MAX + 1, true, on_accept, NULL,
					&failed),
			 -E2BIG);
	listeners_close(&holder);
	loop_free(&loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_port_zero_shared),
		cmocka_unit_test(test_failure_leaves_nothing_open),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
