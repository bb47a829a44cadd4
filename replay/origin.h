/* origin — `tunnelprobe origin`: the replay origin. HTTP/1.1 over TCP and TLS, HTTP/3 over
 * QUIC, on loopback, answering from site files or built-in paths with deterministic payloads
 * (X-Tp-Seed / X-Tp-Length), with a server-side ledger of every request, and
 * origin-side faults to tell origin faults from proxy faults (docs/origin.md).
 *
 * origin.c owns the options, the listeners and the worker threads; each connection is
 * oconn.c's, or with --quic-listen oquic.c's (HTTP/3, its streams in ostream.c). Every
 * worker has its own loop and SO_REUSEPORT listeners (TCP and UDP); workers share
 * the read-only configuration, the TLS context, the ledger (lib/ledger: whole lines
 * from any thread), the connection counter and the stop request.
 */
#ifndef TP_REPLAY_ORIGIN_H
#define TP_REPLAY_ORIGIN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/ledger.h"
#include "lib/listeners.h"
#include "lib/loop.h"
#include "lib/net.h"
#include "lib/tlsserv.h"
#include "replay/recording.h"
#include "replay/sites.h"

#define ORIGIN_MAX_LISTEN LISTENERS_MAX
#define ORIGIN_MAX_THREADS 64

/* Origin-side faults (--fault NAME:PARAM=N): truncate, rst and stall cut each
 * connection after N response bytes written (FIN, RST, or silence); slow-headers holds
 * each response back N ms. */
enum origin_fault_kind {
	ORIGIN_FAULT_NONE = 0,
	ORIGIN_FAULT_TRUNCATE,
	ORIGIN_FAULT_RST,
	ORIGIN_FAULT_STALL,
	ORIGIN_FAULT_SLOW_HEADERS,
	ORIGIN_FAULT_COUNT
};

struct origin_config {
	struct net_addr listen[ORIGIN_MAX_LISTEN];
	bool listen_tls[ORIGIN_MAX_LISTEN];
	size_t nlisten;
	struct net_addr quic_listen[ORIGIN_MAX_LISTEN]; /* --quic-listen: HTTP/3 (oquic.c) */
	size_t nquic;
	size_t quic_max_udp_payload; /* --quic-max-udp-payload, 0: lib/quic's default (1452) */
	unsigned threads;            /* -t, --threads: one loop each */
	const char *ca_out, *ledger_path, *sites_path;
	const char *run_id;          /* --run-id: every ledger line carries "run", or NULL */
	struct sites sites;
	struct recording *recording; /* --replay, or NULL */
	bool replay_timing;          /* --replay-timing: recorded segment sizes and gaps */
	enum origin_fault_kind fault;
	uint64_t fault_n;            /* its parameter: bytes, or ms for slow-headers */
};

struct origin_shared {
	const struct origin_config *cfg;
	struct tlsserv tls;
	bool tls_ready;
	struct ledger_file ledger;   /* --ledger, shared by the workers (closed: none) */
	atomic_uint_fast64_t conns;  /* serial numbers of connections, TCP and QUIC */
	atomic_int stopping;
	struct oquic_shared *quic;   /* --quic-listen: credentials and secrets, or NULL */
};

struct oconn;
struct oquic;
struct oquic_shared;

struct origin_worker {
	struct origin_shared *sh;
	pthread_t thread;
	struct loop loop;
	struct listeners listeners;  /* its own, on the configured addresses */
	struct oconn *conns;         /* open TCP connections (oconn.c) */
	size_t nconns;               /* open connections, TCP and QUIC: the worker stops
				      * after SIGTERM once this is 0 */
	struct oquic *quic;          /* its QUIC sockets and connections (oquic.c), or NULL */
};

/* Exit 0 after SIGTERM/SIGINT, 2 for bad usage, a bad site file or recording, or when
 * it cannot start (ledger, TLS, loop, listener or thread: a message says which). */
int origin_main(int argc, char **argv);
/* The --fault name of a kind ("truncate", "rst", "stall", "slow-headers"); NULL for
 * ORIGIN_FAULT_NONE or a value out of range. */
const char *origin_fault_name(enum origin_fault_kind kind);

#endif
