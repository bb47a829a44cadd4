/* Unit tests for lib/base64: RFC 4648's test vectors both ways, one line per malformed
 * input (and why it is refused), every too-small buffer refused without a byte past it,
 * and 2000 seeded random byte strings that decode back to themselves. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/base64.h"

static void test_rfc4648_vectors(void **state)
{
	(void)state;
	static const struct {
		const char *plain, *coded;
	} v[] = {
		{"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"}, {"foob", "Zm9vYg=="},
		{"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
		{"Aladdin:open sesame", "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="},
		{"\xff\xfe\xfd", "//79"}, {"\xfb\xef", "++8="},
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		char out[64];
		unsigned char back[64];
		size_t n = strlen(v[i].plain);
		assert_int_equal(base64_encode(v[i].plain, n, out, sizeof out), (long)strlen(v[i].coded));
		assert_string_equal(out, v[i].coded);
		assert_int_equal(base64_decode(out, strlen(out), back, sizeof back), (long)n);
		assert_memory_equal(back, v[i].plain, n);
	}
}

static void test_malformed_refused(void **state)
{
	(void)state;
	static const struct {
		const char *in, *why;
	} bad[] = {
		{"Zg=", "not whole groups of four"},
		{"Zg", "not whole groups of four"},
		{"Z===", "three pad characters"},
		{"====", "nothing but padding"},
		{"Zg==Zg==", "padding before the end"},
		{"Z=g=", "'=' inside a group"},
		{"Zm9v!A==", "not of the alphabet"},
		{"Zm9v YQ=", "a space"},
		{"Zm9v\nYQ=", "a line break (no MIME line wrapping here)"},
		{"Zm9-", "the URL-safe alphabet is another encoding"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		unsigned char out[16];
		long r = base64_decode(bad[i].in, strlen(bad[i].in), out, sizeof out);
		if (r != -EINVAL)
			fail_msg("'%s' (%s): got %ld, want -EINVAL", bad[i].in, bad[i].why, r);
	}
}

/* Buffers one byte too small are refused whole; nothing is written past them. */
static void test_small_buffers(void **state)
{
	(void)state;
	char out[16];
	memset(out, 'x', sizeof out);
	assert_int_equal(base64_encode("foob", 4, out, 8), -ENOSPC); /* 8 chars + NUL */
	assert_int_equal(out[0], 'x');
	assert_int_equal(base64_encode("foob", 4, out, 9), 8);
	assert_int_equal(out[9], 'x');
	unsigned char plain[8];
	memset(plain, 'y', sizeof plain);
	assert_int_equal(base64_decode("Zm9vYmE=", 8, plain, 4), -ENOSPC);
	assert_int_equal(plain[0], 'y');
	assert_int_equal(base64_decode("Zm9vYmE=", 8, plain, 5), 5);
	assert_int_equal(plain[5], 'y');
	assert_int_equal(base64_encode("", 0, out, 1), 0);
	assert_int_equal(base64_encode("", 0, out, 0), -ENOSPC);
}

static void test_random_round_trips(void **state)
{
	(void)state;
	srand(15);
	for (int round = 0; round < 2000; round++) {
		unsigned char plain[100], back[100];
		char coded[140];
		size_t n = (size_t)rand() % sizeof plain;
		for (size_t i = 0; i < n; i++)
			plain[i] = (unsigned char)rand();
		long len = base64_encode(plain, n, coded, sizeof coded);
		assert_int_equal(len, (long)base64_encoded_len(n));
		assert_int_equal(base64_decode(coded, (size_t)len, back, sizeof back), (long)n);
		assert_memory_equal(back, plain, n);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4648_vectors),
		cmocka_unit_test(test_malformed_refused),
		cmocka_unit_test(test_small_buffers),
		cmocka_unit_test(test_random_round_trips),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
