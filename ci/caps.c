/* caps — see caps.h. */
#include "ci/caps.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HELP_MAX 16384

/* `self sub --help`, stdout and stderr, into out (NUL-terminated; cut at cap - 1).
 * Bounded: 5 s, then the child is killed. */
static void help_text(const char *self, const char *sub, char *out, size_t cap)
{
	int fd[2];
	size_t len = 0;
	out[0] = '\0';
	if (pipe2(fd, O_CLOEXEC) < 0)
		return;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fd[1], STDOUT_FILENO);
		dup2(fd[1], STDERR_FILENO);
		int devnull = open("/dev/null", O_RDONLY);
		if (devnull >= 0)
			dup2(devnull, STDIN_FILENO);
		execl(self, self, sub, "--help", (char *)NULL);
		_exit(127);
	}
	close(fd[1]);
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (pid > 0 && len + 1 < cap) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		long left = 5000 - ((now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000);
		struct pollfd p = {.fd = fd[0], .events = POLLIN};
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			break;
		ssize_t n = read(fd[0], out + len, cap - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	out[len] = '\0';
	close(fd[0]);
	if (pid > 0) {
		kill(pid, SIGKILL); /* done or out of time: it has nothing more to say */
		waitpid(pid, NULL, 0);
	}
}

static bool lists(const char *help, const char *option)
{
	return strstr(help, option) != NULL;
}

void caps_probe(struct caps *c, const char *self)
{
	char *help = malloc(HELP_MAX);
	memset(c, 0, sizeof *c);
	if (!help)
		return;
	help_text(self, "probe", help, HELP_MAX);
	c->probe_run_id = lists(help, "--run-id");
	c->probe_connect_to = lists(help, "--connect-to");
	help_text(self, "origin", help, HELP_MAX);
	c->origin_run_id = lists(help, "--run-id");
	help_text(self, "proxy", help, HELP_MAX);
	c->proxy_run_id = lists(help, "--run-id");
	help_text(self, "capture", help, HELP_MAX);
	c->capture_run_id = lists(help, "--run-id");
	free(help);
}
