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

/* checks_run on a run, a baseline, verdicts and a proxy (each may be NULL). */
static size_t check(json_t *run, json_t *baseline, json_t *verdicts, const struct checks_proxy *px,
		    struct check_result *r)
{
	const struct checks_in in = {.run = run, .baseline = baseline, .verdicts = verdicts, .proxy = px};
	return checks_run(&scn, &in, r);
}
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
	/* With the Windows build: Linux healthy, then the Windows build twice; without it,
	 * Linux healthy and the simulation (labelled simulated). */
	for (int windows = 0; windows < 2; windows++) {
		size_t n;
		const struct demo_part *parts = demo_parts(windows, &n);
		assert_int_equal(n, windows ? 3 : 2);
		for (size_t i = 0; i < n; i++) {
			if (scenario_parse(&scn, parts[i].text, strlen(parts[i].text), parts[i].label, err,
					   sizeof err) != 0)
				fail_msg("demo part %zu: %s", i, err);
			assert_int_equal(scn.nurls, 6);
			assert_int_equal(scn.requests, 10);
			assert_int_equal(scn.proxy_windows, i > 0 && windows);
			assert_int_equal(scn.simulated[0] != '\0', i > 0 && !windows);
		}
	}
	/* `proxy reference [SCHEME] [windows]`. */
	const char *good[] = {"scenario t\nproxy reference windows\nprobe\n  url http://a.test/\n",
			      "scenario t\nproxy reference socks5 windows\nprobe\n  url http://a.test/\n"};
	for (size_t i = 0; i < 2; i++) {
		if (scenario_parse(&scn, good[i], strlen(good[i]), "t.tps", err, sizeof err) != 0)
			fail_msg("%s", err);
		assert_true(scn.proxy_windows);
		assert_string_equal(scn.proxy_scheme, i ? "socks5" : "http");
	}
	const char *bad = "scenario t\nproxy reference windows socks5\nprobe\n  url http://a.test/\n";
	assert_int_equal(scenario_parse(&scn, bad, strlen(bad), "t.tps", err, sizeof err), -EINVAL);
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
		/* issue 14: durations that would run for centuries, rates no probe makes */
		{"scenario x\nprobe\n url http://a/\n duration 9999999999999999h\n", "t.tps:4:"},
		{"scenario x\nprobe\n url http://a/\n duration 8d\n", "t.tps:4:"},
		{"scenario x\nprobe\n url http://a/\n duration 169h\n", "t.tps:4:"},
		{"scenario x\nprobe\n url http://a/\n timeout 2h\n", "t.tps:4:"},
		{"scenario x\nprobe\n url http://a/\n segment 1e300\n", "t.tps:4:"},
		{"scenario x\nprobe\n url http://a/\n rate 1e9\n", "t.tps:4:"},
		/* groups, and lines that would never take effect */
		{"scenario x\nprobe\n url http://a/\nexpect sometimes\n", "t.tps:4:"},
		{"scenario x\nprobe\n url http://a/\nexpect user please\n", "t.tps:4:"},
		{"scenario x\nprobe\n url http://a/\nexpect reference\n  ok == 1\n", "t.tps:0:"},
		{"scenario x\nproxy external http://p:1\n  simulated a Windows build\nprobe\n url http://a/\n",
		 "t.tps:0:"}, /* simulated says what the reference proxy's faults stand in for */
		{"scenario x\nproxy_resolves_names yes\n", "t.tps:2:"},
		/* the new expectation kinds */
		{"scenario x\nprobe\n url http://a/\nexpect\n  accounted == 2\n", "t.tps:5:"},
		{"scenario x\nprobe\n url http://a/\nexpect\n  phase_p99_ms nowhere <= 5\n", "t.tps:5:"},
		{"scenario x\nprobe\n url http://a/\nexpect\n  phase_p999_ms tls <= 5\n", "t.tps:5:"},
		{"scenario x\nprobe\n url http://a/\nexpect\n  phase_p99_ms <= 5\n", "t.tps:5:"},
		{"scenario x\nprobe\n url http://a/\nexpect\n  missed <= -1\n", "t.tps:5:"},
		{"scenario x\nprobe\n url http://a/\nexpect\n  verified\n", "t.tps:5:"},
		{"scenario x\nprobe\n url http://a/\nexpect\n  p42_ms <= 5\n", "t.tps:5:"},
		/* the evidence a verdict used: only the sources lib/verdict names */
		{"scenario x\nprobe\n url http://a/\nexpect\n  verdict no_fin from hearsay\n", "t.tps:5:"},
		{"scenario x\nprobe\n url http://a/\nexpect\n  verdict no_fin from \n", "t.tps:5:"},
		{"scenario x\nprobe\n url http://a/\nexpect\n  verdict nosuch from probe\n", "t.tps:5:"},
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
	size_t failed = check(run, NULL, verdicts, &px, r);
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
	failed = check(run, NULL, NULL, NULL, r);
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
	assert_int_equal(check(run, same, NULL, NULL, r), 0);
	assert_int_equal(r[0].result, CHECK_PASS);
	assert_string_equal(r[0].text, "no_new_class: none");
	assert_int_equal(r[1].result, CHECK_PASS); /* +11% */
	assert_true(r[1].got > 11.1 && r[1].got < 11.2);

	json_t *faster = run_fixture(9, 1, 1000);
	json_object_set_new(json_object_get(faster, "latency_ms"), "p99", json_real(0.5));
	assert_int_equal(check(run, faster, NULL, NULL, r), 1);
	assert_int_equal(r[0].result, CHECK_PASS);
	assert_int_equal(r[1].result, CHECK_FAIL); /* +100% */
	assert_string_equal(r[1].text, "p99_regression_pct <= 20: got 100");

	json_t *clean = run_fixture(10, 0, 1000);
	json_object_del(json_object_get(clean, "classes"), "incomplete_read");
	assert_int_equal(check(run, clean, NULL, NULL, r), 1);
	assert_int_equal(r[0].result, CHECK_FAIL);
	assert_string_equal(r[0].text, "no_new_class: incomplete_read");
	assert_int_equal(r[1].result, CHECK_PASS);

	assert_int_equal(check(run, NULL, NULL, NULL, r), 0);
	assert_int_equal(r[0].result, CHECK_SKIP);
	assert_string_equal(r[0].text, "no_new_class: skipped (no baseline)");
	assert_int_equal(r[1].result, CHECK_SKIP);
	assert_string_equal(r[1].text, "p99_regression_pct <= 20: skipped (no baseline)");

	/* A baseline without the numbers compared is not a skip: it fails. */
	json_t *empty = json_object();
	assert_int_equal(check(run, empty, NULL, NULL, r), 2);
	assert_true(r[0].unknown && r[1].unknown);
	json_decref(empty);
	json_decref(same);
	json_decref(faster);
	json_decref(clean);
	json_decref(run);
}

/* The lines issue 13 added: groups, simulated, proxy_resolves_names, new kinds. */
static void test_new_lines(void **state)
{
	(void)state;
	PARSE_OK("scenario x\nproxy reference http\n  fault truncate:after=1\n"
		 "  simulated Linux reference proxy with a short-send fault, not a Windows build\n"
		 "proxy_resolves_names\nprobe\n url http://a/\n duration 168h\n rate 1000000\n timeout 1h\n"
		 "expect\n  requests >= 1\n"
		 "expect reference\n  class incomplete_read >= 1\n"
		 "expect user\n  error_rate <= 0\n  phase_p99_ms tls <= 50\n  phase_mean_ms first_byte <= 9\n"
		 "expect\n  missed <= 0\n  verified >= 10\n  unverified == 0\n  accounted == 1\n"
		 "  rss_growth_pct <= 5\n  fd_growth_pct <= 5\n");
	assert_string_equal(scn.simulated, "Linux reference proxy with a short-send fault, not a Windows build");
	assert_true(scn.proxy_resolves_names);
	assert_true(scn.duration_s == 7 * 86400.0);
	assert_int_equal(scn.nexpects, 11);
	static const enum scn_group groups[] = {SCN_GROUP_ALWAYS, SCN_GROUP_REFERENCE, SCN_GROUP_USER,
						SCN_GROUP_USER,   SCN_GROUP_USER,      SCN_GROUP_ALWAYS};
	for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++)
		assert_int_equal(scn.expects[i].group, groups[i]);
	assert_int_equal(scn.expects[3].kind, SCN_EXPECT_PHASE_LATENCY);
	assert_string_equal(scn.expects[3].name, "p99");
	assert_string_equal(scn.expects[3].name2, "tls");
	assert_string_equal(scn.expects[4].name, "mean");
	assert_string_equal(scn.expects[4].name2, "first_byte");
	assert_int_equal(scn.expects[5].kind, SCN_EXPECT_MISSED);
	assert_int_equal(scn.expects[6].kind, SCN_EXPECT_VERIFIED);
	assert_int_equal(scn.expects[7].kind, SCN_EXPECT_UNVERIFIED);
	assert_int_equal(scn.expects[8].kind, SCN_EXPECT_ACCOUNTED);
	assert_int_equal(scn.expects[9].kind, SCN_EXPECT_RSS_GROWTH_PCT);
	assert_int_equal(scn.expects[10].kind, SCN_EXPECT_FD_GROWTH_PCT);
	assert_true(scn_has_group(&scn, SCN_GROUP_USER));
	char line[600];
	checks_expect_line(&scn.expects[3], line, sizeof line);
	assert_string_equal(line, "phase_p99_ms tls <= 50");
}

/* `expect reference` lines are checked only when run started the reference proxy,
 * `expect user` lines only against a proxy it did not start; each skip says why. */
static void test_groups(void **state)
{
	(void)state;
	PARSE_OK("scenario x\nproxy reference http\nprobe\n url http://a/\n"
		 "expect\n  requests == 10\nexpect reference\n  class incomplete_read >= 1\n"
		 "expect user\n  class incomplete_read == 0\n");
	json_t *run = run_fixture(8, 2, 1000);
	struct check_result r[SCN_MAX_LIST];
	struct checks_proxy reference = {.started = true, .rss_growth_kib = -1, .fd_growth = -1};
	assert_int_equal(check(run, NULL, NULL, &reference, r), 0);
	assert_int_equal(r[1].result, CHECK_PASS);
	assert_int_equal(r[2].result, CHECK_SKIP);
	assert_string_equal(r[2].text, "class incomplete_read == 0: skipped (for a proxy of yours; this run "
				       "started the reference proxy)");
	struct checks_proxy user = {.user = true, .rss_growth_kib = -1, .fd_growth = -1};
	assert_int_equal(check(run, NULL, NULL, &user, r), 1);
	assert_int_equal(r[0].result, CHECK_PASS);
	assert_int_equal(r[1].result, CHECK_SKIP);
	assert_string_equal(r[1].text, "class incomplete_read >= 1: skipped (reproduces a fault of the reference "
				       "proxy; the proxy here is yours)");
	assert_int_equal(r[2].result, CHECK_FAIL);
	/* Direct: neither group applies. */
	assert_int_equal(check(run, NULL, NULL, NULL, r), 0);
	assert_int_equal(r[1].result, CHECK_SKIP);
	assert_int_equal(r[2].result, CHECK_SKIP);
	json_t *j = checks_json(r, scn.nexpects);
	assert_null(json_object_get(json_array_get(j, 0), "group"));
	assert_string_equal(json_string_value(json_object_get(json_array_get(j, 1), "group")), "reference");
	assert_string_equal(json_string_value(json_object_get(json_array_get(j, 2), "group")), "user");
	json_decref(j);
	json_decref(run);
}

/* Expectations on the run file's newer fields (probe: open_loop, verified, phases_ms;
 * run: the ledger accounting, growth in %). A field the run lacks fails as unknown. */
static void test_new_fields(void **state)
{
	(void)state;
	PARSE_OK("scenario x\nproxy reference http\nprobe\n url http://a/\nexpect\n"
		 "  missed <= 0\n  verified >= 10\n  unverified == 0\n  phase_p99_ms tls <= 50\n"
		 "  accounted == 1\n  rss_growth_pct <= 5\n  fd_growth_pct <= 5\n");
	json_t *run = run_fixture(8, 2, 1000);
	struct check_result r[SCN_MAX_LIST];
	struct checks_proxy px = {.started = true, .rss_growth_kib = 100, .fd_growth = 0, .pct_known = true,
				  .rss_growth_pct = 7.5, .fd_growth_pct = 0};
	struct account acct = {.known = true, .records = 10, .want_origin = 9, .missing_origin = 1,
			       .example = "ab12cd-0-3"};
	struct checks_in in = {.run = run, .proxy = &px, .accounted = &acct};
	assert_int_equal(checks_run(&scn, &in, r), 6); /* nothing there yet, RSS grew 7.5% */
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(r[i].result, CHECK_FAIL);
		assert_true(r[i].unknown);
	}
	assert_string_equal(r[3].text, "phase_p99_ms tls <= 50: unknown");
	assert_int_equal(r[4].result, CHECK_FAIL);
	assert_false(r[4].unknown);
	assert_string_equal(r[4].text, "accounted == 1: got 0 (10 requests; 8/9 that reached the origin in its "
				       "ledger (e.g. ab12cd-0-3))");
	assert_int_equal(r[5].result, CHECK_FAIL);
	assert_int_equal(r[6].result, CHECK_PASS);

	json_object_set_new(run, "open_loop", json_pack("{s:f,s:i,s:i,s:i}", "rate", 100.0, "due", 200, "sent", 40,
							"missed", 160));
	json_object_set_new(run, "verified", json_integer(8));
	json_object_set_new(run, "unverified", json_integer(0));
	json_object_set_new(run, "phases_ms",
			    json_pack("{s:{s:f,s:f,s:f,s:f,s:f}}", "tls", "mean", 3.0, "p50", 2.0, "p90", 4.0, "p99", 9.5,
				      "max", 12.0));
	acct.missing_origin = 0;
	acct.example[0] = '\0';
	px.rss_growth_pct = 1.0;
	assert_int_equal(checks_run(&scn, &in, r), 2);
	assert_int_equal(r[0].result, CHECK_FAIL);
	assert_string_equal(r[0].text, "missed <= 0: got 160");
	assert_int_equal(r[1].result, CHECK_FAIL); /* 8 < 10 */
	assert_int_equal(r[2].result, CHECK_PASS);
	assert_int_equal(r[3].result, CHECK_PASS);
	assert_true(r[3].got == 9.5);
	assert_int_equal(r[4].result, CHECK_PASS);
	assert_int_equal(r[5].result, CHECK_PASS);

	/* Ledgers not readable: unknown, a failure; no proxy run started: growth skipped. */
	struct account unread = {.known = false, .why = "the origin ledger missing"};
	in.accounted = &unread;
	in.proxy = NULL;
	checks_run(&scn, &in, r);
	assert_int_equal(r[4].result, CHECK_FAIL);
	assert_string_equal(r[4].text, "accounted == 1: unknown (the origin ledger missing)");
	assert_int_equal(r[5].result, CHECK_SKIP);
	assert_string_equal(r[5].text, "rss_growth_pct <= 5: skipped (not measured: proxy not started by run)");
	json_decref(run);
}

/* `verdict ... from SOURCE,...`: the verdict must also have used facts of every source
 * named — how a scenario asks that a loss was placed without the proxy's ledger. */
/* `proxy reference SCHEME` with a QUIC scheme: the proxy's QUIC listener; never with its
 * Windows build, which has none. */
static void test_quic_reference(void **state)
{
	(void)state;
	const struct {
		const char *scheme;
		int quic;
	} good[] = {
		{"http", 0}, {"socks5", 0}, {"socks5h", 0}, {"quic", 1}, {"socks5+quic", 1}, {"socks5h+quic", 1},
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		char text[256];
		snprintf(text, sizeof text, "scenario t\nproxy reference %s\n  fault no-fin\nprobe\n  url http://a.test/\n",
			 good[i].scheme);
		PARSE_OK(text);
		assert_true(scn.proxy_reference);
		assert_string_equal(scn.proxy_scheme, good[i].scheme);
		assert_int_equal(scn.proxy_quic, good[i].quic);
		assert_int_equal(scn_scheme_quic(good[i].scheme), good[i].quic);
	}
	/* A later `proxy external` or `proxy none` leaves no QUIC listener behind. */
	PARSE_OK("scenario t\nproxy reference quic\nproxy none\nprobe\n  url http://a.test/\n");
	assert_false(scn.proxy_quic);
	assert_false(scn.proxy_reference);
	const struct {
		const char *text;
		const char *msg;
	} bad[] = {
		{"scenario t\nproxy reference quic windows\nprobe\n  url http://a.test/\n",
		 "t.tps:2: 'proxy reference quic windows': the Windows build has no QUIC listener"},
		{"scenario t\nproxy reference socks5h+quic windows\nprobe\n  url http://a.test/\n",
		 "t.tps:2: 'proxy reference socks5h+quic windows': the Windows build has no QUIC listener"},
		{"scenario t\nproxy reference h3\nprobe\n  url http://a.test/\n",
		 "t.tps:2: the reference proxy speaks http, socks5, socks5h, quic, socks5+quic or socks5h+quic, "
		 "not 'h3'"},
		{"scenario t\nproxy reference socks4+quic\nprobe\n  url http://a.test/\n", "t.tps:2:"},
		{"scenario t\nproxy reference quic socks5\nprobe\n  url http://a.test/\n", "t.tps:2:"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(scenario_parse(&scn, bad[i].text, strlen(bad[i].text), "t.tps", err, sizeof err),
				 -EINVAL);
		if (strncmp(err, bad[i].msg, strlen(bad[i].msg)) != 0)
			fail_msg("case %zu: got '%s', want '%s'", i, err, bad[i].msg);
	}
	assert_int_equal(scn_scheme_quic("QUIC"), -1);
	assert_int_equal(scn_scheme_quic(""), -1);
}

static void test_verdict_evidence(void **state)
{
	(void)state;
	PARSE_OK("scenario x\nprobe\n url http://a/\nexpect\n"
		 "  verdict truncated at proxy from probe, origin_ledger\n"
		 "  verdict truncated_proxy_client from proxy_ledger\n"
		 "  verdict truncated at proxy\n");
	assert_int_equal(scn.expects[0].codes, 1u << TP_V_TRUNCATED_PROXY_CLIENT);
	assert_int_equal(scn.expects[0].sources, (1u << TP_SRC_PROBE) | (1u << TP_SRC_ORIGIN_LEDGER));
	assert_int_equal(scn.expects[1].sources, 1u << TP_SRC_PROXY_LEDGER);
	assert_int_equal(scn.expects[2].sources, 0);
	/* A verdict made from the probe's record and the origin's ledger alone. */
	struct tp_verdict v;
	struct tp_evidence ev;
	tp_verdict_init(&v, TP_V_TRUNCATED_PROXY_CLIENT, 34016);
	tp_evidence_init(&ev, TP_SRC_ORIGIN_LEDGER, TP_FACT_ACKED);
	tp_verdict_add(&v, &ev);
	tp_evidence_init(&ev, TP_SRC_PROBE, TP_FACT_READ);
	tp_verdict_add(&v, &ev);
	json_t *verdicts = json_pack("[o]", tp_verdict_to_json(&v));
	json_t *run = run_fixture(8, 2, 1000);
	struct check_result r[SCN_MAX_LIST];
	struct checks_proxy reference = {.started = true, .rss_growth_kib = -1, .fd_growth = -1};
	assert_int_equal(check(run, NULL, verdicts, &reference, r), 1);
	assert_int_equal(r[0].result, CHECK_PASS);
	assert_string_equal(r[0].text, "verdict truncated at proxy from probe, origin_ledger: found");
	assert_int_equal(r[1].result, CHECK_FAIL); /* no proxy ledger fact */
	assert_int_equal(r[2].result, CHECK_PASS);
	/* A proxy of the user's has no ledger of ours: asking for its facts is skipped. */
	struct checks_proxy user = {.user = true, .rss_growth_kib = -1, .fd_growth = -1};
	assert_int_equal(check(run, NULL, verdicts, &user, r), 0);
	assert_int_equal(r[1].result, CHECK_SKIP);
	assert_string_equal(r[1].text, "verdict truncated_proxy_client from proxy_ledger: skipped (not measured: "
				       "proxy not started by run, so no proxy ledger)");
	json_decref(verdicts);
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
		cmocka_unit_test(test_new_lines),
		cmocka_unit_test(test_groups),
		cmocka_unit_test(test_new_fields),
		cmocka_unit_test(test_verdict_evidence),
		cmocka_unit_test(test_quic_reference),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
