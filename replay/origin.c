/* origin — see origin.h: options, listeners (SO_REUSEPORT, one set per worker),
 * worker threads and shutdown; each connection is oconn.c's. */
#include "replay/origin.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/stopsig.h"
#include "lib/units.h"
#include "lib/version.h"
#include "replay/oconn.h"
#include "replay/oquic.h"

/* ---- workers and options ---- */

static struct origin_shared *volatile running_sh;
static struct origin_worker *volatile running_ws;
static volatile unsigned running_n;

static void on_signal(int sig)
{
	(void)sig;
	struct origin_shared *sh = running_sh;
	if (!sh)
		return;
	atomic_store(&sh->stopping, 1);
	struct origin_worker *ws = running_ws;
	for (unsigned i = 0; ws && i < running_n; i++)
		loop_wake(&ws[i].loop);
}

static void on_wake(struct loop *loop)
{
	struct origin_worker *w = loop->data;
	if (!atomic_load(&w->sh->stopping))
		return;
	listeners_close(&w->listeners);
	/* Idle keep-alive connections go now; responses under way finish. */
	oconn_close_idle(w);
	oquic_stop(w);
	if (w->nconns == 0)
		loop_stop(loop);
}

static void *worker_main(void *arg)
{
	struct origin_worker *w = arg;
	loop_update_time(&w->loop);
	loop_run(&w->loop);
	oconn_close_all(w);
	return NULL;
}

static void usage(FILE *out)
{
	fputs("usage: tunnelprobe origin [--listen ADDR]... [--tls-listen ADDR]... [options]\n"
	      "  --listen ADDR       plain HTTP/1.1 (default 127.0.0.1:0); repeatable\n"
	      "  --tls-listen ADDR   HTTPS with a CA made at start; repeatable\n"
	      "  --quic-listen ADDR  HTTP/3 over QUIC (UDP), certificates from the same CA;\n"
	      "                      repeatable\n"
	      "                      each bound address is printed: 'listening http|https|quic ADDR'\n"
	      "  --quic-max-udp-payload N  largest datagram sent, 1200..65527 (default 1452;\n"
	      "                      loopback carries up to 65527)\n"
	      "  --ca-out FILE       write the CA certificate (PEM) for clients' --cacert\n"
	      "  --sites FILE        routes by Host and path (docs/origin.md)\n"
	      "  --replay FILE|DIR   serve responses recorded in a pcap/pcapng of plain HTTP, or\n"
	      "                      raw response files (NNN.http, optional index), byte for byte\n"
	      "  --replay-timing     write recorded responses in their captured segment sizes,\n"
	      "                      after their captured gaps (pcap recordings)\n"
	      "  --ledger FILE       one JSON line per request (docs/ledgers.md)\n"
	      "  --run-id ID         every ledger line carries \"run\": ID (1-64 of A-Za-z0-9._-)\n"
	      "  -t, --threads N     worker threads, each with its own loop and SO_REUSEPORT\n"
	      "                      listeners (default 1)\n"
	      "  --fault SPEC        truncate:after=N | rst:after=N | stall:after=N (bytes written\n"
	      "                      per connection) | slow-headers:ms=N\n"
	      "built-in paths: /bytes/N /chunked/N?chunk=K /gzip/N /close/N /status/CODE\n"
	      "                /delay/MS /drip?bytes=N&ms=M  POST /sink (verifies X-Tp-Seed bodies)\n",
	      out);
}

static int bad(const char *what, const char *v)
{
	fprintf(stderr, "tunnelprobe origin: %s '%s'\n", what, v);
	return 2;
}

/* Indexed by kind: the name and the one parameter of each origin fault. */
static const struct {
	const char *name;
	const char *param;
} fault_kinds[ORIGIN_FAULT_COUNT] = {
	[ORIGIN_FAULT_TRUNCATE] = {"truncate", "after"},
	[ORIGIN_FAULT_RST] = {"rst", "after"},
	[ORIGIN_FAULT_STALL] = {"stall", "after"},
	[ORIGIN_FAULT_SLOW_HEADERS] = {"slow-headers", "ms"},
};

const char *origin_fault_name(enum origin_fault_kind kind)
{
	return (unsigned)kind < ORIGIN_FAULT_COUNT ? fault_kinds[kind].name : NULL;
}

/* "NAME:PARAM=N" → cfg->fault, cfg->fault_n. Returns 0 or -1. */
static int parse_fault(struct origin_config *cfg, const char *v)
{
	for (int k = ORIGIN_FAULT_NONE + 1; k < ORIGIN_FAULT_COUNT; k++) {
		size_t nlen = strlen(fault_kinds[k].name), plen = strlen(fault_kinds[k].param);
		if (strncmp(v, fault_kinds[k].name, nlen) != 0 || v[nlen] != ':' ||
		    strncmp(v + nlen + 1, fault_kinds[k].param, plen) != 0 || v[nlen + 1 + plen] != '=')
			continue;
		if (!units_count(v + nlen + plen + 2, UINT64_MAX, &cfg->fault_n))
			return -1;
		cfg->fault = (enum origin_fault_kind)k;
		return 0;
	}
	return -1;
}

static int parse_args(struct origin_config *cfg, int argc, char **argv)
{
	cfg->threads = 1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 1;
		}
		if (strcmp(a, "--replay-timing") == 0) {
			cfg->replay_timing = true;
			continue;
		}
		const char *v = i + 1 < argc ? argv[++i] : NULL;
		if (!v)
			return bad("missing value for", a);
		if (strcmp(a, "--listen") == 0 || strcmp(a, "--tls-listen") == 0) {
			if (cfg->nlisten == ORIGIN_MAX_LISTEN || net_addr_parse(v, &cfg->listen[cfg->nlisten]) < 0)
				return bad("bad listen address (want IP:PORT or [IPv6]:PORT)", v);
			cfg->listen_tls[cfg->nlisten++] = a[2] == 't';
#ifdef _WIN32
		} else if (strcmp(a, "--quic-listen") == 0 || strcmp(a, "--quic-max-udp-payload") == 0) {
			fprintf(stderr, "tunnelprobe origin: %s: HTTP/3 over QUIC is not in the Windows build "
				"(Debian has no GnuTLS, ngtcp2 or nghttp3 for mingw-w64)\n", a);
			return 2;
#endif
		} else if (strcmp(a, "--quic-listen") == 0) {
			if (cfg->nquic == ORIGIN_MAX_LISTEN || net_addr_parse(v, &cfg->quic_listen[cfg->nquic]) < 0)
				return bad("bad --quic-listen address (want IP:PORT or [IPv6]:PORT)", v);
			cfg->nquic++;
		} else if (strcmp(a, "--quic-max-udp-payload") == 0) {
			uint64_t n;
			if (!units_count(v, 65527, &n) || n < 1200)
				return bad("--quic-max-udp-payload wants 1200..65527, not", v);
			cfg->quic_max_udp_payload = (size_t)n;
		} else if (strcmp(a, "--ca-out") == 0) {
			cfg->ca_out = v;
		} else if (strcmp(a, "--ledger") == 0) {
			cfg->ledger_path = v;
		} else if (strcmp(a, "--run-id") == 0) {
			if (!ledger_run_id_valid(v))
				return bad("--run-id wants 1-64 characters of A-Za-z0-9._-, not", v);
			cfg->run_id = v;
		} else if (strcmp(a, "--sites") == 0) {
			char err[600];
			if (sites_load(&cfg->sites, v, err, sizeof err) < 0) {
				fprintf(stderr, "tunnelprobe origin: %s\n", err);
				return 2;
			}
			cfg->sites_path = v;
		} else if (strcmp(a, "-t") == 0 || strcmp(a, "--threads") == 0) {
			uint64_t n;
			if (!units_count(v, ORIGIN_MAX_THREADS, &n) || n == 0)
				return bad("--threads wants 1..64, not", v);
			cfg->threads = (unsigned)n;
		} else if (strcmp(a, "--fault") == 0) {
			if (parse_fault(cfg, v) < 0)
				return bad("bad --fault (truncate:after=N, rst:after=N, stall:after=N, "
					   "slow-headers:ms=N)", v);
		} else if (strcmp(a, "--replay") == 0) {
			static struct recording rec;
			char err[600];
			if (cfg->recording)
				return bad("--replay given twice", v);
			if (recording_load(&rec, v, err, sizeof err) < 0) {
				fprintf(stderr, "tunnelprobe origin: %s\n", err);
				return 2;
			}
			if (rec.skipped_flows)
				fprintf(stderr, "tunnelprobe origin: %s: %zu flow(s) with bytes missing left out\n", v,
					rec.skipped_flows);
			cfg->recording = &rec;
		} else {
			return bad("unknown option", a);
		}
	}
	if (cfg->nlisten == 0 && cfg->nquic == 0)
		net_addr_parse("127.0.0.1:0", &cfg->listen[cfg->nlisten++]);
	return 0;
}

/* Releases what worker_init() set up. NULL-safe; only for a worker worker_init()
 * succeeded on. */
static void worker_free(struct origin_worker *w)
{
	if (!w)
		return;
	listeners_close(&w->listeners);
	oquic_worker_free(w);
	loop_free(&w->loop);
}

/* Sets up a worker: its loop and listeners (the first worker set up binds a port 0 and
 * writes the port into cfg, so the others share it). Returns 0, or -1 after a message,
 * with nothing left to free. */
static int worker_init(struct origin_worker *w, struct origin_shared *sh,
		       struct origin_config *cfg)
{
	*w = (struct origin_worker){.sh = sh};
	int err = loop_init(&w->loop);
	if (err < 0) {
		fprintf(stderr, "tunnelprobe origin: cannot create an event loop: %s\n", strerror(-err));
		return -1;
	}
	w->loop.data = w;
	w->loop.on_wake = on_wake;
	size_t l;
	err = listeners_open(&w->listeners, &w->loop, cfg->listen, cfg->nlisten, cfg->threads > 1,
			     oconn_on_accept, w, &l);
	if (err < 0) {
		char addr[NET_ADDRSTRLEN];
		fprintf(stderr, "tunnelprobe origin: cannot listen on %s: %s\n",
			net_addr_format(&cfg->listen[l], addr), strerror(-err));
		worker_free(w);
		return -1;
	}
	err = oquic_worker_init(w, cfg, &l);
	if (err < 0) {
		char addr[NET_ADDRSTRLEN];
		fprintf(stderr, "tunnelprobe origin: cannot listen on quic %s: %s\n",
			net_addr_format(&cfg->quic_listen[l], addr), strerror(-err));
		worker_free(w);
		return -1;
	}
	return 0;
}

/* Runs the origin on a parsed configuration until SIGTERM/SIGINT. Returns 0 after a
 * clean stop, 2 when it cannot start. */
static int serve(struct origin_config *cfg)
{
	static struct origin_shared sh;
	memset(&sh, 0, sizeof sh);
	sh.cfg = cfg;
	struct origin_worker *ws = NULL;
	unsigned ready = 0, started = 0; /* workers set up, threads running */
	int exit_code = 2;
	bool any_tls = cfg->ca_out != NULL || cfg->nquic > 0;
	for (size_t i = 0; i < cfg->nlisten; i++)
		any_tls |= cfg->listen_tls[i];
	const char *why = NULL;
	if (any_tls && tlsserv_init(&sh.tls, cfg->ca_out, &why) < 0) {
		fprintf(stderr, "tunnelprobe origin: %s\n", why);
		goto out;
	}
	sh.tls_ready = any_tls;
	if (oquic_shared_init(&sh, &why) < 0) {
		fprintf(stderr, "tunnelprobe origin: %s\n", why);
		goto out;
	}
	int err = cfg->ledger_path ? ledger_open(&sh.ledger, cfg->ledger_path) : 0;
	if (err < 0) {
		fprintf(stderr, "tunnelprobe origin: cannot write --ledger %s: %s\n", cfg->ledger_path,
			strerror(-err));
		goto out;
	}
	if (cfg->run_id && ledger_is_open(&sh.ledger))
		ledger_set_run(&sh.ledger, cfg->run_id); /* checked by parse_args */
	ws = calloc(cfg->threads, sizeof *ws);
	if (!ws) {
		fprintf(stderr, "tunnelprobe origin: out of memory\n");
		goto out;
	}
	for (; ready < cfg->threads; ready++)
		if (worker_init(&ws[ready], &sh, cfg) < 0)
			goto out;
	puts(TP_BUILD_LINE);
	for (size_t l = 0; l < cfg->nlisten; l++) {
		char addr[NET_ADDRSTRLEN];
		printf("listening %s %s\n", cfg->listen_tls[l] ? "https" : "http",
		       net_addr_format(&cfg->listen[l], addr));
	}
	for (size_t l = 0; l < cfg->nquic; l++) {
		char addr[NET_ADDRSTRLEN];
		printf("listening quic %s\n", net_addr_format(&cfg->quic_listen[l], addr));
	}
	fflush(stdout);
	running_sh = &sh;
	running_ws = ws;
	running_n = cfg->threads;
	stopsig_install(on_signal);
	for (; started < cfg->threads; started++) {
		if (pthread_create(&ws[started].thread, NULL, worker_main, &ws[started]) != 0) {
			/* Fewer threads than asked: those running stop, as on SIGTERM. */
			fprintf(stderr, "tunnelprobe origin: cannot start thread %u\n", started);
			on_signal(SIGTERM);
			break;
		}
	}
	for (unsigned t = 0; t < started; t++)
		pthread_join(ws[t].thread, NULL);
	exit_code = started == cfg->threads ? 0 : 2;
out:
	running_sh = NULL;
	running_ws = NULL;
	for (unsigned t = 0; t < ready; t++)
		worker_free(&ws[t]);
	free(ws);
	if (sh.ledger.lost)
		fprintf(stderr, "tunnelprobe origin: %llu line(s) not written to --ledger %s: %s\n",
			(unsigned long long)sh.ledger.lost, cfg->ledger_path, strerror(-sh.ledger.error));
	ledger_close(&sh.ledger);
	oquic_shared_free(&sh);
	if (sh.tls_ready)
		tlsserv_free(&sh.tls);
	return exit_code;
}

int origin_main(int argc, char **argv)
{
	static struct origin_config cfg;
	memset(&cfg, 0, sizeof cfg);
	int rc = parse_args(&cfg, argc, argv);
	if (rc)
		return rc == 1 ? 0 : rc;
	return serve(&cfg);
}
