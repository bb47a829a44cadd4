/* lib/verdict: the code table (names are a contract), the sentence rendered from the
 * data, the bounded evidence list, and JSON both ways, including what a reader must
 * refuse. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "lib/verdict.h"

static json_t *parse(const char *text)
{
	json_error_t err;
	json_t *j = json_loads(text, JSON_DECODE_ANY, &err);
	if (!j)
		fail_msg("bad test JSON: %s", err.text);
	return j;
}

/* Today's codes, in table order, with the hop and direction each names: renaming one
 * breaks run files, scenarios and reports. */
static void test_code_table_is_stable(void **state)
{
	(void)state;
	static const struct {
		const char *name, *hop, *dir;
	} want[TP_V_COUNT] = {
		{"ok", "none", "none"},
		{"truncated_proxy_client", "proxy", "down"},
		{"reset_by_proxy", "proxy", "down"},
		{"truncated_origin_proxy", "origin", "down"},
		{"reset_by_origin", "origin", "down"},
		{"reset_upstream_by_proxy", "proxy", "down"},
		{"lost_gap", "wire", "down"},
		{"client_timeout", "none", "down"},
		{"no_fin", "proxy", "down"},
		{"client_short_read", "client", "down"},
		{"reset_by_client", "client", "none"},
		{"tls_alert", "none", "none"},
		{"closed_early", "proxy", "down"},
		{"reset_became_fin", "proxy", "down"},
		{"upload_lost", "proxy", "up"},
		{"proxy_refused", "proxy", "none"},
		{"failed_unlocated", "none", "none"},
		{"early_fin", "wire", "none"},
		{"reset", "wire", "none"},
		{"tls_truncation", "wire", "none"},
		{"gap", "wire", "none"},
		{"unknown", "none", "none"},
	};
	for (int c = 0; c < TP_V_COUNT; c++) {
		assert_string_equal(tp_verdict_code_name(c), want[c].name);
		assert_int_equal(tp_verdict_code_from_name(want[c].name), c);
		assert_string_equal(tp_verdict_hop_name(tp_verdict_code_hop(c)), want[c].hop);
		assert_string_equal(tp_verdict_dir_name(tp_verdict_code_dir(c)), want[c].dir);
	}
	assert_int_equal(tp_verdict_code_from_name("truncated at proxy"), -1);
	assert_int_equal(tp_verdict_code_from_name(NULL), -1);
	assert_string_equal(tp_verdict_code_name(TP_V_COUNT), "unknown");
	assert_string_equal(tp_verdict_place(TP_V_TRUNCATED_PROXY_CLIENT), "at proxy→client");
	assert_string_equal(tp_verdict_place(TP_V_FAILED_UNLOCATED), "");
	assert_string_equal(tp_verdict_need_name(TP_NEED_PROXY_LEDGER), "proxy_ledger");
	assert_string_equal(tp_verdict_need_name(TP_NEED_ORIGIN_LEDGER | TP_NEED_PROXY_LEDGER), "");
}

/* The #13 example: probe + origin ledger place a truncation at the proxy. */
static void make_example(struct tp_verdict *v)
{
	struct tp_evidence e;
	tp_verdict_init(v, TP_V_TRUNCATED_PROXY_CLIENT, 34016);
	tp_evidence_init(&e, TP_SRC_PROBE, TP_FACT_EARLY_FIN);
	e.by = TP_HOP_PROXY;
	e.on = TP_HOP_CLIENT_LEG;
	e.dir = TP_DIR_DOWN;
	e.bytes = 34016;
	e.of = 654397;
	assert_int_equal(tp_verdict_add(v, &e), 0);
	tp_evidence_init(&e, TP_SRC_ORIGIN_LEDGER, TP_FACT_WROTE);
	e.by = TP_HOP_ORIGIN;
	e.dir = TP_DIR_DOWN;
	e.bytes = 654397;
	assert_int_equal(tp_verdict_add(v, &e), 0);
	tp_evidence_init(&e, TP_SRC_ORIGIN_LEDGER, TP_FACT_ACKED);
	e.by = TP_HOP_PROXY;
	e.on = TP_HOP_ORIGIN_LEG;
	e.dir = TP_DIR_DOWN;
	e.bytes = 654397;
	assert_int_equal(tp_verdict_add(v, &e), 0);
}

static void test_render_from_data(void **state)
{
	(void)state;
	struct tp_verdict v;
	char text[TP_VERDICT_TEXT_MAX];
	make_example(&v);
	assert_int_equal(v.hop, TP_HOP_PROXY);
	assert_int_equal(v.direction, TP_DIR_DOWN);
	assert_int_equal(v.evidence[1].unit, TP_UNIT_MESSAGE); /* the source's usual unit */
	assert_string_equal(tp_verdict_render(&v, text, sizeof text),
			    "truncated at proxy→client (early FIN by proxy at body byte 34016 on the client leg, "
			    "HTTP framing expected 654397; origin wrote 654397 bytes; proxy acknowledged "
			    "654397 bytes on the origin leg)");
	/* A code with nothing to add is its words alone; ok is "ok". */
	tp_verdict_init(&v, TP_V_OK, -1);
	assert_string_equal(tp_verdict_render(&v, text, sizeof text), "ok");
	tp_verdict_init(&v, TP_V_RESET, -1);
	assert_string_equal(tp_verdict_render(&v, text, sizeof text), "reset");
	/* Bounded: a small buffer gets a terminated prefix. */
	make_example(&v);
	char small[20];
	tp_verdict_render(&v, small, sizeof small);
	assert_int_equal(strlen(small), sizeof small - 1);
	assert_int_equal(strncmp(small, "truncated at proxy", 18), 0);
}

/* The new facts and the evidence that would have named a hop, in words. */
static void test_render_refusals_and_needs(void **state)
{
	(void)state;
	struct tp_verdict v;
	struct tp_evidence e;
	char text[TP_VERDICT_TEXT_MAX];
	tp_verdict_init(&v, TP_V_PROXY_REFUSED, -1);
	tp_evidence_init(&e, TP_SRC_PROBE, TP_FACT_REFUSED);
	assert_int_equal(e.reply, -1);
	e.by = TP_HOP_PROXY;
	e.reply = 502;
	snprintf(e.name, sizeof e.name, "http");
	tp_verdict_add(&v, &e);
	tp_evidence_init(&e, TP_SRC_PROXY_LEDGER, TP_FACT_REFUSED);
	e.by = TP_HOP_PROXY;
	e.reply = 5;
	snprintf(e.name, sizeof e.name, "socks5");
	tp_verdict_add(&v, &e);
	tp_evidence_init(&e, TP_SRC_CAPTURE, TP_FACT_REFUSED);
	e.by = TP_HOP_PROXY;
	e.on = TP_HOP_CLIENT_LEG;
	snprintf(e.name, sizeof e.name, "aborted");
	tp_verdict_add(&v, &e);
	tp_evidence_init(&e, TP_SRC_PROBE, TP_FACT_REFUSED);
	e.by = TP_HOP_PROXY;
	snprintf(e.name, sizeof e.name, "socks5");
	snprintf(e.detail, sizeof e.detail, "SOCKS5 reply 2: not allowed by ruleset");
	tp_verdict_add(&v, &e);
	assert_string_equal(tp_verdict_render(&v, text, sizeof text),
			    "refused by proxy (proxy refused: HTTP 502; proxy refused: SOCKS5 reply 5; proxy closed "
			    "on the client leg before its reply was complete; proxy refused (SOCKS5 reply 2: not "
			    "allowed by ruleset))");

	tp_verdict_init(&v, TP_V_UPLOAD_LOST, -1);
	assert_int_equal(v.direction, TP_DIR_UP);
	tp_evidence_init(&e, TP_SRC_ORIGIN_LEDGER, TP_FACT_ABSENT);
	e.by = TP_HOP_ORIGIN;
	tp_verdict_add(&v, &e);
	assert_string_equal(tp_verdict_render(&v, text, sizeof text),
			    "upload lost on the way to the origin (no origin ledger line for this request)");

	tp_verdict_init(&v, TP_V_FAILED_UNLOCATED, -1);
	v.would_locate = TP_NEED_ORIGIN_LEDGER;
	assert_string_equal(tp_verdict_render(&v, text, sizeof text),
			    "no hop could be named from the inputs; the origin's ledger would name the hop");
	v.would_locate = TP_NEED_PROXY_LEDGER | TP_NEED_CAPTURE_CLIENT_LEG;
	assert_string_equal(tp_verdict_render(&v, text, sizeof text),
			    "no hop could be named from the inputs; the proxy's ledger or a capture on the "
			    "client leg would name the hop");
	v.would_locate = TP_NEED_ALL;
	tp_evidence_init(&e, TP_SRC_PROBE, TP_FACT_FAILED);
	snprintf(e.name, sizeof e.name, "incomplete_read");
	tp_verdict_add(&v, &e);
	assert_string_equal(tp_verdict_render(&v, text, sizeof text),
			    "no hop could be named from the inputs (incomplete_read); the origin's ledger, the "
			    "proxy's ledger, a capture on the client leg or a capture on the origin leg would "
			    "name the hop");
}

static void test_evidence_is_bounded(void **state)
{
	(void)state;
	struct tp_verdict v;
	struct tp_evidence e;
	tp_verdict_init(&v, TP_V_LOST_GAP, -1);
	tp_evidence_init(&e, TP_SRC_CAPTURE, TP_FACT_GAP);
	assert_int_equal(e.bytes, -1);
	assert_int_equal(e.of, -1);
	assert_int_equal(e.unit, TP_UNIT_STREAM);
	for (int i = 0; i < TP_VERDICT_MAX_EVIDENCE; i++)
		assert_int_equal(tp_verdict_add(&v, &e), 0);
	assert_int_equal(tp_verdict_add(&v, &e), -ENOSPC);
	assert_int_equal(v.nevidence, TP_VERDICT_MAX_EVIDENCE);
	/* An unknown count is said to be unknown, never 0. */
	char fact[128];
	assert_string_equal(tp_evidence_render(&e, fact, sizeof fact), "bytes missing from the capture");
	struct tp_evidence r;
	tp_evidence_init(&r, TP_SRC_PROBE, TP_FACT_READ);
	r.by = TP_HOP_CLIENT;
	r.of = 10;
	assert_string_equal(tp_evidence_render(&r, fact, sizeof fact), "client read ? of 10 body bytes");
	/* Every fact renders within the sentence's bound. */
	char text[TP_VERDICT_TEXT_MAX];
	tp_verdict_render(&v, text, sizeof text);
	assert_true(strlen(text) < sizeof text);
}

static void test_json_round_trip(void **state)
{
	(void)state;
	struct tp_verdict v, back;
	make_example(&v);
	struct tp_evidence e;
	tp_evidence_init(&e, TP_SRC_PROBE, TP_FACT_FAILED);
	snprintf(e.name, sizeof e.name, "incomplete_read");
	snprintf(e.phase, sizeof e.phase, "body");
	snprintf(e.detail, sizeof e.detail, "34016 bytes read, 620381 more expected");
	tp_verdict_add(&v, &e);
	json_t *j = tp_verdict_to_json(&v);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "code")), "truncated_proxy_client");
	assert_string_equal(json_string_value(json_object_get(j, "hop")), "proxy");
	assert_string_equal(json_string_value(json_object_get(j, "direction")), "down");
	assert_int_equal(json_integer_value(json_object_get(j, "at_byte")), 34016);
	assert_null(json_object_get(j, "would_locate")); /* only when there is something to say */
	json_t *e1 = json_array_get(json_object_get(j, "evidence"), 1);
	assert_string_equal(json_string_value(json_object_get(e1, "source")), "origin_ledger");
	assert_string_equal(json_string_value(json_object_get(e1, "what")), "wrote");
	assert_string_equal(json_string_value(json_object_get(e1, "fact")), "origin wrote 654397 bytes");
	assert_null(json_object_get(e1, "of")); /* absent, not -1 */
	assert_int_equal(tp_verdict_json_code(j), TP_V_TRUNCATED_PROXY_CLIENT);

	assert_int_equal(tp_verdict_from_json(j, &back), 0);
	assert_int_equal(back.code, v.code);
	assert_int_equal(back.hop, v.hop);
	assert_int_equal(back.direction, v.direction);
	assert_int_equal(back.at_byte, v.at_byte);
	assert_int_equal(back.nevidence, v.nevidence);
	assert_memory_equal(back.evidence, v.evidence, v.nevidence * sizeof v.evidence[0]);
	char a[TP_VERDICT_TEXT_MAX], b[TP_VERDICT_TEXT_MAX];
	assert_string_equal(tp_verdict_render(&back, a, sizeof a), tp_verdict_render(&v, b, sizeof b));
	assert_string_equal(tp_verdict_json_text(j), b);
	json_decref(j);

	/* A refusal's reply code and what would locate an unlocated failure come back. */
	tp_verdict_init(&v, TP_V_PROXY_REFUSED, -1);
	tp_evidence_init(&e, TP_SRC_CAPTURE, TP_FACT_REFUSED);
	e.reply = 502;
	snprintf(e.name, sizeof e.name, "http");
	tp_verdict_add(&v, &e);
	v.would_locate = TP_NEED_PROXY_LEDGER | TP_NEED_CAPTURE_ORIGIN_LEG;
	j = tp_verdict_to_json(&v);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(json_object_get(j, "evidence"), 0),
							    "reply")), 502);
	json_t *needs = json_object_get(j, "would_locate");
	assert_int_equal(json_array_size(needs), 2);
	assert_string_equal(json_string_value(json_array_get(needs, 1)), "capture_origin_leg");
	assert_int_equal(tp_verdict_from_json(j, &back), 0);
	assert_int_equal(back.would_locate, v.would_locate);
	assert_memory_equal(back.evidence, v.evidence, sizeof v.evidence[0]);
	json_decref(j);

	/* A /1 run file upgraded to {code, text}: the code's hop and direction, no facts. */
	j = parse("{\"code\":\"reset_by_proxy\",\"text\":\"reset by proxy (client leg, at byte 9)\"}");
	assert_int_equal(tp_verdict_from_json(j, &back), 0);
	assert_int_equal(back.hop, TP_HOP_PROXY);
	assert_int_equal(back.at_byte, -1);
	assert_int_equal(back.nevidence, 0);
	assert_string_equal(tp_verdict_json_text(j), "reset by proxy (client leg, at byte 9)");
	json_decref(j);
}

/* One line per input a reader must refuse: never guessed from a sentence. */
static void test_json_refusals(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"\"truncated at proxy→client (early FIN by proxy at byte 5)\"", /* a bare sentence */
		"{}",
		"{\"code\":\"truncated at proxy\"}",
		"{\"code\":7}",
		"{\"code\":\"reset\",\"hop\":\"sideways\"}",
		"{\"code\":\"reset\",\"direction\":\"left\"}",
		"{\"code\":\"reset\",\"at_byte\":-5}",
		"{\"code\":\"reset\",\"at_byte\":\"5\"}",
		"{\"code\":\"reset\",\"evidence\":{}}",
		"{\"code\":\"reset\",\"evidence\":[\"RST at 5\"]}",
		"{\"code\":\"reset\",\"evidence\":[{\"what\":\"rst\"}]}",
		"{\"code\":\"reset\",\"evidence\":[{\"source\":\"rumour\",\"what\":\"rst\"}]}",
		"{\"code\":\"reset\",\"evidence\":[{\"source\":\"capture\",\"what\":\"rst\",\"bytes\":1.5}]}",
		"{\"code\":\"reset\",\"evidence\":[{\"source\":\"capture\",\"what\":\"rst\",\"name\":3}]}",
		"{\"code\":\"proxy_refused\",\"evidence\":[{\"source\":\"probe\",\"what\":\"refused\",\"reply\":-2}]}",
		"{\"code\":\"proxy_refused\",\"evidence\":[{\"source\":\"probe\",\"what\":\"refused\",\"reply\":70000}]}",
		"{\"code\":\"failed_unlocated\",\"would_locate\":\"capture\"}",
		"{\"code\":\"failed_unlocated\",\"would_locate\":[\"a crystal ball\"]}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		json_t *j = parse(bad[i]);
		struct tp_verdict v;
		if (tp_verdict_from_json(j, &v) != -EINVAL || v.code != TP_V_UNKNOWN || v.nevidence)
			fail_msg("case %zu accepted: %s", i, bad[i]);
		json_decref(j);
	}
	assert_int_equal(tp_verdict_json_code(NULL), -1);
	assert_null(tp_verdict_json_text(NULL));
	/* More facts than the cap: the first ones are kept. */
	json_t *j = parse("{\"code\":\"gap\",\"evidence\":[{\"source\":\"capture\",\"what\":\"gap\",\"bytes\":1},"
			  "{\"source\":\"capture\",\"what\":\"gap\",\"bytes\":2},{\"source\":\"capture\",\"what\":\"gap\"},"
			  "{\"source\":\"capture\",\"what\":\"gap\"},{\"source\":\"capture\",\"what\":\"gap\"},"
			  "{\"source\":\"capture\",\"what\":\"gap\"},{\"source\":\"capture\",\"what\":\"gap\",\"bytes\":7}]}");
	struct tp_verdict v;
	assert_int_equal(tp_verdict_from_json(j, &v), 0);
	assert_int_equal(v.nevidence, TP_VERDICT_MAX_EVIDENCE);
	assert_int_equal(v.evidence[1].bytes, 2);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_code_table_is_stable),
		cmocka_unit_test(test_render_from_data),
		cmocka_unit_test(test_render_refusals_and_needs),
		cmocka_unit_test(test_evidence_is_bounded),
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_json_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
