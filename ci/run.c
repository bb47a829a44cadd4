/* run — see run.h. One scenario run:
 *   1. the replay origin on 127.0.0.1:0 (plain + TLS), its CA written to DIR/ca.pem;
 *   2. the reference proxy (and an upstream reference proxy when chained), or the
 *      user's proxy (--proxy / "proxy external URL");
 *   3. live capture on lo when asked and possible (root);
 *   4. the probe — for long runs in segments of a few seconds whose run files are
 *      merged into DIR/run.json after each one (the checkpoint a killed soak leaves),
 *      sampling the local proxy's RSS and open fds between segments;
 *   5. everything stopped, the ledgers joined, the expectations checked, the report
 *      written.
 * Every child is ours: started from this binary, stopped on every path out. */
#include "ci/run.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "ci/demo.h"
#include "ci/checks.h"
#include "ci/procs.h"
#include "ci/runmerge.h"
#include "ci/scenario.h"
#include "lib/units.h"
#include "lib/verdict.h"

struct run_opts {
	const char *proxy;     /* --proxy: overrides the scenario's proxy */
	const char *out;       /* --out */
	double duration_s;     /* --duration: overrides the scenario's load with a soak */
	const char *baseline;  /* --baseline PREV/run.json */
	const char *label;
	bool quiet;
};

/* An argv under construction; strings live in its own storage. */
struct args {
	char *v[PROCS_MAX_ARGS + 1];
	size_t n;
	char store[32768];
	size_t used;
	bool overflow;
};

static void arg(struct args *a, const char *fmt, ...)
{
	if (a->n == PROCS_MAX_ARGS) {
		a->overflow = true;
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	int len = vsnprintf(a->store + a->used, sizeof a->store - a->used, fmt, ap);
	va_end(ap);
	if (len < 0 || (size_t)len >= sizeof a->store - a->used) {
		a->overflow = true;
		return;
	}
	a->v[a->n++] = a->store + a->used;
	a->used += (size_t)len + 1;
	a->v[a->n] = NULL;
}

/* The run being executed, for the signal handler: stop the children, then leave. */
static struct procs *volatile active_procs;
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = 1;
	struct procs *ps = active_procs;
	if (ps)
		procs_signal_all(ps, SIGTERM);
	(void)sig;
}

static int mkdir_p(const char *path)
{
	char tmp[PATH_MAX];
	if (strlen(path) >= sizeof tmp)
		return -ENAMETOOLONG;
	strcpy(tmp, path);
	for (char *p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
				return -errno;
			*p = '/';
		}
	if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Replaces {http} and {tls} with the origin's ports. */
static int expand_url(const char *in, unsigned http_port, unsigned tls_port, char *out, size_t cap)
{
	size_t o = 0;
	for (const char *p = in; *p;) {
		const char *rep = NULL;
		size_t skip = 0;
		char num[16];
		if (strncmp(p, "{http}", 6) == 0) {
			snprintf(num, sizeof num, "%u", http_port);
			rep = num;
			skip = 6;
		} else if (strncmp(p, "{tls}", 5) == 0) {
			snprintf(num, sizeof num, "%u", tls_port);
			rep = num;
			skip = 5;
		}
		if (rep) {
			size_t l = strlen(rep);
			if (o + l >= cap)
				return -ENOSPC;
			memcpy(out + o, rep, l);
			o += l;
			p += skip;
		} else {
			if (o + 1 >= cap)
				return -ENOSPC;
			out[o++] = *p++;
		}
	}
	out[o] = '\0';
	return 0;
}

/* "https://NAME:PORT/..." → NAME and PORT (enough for --resolve); 0 when no name. */
static int url_host_port(const char *url, char *host, size_t cap, unsigned *port)
{
	const char *p = strstr(url, "://");
	if (!p)
		return -EINVAL;
	p += 3;
	size_t n = strcspn(p, ":/");
	if (n == 0 || n >= cap || p[0] == '[')
		return -EINVAL;
	memcpy(host, p, n);
	host[n] = '\0';
	*port = p[n] == ':' ? (unsigned)strtoul(p + n + 1, NULL, 10)
			    : (strncmp(url, "https", 5) == 0 ? 443 : 80);
	return 0;
}

static bool is_ip_literal(const char *h)
{
	return strspn(h, "0123456789.") == strlen(h);
}

struct outcome {
	int status;            /* 0 pass, 1 expectations failed, 2 could not run */
	char summary[512];
};

static void say(const struct run_opts *o, const char *fmt, ...)
{
	if (o->quiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

/* Starts a reference proxy; returns its port or 0. */
static unsigned start_proxy(struct procs *ps, const char *name, const char *dir,
			    char faults[][SCN_MAX_TEXT], size_t nfaults, const char *upstream,
			    char extra[][SCN_MAX_TEXT], size_t nextra, char resolve[][160], size_t nresolve)
{
	struct args a = {0};
	arg(&a, "proxy");
	arg(&a, "--listen");
	arg(&a, "127.0.0.1:0");
	arg(&a, "--ledger");
	arg(&a, "%s/%s.jsonl", dir, name);
	if (upstream && *upstream) {
		arg(&a, "--upstream");
		arg(&a, "%s", upstream);
	}
	for (size_t i = 0; i < nresolve; i++) {
		arg(&a, "--resolve");
		arg(&a, "%s", resolve[i]);
	}
	for (size_t i = 0; i < nfaults; i++) {
		arg(&a, "--fault");
		arg(&a, "%s", faults[i]);
	}
	for (size_t i = 0; i < nextra; i++)
		arg(&a, "%s", extra[i]);
	if (a.overflow)
		return 0;
	struct proc *p = procs_start(ps, name, a.v, true);
	if (!p || procs_wait_listening(p, 1, 10000) < 0) {
		fprintf(stderr, "tunnelprobe run: the %s did not start (see %s/%s.log)\n", name, dir, name);
		return 0;
	}
	return procs_port(p, "");
}

static json_t *load_json(const char *path)
{
	json_error_t jerr;
	return json_load_file(path, 0, &jerr);
}

static int append_file(const char *from, const char *to)
{
	FILE *in = fopen(from, "r");
	if (!in)
		return -errno;
	FILE *out = fopen(to, "a");
	if (!out) {
		fclose(in);
		return -errno;
	}
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		fwrite(buf, 1, n, out);
	fclose(in);
	return fclose(out) == 0 ? 0 : -EIO;
}

/* The resources of the local proxy over the run (soak growth limits). */
struct samples {
	long rss_first, rss_last, rss_max;
	long fd_first, fd_last;
	json_t *series; /* [[t, rss_kib, fds], ...] */
};

static void sample(struct samples *s, pid_t pid, double t)
{
	if (pid <= 0)
		return;
	long rss = procs_rss_kib(pid), fds = procs_fd_count(pid);
	if (rss < 0)
		return;
	if (s->rss_first < 0) {
		s->rss_first = rss;
		s->fd_first = fds;
	}
	s->rss_last = rss;
	s->fd_last = fds;
	if (rss > s->rss_max)
		s->rss_max = rss;
	json_array_append_new(s->series, json_pack("[f,I,I]", t, (json_int_t)rss, (json_int_t)fds));
}

/* Stamps what only run knows into a run file and writes it (the checkpoint). */
static int write_run(json_t *run, const char *dir, const struct scenario *scn, const char *label,
		     const char *proxy_url, const struct samples *smp)
{
	json_object_set_new(run, "scenario", json_string(scn->name));
	json_object_set_new(run, "label", label ? json_string(label) : json_string(scn->name));
	json_object_set_new(run, "proxy", proxy_url && *proxy_url ? json_string(proxy_url) : json_null());
	if (smp && smp->rss_first >= 0)
		json_object_set_new(run, "proxy_resources",
				    json_pack("{s:I,s:I,s:I,s:I,s:I,s:O}", "rss_kib_first",
					      (json_int_t)smp->rss_first, "rss_kib_last",
					      (json_int_t)smp->rss_last, "rss_kib_max", (json_int_t)smp->rss_max,
					      "fds_first", (json_int_t)smp->fd_first, "fds_last",
					      (json_int_t)smp->fd_last, "samples", smp->series));
	char path[PATH_MAX], tmp[PATH_MAX];
	snprintf(path, sizeof path, "%s/run.json", dir);
	snprintf(tmp, sizeof tmp, "%s/run.json.tmp", dir);
	/* Write-then-rename: a reader (or a kill) never sees half a file. */
	if (json_dump_file(run, tmp, JSON_INDENT(1) | JSON_REAL_PRECISION(10)) < 0 ||
	    rename(tmp, path) < 0)
		return -EIO;
	return 0;
}

#if __has_include("capture/capture.h")
#define HAVE_CAPTURE 1
#else
#define HAVE_CAPTURE 0
#endif

/* Joins the ledgers (and the capture when there is one) with `tunnelprobe capture`,
 * then copies each failed tunnel's chain and verdict object into the run's failure
 * samples and the verdict objects into run.verdicts (at most 100). Without the capture
 * part: nothing to add. */
static void join_ledgers(struct procs *ps, const char *dir, bool have_pcap, json_t *run)
{
#if HAVE_CAPTURE
	struct args a = {0};
	arg(&a, "capture");
	arg(&a, "-q");
	arg(&a, "--json");
	arg(&a, "%s/capture.json", dir);
	if (have_pcap) {
		arg(&a, "--read");
		arg(&a, "%s/capture.pcapng", dir);
	}
	const char *ledgers[] = {"records.jsonl", "origin.jsonl", "proxy.jsonl", "upstream-proxy.jsonl"};
	for (size_t i = 0; i < sizeof ledgers / sizeof ledgers[0]; i++) {
		char path[PATH_MAX];
		snprintf(path, sizeof path, "%s/%s", dir, ledgers[i]);
		if (access(path, R_OK) == 0)
			arg(&a, "%s", path);
	}
	struct proc *p = a.overflow ? NULL : procs_start(ps, "capture-join", a.v, false);
	if (!p || procs_wait(p, 120000) < 0)
		return;
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/capture.json", dir);
	json_error_t jerr;
	json_t *cap = json_load_file(path, 0, &jerr);
	if (!cap)
		return;
	json_t *verdicts = json_array();
	size_t i;
	json_t *t;
	json_array_foreach(json_object_get(cap, "tunnels"), i, t) {
		json_t *verdict = json_object_get(t, "verdict");
		const char *local = json_string_value(json_object_get(t, "local"));
		if (!json_is_object(verdict) || tp_verdict_json_code(verdict) == TP_V_OK)
			continue;
		if (json_array_size(verdicts) < 100)
			json_array_append_new(verdicts, json_deep_copy(verdict));
		size_t k;
		json_t *f;
		json_array_foreach(json_object_get(run, "failures"), k, f) {
			const char *fl = json_string_value(json_object_get(f, "local"));
			if (fl && local && strcmp(fl, local) == 0) {
				json_object_set(f, "chain", json_object_get(t, "down"));
				json_object_set_new(f, "verdict", json_deep_copy(verdict));
			}
		}
	}
	json_object_set_new(run, "verdicts", verdicts);
	json_object_set(run, "verdict_counts", json_object_get(cap, "verdicts"));
	json_decref(cap);
#else
	(void)ps;
	(void)dir;
	(void)have_pcap;
	(void)run;
#endif
}

static int run_scenario(const struct scenario *scn, const char *scn_dir, const struct run_opts *o,
			const char *dir, const char *label, struct outcome *res)
{
	struct procs *ps = calloc(1, sizeof *ps);
	json_t *acc = NULL, *baseline = NULL;
	struct samples smp = {.rss_first = -1, .fd_first = -1, .series = json_array()};
	char proxy_url[SCN_MAX_TEXT + 64] = "";
	char resolve[SCN_MAX_LIST][160];
	char urls[SCN_MAX_LIST][SCN_MAX_TEXT + 16];
	size_t nresolve = 0;
	unsigned http_port = 0, tls_port = 0;
	pid_t proxy_pid = 0;
	res->status = 2;
	snprintf(res->summary, sizeof res->summary, "%s: could not run", scn->name);
	int rc = mkdir_p(dir);
	if (rc < 0 || !ps || procs_init(ps, dir) < 0) {
		fprintf(stderr, "tunnelprobe run: cannot create %s: %s\n", dir, strerror(-rc));
		goto out;
	}
	active_procs = ps;
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/records.jsonl", dir);
	unlink(path);

	if (scn->origin) {
		struct args a = {0};
		arg(&a, "origin");
		arg(&a, "--listen");
		arg(&a, "127.0.0.1:0");
		arg(&a, "--tls-listen");
		arg(&a, "127.0.0.1:0");
		arg(&a, "--ca-out");
		arg(&a, "%s/ca.pem", dir);
		arg(&a, "--ledger");
		arg(&a, "%s/origin.jsonl", dir);
		if (scn->sites[0]) {
			arg(&a, "--sites");
			arg(&a, scn->sites[0] == '/' ? "%s%s" : "%s/%s", scn->sites[0] == '/' ? "" : scn_dir,
			    scn->sites);
		}
		if (scn->replay[0]) {
			arg(&a, "--replay");
			arg(&a, scn->replay[0] == '/' ? "%s%s" : "%s/%s", scn->replay[0] == '/' ? "" : scn_dir,
			    scn->replay);
		}
		for (size_t i = 0; i < scn->norigin_args; i++)
			arg(&a, "%s", scn->origin_args[i]);
		struct proc *p = a.overflow ? NULL : procs_start(ps, "origin", a.v, true);
		if (!p || procs_wait_listening(p, 2, 10000) < 0) {
			fprintf(stderr, "tunnelprobe run: the origin did not start (see %s/origin.log)\n", dir);
			goto out;
		}
		http_port = procs_port(p, "http");
		tls_port = procs_port(p, "https");
	}
	for (size_t i = 0; i < scn->nurls; i++) {
		if (expand_url(scn->urls[i], http_port, tls_port, urls[i], sizeof urls[i]) < 0) {
			fprintf(stderr, "tunnelprobe run: URL too long: %s\n", scn->urls[i]);
			goto out;
		}
		/* Incident host names map to the local origin, for the proxy and the probe. */
		char host[128];
		unsigned port;
		if (scn->origin && url_host_port(urls[i], host, sizeof host, &port) == 0 &&
		    !is_ip_literal(host) && strcmp(host, "localhost") != 0) {
			char entry[160];
			snprintf(entry, sizeof entry, "%s:%u:127.0.0.1", host, port);
			bool dup = false;
			for (size_t j = 0; j < nresolve; j++)
				dup |= strcmp(resolve[j], entry) == 0;
			if (!dup && nresolve < SCN_MAX_LIST)
				strcpy(resolve[nresolve++], entry);
		}
	}

	if (o->proxy) {
		snprintf(proxy_url, sizeof proxy_url, "%s", o->proxy);
	} else if (scn->proxy_reference) {
		char upstream[SCN_MAX_TEXT + 32];
		snprintf(upstream, sizeof upstream, "%s", scn->upstream);
		if (scn->upstream_reference) {
			unsigned up = start_proxy(ps, "upstream-proxy", dir, (char (*)[SCN_MAX_TEXT])scn->upstream_faults,
						  scn->nupstream_faults, NULL, NULL, 0, resolve, nresolve);
			if (!up)
				goto out;
			snprintf(upstream, sizeof upstream, "http://127.0.0.1:%u", up);
		}
		unsigned port = start_proxy(ps, "proxy", dir, (char (*)[SCN_MAX_TEXT])scn->faults, scn->nfaults,
					    upstream, (char (*)[SCN_MAX_TEXT])scn->proxy_args, scn->nproxy_args,
					    resolve, nresolve);
		if (!port)
			goto out;
		proxy_pid = ps->list[ps->n - 1].pid;
		snprintf(proxy_url, sizeof proxy_url, "%s://127.0.0.1:%u", scn->proxy_scheme, port);
	} else {
		snprintf(proxy_url, sizeof proxy_url, "%s", scn->proxy_url);
	}
	bool have_pcap = false;
	struct proc *capture = NULL;
	if (scn->capture && (!HAVE_CAPTURE || geteuid() != 0)) {
		say(o, "  (capture skipped: %s)\n", HAVE_CAPTURE ? "live capture needs root" : "no capture part");
	} else if (scn->capture) {
		/* Live on lo, only this run's ports: the origin's and the proxies'. */
		struct args a = {0};
		char ports[256] = "";
		for (size_t i = 0; i < ps->n; i++)
			for (size_t l = 0; l < ps->list[i].nlistening; l++) {
				const char *colon = strrchr(ps->list[i].listening[l], ':');
				size_t len = strlen(ports);
				if (colon && len + 8 < sizeof ports)
					snprintf(ports + len, sizeof ports - len, "%s%s", len ? "," : "", colon + 1);
			}
		arg(&a, "capture");
		arg(&a, "-q");
		arg(&a, "--iface");
		arg(&a, "lo");
		arg(&a, "--write");
		arg(&a, "%s/capture.pcapng", dir);
		if (ports[0]) {
			arg(&a, "--ports");
			arg(&a, "%s", ports);
		}
		capture = procs_start(ps, "capture", a.v, false);
		if (capture) {
			struct timespec ts = {0, 500000000}; /* let it open the interface */
			nanosleep(&ts, NULL);
		}
	}

	double total = o->duration_s > 0 ? o->duration_s : scn->duration_s;
	double seg = scn->segment_s > 0 ? scn->segment_s : 10;
	unsigned nseg = total > 0 ? (unsigned)((total + seg - 0.001) / seg) : 1;
	double t0 = 0;
	say(o, "%s: %s%s%s\n", scn->name, proxy_url[0] ? "through " : "direct", proxy_url,
	    total > 0 ? " (timed)" : "");
	sample(&smp, proxy_pid, 0);
	for (unsigned s = 0; s < nseg && !interrupted; s++) {
		char seg_json[PATH_MAX], seg_records[PATH_MAX];
		snprintf(seg_json, sizeof seg_json, "%s/segment-%03u.json", dir, s);
		snprintf(seg_records, sizeof seg_records, "%s/segment-%03u.records.jsonl", dir, s);
		struct args a = {0};
		arg(&a, "probe");
		arg(&a, "-q");
		arg(&a, "--json");
		arg(&a, "%s", seg_json);
		arg(&a, "--records");
		arg(&a, "%s", seg_records);
		arg(&a, "--keylog");
		arg(&a, "%s/keylog.txt", dir);
		arg(&a, "--label");
		arg(&a, "%s", label ? label : scn->name);
		if (scn->origin) {
			arg(&a, "--cacert");
			arg(&a, "%s/ca.pem", dir);
		}
		if (proxy_url[0]) {
			arg(&a, "-x");
			arg(&a, "%s", proxy_url);
		} else {
			arg(&a, "--noproxy");
			arg(&a, "*");
		}
		for (size_t i = 0; i < nresolve; i++) {
			arg(&a, "--resolve");
			arg(&a, "%s", resolve[i]);
		}
		arg(&a, "-c");
		arg(&a, "%u", scn->concurrency);
		arg(&a, "-t");
		arg(&a, "%u", scn->threads);
		arg(&a, "--timeout");
		arg(&a, "%g", scn->timeout_s);
		double this_seg = 0;
		if (total > 0) {
			this_seg = total - t0 < seg ? total - t0 : seg;
			arg(&a, "-d");
			arg(&a, "%g", this_seg);
		} else {
			arg(&a, "-n");
			arg(&a, "%llu", (unsigned long long)scn->requests);
		}
		if (scn->rate > 0) {
			arg(&a, "-R");
			arg(&a, "%g", scn->rate);
		}
		for (size_t i = 0; i < scn->nprobe_args; i++)
			arg(&a, "%s", scn->probe_args[i]);
		for (size_t i = 0; i < scn->nurls; i++)
			arg(&a, "%s", urls[i]);
		if (a.overflow) {
			fprintf(stderr, "tunnelprobe run: too many probe arguments\n");
			goto out;
		}
		struct proc *p = procs_start(ps, "probe", a.v, false);
		if (!p)
			goto out;
		/* Bounded: the probe's own limits end it well before this. */
		int limit_ms = (int)((this_seg + scn->timeout_s * 8 + 60) * 1000);
		int code = procs_wait(p, limit_ms);
		if (code == -ETIMEDOUT) {
			procs_stop(p, 2000);
			fprintf(stderr, "tunnelprobe run: the probe did not finish in time (see %s/probe.log)\n", dir);
			goto out;
		}
		if (code == 2) {
			fprintf(stderr, "tunnelprobe run: the probe refused its arguments (see %s/probe.log)\n", dir);
			goto out;
		}
		json_t *run = load_json(seg_json);
		if (!run) {
			if (interrupted)
				break;
			fprintf(stderr, "tunnelprobe run: no run file from the probe (see %s/probe.log)\n", dir);
			goto out;
		}
		snprintf(path, sizeof path, "%s/records.jsonl", dir);
		append_file(seg_records, path);
		unlink(seg_records);
		json_t *merged = runmerge(acc, run);
		json_decref(run);
		json_decref(acc);
		acc = merged;
		unlink(seg_json);
		t0 += this_seg;
		sample(&smp, proxy_pid, t0);
		write_run(acc, dir, scn, label, proxy_url, &smp);
		if (nseg > 1) {
			say(o, "  [%5.0fs] %lld requests, %lld failed\n", t0,
			    (long long)json_integer_value(json_object_get(acc, "requests")),
			    (long long)json_integer_value(json_object_get(acc, "failed")));
			/* Thresholds are checked as the soak goes, not only at the end. */
			struct check_result live[SCN_MAX_LIST];
			struct checks_proxy px = {
				.started = proxy_pid > 0,
				.rss_growth_kib = smp.rss_first >= 0 ? smp.rss_last - smp.rss_first : -1,
				.fd_growth = smp.fd_first >= 0 ? smp.fd_last - smp.fd_first : -1};
			checks_run(scn, acc, NULL, json_object_get(acc, "verdicts"), &px, live);
			for (size_t i = 0; i < scn->nexpects; i++)
				if (live[i].result == CHECK_FAIL && !live[i].unknown)
					say(o, "  [%5.0fs] breach: %s\n", t0, live[i].text);
		}
	}
	if (capture) {
		/* SIGINT ends a live capture; it writes its file and exits. */
		kill(capture->pid, SIGINT);
		have_pcap = procs_wait(capture, 10000) >= 0;
		procs_stop(capture, 1000);
	}
	procs_stop_all(ps, 3000);
	if (!acc) {
		fprintf(stderr, "tunnelprobe run: interrupted before any result\n");
		goto out;
	}
	if (!interrupted)
		join_ledgers(ps, dir, have_pcap, acc);
	active_procs = NULL;

	if (o->baseline && !(baseline = load_json(o->baseline))) {
		fprintf(stderr, "tunnelprobe run: cannot read --baseline %s\n", o->baseline);
		goto out;
	}
	json_t *verdicts = json_object_get(acc, "verdicts");
	struct check_result results[SCN_MAX_LIST];
	struct checks_proxy px = {.started = proxy_pid > 0,
				  .rss_growth_kib = smp.rss_first >= 0 ? smp.rss_last - smp.rss_first : -1,
				  .fd_growth = smp.fd_first >= 0 ? smp.fd_last - smp.fd_first : -1};
	size_t failed = checks_run(scn, acc, baseline, verdicts, &px, results);
	json_object_set_new(acc, "expectations", checks_json(results, scn->nexpects));
	write_run(acc, dir, scn, label, proxy_url, &smp);
	for (size_t i = 0; i < scn->nexpects; i++)
		say(o, "  %s %s\n", results[i].result == CHECK_FAIL ? "FAIL" : checks_outcome_name(results[i].result),
		    results[i].text);
	json_int_t req = json_integer_value(json_object_get(acc, "requests"));
	json_int_t ok = json_integer_value(json_object_get(acc, "ok"));
	char classes[256] = "";
	const char *key;
	json_t *v;
	json_object_foreach(json_object_get(acc, "classes"), key, v) {
		if (strcmp(key, "ok") == 0)
			continue;
		size_t l = strlen(classes);
		snprintf(classes + l, sizeof classes - l, "%s%lld %s", l ? ", " : "",
			 (long long)json_integer_value(v), key);
	}
	snprintf(res->summary, sizeof res->summary, "%s: %lld/%lld ok%s%s%s, expectations %s",
		 label ? label : scn->name, (long long)ok, (long long)req, classes[0] ? " (" : "", classes,
		 classes[0] ? ")" : "", failed ? "NOT met" : "met");
	res->status = interrupted ? 2 : failed ? 1 : 0;
out:
	if (ps) {
		procs_stop_all(ps, 3000);
		active_procs = NULL;
	}
	free(ps);
	json_decref(acc);
	json_decref(baseline);
	json_decref(smp.series);
	return res->status;
}

/* Renders the report for run folders (when this build has the report part). */
static void write_report(const struct run_opts *o, const char *out, char dirs[][PATH_MAX],
			 const char *const labels[], size_t n)
{
#if __has_include("reports/report.h")
	struct procs *ps = calloc(1, sizeof *ps);
	if (!ps || procs_init(ps, out) < 0) {
		free(ps);
		return;
	}
	struct args a = {0};
	arg(&a, "report");
	for (size_t i = 0; i < n; i++)
		arg(&a, "%s/run.json", dirs[i]);
	for (size_t i = 0; i < n; i++) {
		arg(&a, "--label");
		arg(&a, "%s", labels[i]);
	}
	arg(&a, "-o");
	arg(&a, "%s/report.html", out);
	struct proc *p = a.overflow ? NULL : procs_start(ps, "report", a.v, false);
	int code = p ? procs_wait(p, 120000) : -1;
	if (code == 0)
		say(o, "report: %s/report.html\n", out);
	else
		fprintf(stderr, "tunnelprobe run: the report failed (see %s/report.log)\n", out);
	procs_stop_all(ps, 1000);
	free(ps);
#else
	(void)dirs;
	(void)labels;
	(void)n;
	say(o, "run folder: %s (this build has no report part)\n", out);
#endif
}

static void usage(FILE *out)
{
	fputs("usage: tunnelprobe run [SCENARIO] [--proxy URL] [--out DIR] [--duration SECS]\n"
	      "                       [--baseline PREV/run.json] [--label NAME] [-q]\n"
	      "  SCENARIO          a scenario file (docs/scenarios.md); none: the built-in demo\n"
	      "  --proxy URL       test this proxy instead of the scenario's (your own build)\n"
	      "  --out DIR         the run folder (default: runs/NAME-YYYYmmdd-HHMMSS)\n"
	      "  --duration SECS   soak: run the load for this long, checkpointing as it goes\n"
	      "  --baseline FILE   a previous run.json for regression expectations\n"
	      "Exit status: 0 expectations met, 1 not met, 2 bad input or the run failed.\n",
	      out);
}

int run_main(int argc, char **argv)
{
	struct run_opts o = {0};
	const char *scenario_path = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool has_value = i + 1 < argc;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
			o.quiet = true;
		} else if (strcmp(a, "--proxy") == 0 && has_value) {
			o.proxy = argv[++i];
		} else if (strcmp(a, "--out") == 0 && has_value) {
			o.out = argv[++i];
		} else if (strcmp(a, "--baseline") == 0 && has_value) {
			o.baseline = argv[++i];
		} else if (strcmp(a, "--label") == 0 && has_value) {
			o.label = argv[++i];
		} else if (strcmp(a, "--duration") == 0 && has_value) {
			o.duration_s = units_duration(argv[++i]);
			if (!(o.duration_s > 0)) {
				fprintf(stderr, "tunnelprobe run: --duration wants 30s, 5m, 1h, not '%s'\n", argv[i]);
				return 2;
			}
		} else if (a[0] == '-') {
			fprintf(stderr, "tunnelprobe run: unknown option or missing value: '%s'\n", a);
			return 2;
		} else if (!scenario_path) {
			scenario_path = a;
		} else {
			fprintf(stderr, "tunnelprobe run: one scenario at a time ('%s')\n", a);
			return 2;
		}
	}
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	static struct scenario scn;
	char err[600];
	char out[PATH_MAX];
	struct outcome res;
	if (scenario_path) {
		if (scenario_load(&scn, scenario_path, err, sizeof err) < 0) {
			fprintf(stderr, "tunnelprobe run: %s\n", err);
			return 2;
		}
		char dir[PATH_MAX];
		snprintf(dir, sizeof dir, "%s", scenario_path);
		char *slash = strrchr(dir, '/');
		if (slash)
			*slash = '\0';
		else
			strcpy(dir, ".");
		if (o.out)
			snprintf(out, sizeof out, "%s", o.out);
		else
			snprintf(out, sizeof out, "runs/%s-%ld", scn.name, (long)time(NULL));
		run_scenario(&scn, dir, &o, out, o.label, &res);
		say(&o, "%s\n", res.summary);
		char dirs[1][PATH_MAX];
		snprintf(dirs[0], sizeof dirs[0], "%s", out);
		const char *labels[1] = {o.label ? o.label : scn.name};
		if (res.status != 2)
			write_report(&o, out, dirs, labels, 1);
		return res.status;
	}

	/* The built-in demo. */
	size_t nparts;
	const struct demo_part *parts = demo_parts(&nparts);
	snprintf(out, sizeof out, "%s", o.out ? o.out : "runs/demo");
	char dirs[4][PATH_MAX];
	const char *labels[4];
	int status = 0;
	char summaries[4][512];
	for (size_t i = 0; i < nparts && i < 4; i++) {
		if (scenario_parse(&scn, parts[i].text, strlen(parts[i].text), parts[i].label, err,
				   sizeof err) < 0) {
			fprintf(stderr, "tunnelprobe run: built-in demo: %s\n", err);
			return 2;
		}
		if (snprintf(dirs[i], sizeof dirs[i], "%.3900s/%s", out, parts[i].label) >= (int)sizeof dirs[i])
			return 2;
		labels[i] = parts[i].label;
		run_scenario(&scn, ".", &o, dirs[i], parts[i].label, &res);
		snprintf(summaries[i], sizeof summaries[i], "%s", res.summary);
		if (res.status > status)
			status = res.status;
		if (res.status == 2 || interrupted)
			return 2;
	}
	say(&o, "\n");
	for (size_t i = 0; i < nparts; i++)
		say(&o, "%s\n", summaries[i]);
	write_report(&o, out, dirs, labels, nparts);
	return status;
}
