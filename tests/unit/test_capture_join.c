/* The ledger join: tunnels from probe records, origin and proxy ledgers, with and
 * without a capture, and the verdict naming the hop and the byte offset. */
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

static void add_line(struct ledgers *l, const char *json)
{
	json_error_t e;
	json_t *o = json_loads(json, 0, &e);
	assert_non_null(o);
	assert_true(ledgers_add(l, o, NULL));
	json_decref(o);
}

static const struct tunnel *by_local(const struct join *j, const char *local)
{
	for (size_t i = 0; i < j->n; i++)
		if (strcmp(j->t[i].local, local) == 0)
			return &j->t[i];
	fail_msg("no tunnel %s", local);
	return NULL;
}

/* The verdict lists a fact from src saying what, by whom, with that count. */
static void assert_fact(const struct tp_verdict *v, enum tp_source src, enum tp_fact what,
			enum tp_hop by, long long bytes)
{
	for (size_t i = 0; i < v->nevidence; i++) {
		const struct tp_evidence *e = &v->evidence[i];
		if (e->source == src && e->what == what && e->by == by && e->bytes == bytes)
			return;
	}
	char text[TP_VERDICT_TEXT_MAX];
	fail_msg("no %s fact '%s' by %s of %lld in: %s", tp_verdict_source_name(src),
		 tp_verdict_fact_name(what), tp_verdict_hop_name(by), bytes,
		 tp_verdict_render(v, text, sizeof text));
}

static void load_fixtures(struct ledgers *l)
{
	char path[512];
	const char *root = getenv("TP_ROOT");
	snprintf(path, sizeof path, "%s/tests/data/ledgers/tunnels.probe.jsonl", root ? root : ".");
	assert_int_equal(ledgers_load(l, path), 0);
	snprintf(path, sizeof path, "%s/tests/data/ledgers/tunnels.origin.jsonl", root ? root : ".");
	assert_int_equal(ledgers_load(l, path), 0);
	assert_int_equal(l->nprobe, 3);
	assert_int_equal(l->norigin, 6); /* a line per request, one per connection end */
	assert_int_equal(l->bad_lines, 0);
}

static void test_capture_and_ledgers_name_the_hop(void **state)
{
	(void)state;
	struct ledgers l;
	ledgers_init(&l);
	load_fixtures(&l);
	char path[512], err[256];
	const char *root = getenv("TP_ROOT");
	snprintf(path, sizeof path, "%s/tests/data/pcap/tunnels.pcap", root ? root : ".");
	struct cap_opts o = {.read_path = path};
	struct cap_analysis a;
	assert_int_equal(cap_analysis_init(&a, &o), 0);
	assert_int_equal(cap_analysis_run(&a, err, sizeof err), 0);
	struct join j;
	assert_int_equal(join_build(&j, &l, &a.flows), 0);
	assert_int_equal(j.n, 3);
	assert_int_equal(j.flows_in_tunnels, 6);

	const struct tunnel *t = by_local(&j, "127.0.0.1:40101");
	char text[TP_VERDICT_TEXT_MAX];
	assert_int_equal(t->verdict.code, TP_V_TRUNCATED_PROXY_CLIENT);
	assert_int_equal(t->verdict.hop, TP_HOP_PROXY);
	assert_int_equal(t->verdict.direction, TP_DIR_DOWN);
	assert_int_equal(t->verdict.at_byte, 5000);
	/* The end the capture saw decides; the witnesses of the shortfall follow. */
	assert_int_equal(t->verdict.evidence[0].what, TP_FACT_TLS_CLOSE);
	assert_int_equal(t->verdict.evidence[0].on, TP_HOP_CLIENT_LEG);
	assert_fact(&t->verdict, TP_SRC_CAPTURE, TP_FACT_CARRIED, TP_HOP_NONE, 20110);
	assert_fact(&t->verdict, TP_SRC_PROBE, TP_FACT_READ, TP_HOP_CLIENT, 5000);
	assert_string_equal(tp_verdict_render(&t->verdict, text, sizeof text),
			    "truncated at proxy→client (FIN by proxy at byte 5000 on the client leg inside a TLS "
			    "record; the origin leg carried 20110 bytes; client read 5000 of 20000 body bytes)");
	/* One unit per column: TLS legs are stream bytes, in `wire` only. */
	assert_int_equal(t->down.wire.client_leg, 5000);
	assert_int_equal(t->down.wire.origin_leg, t->down.wire.client_leg + 15110);
	assert_int_equal(t->down.client_leg, JOIN_UNKNOWN);
	assert_int_equal(t->down.origin_leg, JOIN_UNKNOWN);
	assert_int_equal(t->down.origin_wrote, 20100);
	assert_int_equal(t->down.probe, 5000);
	assert_int_equal(t->down.probe_body, 5000);
	assert_int_equal(t->down.expected, 20000);
	assert_int_equal(t->down.wire.origin_acked, 20110);

	t = by_local(&j, "127.0.0.1:40102");
	assert_int_equal(t->verdict.code, TP_V_RESET_BY_PROXY);
	assert_int_equal(t->verdict.at_byte, 3000);
	assert_fact(&t->verdict, TP_SRC_CAPTURE, TP_FACT_RST, TP_HOP_PROXY, 3000);

	t = by_local(&j, "127.0.0.1:40103");
	assert_int_equal(t->verdict.code, TP_V_OK);
	assert_int_equal(t->down.wire.client_leg, t->down.wire.origin_leg);
	assert_false(capture_all_ok(&a, &j));

	json_t *doc = capture_json(&a, &l, &j, false);
	assert_non_null(doc);
	json_t *verdicts = json_object_get(doc, "verdicts");
	assert_int_equal(json_integer_value(json_object_get(verdicts, "truncated_proxy_client")), 1);
	/* Each tunnel's verdict is an object, read back by its code. */
	json_t *tunnels = json_object_get(doc, "tunnels");
	assert_int_equal(json_array_size(tunnels), 3);
	size_t i;
	json_t *jt;
	json_array_foreach(tunnels, i, jt) {
		json_t *jv = json_object_get(jt, "verdict");
		struct tp_verdict back;
		assert_int_equal(tp_verdict_from_json(jv, &back), 0);
		assert_int_equal(back.code, j.t[i].verdict.code);
		assert_int_equal(back.nevidence, j.t[i].verdict.nevidence);
		assert_string_equal(tp_verdict_json_text(jv), tp_verdict_render(&j.t[i].verdict, text, sizeof text));
		assert_null(json_object_get(jt, "verdict_code"));
	}
	assert_int_equal(json_array_size(json_object_get(doc, "flows")), 6);
	json_decref(doc);
	join_free(&j);
	cap_analysis_free(&a);
	ledgers_free(&l);
}

static void test_ledgers_alone(void **state)
{
	(void)state;
	struct ledgers l;
	ledgers_init(&l);
	load_fixtures(&l);
	struct join j;
	assert_int_equal(join_build(&j, &l, NULL), 0);
	const struct tunnel *t = by_local(&j, "127.0.0.1:40101");
	char text[TP_VERDICT_TEXT_MAX];
	assert_int_equal(t->verdict.code, TP_V_TRUNCATED_PROXY_CLIENT);
	assert_int_equal(t->verdict.at_byte, 5000);
	/* Probe + origin ledger alone: the origin wrote it all and the proxy acknowledged
	 * it, the client got 5000 body bytes and then the proxy's FIN. */
	assert_int_equal(t->verdict.evidence[0].source, TP_SRC_PROBE);
	assert_int_equal(t->verdict.evidence[0].what, TP_FACT_EARLY_FIN);
	assert_int_equal(t->verdict.evidence[0].unit, TP_UNIT_BODY);
	assert_fact(&t->verdict, TP_SRC_ORIGIN_LEDGER, TP_FACT_WROTE, TP_HOP_ORIGIN, 20100);
	assert_fact(&t->verdict, TP_SRC_ORIGIN_LEDGER, TP_FACT_ACKED, TP_HOP_PROXY, 20110);
	assert_string_equal(tp_verdict_render(&t->verdict, text, sizeof text),
			    "truncated at proxy→client (early FIN by proxy at body byte 5000 on the client leg, "
			    "HTTP framing expected 20000; origin wrote 20100 bytes; proxy acknowledged 20110 bytes on the "
			    "origin leg)");
	assert_int_equal(t->verdict.nevidence, 3);
	assert_int_equal(t->verdict.evidence[2].unit, TP_UNIT_STREAM); /* TCP counts TLS records */
	const struct tp_verdict *rv = &by_local(&j, "127.0.0.1:40102")->verdict;
	assert_int_equal(rv->code, TP_V_RESET_BY_PROXY);
	assert_fact(rv, TP_SRC_PROBE, TP_FACT_RST, TP_HOP_PROXY, 3000);
	assert_int_equal(by_local(&j, "127.0.0.1:40103")->verdict.code, TP_V_OK);
	assert_int_equal(j.counts[TP_V_OK], 1);
	join_free(&j);
	ledgers_free(&l);
}

static void test_proxy_ledger_short_send(void **state)
{
	(void)state;
	struct ledgers l;
	ledgers_init(&l);
	add_line(&l, "{\"id\":null,\"kind\":\"connect\",\"client_peer\":\"127.0.0.1:5000\","
		     "\"client_local\":\"127.0.0.1:3128\",\"upstream_local\":\"127.0.0.1:6000\","
		     "\"upstream_peer\":\"127.0.0.1:8443\",\"target\":\"o:8443\","
		     "\"down\":{\"received\":654397,\"sent\":34016,\"recv_ops\":20,\"send_ops\":3,"
		     "\"short_sends\":1,\"dropped\":620381},"
		     "\"up\":{\"received\":500,\"sent\":500,\"recv_ops\":2,\"send_ops\":2,"
		     "\"short_sends\":0,\"dropped\":0},\"first_close\":\"upstream\","
		     "\"client_end\":\"local\",\"upstream_end\":\"fin\",\"shutdown_write_client\":true,"
		     "\"shutdown_write_upstream\":false,\"reply\":200,\"fault\":\"truncate:after=34016\","
		     "\"t\":1.0,\"duration_ms\":3}");
	/* Lines of no known kind are counted, not fatal. */
	json_t *junk = json_pack("{s:i}", "what", 1);
	assert_false(ledgers_add(&l, junk, NULL));
	json_decref(junk);
	struct join j;
	assert_int_equal(join_build(&j, &l, NULL), 0);
	assert_int_equal(j.n, 1);
	char text[TP_VERDICT_TEXT_MAX];
	assert_int_equal(j.t[0].verdict.code, TP_V_TRUNCATED_PROXY_CLIENT);
	assert_int_equal(j.t[0].verdict.at_byte, 34016);
	assert_int_equal(j.t[0].verdict.evidence[0].of, 654397);
	assert_string_equal(tp_verdict_render(&j.t[0].verdict, text, sizeof text),
			    "truncated at proxy→client (proxy wrote 34016 of the 654397 bytes it received; FIN by proxy at byte "
			    "34016 on the client leg)");
	assert_int_equal(j.t[0].down.wire.proxy_received, 654397);
	assert_int_equal(j.t[0].down.wire.proxy_sent, 34016);
	join_free(&j);
	ledgers_free(&l);
}

static void test_timeout_and_unlocated_failures(void **state)
{
	(void)state;
	struct ledgers l;
	ledgers_init(&l);
	add_line(&l, "{\"id\":\"a\",\"class\":\"timeout\",\"phase\":\"fin\",\"bytes_expected\":10,"
		     "\"bytes_received\":10,\"bytes_sent\":5,\"local\":\"127.0.0.1:1\",\"t\":1}");
	add_line(&l, "{\"id\":\"b\",\"class\":\"corrupt_body\",\"phase\":\"body\",\"detail\":\"x\","
		     "\"bytes_expected\":10,\"bytes_received\":10,\"bytes_sent\":5,"
		     "\"local\":\"127.0.0.1:2\",\"t\":1}");
	struct join j;
	assert_int_equal(join_build(&j, &l, NULL), 0);
	char text[TP_VERDICT_TEXT_MAX];
	assert_int_equal(by_local(&j, "127.0.0.1:1")->verdict.code, TP_V_CLIENT_TIMEOUT);
	assert_string_equal(tp_verdict_render(&by_local(&j, "127.0.0.1:1")->verdict, text, sizeof text),
			    "client gave up (client read 10 of 10 body bytes; timeout in phase fin); the origin's "
			    "ledger or a capture on the client leg would name the hop");
	const struct tp_verdict *u = &by_local(&j, "127.0.0.1:2")->verdict;
	assert_int_equal(u->code, TP_V_FAILED_UNLOCATED);
	assert_int_equal(u->hop, TP_HOP_NONE);
	assert_int_equal(u->at_byte, -1);
	assert_string_equal(tp_verdict_render(u, text, sizeof text),
			    "no hop could be named from the inputs (corrupt_body in phase body: x; client read 10 "
			    "of 10 body bytes)");
	assert_false(capture_all_ok(NULL, &j));
	join_free(&j);
	ledgers_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_capture_and_ledgers_name_the_hop),
		cmocka_unit_test(test_ledgers_alone),
		cmocka_unit_test(test_proxy_ledger_short_send),
		cmocka_unit_test(test_timeout_and_unlocated_failures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
