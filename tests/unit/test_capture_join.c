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
	assert_true(ledgers_add(l, o));
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

static void load_fixtures(struct ledgers *l)
{
	char path[512];
	const char *root = getenv("TP_ROOT");
	snprintf(path, sizeof path, "%s/tests/data/ledgers/tunnels.probe.jsonl", root ? root : ".");
	assert_int_equal(ledgers_load(l, path), 0);
	snprintf(path, sizeof path, "%s/tests/data/ledgers/tunnels.origin.jsonl", root ? root : ".");
	assert_int_equal(ledgers_load(l, path), 0);
	assert_int_equal(l->nprobe, 3);
	assert_int_equal(l->norigin, 3);
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
	assert_int_equal(t->verdict, V_TRUNC_PROXY_CLIENT);
	assert_int_equal(t->offset, 5000);
	assert_string_equal(t->text, "truncated at proxy→client (early FIN by proxy at byte 5000)");
	assert_int_equal(t->down.client_leg, 5000);
	assert_int_equal(t->down.origin_leg, t->down.client_leg + 15110);
	assert_int_equal(t->down.origin_wrote, 20100);
	assert_int_equal(t->down.expected, 20000);

	t = by_local(&j, "127.0.0.1:40102");
	assert_int_equal(t->verdict, V_RESET_BY_PROXY);
	assert_int_equal(t->offset, 3000);

	t = by_local(&j, "127.0.0.1:40103");
	assert_int_equal(t->verdict, V_OK);
	assert_int_equal(t->down.client_leg, t->down.origin_leg);
	assert_false(capture_all_ok(&a, &j));

	json_t *doc = capture_json(&a, &l, &j);
	assert_non_null(doc);
	json_t *verdicts = json_object_get(doc, "verdicts");
	assert_int_equal(json_integer_value(json_object_get(verdicts, "truncated_proxy_client")), 1);
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
	assert_int_equal(t->verdict, V_TRUNC_PROXY_CLIENT);
	assert_int_equal(t->offset, 5000);
	assert_non_null(strstr(t->text, "proxy acknowledged"));
	assert_int_equal(by_local(&j, "127.0.0.1:40102")->verdict, V_RESET_BY_PROXY);
	assert_int_equal(by_local(&j, "127.0.0.1:40103")->verdict, V_OK);
	assert_int_equal(j.counts[V_OK], 1);
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
	assert_false(ledgers_add(&l, junk));
	json_decref(junk);
	struct join j;
	assert_int_equal(join_build(&j, &l, NULL), 0);
	assert_int_equal(j.n, 1);
	assert_int_equal(j.t[0].verdict, V_TRUNC_PROXY_CLIENT);
	assert_int_equal(j.t[0].offset, 34016);
	assert_int_equal(j.t[0].down.proxy_received, 654397);
	assert_int_equal(j.t[0].down.proxy_sent, 34016);
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
	assert_int_equal(by_local(&j, "127.0.0.1:1")->verdict, V_CLIENT_TIMEOUT);
	assert_int_equal(by_local(&j, "127.0.0.1:2")->verdict, V_FAILED);
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
