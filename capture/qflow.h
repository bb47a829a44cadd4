/* qflow — the capture's QUIC flows: UDP datagrams grouped by address pair, recognised as
 * QUIC by their long headers (quichdr), counted per direction (datagrams, UDP payload
 * bytes, packets by type, first and last time), with what the connection's long headers
 * say (version, the connection IDs each side chose, Version Negotiation, Retry) and what
 * its Initial packets say once decrypted (quicinit): a CONNECTION_CLOSE — a refused or
 * failed handshake — and the TLS hellos (SNI).
 *
 * A flow is QUIC once a long header of a version we read (or a Version Negotiation) was
 * seen on it; UDP flows that never showed one (DNS, a QUIC flow picked up after its
 * handshake) are counted apart and listed nowhere. The client is the side that sent the
 * first Initial; a flow picked up later (midstream) takes the higher port as the
 * client's, as TCP flows do.
 *
 * Decrypting an Initial needs the whole packet: with a snaplen below the datagram's
 * size (Initials are at least 1200 bytes) the headers are still read and the Initials
 * are counted as cut.
 *
 * GSO: a capture on the sending host (lo) sees one frame per GSO send, several
 * datagrams of one size back to back. With the whole frame and the receiver's
 * connection ID known, the frame is split into its datagrams (gso_frames counts such
 * frames); a frame cut by the snaplen, or of a flow whose IDs were never seen, counts as
 * one datagram (its bytes are exact either way).
 *
 * Memory: one struct per flow (about 1.5 KB), a flow table capped at max_flows (the
 * datagrams of flows beyond it are counted, not kept), one 64 KiB scratch buffer for
 * decryption.
 */
#ifndef TP_CAPTURE_QFLOW_H
#define TP_CAPTURE_QFLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/quichdr.h"
#include "capture/quicinit.h"
#include "lib/pkt.h"
#include "lib/tlsrec.h"

#define QFLOW_MAX_PACKETS 16 /* coalesced packets read per datagram */

/* A CONNECTION_CLOSE read in an Initial. */
struct qflow_close {
	bool seen;
	bool app;              /* application close (0x1d) */
	uint64_t code, frame_type;
	char reason[128];
	double t;
};

struct qflow_dir {
	uint64_t datagrams;                    /* GSO frames split into theirs */
	uint64_t bytes;                        /* UDP payload bytes */
	uint64_t gso_frames;                   /* frames that held several datagrams */
	uint64_t packets[QUICHDR_TYPE_COUNT];  /* by type, coalesced packets each counted */
	uint64_t undecodable;                  /* datagram tails that did not read as QUIC */
	uint64_t cut;                          /* datagrams the snaplen cut inside a packet */
	double t_first, t_last;                /* 0 when none */
	uint32_t initials_opened, initials_failed, initials_cut;
	uint64_t crypto_next;                  /* Initial CRYPTO bytes read in order */
	struct tlsrec hello;                   /* ClientHello (SNI) / ServerHello */
	struct qflow_close close;              /* the first CONNECTION_CLOSE in an Initial */
};

struct qflow {
	uint8_t ip_version;
	uint8_t addr[2][16];   /* [0] client, [1] server */
	uint16_t port[2];
	bool quic;             /* a long header (or Version Negotiation) was read */
	bool midstream;        /* the first datagram was not the client's Initial */
	uint32_t version;      /* of the last long header read (0: none) */
	uint8_t odcid[QUICHDR_MAX_CIDLEN], odcidlen;   /* the DCID Initial keys come from */
	bool have_odcid;
	uint8_t client_cid[QUICHDR_MAX_CIDLEN], client_cidlen; /* the IDs each side chose */
	uint8_t server_cid[QUICHDR_MAX_CIDLEN], server_cidlen;
	bool have_client_cid, have_server_cid;
	bool version_negotiation, retry;
	bool keys_ready;
	struct quicinit_keys keys[2]; /* [0] the client's Initials, [1] the server's */
	struct qflow_dir dir[2];      /* [0] client → server, [1] server → client */
	double t_first, t_last;
	uint64_t serial;
	struct qflow *hash_next;
};

struct qflow_table {
	struct qflow **flows;     /* in order of appearance, QUIC or not */
	size_t n, cap, max_flows;
	struct qflow **buckets;
	size_t nbuckets;
	uint64_t datagrams;       /* UDP frames fed (a GSO frame is one) */
	uint64_t quic_datagrams;  /* datagrams of the flows that turned out QUIC (at the
				   * end; GSO frames split) */
	uint64_t datagrams_left_out; /* frames of flows refused: the table was full */
	uint8_t *scratch;         /* decryption buffer */
};

/* max_flows 0 means 100000. Allocates nothing until the first datagram. */
void qflow_table_init(struct qflow_table *t, size_t max_flows);
void qflow_table_free(struct qflow_table *t);

/* Feeds one UDP datagram (p->proto PKT_PROTO_UDP) seen at ts (Unix seconds). Returns
 * its flow, or NULL when it was refused (table full, out of memory). */
struct qflow *qflow_table_datagram(struct qflow_table *t, double ts, const struct pkt *p);
/* End of input: counts quic_datagrams. */
void qflow_table_finish(struct qflow_table *t);
/* QUIC flows in the table. */
size_t qflow_table_quic(const struct qflow_table *t);

/* "a.b.c.d:p" of the client (end 0) or server (end 1); out >= 64 bytes. */
char *qflow_end_format(const struct qflow *f, int end, char *out, size_t outlen);

#endif
