/* oconn — one connection of the replay origin (see origin.h): reads a request head
 * (capped), plans the response (sites.c), reads and verifies a request body if any, and
 * writes the response respgen.c produces; keep-alive and pipelined requests follow on
 * the same connection. One ledger line per request. origin.c owns the options,
 * listeners and worker threads. */
#ifndef TP_REPLAY_OCONN_H
#define TP_REPLAY_OCONN_H

#include "lib/loop.h"
#include "replay/origin.h"

#define OCONN_HEAD_TIMEOUT_US 10000000u  /* a request head must arrive within 10 s (slowloris) */
#define OCONN_IDLE_TIMEOUT_US 60000000u  /* an idle keep-alive connection is closed after 60 s */
#define OCONN_MAX_REQUESTS 100000        /* per connection; the last one gets Connection: close */
#define OCONN_PACE_SLACK_US 500u         /* timed replay: a segment this close to due goes now */
#define OCONN_MAX_BODY (1ull << 40)      /* request bodies (uploads) larger than this get 413 */

/* Loop callback of a worker's listening sockets (io->data is the worker): accepts and
 * starts connections. */
void oconn_on_accept(struct loop *loop, struct loop_io *io, unsigned events);
/* Shutdown: closes the worker's connections that are idle between requests. */
void oconn_close_idle(struct origin_worker *w);
/* Closes every connection of the worker (after its loop ended). */
void oconn_close_all(struct origin_worker *w);

#endif
