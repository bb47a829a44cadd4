/* Start-up failures of the reference proxy and the origin: with several threads asked
 * for and a listener that cannot bind, each frees only the workers it set up. Before,
 * the workers never set up were freed as zeroed structs, closing fd 0 twice each (seen
 * with strace on `proxy --workers 3` and a busy port). The run must end with exit 2, a
 * message naming the address, fd 0 still open and no descriptor left behind. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proxy-under-test/proxy.h"
#include "replay/origin.h"
#include "tests/unit/fds.h"

/* A listener on 127.0.0.1 without SO_REUSEPORT: no SO_REUSEPORT socket may share its
 * port. Returns the fd; *port is its port. */
static int hold_port(unsigned *port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(fd, 1), 0);
	socklen_t len = sizeof a;
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	*port = ntohs(a.sin_port);
	return fd;
}

/* Runs main_fn(argv) with stderr in a file; returns its exit code and what it wrote. */
static int run_captured(int (*main_fn)(int, char **), char **argv, char *err, size_t cap)
{
	int argc = 0;
	while (argv[argc])
		argc++;
	FILE *tmp = tmpfile();
	assert_non_null(tmp);
	fflush(stderr);
	int saved = dup(2);
	dup2(fileno(tmp), 2);
	int rc = main_fn(argc, argv);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	size_t n = fread(err, 1, cap - 1, tmp);
	err[n] = '\0';
	fclose(tmp);
	return rc;
}

static void check_busy_port(int (*main_fn)(int, char **), const char *part, const char *threads_flag)
{
	/* fd 0 must be open for its closing to show. */
	if (fcntl(0, F_GETFD) < 0)
		assert_int_equal(open("/dev/null", O_RDONLY), 0);
	unsigned port;
	int holder = hold_port(&port);
	char listen[32], want[64], err[1024];
	snprintf(listen, sizeof listen, "127.0.0.1:%u", port);
	snprintf(want, sizeof want, "cannot listen on %s", listen);
	char *argv[] = {(char *)part, (char *)threads_flag, "3", "--listen", listen, NULL};
	int before = open_fds();
	int rc = run_captured(main_fn, argv, err, sizeof err);
	assert_int_equal(rc, 2);
	if (!strstr(err, want))
		fail_msg("%s %s 3: stderr '%s' lacks '%s'", part, threads_flag, err, want);
	assert_true(fcntl(0, F_GETFD) >= 0);
	assert_int_equal(open_fds(), before);
	close(holder);
}

static void test_proxy_busy_port(void **state)
{
	(void)state;
	check_busy_port(proxy_main, "proxy", "-t");
	check_busy_port(proxy_main, "proxy", "--threads");
	check_busy_port(proxy_main, "proxy", "--workers"); /* the older name stays */
}

static void test_origin_busy_port(void **state)
{
	(void)state;
	check_busy_port(origin_main, "origin", "-t");
	check_busy_port(origin_main, "origin", "--threads");
}

/* Thread counts out of range are bad usage, named in one line. */
static void test_bad_thread_counts(void **state)
{
	(void)state;
	const char *bad[] = {"0", "65", "-1", "2x", ""};
	int (*mains[])(int, char **) = {proxy_main, origin_main};
	const char *parts[] = {"proxy", "origin"};
	for (size_t m = 0; m < 2; m++)
		for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
			char err[512];
			char *argv[] = {(char *)parts[m], "-t", (char *)bad[i], "--listen", "127.0.0.1:0", NULL};
			assert_int_equal(run_captured(mains[m], argv, err, sizeof err), 2);
			if (!strstr(err, "--threads wants 1..64"))
				fail_msg("%s -t '%s': %s", parts[m], bad[i], err);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_proxy_busy_port),
		cmocka_unit_test(test_origin_busy_port),
		cmocka_unit_test(test_bad_thread_counts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
