/* procs — the child processes `tunnelprobe run` starts (origin, proxies, capture,
 * probe): started from this very binary with a subcommand, their stdout read for the
 * "listening ..." lines that give the ports they bound, their stderr kept in a log
 * file, and every one of them stopped when run ends — normally, on a failure, or on
 * SIGINT/SIGTERM (children also get PR_SET_PDEATHSIG, so even a killed run leaves no
 * process behind).
 */
#ifndef TP_CI_PROCS_H
#define TP_CI_PROCS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define PROCS_MAX 16
#define PROCS_MAX_ARGS 96
#define PROCS_MAX_LISTEN 8

struct proc {
	char name[32];
	pid_t pid;           /* 0 when not running */
	int out_fd;          /* its stdout, read by procs_wait_listening() */
	int status;          /* wait status once reaped */
	bool reaped;
	char listening[PROCS_MAX_LISTEN][96]; /* "https 127.0.0.1:4431" or "127.0.0.1:3128" */
	size_t nlistening;
	char build[128];     /* its "build: ..." line, without "build: "; "" when none seen */
	int stop_sig;        /* what asks it to stop: SIGTERM, or SIGINT for a program under
			      * Wine (Wine ends a process on SIGTERM at once, without a drain;
			      * a SIGINT becomes the console's Ctrl-C, which it drains on) */
	pid_t output_pid;    /* the process that wrote its first stdout line (the program
			      * itself, found by its own output: under Wine, not a loader
			      * or wineserver); 0 until then */
};

struct procs {
	struct proc list[PROCS_MAX];
	size_t n;
	char self[4096];     /* this binary */
	char logdir[4096];   /* NAME.log files go here */
};

/* Prepares the table; logdir must exist. Returns 0 or -errno. */
int procs_init(struct procs *ps, const char *logdir);

/* Starts `tunnelprobe ARGV...` (argv[0] is the subcommand; NULL-terminated) with
 * stderr (and, when capture_stdout is false, stdout) appended to LOGDIR/NAME.log.
 * A finished (reaped) child's slot of the same name is taken again, so PROCS_MAX
 * bounds the children alive, not the ones a soak starts over its segments; a pointer
 * to a reaped proc may then name its successor. Returns the proc, or NULL with a
 * message on stderr. */
struct proc *procs_start(struct procs *ps, const char *name, char *const argv[],
			 bool capture_stdout);
/* The same for another program: prog[0] is run with prog[1..] and then argv (both
 * NULL-terminated) — a Windows build under Wine: {"scripts/wine.sh", "X.exe", NULL},
 * whose process then stops on SIGINT (stop_sig). */
struct proc *procs_start_prog(struct procs *ps, const char *name, const char *const prog[],
			      char *const argv[], bool capture_stdout, int stop_sig);

/* Reads p's stdout until it printed `want` "listening" lines, it exited, or timeout_ms
 * passed; a "build: ..." line seen on the way is kept in p->build. Returns 0, or
 * -ETIMEDOUT / -ECHILD (it exited: see its log). */
int procs_wait_listening(struct proc *p, size_t want, int timeout_ms);
/* Reads p's stdout until it printed its "build: ..." line (kept in p->build), for at
 * most timeout_ms. Returns 0, or -ETIMEDOUT / -ECHILD when it printed none. */
int procs_wait_build(struct proc *p, int timeout_ms);

/* The port of p's listening line number i whose text contains `kind` ("https",
 * "http", or "" for any); 0 when absent. */
unsigned procs_port(const struct proc *p, const char *kind);

/* Waits up to timeout_ms for p to exit by itself. Returns its exit status (0..255),
 * 128+signal, or -ETIMEDOUT. */
int procs_wait(struct proc *p, int timeout_ms);

/* stop_sig (SIGTERM), then SIGKILL after grace_ms; reaps. Safe on a finished proc. */
void procs_stop(struct proc *p, int grace_ms);
/* Stops every process still running, in reverse start order (each with its stop_sig). */
void procs_stop_all(struct procs *ps, int grace_ms);
/* Async-signal-safe: SIGTERM to every running child (for run's signal handler). */
void procs_signal_all(struct procs *ps, int sig);

/* p's pid while it runs (started, not yet reaped); 0 otherwise and for NULL. */
pid_t procs_pid(const struct proc *p);
/* The process to sample for RSS and fds while p runs: the one that wrote p's output
 * (output_pid), else p's pid; 0 when p does not run. */
pid_t procs_sample_pid(const struct proc *p);
/* Sends sig to p while it runs. Returns 0, or -ESRCH when it does not run. */
int procs_signal(struct proc *p, int sig);
/* The ports of every child's "listening" lines, comma-separated ("4431,4432,3128"),
 * for a capture filter; a port that does not fit in out is left out. Returns how many
 * were written. */
size_t procs_ports(const struct procs *ps, char *out, size_t cap);

/* VmRSS in KiB and the number of open fds of a running process; -1 when unknown. */
long procs_rss_kib(pid_t pid);
long procs_fd_count(pid_t pid);

#endif
