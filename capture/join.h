/* join — ledgers (docs/ledgers.md) joined with the capture's flows into tunnels, each
 * with a per-direction byte chain and a verdict naming the first hop where the count
 * drops.
 *
 * A tunnel is one client connection: the probe records sharing a `local` address (or,
 * without probe records, one proxy ledger line, or one origin connection). Its client
 * leg is the flow whose originator is that address; its origin leg is the flow whose
 * originator is the origin ledger's `peer` (or the proxy ledger's `upstream_local`).
 * Every input is optional: with a pcap alone each flow gets a verdict of its own; with
 * ledgers alone the origin's acknowledged bytes still locate the loss.
 */
#ifndef TP_CAPTURE_JOIN_H
#define TP_CAPTURE_JOIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "capture/flow.h"

#define JOIN_UNKNOWN (-1LL)

/* Verdict codes: stable names used in JSON (verdict_code) and exit statuses. */
enum verdict {
	V_OK = 0,
	V_TRUNC_PROXY_CLIENT,   /* the proxy sent fewer bytes to the client than it got, then FIN */
	V_RESET_BY_PROXY,       /* the proxy reset the client leg */
	V_TRUNC_ORIGIN_PROXY,   /* the origin leg ended early (FIN by the origin before its framing) */
	V_RESET_BY_ORIGIN,      /* the origin reset the origin leg */
	V_RESET_UPSTREAM_BY_PROXY, /* the proxy reset the origin leg */
	V_LOST_GAP,             /* the count drops where the capture has a gap */
	V_CLIENT_TIMEOUT,       /* everything arrived or the end never came: the client gave up */
	V_NO_FIN,               /* all bytes delivered but the proxy never signalled the end */
	V_CLIENT_SHORT_READ,    /* the wire carried more than the probe read */
	V_RESET_BY_CLIENT,      /* the client reset (gave up) */
	V_TLS_ALERT,            /* a TLS alert ended it */
	V_CLOSED_EARLY,         /* the proxy closed before sending any of the response */
	V_FAILED,               /* the probe says it failed and no hop could be named */
	V_FLOW_EARLY_FIN,       /* (a flow on its own) FIN before the bytes its framing promised */
	V_FLOW_RESET,           /* (a flow on its own) reset by one side */
	V_FLOW_TLS_TRUNCATION,  /* (a flow on its own) FIN with no close_notify / mid-record */
	V_FLOW_GAP,             /* (a flow on its own) bytes missing from the capture */
	V_UNKNOWN,              /* not enough evidence */
	V_COUNT
};

const char *verdict_code(enum verdict v);

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
	enum verdict verdict;
	long long offset;         /* the byte offset the verdict names, or -1 */
	char text[256];           /* the human verdict */
};

struct join {
	struct tunnel *t;
	size_t n;
	size_t counts[V_COUNT];
	size_t flows_in_tunnels;
};

/* Builds tunnels and verdicts. flows may be NULL (no capture). Returns 0 or -ENOMEM. */
int join_build(struct join *j, const struct ledgers *l, struct flow_table *flows);
void join_free(struct join *j);

/* A verdict for a flow that belongs to no tunnel (pcap alone), into text. */
enum verdict flow_verdict(const struct flow *f, char *text, size_t textlen, long long *offset);

#endif
