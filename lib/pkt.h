/* pkt — sans-I/O packet decoding: link layer → IPv4/IPv6 → a TCP segment view (or, with
 * pkt_parse_ip(), a UDP datagram view: QUIC captures).
 *
 * Every byte of a captured frame is read through bounds-checked readers (the tcpdump
 * habit): a frame that ends early, claims absurd lengths or uses a protocol we do not
 * follow yields a classified PKT_E_* code, never an out-of-bounds read. Nothing here
 * allocates, does I/O or keeps state between calls; the view points into the caller's
 * frame buffer and is valid as long as that buffer is.
 *
 * Byte accounting uses the IP header's lengths, not the captured length, so a capture
 * with a small snaplen still counts every payload byte; `payload_cap` says how many of
 * them were actually captured (payload bytes beyond it are absent from the frame).
 */
#ifndef TP_PKT_H
#define TP_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Link types (pcap LINKTYPE_* numbers; the DLT_* aliases libpcap reports for the
 * same formats are accepted too, see pkt_link_supported()). */
enum {
	PKT_LINK_NULL = 0,          /* BSD loopback: 4-byte host-order address family */
	PKT_LINK_EN10MB = 1,        /* Ethernet (Linux lo too, zeroed MACs) */
	PKT_LINK_RAW = 101,         /* raw IPv4/IPv6 (DLT_RAW is 12, or 14 on OpenBSD) */
	PKT_LINK_LOOP = 108,        /* OpenBSD loopback: 4-byte network-order family */
	PKT_LINK_LINUX_SLL = 113,   /* Linux "any", v1 cooked header (16 bytes) */
	PKT_LINK_IPV4 = 228,
	PKT_LINK_IPV6 = 229,
	PKT_LINK_LINUX_SLL2 = 276,  /* Linux "any", v2 cooked header (20 bytes) */
};

/* Results of pkt_parse(): 0 for a TCP segment, else one of these (negative). */
enum pkt_error {
	PKT_E_TRUNCATED = -1,  /* the captured frame ends inside a link/IP/TCP header */
	PKT_E_LINKTYPE = -2,   /* link type not supported */
	PKT_E_NOT_IP = -3,     /* link layer carries something else (ARP, ...) */
	PKT_E_NOT_TCP = -4,    /* IP carries something else (UDP, ICMP, ...); for
				* pkt_parse_ip(): neither TCP nor UDP */
	PKT_E_BAD_IP = -5,     /* IP version/header length/total length inconsistent */
	PKT_E_BAD_TCP = -6,    /* TCP data offset < 5 or beyond the IP payload */
	PKT_E_FRAGMENT = -7,   /* an IP fragment (not reassembled; counted) */
	PKT_E_BAD_UDP = -8,    /* UDP length under 8 or beyond the IP payload */
};
#define PKT_E_COUNT 8

/* IP protocol numbers of what pkt_parse_ip() decodes. */
enum { PKT_PROTO_TCP = 6, PKT_PROTO_UDP = 17 };

/* TCP flag bits as on the wire. */
enum {
	PKT_FIN = 0x01,
	PKT_SYN = 0x02,
	PKT_RST = 0x04,
	PKT_PSH = 0x08,
	PKT_ACK = 0x10,
	PKT_URG = 0x20,
	PKT_ECE = 0x40,
	PKT_CWR = 0x80,
};

/* Checksum verdicts. Loopback traffic captured before the NIC fills the checksum in
 * (offload) shows as BAD: callers count it and keep the packet. */
enum pkt_csum {
	PKT_CSUM_UNCHECKED = 0, /* segment not fully captured, or checking disabled */
	PKT_CSUM_OK,
	PKT_CSUM_BAD,
};

struct pkt {
	uint8_t ip_version;     /* 4 or 6 */
	uint8_t proto;          /* PKT_PROTO_TCP or PKT_PROTO_UDP; a UDP view has ports,
				 * payload and csum only (seq, ack, flags, window zero) */
	uint8_t src[16], dst[16]; /* IPv4 in the first 4 bytes, rest zero */
	uint16_t sport, dport;  /* host order */
	uint32_t seq, ack;      /* host order */
	uint8_t flags;          /* PKT_* bits */
	uint16_t window;        /* raw, unscaled */
	int8_t wscale;          /* window-scale option on a SYN, else -1 */
	uint16_t mss;           /* MSS option on a SYN, else 0 */
	uint32_t payload_len;   /* TCP payload bytes on the wire (from IP lengths); UDP
				 * payload bytes (from the UDP length) */
	uint32_t payload_cap;   /* of which captured in the frame (<= payload_len) */
	const uint8_t *payload; /* payload_cap bytes inside the frame */
	enum pkt_csum csum;
};

/* True when pkt_parse() understands this link type (LINKTYPE_* or DLT_* number). */
bool pkt_link_supported(int linktype);
/* A short name for a link type ("EN10MB", "LINUX_SLL2", ...) or "unknown". */
const char *pkt_link_name(int linktype);

/* Decodes one captured frame: caplen bytes at data, of a frame that was wirelen long.
 * check_csum asks for TCP checksum verification when the whole segment was captured.
 * Returns 0 and fills *out for a TCP segment, else a PKT_E_* code (*out undefined). */
int pkt_parse(int linktype, const uint8_t *data, size_t caplen, size_t wirelen,
	      bool check_csum, struct pkt *out);
/* The same, and a UDP datagram is decoded too (out->proto says which; UDP checksums
 * are not checked). Returns 0 for TCP or UDP, else a PKT_E_* code (PKT_E_NOT_TCP for any
 * other protocol). */
int pkt_parse_ip(int linktype, const uint8_t *data, size_t caplen, size_t wirelen,
		 bool check_csum, struct pkt *out);

/* Names a PKT_E_* code ("truncated", "not tcp", ...). */
const char *pkt_strerror(int err);

/* Writes "1.2.3.4:80" / "[::1]:80" for one end of a segment into out (>= 64 bytes).
 * Returns out. */
char *pkt_addr_format(uint8_t ip_version, const uint8_t addr[16], uint16_t port,
		      char *out, size_t outlen);

/* The Internet checksum helpers, exposed for tests and writers of test packets:
 * ones'-complement sum of len bytes added to sum (not folded, not inverted). */
uint64_t pkt_csum_add(uint64_t sum, const uint8_t *data, size_t len);
/* Folds a sum to 16 bits and inverts it: the value to put in a header. */
uint16_t pkt_csum_finish(uint64_t sum);

/* ---- bounds-checked readers ----
 * A cursor over len bytes at p, for anything that parses bytes a peer or a capture
 * gave us (packets here, TLS hello messages in tlsrec). Every read checks first and
 * fails closed: it returns false and consumes nothing, so a chain of reads joined with
 * || stops at the first byte that is not there. Multi-byte values are big-endian. */
struct pkt_rd {
	const uint8_t *p;
	size_t len; /* bytes readable at p */
	size_t off; /* next byte to read; off <= len once any read succeeded */
};

static inline struct pkt_rd pkt_rd_init(const uint8_t *p, size_t len)
{
	return (struct pkt_rd){.p = p, .len = len, .off = 0};
}

/* True when n more bytes can be read. */
static inline bool pkt_rd_has(const struct pkt_rd *r, size_t n)
{
	return r->off <= r->len && r->len - r->off >= n;
}

static inline bool pkt_rd_u8(struct pkt_rd *r, uint8_t *v)
{
	if (!pkt_rd_has(r, 1))
		return false;
	*v = r->p[r->off++];
	return true;
}

static inline bool pkt_rd_be16(struct pkt_rd *r, uint16_t *v)
{
	if (!pkt_rd_has(r, 2))
		return false;
	*v = (uint16_t)(r->p[r->off] << 8 | r->p[r->off + 1]);
	r->off += 2;
	return true;
}

static inline bool pkt_rd_be32(struct pkt_rd *r, uint32_t *v)
{
	if (!pkt_rd_has(r, 4))
		return false;
	const uint8_t *b = r->p + r->off;
	*v = (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
	r->off += 4;
	return true;
}

/* Copies the next n bytes to out. */
static inline bool pkt_rd_bytes(struct pkt_rd *r, void *out, size_t n)
{
	if (!pkt_rd_has(r, n))
		return false;
	memcpy(out, r->p + r->off, n);
	r->off += n;
	return true;
}

static inline bool pkt_rd_skip(struct pkt_rd *r, size_t n)
{
	if (!pkt_rd_has(r, n))
		return false;
	r->off += n;
	return true;
}

/* A reader over the next n bytes alone (a length-prefixed field), which r skips. */
static inline bool pkt_rd_sub(struct pkt_rd *r, size_t n, struct pkt_rd *sub)
{
	if (!pkt_rd_has(r, n))
		return false;
	*sub = pkt_rd_init(r->p + r->off, n);
	r->off += n;
	return true;
}

#endif
