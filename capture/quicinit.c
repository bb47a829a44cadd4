/* quicinit — see quicinit.h. RFC 9001 §5 (keys, §5.2 the Initial salt), §5.3 (AEAD
 * nonce), §5.4 (header protection, AES-based). */
#include "capture/quicinit.h"

#include <errno.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

#include "lib/pkt.h"

static const uint8_t v1_salt[20] = {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
				    0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a};

/* HKDF-Expand-Label (RFC 8446 §7.1) with an empty context, SHA-256. */
static int expand_label(const uint8_t secret[32], const char *label, uint8_t *out, size_t len)
{
	uint8_t info[2 + 1 + 255 + 1];
	size_t ll = 6 + strlen(label), n = 0;
	info[n++] = (uint8_t)(len >> 8);
	info[n++] = (uint8_t)len;
	info[n++] = (uint8_t)ll;
	memcpy(info + n, "tls13 ", 6);
	memcpy(info + n + 6, label, ll - 6);
	n += ll;
	info[n++] = 0; /* context length */
	gnutls_datum_t key = {(unsigned char *)secret, 32}, inf = {info, (unsigned)n};
	return gnutls_hkdf_expand(GNUTLS_MAC_SHA256, &key, &inf, out, len) == 0 ? 0 : -EIO;
}

int quicinit_keys(uint32_t version, const uint8_t *odcid, size_t odcidlen, bool server,
		  struct quicinit_keys *k)
{
	if (version != QUICHDR_V1)
		return -ENOTSUP;
	if (odcidlen > QUICHDR_MAX_CIDLEN)
		return -EINVAL;
	uint8_t initial[32], secret[32];
	gnutls_datum_t ikm = {(unsigned char *)odcid, (unsigned)odcidlen},
		       salt = {(unsigned char *)v1_salt, sizeof v1_salt};
	if (gnutls_hkdf_extract(GNUTLS_MAC_SHA256, &ikm, &salt, initial) != 0)
		return -EIO;
	int rc = expand_label(initial, server ? "server in" : "client in", secret, sizeof secret);
	if (rc == 0)
		rc = expand_label(secret, "quic key", k->key, sizeof k->key);
	if (rc == 0)
		rc = expand_label(secret, "quic iv", k->iv, sizeof k->iv);
	if (rc == 0)
		rc = expand_label(secret, "quic hp", k->hp, sizeof k->hp);
	gnutls_memset(initial, 0, sizeof initial);
	gnutls_memset(secret, 0, sizeof secret);
	return rc;
}

/* AES-128-ECB of one block: CBC with a zero IV is the same for a single block, and
 * GnuTLS has no ECB. */
static int hp_mask(const uint8_t hp[16], const uint8_t sample[16], uint8_t mask[16])
{
	uint8_t zero[16] = {0};
	gnutls_datum_t key = {(unsigned char *)hp, 16}, iv = {zero, 16};
	gnutls_cipher_hd_t h;
	if (gnutls_cipher_init(&h, GNUTLS_CIPHER_AES_128_CBC, &key, &iv) != 0)
		return -EIO;
	int rc = gnutls_cipher_encrypt2(h, sample, 16, mask, 16) == 0 ? 0 : -EIO;
	gnutls_cipher_deinit(h);
	return rc;
}

long quicinit_open(const struct quicinit_keys *k, const struct quichdr *h, const uint8_t *pkt,
		   uint8_t *out, size_t cap, uint64_t *pn)
{
	if (h->type != QUICHDR_INITIAL || !h->long_header || cap < h->length)
		return -EINVAL;
	/* The sample starts 4 bytes after the packet number's start (§5.4.2). */
	size_t pno = h->pn_offset;
	if (pno + 4 + 16 > h->length)
		return -EINVAL;
	uint8_t mask[16];
	if (hp_mask(k->hp, pkt + pno + 4, mask) < 0)
		return -EIO;
	/* The header, unprotected, is the AEAD's associated data; it goes in out first. */
	uint8_t first = pkt[0] ^ (mask[0] & 0x0f);
	size_t pnlen = (size_t)(first & 3) + 1;
	if (pno + pnlen + 16 > h->length)
		return -EINVAL;
	memcpy(out, pkt, pno + pnlen);
	out[0] = first;
	uint64_t num = 0;
	for (size_t i = 0; i < pnlen; i++) {
		out[pno + i] = pkt[pno + i] ^ mask[1 + i];
		num = num << 8 | out[pno + i];
	}
	/* Initials are the first packets of a connection: the truncated number is the
	 * number (a capture has no largest-acknowledged to expand it from). */
	*pn = num;
	uint8_t nonce[12];
	memcpy(nonce, k->iv, sizeof nonce);
	for (size_t i = 0; i < 8; i++)
		nonce[11 - i] ^= (uint8_t)(num >> (8 * i));
	size_t aad = pno + pnlen, clen = h->length - aad;
	gnutls_datum_t key = {(unsigned char *)k->key, 16};
	gnutls_aead_cipher_hd_t a;
	if (gnutls_aead_cipher_init(&a, GNUTLS_CIPHER_AES_128_GCM, &key) != 0)
		return -EIO;
	size_t plen = cap - aad;
	int rc = gnutls_aead_cipher_decrypt(a, nonce, sizeof nonce, out, aad, 16, pkt + aad, clen,
					    out + aad, &plen);
	gnutls_aead_cipher_deinit(a);
	if (rc != 0)
		return -EBADMSG;
	/* The frames first, where the caller reads them. */
	memmove(out, out + aad, plen);
	return (long)plen;
}

static bool rd_varint(struct pkt_rd *r, uint64_t *v)
{
	size_t off = r->off;
	if (!quichdr_varint(r->p, r->len, &off, v))
		return false;
	r->off = off;
	return true;
}

static void read_reason(struct pkt_rd *r, uint64_t n, struct quicinit_frames *f)
{
	struct pkt_rd s;
	if (n > r->len - r->off || !pkt_rd_sub(r, (size_t)n, &s)) {
		f->bad = true;
		return;
	}
	size_t k = s.len < sizeof f->reason - 1 ? s.len : sizeof f->reason - 1;
	for (size_t i = 0; i < k; i++)
		f->reason[i] = s.p[i] >= 0x20 && s.p[i] < 0x7f ? (char)s.p[i] : '?';
	f->reason[k] = '\0';
}

/* One ACK frame's body (after its type). */
static bool read_ack(struct pkt_rd *r, bool ecn)
{
	uint64_t v, ranges;
	if (!rd_varint(r, &v) || !rd_varint(r, &v) || !rd_varint(r, &ranges) || !rd_varint(r, &v))
		return false;
	for (uint64_t i = 0; i < ranges; i++)
		if (!rd_varint(r, &v) || !rd_varint(r, &v))
			return false; /* also ends an absurd count: the payload runs out */
	for (int i = 0; ecn && i < 3; i++)
		if (!rd_varint(r, &v))
			return false;
	return true;
}

void quicinit_frames(const uint8_t *p, size_t len, struct quicinit_frames *f)
{
	memset(f, 0, sizeof *f);
	struct pkt_rd r = pkt_rd_init(p, len);
	/* Bounded: every frame consumes at least its type byte. */
	while (r.off < r.len) {
		uint64_t type, a, b;
		if (!rd_varint(&r, &type)) {
			f->bad = true;
			return;
		}
		switch (type) {
		case 0x00:
			f->padding = true;
			break;
		case 0x01:
			f->ping = true;
			break;
		case 0x02:
		case 0x03:
			f->ack = true;
			if (!read_ack(&r, type == 0x03)) {
				f->bad = true;
				return;
			}
			break;
		case 0x06: {
			struct pkt_rd d;
			if (!rd_varint(&r, &a) || !rd_varint(&r, &b) || b > r.len - r.off ||
			    !pkt_rd_sub(&r, (size_t)b, &d)) {
				f->bad = true;
				return;
			}
			if (f->ncrypto < QUICINIT_MAX_CRYPTO)
				f->crypto[f->ncrypto++] = (struct quicinit_crypto){a, d.p, d.len};
			break;
		}
		case 0x1c:
		case 0x1d:
			f->close = true;
			f->app = type == 0x1d;
			if (!rd_varint(&r, &f->code) || (!f->app && !rd_varint(&r, &f->frame_type)) ||
			    !rd_varint(&r, &a)) {
				f->bad = true;
				return;
			}
			read_reason(&r, a, f);
			if (f->bad)
				return;
			break;
		default:
			f->bad = true; /* not a frame an Initial may carry */
			return;
		}
	}
}
