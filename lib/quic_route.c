/* quic_route — lib/quic's helpers for a listener (see quic.h): a datagram's version and
 * connection ids, Version Negotiation, and the connection id map. No connection here. */
#include "lib/quic.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <ngtcp2/ngtcp2.h>

/* ---------------------------------------------------------------- routing */

int quic_pkt_ids(const uint8_t *pkt, size_t len, struct quic_pkt_ids *ids)
{
	ngtcp2_version_cid vc;
	memset(ids, 0, sizeof *ids);
	if (len == 0)
		return -EINVAL; /* ngtcp2 asserts on an empty datagram */
	int rv = ngtcp2_pkt_decode_version_cid(&vc, pkt, len, QUIC_CID_LEN);
	if (rv != 0 && rv != NGTCP2_ERR_VERSION_NEGOTIATION)
		return -EINVAL;
	if (vc.dcidlen > QUIC_MAX_CIDLEN || vc.scidlen > QUIC_MAX_CIDLEN)
		return -EINVAL;
	ids->version = vc.version;
	ids->long_header = (pkt[0] & 0x80) != 0;
	ids->dcidlen = vc.dcidlen;
	ids->scidlen = vc.scidlen;
	if (vc.dcidlen)
		memcpy(ids->dcid, vc.dcid, vc.dcidlen);
	if (vc.scidlen)
		memcpy(ids->scid, vc.scid, vc.scidlen);
	return rv == NGTCP2_ERR_VERSION_NEGOTIATION ? 1 : 0;
}

long quic_write_version_negotiation(uint8_t *buf, size_t cap, const struct quic_pkt_ids *ids)
{
	uint32_t versions[] = {NGTCP2_PROTO_VER_V1};
	uint8_t rnd;
	(void)gnutls_rnd(GNUTLS_RND_NONCE, &rnd, 1);
	ngtcp2_ssize n = ngtcp2_pkt_write_version_negotiation(
		buf, cap, rnd, ids->scid, ids->scidlen, ids->dcid, ids->dcidlen, versions, 1);
	return n < 0 ? -ENOSPC : (long)n;
}

#define SLOT_DELETED 0xff

static uint64_t cid_hash(const struct quic_cidmap *m, const uint8_t *cid, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull ^ m->seed; /* FNV-1a, seeded per map */
	for (size_t i = 0; i < len; i++) {
		h ^= cid[i];
		h *= 0x100000001b3ull;
	}
	return h ^ (h >> 29);
}

int quic_cidmap_init(struct quic_cidmap *m, size_t max_entries)
{
	memset(m, 0, sizeof *m);
	size_t n = 16;
	while (n < 2 * max_entries)
		n *= 2;
	m->slots = calloc(n, sizeof *m->slots);
	if (!m->slots)
		return -ENOMEM;
	m->nslots = n;
	m->max_len = max_entries;
	(void)gnutls_rnd(GNUTLS_RND_NONCE, &m->seed, sizeof m->seed);
	return 0;
}

void quic_cidmap_free(struct quic_cidmap *m)
{
	if (!m)
		return;
	free(m->slots);
	memset(m, 0, sizeof *m);
}

static struct quic_cidmap_slot *cidmap_find(const struct quic_cidmap *m, const uint8_t *cid,
					    size_t len)
{
	size_t mask = m->nslots - 1;
	size_t i = (size_t)cid_hash(m, cid, len) & mask;
	for (size_t probes = 0; probes < m->nslots; probes++, i = (i + 1) & mask) {
		struct quic_cidmap_slot *sl = &m->slots[i];
		if (sl->len == 0)
			return NULL;
		if (sl->len == len && memcmp(sl->cid, cid, len) == 0)
			return sl;
	}
	return NULL;
}

/* Rebuilds the table in place when deleted slots crowd it (probes would lengthen). */
static void cidmap_rehash(struct quic_cidmap *m)
{
	struct quic_cidmap_slot *old = m->slots;
	struct quic_cidmap_slot *fresh = calloc(m->nslots, sizeof *fresh);
	if (!fresh)
		return;
	m->slots = fresh;
	m->used = 0;
	size_t mask = m->nslots - 1;
	for (size_t j = 0; j < m->nslots; j++) {
		if (old[j].len == 0 || old[j].len == SLOT_DELETED)
			continue;
		size_t i = (size_t)cid_hash(m, old[j].cid, old[j].len) & mask;
		while (fresh[i].len)
			i = (i + 1) & mask;
		fresh[i] = old[j];
		m->used++;
	}
	free(old);
}

int quic_cidmap_put(struct quic_cidmap *m, const uint8_t *cid, size_t len, void *value)
{
	if (len == 0 || len > QUIC_MAX_CIDLEN)
		return -EINVAL;
	struct quic_cidmap_slot *sl = cidmap_find(m, cid, len);
	if (sl) {
		sl->value = value;
		return 0;
	}
	if (m->len >= m->max_len)
		return -ENOSPC;
	if (m->used >= m->nslots * 3 / 4)
		cidmap_rehash(m);
	size_t mask = m->nslots - 1;
	size_t i = (size_t)cid_hash(m, cid, len) & mask;
	while (m->slots[i].len != 0 && m->slots[i].len != SLOT_DELETED)
		i = (i + 1) & mask;
	sl = &m->slots[i];
	if (sl->len == 0)
		m->used++;
	memcpy(sl->cid, cid, len);
	sl->len = (uint8_t)len;
	sl->value = value;
	m->len++;
	return 0;
}

void *quic_cidmap_get(const struct quic_cidmap *m, const uint8_t *cid, size_t len)
{
	if (len == 0 || len > QUIC_MAX_CIDLEN)
		return NULL;
	struct quic_cidmap_slot *sl = cidmap_find(m, cid, len);
	return sl ? sl->value : NULL;
}

void quic_cidmap_del(struct quic_cidmap *m, const uint8_t *cid, size_t len)
{
	if (len == 0 || len > QUIC_MAX_CIDLEN)
		return;
	struct quic_cidmap_slot *sl = cidmap_find(m, cid, len);
	if (!sl)
		return;
	sl->len = SLOT_DELETED;
	sl->value = NULL;
	m->len--;
}
