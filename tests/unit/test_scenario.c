/* Unit tests for ci/: the scenario parser (good files, and one line per bad file with
 * the file:line it must name) and expectation checks. (Merging run files:
 * test_runfile.c.) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "ci/demo.h"
#include "ci/checks.h"
#include "ci/scenario.h"
#include "lib/verdict.h"

static struct scenario scn;
static char err[600];

#define PARSE(text) scenario_parse(&scn, text, strlen(text), "t.tps", err, sizeof err)
#define PARSE_OK(text)                                                       \
	do {                                                                 \
		if (PARSE(text) != 0)                                        \
			fail_msg("parse failed: %s", err);                   \
	} while (0)

static void test_full_scenario(void **state)
{
	(void)state;
	const char *text = "# comment line\n"
			   "scenario chained-connect   # trailing comment\n"
			   "description a proxy chained to an upstream that aborts\n"
			   "origin\n"
			   "  sites sites/x.sites\n"
			   "proxy reference socks5h\n"
			   "  fault close-after-accept p=0.5 seed=3\n"
			   "  upstream reference\n"
			   "  upstream_fault close-before-reply\n"
			   "capture on\n"
			   "probe\n"
			   "  url https://a.test:{tls}/bytes/10\n"
			   "  url http://127.0.0.1:{http}/x\n"
			   "  requests 7\n"
			   "  concurrency 3\n"
			   "  timeout 2s\n"
			   "  rate 50\n"
			   "  arg --no-keepalive\n"
			   "expect\n"
			   "  class proxy_connect_aborted >= 1\n"
			   "  phase tunnel_closed_early tls <= 3\n"
			   "  p99_ms <= 100\n"
			   "  error_rate <= 0.5\n"
			   "  verdict Closed   EARLY\n";
	PARSE_OK(text);
	assert_string_equal(scn.name, "chained-connect");
	assert_true(scn.origin);
	assert_true(scn.proxy_reference);
	assert_string_equal(scn.proxy_scheme, "socks5h");
	assert_int_equal(scn.nfaults, 1);
	assert_string_equal(scn.faults[0], "close-after-accept p=0.5 seed=3");
	assert_true(scn.upstream_reference);
	assert_int_equal(scn.nupstream_faults, 1);
	assert_true(scn.capture);
	assert_int_equal(scn.nurls, 2);
	assert_int_equal(scn.requests, 7);
	assert_int_equal(scn.concurrency, 3);
	assert_true(scn.timeout_s == 2.0 && scn.rate == 50.0);
	assert_int_equal(scn.nexpects, 5);
	assert_int_equal(scn.expects[1].kind, SCN_EXPECT_PHASE);
	assert_string_equal(scn.expects[1].name2, "tls");
	assert_string_equal(scn.expects[2].name, "p99");
	assert_string_equal(scn.expects[4].text, "Closed   EARLY");
	assert_int_equal(scn.expects[4].codes, 1u << TP_V_CLOSED_EARLY);
}

static void test_builtin_demo_parses(void **state)
{
	(void)state;
	size_t n;
	const struct demo_part *parts = demo_parts(&n);
	assert_true(n >= 2);
	for (size_t i = 0; i < n; i++) {
		if (scenario_parse(&scn, parts[i].text, strlen(parts[i].text), parts[i].label, err,
				   sizeof err) != 0)
			fail_msg("demo part %zu: %s", i, err);
		assert_int_equal(scn.nurls, 6);
		assert_int_equal(scn.requests, 10);
	}
}

/* One line per bad file: the text and the "t.tps:LINE:" the message must start with. */
static void test_bad_files_name_the_line(void **state)
{
	(void)state;
	const struct {
		const char *text;
		const char *where;
	} cases[] = {
		{"probe\n  url http://a/\n", "t.tps:0:"},                   /* no scenario line */
		{"scenario x\n", "t.tps:0:"},                               /* no url */
		{"scenario x y\n", "t.tps:1:"},
		{"scenario bad/name\n", "t.tps:1:"},
		{"scenario x\nurl http://a/\n", "t.tps:2:"},                /* outside a section */
		{"scenario x\nprobe\n  requests 0\n", "t.tps:3:"},
		{"scenario x\nprobe\n  requests ten\n", "t.tps:3:"},
		{"scenario x\nprobe\n  duration 5 parsecs\n", "t.tps:3:"},
		{"scenario x\nprobe\n  bogus 1\n", "t.tps:3:"},
		{"scenario x\nproxy sideways\n", "t.tps:2:"},
		{"scenario x\nproxy reference gopher\n", "t.tps:2:"},
		{"scenario x\ncapture maybe\n", "t.tps:2:"},
		{"scenario x\nprobe\n url http://a/\nexpect\n  class nosuch >= 1\n", "t.tps:5:"},
		{"scenario x\nprobe\n url http://a/\nexpect\n  p99_ms < 5\n", "t.tps:5:"},
		{"scenario x\nprobe\n url http://a/\nexpect\n  error_rate <= 2\n", "t.tps:5:"},
		{"scenario x\nprobe\n url http://a/\nexpect\n  status 42 >= 1\n", "t.tps:5:"},
		{"scenario x\nprobe\n url http://a/\nexpect\n  phase ok nowhere >= 1\n", "t.tps:5:"},
		{"scenario x\nprobe\n url http://a/\n requests 1\n duration 5\n", "t.tps:0:"},
		{"scenario x\n\x01\n", "t.tps:2:"},
		{"scenario x\nprobe\n url http://a/\nexpect\n  verdict closed first\n", "t.tps:5:"},
		{"scenario x\nprobe\n url http://a/\nexpect\n  verdict truncated_proxy\n", "t.tps:5:"},
		{"scenario x\nprobe\n url http://a/\nexpect\n  verdict ok\n", "t.tps:5:"},
		{"scenario x\nprobe\n url http://a/\nexpect\n  verdict\n", "t.tps:5:"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int rc = PARSE(cases[i].text);
		if (rc != -EINVAL || strncmp(err, cases[i].where, strlen(cases[i].where)) != 0)
			fail_msg("case %zu: rc %d, message '%s', want it to start with '%s'", i, rc, err,
				 cases[i].where);
	}
}

static json_t *run_fixture(json_int_t ok, json_int_t incomplete, json_int_t lat_low)
{
	return json_pack("{s:I,s:I,s:I,s:{s:I,s:I},s:{s:I},s:{s:I,s:I},s:{s:I,s:I,s:f},"
			 "s:{s:f,s:f},s:{s:[[I,I,I]]},s:[],s:[{s:s,s:I,s:I,s:{s:I},s:{s:f,s:f,s:f,s:f,s:f}}],"
			 "s:[{s:s,s:s}],s:f,s:f}",
			 "requests", ok + incomplete, "ok", ok, "failed", incomplete,
			 "classes", "ok", ok, "incomplete_read", incomplete,
			 "status_codes", "200", ok + incomplete,
			 "bytes", "sent", (json_int_t)100, "received", (json_int_t)1000,
			 "connections", "opened", (json_int_t)2, "requests_on_reused", ok, "reuse_ratio", 0.5,
			 "latency_ms", "p99", 1.0, "max", 2.0,
			 "histogram", "buckets", lat_low, lat_low, ok + incomplete,
			 "timeseries",
			 "targets", "url", "http://a/", "requests", ok + incomplete, "ok", ok, "classes", "ok", ok,
			 "latency_ms", "mean", 1.0, "p50", 1.0, "p90", 1.0, "p99", 1.0, "max", 2.0,
			 "failures", "class", "incomplete_read", "phase", "body",
			 "started", 100.0, "ended", 110.0);
}

/* A verdict as run files carry it (lib/verdict.h). */
static json_t *verdict_object(enum tp_verdict_code code)
{
	struct tp_verdict v;
	tp_verdict_init(&v, code, 32768);
	return tp_verdict_to_json(&v);
}

static void test_expectations(void **state)
{
	(void)state;
	const char *text = "scenario x\nprobe\n url http://a/\nexpect\n"
			   "  class incomplete_read <= 0\n"
			   "  class ok >= 5\n"
			   "  error_rate <= 0.5\n"
			   "  phase incomplete_read body >= 1\n"
			   "  reuse_ratio >= 0.9\n"
			   "  verdict proxy->client\n"
			   "  rss_growth_mb <= 1\n"
			   "  verdict truncated_origin_proxy\n"
			   "  verdict reset by origin\n"
			   "  fd_growth <= 8\n";
	PARSE_OK(text);
	json_t *run = run_fixture(8, 2, 1000);
	/* Codes decide; a bare sentence (a /1 run file) matches nothing, whatever it says. */
	json_t *verdicts = json_pack("[o,o,s]", verdict_object(TP_V_TRUNCATED_PROXY_CLIENT),
				     verdict_object(TP_V_TRUNCATED_ORIGIN_PROXY),
				     "reset by origin (origin leg, after 5 bytes)");
	struct check_result r[SCN_MAX_LIST];
	struct checks_proxy px = {.started = true, .rss_growth_kib = 4096, .fd_growth = -1};
	size_t failed = checks_run(&scn, run, NULL, verdicts, &px, r);
	assert_int_equal(r[0].result, CHECK_FAIL); /* 2 incomplete_read */
	assert_true(r[0].got == 2);
	assert_int_equal(r[1].result, CHECK_PASS);
	assert_int_equal(r[2].result, CHECK_PASS); /* 0.2 */
	assert_int_equal(r[3].result, CHECK_PASS);
	assert_int_equal(r[4].result, CHECK_FAIL); /* 0.5 */
	assert_int_equal(r[5].result, CHECK_PASS);
	assert_true(r[5].got == 1);
	assert_int_equal(r[6].result, CHECK_FAIL); /* 4 MiB grew */
	assert_int_equal(r[7].result, CHECK_PASS);
	assert_int_equal(r[8].result, CHECK_FAIL);
	assert_string_equal(r[8].text, "verdict reset by origin: not found");
	/* The proxy run started was never sampled for fds: a failure, not a skip. */
	assert_int_equal(r[9].result, CHECK_FAIL);
	assert_true(r[9].unknown);
	assert_int_equal(failed, 5);

	/* No ledgers joined: the verdict checks fail. A proxy run did not start: its
	 * growth is not measured, so those are skipped, with the reason. */
	failed = checks_run(&scn, run, NULL, NULL, NULL, r);
	assert_int_equal(r[5].result, CHECK_FAIL);
	assert_string_equal(r[5].text, "verdict proxy->client: no verdicts (no ledgers joined)");
	assert_int_equal(r[6].result, CHECK_SKIP);
	assert_string_equal(r[6].text, "rss_growth_mb <= 1: skipped (not measured: proxy not started by run)");
	assert_int_equal(r[9].result, CHECK_SKIP);
	assert_int_equal(failed, 5);

	json_t *j = checks_json(r, scn.nexpects);
	assert_string_equal(json_string_value(json_object_get(json_array_get(j, 6), "result")), "skip");
	assert_true(json_is_true(json_object_get(json_array_get(j, 6), "pass"))); /* not a failure */
	assert_true(json_is_null(json_object_get(json_array_get(j, 6), "got")));
	assert_string_equal(json_string_value(json_object_get(json_array_get(j, 0), "result")), "fail");
	assert_true(json_is_false(json_object_get(json_array_get(j, 0), "pass")));
	assert_string_equal(json_string_value(json_object_get(json_array_get(j, 1), "result")), "pass");
	json_decref(j);
	json_decref(run);
	json_decref(verdicts);
}

/* The phrase table (docs/scenarios.md): every phrase maps to codes; "at proxy" is every
 * code whose hop is the proxy, and "proxy->client" those of them about the proxy's
 * downstream side. */
static void test_verdict_phrases(void **state)
{
	(void)state;
	static const struct {
		const char *phrase;
		uint32_t codes;
	} want[] = {
		{"truncated at proxy", 1u << TP_V_TRUNCATED_PROXY_CLIENT},
		{"truncated at proxy→client", 1u << TP_V_TRUNCATED_PROXY_CLIENT},
		{"Reset  by Proxy", (1u << TP_V_RESET_BY_PROXY) | (1u << TP_V_RESET_UPSTREAM_BY_PROXY)},
		{"lost on the wire", (1u << TP_V_LOST_GAP) | (1u << TP_V_GAP)},
		{"no_fin", 1u << TP_V_NO_FIN},
		{"early_fin", 1u << TP_V_EARLY_FIN},
		{"reset became FIN", 1u << TP_V_RESET_BECAME_FIN},
		{"FIN withheld", 1u << TP_V_NO_FIN},
		{"upload  lost", 1u << TP_V_UPLOAD_LOST},
		{"refused by proxy", 1u << TP_V_PROXY_REFUSED},
		{"proxy_refused", 1u << TP_V_PROXY_REFUSED},
	};
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		char text[256];
		snprintf(text, sizeof text, "scenario x\nprobe\n url http://a/\nexpect\n  verdict %s\n",
			 want[i].phrase);
		PARSE_OK(text);
		if (scn.expects[0].codes != want[i].codes)
			fail_msg("'%s': codes %#x, want %#x", want[i].phrase, scn.expects[0].codes, want[i].codes);
	}
	uint32_t proxy = 0, proxy_down = 0;
	for (int c = 0; c < TP_V_COUNT; c++)
		if (tp_verdict_code_hop(c) == TP_HOP_PROXY) {
			proxy |= 1u << c;
			if (tp_verdict_code_dir(c) == TP_DIR_DOWN)
				proxy_down |= 1u << c;
		}
	PARSE_OK("scenario x\nprobe\n url http://a/\nexpect\n  verdict at proxy\n  verdict proxy->client\n");
	assert_int_equal(scn.expects[0].codes, proxy);
	assert_int_equal(scn.expects[1].codes, proxy_down & ~(1u << TP_V_RESET_UPSTREAM_BY_PROXY));
}

/* The regression gate: against a baseline that passes, one with a p99 regression, one
 * with a new class, and none at all (skipped, never passed). */
static void test_regression_gate(void **state)
{
	(void)state;
	PARSE_OK("scenario x\nprobe\n url http://a/\nexpect\n  no_new_class\n  p99_regression_pct <= 20\n");
	json_t *run = run_fixture(8, 2, 1000); /* p99 1.0 ms, 2 incomplete_read */
	struct check_result r[SCN_MAX_LIST];

	json_t *same = run_fixture(9, 1, 1000);
	json_object_set_new(json_object_get(same, "latency_ms"), "p99", json_real(0.9));
	assert_int_equal(checks_run(&scn, run, same, NULL, NULL, r), 0);
	assert_int_equal(r[0].result, CHECK_PASS);
	assert_string_equal(r[0].text, "no_new_class: none");
	assert_int_equal(r[1].result, CHECK_PASS); /* +11% */
	assert_true(r[1].got > 11.1 && r[1].got < 11.2);

	json_t *faster = run_fixture(9, 1, 1000);
	json_object_set_new(json_object_get(faster, "latency_ms"), "p99", json_real(0.5));
	assert_int_equal(checks_run(&scn, run, faster, NULL, NULL, r), 1);
	assert_int_equal(r[0].result, CHECK_PASS);
	assert_int_equal(r[1].result, CHECK_FAIL); /* +100% */
	assert_string_equal(r[1].text, "p99_regression_pct <= 20: got 100");

	json_t *clean = run_fixture(10, 0, 1000);
	json_object_del(json_object_get(clean, "classes"), "incomplete_read");
	assert_int_equal(checks_run(&scn, run, clean, NULL, NULL, r), 1);
	assert_int_equal(r[0].result, CHECK_FAIL);
	assert_string_equal(r[0].text, "no_new_class: incomplete_read");
	assert_int_equal(r[1].result, CHECK_PASS);

	assert_int_equal(checks_run(&scn, run, NULL, NULL, NULL, r), 0);
	assert_int_equal(r[0].result, CHECK_SKIP);
	assert_string_equal(r[0].text, "no_new_class: skipped (no baseline)");
	assert_int_equal(r[1].result, CHECK_SKIP);
	assert_string_equal(r[1].text, "p99_regression_pct <= 20: skipped (no baseline)");

	/* A baseline without the numbers compared is not a skip: it fails. */
	json_t *empty = json_object();
	assert_int_equal(checks_run(&scn, run, empty, NULL, NULL, r), 2);
	assert_true(r[0].unknown && r[1].unknown);
	json_decref(empty);
	json_decref(same);
	json_decref(faster);
	json_decref(clean);
	json_decref(run);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_scenario),
		cmocka_unit_test(test_builtin_demo_parses),
		cmocka_unit_test(test_bad_files_name_the_line),
		cmocka_unit_test(test_expectations),
		cmocka_unit_test(test_verdict_phrases),
		cmocka_unit_test(test_regression_gate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
