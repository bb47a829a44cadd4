/* Unit tests for the probe's --connect-to (curl semantics: what each kind of proxy is
 * asked for, what the request and TLS keep), --urls-file lines with sha256=/length=,
 * and --run-id. One line per parse case: input, what it must give, why. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/url.h"
#include "probe/config.h"

static const char *env_none(const char *name)
{
	(void)name;
	return NULL;
}

#define ARGV(...) ((char *[]){"probe", __VA_ARGS__, NULL})
#define ARGC(...) ((int)(sizeof((char *[]){"probe", __VA_ARGS__}) / sizeof(char *)))
#define PARSE(cfg, ...) probe_config_parse(cfg, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), env_none)

static void test_parse_rules(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		int rc;
		const char *host;
		unsigned port;
		const char *to_host;
		unsigned to_port;
		int literal, ipv6;
		const char *why;
	} cases[] = {
		{"www.baidu.com:443:127.0.0.1:8443", 0, "www.baidu.com", 443, "127.0.0.1", 8443, 1, 0, "all four"},
		{"WWW.Baidu.COM:443:127.0.0.1:8443", 0, "www.baidu.com", 443, "127.0.0.1", 8443, 1, 0, "names lower-cased"},
		{"::127.0.0.1:9000", 0, "", 0, "127.0.0.1", 9000, 1, 0, "empty HOST and PORT match any"},
		{"a.test:80::8080", 0, "a.test", 80, "", 8080, 0, 0, "empty ADDR keeps the host"},
		{"a.test:80:b.test:", 0, "a.test", 80, "b.test", 0, 0, 0, "empty PORT keeps the port"},
		{"a.test:443:[::1]:8443", 0, "a.test", 443, "::1", 8443, 1, 1, "IPv6 ADDR in brackets"},
		{"[0::1]:443:[::1]:1", 0, "::1", 443, "::1", 1, 1, 1, "IPv6 HOST canonical"},
		{"a.test:443:127.0.0.1", -EINVAL, NULL, 0, NULL, 0, 0, 0, "three fields"},
		{"a.test:443:127.0.0.1:1:2", -EINVAL, NULL, 0, NULL, 0, 0, 0, "five fields"},
		{"a.test:0:127.0.0.1:1", -EINVAL, NULL, 0, NULL, 0, 0, 0, "port 0"},
		{"a.test:443:127.0.0.1:65536", -EINVAL, NULL, 0, NULL, 0, 0, 0, "port past 65535"},
		{"a.test:x:127.0.0.1:1", -EINVAL, NULL, 0, NULL, 0, 0, 0, "port not a number"},
		{"a.test:443:[::1:1", -EINVAL, NULL, 0, NULL, 0, 0, 0, "unterminated bracket"},
		{"a.test:443:[zz]:1", -EINVAL, NULL, 0, NULL, 0, 0, 0, "bad IPv6"},
		{"a b:443:127.0.0.1:1", -EINVAL, NULL, 0, NULL, 0, 0, 0, "space in host"},
		{"", -EINVAL, NULL, 0, NULL, 0, 0, 0, "empty"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct url_connect_to c;
		const char *why = NULL;
		int rc = url_parse_connect_to(cases[i].in, &c, &why);
		if (rc != cases[i].rc)
			fail_msg("case %zu (%s): '%s' gave %d, want %d", i, cases[i].why, cases[i].in, rc, cases[i].rc);
		if (rc < 0) {
			assert_non_null(why);
			continue;
		}
		assert_string_equal(c.host, cases[i].host);
		assert_int_equal(c.port, cases[i].port);
		assert_string_equal(c.to_host, cases[i].to_host);
		assert_int_equal(c.to_port, cases[i].to_port);
		assert_int_equal(c.to_is_literal, cases[i].literal);
		assert_int_equal(c.to_is_ipv6, cases[i].ipv6);
	}
}

static void test_direct_keeps_the_name(void **state)
{
	(void)state;
	struct probe_config cfg;
	assert_int_equal(PARSE(&cfg, "--connect-to", "www.baidu.com:443:127.0.0.1:8443",
			       "https://www.baidu.com/x", "https://other.test/y"), 0);
	const struct probe_target *t = &cfg.targets[0];
	assert_true(t->connect_to);
	assert_string_equal(t->dial_host, "127.0.0.1");
	assert_int_equal(t->dial_port, 8443);
	assert_true(t->dial_is_literal);
	assert_string_equal(t->host_header, "www.baidu.com");
	assert_string_equal(t->url.host, "www.baidu.com"); /* SNI and verification name */
	assert_string_equal(t->request_target, "/x");
	/* a target no rule matches keeps its own host and port */
	t = &cfg.targets[1];
	assert_false(t->connect_to);
	assert_string_equal(t->dial_host, "other.test");
	assert_int_equal(t->dial_port, 443);
	probe_config_free(&cfg);
}

static void test_forward_asks_for_the_address(void **state)
{
	(void)state;
	struct probe_config cfg;
	assert_int_equal(PARSE(&cfg, "-x", "http://127.0.0.1:3128", "--connect-to", "api.test:80:127.0.0.1:8080",
			       "http://api.test/limit?x=1"), 0);
	const struct probe_target *t = &cfg.targets[0];
	assert_false(t->tunnel);
	assert_string_equal(t->request_target, "http://127.0.0.1:8080/limit?x=1");
	assert_string_equal(t->host_header, "api.test");
	assert_non_null(strstr(t->head, "GET http://127.0.0.1:8080/limit?x=1 HTTP/1.1\r\nHost: api.test\r\n"));
	probe_config_free(&cfg);
}

static void test_connect_asks_for_the_address(void **state)
{
	(void)state;
	struct probe_config cfg;
	char auth[300];
	assert_int_equal(PARSE(&cfg, "-x", "http://127.0.0.1:3128", "--connect-to", ":443:[::1]:8443",
			       "https://www.qq.com/"), 0);
	const struct probe_target *t = &cfg.targets[0];
	assert_true(t->tunnel);
	assert_int_equal(probe_target_dial_authority(t, auth, sizeof auth), 10);
	assert_string_equal(auth, "[::1]:8443"); /* CONNECT [::1]:8443, Host: [::1]:8443 */
	assert_string_equal(t->host_header, "www.qq.com"); /* the tunnelled request's Host */
	assert_string_equal(t->request_target, "/");
	/* without a rule, CONNECT names the URL's host and port */
	probe_config_free(&cfg);
	assert_int_equal(PARSE(&cfg, "-x", "http://127.0.0.1:3128", "https://www.qq.com/"), 0);
	probe_target_dial_authority(&cfg.targets[0], auth, sizeof auth);
	assert_string_equal(auth, "www.qq.com:443");
	probe_config_free(&cfg);
}

static void test_socks_gets_the_address(void **state)
{
	(void)state;
	struct probe_config cfg;
	/* a literal goes as an address (ATYP 1 or 4), a name as a name (socks5h) */
	assert_int_equal(PARSE(&cfg, "-x", "socks5h://127.0.0.1:1080", "--connect-to", "a.test:80:127.0.0.1:9000",
			       "--connect-to", "b.test:80:origin.internal:9001", "http://a.test/", "http://b.test/"), 0);
	assert_true(cfg.targets[0].dial_is_literal);
	assert_string_equal(cfg.targets[0].dial_host, "127.0.0.1");
	assert_false(cfg.targets[1].dial_is_literal);
	assert_string_equal(cfg.targets[1].dial_host, "origin.internal");
	assert_int_equal(cfg.targets[1].dial_port, 9001);
	assert_string_equal(cfg.targets[1].host_header, "b.test");
	probe_config_free(&cfg);
}

static void test_first_matching_rule_wins(void **state)
{
	(void)state;
	struct probe_config cfg;
	assert_int_equal(PARSE(&cfg, "--connect-to", "a.test:8080:127.0.0.1:1", "--connect-to", "a.test::127.0.0.2:2",
			       "--connect-to", "::127.0.0.3:3", "http://a.test:8080/", "http://a.test/", "http://c.test/"), 0);
	assert_string_equal(cfg.targets[0].dial_host, "127.0.0.1");
	assert_string_equal(cfg.targets[1].dial_host, "127.0.0.2");
	assert_string_equal(cfg.targets[2].dial_host, "127.0.0.3");
	assert_string_equal(cfg.targets[1].host_header, "a.test");
	assert_string_equal(cfg.targets[0].host_header, "a.test:8080");
	probe_config_free(&cfg);
}

static void test_urls_lines(void **state)
{
	(void)state;
	static const char hex64[] = "00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF";
	char line[300];
	struct probe_known k;
	const char *why = NULL;

	snprintf(line, sizeof line, "http://a.test/x sha256=%s  length=1024", hex64);
	assert_int_equal(probe_parse_urls_line(line, &k, &why), 0);
	assert_string_equal(line, "http://a.test/x");
	assert_true(k.has_sha256);
	assert_int_equal(k.sha256[0], 0x00);
	assert_int_equal(k.sha256[31], 0xff);
	assert_int_equal(k.length, 1024);

	strcpy(line, "http://a.test/plain");
	assert_int_equal(probe_parse_urls_line(line, &k, &why), 0);
	assert_false(k.has_sha256);
	assert_int_equal(k.length, -1);

	static const char *const bad[] = {
		"http://a.test/ sha256=abc",              /* short digest */
		"http://a.test/ length=-1",               /* negative */
		"http://a.test/ length=99999999999999999999", /* overflow */
		"http://a.test/ length=1 length=2",       /* twice */
		"http://a.test/ size=1",                  /* unknown word */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(line, sizeof line, "%s", bad[i]);
		why = NULL;
		if (probe_parse_urls_line(line, &k, &why) != -EINVAL || !why)
			fail_msg("'%s' accepted", bad[i]);
	}
	snprintf(line, sizeof line, "http://a.test/ sha256=%.63sg", hex64);
	assert_int_equal(probe_parse_urls_line(line, &k, &why), -EINVAL);
}

static void test_run_ids(void **state)
{
	(void)state;
	assert_true(probe_run_id_valid("demo-1763851234-4242"));
	assert_true(probe_run_id_valid("a.b_C-9"));
	assert_false(probe_run_id_valid(""));
	assert_false(probe_run_id_valid("has space"));
	assert_false(probe_run_id_valid("quote\""));
	assert_false(probe_run_id_valid("x/y"));
	char longid[70];
	memset(longid, 'a', 65);
	longid[65] = '\0';
	assert_false(probe_run_id_valid(longid));
	longid[64] = '\0';
	assert_true(probe_run_id_valid(longid));
	struct probe_config cfg;
	assert_int_equal(PARSE(&cfg, "--run-id", "r1", "http://127.0.0.1/"), 0);
	assert_string_equal(cfg.run_id, "r1");
	probe_config_free(&cfg);
}

static void test_bad_flags(void **state)
{
	(void)state;
	struct probe_config cfg;
	FILE *saved = stderr;
	stderr = fopen("/dev/null", "w");
	int a = PARSE(&cfg, "--connect-to", "a:1:b", "http://127.0.0.1/");
	probe_config_free(&cfg);
	int b = PARSE(&cfg, "--run-id", "bad id", "http://127.0.0.1/");
	probe_config_free(&cfg);
	fclose(stderr);
	stderr = saved;
	assert_int_equal(a, -EINVAL);
	assert_int_equal(b, -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_rules),
		cmocka_unit_test(test_direct_keeps_the_name),
		cmocka_unit_test(test_forward_asks_for_the_address),
		cmocka_unit_test(test_connect_asks_for_the_address),
		cmocka_unit_test(test_socks_gets_the_address),
		cmocka_unit_test(test_first_matching_rule_wins),
		cmocka_unit_test(test_urls_lines),
		cmocka_unit_test(test_run_ids),
		cmocka_unit_test(test_bad_flags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
