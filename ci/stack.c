/* stack — see stack.h. */
#include "ci/stack.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ci/args.h"
#include "ci/rundir.h"
#include "ci/say.h"

void stack_init(struct stack *st, struct procs *ps, const char *dir, const char *run_id)
{
	memset(st, 0, sizeof *st);
	st->ps = ps;
	st->dir = dir;
	st->run_id = run_id;
}

int stack_origin(struct stack *st, const struct scenario *scn, const char *scn_dir)
{
	struct args a;
	char path[PATH_MAX];
	args_init(&a);
	args_add(&a, "origin");
	args_opt(&a, "--listen", "127.0.0.1:0");
	args_opt(&a, "--tls-listen", "127.0.0.1:0");
	args_opt(&a, "--ca-out", "%s/ca.pem", st->dir);
	args_opt(&a, "--ledger", "%s/origin.jsonl", st->dir);
	if (st->run_id)
		args_opt(&a, "--run-id", "%s", st->run_id);
	if (scn->sites[0]) {
		if (rundir_resolve(path, sizeof path, scn_dir, scn->sites) < 0)
			a.overflow = true;
		args_opt(&a, "--sites", "%s", path);
	}
	if (scn->replay[0]) {
		if (rundir_resolve(path, sizeof path, scn_dir, scn->replay) < 0)
			a.overflow = true;
		args_opt(&a, "--replay", "%s", path);
	}
	for (size_t i = 0; i < scn->norigin_args; i++)
		args_add(&a, "%s", scn->origin_args[i]);
	struct proc *p = args_ok(&a) ? procs_start(st->ps, "origin", a.v, true) : NULL;
	if (!p || procs_wait_listening(p, 2, 10000) < 0) {
		fprintf(stderr, "tunnelprobe run: the origin did not start (see %s/origin.log)\n", st->dir);
		return -1;
	}
	st->http_port = procs_port(p, "http");
	st->tls_port = procs_port(p, "https");
	snprintf(st->cacert, sizeof st->cacert, "%.4000s/ca.pem", st->dir);
	return 0;
}

/* Runs `wine --check` silently. Returns its exit status, or -1 when it could not run. */
static int run_check(const char *wine)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);
		if (devnull >= 0) {
			dup2(devnull, STDIN_FILENO);
			dup2(devnull, STDOUT_FILENO);
			dup2(devnull, STDERR_FILENO);
		}
		execl(wine, wine, "--check", (char *)NULL);
		_exit(127);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int stack_windows_ready(char exe[STACK_PATH_MAX], char wine[STACK_PATH_MAX], char *why, size_t cap)
{
	char dir[STACK_PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
	if (n < 0) {
		snprintf(why, cap, "cannot find this binary: %s", strerror(errno));
		return -1;
	}
	dir[n] = '\0';
	/* build/tunnelprobe, build/san/tunnelprobe, ...: the project is a few levels up. */
	for (int up = 0; up < 4; up++) {
		char *slash = strrchr(dir, '/');
		if (!slash || slash == dir)
			break;
		*slash = '\0';
		if (snprintf(wine, STACK_PATH_MAX, "%s/scripts/wine.sh", dir) >= STACK_PATH_MAX)
			break;
		if (access(wine, X_OK) != 0)
			continue;
		snprintf(exe, STACK_PATH_MAX, "%.4000s/build/win64/tunnelprobe.exe", dir);
		if (access(exe, R_OK) != 0) {
			snprintf(why, cap, "%.3000s is not built (make windows)", exe);
			return -1;
		}
		if (run_check(wine) != 0) {
			snprintf(why, cap, "Wine is not installed (make deps installs wine64)");
			return -1;
		}
		return 0;
	}
	snprintf(why, cap, "no scripts/wine.sh above this binary: the Windows build runs from the project");
	return -1;
}

/* The proxy's process: this binary, or for the Windows build its .exe under Wine (a cold
 * Wine prefix is made on first use: a longer wait). NULL with a message on stderr. */
static struct proc *proxy_proc(struct stack *st, const char *name, bool win64, struct args *a)
{
	if (!win64)
		return procs_start(st->ps, name, a->v, true);
	char exe[STACK_PATH_MAX], wine[STACK_PATH_MAX], why[STACK_PATH_MAX + 64];
	if (stack_windows_ready(exe, wine, why, sizeof why) < 0) {
		fprintf(stderr, "tunnelprobe run: the %s's Windows build cannot run: %s\n", name, why);
		return NULL;
	}
	const char *prog[] = {wine, exe, NULL};
	return procs_start_prog(st->ps, name, prog, a->v, true, SIGINT);
}

/* Starts a reference proxy named name (its ledger DIR/NAME.jsonl), its Windows build when
 * win64; with quic, on a QUIC listener only (its made CA in DIR/proxy-ca.pem) and its port
 * the `listening quic ADDR` line's. NULL when it did not start (message on stderr). */
static struct proc *start_proxy(struct stack *st, const char *name, const char (*faults)[SCN_MAX_TEXT],
				size_t nfaults, const char *upstream, const char (*extra)[SCN_MAX_TEXT],
				size_t nextra, const struct targets *t, bool win64, bool quic)
{
	struct args a;
	args_init(&a);
	args_add(&a, "proxy");
	if (quic) {
		/* No TCP listener: the proxy then takes every QUIC fault (one serving both
		 * takes only those both kinds of tunnel can act). */
		args_opt(&a, "--quic-listen", "127.0.0.1:0");
		args_opt(&a, "--ca-out", "%s/proxy-ca.pem", st->dir);
	} else {
		args_opt(&a, "--listen", "127.0.0.1:0");
	}
	args_opt(&a, "--ledger", "%s/%s.jsonl", st->dir, name);
	if (st->run_id)
		args_opt(&a, "--run-id", "%s", st->run_id);
	if (upstream && *upstream)
		args_opt(&a, "--upstream", "%s", upstream);
	for (size_t i = 0; i < t->nresolve; i++)
		args_opt(&a, "--resolve", "%s", t->resolve[i]);
	for (size_t i = 0; i < nfaults; i++)
		args_opt(&a, "--fault", "%s", faults[i]);
	for (size_t i = 0; i < nextra; i++)
		args_add(&a, "%s", extra[i]);
	struct proc *p = args_ok(&a) ? proxy_proc(st, name, win64, &a) : NULL;
	if (!p || procs_wait_listening(p, 1, win64 ? 60000 : 10000) < 0 || !procs_port(p, quic ? "quic" : "")) {
		fprintf(stderr, "tunnelprobe run: the %s did not start (see %s/%s.log)\n", name, st->dir, name);
		return NULL;
	}
	/* Its build line comes beside the listening line; a proxy that prints none (an
	 * older build) costs this wait once. */
	if (!p->build[0])
		procs_wait_build(p, 300);
	return p;
}

/* Appends the PEM file at path to out; -1 with a message when it cannot be read. */
static int append_file(FILE *out, const char *path)
{
	FILE *in = fopen(path, "rb");
	if (!in) {
		fprintf(stderr, "tunnelprobe run: cannot read %s: %s\n", path, strerror(errno));
		return -1;
	}
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		fwrite(buf, 1, n, out);
	fclose(in);
	return 0;
}

/* The probe has one --cacert for a QUIC proxy's certificate and the origin's:
 * DIR/cacerts.pem holds the origin's CA, then the proxy's (proxy_ca). */
static int trust_bundle(struct stack *st, const char *proxy_ca)
{
	char path[STACK_PATH_MAX];
	snprintf(path, sizeof path, "%.4000s/cacerts.pem", st->dir);
	FILE *out = fopen(path, "wb");
	if (!out) {
		fprintf(stderr, "tunnelprobe run: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	int rc = (st->cacert[0] ? append_file(out, st->cacert) : 0) | append_file(out, proxy_ca);
	if (fclose(out) != 0 && rc == 0) {
		fprintf(stderr, "tunnelprobe run: cannot write %s: %s\n", path, strerror(errno));
		rc = -1;
	}
	if (rc == 0)
		snprintf(st->cacert, sizeof st->cacert, "%s", path);
	return rc < 0 ? -1 : 0;
}

int stack_proxies(struct stack *st, const struct scenario *scn, const char *proxy_override,
		  const struct targets *t)
{
	if (proxy_override || !scn->proxy_reference) {
		snprintf(st->proxy_url, sizeof st->proxy_url, "%s", proxy_override ? proxy_override : scn->proxy_url);
		if (st->proxy_url[0])
			proxyinfo_user(&st->info, st->proxy_url);
		return st->proxy_cacert ? trust_bundle(st, st->proxy_cacert) : 0;
	}
	char upstream[SCN_MAX_TEXT + 32];
	snprintf(upstream, sizeof upstream, "%s", scn->upstream);
	if (scn->upstream_reference) {
		struct proc *up = start_proxy(st, "upstream-proxy", scn->upstream_faults, scn->nupstream_faults,
					      NULL, NULL, 0, t, false, false);
		if (!up)
			return -1;
		snprintf(upstream, sizeof upstream, "http://127.0.0.1:%u", procs_port(up, ""));
	}
	st->proxy = start_proxy(st, "proxy", scn->faults, scn->nfaults, upstream, scn->proxy_args,
				scn->nproxy_args, t, st->proxy_win64 || scn->proxy_windows, scn->proxy_quic);
	char proxy_ca[STACK_PATH_MAX];
	snprintf(proxy_ca, sizeof proxy_ca, "%.4000s/proxy-ca.pem", st->dir);
	if (!st->proxy || (scn->proxy_quic && trust_bundle(st, proxy_ca) < 0))
		return -1;
	snprintf(st->proxy_url, sizeof st->proxy_url, "%s://127.0.0.1:%u", scn->proxy_scheme,
		 procs_port(st->proxy, scn->proxy_quic ? "quic" : ""));
	proxyinfo_reference(&st->info, st->proxy_url, st->proxy->build, scn);
	if (st->proxy_win64 || scn->proxy_windows) /* a Windows build, but not on Windows */
		snprintf(st->info.runtime, sizeof st->info.runtime, "wine");
	return 0;
}

void stack_capture_start(struct stack *st, const struct scenario *scn, bool quiet)
{
	if (!scn->capture)
		return;
	if (geteuid() != 0) {
		say(quiet, "  (capture skipped: live capture needs root)\n");
		return;
	}
	/* Live on lo, only this run's ports: the origin's and the proxies'. */
	char ports[256];
	struct args a;
	args_init(&a);
	args_add(&a, "capture");
	args_add(&a, "-q");
	args_opt(&a, "--iface", "lo");
	args_opt(&a, "--write", "%s/capture.pcapng", st->dir);
	if (procs_ports(st->ps, ports, sizeof ports))
		args_opt(&a, "--ports", "%s", ports);
	st->capture = args_ok(&a) ? procs_start(st->ps, "capture", a.v, false) : NULL;
	if (st->capture) {
		struct timespec ts = {0, 500000000}; /* let it open the interface */
		nanosleep(&ts, NULL);
	}
}

bool stack_capture_stop(struct stack *st)
{
	if (!st->capture)
		return false;
	/* SIGINT ends a live capture; it writes its file and exits. */
	procs_signal(st->capture, SIGINT);
	bool written = procs_wait(st->capture, 10000) >= 0;
	procs_stop(st->capture, 1000);
	return written;
}
