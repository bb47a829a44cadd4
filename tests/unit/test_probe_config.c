/* Unit tests for the probe's command line: proxies (flag and environment, as curl),
 * request targets, load options, and bad input giving -EINVAL (exit 2). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "probe/config.h"

static const char *env_none(const char *name)
{
	(void)name;
	return NULL;
}

static const char *env_proxies(const char *name)
{
	if (strcmp(name, "https_proxy") == 0)
		return "http://127.0.0.1:3128";
	if (strcmp(name, "http_proxy") == 0)
		return "socks5h://127.0.0.1:1080";
	return NULL;
}

#define ARGV(...) ((char *[]){"probe", __VA_ARGS__, NULL})
#define ARGC(...) ((int)(sizeof((char *[]){"probe", __VA_ARGS__}) / sizeof(char *)))
#define PARSE(cfg, env, ...) probe_config_parse(cfg, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), env)

static void test_direct_defaults(void **state)
{
	(void)state;
	struct probe_config cfg;
	assert_int_equal(PARSE(&cfg, env_none, "http://127.0.0.1:8080/a?b=1"), 0);
	assert_int_equal(cfg.ntargets, 1);
	assert_false(cfg.targets[0].has_proxy);
	assert_string_equal(cfg.targets[0].request_target, "/a?b=1");
	assert_string_equal(cfg.targets[0].host_header, "127.0.0.1:8080");
	assert_int_equal(cfg.requests_per_url, 1);
	assert_int_equal(cfg.connections, 1);
	assert_string_equal(cfg.method, "GET");
	assert_true(cfg.expect_status[200] && cfg.expect_status[302]);
	assert_false(cfg.expect_status[404] || cfg.expect_status[503]);
	probe_config_free(&cfg);
}

static void test_forward_proxy_uses_absolute_form(void **state)
{
	(void)state;
	struct probe_config cfg;
	assert_int_equal(PARSE(&cfg, env_none, "-x", "http://u:p@127.0.0.1:3128", "http://example.test/x"), 0);
	struct probe_target *t = &cfg.targets[0];
	assert_true(t->has_proxy);
	assert_false(t->tunnel);
	assert_string_equal(t->request_target, "http://example.test/x");
	assert_string_equal(t->proxy_auth, "Basic dTpw");
	probe_config_free(&cfg);
}

static void test_https_through_http_proxy_tunnels(void **state)
{
	(void)state;
	struct probe_config cfg;
	assert_int_equal(PARSE(&cfg, env_none, "-x", "127.0.0.1:3128", "https://example.test/", "-p",
			       "http://example.test/"),
			 0);
	assert_true(cfg.targets[0].tunnel);
	assert_true(cfg.targets[1].tunnel); /* --proxytunnel */
	assert_string_equal(cfg.targets[1].request_target, "/");
	probe_config_free(&cfg);
}

static void test_environment_proxies_as_curl(void **state)
{
	(void)state;
	struct probe_config cfg;
	assert_int_equal(PARSE(&cfg, env_proxies, "https://a.test/", "http://b.test/"), 0);
	assert_true(cfg.targets[0].has_proxy);
	assert_int_equal(cfg.targets[0].proxy.scheme, URL_HTTP);
	assert_int_equal(cfg.targets[1].proxy.scheme, URL_SOCKS5H);
	probe_config_free(&cfg);
	assert_int_equal(PARSE(&cfg, env_proxies, "--noproxy", "*", "https://a.test/"), 0);
	assert_false(cfg.targets[0].has_proxy);
	probe_config_free(&cfg);
}

static void test_load_options(void **state)
{
	(void)state;
	struct probe_config cfg;
	assert_int_equal(PARSE(&cfg, env_none, "-c", "50", "-t", "2", "-R", "1000", "-d", "2m",
			       "--timeout", "250ms", "--upload", "64k", "--expect-status", "200,4xx",
			       "http://127.0.0.1/"),
			 0);
	assert_int_equal(cfg.connections, 50);
	assert_int_equal(cfg.threads, 2);
	assert_true(cfg.rate == 1000.0);
	assert_true(cfg.duration_s == 120.0);
	assert_true(cfg.timeout_s == 0.25);
	assert_int_equal(cfg.requests_per_url, 0);
	assert_int_equal(cfg.upload_bytes, 65536);
	assert_string_equal(cfg.method, "POST");
	assert_true(cfg.expect_status[200] && cfg.expect_status[404] && !cfg.expect_status[201]);
	probe_config_free(&cfg);
}

static void test_more_threads_than_connections_is_capped(void **state)
{
	(void)state;
	struct probe_config cfg;
	assert_int_equal(PARSE(&cfg, env_none, "-t", "8", "-c", "3", "http://127.0.0.1/"), 0);
	assert_int_equal(cfg.threads, 3);
	probe_config_free(&cfg);
}

static void test_resolve_override(void **state)
{
	(void)state;
	struct probe_config cfg;
	assert_int_equal(PARSE(&cfg, env_none, "--resolve", "www.baidu.com:443:127.0.0.1",
			       "--resolve", "v6.test:80:[::1]", "https://www.baidu.com/"),
			 0);
	assert_int_equal(cfg.nresolve, 2);
	assert_string_equal(cfg.resolve[0].host, "www.baidu.com");
	assert_int_equal(cfg.resolve[0].port, 443);
	assert_int_equal(cfg.resolve[1].addr.ss.ss_family, AF_INET6);
	probe_config_free(&cfg);
}

/* One line per bad command line: each must be refused with -EINVAL. */
/* QUIC proxies: every target is tunnelled, default ports 443 and 1080, --streams
 * allowed without --http3, the proxy spec kept as given for the records. */
static void test_quic_proxies(void **state)
{
	(void)state;
	static const struct {
		char *spec;
		enum url_scheme scheme;
		uint16_t port;
	} cases[] = {
		{"quic://proxy.test", URL_HTTP, 443},
		{"QUIC://proxy.test:4433", URL_HTTP, 4433},
		{"socks5+quic://proxy.test", URL_SOCKS5, 1080},
		{"socks5h+quic://u:p@proxy.test:9", URL_SOCKS5H, 9},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct probe_config cfg;
		assert_int_equal(PARSE(&cfg, env_none, "-x", cases[i].spec, "--streams", "8", "http://a.test/x",
				       "https://a.test/y"),
				 0);
		for (size_t k = 0; k < cfg.ntargets; k++) {
			const struct probe_target *t = &cfg.targets[k];
			assert_true(t->has_proxy && t->proxy_quic);
			assert_int_equal(t->proxy.scheme, cases[i].scheme);
			assert_int_equal(t->proxy.port, cases[i].port);
			assert_string_equal(t->proxy_spec, cases[i].spec);
			assert_true(t->tunnel || cases[i].scheme != URL_HTTP);
			assert_false(t->quic); /* HTTP/1.1 inside the tunnel */
		}
		assert_true(cfg.quic_proxy);
		assert_int_equal(cfg.streams, 8);
		probe_config_free(&cfg);
	}
}

static void test_bad_input_is_refused(void **state)
{
	(void)state;
	struct probe_config cfg;
	struct {
		int argc;
		char **argv;
		const char *why;
	} cases[] = {
		{ARGC("--bogus", "http://x/"), ARGV("--bogus", "http://x/"), "unknown option"},
		{ARGC("-n"), ARGV("-n"), "missing value"},
		{ARGC("-n", "0", "http://x/"), ARGV("-n", "0", "http://x/"), "zero count"},
		{ARGC("-n", "-5", "http://x/"), ARGV("-n", "-5", "http://x/"), "negative count"},
		{ARGC("-c", "abc", "http://x/"), ARGV("-c", "abc", "http://x/"), "not a number"},
		{ARGC("-d", "5parsecs", "http://x/"), ARGV("-d", "5parsecs", "http://x/"), "bad duration"},
		{ARGC("-n", "5", "-d", "5", "http://x/"), ARGV("-n", "5", "-d", "5", "http://x/"), "-n with -d"},
		{ARGC("ftp://x/"), ARGV("ftp://x/"), "unsupported scheme"},
		{ARGC("http://x:99999/"), ARGV("http://x:99999/"), "bad port"},
		{ARGC("-x", "gopher://p:1", "http://x/"), ARGV("-x", "gopher://p:1", "http://x/"), "bad proxy"},
		{ARGC("-x", "quic://", "http://x/"), ARGV("-x", "quic://", "http://x/"), "QUIC proxy without a host"},
		{ARGC("-x", "socks5+quic://p:0", "http://x/"), ARGV("-x", "socks5+quic://p:0", "http://x/"), "port 0"},
		{ARGC("--streams", "2", "-x", "socks5://p:1", "http://x/"),
		 ARGV("--streams", "2", "-x", "socks5://p:1", "http://x/"), "--streams over TCP"},
		{ARGC("--cacert", "/nonexistent/ca.pem", "https://x/"),
		 ARGV("--cacert", "/nonexistent/ca.pem", "https://x/"), "unreadable CA"},
		{ARGC("--resolve", "x:80", "http://x/"), ARGV("--resolve", "x:80", "http://x/"), "short resolve"},
		{ARGC("--expect-status", "2yy", "http://x/"), ARGV("--expect-status", "2yy", "http://x/"), "bad status"},
		{ARGC("-X", "G ET", "http://x/"), ARGV("-X", "G ET", "http://x/"), "bad method"},
		{ARGC("--urls-file", "/nonexistent", "http://x/"), ARGV("--urls-file", "/nonexistent", "http://x/"), "no file"},
		{1, (char *[]){"probe", NULL}, "no URL"},
	};
	FILE *saved = stderr;
	stderr = fopen("/dev/null", "w"); /* the one-line messages are not under test here */
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int rc = probe_config_parse(&cfg, cases[i].argc, cases[i].argv, env_none);
		probe_config_free(&cfg);
		if (rc != -EINVAL) {
			fclose(stderr);
			stderr = saved;
			fail_msg("case %zu (%s): got %d, want -EINVAL", i, cases[i].why, rc);
		}
	}
	fclose(stderr);
	stderr = saved;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_direct_defaults),
		cmocka_unit_test(test_forward_proxy_uses_absolute_form),
		cmocka_unit_test(test_https_through_http_proxy_tunnels),
		cmocka_unit_test(test_environment_proxies_as_curl),
		cmocka_unit_test(test_load_options),
		cmocka_unit_test(test_more_threads_than_connections_is_capped),
		cmocka_unit_test(test_resolve_override),
		cmocka_unit_test(test_quic_proxies),
		cmocka_unit_test(test_bad_input_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
