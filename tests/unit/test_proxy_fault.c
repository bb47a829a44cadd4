/* Unit tests for the reference proxy's fault specs: parsing (one line per spec) and
 * the deterministic choice of tunnels. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "proxy-under-test/fault.h"

static void test_good_specs(void **state)
{
	(void)state;
	const struct {
		const char *spec;
		enum fault_kind kind;
		uint64_t n;
		double p;
		uint64_t seed;
		enum fault_dir dir;
	} cases[] = {
		{"truncate:after=32768", FAULT_TRUNCATE, 32768, 1.0, 0, FAULT_DOWN},
		{"truncate:after=32768 p=0.17 seed=7", FAULT_TRUNCATE, 32768, 0.17, 7, FAULT_DOWN},
		{"rst:after=10,dir=up", FAULT_RST, 10, 1.0, 0, FAULT_UP},
		{"close-before-reply", FAULT_CLOSE_BEFORE_REPLY, 0, 1.0, 0, FAULT_DOWN},
		{"close-after-accept p=0.5", FAULT_CLOSE_AFTER_ACCEPT, 0, 0.5, 0, FAULT_DOWN},
		{"slow:bps=1000", FAULT_SLOW, 1000, 1.0, 0, FAULT_DOWN},
		{"corrupt:at=0", FAULT_CORRUPT, 0, 1.0, 0, FAULT_DOWN},
		{"no-fin seed=3", FAULT_NO_FIN, 0, 1.0, 3, FAULT_DOWN},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct fault f;
		const char *why = NULL;
		if (fault_parse(cases[i].spec, &f, &why) != 0)
			fail_msg("'%s' refused: %s", cases[i].spec, why);
		assert_int_equal(f.kind, cases[i].kind);
		assert_int_equal(f.n, cases[i].n);
		assert_true(f.p == cases[i].p);
		assert_int_equal(f.seed, cases[i].seed);
		assert_int_equal(f.dir, cases[i].dir);
		assert_string_equal(f.spec, cases[i].spec);
	}
}

static void test_bad_specs(void **state)
{
	(void)state;
	const char *bad[] = {"", "explode", "truncate", "truncate:after=", "truncate:after=x",
			     "rst:after=1 p=2", "slow:bps=0", "stall:after=1 dir=sideways",
			     "refuse color=red", "truncate:after=1 p=", "corrupt:after=3"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct fault f;
		const char *why = NULL;
		if (fault_parse(bad[i], &f, &why) == 0)
			fail_msg("'%s' accepted", bad[i]);
		assert_non_null(why);
	}
}

static void test_same_seed_same_tunnels(void **state)
{
	(void)state;
	struct fault a, b, c;
	const char *why;
	assert_int_equal(fault_parse("truncate:after=1 p=0.17 seed=7", &a, &why), 0);
	assert_int_equal(fault_parse("truncate:after=1 p=0.17 seed=7", &b, &why), 0);
	assert_int_equal(fault_parse("truncate:after=1 p=0.17 seed=8", &c, &why), 0);
	unsigned hits = 0, differ = 0;
	for (uint64_t k = 0; k < 6000; k++) {
		assert_int_equal(fault_hits(&a, k), fault_hits(&b, k));
		hits += fault_hits(&a, k);
		differ += fault_hits(&a, k) != fault_hits(&c, k);
	}
	/* About 1 in 6 (0.17 * 6000 = 1020), and another seed picks other tunnels. */
	assert_in_range(hits, 900, 1140);
	assert_true(differ > 500);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_specs),
		cmocka_unit_test(test_bad_specs),
		cmocka_unit_test(test_same_seed_same_tunnels),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
