/* quichdr — what a capture can read of a QUIC packet without keys (RFC 8999, RFC 9000
 * §17): the header form, version, packet type, connection IDs, an Initial's token, and
 * where the packet ends, so packets coalesced in one datagram are walked one by one.
 *
 * Sans-I/O, no allocation: every byte is read through lib/pkt's checked readers and a
 * packet that ends early or claims impossible lengths is an error code, never a read
 * past the buffer. Short headers do not say how long their DCID is: the caller passes
 * the length it learnt from the connection's long headers (0 when it knows none).
 *
 * The fixed bit (0x40): peers may grease it once both advertised grease_quic_bit (RFC
 * 9287; ngtcp2 does), so a long header of a version we read is QUIC whatever its fixed
 * bit, and a short header needs it set only while the caller does not yet know the flow
 * is QUIC.
 */
#ifndef TP_CAPTURE_QUICHDR_H
#define TP_CAPTURE_QUICHDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define QUICHDR_MAX_CIDLEN 20
#define QUICHDR_V1 0x00000001u
#define QUICHDR_V2 0x6b3343cfu          /* RFC 9369 */
#define QUICHDR_V2_DRAFT 0x709a50c4u    /* what ngtcp2 0.12 calls v2draft */

enum quichdr_type {
	QUICHDR_INITIAL = 0,
	QUICHDR_0RTT,
	QUICHDR_HANDSHAKE,
	QUICHDR_RETRY,
	QUICHDR_VERSION_NEGOTIATION,
	QUICHDR_UNKNOWN_VERSION, /* a long header of a version we cannot read past its IDs */
	QUICHDR_SHORT,           /* 1-RTT */
	QUICHDR_TYPE_COUNT
};

enum quichdr_error {
	QUICHDR_E_TRUNCATED = -1, /* the datagram ends inside the header or the packet */
	QUICHDR_E_NOT_QUIC = -2,  /* a short header with its fixed bit clear on a flow not
				   * known as QUIC, or an empty datagram */
	QUICHDR_E_BAD = -3,       /* a connection ID longer than 20 bytes (v1, v2), a
				   * Retry without room for its tag */
};

struct quichdr {
	bool long_header;
	enum quichdr_type type;
	uint32_t version;         /* long headers; 0 for Version Negotiation and short */
	uint8_t dcid[QUICHDR_MAX_CIDLEN], scid[QUICHDR_MAX_CIDLEN];
	uint8_t dcidlen, scidlen; /* a short header's dcidlen is the caller's */
	bool ids;                 /* type, version and IDs were read: also set when the
				   * packet is QUICHDR_E_TRUNCATED after them (a snaplen cut) */
	uint64_t token_len;       /* Initial: the token's length (Retry: its token's) */
	size_t pn_offset;         /* Initial, 0-RTT, Handshake, short: where the protected
				   * packet number starts */
	size_t length;            /* bytes of this packet in the datagram: the next
				   * coalesced packet starts there */
};

/* Reads the header of the packet at p[0..len). known_quic: the flow is QUIC (a short
 * header may have its fixed bit greased). Returns 0, or a QUICHDR_E_* code. */
int quichdr_read(const uint8_t *p, size_t len, size_t short_dcidlen, bool known_quic,
		 struct quichdr *h);

/* "initial", "0rtt", "handshake", "retry", "version_negotiation", "unknown_version",
 * "short"; NULL out of range. */
const char *quichdr_type_name(enum quichdr_type t);

/* A QUIC variable-length integer (RFC 9000 §16) at p[*off..len): true with *v set and
 * *off advanced, false when it does not fit. */
bool quichdr_varint(const uint8_t *p, size_t len, size_t *off, uint64_t *v);

#endif
