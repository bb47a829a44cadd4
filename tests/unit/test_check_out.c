/* Unit tests for check/out and check/args: credentials redacted, hostile text escaped in
 * HTML and XML and made printable for JSON, the JSON shape of docs/check.md, and the
 * option parser's refusals (one line each). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "check/args.h"
#include "check/battery.h"
#include "check/ck.h"
#include "check/out.h"

static void test_redact(void **state)
{
	(void)state;
	char out[256];
	ckout_redact("socks5://tp:secret@127.0.0.1:1080", out, sizeof out);
	assert_string_equal(out, "socks5://tp:***@127.0.0.1:1080");
	ckout_redact("http://127.0.0.1:3128", out, sizeof out);
	assert_string_equal(out, "http://127.0.0.1:3128");
	ckout_redact("socks5://user@h:1", out, sizeof out); /* no password: nothing to hide */
	assert_string_equal(out, "socks5://user@h:1");
}

static char *escaped(const char *s)
{
	static char buf[512];
	FILE *f = fmemopen(buf, sizeof buf, "w");
	ckout_escape(f, s);
	fclose(f);
	return buf;
}

static void test_escape(void **state)
{
	(void)state;
	assert_string_equal(escaped("<script>alert('x')</script> & \"q\""),
			    "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;");
	assert_string_equal(escaped("a\x01\x1b[31m"), "a??[31m");
}

static void fake(struct ck_def *def, struct battery_row *row, enum ck_result r)
{
	def->id = "forward.x";
	def->title = "a <title>";
	def->rule = "RFC 9112 §6.3";
	def->profile = CK_PROFILE_FORWARD;
	memset(row, 0, sizeof *row);
	row->def = def;
	ck_result(&row->out, r, "proxy said \"%s\"", "\xff\xfe<b>\n");
	ck_num(&row->out, "client_sent", 83);
	ck_str(&row->out, "client_end", "%s", "fin");
}

static void test_json_shape(void **state)
{
	(void)state;
	struct ck_args a;
	char err[128];
	char *argv[] = {"check", "--proxy", "socks5://u:pw@127.0.0.1:1", "--profile", "forward,cache"};
	assert_int_equal(ck_args_parse(&a, 5, argv, err, sizeof err), 0);
	struct ck_def def;
	struct battery_row rows[2];
	fake(&def, &rows[0], CK_FAIL);
	fake(&def, &rows[1], CK_WARN);
	struct battery_run run = {.rows = rows, .n = 2, .failed = 1, .warned = 1};
	char path[] = "/tmp/tp-check-out-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(ckout_json(path, &a, &run), 0);
	json_error_t jerr;
	json_t *root = json_load_file(path, 0, &jerr);
	assert_non_null(root);
	assert_string_equal(json_string_value(json_object_get(root, "proxy")),
			    "socks5://u:***@127.0.0.1:1");
	assert_int_equal(json_array_size(json_object_get(root, "profiles")), 2);
	json_t *c = json_array_get(json_object_get(root, "checks"), 0);
	assert_string_equal(json_string_value(json_object_get(c, "result")), "fail");
	assert_string_equal(json_string_value(json_object_get(c, "profile")), "forward");
	assert_string_equal(json_string_value(json_object_get(c, "rule")), "RFC 9112 §6.3");
	/* bytes from a peer arrive printable, so the string is valid JSON */
	assert_string_equal(json_string_value(json_object_get(c, "detail")), "proxy said \"?" "?<b>?\"");
	json_t *ev = json_object_get(c, "evidence");
	assert_int_equal(json_integer_value(json_object_get(ev, "client_sent")), 83);
	assert_string_equal(json_string_value(json_object_get(ev, "client_end")), "fin");
	assert_int_equal(json_integer_value(json_object_get(root, "failed")), 1);
	assert_int_equal(json_integer_value(json_object_get(root, "warned")), 1);
	json_decref(root);
	assert_int_equal(ckout_html(path, &a, &run), 0);
	FILE *f = fopen(path, "r");
	char html[8192];
	size_t n = fread(html, 1, sizeof html - 1, f);
	fclose(f);
	html[n] = '\0';
	assert_non_null(strstr(html, "a &lt;title&gt;"));
	assert_null(strstr(html, "<b>"));
	assert_null(strstr(html, "pw@"));
	unlink(path);
}

static void test_args_refusals(void **state)
{
	(void)state;
	static struct {
		int argc;
		char *argv[6];
		const char *why;
	} bad[] = {
		{1, {"check"}, "--proxy URL is required"},
		{3, {"check", "--proxy", "ftp://h:1"}, "bad URL"},
		{5, {"check", "--proxy", "http://h:1", "--profile", "x"}, "unknown profile"},
		{3, {"check", "--gateway", "http://127.0.0.1:1"}, "needs --origin-url"},
		{5, {"check", "--gateway", "http://g:1", "--origin-url", "http://localhost:2"},
		 "address literal"},
		{5, {"check", "--proxy", "http://h:1", "--gateway-rate", "0"}, "--gateway-rate"},
		{2, {"check", "--proxy"}, "needs a value"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct ck_args a;
		char err[256];
		if (ck_args_parse(&a, bad[i].argc, bad[i].argv, err, sizeof err) != -1 ||
		    !strstr(err, bad[i].why) || strchr(err, '\n'))
			fail_msg("case %zu: got '%s', want '%s'", i, err, bad[i].why);
	}
	struct ck_args a;
	char err[256];
	char *gw[] = {"check", "--gateway", "http://127.0.0.1:1", "--origin-url", "http://127.0.0.1:2"};
	assert_int_equal(ck_args_parse(&a, 5, gw, err, sizeof err), 0);
	assert_int_equal(a.profiles, CK_PROFILE_GATEWAY);
	char *all[] = {"check", "--proxy", "http://h:1", "--profile", "all"};
	assert_int_equal(ck_args_parse(&a, 5, all, err, sizeof err), 0);
	assert_int_equal(a.profiles, CK_PROFILE_ALL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_redact),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_json_shape),
		cmocka_unit_test(test_args_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
