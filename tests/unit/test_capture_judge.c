/* capture/judge: one case per line — the ledger lines a join is given, and the verdict it
 * must make (code, hop, at_byte, the facts it used as "source what by on", and what would
 * have located it). Ledgers alone throughout: what a run against a proxy tunnelprobe did
 * not start has. Then the capture's refusals and hidden reset (refusals.pcap), the
 * per-request join of a keep-alive connection, and run ids. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/analyze.h"
#include "capture/join.h"
#include "capture/output.h"

/* Line builders: the fields each part writes (docs/ledgers.md), the rest defaulted. */
#define PROBE(id, cls, phase, exp, got, sent, extra)                                          \
	"{\"id\":\"" id "\",\"url\":\"https://o.test:8443/x\",\"class\":\"" cls "\",\"phase\":\"" \
	phase "\",\"detail\":\"\",\"status\":200,\"bytes_expected\":" #exp                       \
	",\"bytes_received\":" #got ",\"bytes_sent\":" #sent ",\"wire_received\":" #got          \
	",\"local\":\"127.0.0.1:5000\",\"proxy\":\"http://127.0.0.1:3128\",\"t\":1" extra "}"
#define ORIGIN(id, written, extra)                                                            \
	"{\"id\":" id ",\"peer\":\"127.0.0.1:6000\",\"local\":\"127.0.0.1:8443\",\"conn\":0,"     \
	"\"req\":0,\"tls\":true,\"status\":200,\"bytes_received\":119,\"bytes_written\":" #written \
	",\"body_bytes\":100000,\"conn_bytes_written\":" #written ",\"t\":1" extra "}"
#define ORIGIN_END(conn_written, extra)                                                      \
	"{\"id\":null,\"peer\":\"127.0.0.1:6000\",\"local\":\"127.0.0.1:8443\",\"conn\":0,"        \
	"\"req\":1,\"tls\":true,\"bytes_received\":0,\"bytes_written\":0,\"body_bytes\":0,"          \
	"\"conn_bytes_written\":" #conn_written ",\"t\":1" extra "}"
#define PROXY(extra)                                                                          \
	"{\"id\":null,\"kind\":\"connect\",\"client_peer\":\"127.0.0.1:5000\","                    \
	"\"upstream_local\":\"127.0.0.1:6000\",\"t\":1" extra "}"
#define FIN_END(acked) ",\"end\":\"fin\",\"fin_received\":true,\"bytes_acked_at_close\":" #acked
#define DOWN(r, s) ",\"down\":{\"received\":" #r ",\"sent\":" #s "}"
#define UP(r, s) ",\"up\":{\"received\":" #r ",\"sent\":" #s "}"

struct kase {
	const char *name;
	const char *lines[4];
	const char *code, *hop;
	long long at_byte;
	const char *facts;       /* "source what by on, ..." */
	unsigned would_locate;
};

static const struct kase cases[] = {
	{"proxy took it all, client got a FIN: truncated at the proxy",
	 {PROBE("a-0-0", "incomplete_read", "body", 100000, 34016, 119, ""),
	  ORIGIN("\"a-0-0\"", 100185, ",\"bytes_acked_after_response\":5000"),
	  ORIGIN_END(100185, FIN_END(102170))},
	 "truncated_proxy_client", "proxy", 34016,
	 "probe early_fin proxy client_leg, origin_ledger wrote origin origin_leg, "
	 "origin_ledger acked proxy origin_leg", 0},
	{"proxy cut the origin leg mid-response and the client's too",
	 {PROBE("a-0-0", "incomplete_read", "body", 100000, 16384, 119, ""),
	  ORIGIN("\"a-0-0\"", 30000, ",\"end\":\"rst\",\"rst_received\":true,\"bytes_acked_at_close\":31000")},
	 "truncated_proxy_client", "proxy", 16384,
	 "probe early_fin proxy client_leg, origin_ledger wrote origin origin_leg, "
	 "origin_ledger acked proxy origin_leg, origin_ledger rst proxy origin_leg", 0},
	{"the origin closed first mid-response: truncated at the origin",
	 {PROBE("a-0-0", "incomplete_read", "body", 100000, 20000, 119, ""),
	  ORIGIN("\"a-0-0\"", 20185, ",\"end\":\"local\",\"fin_sent\":true,\"fault\":\"truncate\"")},
	 "truncated_origin_proxy", "origin", 20185, "origin_ledger early_fin origin origin_leg, probe read client none",
	 0},
	{"the origin reset, the client saw a FIN: the reset became a FIN at the proxy",
	 {PROBE("a-0-0", "incomplete_read", "body", 100000, 29815, 119, ""),
	  ORIGIN("\"a-0-0\"", 30000, ",\"end\":\"local_rst\"")},
	 "reset_became_fin", "proxy", 29815,
	 "probe early_fin proxy client_leg, origin_ledger rst origin origin_leg", 0},
	{"the origin reset, the client saw a reset: passed on, the loss is the origin's",
	 {PROBE("a-0-0", "reset", "body", 100000, 29815, 119, ""),
	  ORIGIN("\"a-0-0\"", 30000, ",\"end\":\"local_rst\"")},
	 "reset_by_origin", "origin", 30000, "origin_ledger rst origin origin_leg, probe rst proxy client_leg", 0},
	{"the origin finished, the client was reset: reset by the proxy",
	 {PROBE("a-0-0", "reset", "body", 100000, 5000, 119, ""), ORIGIN("\"a-0-0\"", 100185, "")},
	 "reset_by_proxy", "proxy", 5000, "probe rst proxy client_leg, origin_ledger wrote origin origin_leg", 0},
	{"the origin sent its FIN, the client waited for one: FIN withheld at the proxy",
	 {PROBE("a-0-0", "timeout", "fin", 5000, 5000, 117, ""), ORIGIN("\"a-0-0\"", 5178, ""),
	  ORIGIN_END(5178, ",\"end\":\"fin\",\"fin_sent\":true,\"fin_received\":true")},
	 "no_fin", "proxy", 5000,
	 "probe no_fin proxy client_leg, origin_ledger fin origin origin_leg, probe read client none, "
	 "probe failed client none", 0},
	{"the proxy took every byte and the client timed out mid-body: stalled at the proxy",
	 {PROBE("a-0-0", "timeout", "body", 100000, 40000, 119, ""), ORIGIN("\"a-0-0\"", 100185, ""),
	  ORIGIN_END(100185, FIN_END(102170))},
	 "client_timeout", "proxy", 40000,
	 "probe read client none, origin_ledger wrote origin origin_leg, origin_ledger acked proxy origin_leg, "
	 "probe failed client none", 0},
	{"the origin read fewer request bytes than the probe sent through the tunnel",
	 {PROBE("a-0-0", "timeout", "first_byte", 100, 0, 100119, ""),
	  ORIGIN("\"a-0-0\"", 0, ",\"bytes_received\":60000,\"end\":\"fin\"")},
	 "upload_lost", "proxy", 60000, "origin_ledger read origin origin_leg, probe wrote client client_leg, "
	 "probe failed client none", 0},
	{"the request never reached the origin, whose ledger has this run's other requests",
	 {PROBE("a-0-1", "timeout", "first_byte", 100, 0, 119, ",\"latency_ms\":2000"),
	  ORIGIN("\"a-0-2\"", 1181, ",\"t\":3.5")},
	 "upload_lost", "proxy", -1, "origin_ledger absent origin none, probe wrote client client_leg, "
	 "probe failed client none", 0},
	{"... but not while the origin may still write its line (nothing it logged started later)",
	 {PROBE("a-0-1", "timeout", "first_byte", 100, 0, 119, ",\"latency_ms\":2000"),
	  ORIGIN("\"a-0-0\"", 1181, ",\"t\":2.5")},
	 "client_timeout", "none", 0, "probe read client none, probe failed client none", TP_NEED_PROXY_LEDGER |
	 TP_NEED_CAPTURE_CLIENT_LEG | TP_NEED_CAPTURE_ORIGIN_LEG},
	{"a CONNECT refused with 502: refused by the proxy, with its code",
	 {PROBE("a-0-0", "proxy_refused", "proxy", -1, 0, 0, ",\"status\":502")},
	 "proxy_refused", "proxy", -1, "probe refused proxy none", 0},
	{"a SOCKS5 refusal the proxy's ledger gives the code of",
	 {PROBE("a-0-0", "proxy_refused", "proxy", -1, 0, 0, ",\"status\":0"),
	  PROXY(",\"kind\":\"socks5\",\"reply\":5" DOWN(0, 0) UP(0, 0))},
	 "proxy_refused", "proxy", -1, "probe refused proxy none, proxy_ledger refused proxy none", 0},
	{"the proxy closed before its CONNECT reply: aborted is a refusal too",
	 {PROBE("a-0-0", "proxy_connect_aborted", "proxy", -1, 0, 0, "")},
	 "proxy_refused", "proxy", -1, "probe refused proxy none", 0},
	{"accepted, then closed before the first byte: closed early",
	 {PROBE("a-0-0", "tunnel_closed_early", "tls", -1, 0, 0, "")},
	 "closed_early", "proxy", 0, "probe fin proxy client_leg, probe failed client none", 0},
	{"the probe alone cannot tell the origin from the proxy, and says what would",
	 {PROBE("a-0-0", "incomplete_read", "body", 100000, 34016, 119, "")},
	 "failed_unlocated", "none", -1, "probe failed client none, probe read client none", TP_NEED_ALL},
	{"a body that differs: no witness here compares payloads across hops",
	 {PROBE("a-0-0", "corrupt_body", "body", 10, 10, 119, "")},
	 "failed_unlocated", "none", -1, "probe failed client none, probe read client none", 0},
	{"the proxy's ledger: the origin ended, the proxy never ended the client's side",
	 {PROBE("a-0-0", "timeout", "fin", 5000, 5000, 117, ""),
	  PROXY(",\"upstream_end\":\"fin\",\"client_end\":\"timeout\",\"shutdown_write_client\":false,"
		"\"reply\":200" DOWN(7000, 7000) UP(600, 600))},
	 "no_fin", "proxy", 7000, "proxy_ledger no_fin proxy client_leg, proxy_ledger fin origin origin_leg, "
	 "probe failed client none", 0},
	{"the proxy's ledger: it passed on less of the upload than it received",
	 {PROBE("a-0-0", "timeout", "first_byte", 10, 0, 100119, ""),
	  PROXY(",\"reply\":200" DOWN(0, 0) UP(100119, 40000))},
	 "upload_lost", "proxy", 40000, "proxy_ledger wrote proxy origin_leg, probe failed client none", 0},
	{"a tunnel the proxy refused that no probe record claims",
	 {PROXY(",\"reply\":400" DOWN(0, 0) UP(0, 0))}, "proxy_refused", "proxy", -1,
	 "proxy_ledger refused proxy none", 0},
	{"every request ok; an origin idle timeout is no evidence of a lost FIN",
	 {PROBE("a-0-0", "ok", "done", 1000, 1000, 117, ""), ORIGIN("\"a-0-0\"", 1181, ""),
	  ORIGIN_END(1181, ",\"end\":\"timeout\"")},
	 "ok", "none", -1, "", 0},
	{"direct (no proxy): the origin wrote it all, there is no proxy to blame",
	 {PROBE("a-0-0", "incomplete_read", "body", 100000, 34016, 119, ",\"proxy\":null"),
	  ORIGIN("\"a-0-0\"", 100185, "")},
	 "failed_unlocated", "none", -1, "probe failed client none, probe read client none",
	 TP_NEED_CAPTURE_CLIENT_LEG},
	{"direct (no proxy): the origin closed early",
	 {PROBE("a-0-0", "incomplete_read", "body", 100000, 20000, 119, ",\"proxy\":null"),
	  ORIGIN("\"a-0-0\"", 20185, ",\"end\":\"local\",\"fin_sent\":true")},
	 "truncated_origin_proxy", "origin", 20185, "origin_ledger early_fin origin origin_leg, probe read client none",
	 0},
	{"a TLS alert the probe saw", {PROBE("a-0-0", "tls_alert", "tls", -1, 0, 0, "")}, "tls_alert", "none", -1,
	 "probe failed client none", 0},
};

static void join_lines(const char *const *lines, struct ledgers *l, struct join *j)
{
	ledgers_init(l);
	for (size_t i = 0; i < 4 && lines[i]; i++) {
		json_error_t e;
		json_t *o = json_loads(lines[i], 0, &e);
		if (!o)
			fail_msg("bad line %zu: %s: %s", i, e.text, lines[i]);
		assert_true(ledgers_add(l, o, NULL));
		json_decref(o);
	}
	assert_int_equal(join_build(j, l, NULL), 0);
}

/* "source what by on, ..." */
static void facts(const struct tp_verdict *v, char *out, size_t cap)
{
	size_t n = 0;
	out[0] = '\0';
	for (size_t i = 0; i < v->nevidence && n < cap; i++) {
		const struct tp_evidence *e = &v->evidence[i];
		n += (size_t)snprintf(out + n, cap - n, "%s%s %s %s %s", i ? ", " : "",
				      tp_verdict_source_name(e->source), tp_verdict_fact_name(e->what),
				      tp_verdict_hop_name(e->by), tp_verdict_hop_name(e->on));
	}
}

static void test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct kase *k = &cases[i];
		struct ledgers l;
		struct join j;
		join_lines(k->lines, &l, &j);
		if (j.n != 1)
			fail_msg("%s: %zu tunnels", k->name, j.n);
		const struct tp_verdict *v = &j.t[0].verdict;
		char got[1024], text[TP_VERDICT_TEXT_MAX];
		facts(v, got, sizeof got);
		tp_verdict_render(v, text, sizeof text);
		if (strcmp(tp_verdict_code_name(v->code), k->code) != 0 ||
		    strcmp(tp_verdict_hop_name(v->hop), k->hop) != 0 || v->at_byte != k->at_byte ||
		    strcmp(got, k->facts) != 0 || v->would_locate != k->would_locate)
			fail_msg("%s:\n  got  %s %s at %lld [%s] needs %x\n  want %s %s at %lld [%s] needs %x\n  %s",
				 k->name, tp_verdict_code_name(v->code), tp_verdict_hop_name(v->hop), v->at_byte,
				 got, v->would_locate, k->code, k->hop, k->at_byte, k->facts, k->would_locate, text);
		join_free(&j);
		ledgers_free(&l);
	}
}

static const struct kase *find_case(const char *name_start)
{
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (strncmp(cases[i].name, name_start, strlen(name_start)) == 0)
			return &cases[i];
	fail_msg("no case '%s'", name_start);
	return NULL;
}

/* The refusal's code and the acknowledged bytes are in the facts, not only the words. */
static void test_fact_values(void **state)
{
	(void)state;
	struct ledgers l;
	struct join j;
	join_lines(find_case("proxy took it all")->lines, &l, &j);
	const struct tp_verdict *v = &j.t[0].verdict;
	assert_int_equal(v->evidence[0].of, 100000);
	assert_int_equal(v->evidence[0].unit, TP_UNIT_BODY);
	assert_int_equal(v->evidence[1].bytes, 100185);
	assert_int_equal(v->evidence[1].unit, TP_UNIT_MESSAGE);
	assert_int_equal(v->evidence[2].bytes, 102170);
	assert_int_equal(v->evidence[2].unit, TP_UNIT_STREAM);
	char text[TP_VERDICT_TEXT_MAX];
	assert_string_equal(tp_verdict_render(v, text, sizeof text),
			    "truncated at proxy→client (early FIN by proxy at body byte 34016 on the client leg, "
			    "HTTP framing expected 100000; origin wrote 100185 bytes; proxy acknowledged 102170 "
			    "bytes on the origin leg)");
	assert_int_equal(j.t[0].down.wire.origin_acked, 102170);
	join_free(&j);
	ledgers_free(&l);
	join_lines(find_case("a CONNECT refused")->lines, &l, &j);
	assert_int_equal(j.t[0].verdict.evidence[0].reply, 502);
	assert_string_equal(j.t[0].verdict.evidence[0].name, "http");
	join_free(&j);
	ledgers_free(&l);
	join_lines(find_case("the probe alone")->lines, &l, &j);
	assert_string_equal(tp_verdict_render(&j.t[0].verdict, text, sizeof text),
			    "no hop could be named from the inputs (incomplete_read in phase body; client read "
			    "34016 of 100000 body bytes); the origin's ledger, the proxy's ledger, a capture on "
			    "the client leg or a capture on the origin leg would name the hop");
	join_free(&j);
	ledgers_free(&l);
}

/* The capture: a CONNECT 502 and a SOCKS5 reply 5 are refusals with their codes (not a
 * short read), and an origin reset the proxy passed on as a FIN is seen on the wire. */
static void test_capture_refusals_and_hidden_reset(void **state)
{
	(void)state;
	char path[512], err[256];
	const char *root = getenv("TP_ROOT");
	struct ledgers l;
	ledgers_init(&l);
	snprintf(path, sizeof path, "%s/tests/data/ledgers/refusals.probe.jsonl", root ? root : ".");
	assert_int_equal(ledgers_load(&l, path), 0);
	snprintf(path, sizeof path, "%s/tests/data/ledgers/refusals.origin.jsonl", root ? root : ".");
	assert_int_equal(ledgers_load(&l, path), 0);
	snprintf(path, sizeof path, "%s/tests/data/pcap/refusals.pcap", root ? root : ".");
	struct cap_opts o = {.read_path = path};
	struct cap_analysis a;
	assert_int_equal(cap_analysis_init(&a, &o), 0);
	assert_int_equal(cap_analysis_run(&a, err, sizeof err), 0);
	struct join j;
	assert_int_equal(join_build(&j, &l, &a.flows), 0);
	assert_int_equal(j.n, 3);
	const struct tp_verdict *v = &j.t[0].verdict;
	assert_int_equal(v->code, TP_V_PROXY_REFUSED);
	assert_int_equal(v->nevidence, 2);
	assert_int_equal(v->evidence[1].source, TP_SRC_CAPTURE);
	assert_int_equal(v->evidence[1].reply, 502);
	v = &j.t[1].verdict;
	assert_int_equal(v->code, TP_V_PROXY_REFUSED);
	assert_int_equal(v->evidence[0].reply, -1); /* the probe's words only */
	assert_string_equal(v->evidence[1].name, "socks5");
	assert_int_equal(v->evidence[1].reply, 5);
	v = &j.t[2].verdict;
	assert_int_equal(v->code, TP_V_RESET_BECAME_FIN);
	assert_int_equal(v->evidence[0].source, TP_SRC_CAPTURE);
	assert_int_equal(v->evidence[0].by, TP_HOP_PROXY);
	assert_int_equal(v->evidence[0].on, TP_HOP_CLIENT_LEG);
	assert_int_equal(v->evidence[1].what, TP_FACT_RST);
	assert_int_equal(v->evidence[1].by, TP_HOP_ORIGIN);
	join_free(&j);
	cap_analysis_free(&a);
	ledgers_free(&l);
}

/* A keep-alive connection through a forward proxy that logs one line per request: each
 * request gets its own proxy line (by id, or in order without one) and chain. */
static void test_keep_alive_per_request(void **state)
{
	(void)state;
#define FWD(id, r, s) "{\"id\":" id ",\"kind\":\"forward\",\"client_peer\":\"127.0.0.1:7000\",\"t\":%d" \
	DOWN(r, s) UP(100, 100) "}"
	const char *const lines[] = {
		"{\"id\":\"k-0-0\",\"url\":\"http://o/x\",\"proxy\":\"http://p:1\",\"class\":\"ok\",\"phase\":\"done\","
		"\"bytes_expected\":1000,\"bytes_received\":1000,\"bytes_sent\":100,\"wire_received\":1100,"
		"\"local\":\"127.0.0.1:7000\",\"t\":1}",
		"{\"id\":\"k-0-1\",\"url\":\"http://o/x\",\"proxy\":\"http://p:1\",\"class\":\"incomplete_read\","
		"\"phase\":\"body\",\"bytes_expected\":5000,\"bytes_received\":2000,\"bytes_sent\":100,"
		"\"wire_received\":2100,\"local\":\"127.0.0.1:7000\",\"t\":2}",
		"{\"id\":\"k-0-2\",\"url\":\"http://o/x\",\"proxy\":\"http://p:1\",\"class\":\"ok\",\"phase\":\"done\","
		"\"bytes_expected\":10,\"bytes_received\":10,\"bytes_sent\":100,\"wire_received\":110,"
		"\"local\":\"127.0.0.1:7000\",\"t\":3}",
	};
	char fwd[3][256];
	snprintf(fwd[0], sizeof fwd[0], FWD("\"k-0-1\"", 5100, 2100), 2);
	snprintf(fwd[1], sizeof fwd[1], FWD("\"k-0-0\"", 1100, 1100), 1);
	snprintf(fwd[2], sizeof fwd[2], FWD("null", 110, 110), 3); /* no id: joined in order */
	struct ledgers l;
	ledgers_init(&l);
	for (size_t i = 0; i < 6; i++) {
		json_t *o = json_loads(i < 3 ? lines[i] : fwd[i - 3], 0, NULL);
		assert_non_null(o);
		assert_true(ledgers_add(&l, o, NULL));
		json_decref(o);
	}
	struct join j;
	assert_int_equal(join_build(&j, &l, NULL), 0);
	assert_int_equal(j.n, 1);
	const struct tunnel *t = &j.t[0];
	assert_int_equal(t->nrequests, 3);
	const struct jrequest *q = &j.req[t->first];
	assert_string_equal(q[0].probe->id, "k-0-0");
	assert_int_equal(q[0].down.proxy_sent, 1100);
	assert_null(q[0].verdict);
	assert_int_equal(q[1].down.proxy_received, 5100);
	assert_int_equal(q[1].verdict->code, TP_V_TRUNCATED_PROXY_CLIENT);
	assert_int_equal(q[1].verdict->at_byte, 2100);
	assert_int_equal(q[2].down.proxy_sent, 110);
	assert_int_equal(t->verdict.code, TP_V_TRUNCATED_PROXY_CLIENT);
	/* The tunnel's chain adds its requests up, in one unit. */
	assert_int_equal(t->down.proxy_received, 1100 + 5100 + 110);
	assert_int_equal(t->down.probe, 1100 + 2100 + 110);
	assert_int_equal(t->down.expected, 1000 + 5000 + 10);
	json_t *doc = capture_json(NULL, &l, &j, false);
	json_t *reqs = json_object_get(json_array_get(json_object_get(doc, "tunnels"), 0), "per_request");
	assert_int_equal(json_array_size(reqs), 3);
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(json_array_get(reqs, 1), "verdict"), "code")),
			    "truncated_proxy_client");
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(json_array_get(reqs, 0), "verdict"), "code")), "ok");
	json_decref(doc);
	join_free(&j);
	ledgers_free(&l);
}

/* Only the run's own lines join; the rest are counted. A run.json's failures inherit
 * its run_id. */
static void test_run_ids(void **state)
{
	(void)state;
	struct ledgers l;
	ledgers_init(&l);
	snprintf(l.run_id, sizeof l.run_id, "%s", "now");
	static const char *const lines[] = {
		PROBE("a-0-0", "ok", "done", 10, 10, 10, ",\"run\":\"before\""),
		PROBE("b-0-0", "incomplete_read", "body", 10, 5, 10, ",\"run\":\"now\""),
		PROBE("c-0-0", "ok", "done", 10, 10, 10, ""),
		ORIGIN("\"a-0-0\"", 100, ",\"run\":\"before\""),
	};
	for (size_t i = 0; i < 4; i++) {
		json_t *o = json_loads(lines[i], 0, NULL);
		assert_true(ledgers_add(&l, o, NULL));
		json_decref(o);
	}
	assert_int_equal(l.nprobe, 1);
	assert_int_equal(l.norigin, 0);
	assert_int_equal(l.other_runs, 3);
	json_t *inherits = json_loads(PROBE("d-0-0", "ok", "done", 10, 10, 10, ""), 0, NULL);
	assert_true(ledgers_add(&l, inherits, "now"));
	assert_true(ledgers_add(&l, inherits, "before"));
	json_decref(inherits);
	assert_int_equal(l.nprobe, 2);
	assert_int_equal(l.other_runs, 4);
	assert_true(ledgers_run_id_valid("demo-1763851234-4242"));
	assert_true(ledgers_run_id_valid("a.b_c"));
	assert_false(ledgers_run_id_valid(""));
	assert_false(ledgers_run_id_valid("a b"));
	assert_false(ledgers_run_id_valid("x/y"));
	assert_false(ledgers_run_id_valid("0123456789012345678901234567890123456789012345678901234567890123456789"));
	ledgers_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_fact_values),
		cmocka_unit_test(test_capture_refusals_and_hidden_reset),
		cmocka_unit_test(test_keep_alive_per_request),
		cmocka_unit_test(test_run_ids),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
