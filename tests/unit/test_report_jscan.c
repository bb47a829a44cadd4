/* jscan: one case per line (input, expected result, why), each also fed with the input
 * flush against the end of a malloc'ed copy so ASan catches any read past it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "reports/jscan.h"
#include "reports/records.h"

/* Walks the whole object; returns members seen, or the negative error. */
static int walk(const char *text)
{
	size_t n = strlen(text);
	char *copy = malloc(n ? n : 1);
	memcpy(copy, text, n);
	struct jscan s;
	struct jscan_member m;
	int rc, members = 0;
	jscan_init(&s, copy, n);
	while ((rc = jscan_next(&s, &m)) == 1)
		members++;
	free(copy);
	return rc < 0 ? rc : members;
}

static void test_cases(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		int want;
		const char *why;
	} cases[] = {
		{"{}", 0, "empty object"},
		{" { } \r\n", 0, "white space around"},
		{"{\"a\":1}", 1, "one member"},
		{"{\"a\":-0.5e+3,\"b\":true,\"c\":false,\"d\":null,\"e\":\"x\"}", 5, "every scalar"},
		{"{\"a\":{\"b\":[1,2,{\"c\":[]}]},\"d\":[]}", 2, "nested values are skipped whole"},
		{"{\"a\":\"\\u00e9\\n\\\"\"}", 1, "escapes"},
		{"", -22, "nothing"},
		{"[1]", -22, "not an object"},
		{"{\"a\":1,}", -22, "trailing comma"},
		{"{\"a\" 1}", -22, "missing colon"},
		{"{\"a\":01}", -22, "leading zero"},
		{"{\"a\":1.}", -22, "no digit after the point"},
		{"{\"a\":-}", -22, "a lone minus"},
		{"{\"a\":tru}", -22, "truncated literal"},
		{"{\"a\":\"x}", -22, "unterminated string"},
		{"{\"a\":\"\\x\"}", -22, "bad escape"},
		{"{\"a\":\"\\u12G4\"}", -22, "bad \\u digits"},
		{"{\"a\":\"\x01\"}", -22, "raw control character"},
		{"{\"a\":1} x", -22, "garbage after the object"},
		{"{\"a\":[1,2}", -22, "mismatched bracket"},
		{"{\"a\":1", -22, "unterminated object"},
		{"{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}", -22, "too deep"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int got = walk(cases[i].in);
		if (got != cases[i].want)
			fail_msg("case %zu (%s): got %d, want %d", i, cases[i].why, got, cases[i].want);
	}
}

/* Every prefix of a valid object is rejected, never read past. */
static void test_prefixes(void **state)
{
	(void)state;
	const char *text = "{\"id\":\"a-0-1\",\"n\":-12.5e-1,\"ok\":true,\"o\":{\"x\":[null,\"\\u20ac\"]}}";
	size_t n = strlen(text);
	for (size_t len = 0; len < n; len++) {
		char *copy = malloc(len ? len : 1);
		memcpy(copy, text, len);
		struct jscan s;
		struct jscan_member m;
		int rc;
		jscan_init(&s, copy, len);
		while ((rc = jscan_next(&s, &m)) == 1)
			;
		free(copy);
		assert_int_equal(rc, -22);
	}
	assert_int_equal(walk(text), 4);
}

static void test_values(void **state)
{
	(void)state;
	const char *text = "{\"url\":\"http://a/\\u00e9\\ud83d\\ude00\\ud800x\",\"latency_ms\":12.5,\"k\\u0061\":1}";
	struct jscan s;
	struct jscan_member m;
	jscan_init(&s, text, strlen(text));
	assert_int_equal(jscan_next(&s, &m), 1);
	assert_true(jscan_key_is(&m, "url"));
	assert_true(m.escaped);
	char out[64];
	jscan_string(&m, out, sizeof out);
	assert_string_equal(out, "http://a/\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbdx");
	/* Truncation never cuts a character. */
	char small[12];
	assert_int_equal(jscan_string(&m, small, sizeof small), 11);
	assert_string_equal(small, "http://a/\xc3\xa9");
	char tiny[11];
	assert_int_equal(jscan_string(&m, tiny, sizeof tiny), 9);
	assert_int_equal(jscan_next(&s, &m), 1);
	assert_true(jscan_key_is(&m, "latency_ms"));
	assert_true(jscan_number(&m) == 12.5);
	assert_int_equal(jscan_next(&s, &m), 1);
	assert_false(jscan_key_is(&m, "ka")); /* escaped keys match nothing */
	assert_int_equal(jscan_next(&s, &m), 0);
	assert_int_equal(jscan_next(&s, &m), 0);
}

static void test_qhist(void **state)
{
	(void)state;
	struct qhist q;
	memset(&q, 0, sizeof q);
	assert_int_equal(qhist_percentile(&q, 50), 0);
	for (uint64_t v = 1; v <= 1000; v++)
		qhist_record(&q, v * 1000);
	uint64_t p50 = qhist_percentile(&q, 50), p99 = qhist_percentile(&q, 99);
	/* Within the 12.5% the coarse buckets promise, never below the true value. */
	assert_true(p50 >= 500000 && p50 <= 500000 * 1.125);
	assert_true(p99 >= 990000 && p99 <= 990000 * 1.125);
	qhist_record(&q, UINT64_MAX); /* clamped into the last bucket */
	assert_int_equal(q.total, 1001);
	for (uint64_t v = 0; v < 8; v++) {
		struct qhist one;
		memset(&one, 0, sizeof one);
		qhist_record(&one, v);
		assert_int_equal(qhist_percentile(&one, 100), v); /* small values are exact */
	}
}

static void test_records_lines(void **state)
{
	(void)state;
	struct records_agg a;
	assert_int_equal(records_init(&a), 0);
	const char *good = "{\"id\":\"p-0-1\",\"url\":\"http://x/\",\"class\":\"incomplete_read\",\"phase\":\"body\","
			   "\"status\":200,\"bytes_sent\":10,\"wire_received\":99,\"reused\":true,\"latency_ms\":2.5,"
			   "\"t\":1795390000.5}";
	assert_int_equal(records_line(&a, good, strlen(good)), 0);
	assert_int_equal(records_line(&a, "   ", 3), 0); /* blank: ignored, not counted */
	assert_int_equal(records_line(&a, "{\"class\":\"ok\"}", 14), -22); /* no latency */
	assert_int_equal(records_line(&a, "{\"class\":\"zz\",\"latency_ms\":1}", 29), -22);
	assert_int_equal(a.lines, 3);
	assert_int_equal(a.bad_lines, 2);
	assert_int_equal(a.first_bad_line, 2);
	json_t *doc = records_to_run(&a, "mem");
	assert_int_equal(json_integer_value(json_object_get(doc, "requests")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "classes"), "incomplete_read")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "bytes"), "received")), 99);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "connections"), "requests_on_reused")), 1);
	assert_int_equal(json_array_size(json_object_get(doc, "failures")), 1);
	json_t *ts = json_array_get(json_object_get(doc, "timeseries"), 0);
	assert_int_equal(json_integer_value(json_object_get(ts, "completed")), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(ts, "failed"), "incomplete_read")), 1);
	json_decref(doc);
	records_free(&a);
	records_free(NULL);
	assert_true(records_sniff(good, strlen(good)));
	assert_false(records_sniff("{\"schema\":\"tunnelprobe.run/1\",\"class\":1}", 39));
	assert_false(records_sniff("{\n \"schema\": 1", 14));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_prefixes),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_qhist),
		cmocka_unit_test(test_records_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
