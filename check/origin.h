/* origin — the check's own scripted origin: an HTTP/1.1 server on loopback, in
 * process, on one thread with its own loop (lib/loop, lib/net, lib/listeners).
 *
 * What it does per request is named by the request target (oplan.h). Everything it
 * saw is kept in a log the check reads while it runs: per connection the bytes each
 * way and how it ended (FIN or RST, from which side), per request the head exactly as
 * received (its first CORIGIN_HEAD_COPY bytes), whether the head parsed (the origin is
 * strict: bare LF, obs-fold, CL+TE and conflicting Content-Length are refused with 400
 * and recorded), the body bytes received and whether they matched, and what it sent.
 * So a check knows the exact bytes each side saw.
 *
 * Besides the HTTP listener (IPv4, plus [::1] when the host has it), a "banner"
 * listener writes CORIGIN_BANNER payload bytes as soon as a connection is accepted
 * (a server that speaks first), then reads until EOF.
 *
 * Threads: corigin_start() and corigin_stop() belong to the caller's thread; the log
 * readers below may be called from it at any time (a mutex guards the log). Memory:
 * the caller's struct, the log is a fixed ring (the oldest records are overwritten);
 * each connection costs one allocation of about 90 KiB, at most CORIGIN_MAX_CONNS.
 */
#ifndef TP_CHECK_ORIGIN_H
#define TP_CHECK_ORIGIN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "check/oplan.h"
#include "lib/listeners.h"
#include "lib/loop.h"
#include "lib/net.h"

#define CORIGIN_REQS 1024
#define CORIGIN_CONNS 1024
#define CORIGIN_HEAD_COPY 4096
#define CORIGIN_MAX_CONNS 256
#define CORIGIN_BANNER 1024
#define CORIGIN_ENDLESS (64ull << 30) /* an "endless" body stops here, whatever happens */

struct corigin_req {
	uint64_t seq;            /* 1, 2, ... in arrival order on this origin */
	uint64_t conn;           /* its connection's number */
	unsigned index;          /* its position on that connection, from 0 */
	char tag[OPLAN_MAX_TAG]; /* from the target ("" when it had none) */
	enum oplan_action action;
	char method[16];
	char head[CORIGIN_HEAD_COPY]; /* the head as received (its first bytes) */
	size_t head_len;         /* the whole head's length on the wire */
	size_t head_copied;
	int parse_err;           /* HTTP1_E_* when the head was refused, else 0 */
	uint64_t body_received;  /* request body payload bytes (decoded) */
	bool body_complete;
	long body_bad_at;        /* upload: -1, or the first wrong byte's offset */
	int status;              /* what the origin answered (0: nothing yet) */
	uint64_t resp_sent;      /* bytes of the response written */
	bool resp_complete;
};

struct corigin_conn {
	uint64_t id;             /* 1, 2, ... in accept order (0: no such connection) */
	bool banner;             /* accepted on the banner listener */
	char peer[NET_ADDRSTRLEN];
	uint64_t received, sent; /* bytes on the wire */
	unsigned requests;
	uint64_t after_fin;      /* bytes received after the origin sent its FIN */
	bool fin_received, rst_received, fin_sent, rst_sent, closed;
};

struct oconn;

struct corigin {
	struct loop loop;
	struct listeners http, http6, banner;
	struct net_addr addr, addr6, banner_addr; /* bound addresses (addr6 len 0: none) */
	pthread_t thread;
	bool started;
	atomic_bool failing;     /* gw/ answers 500 while set */
	atomic_bool stopping;
	struct oconn *conns;     /* live connections (origin thread only) */
	unsigned nconns;
	pthread_mutex_t lock;    /* guards everything below */
	struct corigin_req reqs[CORIGIN_REQS];
	uint64_t nreqs;
	struct corigin_conn log[CORIGIN_CONNS];
	uint64_t nlog;
};

/* Binds bind_addr (port 0: a free port), [::1]:0 when possible and a banner listener
 * on bind_addr's host, then starts the thread. Returns 0, or -errno with a reason in
 * err. */
int corigin_start(struct corigin *o, const struct net_addr *bind_addr, char *err, size_t errlen);
/* Stops the thread, closes every connection and listener. NULL-safe, idempotent on a
 * zero-filled or stopped origin. */
void corigin_stop(struct corigin *o);

/* Copies the requests whose tag is tag (in arrival order, the oldest first) into
 * out[0..max); returns how many there are (possibly more than max). */
size_t corigin_find(struct corigin *o, const char *tag, struct corigin_req *out, size_t max);
/* Requests whose tag starts with prefix, and how many distinct connections carried
 * them. */
void corigin_count(struct corigin *o, const char *prefix, uint64_t *requests, uint64_t *conns);
/* Copies connection id's record; false when it is not (or no longer) in the log. */
bool corigin_conn(struct corigin *o, uint64_t id, struct corigin_conn *out);
/* The number of the last connection accepted (0: none yet). */
uint64_t corigin_last_conn(struct corigin *o);
/* Waits until connection id is closed or deadline; true if it closed. */
bool corigin_wait_closed(struct corigin *o, uint64_t id, uint64_t deadline);
/* Waits until more than `after` connections were accepted, or deadline. */
bool corigin_wait_conn(struct corigin *o, uint64_t after, uint64_t deadline);
void corigin_set_failing(struct corigin *o, bool failing);

#endif
