/* flow — the capture's TCP flow table: per flow and direction, reassembly (lib/tcpreasm),
 * HTTP framing (httpscan) and TLS records (lib/tlsrec), Zeek-compatible conn_state and
 * history, and our own flags (early FIN, who reset, gaps).
 *
 * Memory is bounded by the number of flows, not by the capture: a flow's buffers are
 * released as soon as it is closed (both FINs or a RST), and the table refuses new flows
 * beyond max_flows. Refused flows are counted once each (flows_left_out, by a set of
 * their keys capped at FLOW_LEFT_OUT_KEYS; past it every SYN counts as one and
 * left_out_exact turns false), their segments in segments_left_out. Flows are heap
 * objects that never move, so the reassembly callbacks can keep pointers to them.
 */
#ifndef TP_CAPTURE_FLOW_H
#define TP_CAPTURE_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/httpscan.h"
#include "lib/pkt.h"
#include "lib/tcpreasm.h"
#include "lib/tlsrec.h"

/* Zeek's endpoint states. */
enum flow_ep_state {
	EP_INACTIVE = 0,
	EP_SYN_SENT,
	EP_SYN_ACK_SENT,
	EP_PARTIAL,
	EP_ESTABLISHED,
	EP_CLOSED,
	EP_RESET,
};

enum {
	FLOW_F_PARTIAL = 1u << 0,      /* picked up midstream (no SYN seen) */
	FLOW_F_EARLY_FIN = 1u << 1,    /* a FIN before the bytes the framing (or a ledger) expects */
	FLOW_F_RST_BY_ORIG = 1u << 2,
	FLOW_F_RST_BY_RESP = 1u << 3,
	FLOW_F_RST_AFTER_FIN = 1u << 4,
	FLOW_F_GAP = 1u << 5,          /* bytes missing from the capture */
	FLOW_F_TLS_TRUNCATION = 1u << 6, /* a FIN with no close_notify, or inside a record */
	FLOW_F_OVERLAP_DIFFERS = 1u << 7, /* a retransmission carried different bytes */
};

struct flow;

struct flow_dir {
	struct flow *flow;
	int index;                /* 0: originator → responder, 1: the reverse */
	struct tcpreasm r;
	struct tlsrec tls;
	struct httpscan http;
	enum flow_ep_state state;
	uint64_t packets;
	uint64_t wire_payload;    /* payload bytes on the wire, retransmissions included */
	uint64_t zero_windows, bad_csum;
	uint64_t acked;           /* highest offset of this stream the other side ACKed */
	bool acked_valid;
	int8_t wscale;
	double fin_t, rst_t;      /* 0 when none */
	bool early_fin;           /* FIN before the end its HTTP framing promised */
	uint64_t early_fin_expected; /* that end (UINT64_MAX: chunked, unknown) */
	enum tlsrec_close tls_close; /* judged at FIN/RST */
	bool tls_truncated;       /* closed first, without close_notify or mid-record */
	uint32_t hist_n[4];       /* occurrences of c, g, t, w (for Zeek's 1, 10, 100... rule) */
	uint64_t hist_retrans_seen;
};

struct flow {
	uint8_t ip_version;
	uint8_t addr[2][16];      /* [0] originator, [1] responder */
	uint16_t port[2];
	struct flow_dir dir[2];
	double t_first, t_last;
	double t_syn, t_synack, t_ack; /* handshake, 0 when not seen */
	char history[48];
	uint8_t hist_len;
	uint32_t hist_once;       /* letters already recorded, per direction */
	bool flipped;             /* the first packet seen came from the responder */
	bool closed;              /* both FINs or a RST seen */
	double t_closed;
	bool finished;            /* flow_finish() ran */
	uint32_t flags;           /* FLOW_F_* (final after flow_finish) */
	uint64_t serial;          /* order of appearance */
	struct flow *hash_next;
};

/* About 2.3 KB of state per flow (struct flow and allocator overhead, measured): the
 * default keeps a table of SYN-only flows near 230 MB, leaving room under 512 MB for
 * the ledgers, the join and open flows' reassembly buffers. */
#define FLOW_DEFAULT_MAX 100000
#define FLOW_LEFT_OUT_KEYS (1u << 21) /* 16 MiB of keys of refused flows, at most */

struct flow_table {
	struct flow **flows;      /* in order of appearance */
	size_t n, cap, max_flows;
	struct flow **buckets;
	size_t nbuckets;
	struct tcpreasm_limits lim;
	uint64_t flows_left_out;  /* flows refused beyond max_flows, each counted once */
	uint64_t segments_left_out; /* their segments */
	bool left_out_exact;      /* false once the key set was full (then SYNs are counted) */
	uint64_t *left_out_keys;  /* open addressing, 0 = empty slot */
	size_t left_out_cap, left_out_n;
	uint64_t segments;        /* TCP segments fed */
	uint64_t bad_csum;
	struct flow **closed;     /* closed flows in closing order, swept from closed_head */
	size_t nclosed, closed_cap, closed_head;
};

/* max_flows 0 means FLOW_DEFAULT_MAX. lim may be NULL. Returns 0 or -ENOMEM. */
int flow_table_init(struct flow_table *t, size_t max_flows, const struct tcpreasm_limits *lim);
void flow_table_free(struct flow_table *t);

/* Feeds one decoded TCP segment seen at time ts (Unix seconds). Returns the flow it
 * belongs to, or NULL when refused (table full or out of memory). */
struct flow *flow_table_segment(struct flow_table *t, double ts, const struct pkt *p);

/* End of input: finishes reassembly of every flow and computes final flags. */
void flow_table_finish(struct flow_table *t);

/* Zeek's conn_state for a flow ("S0", "SF", "REJ", ...). */
const char *flow_conn_state(const struct flow *f);
/* "a.b.c.d:p" of the originator (end 0) or responder (end 1). out >= 64 bytes. */
char *flow_end_format(const struct flow *f, int end, char *out, size_t outlen);
/* The delivered stream length of a direction (bytes before its FIN when one was seen). */
uint64_t flow_dir_bytes(const struct flow_dir *d);
/* Bytes of the direction the other side acknowledged (FIN's sequence excluded). */
uint64_t flow_dir_acked(const struct flow_dir *d);

#endif
