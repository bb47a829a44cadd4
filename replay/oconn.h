/* oconn — one connection of the replay origin (see origin.h): reads a request head
 * (capped), plans the response (sites.c), reads and verifies a request body if any, and
 * writes the response respgen.c produces; keep-alive and pipelined requests follow on
 * the same connection. origin.c owns the options, listeners and worker threads. */
#ifndef TP_REPLAY_OCONN_H
#define TP_REPLAY_OCONN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/ledger.h"
#include "lib/loop.h"
#include "lib/net.h"
#include "lib/tlsserv.h"
#include "replay/recording.h"
#include "replay/sites.h"

#define MAX_LISTEN 8
#define MAX_WORKERS 64
#define OCONN_HEAD_TIMEOUT_US 10000000u  /* a request head must arrive within 10 s (slowloris) */
#define OCONN_IDLE_TIMEOUT_US 60000000u  /* an idle keep-alive connection is closed after 60 s */
#define MAX_REQUESTS_PER_CONN 100000
#define OCONN_PACE_SLACK_US 500u         /* timed replay: a segment this close to due goes now */

enum ofault_kind { OF_NONE, OF_TRUNCATE, OF_RST, OF_STALL, OF_SLOW_HEADERS };

struct origin_cfg {
	struct net_addr listen[MAX_LISTEN];
	bool listen_tls[MAX_LISTEN];
	size_t nlisten;
	unsigned threads;
	const char *ca_out, *ledger_path, *sites_path;
	struct sites sites;
	struct recording *recording; /* --replay, or NULL */
	bool replay_timing;          /* --replay-timing: recorded segment sizes and gaps */
	enum ofault_kind fault;
	uint64_t fault_n;
};

struct origin_shared {
	const struct origin_cfg *cfg;
	struct tlsserv tls;
	bool tls_ready;
	struct ledger_file ledger;   /* --ledger, shared by the workers (closed: none) */
	atomic_uint_fast64_t conns;
	atomic_int stopping;
};

struct oworker {
	struct origin_shared *sh;
	pthread_t thread;
	struct loop loop;
	int listen_fd[MAX_LISTEN];
	struct loop_io listen_io[MAX_LISTEN];
	size_t nlisten;
	struct oconn *conns;
	size_t nconns;
	uint8_t scratch[65536];
};

struct oconn;

/* Loop callback of a worker's listening sockets: accepts and starts connections. */
void oconn_on_accept(struct loop *loop, struct loop_io *io, unsigned events);
/* Shutdown: closes the worker's connections that are idle between requests. */
void oconn_close_idle(struct oworker *w);
/* Closes every connection of the worker (after its loop ended). */
void oconn_close_all(struct oworker *w);

#endif
