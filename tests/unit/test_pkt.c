/* Unit tests for lib/pkt: every supported link type, IPv4 and IPv6 (with extension
 * headers), lengths taken from IP not from the capture, checksums, and every way a
 * frame can be short or lie about its lengths — each fed at every truncation point. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/pkt.h"

struct frame {
	uint8_t b[2048];
	size_t len;
};

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

/* Appends the link header for lt; v6 selects the protocol it announces. */
static void link_hdr(struct frame *f, int lt, bool v6)
{
	uint8_t *p = f->b;
	switch (lt) {
	case PKT_LINK_EN10MB:
		memset(p, 0, 12);
		put16(p + 12, v6 ? 0x86dd : 0x0800);
		f->len = 14;
		break;
	case PKT_LINK_NULL: { /* host order, as BSD writes it */
		uint32_t fam = v6 ? 30 : 2;
		memcpy(p, &fam, 4);
		f->len = 4;
		break;
	}
	case PKT_LINK_LOOP:
		put32(p, v6 ? 24 : 2);
		f->len = 4;
		break;
	case PKT_LINK_LINUX_SLL:
		memset(p, 0, 16);
		put16(p + 14, v6 ? 0x86dd : 0x0800);
		f->len = 16;
		break;
	case PKT_LINK_LINUX_SLL2:
		memset(p, 0, 20);
		put16(p, v6 ? 0x86dd : 0x0800);
		f->len = 20;
		break;
	default:
		f->len = 0;
	}
}

/* Builds IP + TCP after the link header, with a correct TCP checksum. */
static void ip_tcp(struct frame *f, bool v6, uint8_t flags, uint32_t seq, const char *payload,
		   const uint8_t *opts, size_t optlen)
{
	size_t plen = payload ? strlen(payload) : 0;
	size_t thl = 20 + optlen;
	uint8_t *ip = f->b + f->len;
	size_t ihl = v6 ? 40 : 20;
	uint8_t *tcp = ip + ihl;
	memset(ip, 0, ihl + thl);
	if (v6) {
		put32(ip, 6u << 28);
		put16(ip + 4, (uint16_t)(thl + plen));
		ip[6] = 6;
		ip[7] = 64;
		ip[23] = 1; /* ::1 */
		ip[39] = 1;
	} else {
		ip[0] = 0x45;
		put16(ip + 2, (uint16_t)(ihl + thl + plen));
		put16(ip + 6, 0x4000); /* DF */
		ip[8] = 64;
		ip[9] = 6;
		const uint8_t src[4] = {127, 0, 0, 1}, dst[4] = {127, 0, 0, 2};
		memcpy(ip + 12, src, 4);
		memcpy(ip + 16, dst, 4);
	}
	put16(tcp, 40000);
	put16(tcp + 2, 443);
	put32(tcp + 4, seq);
	put32(tcp + 8, 77);
	tcp[12] = (uint8_t)((thl / 4) << 4);
	tcp[13] = flags;
	put16(tcp + 14, 512);
	if (optlen)
		memcpy(tcp + 20, opts, optlen);
	memcpy(tcp + thl, payload ? payload : "", plen);
	/* Checksum over the pseudo header. */
	uint8_t pseudo[40] = {0};
	size_t pl;
	if (v6) {
		memcpy(pseudo, ip + 8, 32);
		put32(pseudo + 32, (uint32_t)(thl + plen));
		pseudo[39] = 6;
		pl = 40;
	} else {
		memcpy(pseudo, ip + 12, 8);
		pseudo[9] = 6;
		put16(pseudo + 10, (uint16_t)(thl + plen));
		pl = 12;
	}
	uint64_t sum = pkt_csum_add(0, pseudo, pl);
	sum = pkt_csum_add(sum, tcp, thl + plen);
	put16(tcp + 16, pkt_csum_finish(sum));
	f->len += ihl + thl + plen;
}

static void test_every_link_type_both_families(void **state)
{
	(void)state;
	const int links[] = {PKT_LINK_EN10MB, PKT_LINK_NULL, PKT_LINK_LOOP, PKT_LINK_LINUX_SLL,
			     PKT_LINK_LINUX_SLL2, PKT_LINK_RAW, 12, PKT_LINK_IPV4, PKT_LINK_IPV6};
	for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
		for (int v6 = 0; v6 < 2; v6++) {
			if ((links[i] == PKT_LINK_IPV4 && v6) || (links[i] == PKT_LINK_IPV6 && !v6))
				continue;
			struct frame f;
			link_hdr(&f, links[i], v6);
			ip_tcp(&f, v6, PKT_ACK | PKT_PSH, 1000, "hello", NULL, 0);
			struct pkt p;
			int rc = pkt_parse(links[i], f.b, f.len, f.len, true, &p);
			if (rc != 0)
				fail_msg("link %d v6=%d: %s", links[i], v6, pkt_strerror(rc));
			assert_int_equal(p.ip_version, v6 ? 6 : 4);
			assert_int_equal(p.sport, 40000);
			assert_int_equal(p.dport, 443);
			assert_int_equal(p.seq, 1000);
			assert_int_equal(p.ack, 77);
			assert_int_equal(p.flags, PKT_ACK | PKT_PSH);
			assert_int_equal(p.payload_len, 5);
			assert_int_equal(p.payload_cap, 5);
			assert_memory_equal(p.payload, "hello", 5);
			assert_int_equal(p.csum, PKT_CSUM_OK);
			assert_true(pkt_link_supported(links[i]));
		}
	}
}

static void test_null_link_in_the_other_byte_order(void **state)
{
	(void)state;
	struct frame f;
	link_hdr(&f, PKT_LINK_LOOP, true); /* network order written where NULL is read */
	ip_tcp(&f, true, PKT_ACK, 1, "x", NULL, 0);
	struct pkt p;
	assert_int_equal(pkt_parse(PKT_LINK_NULL, f.b, f.len, f.len, false, &p), 0);
	assert_int_equal(p.ip_version, 6);
	/* An unknown family is not IP. */
	put32(f.b, 99);
	assert_int_equal(pkt_parse(PKT_LINK_NULL, f.b, f.len, f.len, false, &p), PKT_E_NOT_IP);
}

static void test_snaplen_cut_keeps_wire_counts(void **state)
{
	(void)state;
	struct frame f;
	char big[1001];
	memset(big, 'a', 1000);
	big[1000] = '\0';
	link_hdr(&f, PKT_LINK_EN10MB, false);
	ip_tcp(&f, false, PKT_ACK, 5, big, NULL, 0);
	struct pkt p;
	/* 128-byte snaplen: 14 + 20 + 20 headers, 74 payload bytes captured. */
	assert_int_equal(pkt_parse(PKT_LINK_EN10MB, f.b, 128, f.len, true, &p), 0);
	assert_int_equal(p.payload_len, 1000);
	assert_int_equal(p.payload_cap, 128 - 54);
	assert_int_equal(p.csum, PKT_CSUM_UNCHECKED);
}

static void test_bad_checksum_is_reported_not_dropped(void **state)
{
	(void)state;
	struct frame f;
	link_hdr(&f, PKT_LINK_EN10MB, false);
	ip_tcp(&f, false, PKT_ACK, 5, "data", NULL, 0);
	f.b[f.len - 1] ^= 0x55;
	struct pkt p;
	assert_int_equal(pkt_parse(PKT_LINK_EN10MB, f.b, f.len, f.len, true, &p), 0);
	assert_int_equal(p.csum, PKT_CSUM_BAD);
	assert_int_equal(p.payload_len, 4);
}

static void test_ethernet_padding_and_vlan(void **state)
{
	(void)state;
	struct frame f;
	memset(f.b, 0, 12);
	put16(f.b + 12, 0x8100);
	put16(f.b + 14, 42);
	put16(f.b + 16, 0x0800);
	f.len = 18;
	ip_tcp(&f, false, PKT_SYN, 9, NULL, (const uint8_t[]){2, 4, 0x05, 0xb4, 1, 3, 3, 7}, 8);
	memset(f.b + f.len, 0xee, 6); /* padding to the Ethernet minimum */
	struct pkt p;
	assert_int_equal(pkt_parse(PKT_LINK_EN10MB, f.b, f.len + 6, f.len + 6, true, &p), 0);
	assert_int_equal(p.payload_len, 0);
	assert_int_equal(p.payload_cap, 0);
	assert_int_equal(p.mss, 1460);
	assert_int_equal(p.wscale, 7);
	assert_int_equal(p.csum, PKT_CSUM_OK);
}

static void test_ipv6_extension_headers_and_fragments(void **state)
{
	(void)state;
	struct frame f;
	link_hdr(&f, PKT_LINK_RAW, true);
	ip_tcp(&f, true, PKT_ACK, 1, "abc", NULL, 0);
	/* Insert an 8-byte hop-by-hop header between IPv6 and TCP. */
	struct frame g;
	memcpy(g.b, f.b, 40);
	g.b[6] = 0; /* next: hop-by-hop */
	uint8_t hbh[8] = {6, 0, 1, 4, 0, 0, 0, 0};
	memcpy(g.b + 40, hbh, 8);
	memcpy(g.b + 48, f.b + 40, f.len - 40);
	g.len = f.len + 8;
	put16(g.b + 4, (uint16_t)(g.len - 40));
	struct pkt p;
	assert_int_equal(pkt_parse(PKT_LINK_RAW, g.b, g.len, g.len, true, &p), 0);
	assert_int_equal(p.payload_len, 3);
	assert_int_equal(p.csum, PKT_CSUM_OK); /* the pseudo header ignores extensions */
	/* The same as a real (non-atomic) fragment. */
	g.b[6] = 44;
	uint8_t frag[8] = {6, 0, 0, 1, 0, 0, 0, 1}; /* M flag set */
	memcpy(g.b + 40, frag, 8);
	assert_int_equal(pkt_parse(PKT_LINK_RAW, g.b, g.len, g.len, true, &p), PKT_E_FRAGMENT);
	/* An atomic fragment (offset 0, no M) goes through. */
	g.b[43] = 0;
	assert_int_equal(pkt_parse(PKT_LINK_RAW, g.b, g.len, g.len, false, &p), 0);
	/* UDP is not TCP. */
	g.b[40] = 17;
	assert_int_equal(pkt_parse(PKT_LINK_RAW, g.b, g.len, g.len, false, &p), PKT_E_NOT_TCP);
}

static void test_lies_about_lengths(void **state)
{
	(void)state;
	struct frame f;
	struct pkt p;
	link_hdr(&f, PKT_LINK_EN10MB, false);
	ip_tcp(&f, false, PKT_ACK, 1, "abcdef", NULL, 0);
	uint8_t *ip = f.b + 14;
	/* Total length beyond the frame. */
	put16(ip + 2, 9000);
	assert_int_equal(pkt_parse(PKT_LINK_EN10MB, f.b, f.len, f.len, false, &p), PKT_E_BAD_IP);
	/* Total length below the header. */
	put16(ip + 2, 10);
	assert_int_equal(pkt_parse(PKT_LINK_EN10MB, f.b, f.len, f.len, false, &p), PKT_E_BAD_IP);
	/* Total length 0 (TSO): the frame decides. */
	put16(ip + 2, 0);
	assert_int_equal(pkt_parse(PKT_LINK_EN10MB, f.b, f.len, f.len, false, &p), 0);
	assert_int_equal(p.payload_len, 6);
	put16(ip + 2, (uint16_t)(f.len - 14));
	/* IHL below 5. */
	ip[0] = 0x44;
	assert_int_equal(pkt_parse(PKT_LINK_EN10MB, f.b, f.len, f.len, false, &p), PKT_E_BAD_IP);
	ip[0] = 0x45;
	/* TCP data offset beyond the segment. */
	ip[20 + 12] = 0xf0;
	assert_int_equal(pkt_parse(PKT_LINK_EN10MB, f.b, f.len, f.len, false, &p), PKT_E_BAD_TCP);
	ip[20 + 12] = 0x40;
	assert_int_equal(pkt_parse(PKT_LINK_EN10MB, f.b, f.len, f.len, false, &p), PKT_E_BAD_TCP);
	ip[20 + 12] = 0x50;
	/* IPv4 fragment, other protocols, ARP, unknown link type, version mismatch. */
	put16(ip + 6, 0x2000);
	assert_int_equal(pkt_parse(PKT_LINK_EN10MB, f.b, f.len, f.len, false, &p), PKT_E_FRAGMENT);
	put16(ip + 6, 0);
	ip[9] = 17;
	assert_int_equal(pkt_parse(PKT_LINK_EN10MB, f.b, f.len, f.len, false, &p), PKT_E_NOT_TCP);
	ip[9] = 6;
	put16(f.b + 12, 0x0806);
	assert_int_equal(pkt_parse(PKT_LINK_EN10MB, f.b, f.len, f.len, false, &p), PKT_E_NOT_IP);
	put16(f.b + 12, 0x86dd);
	assert_int_equal(pkt_parse(PKT_LINK_EN10MB, f.b, f.len, f.len, false, &p), PKT_E_BAD_IP);
	assert_int_equal(pkt_parse(999, f.b, f.len, f.len, false, &p), PKT_E_LINKTYPE);
	assert_false(pkt_link_supported(999));
}

/* Every prefix of a valid frame, placed flush against the end of a heap block so ASan
 * catches any read past it: a clean result, never a crash. */
static void test_every_truncation_point(void **state)
{
	(void)state;
	const int links[] = {PKT_LINK_EN10MB, PKT_LINK_NULL, PKT_LINK_LINUX_SLL2, PKT_LINK_RAW};
	for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
		for (int v6 = 0; v6 < 2; v6++) {
			struct frame f;
			link_hdr(&f, links[i], v6);
			ip_tcp(&f, v6, PKT_ACK | PKT_SYN, 1, "payload!",
			       (const uint8_t[]){2, 4, 1, 0, 1, 1, 3, 3, 2, 0, 0, 0}, 12);
			for (size_t n = 0; n <= f.len; n++) {
				uint8_t *copy = malloc(n ? n : 1);
				memcpy(copy, f.b, n);
				struct pkt p;
				int rc = pkt_parse(links[i], copy, n, f.len, true, &p);
				if (rc == 0) {
					assert_true(p.payload_cap <= p.payload_len);
					assert_int_equal(p.payload_len, 8);
				} else {
					assert_int_equal(rc, PKT_E_TRUNCATED);
				}
				free(copy);
			}
		}
	}
}

static void test_address_format(void **state)
{
	(void)state;
	char out[64];
	uint8_t a[16] = {127, 0, 0, 1};
	assert_string_equal(pkt_addr_format(4, a, 80, out, sizeof out), "127.0.0.1:80");
	uint8_t v6[16] = {0};
	v6[15] = 1;
	assert_string_equal(pkt_addr_format(6, v6, 443, out, sizeof out), "[::1]:443");
	uint8_t doc[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1};
	assert_string_equal(pkt_addr_format(6, doc, 1, out, sizeof out), "[2001:db8::1:0:0:1]:1");
	uint8_t mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 7};
	assert_string_equal(pkt_addr_format(6, mapped, 2, out, sizeof out), "[::ffff:10.0.0.7]:2");
}

/* UDP (QUIC captures): pkt_parse_ip decodes it, pkt_parse still refuses it; the UDP
 * length, not the capture, says how long the payload is; lies are classified. */
static void test_udp(void **state)
{
	(void)state;
	for (int v6 = 0; v6 < 2; v6++) {
		struct frame f;
		link_hdr(&f, PKT_LINK_EN10MB, v6);
		ip_tcp(&f, v6, 0, 0, NULL, NULL, 0);
		/* Rewrite the transport: protocol 17, an 8-byte UDP header and 30 bytes. */
		uint8_t *ip = f.b + 14, *udp = ip + (v6 ? 40 : 20);
		if (v6) {
			ip[6] = 17;
			put16(ip + 4, 38);
		} else {
			ip[9] = 17;
			put16(ip + 2, 58);
		}
		put16(udp, 50000);
		put16(udp + 2, 443);
		put16(udp + 4, 38);
		put16(udp + 6, 0);
		memset(udp + 8, 0xc3, 30);
		f.len = (size_t)(udp + 38 - f.b);
		struct pkt p;
		assert_int_equal(pkt_parse(PKT_LINK_EN10MB, f.b, f.len, f.len, true, &p), PKT_E_NOT_TCP);
		assert_int_equal(pkt_parse_ip(PKT_LINK_EN10MB, f.b, f.len, f.len, true, &p), 0);
		assert_int_equal(p.proto, PKT_PROTO_UDP);
		assert_int_equal(p.sport, 50000);
		assert_int_equal(p.dport, 443);
		assert_int_equal(p.payload_len, 30);
		assert_int_equal(p.payload_cap, 30);
		assert_ptr_equal(p.payload, udp + 8);
		/* A snaplen cut keeps the count. */
		assert_int_equal(pkt_parse_ip(PKT_LINK_EN10MB, f.b, f.len - 20, f.len, true, &p), 0);
		assert_int_equal(p.payload_len, 30);
		assert_int_equal(p.payload_cap, 10);
		/* Every truncation inside the headers is "truncated", never a read past. */
		for (size_t cut = 0; cut < (size_t)(udp + 8 - f.b); cut++)
			assert_true(pkt_parse_ip(PKT_LINK_EN10MB, f.b, cut, cut, true, &p) < 0);
		put16(udp + 4, 7);
		assert_int_equal(pkt_parse_ip(PKT_LINK_EN10MB, f.b, f.len, f.len, true, &p), PKT_E_BAD_UDP);
		put16(udp + 4, 39);
		assert_int_equal(pkt_parse_ip(PKT_LINK_EN10MB, f.b, f.len, f.len, true, &p), PKT_E_BAD_UDP);
		/* TCP through pkt_parse_ip is what pkt_parse gives. */
		link_hdr(&f, PKT_LINK_EN10MB, v6);
		ip_tcp(&f, v6, PKT_ACK, 5, "abc", NULL, 0);
		assert_int_equal(pkt_parse_ip(PKT_LINK_EN10MB, f.b, f.len, f.len, true, &p), 0);
		assert_int_equal(p.proto, PKT_PROTO_TCP);
		assert_int_equal(p.payload_len, 3);
	}
	assert_string_equal(pkt_strerror(PKT_E_BAD_UDP), "bad udp header");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_link_type_both_families),
		cmocka_unit_test(test_null_link_in_the_other_byte_order),
		cmocka_unit_test(test_snaplen_cut_keeps_wire_counts),
		cmocka_unit_test(test_bad_checksum_is_reported_not_dropped),
		cmocka_unit_test(test_ethernet_padding_and_vlan),
		cmocka_unit_test(test_ipv6_extension_headers_and_fragments),
		cmocka_unit_test(test_lies_about_lengths),
		cmocka_unit_test(test_every_truncation_point),
		cmocka_unit_test(test_address_format),
		cmocka_unit_test(test_udp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
