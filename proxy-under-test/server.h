/* server — the reference proxy's configuration, worker threads and listeners (TCP here,
 * QUIC in qlisten.c).
 * Each worker has its own loop, resolver and SO_REUSEPORT listeners (Windows has no
 * SO_REUSEPORT: one worker there, lib/net.h); workers share the
 * read-only configuration, the tunnel counter (accept order), the per-host counters
 * fault keys use, the ledger
 * (lib/ledger: one line per tunnel, written whole by any thread) and the stop request. */
#ifndef TP_PROXY_SERVER_H
#define TP_PROXY_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/dns.h"
#include "lib/ledger.h"
#include "lib/listeners.h"
#include "lib/loop.h"
#include "lib/net.h"
#include "lib/url.h"
#include "proxy-under-test/fault.h"
#include "proxy-under-test/reverse.h"
#include "proxy-under-test/leg.h"

#define PROXY_MAX_LISTEN LISTENERS_MAX
#define PROXY_MAX_ALLOW 16
#define PROXY_MAX_RESOLVE 32
#define PROXY_MAX_THREADS 64
#define PROXY_KEY_SLOTS 4096 /* per-host request counters for fault keys (inject_pick) */

struct allow_net {
	struct net_addr addr;  /* network address */
	unsigned prefix;       /* bits */
};

struct proxy_resolve {
	char host[URL_MAX_HOST];
	uint16_t port;
	struct net_addr addr;  /* with its own port: HOST:PORT:ADDR[:PORT2] maps ports too */
};

struct proxy_config {
	struct net_addr listen[PROXY_MAX_LISTEN];
	size_t nlisten;
	struct net_addr quic_listen[PROXY_MAX_LISTEN]; /* --quic-listen (qlisten.h) */
	size_t nquic;
	const char *quic_cert, *quic_key; /* --quic-cert/--quic-key, or NULL: a made one */
	const char *ca_out;    /* --ca-out: the made certificate's CA, PEM */
	bool has_upstream;
	struct url upstream;
	struct fault faults[FAULT_MAX];
	size_t nfaults;
	struct allow_net allow[PROXY_MAX_ALLOW];
	size_t nallow;
	struct proxy_resolve resolve[PROXY_MAX_RESOLVE];
	size_t nresolve;
	char auth_user[256], auth_pass[256]; /* SOCKS5 RFC 1929 / Proxy-Authorization */
	bool require_auth;
	unsigned threads;      /* -t, --threads (--workers): one loop each */
	double idle_timeout_s, connect_timeout_s, handshake_timeout_s;
	const char *ledger_path;
	const char *run_id;    /* --run-id: every ledger line carries "run", or NULL */
	const char *dns_servers;
	unsigned max_clients;  /* open client connections per worker (--max-clients / threads) */
	bool no_splice;       /* --no-splice: relay tunnels through user-space buffers */
	struct reverse_config reverse; /* --reverse, --rate-limit, --breaker (reverse.h) */
	enum leg_io io;       /* --io: readiness or completion streams (leg.h) */
};

struct proxy_shared {
	const struct proxy_config *cfg;
	atomic_uint_fast64_t tunnels;   /* tunnel numbers, in accept order */
	atomic_uint_fast64_t key_seq[PROXY_KEY_SLOTS]; /* by hash of host: tunnels so far */
	struct ledger_file ledger;      /* --ledger, shared by the workers (closed: none) */
	atomic_int stopping;
	struct reverse_state reverse;   /* reverse mode's bucket, breaker and counts */
	struct qserver *quic;           /* QUIC certificate and TLS context, or NULL */
};

struct session;
struct qlisten;
struct qserver;

struct proxy_worker {
	struct proxy_shared *shared;
	const struct proxy_config *cfg;
	unsigned index;
	pthread_t thread;
	struct loop loop;
	struct dns dns;
	struct listeners listeners;      /* its own, on the configured addresses */
	struct qlisten *quic;            /* its QUIC listener (--quic-listen), or NULL */
	struct session *sessions;        /* open sessions, for draining and shutdown */
	size_t nsessions;
	size_t closing;                  /* sessions closed whose streams legs are not yet
					  * given back (leg.h) */
	bool exiting;                    /* the loop runs only to get them back */
	struct loop_timer drain_timer, exit_timer;
	uint64_t turned_away;            /* connections closed at once: max_clients reached */
};

/* True when addr is inside the --allow networks. */
bool server_allowed(const struct proxy_config *cfg, const struct net_addr *addr);
/* The --resolve override for host:port, or NULL. */
const struct net_addr *server_resolve(const struct proxy_config *cfg, const char *host,
				      uint16_t port);
/* The session list: a session is on it from accept to session_close(), then counted
 * in closing until it is freed (server_session_finished()). */
void server_add_session(struct proxy_worker *w, struct session *s);
void server_remove_session(struct proxy_worker *w, struct session *s);
/* While draining (SIGTERM): stops w's loop once no TCP session and no QUIC connection
 * is left. */
void server_check_drained(struct proxy_worker *w);
void server_session_finished(struct proxy_worker *w);

#endif
