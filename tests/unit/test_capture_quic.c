/* QUIC in the capture: the header reader one case per line (fed whole and cut at every
 * length), Initial keys against RFC 9001 Appendix A.1, the Initial frame walker, and real
 * exchanges recorded on lo with tcpdump (tests/data/pcap/quic_*.pcap; how in
 * docs/capture.md) → the facts the capture must read from them:
 *   quic_ok          gtlsclient GET /bytes/3000 from `origin --quic-listen`
 *   quic_ok_snap256  the same cut to 256 bytes per frame (editcap -s 256)
 *   quic_alpn        a client offering ALPN hq-interop: the origin's CONNECTION_CLOSE
 *                    0x178 (no_application_protocol) in an Initial
 *   quic_badca       a client that does not trust the origin's CA: it closes in a
 *                    Handshake packet (no keys for that), the server greases the QUIC bit
 *   quic_vn          gtlsclient speaking version 0x1a2a3a4a: Version Negotiation
 *   quic_gso         gtlsclient GET /bytes/30000: the origin's GSO sends, one frame of
 *                    several datagrams each on lo (32 datagrams sent, 35838 bytes, and
 *                    12 / 4751 received, by the origin's own ledger); quic_gso_snap256
 *                    the same through editcap -s 256
 * and the join of HTTP/3 probe records to their QUIC flow by local address. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/analyze.h"
#include "capture/join.h"
#include "capture/ledgers.h"
#include "capture/pcapfile.h"
#include "capture/quichdr.h"
#include "capture/quicinit.h"
#include "lib/hex.h"
#include "lib/pkt.h"

static const char *root(void)
{
	const char *r = getenv("TP_ROOT");
	return r ? r : ".";
}

/* ---------------------------------------------------------------- headers */

static size_t unhex(const char *s, uint8_t *out)
{
	size_t n = 0;
	for (; s[0] && s[1]; s += 2)
		out[n++] = (uint8_t)(hex_digit(s[0]) << 4 | hex_digit(s[1]));
	return n;
}

static void test_header_cases(void **state)
{
	(void)state;
	static const struct {
		const char *hex;      /* the datagram */
		size_t sdl;           /* short header DCID length the caller knows */
		bool known;           /* the flow is known QUIC */
		int rc;
		enum quichdr_type type;
		uint32_t version;
		int dcidlen, scidlen;
		size_t length;
		const char *why;
	} cases[] = {
		{"", 0, false, QUICHDR_E_NOT_QUIC, 0, 0, 0, 0, 0, "empty"},
		/* Initial v1: DCID 8, SCID 0, token 0, Length 17, pn + 16-byte tag. */
		{"c000000001088394c8f03e515708000011" "00" "000102030405060708090a0b0c0d0e0f", 0, false, 0,
		 QUICHDR_INITIAL, 1, 8, 0, 34, "minimal v1 Initial"},
		{"c000000001088394c8f03e51570800021234" "11" "00" "000102030405060708090a0b0c0d0e0f", 0, false,
		 0, QUICHDR_INITIAL, 1, 8, 0, 36, "Initial with a 2-byte token"},
		{"c000000001088394c8f03e515708000012" "00" "000102030405060708090a0b0c0d0e0f", 0, false,
		 QUICHDR_E_TRUNCATED, QUICHDR_INITIAL, 1, 8, 0, 0, "Length beyond the datagram"},
		{"c000000001088394c8f03e515708000010" "00" "000102030405060708090a0b0c0d0e", 0, false,
		 QUICHDR_E_BAD, QUICHDR_INITIAL, 1, 8, 0, 0, "Length too short for a tag"},
		{"c0000000011500000000000000000000000000000000000000000011", 0, false, QUICHDR_E_BAD, 0, 1, 0,
		 0, 0, "a 21-byte DCID in v1"},
		{"e00000000104010203040405060708" "11" "00" "000102030405060708090a0b0c0d0e0f", 0, false, 0,
		 QUICHDR_HANDSHAKE, 1, 4, 4, 33, "Handshake"},
		{"d000000001040102030400" "11" "00" "000102030405060708090a0b0c0d0e0f", 0, false, 0,
		 QUICHDR_0RTT, 1, 4, 0, 29, "0-RTT"},
		{"f00000000104010203040405060708aabbcc" "000102030405060708090a0b0c0d0e0f", 0, false, 0,
		 QUICHDR_RETRY, 1, 4, 4, 34, "Retry: token then the tag"},
		{"f000000001040102030400" "0001020304", 0, false, QUICHDR_E_BAD, QUICHDR_RETRY, 1, 4, 0, 0,
		 "Retry without room for its tag"},
		{"d06b3343cf04010203040000" "11" "00" "000102030405060708090a0b0c0d0e0f", 0, false, 0,
		 QUICHDR_INITIAL, QUICHDR_V2, 4, 0, 30, "v2: type bits 01 are an Initial"},
		{"80000000000401020304040506070800000001", 0, false, 0, QUICHDR_VERSION_NEGOTIATION, 0, 4, 4,
		 19, "Version Negotiation"},
		{"c01a2a3a4a0401020304040506070899999999", 0, false, 0, QUICHDR_UNKNOWN_VERSION, 0x1a2a3a4a, 4, 4,
		 19, "a version we do not read"},
		{"c01a2a3a4a" "ff", 0, false, QUICHDR_E_TRUNCATED, 0, 0x1a2a3a4a, 0, 0, 0,
		 "unknown version: a 255-byte DCID that is not there"},
		{"800000000104010203040000" "11" "00" "000102030405060708090a0b0c0d0e0f", 0, false, 0,
		 QUICHDR_INITIAL, 1, 4, 0, 30, "greased QUIC bit on a long header (RFC 9287)"},
		{"41" "0102030405060708" "00" "000102030405060708090a0b0c0d0e0f", 8, false, 0, QUICHDR_SHORT,
		 0, 8, 0, 26, "short header"},
		{"01" "0102030405060708" "00" "000102030405060708090a0b0c0d0e0f", 8, false, QUICHDR_E_NOT_QUIC,
		 0, 0, 0, 0, 0, "short header, fixed bit clear, flow not known"},
		{"01" "0102030405060708" "00" "000102030405060708090a0b0c0d0e0f", 8, true, 0, QUICHDR_SHORT,
		 0, 8, 0, 26, "short header, greased bit on a QUIC flow"},
		{"41" "0102030405060708" "00", 8, false, QUICHDR_E_TRUNCATED, 0, 0, 0, 0, 0,
		 "short header without room for a tag"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint8_t b[256];
		size_t n = unhex(cases[i].hex, b);
		struct quichdr h;
		print_message("case %zu: %s\n", i, cases[i].why);
		int rc = quichdr_read(b, n, cases[i].sdl, cases[i].known, &h);
		assert_int_equal(rc, cases[i].rc);
		if (rc != 0)
			continue;
		assert_int_equal(h.type, cases[i].type);
		assert_int_equal(h.version, cases[i].version);
		assert_int_equal(h.dcidlen, cases[i].dcidlen);
		assert_int_equal(h.scidlen, cases[i].scidlen);
		assert_int_equal(h.length, cases[i].length);
		/* Every shorter datagram fails cleanly, never reads past. */
		for (size_t cut = 0; cut < n && cases[i].type != QUICHDR_SHORT &&
				     cases[i].type != QUICHDR_VERSION_NEGOTIATION &&
				     cases[i].type != QUICHDR_UNKNOWN_VERSION && cases[i].type != QUICHDR_RETRY;
		     cut++) {
			uint8_t *heap = malloc(cut ? cut : 1);
			memcpy(heap, b, cut);
			assert_true(quichdr_read(heap, cut, cases[i].sdl, cases[i].known, &h) < 0);
			free(heap);
		}
	}
	size_t off = 0;
	uint64_t v;
	const uint8_t nine[] = {0xc2, 0x19, 0x7c, 0x5e, 0xff, 0x14, 0xe8, 0x8c}; /* RFC 9000 A.1 */
	assert_true(quichdr_varint(nine, sizeof nine, &off, &v));
	assert_int_equal(v, 151288809941952652ull);
	assert_int_equal(off, 8);
	off = 0;
	assert_false(quichdr_varint(nine, 7, &off, &v));
	assert_int_equal(off, 0);
	assert_string_equal(quichdr_type_name(QUICHDR_SHORT), "short");
	assert_null(quichdr_type_name(QUICHDR_TYPE_COUNT));
}

/* ---------------------------------------------------------------- Initials */

static void hexeq(const uint8_t *b, size_t n, const char *want)
{
	char got[80];
	assert_string_equal(hex_encode(b, n, got), want);
}

static void test_initial_keys_rfc9001(void **state)
{
	(void)state;
	const uint8_t dcid[] = {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08};
	struct quicinit_keys k;
	assert_int_equal(quicinit_keys(QUICHDR_V1, dcid, sizeof dcid, false, &k), 0);
	hexeq(k.key, 16, "1f369613dd76d5467730efcbe3b1a22d");
	hexeq(k.iv, 12, "fa044b2f42a3fd3b46fb255c");
	hexeq(k.hp, 16, "9f50449e04a0e810283a1e9933adedd2");
	assert_int_equal(quicinit_keys(QUICHDR_V1, dcid, sizeof dcid, true, &k), 0);
	hexeq(k.key, 16, "cf3a5331653c364c88f0f379b6067e37");
	hexeq(k.iv, 12, "0ac1493ca1905853b0bba03e");
	hexeq(k.hp, 16, "c206b8d9b9f0f37644430b490eeaa314");
	assert_int_equal(quicinit_keys(QUICHDR_V2, dcid, sizeof dcid, true, &k), -ENOTSUP);
	uint8_t long_cid[21] = {0};
	assert_int_equal(quicinit_keys(QUICHDR_V1, long_cid, sizeof long_cid, true, &k), -EINVAL);
}

/* The UDP payloads of a recorded capture, in order. */
static size_t datagrams(const char *name, uint8_t (*out)[1500], size_t *lens, size_t max)
{
	char path[512];
	snprintf(path, sizeof path, "%s/tests/data/pcap/%s", root(), name);
	FILE *fp = fopen(path, "rb");
	assert_non_null(fp);
	static uint8_t file[65536];
	size_t flen = fread(file, 1, sizeof file, fp);
	fclose(fp);
	struct pcapfile f;
	assert_int_equal(pcapfile_open(&f, file, flen), PCAPFILE_OK);
	struct pcapfile_rec r;
	size_t n = 0;
	while (n < max && pcapfile_next(&f, &r) == PCAPFILE_OK) {
		struct pkt p;
		assert_int_equal(pkt_parse_ip((int)f.linktype, r.data, r.caplen, r.wirelen, false, &p), 0);
		assert_int_equal(p.proto, PKT_PROTO_UDP);
		memcpy(out[n], p.payload, p.payload_cap);
		lens[n++] = p.payload_cap;
	}
	return n;
}

static void test_open_real_initials(void **state)
{
	(void)state;
	static uint8_t d[16][1500];
	size_t lens[16];
	size_t n = datagrams("quic_alpn.pcap", d, lens, 16);
	assert_int_equal(n, 2);
	/* The client's Initial: DCID = the keys' input; its frames a ClientHello in CRYPTO. */
	struct quichdr h;
	assert_int_equal(quichdr_read(d[0], lens[0], 0, false, &h), 0);
	assert_int_equal(h.type, QUICHDR_INITIAL);
	struct quicinit_keys ck, sk;
	assert_int_equal(quicinit_keys(h.version, h.dcid, h.dcidlen, false, &ck), 0);
	assert_int_equal(quicinit_keys(h.version, h.dcid, h.dcidlen, true, &sk), 0);
	static uint8_t plain[1500];
	uint64_t pn = 99;
	long pl = quicinit_open(&ck, &h, d[0], plain, sizeof plain, &pn);
	assert_true(pl > 0);
	assert_int_equal(pn, 0);
	struct quicinit_frames fr;
	quicinit_frames(plain, (size_t)pl, &fr);
	assert_false(fr.bad);
	assert_false(fr.close);
	assert_int_equal(fr.ncrypto, 1);
	assert_int_equal(fr.crypto[0].offset, 0);
	assert_int_equal(fr.crypto[0].data[0], 1); /* ClientHello */
	/* The wrong side's keys do not open it. */
	assert_int_equal(quicinit_open(&sk, &h, d[0], plain, sizeof plain, &pn), -EBADMSG);
	/* The server's answer: CONNECTION_CLOSE 0x178 = CRYPTO_ERROR + no_application_protocol. */
	assert_int_equal(quichdr_read(d[1], lens[1], 0, true, &h), 0);
	pl = quicinit_open(&sk, &h, d[1], plain, sizeof plain, &pn);
	assert_true(pl > 0);
	quicinit_frames(plain, (size_t)pl, &fr);
	assert_true(fr.close);
	assert_false(fr.app);
	assert_int_equal(fr.code, 0x178);
	/* A flipped byte fails authentication. */
	d[1][lens[1] - 1] ^= 1;
	assert_int_equal(quicinit_open(&sk, &h, d[1], plain, sizeof plain, &pn), -EBADMSG);
	/* Not an Initial, or too short for a sample. */
	struct quichdr hs = h;
	hs.type = QUICHDR_HANDSHAKE;
	assert_int_equal(quicinit_open(&sk, &hs, d[1], plain, sizeof plain, &pn), -EINVAL);
	hs = h;
	hs.length = hs.pn_offset + 10;
	assert_int_equal(quicinit_open(&sk, &hs, d[1], plain, sizeof plain, &pn), -EINVAL);
}

static void test_frames(void **state)
{
	(void)state;
	static const struct {
		const char *hex;
		bool bad, close, app, ack, ping;
		uint64_t code;
		const char *reason;
		size_t ncrypto;
		const char *why;
	} cases[] = {
		{"000000", false, false, false, false, false, 0, "", 0, "padding"},
		{"01", false, false, false, false, true, 0, "", 0, "ping"},
		{"02050001000102", false, false, false, true, false, 0, "", 0, "ACK with a range"},
		{"0305000000010203", false, false, false, true, false, 0, "", 0, "ACK with ECN counts"},
		{"0600036162630603026465", false, false, false, false, false, 0, "", 2, "two CRYPTO frames"},
		{"1c4178060568656c6c6f", false, true, false, false, false, 0x178, "hello",
		 0, "CONNECTION_CLOSE with a reason"},
		{"1d410c0000", false, true, true, false, false, 0x10c, "", 0, "application close"},
		{"1c417806", true, true, false, false, false, 0x178, "", 0, "close cut inside"},
		{"1c41780605686501", true, true, false, false, false, 0x178, "", 0, "reason longer than the frame"},
		{"060005616263", true, false, false, false, false, 0, "", 0, "CRYPTO longer than the packet"},
		{"08", true, false, false, false, false, 0, "", 0, "a STREAM frame: not in an Initial"},
		{"02ff", true, false, false, true, false, 0, "", 0, "ACK cut in a varint"},
		{"024000ffffffff", true, false, false, true, false, 0, "", 0, "ACK claiming huge range count"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint8_t b[64];
		size_t n = unhex(cases[i].hex, b);
		struct quicinit_frames f;
		print_message("case %zu: %s\n", i, cases[i].why);
		quicinit_frames(b, n, &f);
		assert_int_equal(f.bad, cases[i].bad);
		assert_int_equal(f.close, cases[i].close);
		assert_int_equal(f.app, cases[i].app);
		assert_int_equal(f.ack, cases[i].ack);
		assert_int_equal(f.ping, cases[i].ping);
		assert_int_equal(f.code, cases[i].code);
		assert_int_equal(f.ncrypto, cases[i].ncrypto);
		if (!f.bad || f.close)
			assert_string_equal(f.reason, cases[i].reason);
	}
}

/* ---------------------------------------------------------------- recorded exchanges */

static struct cap_analysis A;

static void analyze(const char *name)
{
	static char path[512];
	snprintf(path, sizeof path, "%s/tests/data/pcap/%s", root(), name);
	struct cap_opts o = {.read_path = path, .check_csum = true};
	assert_int_equal(cap_analysis_init(&A, &o), 0);
	char err[512] = "";
	if (cap_analysis_run(&A, err, sizeof err) != 0)
		fail_msg("%s: %s", name, err);
}

static int teardown(void **state)
{
	(void)state;
	cap_analysis_free(&A);
	return 0;
}

static const struct qflow *only_quic_flow(void)
{
	assert_int_equal(qflow_table_quic(&A.quic), 1);
	for (size_t i = 0; i < A.quic.n; i++)
		if (A.quic.flows[i]->quic)
			return A.quic.flows[i];
	return NULL;
}

static void cid_is(const uint8_t *cid, size_t len, const char *want)
{
	char got[2 * QUICHDR_MAX_CIDLEN + 1];
	assert_string_equal(hex_encode(cid, len, got), want);
}

static void test_recorded_ok(void **state)
{
	(void)state;
	analyze("quic_ok.pcap");
	const struct qflow *f = only_quic_flow();
	assert_int_equal(A.udp_frames, 14);
	assert_int_equal(A.tcp_frames, 0);
	char c[64], s[64];
	assert_string_equal(qflow_end_format(f, 0, c, sizeof c), "127.0.0.1:52765");
	assert_string_equal(qflow_end_format(f, 1, s, sizeof s), "127.0.0.1:54560");
	assert_int_equal(f->version, QUICHDR_V1);
	assert_false(f->midstream);
	/* The IDs the origin's ledger has for this connection (tests/data/ledgers/quic_ok.*). */
	cid_is(f->odcid, f->odcidlen, "91bbff4d1a8062ded33ec4dd6de91b3f67ac");
	cid_is(f->client_cid, f->client_cidlen, "68123d3a5b98b2ce77b34daabcc57d24b3");
	cid_is(f->server_cid, f->server_cidlen, "7669954cf31ec54bc0368240581eb707");
	/* Per direction, as tshark counts them (coalesced packets each). */
	const struct qflow_dir *up = &f->dir[0], *down = &f->dir[1];
	assert_int_equal(up->datagrams, 6);
	assert_int_equal(up->bytes, 3103);
	assert_int_equal(down->datagrams, 8);
	assert_int_equal(down->bytes, 6421);
	assert_int_equal(up->packets[QUICHDR_INITIAL], 1);
	assert_int_equal(up->packets[QUICHDR_HANDSHAKE], 3);
	assert_int_equal(up->packets[QUICHDR_SHORT], 3);
	assert_int_equal(down->packets[QUICHDR_INITIAL], 1);
	assert_int_equal(down->packets[QUICHDR_HANDSHAKE], 3);
	assert_int_equal(down->packets[QUICHDR_SHORT], 5);
	assert_int_equal(up->undecodable + down->undecodable, 0);
	assert_int_equal(up->initials_opened, 1);
	assert_int_equal(down->initials_opened, 1);
	assert_string_equal(up->hello.sni, "localhost");
	assert_true(down->hello.server_hello);
	assert_false(up->close.seen || down->close.seen);
	assert_true(down->t_last > down->t_first && up->t_first < down->t_first);
}

static void test_recorded_snaplen(void **state)
{
	(void)state;
	analyze("quic_ok_snap256.pcap");
	const struct qflow *f = only_quic_flow();
	/* Bytes from the UDP length; headers and IDs still read; Initials cut, not opened. */
	assert_int_equal(f->dir[0].bytes, 3103);
	assert_int_equal(f->dir[1].bytes, 6421);
	cid_is(f->server_cid, f->server_cidlen, "7669954cf31ec54bc0368240581eb707");
	assert_int_equal(f->dir[0].initials_cut, 1);
	assert_int_equal(f->dir[0].initials_opened, 0);
	assert_int_equal(f->dir[0].packets[QUICHDR_INITIAL], 1);
	assert_true(f->dir[1].cut > 0);
	assert_string_equal(f->dir[0].hello.sni, "");
}

static void test_recorded_alpn_refused(void **state)
{
	(void)state;
	analyze("quic_alpn.pcap");
	const struct qflow *f = only_quic_flow();
	assert_true(f->dir[1].close.seen);
	assert_false(f->dir[1].close.app);
	assert_int_equal(f->dir[1].close.code, 0x178);
	assert_false(f->dir[0].close.seen);
	assert_int_equal(f->dir[0].packets[QUICHDR_SHORT] + f->dir[1].packets[QUICHDR_SHORT], 0);
}

static void test_recorded_bad_ca(void **state)
{
	(void)state;
	analyze("quic_badca.pcap");
	const struct qflow *f = only_quic_flow();
	/* The client's close is in a Handshake packet: no close read, but no 1-RTT either.
	 * The server greased the QUIC bit; its packets still read. */
	assert_false(f->dir[0].close.seen || f->dir[1].close.seen);
	assert_int_equal(f->dir[1].packets[QUICHDR_INITIAL], 1);
	assert_int_equal(f->dir[1].packets[QUICHDR_HANDSHAKE], 2);
	assert_int_equal(f->dir[1].initials_opened, 1);
	assert_int_equal(f->dir[0].packets[QUICHDR_SHORT] + f->dir[1].packets[QUICHDR_SHORT], 0);
}

static void test_recorded_version_negotiation(void **state)
{
	(void)state;
	analyze("quic_vn.pcap");
	const struct qflow *f = only_quic_flow();
	assert_true(f->version_negotiation);
	assert_int_equal(f->version, 0x1a2a3a4a);
	assert_int_equal(f->dir[0].packets[QUICHDR_UNKNOWN_VERSION], 1);
	assert_int_equal(f->dir[1].packets[QUICHDR_VERSION_NEGOTIATION], 1);
	assert_int_equal(f->dir[0].bytes, 1200); /* the client spoke first: it is the client */
}

static void test_recorded_gso(void **state)
{
	(void)state;
	analyze("quic_gso.pcap");
	const struct qflow *f = only_quic_flow();
	assert_int_equal(A.udp_frames, 32);
	/* 20 frames from the server, 3 of them GSO sends: the 32 datagrams it sent. */
	assert_int_equal(f->dir[1].gso_frames, 3);
	assert_int_equal(f->dir[1].datagrams, 32);
	assert_int_equal(f->dir[1].bytes, 35838);
	assert_int_equal(f->dir[0].gso_frames, 0);
	assert_int_equal(f->dir[0].datagrams, 12);
	assert_int_equal(f->dir[0].bytes, 4751);
	assert_int_equal(f->dir[0].undecodable + f->dir[1].undecodable, 0);
	cap_analysis_free(&A);
	/* Cut by a snaplen (editcap -s 256), a GSO frame cannot be split: it counts as one
	 * datagram, its bytes exact. */
	analyze("quic_gso_snap256.pcap");
	f = only_quic_flow();
	assert_int_equal(f->dir[1].gso_frames, 0);
	assert_int_equal(f->dir[1].datagrams, 20);
	assert_int_equal(f->dir[1].bytes, 35838);
}

static void test_join_h3_records(void **state)
{
	(void)state;
	analyze("quic_ok.pcap");
	struct ledgers l;
	ledgers_init(&l);
	char path[512];
	snprintf(path, sizeof path, "%s/tests/data/ledgers/quic_ok.probe.jsonl", root());
	assert_int_equal(ledgers_load(&l, path), 0);
	snprintf(path, sizeof path, "%s/tests/data/ledgers/quic_ok.origin.jsonl", root());
	assert_int_equal(ledgers_load(&l, path), 0);
	assert_int_equal(l.nprobe, 2);
	assert_string_equal(l.probe[0].proto, "h3");
	assert_int_equal(l.norigin, 2);
	struct join j;
	assert_int_equal(join_build(&j, &l, &A.flows), 0);
	assert_int_equal(join_quic(&j, &A.quic), 0);
	/* Both records share a local address; only the HTTP/3 one is the QUIC flow's. */
	size_t with = 0;
	for (size_t i = 0; i < j.n; i++)
		if (j.t[i].quic_flow) {
			with++;
			assert_string_equal(j.req[j.t[i].first].probe->proto, "h3");
			assert_ptr_equal(j.t[i].quic_flow, only_quic_flow());
		}
	assert_int_equal(with, 1);
	join_free(&j);
	ledgers_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_cases),
		cmocka_unit_test(test_initial_keys_rfc9001),
		cmocka_unit_test(test_open_real_initials),
		cmocka_unit_test(test_frames),
		cmocka_unit_test_teardown(test_recorded_ok, teardown),
		cmocka_unit_test_teardown(test_recorded_snaplen, teardown),
		cmocka_unit_test_teardown(test_recorded_alpn_refused, teardown),
		cmocka_unit_test_teardown(test_recorded_bad_ca, teardown),
		cmocka_unit_test_teardown(test_recorded_version_negotiation, teardown),
		cmocka_unit_test_teardown(test_recorded_gso, teardown),
		cmocka_unit_test_teardown(test_join_h3_records, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
