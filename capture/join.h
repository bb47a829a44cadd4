/* join — ledgers (docs/ledgers.md) joined with the capture's flows into tunnels, each
 * with a per-direction byte chain and a verdict naming the first hop where the count
 * drops.
 *
 * A tunnel is one client connection: the probe records sharing a `local` address (or,
 * without probe records, one proxy ledger line, or one origin connection). Its client
 * leg is the flow whose originator is that address; its origin leg is the flow whose
 * originator is the origin ledger's `peer` (or the proxy ledger's `upstream_local`).
 * Every input is optional: with a pcap alone each flow gets a verdict of its own; with
 * ledgers alone the origin's acknowledged bytes still locate the loss. Every verdict is
 * made here, as data (lib/verdict.h) listing the facts it used; nothing downstream
 * reads its sentence.
 */
#ifndef TP_CAPTURE_JOIN_H
#define TP_CAPTURE_JOIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "capture/flow.h"
#include "lib/verdict.h"

#define JOIN_UNKNOWN (-1LL)

/* One ledger line of each kind, the fields the join needs. */
struct jprobe {
	char id[96], local[64], remote[64], cls[32], phase[16], detail[160];
	long long expected, received, wire_received, sent;
	double t;
	int status;
};

struct jorigin {
	char id[96], peer[64], local[64], end[16];
	long long bytes_written, bytes_received, body_bytes, acked_close, acked_after;
	bool rst_received, fin_sent;
	double t;
};

struct jproxy_dir {
	long long received, sent, short_sends, dropped;
};

struct jproxy {
	char id[96], kind[16], client_peer[64], client_local[64], upstream_local[64],
		upstream_peer[64], first_close[16], client_end[16], upstream_end[16], fault[96];
	struct jproxy_dir down, up;
	bool shut_client, shut_upstream;
	double t;
};

struct ledgers {
	struct jprobe *probe;
	size_t nprobe, probe_cap;
	struct jorigin *origin;
	size_t norigin, origin_cap;
	struct jproxy *proxy;
	size_t nproxy, proxy_cap;
	uint64_t bad_lines;     /* lines that were not JSON objects of a known kind */
};

void ledgers_init(struct ledgers *l);
void ledgers_free(struct ledgers *l);
/* Reads one ledger file (JSON Lines of any of the three kinds, or a run.json whose
 * "failures" are probe records). Returns 0 or -errno; unknown lines are counted. */
int ledgers_load(struct ledgers *l, const char *path);
/* Adds one parsed line (tests use this). Returns true when it was a known kind. */
bool ledgers_add(struct ledgers *l, json_t *obj);

/* Per direction: what each hop saw, JOIN_UNKNOWN where there is no evidence. */
struct chain {
	long long expected;       /* body bytes the probe expected */
	long long origin_wrote;   /* origin ledger bytes_written (or received, upstream) */
	long long origin_leg;     /* capture: tunnel bytes on the origin leg */
	long long proxy_received, proxy_sent; /* proxy ledger */
	long long client_leg;     /* capture: tunnel bytes on the client leg (after the
				   * proxy's own CONNECT/SOCKS reply) */
	long long probe_read;     /* probe: body bytes read (down) / sent (up) */
};

struct tunnel {
	char id[96];              /* first probe id, or "" */
	char local[64];           /* the client connection's local address */
	size_t nrequests, nfailed;
	const struct jprobe *first_failed;
	const struct jorigin *origin; /* last origin line of the tunnel */
	const struct jproxy *proxy;
	struct flow *client_flow, *origin_flow;
	struct chain down, up;
	struct tp_verdict verdict; /* made by join_build from the evidence above */
};

struct join {
	struct tunnel *t;
	size_t n;
	size_t counts[TP_V_COUNT]; /* tunnels per verdict code */
	size_t flows_in_tunnels;
};

/* Builds tunnels and verdicts. flows may be NULL (no capture). Returns 0 or -ENOMEM. */
int join_build(struct join *j, const struct ledgers *l, struct flow_table *flows);
void join_free(struct join *j);

/* The verdict for a flow on its own (pcap alone, or a tunnel's client flow when nothing
 * else decided), into *v: early_fin, reset, gap, tls_alert, tls_truncation or ok, with
 * the side that did it as the direction (down: the responder). Returns v->code. */
enum tp_verdict_code flow_verdict(const struct flow *f, struct tp_verdict *v);

#endif
