/* pkt — see pkt.h. Every read goes through pkt.h's struct pkt_rd, which fails closed. */
#include "lib/pkt.h"

#include <stdio.h>
#include <string.h>

/* The IP version nibble of the next byte, or 0 when none was captured. */
static int rd_peek_version(const struct pkt_rd *r)
{
	return pkt_rd_has(r, 1) ? r->p[r->off] >> 4 : 0;
}

bool pkt_link_supported(int lt)
{
	switch (lt) {
	case PKT_LINK_NULL:
	case PKT_LINK_EN10MB:
	case PKT_LINK_RAW:
	case 12: /* DLT_RAW */
	case 14: /* DLT_RAW on OpenBSD */
	case PKT_LINK_LOOP:
	case PKT_LINK_LINUX_SLL:
	case PKT_LINK_IPV4:
	case PKT_LINK_IPV6:
	case PKT_LINK_LINUX_SLL2:
		return true;
	}
	return false;
}

const char *pkt_link_name(int lt)
{
	switch (lt) {
	case PKT_LINK_NULL: return "NULL";
	case PKT_LINK_EN10MB: return "EN10MB";
	case PKT_LINK_RAW:
	case 12:
	case 14: return "RAW";
	case PKT_LINK_LOOP: return "LOOP";
	case PKT_LINK_LINUX_SLL: return "LINUX_SLL";
	case PKT_LINK_IPV4: return "IPV4";
	case PKT_LINK_IPV6: return "IPV6";
	case PKT_LINK_LINUX_SLL2: return "LINUX_SLL2";
	}
	return "unknown";
}

const char *pkt_strerror(int err)
{
	switch (err) {
	case 0: return "tcp";
	case PKT_E_TRUNCATED: return "truncated";
	case PKT_E_LINKTYPE: return "unsupported link type";
	case PKT_E_NOT_IP: return "not ip";
	case PKT_E_NOT_TCP: return "not tcp";
	case PKT_E_BAD_IP: return "bad ip header";
	case PKT_E_BAD_TCP: return "bad tcp header";
	case PKT_E_FRAGMENT: return "ip fragment";
	case PKT_E_BAD_UDP: return "bad udp header";
	}
	return "unknown error";
}

uint64_t pkt_csum_add(uint64_t sum, const uint8_t *data, size_t len)
{
	/* Native-order words: the ones'-complement sum is byte-order independent up to a
	 * final swap (RFC 1071), done in csum_fold(). 64-bit words with the carries added
	 * back (end-around carry), in two chains so the adds overlap. */
	uint64_t a = sum, b = 0;
	uint64_t ca = 0, cb = 0;
	while (len >= 16) {
		uint64_t w[2];
		memcpy(w, data, sizeof w);
		a += w[0];
		ca += a < w[0];
		b += w[1];
		cb += b < w[1];
		data += 16;
		len -= 16;
	}
	/* Fold the 64-bit chains into 32-bit halves so the sum below cannot overflow. */
	uint64_t acc = (a & 0xffffffffu) + (a >> 32) + (b & 0xffffffffu) + (b >> 32) + ca + cb;
	while (len >= 4) {
		uint32_t w;
		memcpy(&w, data, 4);
		acc += w;
		data += 4;
		len -= 4;
	}
	if (len) {
		uint8_t tail[4] = {0};
		memcpy(tail, data, len);
		uint32_t w;
		memcpy(&w, tail, 4);
		acc += w;
	}
	return acc;
}

static uint16_t csum_fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	uint16_t v = (uint16_t)sum;
	/* Native order back to network order, read as a big-endian value. */
	uint8_t b[2];
	memcpy(b, &v, 2);
	return (uint16_t)(b[0] << 8 | b[1]);
}

uint16_t pkt_csum_finish(uint64_t sum)
{
	return (uint16_t)~csum_fold(sum);
}

/* Verifies the TCP checksum of a fully captured segment of seg_len bytes at seg. */
static enum pkt_csum tcp_csum(const struct pkt *p, const uint8_t *seg, uint32_t seg_len)
{
	uint8_t pseudo[40];
	size_t plen;
	if (p->ip_version == 4) {
		memcpy(pseudo, p->src, 4);
		memcpy(pseudo + 4, p->dst, 4);
		pseudo[8] = 0;
		pseudo[9] = 6;
		pseudo[10] = (uint8_t)(seg_len >> 8);
		pseudo[11] = (uint8_t)seg_len;
		plen = 12;
	} else {
		memcpy(pseudo, p->src, 16);
		memcpy(pseudo + 16, p->dst, 16);
		pseudo[32] = (uint8_t)(seg_len >> 24);
		pseudo[33] = (uint8_t)(seg_len >> 16);
		pseudo[34] = (uint8_t)(seg_len >> 8);
		pseudo[35] = (uint8_t)seg_len;
		pseudo[36] = pseudo[37] = pseudo[38] = 0;
		pseudo[39] = 6;
		plen = 40;
	}
	uint64_t sum = pkt_csum_add(0, pseudo, plen);
	sum = pkt_csum_add(sum, seg, seg_len);
	return csum_fold(sum) == 0xffff ? PKT_CSUM_OK : PKT_CSUM_BAD;
}

/* Link layer: leaves r at the start of the IP header and returns the IP version the
 * link layer announced (4 or 6), 0 to decide by the version nibble, or PKT_E_*. */
static int parse_link(int lt, struct pkt_rd *r)
{
	uint16_t ethertype;
	uint32_t family;
	switch (lt) {
	case PKT_LINK_EN10MB:
		if (!pkt_rd_skip(r, 12) || !pkt_rd_be16(r, &ethertype))
			return PKT_E_TRUNCATED;
		/* Up to two VLAN tags (802.1Q, 802.1ad, old QinQ). */
		for (int tags = 0; tags < 2 && (ethertype == 0x8100 || ethertype == 0x88a8 ||
						ethertype == 0x9100); tags++)
			if (!pkt_rd_skip(r, 2) || !pkt_rd_be16(r, &ethertype))
				return PKT_E_TRUNCATED;
		break;
	case PKT_LINK_LINUX_SLL:
		if (!pkt_rd_skip(r, 14) || !pkt_rd_be16(r, &ethertype))
			return PKT_E_TRUNCATED;
		break;
	case PKT_LINK_LINUX_SLL2:
		if (!pkt_rd_be16(r, &ethertype) || !pkt_rd_skip(r, 18))
			return PKT_E_TRUNCATED;
		break;
	case PKT_LINK_NULL:
	case PKT_LINK_LOOP:
		/* The family is in the writer's byte order (NULL) or network order (LOOP);
		 * files move between hosts, so accept either order and let the IP version
		 * nibble decide. AF_INET is 2 everywhere; AF_INET6 is 10 (Linux), 24
		 * (NetBSD/OpenBSD), 28 (FreeBSD), 30 (macOS). */
		if (!pkt_rd_be32(r, &family))
			return PKT_E_TRUNCATED;
		if (family > 0xffff)
			family = __builtin_bswap32(family);
		if (family != 2 && family != 10 && family != 24 && family != 28 && family != 30)
			return PKT_E_NOT_IP;
		return 0;
	case PKT_LINK_RAW:
	case 12:
	case 14:
		return 0;
	case PKT_LINK_IPV4:
		return 4;
	case PKT_LINK_IPV6:
		return 6;
	default:
		return PKT_E_LINKTYPE;
	}
	if (ethertype == 0x0800)
		return 4;
	if (ethertype == 0x86dd)
		return 6;
	return PKT_E_NOT_IP;
}

/* The transport protocols a parse accepts: TCP, and UDP when udp is set. */
static bool wanted(uint8_t proto, bool udp)
{
	return proto == PKT_PROTO_TCP || (udp && proto == PKT_PROTO_UDP);
}

/* IPv4 header: fills addresses and out->proto, returns the transport segment length (IP
 * payload) or PKT_E_*. */
static long parse_ipv4(struct pkt_rd *r, size_t wire_left, bool udp, struct pkt *out)
{
	uint8_t vihl, tos, ttl, proto;
	uint16_t total, id, frag, hsum;
	if (!pkt_rd_u8(r, &vihl) || !pkt_rd_u8(r, &tos) || !pkt_rd_be16(r, &total) ||
	    !pkt_rd_be16(r, &id) || !pkt_rd_be16(r, &frag) || !pkt_rd_u8(r, &ttl) ||
	    !pkt_rd_u8(r, &proto) || !pkt_rd_be16(r, &hsum) || !pkt_rd_bytes(r, out->src, 4) ||
	    !pkt_rd_bytes(r, out->dst, 4))
		return PKT_E_TRUNCATED;
	if (vihl >> 4 != 4)
		return PKT_E_BAD_IP;
	size_t hlen = (size_t)(vihl & 0x0f) * 4;
	if (hlen < 20)
		return PKT_E_BAD_IP;
	if (!pkt_rd_skip(r, hlen - 20))
		return PKT_E_TRUNCATED;
	/* Total length 0 means the capture saw a TSO super-packet before segmentation:
	 * the frame's own length is the only truth then. */
	size_t ip_len = total ? total : wire_left;
	if (ip_len < hlen || ip_len > wire_left)
		return PKT_E_BAD_IP;
	if ((frag & 0x3fff) != 0) /* MF set or a non-zero offset */
		return PKT_E_FRAGMENT;
	if (!wanted(proto, udp))
		return PKT_E_NOT_TCP;
	out->proto = proto;
	out->ip_version = 4;
	return (long)(ip_len - hlen);
}

static long parse_ipv6(struct pkt_rd *r, size_t wire_left, bool udp, struct pkt *out)
{
	uint32_t vtcfl;
	uint16_t plen;
	uint8_t next, hops;
	if (!pkt_rd_be32(r, &vtcfl) || !pkt_rd_be16(r, &plen) || !pkt_rd_u8(r, &next) ||
	    !pkt_rd_u8(r, &hops) || !pkt_rd_bytes(r, out->src, 16) ||
	    !pkt_rd_bytes(r, out->dst, 16))
		return PKT_E_TRUNCATED;
	if (vtcfl >> 28 != 6 || wire_left < 40)
		return PKT_E_BAD_IP;
	size_t left = plen ? plen : wire_left - 40; /* 0: jumbogram or TSO; use the frame */
	if (left > wire_left - 40)
		return PKT_E_BAD_IP;
	/* Extension headers, a bounded chain. */
	for (int i = 0; i < 8 && !wanted(next, udp); i++) {
		uint8_t nh, hl;
		uint16_t fragoff;
		size_t ext;
		switch (next) {
		case 0: case 43: case 60: /* hop-by-hop, routing, destination options */
			if (!pkt_rd_u8(r, &nh) || !pkt_rd_u8(r, &hl))
				return PKT_E_TRUNCATED;
			ext = ((size_t)hl + 1) * 8;
			break;
		case 51: /* AH */
			if (!pkt_rd_u8(r, &nh) || !pkt_rd_u8(r, &hl))
				return PKT_E_TRUNCATED;
			ext = ((size_t)hl + 2) * 4;
			break;
		case 44: /* fragment: only an atomic fragment (offset 0, no M) goes on */
			if (!pkt_rd_u8(r, &nh) || !pkt_rd_u8(r, &hl) || !pkt_rd_be16(r, &fragoff))
				return PKT_E_TRUNCATED;
			if ((fragoff & 0xfff9) != 0)
				return PKT_E_FRAGMENT;
			ext = 8;
			if (!pkt_rd_skip(r, 4))
				return PKT_E_TRUNCATED;
			if (ext > left)
				return PKT_E_BAD_IP;
			left -= ext;
			next = nh;
			continue;
		default:
			return PKT_E_NOT_TCP;
		}
		if (ext > left)
			return PKT_E_BAD_IP;
		if (!pkt_rd_skip(r, ext - 2))
			return PKT_E_TRUNCATED;
		left -= ext;
		next = nh;
	}
	if (!wanted(next, udp))
		return PKT_E_NOT_TCP;
	out->proto = next;
	out->ip_version = 6;
	return (long)left;
}

static void parse_tcp_options(struct pkt_rd r, size_t end, struct pkt *out)
{
	/* r is a copy positioned at the options; end is where they stop (data offset),
	 * clamped by the reader to what was captured. */
	while (r.off < end) {
		uint8_t kind, len;
		if (!pkt_rd_u8(&r, &kind) || kind == 0)
			return;
		if (kind == 1)
			continue;
		if (!pkt_rd_u8(&r, &len) || len < 2 || r.off - 2 + len > end)
			return;
		if (kind == 2 && len == 4) {
			uint16_t mss;
			if (!pkt_rd_be16(&r, &mss))
				return;
			out->mss = mss;
		} else if (kind == 3 && len == 3) {
			uint8_t ws;
			if (!pkt_rd_u8(&r, &ws))
				return;
			out->wscale = (int8_t)(ws > 14 ? 14 : ws);
		} else if (!pkt_rd_skip(&r, (size_t)len - 2)) {
			return;
		}
	}
}

static long parse_tcp(struct pkt_rd *r, size_t seg_len, bool check_csum, struct pkt *out)
{
	size_t start = r->off;
	uint8_t doff, flags;
	uint16_t csum, urg;
	if (!pkt_rd_be16(r, &out->sport) || !pkt_rd_be16(r, &out->dport) ||
	    !pkt_rd_be32(r, &out->seq) || !pkt_rd_be32(r, &out->ack) || !pkt_rd_u8(r, &doff) ||
	    !pkt_rd_u8(r, &flags) || !pkt_rd_be16(r, &out->window) || !pkt_rd_be16(r, &csum) ||
	    !pkt_rd_be16(r, &urg))
		return PKT_E_TRUNCATED;
	size_t hlen = (size_t)(doff >> 4) * 4;
	if (hlen < 20 || hlen > seg_len)
		return PKT_E_BAD_TCP;
	out->flags = flags;
	out->wscale = -1;
	out->mss = 0;
	if (flags & PKT_SYN)
		parse_tcp_options(*r, start + hlen, out);
	out->payload_len = (uint32_t)(seg_len - hlen);
	size_t cap_left = r->len > start ? r->len - start : 0;
	if (cap_left > hlen) {
		size_t have = cap_left - hlen;
		out->payload_cap = (uint32_t)(have < out->payload_len ? have : out->payload_len);
		out->payload = r->p + start + hlen;
	} else {
		out->payload_cap = 0;
		out->payload = NULL;
	}
	out->csum = PKT_CSUM_UNCHECKED;
	if (check_csum && cap_left >= seg_len)
		out->csum = tcp_csum(out, r->p + start, (uint32_t)seg_len);
	return 0;
}

/* A UDP header and where its payload is; the checksum is not checked. */
static long parse_udp(struct pkt_rd *r, size_t seg_len, struct pkt *out)
{
	size_t start = r->off;
	uint16_t ulen, csum;
	if (!pkt_rd_be16(r, &out->sport) || !pkt_rd_be16(r, &out->dport) || !pkt_rd_be16(r, &ulen) ||
	    !pkt_rd_be16(r, &csum))
		return PKT_E_TRUNCATED;
	if (ulen < 8 || ulen > seg_len)
		return PKT_E_BAD_UDP;
	out->seq = out->ack = 0;
	out->flags = 0;
	out->window = 0;
	out->wscale = -1;
	out->mss = 0;
	out->payload_len = (uint32_t)(ulen - 8);
	size_t cap_left = r->len > start + 8 ? r->len - start - 8 : 0;
	out->payload_cap = (uint32_t)(cap_left < out->payload_len ? cap_left : out->payload_len);
	out->payload = out->payload_cap ? r->p + start + 8 : NULL;
	out->csum = PKT_CSUM_UNCHECKED;
	return 0;
}

static int parse_frame(int linktype, const uint8_t *data, size_t caplen, size_t wirelen,
		       bool check_csum, bool udp, struct pkt *out)
{
	struct pkt_rd r = pkt_rd_init(data, caplen);
	if (wirelen < caplen)
		wirelen = caplen; /* a corrupt record header; trust what we hold */
	memset(out->src, 0, sizeof out->src);
	memset(out->dst, 0, sizeof out->dst);
	int ver = parse_link(linktype, &r);
	if (ver < 0)
		return ver;
	int nibble = rd_peek_version(&r);
	if (nibble == 0 && !pkt_rd_has(&r, 1))
		return PKT_E_TRUNCATED;
	if (ver == 0)
		ver = nibble;
	if (ver != nibble || (ver != 4 && ver != 6))
		return ver == 4 || ver == 6 ? PKT_E_BAD_IP : PKT_E_NOT_IP;
	size_t wire_left = wirelen - r.off;
	long seg_len = ver == 4 ? parse_ipv4(&r, wire_left, udp, out) : parse_ipv6(&r, wire_left, udp, out);
	if (seg_len < 0)
		return (int)seg_len;
	if (out->proto == PKT_PROTO_UDP)
		return (int)parse_udp(&r, (size_t)seg_len, out);
	return (int)parse_tcp(&r, (size_t)seg_len, check_csum, out);
}

int pkt_parse(int linktype, const uint8_t *data, size_t caplen, size_t wirelen,
	      bool check_csum, struct pkt *out)
{
	return parse_frame(linktype, data, caplen, wirelen, check_csum, false, out);
}

int pkt_parse_ip(int linktype, const uint8_t *data, size_t caplen, size_t wirelen,
		 bool check_csum, struct pkt *out)
{
	return parse_frame(linktype, data, caplen, wirelen, check_csum, true, out);
}

char *pkt_addr_format(uint8_t ip_version, const uint8_t addr[16], uint16_t port, char *out,
		      size_t outlen)
{
	if (ip_version == 4) {
		snprintf(out, outlen, "%u.%u.%u.%u:%u", addr[0], addr[1], addr[2], addr[3], port);
		return out;
	}
	/* RFC 5952: lower case, the longest run (>= 2) of zero groups as "::". */
	uint16_t g[8];
	for (int i = 0; i < 8; i++)
		g[i] = (uint16_t)(addr[2 * i] << 8 | addr[2 * i + 1]);
	int best = -1, best_len = 0;
	for (int i = 0; i < 8;) {
		int j = i;
		while (j < 8 && g[j] == 0)
			j++;
		if (j - i > best_len && j - i >= 2) {
			best = i;
			best_len = j - i;
		}
		i = j == i ? i + 1 : j;
	}
	char buf[48];
	size_t n = 0;
	for (int i = 0; i < 8; i++) {
		if (i == best) {
			n += (size_t)snprintf(buf + n, sizeof buf - n, "::");
			i += best_len - 1;
			continue;
		}
		if (n && buf[n - 1] != ':')
			buf[n++] = ':';
		n += (size_t)snprintf(buf + n, sizeof buf - n, "%x", g[i]);
	}
	buf[n] = '\0';
	/* IPv4-mapped addresses read better dotted. */
	if (best == 0 && best_len == 5 && g[5] == 0xffff)
		snprintf(buf, sizeof buf, "::ffff:%u.%u.%u.%u", addr[12], addr[13], addr[14],
			 addr[15]);
	snprintf(out, outlen, "[%s]:%u", buf, port);
	return out;
}
