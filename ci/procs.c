/* procs — see procs.h. */
#include "ci/procs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

int procs_init(struct procs *ps, const char *logdir)
{
	memset(ps, 0, sizeof *ps);
	ssize_t n = readlink("/proc/self/exe", ps->self, sizeof ps->self - 1);
	if (n < 0)
		return -errno;
	ps->self[n] = '\0';
	if (strlen(logdir) >= sizeof ps->logdir)
		return -ENAMETOOLONG;
	strcpy(ps->logdir, logdir);
	return 0;
}

struct proc *procs_start(struct procs *ps, const char *name, char *const argv[],
			 bool capture_stdout)
{
	const char *self[] = {ps->self, NULL};
	return procs_start_prog(ps, name, self, argv, capture_stdout, SIGTERM);
}

struct proc *procs_start_prog(struct procs *ps, const char *name, const char *const prog[],
			      char *const argv[], bool capture_stdout, int stop_sig)
{
	/* A soak starts one probe per segment: a finished child's slot of the same name is
	 * taken again, so the table bounds the children alive, not the segments. */
	struct proc *slot = NULL;
	for (size_t i = 0; i < ps->n && !slot; i++)
		if (ps->list[i].reaped && strcmp(ps->list[i].name, name) == 0)
			slot = &ps->list[i];
	if (!slot && ps->n == PROCS_MAX) {
		fprintf(stderr, "tunnelprobe run: too many processes\n");
		return NULL;
	}
	char log[4200];
	snprintf(log, sizeof log, "%s/%s.log", ps->logdir, name);
	int logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (logfd < 0) {
		fprintf(stderr, "tunnelprobe run: cannot write %s: %s\n", log, strerror(errno));
		return NULL;
	}
	int pipefd[2] = {-1, -1};
	if (capture_stdout && pipe2(pipefd, O_CLOEXEC) < 0) {
		close(logfd);
		return NULL;
	}
	char *args[PROCS_MAX_ARGS + 2];
	size_t n = 0;
	for (size_t i = 0; prog[i] && n < PROCS_MAX_ARGS + 1; i++)
		args[n++] = (char *)prog[i];
	for (size_t i = 0; argv[i] && n < PROCS_MAX_ARGS + 1; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		close(logfd);
		if (capture_stdout) {
			close(pipefd[0]);
			close(pipefd[1]);
		}
		return NULL;
	}
	if (pid == 0) {
		/* Die with the parent, whatever way it goes. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(127);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		dup2(logfd, STDERR_FILENO);
		dup2(capture_stdout ? pipefd[1] : logfd, STDOUT_FILENO);
		int devnull = open("/dev/null", O_RDONLY);
		if (devnull >= 0)
			dup2(devnull, STDIN_FILENO);
		execv(args[0], args);
		_exit(127);
	}
	close(logfd);
	struct proc *p = slot ? slot : &ps->list[ps->n++];
	memset(p, 0, sizeof *p);
	snprintf(p->name, sizeof p->name, "%s", name);
	p->pid = pid;
	p->stop_sig = stop_sig;
	p->out_fd = -1;
	if (capture_stdout) {
		close(pipefd[1]);
		p->out_fd = pipefd[0];
	}
	return p;
}

/* Does process pid (a /proc entry's name) write to the pipe ours reads? */
static bool writes_to(const char *pid, const struct stat *ours)
{
	char path[64];
	struct stat st;
	snprintf(path, sizeof path, "/proc/%.20s/fd/1", pid);
	return stat(path, &st) == 0 && st.st_ino == ours->st_ino && st.st_dev == ours->st_dev;
}

/* The process whose stdout is the pipe we read p's output from: p itself, or what it
 * became (a script that exec'd, Wine's loader: the Windows program) — by its own output,
 * not by the ports it listens on (`ss` names wineserver as their owner). p's pid comes
 * first: Wine's helpers (wineserver, winedevice.exe) may inherit the pipe too. 0 when
 * none is found. */
static pid_t output_writer(const struct proc *p)
{
	struct stat ours;
	char name[24];
	if (p->out_fd < 0 || fstat(p->out_fd, &ours) < 0)
		return 0;
	snprintf(name, sizeof name, "%d", (int)p->pid);
	if (writes_to(name, &ours))
		return p->pid;
	DIR *d = opendir("/proc");
	if (!d)
		return 0;
	pid_t found = 0;
	for (struct dirent *e; !found && (e = readdir(d));)
		if (e->d_name[0] >= '1' && e->d_name[0] <= '9' && writes_to(e->d_name, &ours))
			found = (pid_t)strtol(e->d_name, NULL, 10);
	closedir(d);
	return found;
}

/* One line of a child's stdout: a "listening" or a "build" line is kept. */
static void stdout_line(struct proc *p, char *line)
{
	size_t len = strlen(line);
	if (len && line[len - 1] == '\r')
		line[len - 1] = '\0'; /* a Windows program ends its lines with CR LF */
	if (!p->output_pid)
		p->output_pid = output_writer(p);
	if (strncmp(line, "listening ", 10) == 0 && p->nlistening < PROCS_MAX_LISTEN)
		snprintf(p->listening[p->nlistening++], sizeof p->listening[0], "%s", line + 10);
	else if (strncmp(line, "build: ", 7) == 0)
		snprintf(p->build, sizeof p->build, "%s", line + 7);
}

/* Reads p's stdout line by line until done(p, want) or timeout_ms. */
static int read_stdout(struct proc *p, bool (*done)(const struct proc *, size_t), size_t want, int timeout_ms)
{
	char buf[4096];
	size_t len = 0;
	long deadline = now_ms() + timeout_ms;
	while (!done(p, want)) {
		long left = deadline - now_ms();
		if (left <= 0 || p->out_fd < 0)
			return p->out_fd < 0 ? -ECHILD : -ETIMEDOUT;
		struct pollfd pfd = {.fd = p->out_fd, .events = POLLIN};
		int r = poll(&pfd, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			continue;
		ssize_t n = read(p->out_fd, buf + len, sizeof buf - 1 - len);
		if (n <= 0)
			return -ECHILD; /* closed its stdout: it exited */
		len += (size_t)n;
		buf[len] = '\0';
		char *line = buf, *nl;
		while ((nl = strchr(line, '\n'))) {
			*nl = '\0';
			stdout_line(p, line);
			line = nl + 1;
		}
		len = strlen(line);
		memmove(buf, line, len);
		if (len == sizeof buf - 1)
			len = 0; /* an endless line: drop it */
	}
	return 0;
}

static bool listening_done(const struct proc *p, size_t want)
{
	return p->nlistening >= want;
}

static bool build_done(const struct proc *p, size_t want)
{
	(void)want;
	return p->build[0] != '\0';
}

int procs_wait_listening(struct proc *p, size_t want, int timeout_ms)
{
	return read_stdout(p, listening_done, want, timeout_ms);
}

int procs_wait_build(struct proc *p, int timeout_ms)
{
	return read_stdout(p, build_done, 0, timeout_ms);
}

unsigned procs_port(const struct proc *p, const char *kind)
{
	for (size_t i = 0; i < p->nlistening; i++) {
		const char *l = p->listening[i];
		if (kind[0] && strncmp(l, kind, strlen(kind)) != 0)
			continue;
		if (kind[0] && l[strlen(kind)] != ' ')
			continue;
		const char *colon = strrchr(l, ':');
		if (colon)
			return (unsigned)strtoul(colon + 1, NULL, 10);
	}
	return 0;
}

static int decode_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return 255;
}

int procs_wait(struct proc *p, int timeout_ms)
{
	if (p->reaped)
		return decode_status(p->status);
	long deadline = now_ms() + timeout_ms;
	for (;;) {
		pid_t r = waitpid(p->pid, &p->status, WNOHANG);
		if (r == p->pid) {
			p->reaped = true;
			if (p->out_fd >= 0)
				close(p->out_fd);
			p->out_fd = -1;
			return decode_status(p->status);
		}
		if (r < 0 && errno != EINTR)
			return -ECHILD;
		if (now_ms() >= deadline)
			return -ETIMEDOUT;
		struct timespec ts = {0, 10000000};
		nanosleep(&ts, NULL);
	}
}

void procs_stop(struct proc *p, int grace_ms)
{
	if (!p || p->pid <= 0 || p->reaped)
		return;
	kill(p->pid, p->stop_sig ? p->stop_sig : SIGTERM);
	if (procs_wait(p, grace_ms) == -ETIMEDOUT) {
		kill(p->pid, SIGKILL);
		procs_wait(p, 5000);
	}
}

void procs_stop_all(struct procs *ps, int grace_ms)
{
	for (size_t i = ps->n; i-- > 0;)
		procs_stop(&ps->list[i], grace_ms);
}

void procs_signal_all(struct procs *ps, int sig)
{
	for (size_t i = 0; i < ps->n; i++)
		if (ps->list[i].pid > 0 && !ps->list[i].reaped)
			kill(ps->list[i].pid, sig);
}

pid_t procs_pid(const struct proc *p)
{
	return p && p->pid > 0 && !p->reaped ? p->pid : 0;
}

pid_t procs_sample_pid(const struct proc *p)
{
	pid_t pid = procs_pid(p);
	return pid && p->output_pid ? p->output_pid : pid;
}

int procs_signal(struct proc *p, int sig)
{
	pid_t pid = procs_pid(p);
	if (!pid || kill(pid, sig) < 0)
		return -ESRCH;
	return 0;
}

size_t procs_ports(const struct procs *ps, char *out, size_t cap)
{
	size_t n = 0, len = 0;
	if (cap == 0)
		return 0;
	out[0] = '\0';
	for (size_t i = 0; i < ps->n; i++)
		for (size_t l = 0; l < ps->list[i].nlistening; l++) {
			const char *colon = strrchr(ps->list[i].listening[l], ':');
			if (!colon)
				continue;
			int w = snprintf(out + len, cap - len, "%s%s", n ? "," : "", colon + 1);
			if (w < 0 || (size_t)w >= cap - len) {
				out[len] = '\0';
				continue;
			}
			len += (size_t)w;
			n++;
		}
	return n;
}

long procs_rss_kib(pid_t pid)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	FILE *fp = fopen(path, "r");
	if (!fp)
		return -1;
	long kib = -1;
	while (fgets(line, sizeof line, fp))
		if (strncmp(line, "VmRSS:", 6) == 0) {
			kib = strtol(line + 6, NULL, 10);
			break;
		}
	fclose(fp);
	return kib;
}

long procs_fd_count(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	long n = 0;
	for (struct dirent *e; (e = readdir(d));)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}
