/* Verdict sentences, failure locations, the dropping hop, metric cells and deltas, URL
 * matching across runs, escaping and shell quoting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "reports/metrics.h"
#include "reports/report.h"
#include "reports/text.h"
#include "reports/verdict.h"
#include "lib/verdict.h"

static json_t *parse(const char *text)
{
	json_error_t err;
	json_t *j = json_loads(text, 0, &err);
	if (!j)
		fail_msg("bad test JSON: %s", err.text);
	return j;
}

static void test_location(void **state)
{
	(void)state;
	static const struct {
		const char *failure, *want;
	} cases[] = {
		{"{\"verdict\":{\"code\":\"truncated_proxy_client\",\"text\":\"whatever\"}}", "at proxy→client"},
		{"{\"verdict\":{\"code\":\"reset_upstream_by_proxy\"}}", "reset by proxy on proxy→origin"},
		/* A /1 run file as it is: the code beside the sentence. */
		{"{\"verdict_code\":\"truncated_origin_proxy\",\"verdict\":\"whatever\"}", "at origin→proxy"},
		/* A sentence alone is shown, never read for a place. */
		{"{\"verdict\":\"truncated at origin→proxy (early FIN by origin at byte 5)\"}", ""},
		{"{\"verdict\":\"reset by proxy (client leg, at byte 9)\",\"class\":\"reset\",\"phase\":\"body\"}",
		 "in phase body"},
		{"{\"verdict\":{\"code\":\"no_such_code\"},\"class\":\"timeout\",\"phase\":\"fin\"}", "in phase fin"},
		{"{\"verdict\":{\"code\":\"failed_unlocated\",\"text\":\"x\"},\"class\":\"timeout\",\"phase\":\"fin\"}", "in phase fin"},
		{"{\"class\":\"proxy_connect_aborted\",\"phase\":\"proxy\"}", "at proxy, before its CONNECT/SOCKS reply"},
		{"{\"class\":\"incomplete_read\",\"phase\":\"body\"}", "in phase body"},
		{"{\"class\":\"incomplete_read\"}", ""},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *f = parse(cases[i].failure);
		char out[160];
		report_location(f, out, sizeof out);
		if (strcmp(out, cases[i].want) != 0)
			fail_msg("case %zu: got '%s', want '%s'", i, out, cases[i].want);
		json_decref(f);
	}
}

/* The sentence shown on a failure card: an object's text, or a /1 bare sentence. */
static void test_failure_verdict_text(void **state)
{
	(void)state;
	json_t *f = parse("{\"verdict\":{\"code\":\"reset_by_proxy\",\"text\":\"reset by proxy (RST)\"}}");
	assert_string_equal(report_failure_verdict_text(f), "reset by proxy (RST)");
	assert_int_equal(report_failure_code(f), TP_V_RESET_BY_PROXY);
	json_decref(f);
	f = parse("{\"verdict\":\"reset by proxy (client leg, at byte 9)\"}");
	assert_string_equal(report_failure_verdict_text(f), "reset by proxy (client leg, at byte 9)");
	assert_int_equal(report_failure_code(f), -1);
	json_decref(f);
	f = parse("{\"class\":\"timeout\"}");
	assert_null(report_failure_verdict_text(f));
	json_decref(f);
}

static void test_chain_drop(void **state)
{
	(void)state;
	/* /3 chains: application bytes in the hop keys, TCP bytes in "wire". */
#define M "\"unit\":\"message\","
	static const struct {
		const char *failure, *want;
		size_t row;
	} cases[] = {
		/* Chains from before units: the legs and proxy in TCP bytes, probe in body
		 * bytes. The proxy stopped reading: origin_leg > proxy_received by more than
		 * the loss, yet the verdict names the proxy's send side. */
		{"{\"verdict\":{\"code\":\"truncated_proxy_client\"},\"chain\":{\"origin_leg\":116926,\"proxy_received\":34055,"
		 "\"proxy_sent\":32768,\"client_leg\":32768}}", "proxy_sent", 0},
		{"{\"verdict\":{\"code\":\"truncated_proxy_client\"},\"chain\":{\"client_leg\":32768}}", "client_leg", 0},
		{"{\"verdict_code\":\"truncated_origin_proxy\",\"chain\":{\"origin_leg\":5}}", "origin_leg", 0},
		{"{\"chain\":{\"origin_wrote\":654601,\"proxy_received\":34597,\"proxy_sent\":32768,\"probe\":16384}}", "proxy_sent", 0},
		{"{\"chain\":{\"expected\":100,\"probe\":40}}", "probe", 0},
		{"{\"chain\":{\"expected\":100,\"probe\":100,\"proxy_received\":5,\"proxy_sent\":5}}", NULL, 0},
		/* The demo over TLS: no application-byte count at the proxy, its TCP counts
		 * in the wire row — the verdict's hop is marked there, not on a "–". */
		{"{\"verdict\":{\"code\":\"truncated_proxy_client\"},\"chain\":{" M "\"expected\":230000,\"probe_body\":16357,"
		 "\"origin_wrote\":33000,\"proxy_received\":null,\"proxy_sent\":null,\"probe\":16616,\"wire\":{\"unit\":\"stream\","
		 "\"origin_acked\":34894,\"proxy_received\":34872,\"proxy_sent\":32768,\"client_leg\":null}}}", "proxy_sent", 1},
		/* Plain HTTP: the proxy's counts are application bytes too; that row first. */
		{"{\"verdict\":{\"code\":\"reset_by_proxy\"},\"chain\":{" M "\"proxy_received\":900,\"proxy_sent\":500,"
		 "\"wire\":{\"proxy_received\":900,\"proxy_sent\":500}}}", "proxy_sent", 0},
		{"{\"verdict\":{\"code\":\"reset_became_fin\"},\"chain\":{" M "\"origin_wrote\":9,\"wire\":{\"client_leg\":4}}}",
		 "client_leg", 1},
		/* No hop named. Application bytes drop across unwitnessed hops (origin wrote
		 * 100, probe read 40): the TCP row places it better. */
		{"{\"chain\":{" M "\"origin_wrote\":100,\"probe\":40,\"wire\":{\"proxy_received\":120,\"proxy_sent\":60}}}",
		 "proxy_sent", 1},
		/* ... but a drop between neighbouring application-byte hops is exact. */
		{"{\"chain\":{" M "\"proxy_received\":100,\"proxy_sent\":40,\"wire\":{\"origin_acked\":900,\"proxy_received\":100}}}",
		 "proxy_sent", 0},
		/* Nothing in TCP bytes: the first witnessed hop below the last. */
		{"{\"chain\":{" M "\"origin_wrote\":100,\"probe\":40,\"wire\":{\"unit\":\"stream\"}}}", "probe", 0},
		/* Only the body says: fewer decoded bytes than announced. */
		{"{\"chain\":{" M "\"expected\":20,\"probe_body\":10,\"origin_wrote\":50,\"probe\":50}}", "probe", 0},
		{"{\"chain\":{" M "\"expected\":20,\"probe_body\":20,\"origin_wrote\":50,\"probe\":50,\"wire\":{}}}", NULL, 0},
		{"{\"class\":\"reset\"}", NULL, 0},
	};
#undef M
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *f = parse(cases[i].failure);
		struct report_drop got = report_chain_drop(f);
		if ((got.hop == NULL) != (cases[i].want == NULL) || (got.hop && strcmp(got.hop, cases[i].want) != 0) ||
		    (got.hop && got.row != cases[i].row))
			fail_msg("case %zu: got %s in row %zu, want %s in row %zu", i, got.hop ? got.hop : "NULL", got.row,
				 cases[i].want ? cases[i].want : "NULL", cases[i].row);
		json_decref(f);
	}
}

/* A chain in one line, each unit apart; a kept-alive connection's TCP counts say so. */
static void test_chain_text(void **state)
{
	(void)state;
	static const struct {
		const char *failure, *want;
	} cases[] = {
		{"{\"chain\":{\"unit\":\"message\",\"origin_wrote\":654601,\"proxy_sent\":null,\"probe\":16588,"
		 "\"wire\":{\"unit\":\"stream\",\"origin_acked\":116895,\"proxy_received\":34053,\"proxy_sent\":32768}}}",
		 "origin wrote 654,601 → probe read 16,588; TCP: proxy acked 116,895 → proxy received 34,053 → proxy sent 32,768"},
		{"{\"chain\":{\"unit\":\"message\",\"origin_wrote\":10,\"wire\":{\"proxy_sent\":30,\"requests\":3}}}",
		 "origin wrote 10; TCP (whole connection): proxy sent 30"},
		{"{\"chain\":{\"unit\":\"message\",\"wire\":{\"proxy_sent\":30}}}", "TCP: proxy sent 30"},
		{"{\"chain\":{\"origin_leg\":5,\"probe\":3}}", "origin leg 5 → probe read 3"},
		{"{}", ""},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		json_t *f = parse(cases[i].failure);
		char out[256];
		report_chain_text(f, out, sizeof out);
		if (strcmp(out, cases[i].want) != 0)
			fail_msg("case %zu: got '%s', want '%s'", i, out, cases[i].want);
		json_decref(f);
	}
}

static void test_verdicts(void **state)
{
	(void)state;
	struct report_run runs[2] = {
		{.label = "linux", .doc = parse("{\"requests\":60,\"ok\":60,\"classes\":{\"ok\":60}}")},
		{.label = "windows",
		 .doc = parse("{\"requests\":60,\"ok\":48,\"classes\":{\"ok\":48,\"incomplete_read\":10,\"timeout\":2},"
			      "\"failures\":[{\"class\":\"incomplete_read\",\"verdict\":{\"code\":\"truncated_proxy_client\"}},"
			      "{\"class\":\"incomplete_read\",\"verdict\":{\"code\":\"truncated_proxy_client\"}},"
			      "{\"class\":\"incomplete_read\",\"verdict\":{\"code\":\"truncated_origin_proxy\"}},"
			      "{\"class\":\"timeout\",\"phase\":\"fin\"}]}")},
	};
	char out[512];
	report_verdict(&runs[0], out, sizeof out);
	assert_string_equal(out, "linux: 60/60 ok");
	report_verdict_all(runs, 2, out, sizeof out);
	assert_string_equal(out, "windows: 10/60 incomplete_read mostly at proxy→client (2 of 3 samples), "
				 "2/60 timeout in phase fin; linux: 60/60 ok");
	char small[16];
	report_verdict_all(runs, 2, small, sizeof small); /* truncated, terminated */
	assert_int_equal(strlen(small), 15);
	for (size_t i = 0; i < 2; i++)
		json_decref(runs[i].doc);
}

static void test_metrics(void **state)
{
	(void)state;
	struct report_run runs[2] = {
		{.label = "a", .doc = parse("{\"requests\":60,\"ok\":60,\"classes\":{\"ok\":60},\"latency_ms\":{\"p50\":10},"
					    "\"connections\":{\"reuse_ratio\":0.9}}")},
		{.label = "b", .doc = parse("{\"requests\":60,\"ok\":50,\"classes\":{\"ok\":50,\"reset\":10},"
					    "\"latency_ms\":{\"p50\":12.5},\"connections\":{\"reuse_ratio\":0.5}}")},
	};
	struct report_metric rows[REPORT_MAX_METRICS];
	size_t n = report_metrics(runs, 2, rows, REPORT_MAX_METRICS);
	bool saw_reset = false, saw_p50 = false, saw_reuse = false;
	for (size_t r = 0; r < n; r++) {
		char cell[64];
		if (strcmp(rows[r].name, "class reset") == 0) {
			saw_reset = true;
			assert_true(report_is_worse(&rows[r], 2, 1));
			assert_false(report_is_worse(&rows[r], 2, 0));
			report_metric_cell(&rows[r], 1, true, cell, sizeof cell);
			assert_string_equal(cell, "10 (+10)");
		} else if (strcmp(rows[r].name, "latency p50 ms") == 0) {
			/* b failed 10 requests and has no ok-only latency: shown, not compared */
			saw_p50 = true;
			report_metric_cell(&rows[r], 1, true, cell, sizeof cell);
			assert_string_equal(cell, "12.50" REPORT_APART_MARK);
			assert_false(report_is_worse(&rows[r], 2, 0) || report_is_worse(&rows[r], 2, 1));
		} else if (strcmp(rows[r].name, "connection reuse ratio") == 0) {
			saw_reuse = true;
			assert_true(report_is_worse(&rows[r], 2, 1)); /* lower is worse */
		} else if (strcmp(rows[r].name, "latency p99 ms") == 0) {
			report_metric_cell(&rows[r], 0, true, cell, sizeof cell);
			assert_string_equal(cell, "n/a");
			assert_false(report_is_worse(&rows[r], 2, 0));
		} else if (strcmp(rows[r].name, "requests") == 0) {
			report_metric_cell(&rows[r], 1, true, cell, sizeof cell);
			assert_string_equal(cell, "60"); /* equal: no delta */
		}
	}
	assert_true(saw_reset && saw_p50 && saw_reuse);
	assert_true(report_any_apart(rows, n, 2));
	for (size_t i = 0; i < 2; i++)
		json_decref(runs[i].doc);
}

/* Like with like: latency of ok requests (latency_ok_ms) decides, so a run whose
 * failures were fast is not shaded better; ok requests per second, not all. */
static void test_metrics_like_with_like(void **state)
{
	(void)state;
	struct report_run runs[2] = {
		{.label = "healthy", .doc = parse("{\"requests\":60,\"ok\":60,\"duration_s\":1.0,"
						  "\"latency_ms\":{\"p99\":40}}")},
		{.label = "faulty", .doc = parse("{\"requests\":70,\"ok\":50,\"duration_s\":1.0,"
						 "\"latency_ms\":{\"p99\":20},\"latency_ok_ms\":{\"p99\":45},"
						 "\"verified\":50,\"open_loop\":{\"missed\":3}}")},
	};
	struct report_metric rows[REPORT_MAX_METRICS];
	size_t n = report_metrics(runs, 2, rows, REPORT_MAX_METRICS);
	int seen = 0;
	for (size_t r = 0; r < n; r++) {
		char cell[64];
		if (strcmp(rows[r].name, "latency p99 ms") == 0) {
			report_metric_cell(&rows[r], 1, true, cell, sizeof cell);
			assert_string_equal(cell, "45.00 (+5.00)");
			assert_true(report_is_worse(&rows[r], 2, 1));
			seen++;
		} else if (strcmp(rows[r].name, "throughput req/s") == 0) {
			assert_false(report_is_worse(&rows[r], 2, 0) || report_is_worse(&rows[r], 2, 1));
			seen++;
		} else if (strcmp(rows[r].name, "ok req/s") == 0) {
			assert_true(report_is_worse(&rows[r], 2, 1));
			seen++;
		} else if (strcmp(rows[r].name, "verified bodies") == 0) {
			report_metric_cell(&rows[r], 0, true, cell, sizeof cell);
			assert_string_equal(cell, "n/a");
			seen++;
		} else if (strcmp(rows[r].name, "open-loop starts missed") == 0) {
			assert_true(report_is_worse(&rows[r], 2, 1) == false); /* only one run has it */
			seen++;
		}
	}
	assert_int_equal(seen, 5);
	assert_false(report_any_apart(rows, n, 2));
	for (size_t i = 0; i < 2; i++)
		json_decref(runs[i].doc);
}

static void test_urls(void **state)
{
	(void)state;
	char out[128];
	report_url_without_port("https://www.qq.com:46383/chunked/1?chunk=8", out, sizeof out);
	assert_string_equal(out, "https://www.qq.com/chunked/1?chunk=8");
	report_url_without_port("http://[::1]:8080/x", out, sizeof out);
	assert_string_equal(out, "http://[::1]/x");
	report_url_without_port("http://[::1]/x", out, sizeof out);
	assert_string_equal(out, "http://[::1]/x");
	report_url_without_port("http://h:abc/x", out, sizeof out);
	assert_string_equal(out, "http://h:abc/x");
	json_t *targets = parse("[{\"url\":\"https://a:1/x\"},{\"url\":\"https://b:2/y\"}]");
	assert_int_equal(report_match_target(targets, "https://b:2/y"), 1);
	assert_int_equal(report_match_target(targets, "https://b:9/y"), 1);
	assert_int_equal(report_match_target(targets, "https://c:2/y"), -1);
	json_decref(targets);
}

static char *capture(void (*fn)(FILE *, void *), void *arg)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);
	fn(fp, arg);
	fclose(fp);
	return buf;
}

static void esc_fn(FILE *fp, void *arg) { report_escape(fp, arg); }
static void cmd_fn(FILE *fp, void *arg) { report_command(fp, arg, false); }
static void cmd_html_fn(FILE *fp, void *arg) { report_command(fp, arg, true); }

static void test_escaping(void **state)
{
	(void)state;
	char *s = capture(esc_fn, "<a href=\"x\">'&'\x01</a>");
	assert_string_equal(s, "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;?&lt;/a&gt;");
	free(s);
	json_t *argv = parse("[\"tunnelprobe\",\"probe\",\"-x\",\"http://127.0.0.1:3128\",\"it's <b>\",\"\"]");
	s = capture(cmd_fn, argv);
	assert_string_equal(s, "tunnelprobe probe -x http://127.0.0.1:3128 'it'\\''s <b>' ''");
	free(s);
	s = capture(cmd_html_fn, argv);
	assert_string_equal(s, "tunnelprobe probe -x http://127.0.0.1:3128 'it'\\''s &lt;b&gt;' ''");
	free(s);
	json_decref(argv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_location),
		cmocka_unit_test(test_failure_verdict_text),
		cmocka_unit_test(test_chain_drop),
		cmocka_unit_test(test_chain_text),
		cmocka_unit_test(test_verdicts),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_metrics_like_with_like),
		cmocka_unit_test(test_urls),
		cmocka_unit_test(test_escaping),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
