/* join — ledgers (docs/ledgers.md) joined with the capture's flows into tunnels and
 * requests, each with a per-direction byte chain, and a verdict (made by capture/judge)
 * naming the first hop where the count drops.
 *
 * A tunnel is one client connection: the probe records sharing a `local` address (or,
 * without probe records, the proxy ledger lines sharing a `client_peer`). Each probe
 * record is a request of its tunnel, joined on its own: the origin ledger line with its
 * id (and the line that ended that origin connection), and the proxy ledger line with
 * its id when the proxy logs one line per forwarded request. A CONNECT/SOCKS5 proxy line
 * belongs to the tunnel (by `client_peer`), as do the capture's flows: the client leg is
 * the flow whose originator is the tunnel's local address, the origin leg the flow whose
 * originator is the origin ledger's `peer` (or the proxy ledger's `upstream_local`).
 *
 * Every input is optional: with a pcap alone each flow gets a verdict of its own; with
 * ledgers alone the origin's written and acknowledged bytes still locate a loss.
 *
 * Memory: the join allocates its tunnels, requests and one verdict per failed request
 * once, sized from the ledgers; it points into the ledgers, which must outlive it.
 */
#ifndef TP_CAPTURE_JOIN_H
#define TP_CAPTURE_JOIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/flow.h"
#include "capture/qflow.h"
#include "capture/judge.h"
#include "capture/ledgers.h"
#include "lib/verdict.h"


/* What a leg carried as TCP stream bytes (after any CONNECT/SOCKS reply; TLS records
 * included), JOIN_UNKNOWN without a witness. */
struct chain_wire {
	long long origin_acked;   /* origin ledger: TCP bytes its peer acknowledged (the
				   * connection's, TLS handshake included) */
	long long origin_leg;     /* capture */
	long long proxy_received, proxy_sent; /* proxy ledger */
	long long client_leg;     /* capture */
};

/* Per direction: what each hop saw, JOIN_UNKNOWN where there is no evidence. The hops
 * count application bytes (HTTP messages as written and read, inside TLS); a leg or a
 * proxy count is there only when it counts the same (plain HTTP on that leg), and in
 * `wire` always. In `up`, origin_wrote is what the origin read and probe what the probe
 * sent. */
struct chain {
	long long expected;       /* body bytes the probe expected (decoded) */
	long long probe_body;     /* body bytes the probe read (decoded) */
	long long origin_wrote;
	long long origin_leg;
	long long proxy_received, proxy_sent;
	long long client_leg;
	long long probe;          /* message bytes the probe read (down) or sent (up) */
	struct chain_wire wire;
};

/* One probe request, joined. */
struct jrequest {
	const struct jprobe *probe;
	const struct jorigin *origin;     /* the origin's line with this id, or NULL */
	const struct jorigin *origin_end; /* the line that ended that origin connection (may be
					   * origin itself), or NULL while it was open */
	const struct jproxy *proxy;       /* the proxy's line for this request (forward), or NULL */
	bool origin_covered;              /* the origin ledger holds this run's lines */
	bool origin_later;                /* ... and one of a request that started after this
					   * one ended: a line missing for it is not just late */
	struct chain down, up;
	struct tp_verdict *verdict;       /* failed requests only (NULL: ok) */
};

struct tunnel {
	char id[96];              /* first probe id (or the proxy line's), or "" */
	char local[64];           /* the client connection's local address */
	size_t first, nrequests;  /* its requests: join.req[first, first + nrequests) */
	size_t nfailed;
	const struct jrequest *deciding; /* the first failed request, or NULL */
	const struct jprobe *first_failed;
	const struct jorigin *origin;     /* the origin line of the deciding (or last) request */
	const struct jorigin *origin_end;
	const struct jproxy *proxy;       /* the tunnel's CONNECT/SOCKS5 line, or the deciding
					   * (else last) request's forward line */
	size_t first_proxy, nproxy;       /* without probe records: its proxy lines, as
					   * indexes into join.proxy_order */
	struct flow *client_flow, *origin_flow;
	struct qflow *quic_flow;  /* HTTP/3 records: the QUIC flow from their local address */
	struct chain down, up;    /* totals over its requests; wire counts of the connection */
	struct tp_verdict verdict; /* the deciding request's, else the connection's own */
};

/* What the join was given: the judge says which missing evidence would have named a hop. */
struct join_inputs {
	bool origin_ledger, proxy_ledger, capture;
};

struct join {
	struct tunnel *t;
	size_t n;
	struct jrequest *req;     /* every probe record, grouped by tunnel */
	size_t nreq;
	struct tp_verdict *verdicts; /* one per failed request */
	size_t nverdicts;
	const struct jproxy **proxy_order; /* proxy lines no request claimed, by client_peer */
	size_t nproxy_order;
	struct join_inputs in;
	size_t counts[TP_V_COUNT]; /* tunnels per verdict code */
	size_t flows_in_tunnels;
};

/* Builds tunnels, requests and verdicts. flows may be NULL (no capture). Returns 0 or
 * -ENOMEM (j is then empty; join_free is still safe). */
int join_build(struct join *j, const struct ledgers *l, struct flow_table *flows);
void join_free(struct join *j);
/* Gives each tunnel of HTTP/3 records (proto "h3") the QUIC flow whose client is its
 * local address (the latest that started by its first request + 1 s). Returns 0 or
 * -ENOMEM (tunnels are then left without). */
int join_quic(struct join *j, const struct qflow_table *q);

#endif
