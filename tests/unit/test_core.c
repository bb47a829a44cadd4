/* Unit tests for lib/url (targets, proxies, curl's environment rules), lib/socks5
 * (round trips, byte-by-byte parsing, errors) and lib/hist (exactness, the 1% bound
 * against exact percentiles, merging). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/hist.h"
#include "lib/socks5.h"
#include "lib/url.h"

static void test_urls(void **state)
{
	(void)state;
	struct url u;
	const char *why;
	assert_int_equal(url_parse("https://WWW.Baidu.com/a/b?x=1#frag", &u, &why), 0);
	assert_int_equal(u.scheme, URL_HTTPS);
	assert_string_equal(u.host, "www.baidu.com");
	assert_int_equal(u.port, 443);
	assert_string_equal(u.path, "/a/b?x=1");
	assert_false(u.host_is_literal);
	assert_int_equal(url_parse("http://[::1]:8080", &u, &why), 0);
	assert_true(u.host_is_ipv6 && u.host_is_literal);
	assert_string_equal(u.host, "::1");
	assert_string_equal(u.path, "/");
	char buf[300];
	assert_int_equal(url_authority(&u, true, buf, sizeof buf), 10);
	assert_string_equal(buf, "[::1]:8080");
	assert_int_equal(url_parse("http://127.0.0.1/x", &u, &why), 0);
	assert_true(u.host_is_literal);
	assert_true(url_absolute(&u, buf, sizeof buf) > 0);
	assert_string_equal(buf, "http://127.0.0.1/x");
	assert_int_equal(url_parse_proxy("socks5h://us%40er:p%3Ass@127.0.0.1", &u, &why), 0);
	assert_int_equal(u.scheme, URL_SOCKS5H);
	assert_int_equal(u.port, 1080);
	assert_string_equal(u.user, "us@er");
	assert_string_equal(u.pass, "p:ss");
	assert_int_equal(url_parse_proxy("127.0.0.1:3128", &u, &why), 0);
	assert_int_equal(u.scheme, URL_HTTP);
	assert_int_equal(u.port, 3128);
	const char *bad[] = {"ftp://x/", "http://", "http:///p", "http://x:0/", "http://x:65536/",
			     "http://x y/", "http://[::1/", "http://a\tb/", "noscheme.test/", "http://x:12ab/"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (url_parse(bad[i], &u, &why) != -EINVAL)
			fail_msg("'%s' accepted", bad[i]);
	assert_int_equal(url_parse_proxy("http://p:1/path", &u, &why), -EINVAL);
	assert_int_equal(url_parse_proxy("https://p:1", &u, &why), -EINVAL);
}

static const char *env_table[][2] = {
	{"http_proxy", "http://hp:1"}, {"HTTPS_PROXY", "http://sp:2"}, {"no_proxy", "internal.test, .corp"},
	{NULL, NULL},
};

static const char *fake_env(const char *name)
{
	for (size_t i = 0; env_table[i][0]; i++)
		if (strcmp(env_table[i][0], name) == 0)
			return env_table[i][1];
	return NULL;
}

static void test_proxy_env(void **state)
{
	(void)state;
	struct url u;
	const char *why;
	url_parse("http://a.test/", &u, &why);
	assert_string_equal(url_proxy_from_env(&u, fake_env), "http://hp:1");
	url_parse("https://a.test/", &u, &why);
	assert_string_equal(url_proxy_from_env(&u, fake_env), "http://sp:2");
	url_parse("https://x.internal.test/", &u, &why);
	assert_null(url_proxy_from_env(&u, fake_env));
	url_parse("https://host.corp/", &u, &why);
	assert_null(url_proxy_from_env(&u, fake_env));
	url_parse("https://notinternal.test/", &u, &why);
	assert_non_null(url_proxy_from_env(&u, fake_env));
}

static void test_socks5_round_trip(void **state)
{
	(void)state;
	uint8_t buf[600];
	int err = 0;
	int n = socks5_client_greeting(buf, sizeof buf, true);
	struct socks5_greeting g;
	for (int len = 0; len < n; len++)
		assert_int_equal(socks5_server_parse_greeting(buf, (size_t)len, &g, &err), SOCKS5_NEED_MORE);
	assert_int_equal(socks5_server_parse_greeting(buf, (size_t)n, &g, &err), n);
	assert_true(socks5_greeting_offers(&g, SOCKS5_METHOD_USERPASS));
	const char *hosts[] = {"10.1.2.3", "::1", "www.example.test"};
	for (size_t h = 0; h < 3; h++) {
		struct socks5_addr dst, got;
		assert_int_equal(socks5_addr_from_host(&dst, hosts[h], 443), 0);
		n = socks5_client_request(buf, sizeof buf, SOCKS5_CMD_CONNECT, &dst);
		assert_true(n > 0);
		uint8_t cmd;
		for (int len = 0; len < n; len++)
			assert_int_equal(socks5_server_parse_request(buf, (size_t)len, &cmd, &got, &err), SOCKS5_NEED_MORE);
		assert_int_equal(socks5_server_parse_request(buf, (size_t)n, &cmd, &got, &err), n);
		assert_int_equal(got.atyp, dst.atyp);
		assert_int_equal(got.port, 443);
		char a[300], b[300];
		socks5_addr_format(&dst, a, sizeof a);
		socks5_addr_format(&got, b, sizeof b);
		assert_string_equal(a, b);
		n = socks5_server_reply(buf, sizeof buf, SOCKS5_REP_CONNECTION_REFUSED, &dst);
		uint8_t rep;
		assert_int_equal(socks5_client_parse_reply(buf, (size_t)n, &rep, &got, &err), n);
		assert_int_equal(rep, SOCKS5_REP_CONNECTION_REFUSED);
	}
	char user[256], pass[256];
	n = socks5_client_userpass(buf, sizeof buf, "alice", "s3cret");
	assert_int_equal(socks5_server_parse_userpass(buf, (size_t)n, user, pass, &err), n);
	assert_string_equal(user, "alice");
	assert_string_equal(pass, "s3cret");
	assert_string_equal(socks5_reply_name(5), "connection refused");
}

static void test_socks5_errors(void **state)
{
	(void)state;
	struct socks5_greeting g;
	struct socks5_addr a;
	uint8_t cmd, rep;
	int err = 0;
	const uint8_t v4[] = {4, 1, 0};
	assert_int_equal(socks5_server_parse_greeting(v4, 3, &g, &err), SOCKS5_ERROR);
	assert_int_equal(err, SOCKS5_E_VERSION);
	const uint8_t nomethods[] = {5, 0};
	assert_int_equal(socks5_server_parse_greeting(nomethods, 2, &g, &err), SOCKS5_ERROR);
	assert_int_equal(err, SOCKS5_E_NO_METHODS);
	const uint8_t badatyp[] = {5, 1, 0, 9, 1, 2};
	assert_int_equal(socks5_server_parse_request(badatyp, sizeof badatyp, &cmd, &a, &err), SOCKS5_ERROR);
	assert_int_equal(err, SOCKS5_E_ATYP);
	const uint8_t emptydom[] = {5, 1, 0, 3, 0, 0, 80};
	assert_int_equal(socks5_server_parse_request(emptydom, sizeof emptydom, &cmd, &a, &err), SOCKS5_ERROR);
	assert_int_equal(err, SOCKS5_E_DOMAIN);
	const uint8_t rsv[] = {5, 0, 1, 1, 0, 0, 0, 0, 0, 0};
	assert_int_equal(socks5_client_parse_reply(rsv, sizeof rsv, &rep, &a, &err), SOCKS5_ERROR);
	assert_int_equal(err, SOCKS5_E_RESERVED);
	uint8_t out[4];
	struct socks5_addr big;
	assert_int_equal(socks5_addr_from_host(&big, "x.test", 1), 0);
	assert_int_equal(socks5_client_request(out, sizeof out, 1, &big), -ENOSPC);
}

static uint64_t rnd_state = 88172645463325252ull;
static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static void test_hist_accuracy_and_merge(void **state)
{
	(void)state;
	static struct hist h, a, b;
	hist_init(&h);
	hist_init(&a);
	hist_init(&b);
	for (uint64_t v = 0; v < HIST_SUB_BUCKETS; v++) {
		assert_int_equal(hist_bucket_low(hist_bucket_index(v)), v);
		assert_int_equal(hist_bucket_high(hist_bucket_index(v)), v);
	}
	enum { N = 100000 };
	static uint64_t vals[N];
	for (int i = 0; i < N; i++) {
		vals[i] = rnd() % (1ull << (rnd() % 36));
		hist_record(&h, vals[i]);
		hist_record(i % 2 ? &a : &b, vals[i]);
		size_t idx = hist_bucket_index(vals[i]);
		assert_true(hist_bucket_low(idx) <= vals[i] && vals[i] <= hist_bucket_high(idx));
	}
	qsort(vals, N, sizeof vals[0], cmp_u64);
	const double ps[] = {1, 50, 90, 99, 99.9, 100};
	for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
		size_t rank = (size_t)(ps[i] / 100.0 * N + 0.999999);
		uint64_t exact = vals[(rank ? rank : 1) - 1];
		uint64_t got = hist_percentile(&h, ps[i]);
		double err = exact ? ((double)got - (double)exact) / (double)exact : (double)got;
		if (err < -0.01 || err > 0.01)
			fail_msg("p%g: got %llu, exact %llu", ps[i], (unsigned long long)got,
				 (unsigned long long)exact);
	}
	hist_merge(&a, &b);
	assert_int_equal(a.total, h.total);
	assert_int_equal(a.min, h.min);
	assert_int_equal(a.max, h.max);
	assert_memory_equal(a.counts, h.counts, sizeof h.counts);
	static struct hist empty;
	hist_init(&empty);
	assert_int_equal(hist_percentile(&empty, 99), 0);
	hist_record(&empty, UINT64_MAX);
	assert_int_equal(empty.max, UINT64_MAX);
	assert_int_equal(hist_bucket_index(UINT64_MAX), HIST_BUCKETS - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_urls),
		cmocka_unit_test(test_proxy_env),
		cmocka_unit_test(test_socks5_round_trip),
		cmocka_unit_test(test_socks5_errors),
		cmocka_unit_test(test_hist_accuracy_and_merge),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
