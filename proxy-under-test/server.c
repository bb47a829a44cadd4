/* server — `tunnelprobe proxy`: options, listeners, workers, the ledger, shutdown. */
#include "proxy-under-test/server.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#ifndef _WIN32
#include <netinet/in.h> /* sockaddr_in; lib/net.h's Winsock headers have it */
#endif

#include "lib/stopsig.h"
#include "lib/units.h"
#include "lib/version.h"
#include "proxy-under-test/proxy.h"
#include "proxy-under-test/qlisten.h"
#include "proxy-under-test/session.h"

/* Set by proxy_main for the signal handler: the workers to wake for a drain. */
static struct proxy_shared *volatile running_shared;
static struct proxy_worker *volatile running_workers;
static volatile unsigned running_count;

static void on_signal(int sig)
{
	(void)sig;
	struct proxy_shared *sh = running_shared;
	if (!sh)
		return;
	atomic_store(&sh->stopping, 1);
	struct proxy_worker *ws = running_workers;
	for (unsigned i = 0; ws && i < running_count; i++)
		loop_wake(&ws[i].loop);
}


bool server_allowed(const struct proxy_config *cfg, const struct net_addr *addr)
{
	for (size_t i = 0; i < cfg->nallow; i++) {
		const struct allow_net *n = &cfg->allow[i];
		const uint8_t *a, *b;
		size_t bytes;
		if (addr->ss.ss_family != n->addr.ss.ss_family)
			continue;
		if (addr->ss.ss_family == AF_INET) {
			a = (const uint8_t *)&((const struct sockaddr_in *)&addr->ss)->sin_addr;
			b = (const uint8_t *)&((const struct sockaddr_in *)&n->addr.ss)->sin_addr;
			bytes = 4;
		} else {
			a = (const uint8_t *)&((const struct sockaddr_in6 *)&addr->ss)->sin6_addr;
			b = (const uint8_t *)&((const struct sockaddr_in6 *)&n->addr.ss)->sin6_addr;
			bytes = 16;
		}
		unsigned bits = n->prefix;
		bool match = true;
		for (size_t k = 0; k < bytes && bits > 0 && match; k++, bits = bits > 8 ? bits - 8 : 0) {
			uint8_t mask = bits >= 8 ? 0xff : (uint8_t)(0xff << (8 - bits));
			match = (a[k] & mask) == (b[k] & mask);
		}
		if (match)
			return true;
	}
	return false;
}

const struct net_addr *server_resolve(const struct proxy_config *cfg, const char *host,
				      uint16_t port)
{
	for (size_t i = 0; i < cfg->nresolve; i++)
		if (cfg->resolve[i].port == port && strcasecmp(cfg->resolve[i].host, host) == 0)
			return &cfg->resolve[i].addr;
	return NULL;
}

void server_add_session(struct proxy_worker *w, struct session *s)
{
	s->prev = NULL;
	s->next = w->sessions;
	if (w->sessions)
		w->sessions->prev = s;
	w->sessions = s;
	w->nsessions++;
}

void server_remove_session(struct proxy_worker *w, struct session *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		w->sessions = s->next;
	if (s->next)
		s->next->prev = s->prev;
	w->nsessions--;
	w->closing++;
	server_check_drained(w);
}

void server_check_drained(struct proxy_worker *w)
{
	if (atomic_load(&w->shared->stopping) && w->nsessions == 0 && qlisten_busy(w->quic) == 0)
		loop_stop(&w->loop);
}

void server_session_finished(struct proxy_worker *w)
{
	w->closing--;
	if (w->exiting && w->closing == 0)
		loop_stop(&w->loop);
}

/* The bound on getting streams legs back at exit. */
static void on_exit_deadline(struct loop *loop, struct loop_timer *timer)
{
	loop_stop(loop);
}

static void on_accept(struct loop *loop, struct loop_io *io, unsigned events)
{
	struct proxy_worker *w = io->data;
	/* Bounded per event; the rest wait in the backlog for the next iteration. */
	for (int i = 0; i < 64; i++) {
		int fd = net_accept(io->fd, NULL);
		if (fd < 0)
			return; /* -EAGAIN, or EMFILE and the like: try again on the next event */
		if (w->nsessions >= w->cfg->max_clients) {
			/* A flood (of half-open clients, say) costs a closed socket, not memory;
			 * the handshake timeout frees the places it holds. */
			net_close_reset(fd);
			w->turned_away++;
			continue;
		}
		uint64_t k = atomic_fetch_add(&w->shared->tunnels, 1);
		session_accept(w, fd, k);
	}
}

static void on_drain_deadline(struct loop *loop, struct loop_timer *timer)
{
	struct proxy_worker *w = timer->data;
	while (w->sessions)
		session_close(w->sessions, false, false);
	qlisten_close(w->quic);
	loop_stop(loop);
}

static void on_wake(struct loop *loop)
{
	struct proxy_worker *w = loop->data;
	if (!atomic_load(&w->shared->stopping))
		return;
	/* SIGTERM: no new clients; tunnels under way get a few seconds to finish. */
	listeners_close(&w->listeners);
	qlisten_drain(w->quic);
	if (w->nsessions == 0 && qlisten_busy(w->quic) == 0) {
		loop_stop(loop);
		return;
	}
	loop_timer_start(loop, &w->drain_timer, 3000000);
}

static void *worker_main(void *arg)
{
	struct proxy_worker *w = arg;
	loop_update_time(&w->loop);
	loop_run(&w->loop);
	while (w->sessions)
		session_close(w->sessions, false, false);
	qlisten_close(w->quic);
	if (w->closing) {
		/* Streams legs come back through the loop (cancelled, then closed): their
		 * sessions' ledger lines are written then. At most 2 s. */
		w->exiting = true;
		loop_timer_start(&w->loop, &w->exit_timer, 2000000);
		loop_run(&w->loop);
		loop_timer_stop(&w->loop, &w->exit_timer);
	}
	return NULL;
}

/* Releases what worker_init() set up. NULL-safe; only for a worker worker_init()
 * succeeded on. */
static void worker_free(struct proxy_worker *w)
{
	if (!w)
		return;
	listeners_close(&w->listeners);
	qlisten_close(w->quic);
	free(w->quic);
	w->quic = NULL;
	dns_free(&w->dns);
	loop_free(&w->loop);
}

/* Sets up worker index: its loop, resolver and listeners (worker 0 binds a port 0 and
 * writes the port into cfg, so the others share it). Returns 0, or -1 after a message,
 * with nothing left to free. */
static int worker_init(struct proxy_worker *w, struct proxy_shared *shared,
		       struct proxy_config *cfg, unsigned index)
{
	*w = (struct proxy_worker){.shared = shared, .cfg = cfg, .index = index};
	int err = loop_init(&w->loop);
	if (err < 0) {
		fprintf(stderr, "tunnelprobe proxy: cannot create an event loop: %s\n", strerror(-err));
		return -1;
	}
	err = dns_init(&w->dns, &w->loop, cfg->dns_servers);
	if (err < 0) {
		fprintf(stderr, "tunnelprobe proxy: cannot create a resolver: %s\n", strerror(-err));
		worker_free(w);
		return -1;
	}
	w->loop.data = w;
	w->loop.on_wake = on_wake;
	loop_timer_init(&w->drain_timer, on_drain_deadline, w);
	loop_timer_init(&w->exit_timer, on_exit_deadline, w);
	size_t l;
	err = listeners_open(&w->listeners, &w->loop, cfg->listen, cfg->nlisten, cfg->threads > 1,
			     on_accept, w, &l);
	if (err < 0) {
		char addr[NET_ADDRSTRLEN];
		fprintf(stderr, "tunnelprobe proxy: cannot listen on %s: %s\n",
			net_addr_format(&cfg->listen[l], addr), net_strerror(err));
		worker_free(w);
		return -1;
	}
	if (!cfg->nquic)
		return 0;
	w->quic = calloc(1, sizeof *w->quic);
	err = w->quic ? qlisten_open(w->quic, w, shared->quic, cfg->quic_listen, cfg->nquic,
				     cfg->threads > 1, &l)
		      : -ENOMEM;
	if (err < 0) {
		char addr[NET_ADDRSTRLEN] = "";
		if (l < cfg->nquic)
			net_addr_format(&cfg->quic_listen[l], addr);
		fprintf(stderr, "tunnelprobe proxy: cannot listen (QUIC) on %s: %s\n", addr, strerror(-err));
		worker_free(w);
		return -1;
	}
	return 0;
}

static int parse_cidr(const char *s, struct allow_net *n)
{
	char ip[64];
	const char *slash = strchr(s, '/');
	size_t len = slash ? (size_t)(slash - s) : strlen(s);
	if (len == 0 || len >= sizeof ip)
		return -EINVAL;
	memcpy(ip, s, len);
	ip[len] = '\0';
	if (net_addr_from_ip(ip, 0, &n->addr) < 0)
		return -EINVAL;
	unsigned max = n->addr.ss.ss_family == AF_INET ? 32 : 128;
	n->prefix = max;
	if (slash) {
		char *end;
		unsigned long p = strtoul(slash + 1, &end, 10);
		if (*end || slash[1] == '\0' || p > max)
			return -EINVAL;
		n->prefix = (unsigned)p;
	}
	return 0;
}

/* HOST:PORT:ADDR or HOST:PORT:ADDR:PORT2 (ADDR may be [v6]). */
static int parse_resolve(const char *s, struct proxy_resolve *r)
{
	const char *c1 = strchr(s, ':');
	if (!c1 || c1 == s || (size_t)(c1 - s) >= sizeof r->host)
		return -EINVAL;
	memcpy(r->host, s, (size_t)(c1 - s));
	r->host[c1 - s] = '\0';
	char *end;
	unsigned long port = strtoul(c1 + 1, &end, 10);
	if (*end != ':' || port == 0 || port > 65535)
		return -EINVAL;
	r->port = (uint16_t)port;
	const char *a = end + 1;
	char ip[64];
	unsigned long port2 = port;
	if (*a == '[') {
		const char *close = strchr(a, ']');
		if (!close || (size_t)(close - a - 1) >= sizeof ip)
			return -EINVAL;
		memcpy(ip, a + 1, (size_t)(close - a - 1));
		ip[close - a - 1] = '\0';
		a = close + 1;
	} else {
		size_t n = strcspn(a, ":");
		if (n == 0 || n >= sizeof ip)
			return -EINVAL;
		memcpy(ip, a, n);
		ip[n] = '\0';
		a += n;
	}
	if (*a == ':') {
		port2 = strtoul(a + 1, &end, 10);
		if (*end || port2 == 0 || port2 > 65535)
			return -EINVAL;
	} else if (*a) {
		return -EINVAL;
	}
	return net_addr_from_ip(ip, (uint16_t)port2, &r->addr);
}

static void usage(FILE *out)
{
	fputs("usage: tunnelprobe proxy --listen ADDR [--upstream PROXY_URL] [--fault SPEC]...\n"
	      "                         [--ledger FILE] [options]\n"
	      "  --listen ADDR          127.0.0.1:3128, [::1]:0 (port 0: a free port); repeatable.\n"
	      "                         Each bound address is printed as 'listening ADDR'.\n"
	      "  --quic-listen ADDR     UDP: CONNECT over HTTP/3 (ALPN h3) and SOCKS5 on QUIC\n"
	      "                         streams (ALPN socks5); repeatable; 'listening quic ADDR'\n"
	      "  --quic-cert F --quic-key F  its certificate (PEM); default: one made at start\n"
	      "  --ca-out FILE          write the CA of the made certificate (for clients to trust)\n"
	      "  --upstream URL         chain to http://H:P (CONNECT) or socks5://H:P\n"
	      "  --fault SPEC           truncate:after=N rst:after=N close-before-reply\n"
	      "                         close-mid-reply close-after-accept refuse no-fin full-close\n"
	      "                         stall:after=N corrupt:at=N slow:bps=N drop-chunk-end\n"
	      "                         short-send-drop[:after=N] (Windows build only),\n"
	      "                         reset-as-fin; QUIC only: fin-delay:ms=N reset:after=N\n"
	      "                         close-conn:after=N flow-starve; each with p=P seed=S\n"
	      "                         dir=up|down (docs/proxy.md)\n"
	      "  --ledger FILE          one JSON line per tunnel (docs/ledgers.md)\n"
	      "  --run-id ID            every ledger line carries \"run\": ID (1-64 of A-Za-z0-9._-)\n"
	      "  --allow CIDR           destinations allowed (default: 127.0.0.0/8 and ::1)\n"
	      "  --resolve H:P:ADDR[:P2] use ADDR (and port P2) for H:P\n"
	      "  --auth USER:PASS       require SOCKS5 user/pass or Proxy-Authorization Basic\n"
	      "  -t, --threads N        worker threads, each with its own loop and SO_REUSEPORT\n"
	      "                         listeners (default 1; --workers N is the same)\n"
	      "  --no-splice            relay tunnels through buffers, not splice(2)\n"
	      "  --io ready|streams     drive sockets by readiness (Linux default: epoll, splice)\n"
	      "                         or by completions (Windows default: WSARecv/WSASend on a\n"
	      "                         completion port; on Linux the loop's emulation of them)\n"
	      "  --max-clients N        open client connections at most (default 4096; more are\n"
	      "                         reset at once)\n"
	      "  --idle-timeout S       default 60; --connect-timeout S default 10;\n"
	      "  --handshake-timeout S  default 10\n"
	      "reverse mode (a gateway in front of one origin; docs/proxy.md):\n"
	      "  --reverse URL          forward every request to http://HOST[:PORT]; /metrics\n"
	      "                         answers Prometheus text; no CONNECT, SOCKS5, --upstream,\n"
	      "                         --auth or --allow\n"
	      "  --rate-limit N/s       above N requests/s (or N/m): 429 with Retry-After;\n"
	      "                         ,burst=B for bursts of B (default N)\n"
	      "  --breaker failures=N,cooldown=S  after N origin failures in a row (5xx, connect\n"
	      "                         errors): 503 with X-Circuit-Breaker: open; one trial\n"
	      "                         after S seconds (defaults 5 and 10)\n",
	      out);
}

static int bad(const char *what, const char *value)
{
	fprintf(stderr, "tunnelprobe proxy: %s '%s'\n", what, value);
	return 2;
}

/* --auth USER:PASS into cfg. 0, or -1 when it is not that or too long. */
static int parse_auth(struct proxy_config *cfg, const char *v)
{
	const char *colon = strchr(v, ':');
	if (!colon || colon == v || !colon[1] || (size_t)(colon - v) >= sizeof cfg->auth_user ||
	    strlen(colon + 1) >= sizeof cfg->auth_pass)
		return -1;
	memcpy(cfg->auth_user, v, (size_t)(colon - v));
	strcpy(cfg->auth_pass, colon + 1);
	cfg->require_auth = true;
	return 0;
}

/* What the options say together, once all are read: listeners, the QUIC certificate,
 * reverse mode, faults the served modes cannot act. 0, or 2 after one line on stderr. */
static int check_config(struct proxy_config *cfg)
{
	const char *rwhy = NULL;
	if (cfg->nlisten == 0 && cfg->nquic == 0)
		return bad("--listen or --quic-listen is required, e.g.", "--listen 127.0.0.1:0");
	if (!cfg->quic_cert != !cfg->quic_key)
		return bad("--quic-cert and --quic-key go together; got only",
			   cfg->quic_cert ? "--quic-cert" : "--quic-key");
	if ((cfg->quic_cert || cfg->ca_out) && !cfg->nquic)
		return bad("without --quic-listen there is no QUIC certificate for",
			   cfg->quic_cert ? "--quic-cert" : "--ca-out");
	if (cfg->quic_cert && cfg->ca_out)
		return bad("--ca-out writes the CA of a certificate the proxy makes; with --quic-cert it makes none:",
			   cfg->ca_out);
	if (cfg->reverse.on && cfg->nquic)
		return bad("--reverse serves TCP listeners only; drop", "--quic-listen");
	if (reverse_finish_config(cfg, &rwhy) < 0) {
		fprintf(stderr, "tunnelprobe proxy: %s\n", rwhy);
		return 2;
	}
	enum fault_mode mode;
	/* A forward proxy's TCP listener serves forward, CONNECT and SOCKS5, a reverse
	 * proxy's only reverse requests, a QUIC listener both QUIC framings. */
	unsigned served = (cfg->nlisten ? (cfg->reverse.on ? FAULT_MODE_REVERSE : FAULT_MODES_PROXY) : 0) |
			  (cfg->nquic ? FAULT_MODES_QUIC : 0);
	const struct fault *idle = fault_idle_mode(cfg->faults, cfg->nfaults, served, &mode);
	if (idle) {
		/* Refused rather than left to do nothing there. */
		fprintf(stderr, "tunnelprobe proxy: --fault '%s' cannot act in %s mode, which this proxy serves\n",
			idle->spec, fault_mode_name(mode));
		return 2;
	}
	const struct fault *ssd = fault_needs_streams(cfg->faults, cfg->nfaults);
#ifdef _WIN32
	if (ssd && cfg->io != LEG_STREAMS)
		return bad("short-send-drop acts on WSASend completions: it needs --io streams, not", "ready");
	if (cfg->threads > 1)
		return bad("one worker per port on Windows (no SO_REUSEPORT): --threads 1, not", "more");
#else
	if (ssd) {
		fprintf(stderr, "tunnelprobe proxy: --fault '%s' acts on WSASend completions: only the "
			"Windows build (build/win64/tunnelprobe.exe) has them\n", ssd->spec);
		return 2;
	}
#endif
	return 0;
}

static int parse_args(struct proxy_config *cfg, int argc, char **argv)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->threads = 1;
	cfg->idle_timeout_s = 60;
	cfg->connect_timeout_s = 10;
	cfg->handshake_timeout_s = 10;
#ifdef _WIN32
	cfg->io = LEG_STREAMS; /* a completion port's own shape */
#else
	cfg->io = LEG_READY;
#endif
	uint64_t max_clients = 4096;
	const char *rwhy = NULL; /* reverse mode's options */
	int rc;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 1;
		}
		if (strcmp(a, "--no-splice") == 0) {
			cfg->no_splice = true;
			continue;
		}
		if (!v)
			return bad("missing value for", a);
		i++;
		if (strcmp(a, "--listen") == 0) {
			if (cfg->nlisten == PROXY_MAX_LISTEN || net_addr_parse(v, &cfg->listen[cfg->nlisten]) < 0)
				return bad("bad --listen address (want IP:PORT or [IPv6]:PORT)", v);
			cfg->nlisten++;
		} else if (strcmp(a, "--quic-listen") == 0) {
			if (cfg->nquic == PROXY_MAX_LISTEN || net_addr_parse(v, &cfg->quic_listen[cfg->nquic]) < 0)
				return bad("bad --quic-listen address (want IP:PORT or [IPv6]:PORT)", v);
			cfg->nquic++;
		} else if (strcmp(a, "--quic-cert") == 0) {
			cfg->quic_cert = v;
		} else if (strcmp(a, "--quic-key") == 0) {
			cfg->quic_key = v;
		} else if (strcmp(a, "--ca-out") == 0) {
			cfg->ca_out = v;
		} else if (strcmp(a, "--upstream") == 0) {
			const char *why = NULL;
			if (url_parse_proxy(v, &cfg->upstream, &why) < 0)
				return bad(why ? why : "bad --upstream", v);
			cfg->has_upstream = true;
		} else if (strcmp(a, "--fault") == 0) {
			const char *why = NULL;
			if (cfg->nfaults == FAULT_MAX)
				return bad("too many faults at", v);
			if (fault_parse(v, &cfg->faults[cfg->nfaults], &why) < 0) {
				fprintf(stderr, "tunnelprobe proxy: bad --fault '%s': %s\n", v, why);
				return 2;
			}
			cfg->nfaults++;
		} else if (strcmp(a, "--ledger") == 0) {
			cfg->ledger_path = v;
		} else if (strcmp(a, "--run-id") == 0) {
			if (!ledger_run_id_valid(v))
				return bad("--run-id wants 1-64 characters of A-Za-z0-9._-, not", v);
			cfg->run_id = v;
		} else if (strcmp(a, "--allow") == 0) {
			if (cfg->nallow == PROXY_MAX_ALLOW || parse_cidr(v, &cfg->allow[cfg->nallow]) < 0)
				return bad("bad --allow (want CIDR like 127.0.0.0/8)", v);
			cfg->nallow++;
		} else if (strcmp(a, "--resolve") == 0) {
			if (cfg->nresolve == PROXY_MAX_RESOLVE || parse_resolve(v, &cfg->resolve[cfg->nresolve]) < 0)
				return bad("bad --resolve (want HOST:PORT:ADDR[:PORT])", v);
			cfg->nresolve++;
		} else if (strcmp(a, "--auth") == 0) {
			if (parse_auth(cfg, v) < 0)
				return bad("bad --auth (want USER:PASS)", v);
		} else if (strcmp(a, "--max-clients") == 0) {
			if (!units_count(v, 1000000, &max_clients) || max_clients == 0)
				return bad("--max-clients wants 1..1000000, not", v);
		} else if (strcmp(a, "--io") == 0) {
			if (strcmp(v, "ready") == 0)
				cfg->io = LEG_READY;
			else if (strcmp(v, "streams") == 0)
				cfg->io = LEG_STREAMS;
			else
				return bad("--io wants ready or streams, not", v);
		} else if (strcmp(a, "--dns-servers") == 0) {
			cfg->dns_servers = v;
		} else if (strcmp(a, "-t") == 0 || strcmp(a, "--threads") == 0 ||
			   strcmp(a, "--workers") == 0) { /* --workers: the older name */
			uint64_t n;
			if (!units_count(v, PROXY_MAX_THREADS, &n) || n == 0)
				return bad("--threads wants 1..64, not", v);
			cfg->threads = (unsigned)n;
		} else if (strcmp(a, "--idle-timeout") == 0 || strcmp(a, "--connect-timeout") == 0 ||
			   strcmp(a, "--handshake-timeout") == 0) {
			char *end;
			double d = strtod(v, &end);
			if (*end || !(d > 0) || d > 1e6)
				return bad("bad number for", a);
			if (a[2] == 'i')
				cfg->idle_timeout_s = d;
			else if (a[2] == 'c')
				cfg->connect_timeout_s = d;
			else
				cfg->handshake_timeout_s = d;
		} else if ((rc = reverse_option(&cfg->reverse, a, v, &rwhy)) != 0) {
			if (rc < 0) {
				fprintf(stderr, "tunnelprobe proxy: bad %s '%s': %s\n", a, v, rwhy);
				return 2;
			}
		} else {
			i--;
			return bad("unknown option", a);
		}
	}
	if ((rc = check_config(cfg)) != 0)
		return rc;
	cfg->max_clients = (unsigned)((max_clients + cfg->threads - 1) / cfg->threads);
	if (cfg->nallow == 0) {
		/* Never an open proxy by accident: loopback only unless told otherwise. */
		parse_cidr("127.0.0.0/8", &cfg->allow[cfg->nallow++]);
		parse_cidr("::1", &cfg->allow[cfg->nallow++]);
	}
	return 0;
}

/* Runs the proxy on a parsed configuration until SIGTERM/SIGINT has drained it; a port
 * 0 in cfg->listen becomes the port bound. Prints "listening ADDR" per address once all
 * are bound. Returns 0 after a clean stop, 2 when it cannot start (ledger, loop,
 * resolver, listener or thread: a message says which). */
static int serve(struct proxy_config *cfg)
{
	static struct proxy_shared shared; /* 32 KiB of key counters: not on the stack */
	static struct qserver qsrv;
	memset(&shared, 0, sizeof shared);
	shared.cfg = cfg;
	struct proxy_worker *ws = NULL;
	unsigned ready = 0, started = 0; /* workers set up, threads running */
	int exit_code = 2;
	int err = cfg->ledger_path ? ledger_open(&shared.ledger, cfg->ledger_path) : 0;
	if (err < 0) {
		fprintf(stderr, "tunnelprobe proxy: cannot write --ledger %s: %s\n", cfg->ledger_path,
			strerror(-err));
		goto out;
	}
	if (cfg->run_id && ledger_is_open(&shared.ledger))
		ledger_set_run(&shared.ledger, cfg->run_id); /* checked by parse_args */
	err = reverse_state_init(&shared.reverse, &cfg->reverse);
	if (err < 0) {
		fprintf(stderr, "tunnelprobe proxy: cannot set up reverse mode: %s\n", strerror(-err));
		goto out;
	}
	if (cfg->nquic) {
		if (qserver_init(&qsrv, cfg) < 0)
			goto out;
		shared.quic = &qsrv;
	}
	ws = calloc(cfg->threads, sizeof *ws);
	if (!ws) {
		fprintf(stderr, "tunnelprobe proxy: out of memory\n");
		goto out;
	}
	for (; ready < cfg->threads; ready++)
		if (worker_init(&ws[ready], &shared, cfg, ready) < 0)
			goto out;
	puts(TP_BUILD_LINE);
	for (size_t l = 0; l < cfg->nlisten; l++) {
		char addr[NET_ADDRSTRLEN];
		printf("listening %s\n", net_addr_format(&cfg->listen[l], addr));
	}
	for (size_t l = 0; l < cfg->nquic; l++) {
		char addr[NET_ADDRSTRLEN];
		printf("listening quic %s\n", net_addr_format(&cfg->quic_listen[l], addr));
	}
	fflush(stdout);
	running_shared = &shared;
	running_workers = ws;
	running_count = cfg->threads;
	stopsig_install(on_signal);
	for (; started < cfg->threads; started++) {
		if (pthread_create(&ws[started].thread, NULL, worker_main, &ws[started]) != 0) {
			/* Fewer threads than asked: those running drain and stop, as on SIGTERM. */
			fprintf(stderr, "tunnelprobe proxy: cannot start thread %u\n", started);
			on_signal(SIGTERM);
			break;
		}
	}
	for (unsigned i = 0; i < started; i++)
		pthread_join(ws[i].thread, NULL);
	exit_code = started == cfg->threads ? 0 : 2;
out:
	running_shared = NULL;
	running_workers = NULL;
	for (unsigned i = 0; i < ready; i++)
		worker_free(&ws[i]);
	free(ws);
	if (shared.ledger.lost)
		fprintf(stderr, "tunnelprobe proxy: %llu line(s) not written to --ledger %s: %s\n",
			(unsigned long long)shared.ledger.lost, cfg->ledger_path, strerror(-shared.ledger.error));
	ledger_close(&shared.ledger);
	reverse_state_free(&shared.reverse);
	qserver_free(&qsrv);
	return exit_code;
}

int proxy_main(int argc, char **argv)
{
	static struct proxy_config cfg;
	int rc = parse_args(&cfg, argc, argv);
	if (rc)
		return rc == 1 ? 0 : rc;
	return serve(&cfg);
}
