/* worker — one probe thread: an event loop, a resolver, its share of the connections,
 * and its own statistics. Workers share only the read-only configuration, the
 * records sink (a mutex-guarded file, written a buffer at a time) and a stop request.
 * worker.c decides which request each connection (conn.h) carries next: closed loop,
 * or open loop at a fixed rate.
 */
#ifndef TP_PROBE_WORKER_H
#define TP_PROBE_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/dns.h"
#include "lib/http1.h"
#include "lib/loop.h"
#include "lib/tls.h"
#include "probe/config.h"
#include "probe/conn.h"
#include "probe/stats.h"

struct probe_worker;

/* --http3: a worker's UDP buffers, shared by its QUIC connections (filter_quic.c). */
#define PROBE_UDP_RX_BUFS 8       /* datagrams (or GRO runs) per recvmmsg */
#define PROBE_UDP_RX_SIZE 65536   /* room for a GRO run */
#define PROBE_UDP_TX_SIZE 65536   /* one GSO batch */

struct slot_plan {
	unsigned first_url, stride, nurls; /* the URLs this slot serves, round robin */
	unsigned cursor;
	uint64_t left;                  /* requests still to start (UINT64_MAX: until -d ends) */
	uint64_t started;               /* requests this slot started */
	/* Per-target sequence numbers: of the `serving` slots that serve a URL this slot
	 * takes every serving-th number from `rank` on, so the numbers of a URL are
	 * unique and, with -n, exactly 0..N-1, whatever the timing. */
	unsigned serving, rank;
};

struct probe_worker {
	const struct probe_config *cfg;
	unsigned index;
	pthread_t thread;
	struct loop loop;
	struct dns dns;
	bool dns_ready;
	struct conn *conns;             /* request slots: connections x --streams */
	struct slot_plan *plans;
	unsigned nconns;                /* slots */
	struct link *groups;            /* --http3: one QUIC link per connection, shared by
					 * its --streams slots (slot i: group i / streams) */
	unsigned ngroups;
	struct pf_quic **carriers;      /* a QUIC proxy: per group of --streams slots, the QUIC
					 * connection their tunnels share (NULL until opened) */
	unsigned ncarriers;
	uint8_t *udp_rx, *udp_tx;       /* --http3, a QUIC proxy */
	double wall_start;              /* Unix seconds at start_us: records' t without a
					 * clock call per request */
	unsigned inflight;              /* connections with a request in flight */
	unsigned plans_left;            /* closed loop: connections with requests left */

	/* Open loop: this worker starts global request numbers i = index + k * threads at
	 * start + i * 1e6 / rate us; number i is request i / urls of URL i % urls. */
	bool open_loop;
	uint64_t ol_next;               /* k of the next request to start */
	uint64_t ol_count;              /* how many this worker starts (UINT64_MAX: -d) */
	uint64_t ol_due;                /* k of the first request not yet due: how many came due */
	struct loop_timer ol_timer;

	uint64_t start_us, end_us;      /* end_us: -d deadline (0: none) */
	struct loop_timer end_timer;
	bool stopping;                  /* start nothing new */
	int rc;

	struct probe_stats stats;
	uint8_t scratch[65536];         /* upload bodies and gzip output */
	uint8_t scratch_in[65536];      /* body reads */

	char *records_buf;              /* pending --records lines */
	size_t records_len;
	FILE *records;
	pthread_mutex_t *records_lock;

	_Atomic uint64_t progress_done, progress_failed;
	atomic_int abort_requested;
	atomic_int finished;            /* worker_run() returned */
};

/* Prepares worker index of cfg->threads (allocates its connections). start_us and
 * wall_start are the run's start on the loop clock and in Unix seconds. Returns 0 or
 * -ENOMEM. */
int worker_init(struct probe_worker *w, const struct probe_config *cfg, unsigned index,
		uint64_t start_us, double wall_start, FILE *records, pthread_mutex_t *records_lock);
void worker_free(struct probe_worker *w);
/* The thread body: runs until its share of the work is done or it is aborted. */
void *worker_run(void *arg);
/* Thread-safe (and async-signal-safe): stop starting requests, abandon those in flight. */
void worker_abort(struct probe_worker *w);

/* ---- worker.c, used by conn.c ---- */

/* A request ended (its record is filled): count it, write it, and give the
 * connection its next request or park it. */
void worker_request_done(struct probe_worker *w, struct conn *c);
/* An idle kept-alive connection closed (the server's choice): nothing to count. */
void worker_conn_closed_idle(struct probe_worker *w);

#endif
