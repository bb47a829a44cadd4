/* quichdr — see quichdr.h. */
#include "capture/quichdr.h"

#include <string.h>

#include "lib/pkt.h"

const char *quichdr_type_name(enum quichdr_type t)
{
	static const char *const names[QUICHDR_TYPE_COUNT] = {
		"initial", "0rtt", "handshake", "retry", "version_negotiation", "unknown_version", "short",
	};
	return (unsigned)t < QUICHDR_TYPE_COUNT ? names[t] : NULL;
}

static bool rd_varint(struct pkt_rd *r, uint64_t *v)
{
	uint8_t b;
	if (!pkt_rd_u8(r, &b))
		return false;
	size_t n = (size_t)1 << (b >> 6);
	uint64_t x = b & 0x3f;
	for (size_t i = 1; i < n; i++) {
		if (!pkt_rd_u8(r, &b)) {
			r->off -= i; /* fail closed: nothing consumed */
			return false;
		}
		x = x << 8 | b;
	}
	*v = x;
	return true;
}

bool quichdr_varint(const uint8_t *p, size_t len, size_t *off, uint64_t *v)
{
	if (*off > len)
		return false;
	struct pkt_rd r = pkt_rd_init(p, len);
	r.off = *off;
	if (!rd_varint(&r, v))
		return false;
	*off = r.off;
	return true;
}

/* The long header's packet type for the versions we can read; false for others. */
static bool long_type(uint32_t version, uint8_t first, enum quichdr_type *t)
{
	static const enum quichdr_type v1[4] = {QUICHDR_INITIAL, QUICHDR_0RTT, QUICHDR_HANDSHAKE,
						QUICHDR_RETRY};
	/* v2 rotates the type bits (RFC 9369 §3.2). */
	static const enum quichdr_type v2[4] = {QUICHDR_RETRY, QUICHDR_INITIAL, QUICHDR_0RTT,
						QUICHDR_HANDSHAKE};
	unsigned bits = (first >> 4) & 3;
	if (version == QUICHDR_V1) {
		*t = v1[bits];
		return true;
	}
	if (version == QUICHDR_V2 || version == QUICHDR_V2_DRAFT) {
		*t = v2[bits];
		return true;
	}
	return false;
}

static int read_cid(struct pkt_rd *r, uint8_t *out, uint8_t *outlen, bool strict)
{
	uint8_t n;
	if (!pkt_rd_u8(r, &n))
		return QUICHDR_E_TRUNCATED;
	if (n > QUICHDR_MAX_CIDLEN) {
		/* RFC 8999 allows 255 in other versions: skipped, kept as length 0. */
		if (strict)
			return QUICHDR_E_BAD;
		*outlen = 0;
		return pkt_rd_skip(r, n) ? 0 : QUICHDR_E_TRUNCATED;
	}
	*outlen = n;
	return pkt_rd_bytes(r, out, n) ? 0 : QUICHDR_E_TRUNCATED;
}

static int read_long(struct pkt_rd *r, uint8_t first, struct quichdr *h)
{
	uint32_t version;
	if (!pkt_rd_be32(r, &version))
		return QUICHDR_E_TRUNCATED;
	h->version = version;
	h->type = QUICHDR_UNKNOWN_VERSION;
	enum quichdr_type t = QUICHDR_UNKNOWN_VERSION;
	/* The fixed bit is not checked: the version says what this is (RFC 9287 greasing). */
	bool known = version != 0 && long_type(version, first, &t);
	int rc = read_cid(r, h->dcid, &h->dcidlen, known);
	if (rc == 0)
		rc = read_cid(r, h->scid, &h->scidlen, known);
	if (rc < 0)
		return rc;
	h->ids = true;
	if (version == 0 || !known) {
		/* Version Negotiation or a version we do not read: the rest is its own. */
		h->type = version == 0 ? QUICHDR_VERSION_NEGOTIATION : QUICHDR_UNKNOWN_VERSION;
		h->length = r->len;
		return 0;
	}
	h->type = t;
	if (t == QUICHDR_RETRY) {
		/* Retry Token, then a 16-byte integrity tag: to the end of the datagram. */
		if (r->len - r->off < 16)
			return QUICHDR_E_BAD;
		h->token_len = r->len - r->off - 16;
		h->length = r->len;
		return 0;
	}
	if (t == QUICHDR_INITIAL && (!rd_varint(r, &h->token_len) || !pkt_rd_skip(r, h->token_len)))
		return QUICHDR_E_TRUNCATED;
	uint64_t length;
	if (!rd_varint(r, &length))
		return QUICHDR_E_TRUNCATED;
	/* The packet number and payload: at least a 1-byte number and the 16-byte tag. */
	if (length > r->len - r->off)
		return QUICHDR_E_TRUNCATED;
	if (length < 17)
		return QUICHDR_E_BAD;
	h->pn_offset = r->off;
	h->length = r->off + (size_t)length;
	return 0;
}

int quichdr_read(const uint8_t *p, size_t len, size_t short_dcidlen, bool known_quic,
		 struct quichdr *h)
{
	memset(h, 0, sizeof *h);
	struct pkt_rd r = pkt_rd_init(p, len);
	uint8_t first;
	if (!pkt_rd_u8(&r, &first))
		return QUICHDR_E_NOT_QUIC;
	if (first & 0x80) {
		h->long_header = true;
		return read_long(&r, first, h);
	}
	if (!(first & 0x40) && !known_quic)
		return QUICHDR_E_NOT_QUIC;
	if (short_dcidlen > QUICHDR_MAX_CIDLEN)
		return QUICHDR_E_BAD;
	h->type = QUICHDR_SHORT;
	h->dcidlen = (uint8_t)short_dcidlen;
	if (!pkt_rd_bytes(&r, h->dcid, short_dcidlen))
		return QUICHDR_E_TRUNCATED;
	/* A packet number and a tag at least, and it runs to the end of the datagram. */
	if (len - r.off < 17)
		return QUICHDR_E_TRUNCATED;
	h->pn_offset = r.off;
	h->length = len;
	return 0;
}
