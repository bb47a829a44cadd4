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
			   "  verdict closed first\n";
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
	assert_string_equal(scn.expects[4].text, "closed first");
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
			   "  rss_growth_mb <= 1\n";
	PARSE_OK(text);
	json_t *run = run_fixture(8, 2, 1000);
	json_t *verdicts = json_pack("[s]", "truncated at proxy->client (early FIN by proxy at byte 32768)");
	struct check_result r[SCN_MAX_LIST];
	size_t failed = checks_run(&scn, run, NULL, verdicts, 4096, -1, r);
	assert_false(r[0].pass); /* 2 incomplete_read */
	assert_true(r[0].got == 2);
	assert_true(r[1].pass);
	assert_true(r[2].pass);  /* 0.2 */
	assert_true(r[3].pass);
	assert_false(r[4].pass); /* 0.5 */
	assert_true(r[5].pass);
	assert_false(r[6].pass); /* 4 MiB grew */
	assert_int_equal(failed, 3);
	json_decref(run);
	json_decref(verdicts);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_scenario),
		cmocka_unit_test(test_builtin_demo_parses),
		cmocka_unit_test(test_bad_files_name_the_line),
		cmocka_unit_test(test_expectations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
