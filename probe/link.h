/* link — one transport connection of the probe: resolving its first hop, its filter
 * stack (filter.h), and the requests riding on it (struct conn, conn.h).
 *
 * A TCP link carries one request at a time (HTTP/1.1 on tcp → [socks5 | http-connect]
 * → [tls]); a QUIC link carries up to --streams requests at once, one HTTP/3 stream
 * each; a tunnel through a QUIC proxy is a link like a TCP one (one request at a time,
 * HTTP/1.1) whose bottom filter is a stream of the QUIC connection its group shares
 * (quic-stream → socks5, or h3-connect; then [tls]: filter.h). Which protocol sits on the stack is the link's struct link_proto, chosen when
 * the stack is built: requests, verification and statistics never ask which it is.
 *
 * Ownership: a struct link is caller memory (in a struct conn, or the worker's QUIC
 * links); link_init/link_free. Requests attach with link_attach() and leave with
 * link_detach(); the link never frees a request. A link that fails while connecting
 * ends every request waiting on it (conn_link_failed) — or, for a QUIC attempt with
 * --http3, hands them to TCP (conn_fall_back).
 */
#ifndef TP_PROBE_LINK_H
#define TP_PROBE_LINK_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/dns.h"
#include "lib/loop.h"
#include "lib/net.h"
#include "probe/config.h"
#include "probe/filter.h"
#include "probe/stats.h"

struct conn;
struct probe_worker;
struct pf_quic;
struct h3_event;

enum link_state {
	LINK_FREE = 0,     /* nothing open */
	LINK_RESOLVING,    /* DNS for the first hop (or a socks5:// destination) */
	LINK_CONNECTING,   /* the stack's filters connect, bottom up; phase says where */
	LINK_UP,           /* connected: requests ride on it */
};

/* The protocol on top of a stack: HTTP/1.1 (exchange.c) or HTTP/3 (h3x.c). */
struct link_proto {
	const char *name;                  /* records' "proto": "http/1.1", "h3" */
	/* Sends c's request (c->link is up). Ends through conn_finish() later. */
	void (*begin)(struct conn *c);
	/* The link's socket is ready for c's request (TCP links). */
	void (*ready)(struct conn *c);
	/* c's request ended: let go of what it holds on the link (an HTTP/3 stream). */
	void (*detach)(struct conn *c);
	/* An HTTP/3 stream event (QUIC links). */
	void (*stream_event)(struct link *l, const struct h3_event *ev);
	/* The peer allows more streams: parked requests may go (QUIC links). */
	void (*streams_available)(struct link *l);
};

struct link {
	struct probe_worker *w;
	enum link_state state;
	enum tp_phase phase;          /* while connecting: the phase (dns, connect, proxy, tls) */
	uint64_t deadline_us;         /* while connecting: the phase's deadline */
	uint64_t opened_us;           /* when the connection was begun */
	bool quic;                    /* the stack is QUIC (else TCP) */
	unsigned max_users;           /* requests at once: 1, or --streams on a QUIC link */
	const struct probe_target *target; /* what it is connected for */
	const struct link_proto *proto;
	struct pf *stack[4];          /* bottom first */
	unsigned nstack, nconnected;  /* filters, and how many of them are connected */
	struct pf *top;               /* the exchange reads and writes here (once up) */
	struct pf *connecting;        /* the filter connecting now */
	bool deferred_fail;           /* failed while a request was starting: err is
				       * reported from the loop (a run of instant failures
				       * must not recurse) */
	struct pf_error err;          /* why it failed, from the filter that saw it */
	unsigned nusers;              /* requests riding on it now */
	struct conn *users;           /* those requests (conn.link_next) */
	unsigned requests_done;       /* completed on this connection */
	char fallback[120];           /* a TCP link opened because QUIC failed: why (records
				       * of requests it carries later say so too), else "" */
	char opener_id[72];           /* X-Probe-Id of the request it was opened for: the
				       * CONNECT carries it, so a proxy can name the tunnel */
	char local_s[NET_ADDRSTRLEN], remote_s[NET_ADDRSTRLEN];
	struct tp_quic_facts quic_facts; /* a tunnel on a QUIC stream: what the stream saw */

	/* Resolving and the TCP socket. */
	int fd;                       /* TCP stacks: the socket, watched by io; else -1 */
	struct loop_io io;
	struct dns_query *dnsq;
	struct net_addr remote;       /* the first hop: proxy or origin */
	struct net_addr socks_dst;    /* socks5:// with local resolution: the origin */
	bool socks_dst_resolved, remote_ready, resolving_dst;

	/* The filters' memory. */
	struct pf_tcp tcp;
	struct pf_tls tls;
	struct pf_quic *quic_f;       /* a QUIC connection's (filter_quic.c); it frees itself
				       * once closed, when ngtcp2 is no longer on the stack */
	struct pf_qstream *qstream;   /* a tunnel through a QUIC proxy: allocated by the first,
				       * kept (its receive ring is the stream's window) */
	struct pf_quic **carrier_slot; /* the QUIC connection to the proxy this link's tunnels
					* share (its group's), or NULL: no QUIC proxy */
	struct pf_proxy *proxy;       /* allocated by the first proxied connection, kept: its
				       * 18 KiB of buffers stay out of every slot's pages */
};

void link_init(struct link *l, struct probe_worker *w);
/* link_close, and what it keeps across connections. NULL-safe. */
void link_free(struct link *l);

/* True when a request for t may ride on l now or once it is up: l is connecting or up
 * for an equivalent target (same origin and dial address, same proxy path), over QUIC
 * when quic, with room for one more request. */
bool link_fits(const struct link *l, const struct probe_target *t, bool quic);
/* Equivalent targets: one connection may carry requests for both. */
bool link_same_target(const struct probe_target *a, const struct probe_target *b);

/* Puts c's request on l: opens l for c's target first when it is free (over QUIC when
 * quic), waits when it is connecting, starts the request when it is up. */
void link_attach(struct link *l, struct conn *c, bool quic);
/* c's request ended (its record is final): c leaves l. keep: the request allows the
 * connection to carry more; l is closed when it may not, or when nothing rides on a
 * link that must not be kept. */
void link_detach(struct link *l, struct conn *c, bool keep);
/* Closes the stack and forgets the connection; requests still attached are left
 * attached (callers detach them first). Safe inside QUIC callbacks. */
void link_close(struct link *l);

/* ---- for the filters ---- */

/* Drives connecting after an event: each filter from the bottom up, until one waits or
 * fails; when all are connected the requests start. */
void link_step(struct link *l);
/* Moves the connecting deadline (the requests waiting are re-armed). */
void link_set_deadline(struct link *l, uint64_t due_us);
/* The connection moved on to phase next: the requests' times for the phase just done,
 * and their deadline for the next. */
void link_phase(struct link *l, enum tp_phase next);
/* A connecting deadline passed (from a waiting request's timer). */
void link_deadline(struct link *l);
/* The transport ended while up (a QUIC connection closed): requests still riding on it
 * end with l->err, the link is closed. */
void link_lost(struct link *l);
/* The socket events of a TCP link (after -EAGAIN from its top filter). */
void link_watch(struct link *l, unsigned events);
/* Something happened below the top filter that no socket signals (a QUIC stream's
 * event): connecting goes on, or the request riding on it reads and writes. */
void link_wake(struct link *l);
/* True when a proxy tunnel filter is in the stack. */
bool link_tunneled(const struct link *l);

#endif
