/* Unit tests for lib/url: target and proxy URLs (one table row per case, good and
 * malformed), authority and absolute-URI formatting, and proxy selection from the
 * environment checked against what curl 7.88 does with the same variables. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "lib/url.h"

enum kind { TARGET, PROXY };

struct good_case {
	enum kind kind;
	const char *in;
	enum url_scheme scheme;
	const char *host;
	uint16_t port;
	bool port_explicit;
	const char *path;
	bool ipv6, literal;
	const char *user, *pass; /* NULL: no userinfo */
};

static const struct good_case good[] = {
	{TARGET, "http://example.com", URL_HTTP, "example.com", 80, false, "/", 0, 0, NULL, NULL},
	{TARGET, "https://WWW.Example.COM/a/b?x=1#frag", URL_HTTPS, "www.example.com", 443, false,
	 "/a/b?x=1", 0, 0, NULL, NULL},
	{TARGET, "HTTP://h:8080/p", URL_HTTP, "h", 8080, true, "/p", 0, 0, NULL, NULL},
	{TARGET, "HtTpS://h:443", URL_HTTPS, "h", 443, true, "/", 0, 0, NULL, NULL},
	{TARGET, "http://h?q=1", URL_HTTP, "h", 80, false, "/?q=1", 0, 0, NULL, NULL},
	{TARGET, "http://h#f", URL_HTTP, "h", 80, false, "/", 0, 0, NULL, NULL},
	{TARGET, "http://h/a?b#c#d", URL_HTTP, "h", 80, false, "/a?b", 0, 0, NULL, NULL},
	{TARGET, "http://h/?", URL_HTTP, "h", 80, false, "/?", 0, 0, NULL, NULL},
	{TARGET, "http://h/a%20b/%zz", URL_HTTP, "h", 80, false, "/a%20b/%zz", 0, 0, NULL, NULL},
	{TARGET, "http://h:080/", URL_HTTP, "h", 80, true, "/", 0, 0, NULL, NULL},
	{TARGET, "http://h:00000000001/", URL_HTTP, "h", 1, true, "/", 0, 0, NULL, NULL},
	{TARGET, "http://h:65535/", URL_HTTP, "h", 65535, true, "/", 0, 0, NULL, NULL},
	{TARGET, "http://[::1]:8080/x", URL_HTTP, "::1", 8080, true, "/x", 1, 1, NULL, NULL},
	{TARGET, "https://[0:0::1]", URL_HTTPS, "::1", 443, false, "/", 1, 1, NULL, NULL},
	{TARGET, "http://[2001:DB8::A]/", URL_HTTP, "2001:db8::a", 80, false, "/", 1, 1, NULL, NULL},
	{TARGET, "http://[::ffff:1.2.3.4]/", URL_HTTP, "::ffff:1.2.3.4", 80, false, "/", 1, 1, NULL,
	 NULL},
	{TARGET, "http://[::1]?q", URL_HTTP, "::1", 80, false, "/?q", 1, 1, NULL, NULL},
	{TARGET, "http://127.0.0.1/x", URL_HTTP, "127.0.0.1", 80, false, "/x", 0, 1, NULL, NULL},
	{TARGET, "http://255.255.255.255:1/", URL_HTTP, "255.255.255.255", 1, true, "/", 0, 1, NULL,
	 NULL},
	{TARGET, "http://1.2.3.4.example/", URL_HTTP, "1.2.3.4.example", 80, false, "/", 0, 0, NULL,
	 NULL},
	{TARGET, "http://example.123abc/", URL_HTTP, "example.123abc", 80, false, "/", 0, 0, NULL,
	 NULL},
	{TARGET, "http://h_1.Example-X.com./", URL_HTTP, "h_1.example-x.com.", 80, false, "/", 0, 0,
	 NULL, NULL},
	{TARGET, "http://u:p%40ss@h/", URL_HTTP, "h", 80, false, "/", 0, 0, "u", "p@ss"},
	{TARGET, "http://u@h/", URL_HTTP, "h", 80, false, "/", 0, 0, "u", ""},
	{TARGET, "http://u:@h/", URL_HTTP, "h", 80, false, "/", 0, 0, "u", ""},
	{TARGET, "http://@h/", URL_HTTP, "h", 80, false, "/", 0, 0, "", ""},
	{TARGET, "http://a@b@h/", URL_HTTP, "h", 80, false, "/", 0, 0, "a@b", ""},
	{TARGET, "http://%41%3a:%2F%c3%A9:x@h/", URL_HTTP, "h", 80, false, "/", 0, 0, "A:",
	 "/\xc3\xa9:x"},
	{TARGET, "http://h/path@with:colon", URL_HTTP, "h", 80, false, "/path@with:colon", 0, 0,
	 NULL, NULL},
	{PROXY, "127.0.0.1:3128", URL_HTTP, "127.0.0.1", 3128, true, "/", 0, 1, NULL, NULL},
	{PROXY, "proxy.local", URL_HTTP, "proxy.local", 1080, false, "/", 0, 0, NULL, NULL},
	{PROXY, "localhost:8080/", URL_HTTP, "localhost", 8080, true, "/", 0, 0, NULL, NULL},
	{PROXY, "http://p", URL_HTTP, "p", 1080, false, "/", 0, 0, NULL, NULL},
	{PROXY, "http://p:8080/", URL_HTTP, "p", 8080, true, "/", 0, 0, NULL, NULL},
	{PROXY, "http://p:8080#x", URL_HTTP, "p", 8080, true, "/", 0, 0, NULL, NULL},
	{PROXY, "socks5://h", URL_SOCKS5, "h", 1080, false, "/", 0, 0, NULL, NULL},
	{PROXY, "SOCKS5H://u:p@[::1]:9050", URL_SOCKS5H, "::1", 9050, true, "/", 1, 1, "u", "p"},
	{PROXY, "socks5h://us%40er:p%3Ass@127.0.0.1", URL_SOCKS5H, "127.0.0.1", 1080, false, "/", 0,
	 1, "us@er", "p:ss"},
	{PROXY, "[::1]:3128", URL_HTTP, "::1", 3128, true, "/", 1, 1, NULL, NULL},
};

static void test_good_urls(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		const struct good_case *c = &good[i];
		struct url u;
		const char *why = NULL;
		int r = c->kind == TARGET ? url_parse(c->in, &u, &why) : url_parse_proxy(c->in, &u, &why);
		if (r != 0)
			fail_msg("'%s': returned %d (%s), expected 0", c->in, r, why ? why : "?");
		print_message("# %s\n", c->in);
		assert_int_equal(u.scheme, c->scheme);
		assert_string_equal(u.host, c->host);
		assert_int_equal(u.port, c->port);
		assert_int_equal(u.port_explicit, c->port_explicit);
		assert_string_equal(u.path, c->path);
		assert_int_equal(u.host_is_ipv6, c->ipv6);
		assert_int_equal(u.host_is_literal, c->literal);
		assert_int_equal(u.has_userinfo, c->user != NULL);
		assert_string_equal(u.user, c->user ? c->user : "");
		assert_string_equal(u.pass, c->pass ? c->pass : "");
	}
}

struct bad_case {
	enum kind kind;
	const char *in;
	const char *why; /* a substring of *why */
};

static const struct bad_case bad[] = {
	{TARGET, "", "no scheme"},
	{TARGET, "noscheme.test/", "no scheme"},
	{TARGET, "example.com:80", "no scheme"},
	{TARGET, "://h/", "no scheme"},
	{TARGET, "1http://h/", "no scheme"},
	{TARGET, "http:/h", "no scheme"},
	{TARGET, "ftp://h/", "unsupported scheme"},
	{TARGET, "socks5://h/", "unsupported scheme"},
	{TARGET, "httpx://h/", "unsupported scheme"},
	{TARGET, "http://", "empty host"},
	{TARGET, "http:///p", "empty host"},
	{TARGET, "http://:80/", "empty host"},
	{TARGET, "http://u:p@/", "empty host"},
	{TARGET, "http://?q", "empty host"},
	{TARGET, "http://[]/", "empty host"},
	{TARGET, "http://h:/", "empty port"},
	{TARGET, "http://[::1]:/", "empty port"},
	{TARGET, "http://h:0/", "bad port"},
	{TARGET, "http://h:00/", "bad port"},
	{TARGET, "http://h:65536/", "bad port"},
	{TARGET, "http://h:99999999999999999999999/", "bad port"},
	{TARGET, "http://h:12ab/", "bad port"},
	{TARGET, "http://h:-1/", "bad port"},
	{TARGET, "http://h:+80/", "bad port"},
	{TARGET, "http://h:80:80/", "bad port"},
	{TARGET, "http://h y/", "space"},
	{TARGET, " http://h/", "space"},
	{TARGET, "http://h/a b", "space"},
	{TARGET, "http://h/\t", "control"},
	{TARGET, "http://h/\r\nX: y", "control"},
	{TARGET, "http://h/\x7f", "control"},
	{TARGET, "http://h/#\x01", "control"},
	{TARGET, "http://h/\xc3\xa9", "non-ASCII"},
	{TARGET, "http://\xc3\xa9.test/", "non-ASCII"},
	{TARGET, "http://[::1/", "unterminated IPv6"},
	{TARGET, "http://[::1]x/", "garbage after IPv6"},
	{TARGET, "http://[::1]]/", "garbage after IPv6"},
	{TARGET, "http://[fe80::1%25eth0]/", "zone"},
	{TARGET, "http://[fe80::1%eth0]/", "zone"},
	{TARGET, "http://[1.2.3.4]/", "bad IPv6"},
	{TARGET, "http://[::g]/", "bad IPv6"},
	{TARGET, "http://[1:2:3:4:5:6:7:8:9]/", "bad IPv6"},
	{TARGET, "http://[0000000000000000000000000000000000000000000000000000000000000::1]/",
	 "bad IPv6"},
	{TARGET, "http://::1/", "empty host"},
	{TARGET, "http://a..b/", "empty label"},
	{TARGET, "http://.a/", "empty label"},
	{TARGET, "http://./", "empty label"},
	{TARGET, "http://h%41/", "percent-encoded host"},
	{TARGET, "http://h!/", "bad character in host"},
	{TARGET, "http://a]b/", "bad character in host"},
	{TARGET, "http://a[b/", "bad character in host"},
	{TARGET, "http://a\\b/", "bad character in host"},
	{TARGET, "http://1234/", "bad IPv4"},
	{TARGET, "http://10.1/", "bad IPv4"},
	{TARGET, "http://127.1:80/", "bad IPv4"},
	{TARGET, "http://0x7f.1/", "bad IPv4"},
	{TARGET, "http://foo.0x1f/", "bad IPv4"},
	{TARGET, "http://256.1.1.1/", "bad IPv4"},
	{TARGET, "http://1.2.3.4.5/", "bad IPv4"},
	{TARGET, "http://010.0.0.1/", "bad IPv4"},
	{TARGET, "http://1.2.3.4./", "bad IPv4"},
	{TARGET, "http://u:%zz@h/", "bad escape in password"},
	{TARGET, "http://u:p%4@h/", "bad escape in password"},
	{TARGET, "http://u:p%@h/", "bad escape in password"},
	{TARGET, "http://%00@h/", "bad escape in user"},
	{TARGET, "http://%g0:p@h/", "bad escape in user"},
	{PROXY, "http://p/path", "no path"},
	{PROXY, "http://p:1/?x", "no path"},
	{PROXY, "http://p?x", "no path"},
	{PROXY, "p:1//", "no path"},
	{PROXY, "https://p", "unsupported proxy scheme"},
	{PROXY, "socks4://p", "unsupported proxy scheme"},
	{PROXY, "socks5a://p", "unsupported proxy scheme"},
	{PROXY, "", "empty host"},
	{PROXY, "p:", "empty port"},
	{PROXY, "p:0", "bad port"},
	{PROXY, "socks5://p:70000", "bad port"},
	{PROXY, "socks5://", "empty host"},
	{PROXY, "http://p q:1", "space"},
};

static void test_bad_urls(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		const struct bad_case *c = &bad[i];
		struct url u;
		const char *why = NULL;
		int r = c->kind == TARGET ? url_parse(c->in, &u, &why) : url_parse_proxy(c->in, &u, &why);
		if (r != -EINVAL)
			fail_msg("'%s': returned %d, expected -EINVAL (%s)", c->in, r, c->why);
		if (!why || !strstr(why, c->why))
			fail_msg("'%s': why is '%s', expected it to mention '%s'", c->in,
				 why ? why : "(null)", c->why);
		/* why is optional */
		r = c->kind == TARGET ? url_parse(c->in, &u, NULL) : url_parse_proxy(c->in, &u, NULL);
		assert_int_equal(r, -EINVAL);
	}
}

/* Field limits, exactly at and one past each cap. */
static void test_limits(void **state)
{
	(void)state;
	static char long_part[URL_MAX_PATH + 16], in[2 * sizeof long_part + 64];
	struct url u;
	const char *why = NULL;

	/* host: 255 characters fit (URL_MAX_HOST with the NUL), 256 do not */
	memset(long_part, 'a', URL_MAX_HOST - 1);
	long_part[URL_MAX_HOST - 1] = '\0';
	snprintf(in, sizeof in, "http://%s/", long_part);
	assert_int_equal(url_parse(in, &u, &why), 0);
	assert_int_equal(strlen(u.host), URL_MAX_HOST - 1);
	snprintf(in, sizeof in, "http://%sa/", long_part);
	assert_int_equal(url_parse(in, &u, &why), -EINVAL);
	assert_string_equal(why, "host too long");

	/* path: URL_MAX_PATH - 1 characters fit */
	long_part[0] = '/';
	memset(long_part + 1, 'p', URL_MAX_PATH - 2);
	long_part[URL_MAX_PATH - 1] = '\0';
	snprintf(in, sizeof in, "http://h%s#fragment-does-not-count", long_part);
	assert_int_equal(url_parse(in, &u, &why), 0);
	assert_int_equal(strlen(u.path), URL_MAX_PATH - 1);
	snprintf(in, sizeof in, "http://h%sp", long_part);
	assert_int_equal(url_parse(in, &u, &why), -EINVAL);
	assert_string_equal(why, "path too long");
	/* a query-only path gains its "/" and must still fit */
	long_part[0] = '?';
	snprintf(in, sizeof in, "http://h%s", long_part);
	assert_int_equal(url_parse(in, &u, &why), -EINVAL);
	assert_string_equal(why, "path too long");
	long_part[URL_MAX_PATH - 2] = '\0';
	snprintf(in, sizeof in, "http://h%s", long_part);
	assert_int_equal(url_parse(in, &u, &why), 0);
	assert_int_equal(strlen(u.path), URL_MAX_PATH - 1);

	/* userinfo: 255 decoded bytes fit; escapes count once decoded */
	memset(long_part, 'u', URL_MAX_USERINFO - 1);
	long_part[URL_MAX_USERINFO - 1] = '\0';
	snprintf(in, sizeof in, "socks5://%s:%s@h", long_part, long_part);
	assert_int_equal(url_parse_proxy(in, &u, &why), 0);
	assert_int_equal(strlen(u.user), 255);
	assert_int_equal(strlen(u.pass), 255);
	snprintf(in, sizeof in, "socks5://%su:p@h", long_part);
	assert_int_equal(url_parse_proxy(in, &u, &why), -EINVAL);
	assert_string_equal(why, "user name too long");
	snprintf(in, sizeof in, "socks5://u:%s%%41@h", long_part);
	assert_int_equal(url_parse_proxy(in, &u, &why), -EINVAL);
	assert_string_equal(why, "password too long");
	char escaped[3 * 255 + 1];
	for (int i = 0; i < 255; i++)
		memcpy(escaped + 3 * i, "%41", 3);
	escaped[3 * 255] = '\0';
	snprintf(in, sizeof in, "socks5://%s:x@h", escaped);
	assert_int_equal(url_parse_proxy(in, &u, &why), 0);
	assert_int_equal(strlen(u.user), 255);
}

struct format_case {
	enum kind kind;
	const char *in;
	const char *authority_default_ok; /* url_authority(.., true, ..) */
	const char *authority;            /* url_authority(.., false, ..) */
	const char *absolute;             /* NULL: not a target */
};

static const struct format_case formats[] = {
	{TARGET, "http://h/x?y", "h", "h:80", "http://h/x?y"},
	{TARGET, "http://h:80/", "h", "h:80", "http://h/"},
	{TARGET, "http://h:443/", "h:443", "h:443", "http://h:443/"},
	{TARGET, "https://h/", "h", "h:443", "https://h/"},
	{TARGET, "https://h:80", "h:80", "h:80", "https://h:80/"},
	{TARGET, "http://[::1]:8080", "[::1]:8080", "[::1]:8080", "http://[::1]:8080/"},
	{TARGET, "https://[::1]/p", "[::1]", "[::1]:443", "https://[::1]/p"},
	{TARGET, "http://u:p@h/", "h", "h:80", "http://h/"},
	{PROXY, "socks5h://[::1]", "[::1]", "[::1]:1080", NULL},
	{PROXY, "socks5://p:1080", "p", "p:1080", NULL},
	{PROXY, "p:3128", "p:3128", "p:3128", NULL},
	{PROXY, "http://p", "p:1080", "p:1080", NULL},
};

static void test_formatting(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
		const struct format_case *c = &formats[i];
		struct url u;
		const char *why = NULL;
		char buf[URL_MAX_PATH + URL_MAX_HOST + 32];
		int r = c->kind == TARGET ? url_parse(c->in, &u, &why) : url_parse_proxy(c->in, &u, &why);
		assert_int_equal(r, 0);
		print_message("# %s\n", c->in);
		assert_int_equal(url_authority(&u, true, buf, sizeof buf), strlen(c->authority_default_ok));
		assert_string_equal(buf, c->authority_default_ok);
		int n = url_authority(&u, false, buf, sizeof buf);
		assert_int_equal(n, strlen(c->authority));
		assert_string_equal(buf, c->authority);
		/* the exact fit works, one byte less is -ENOSPC */
		assert_int_equal(url_authority(&u, false, buf, (size_t)n + 1), n);
		assert_int_equal(url_authority(&u, false, buf, (size_t)n), -ENOSPC);
		if (!c->absolute)
			continue;
		n = url_absolute(&u, buf, sizeof buf);
		assert_int_equal(n, strlen(c->absolute));
		assert_string_equal(buf, c->absolute);
		assert_int_equal(url_absolute(&u, buf, (size_t)n + 1), n);
		assert_int_equal(url_absolute(&u, buf, (size_t)n), -ENOSPC);
		/* what url_absolute writes parses back to the same target */
		assert_int_equal(url_absolute(&u, buf, sizeof buf), n);
		struct url again;
		assert_int_equal(url_parse(buf, &again, &why), 0);
		assert_int_equal(again.scheme, u.scheme);
		assert_string_equal(again.host, u.host);
		assert_int_equal(again.port, u.port);
		assert_string_equal(again.path, u.path);
	}
}

/* ---- proxy selection ---- */

#define MAX_VARS 6
struct env_case {
	const char *vars[MAX_VARS][2];
	const char *target;
	const char *expect; /* NULL: direct */
};

/* Every row was also run through curl 7.88.1 (env -i ... curl -v) to see whether it went
 * to the proxy; rows marked "curl 8" follow curl's documented CIDR rules, which 7.88
 * applies to IPv4 only. */
static const struct env_case env_cases[] = {
	{{{"http_proxy", "http://hp:1"}}, "http://a.test/", "http://hp:1"},
	{{{"HTTP_PROXY", "http://HP:1"}}, "http://a.test/", NULL}, /* httpoxy */
	{{{"https_proxy", "http://sp:1"}}, "http://a.test/", NULL},
	{{{"http_proxy", "http://hp:1"}}, "https://a.test/", NULL},
	{{{"https_proxy", "http://sp:1"}}, "https://a.test/", "http://sp:1"},
	{{{"HTTPS_PROXY", "http://SP:1"}}, "https://a.test/", "http://SP:1"},
	{{{"https_proxy", ""}, {"HTTPS_PROXY", "http://SP:1"}}, "https://a.test/", "http://SP:1"},
	{{{"https_proxy", "http://sp:1"}, {"HTTPS_PROXY", "http://SP:1"}}, "https://a.test/",
	 "http://sp:1"},
	{{{"ALL_PROXY", "socks5h://AP:1"}}, "http://a.test/", "socks5h://AP:1"},
	{{{"ALL_PROXY", "socks5h://AP:1"}}, "https://a.test/", "socks5h://AP:1"},
	{{{"all_proxy", "socks5://ap:1"}, {"http_proxy", ""}}, "http://a.test/", "socks5://ap:1"},
	{{{"all_proxy", ""}, {"ALL_PROXY", "socks5h://AP:1"}, {"http_proxy", ""}}, "http://a.test/",
	 "socks5h://AP:1"},
	{{{"all_proxy", "socks5://ap:1"}, {"ALL_PROXY", "socks5h://AP:1"}}, "http://a.test/",
	 "socks5://ap:1"},
	{{{"http_proxy", "http://hp:1"}, {"all_proxy", "socks5://ap:1"}}, "http://a.test/",
	 "http://hp:1"},
	{{{"HTTP_PROXY", "http://HP:1"}, {"all_proxy", "socks5://ap:1"}}, "http://a.test/",
	 "socks5://ap:1"},
	{{{NULL, NULL}}, "http://a.test/", NULL},
	{{{"http_proxy", ""}, {"all_proxy", ""}}, "http://a.test/", NULL},
	/* no_proxy: names */
	{{{"http_proxy", "P"}, {"no_proxy", "example.com"}}, "http://a.example.com/", NULL},
	{{{"http_proxy", "P"}, {"no_proxy", "example.com"}}, "http://example.com/", NULL},
	{{{"http_proxy", "P"}, {"no_proxy", "example.com"}}, "http://EXAMPLE.com/", NULL},
	{{{"http_proxy", "P"}, {"no_proxy", "EXAMPLE.COM"}}, "http://A.example.com/", NULL},
	{{{"http_proxy", "P"}, {"no_proxy", "example.com"}}, "http://example.com./", NULL},
	{{{"http_proxy", "P"}, {"no_proxy", "example.com."}}, "http://a.example.com/", NULL},
	{{{"http_proxy", "P"}, {"no_proxy", ".example.com"}}, "http://example.com/", NULL},
	{{{"http_proxy", "P"}, {"no_proxy", ".com"}}, "http://a.example.com/", NULL},
	{{{"http_proxy", "P"}, {"no_proxy", "com"}}, "http://a.example.com/", NULL},
	{{{"http_proxy", "P"}, {"no_proxy", "xample.com"}}, "http://a.example.com/", "P"},
	{{{"http_proxy", "P"}, {"no_proxy", "a.example.com"}}, "http://example.com/", "P"},
	{{{"http_proxy", "P"}, {"no_proxy", "example.com:80"}}, "http://a.example.com/", "P"},
	{{{"http_proxy", "P"}, {"no_proxy", "*.example.com"}}, "http://a.example.com/", "P"},
	{{{"http_proxy", "P"}, {"no_proxy", "."}}, "http://a.example.com/", "P"},
	{{{"http_proxy", "P"}, {"no_proxy", "*"}}, "http://a.example.com/", NULL},
	{{{"https_proxy", "P"}, {"no_proxy", "*"}}, "https://[::1]/", NULL},
	{{{"http_proxy", "P"}, {"no_proxy", "foo,*"}}, "http://a.example.com/", "P"},
	{{{"http_proxy", "P"}, {"no_proxy", " * "}}, "http://a.example.com/", "P"},
	{{{"http_proxy", "P"}, {"no_proxy", "foo bar,example.com"}}, "http://a.example.com/", NULL},
	{{{"http_proxy", "P"}, {"no_proxy", "foo , example.com"}}, "http://a.example.com/", NULL},
	{{{"http_proxy", "P"}, {"no_proxy", "foo\texample.com"}}, "http://a.example.com/", NULL},
	{{{"http_proxy", "P"}, {"no_proxy", ",,example.com,,"}}, "http://a.example.com/", NULL},
	{{{"http_proxy", "P"}, {"no_proxy", "localhost"}}, "http://localhost:1/", NULL},
	{{{"http_proxy", "P"}, {"no_proxy", ""}}, "http://a.example.com/", "P"},
	{{{"http_proxy", "P"}, {"no_proxy", ""}, {"NO_PROXY", "example.com"}}, "http://a.example.com/",
	 NULL},
	{{{"http_proxy", "P"}, {"NO_PROXY", "example.com"}}, "http://a.example.com/", NULL},
	{{{"http_proxy", "P"}, {"no_proxy", "other"}, {"NO_PROXY", "example.com"}},
	 "http://a.example.com/", "P"},
	{{{"https_proxy", "P"}, {"no_proxy", "internal.test, .corp"}}, "https://host.corp/", NULL},
	{{{"https_proxy", "P"}, {"no_proxy", "internal.test, .corp"}}, "https://notinternal.test/",
	 "P"},
	/* no_proxy: addresses */
	{{{"http_proxy", "P"}, {"no_proxy", "127.0.0.2"}}, "http://127.0.0.2:1/", NULL},
	{{{"http_proxy", "P"}, {"no_proxy", "127.0.0.0/8"}}, "http://127.0.0.2:1/", NULL},
	{{{"http_proxy", "P"}, {"no_proxy", "127.0.0.3/24,x"}}, "http://127.0.0.2:1/", NULL},
	{{{"http_proxy", "P"}, {"no_proxy", "127.0.0.2/32"}}, "http://127.0.0.2:1/", NULL},
	{{{"http_proxy", "P"}, {"no_proxy", "192.168.1.0/23"}}, "http://192.168.0.5/", NULL},
	{{{"http_proxy", "P"}, {"no_proxy", "192.168.2.0/23"}}, "http://192.168.1.5/", "P"},
	{{{"http_proxy", "P"}, {"no_proxy", "127.0.0.0/33"}}, "http://127.0.0.2:1/", "P"},
	{{{"http_proxy", "P"}, {"no_proxy", "127.0.0.0/0"}}, "http://127.0.0.2:1/", "P"},
	{{{"http_proxy", "P"}, {"no_proxy", "10.0.0.0/8"}}, "http://127.0.0.2:1/", "P"},
	{{{"http_proxy", "P"}, {"no_proxy", "0.0.2"}}, "http://127.0.0.2:1/", "P"},
	{{{"http_proxy", "P"}, {"no_proxy", "0.2"}}, "http://127.0.0.2:1/", "P"},
	{{{"http_proxy", "P"}, {"no_proxy", "localhost"}}, "http://127.0.0.1/", "P"},
	{{{"http_proxy", "P"}, {"no_proxy", "::1"}}, "http://[::1]:1/", NULL},
	{{{"http_proxy", "P"}, {"no_proxy", "::1"}}, "http://[0::1]:1/", NULL},
	{{{"http_proxy", "P"}, {"no_proxy", "[::1]"}}, "http://[::1]:1/", "P"},
	{{{"http_proxy", "P"}, {"no_proxy", "1"}}, "http://[::1]:1/", "P"},
	{{{"http_proxy", "P"}, {"no_proxy", "::1/128"}}, "http://[::1]:1/", NULL}, /* curl 8 */
	{{{"http_proxy", "P"}, {"no_proxy", "::/64"}}, "http://[::1]:1/", NULL},   /* curl 8 */
	{{{"http_proxy", "P"}, {"no_proxy", "fd00::/8"}}, "http://[fd12::1]/", NULL},
	{{{"http_proxy", "P"}, {"no_proxy", "fd00::/9"}}, "http://[fd80::1]/", "P"},
	{{{"http_proxy", "P"}, {"no_proxy", "fe00::/8"}}, "http://[fd12::1]/", "P"},
	{{{"http_proxy", "P"}, {"no_proxy", "::1/129"}}, "http://[::1]:1/", "P"},
	{{{"http_proxy", "P"}, {"no_proxy", "127.0.0.1"}}, "http://[::1]:1/", "P"},
};

static const struct env_case *current_env;
static unsigned asked_upper_http_proxy;

static const char *fake_getenv(const char *name)
{
	if (strcmp(name, "HTTP_PROXY") == 0)
		asked_upper_http_proxy++;
	for (size_t i = 0; i < MAX_VARS && current_env->vars[i][0]; i++)
		if (strcmp(current_env->vars[i][0], name) == 0)
			return current_env->vars[i][1];
	return NULL;
}

static void test_proxy_from_env(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof env_cases / sizeof env_cases[0]; i++) {
		const struct env_case *c = &env_cases[i];
		struct url t;
		const char *why = NULL;
		if (url_parse(c->target, &t, &why) != 0)
			fail_msg("row %zu: target '%s': %s", i, c->target, why);
		current_env = c;
		asked_upper_http_proxy = 0;
		const char *got = url_proxy_from_env(&t, fake_getenv);
		const char *np = NULL;
		for (size_t v = 0; v < MAX_VARS && c->vars[v][0]; v++)
			if (strcmp(c->vars[v][0], "no_proxy") == 0)
				np = c->vars[v][1];
		if ((got == NULL) != (c->expect == NULL) || (got && strcmp(got, c->expect) != 0))
			fail_msg("row %zu: %s (no_proxy '%s'): got %s, expected %s", i, c->target,
				 np ? np : "", got ? got : "direct", c->expect ? c->expect : "direct");
		assert_int_equal(asked_upper_http_proxy, 0);
	}
}

/* Request targets as an origin sees them: the absolute form a forward proxy passes
 * keeps only its path; origin-form, "*" and authority-form are left as they are. */
static void test_origin_form(void **state)
{
	(void)state;
	static const struct {
		const char *in, *want;
	} cases[] = {
		{"/bytes/10?x=1", "/bytes/10?x=1"},
		{"http://h/p?q", "/p?q"},
		{"HTTPS://www.baidu.com:443/", "/"},
		{"http://a/b", "/b"},         /* one-letter host: the path starts right after it */
		{"http://h", "/"},            /* no path */
		{"http://", "/"},
		{"https://h:8443", "/"},
		{"*", "*"},
		{"h:443", "h:443"},
		{"httpx://h/p", "httpx://h/p"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t len = strlen(cases[i].in);
		const char *p = url_origin_form(cases[i].in, &len);
		assert_int_equal(len, strlen(cases[i].want));
		assert_memory_equal(p, cases[i].want, len);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_urls),
		cmocka_unit_test(test_bad_urls),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_formatting),
		cmocka_unit_test(test_proxy_from_env),
		cmocka_unit_test(test_origin_form),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
