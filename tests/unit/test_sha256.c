/* Unit tests for lib/sha256: FIPS 180-4's test vectors, and the same digests as
 * OpenSSL's SHA-256 for 500 seeded random inputs fed in random pieces (every split of
 * a block boundary, lengths around 55/56/64 where the padding changes). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>

#include "lib/sha256.h"

static void digest_hex(const void *data, size_t len, char out[2 * SHA256_LEN + 1])
{
	/* The portable code and the platform's digest (OpenSSL's on Linux) agree. */
	struct sha256_soft s;
	uint8_t d[SHA256_LEN], p[SHA256_LEN];
	sha256_soft_init(&s);
	sha256_soft_update(&s, data, len);
	sha256_soft_final(&s, d);
	struct sha256 c = {0};
	assert_int_equal(sha256_init(&c), 0);
	sha256_update(&c, data, len);
	sha256_final(&c, p);
	sha256_free(&c);
	assert_memory_equal(d, p, SHA256_LEN);
	for (int i = 0; i < SHA256_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void test_fips_vectors(void **state)
{
	(void)state;
	char hex[2 * SHA256_LEN + 1];
	digest_hex("abc", 3, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	digest_hex("", 0, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	const char *two = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	digest_hex(two, strlen(two), hex);
	assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	static char million[1000000];
	memset(million, 'a', sizeof million);
	digest_hex(million, sizeof million, hex);
	assert_string_equal(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

static void test_pieces_match_openssl(void **state)
{
	(void)state;
	srand(256);
	static uint8_t buf[3000];
	for (int round = 0; round < 500; round++) {
		size_t len = round < 130 ? (size_t)round : (size_t)rand() % sizeof buf;
		for (size_t i = 0; i < len; i++)
			buf[i] = (uint8_t)rand();
		struct sha256_soft c;
		sha256_soft_init(&c);
		for (size_t at = 0; at < len;) {
			size_t n = 1 + (size_t)rand() % 150;
			if (n > len - at)
				n = len - at;
			sha256_soft_update(&c, buf + at, n);
			at += n;
		}
		uint8_t mine[SHA256_LEN], theirs[SHA256_LEN];
		sha256_soft_final(&c, mine);
		SHA256(buf, len, theirs);
		if (memcmp(mine, theirs, SHA256_LEN) != 0)
			fail_msg("length %zu (round %d): digests differ", len, round);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fips_vectors),
		cmocka_unit_test(test_pieces_match_openssl),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
