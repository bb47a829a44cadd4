/* Unit tests for the probe's --shard / TP_SHARD: the load cut to the shard's part (-n
 * by request number, -c with at least one connection, -R divided), the whole load kept
 * for the run file, the shard inside the id prefix's first field (where the reference
 * proxy's fault key does not look), the flag over the environment, and bad values
 * refused (exit 2). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "probe/config.h"

static const char *env_value;

static const char *env_shard(const char *name)
{
	return strcmp(name, "TP_SHARD") == 0 ? env_value : NULL;
}

#define ARGV(...) ((char *[]){"probe", __VA_ARGS__, NULL})
#define ARGC(...) ((int)(sizeof((char *[]){"probe", __VA_ARGS__}) / sizeof(char *)))
#define PARSE(cfg, ...) probe_config_parse(cfg, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), env_shard)

static void test_closed_loop_part(void **state)
{
	(void)state;
	struct probe_config cfg;
	env_value = NULL;
	assert_int_equal(PARSE(&cfg, "--shard", "1/4", "-n", "10", "-c", "6", "-t", "2", "http://x/"), 0);
	assert_int_equal(cfg.shard.index, 1);
	assert_int_equal(cfg.shard.count, 4);
	assert_int_equal(cfg.requests_per_url, 3); /* 1, 5, 9 */
	assert_int_equal(cfg.connections, 2);      /* 6 = 2 + 2 + 1 + 1 */
	assert_int_equal(cfg.threads, 2);
	assert_int_equal(cfg.whole_requests_per_url, 10);
	assert_int_equal(cfg.whole_connections, 6);
	/* "xxxxxx.s1": one dash-free field, so the fault key (after the first dash) is
	 * the unsharded run's "TARGET-SEQ" */
	assert_int_equal(strlen(cfg.id_prefix), 9);
	assert_null(strchr(cfg.id_prefix, '-'));
	assert_string_equal(cfg.id_prefix + 6, ".s1");
	probe_config_free(&cfg);
}

static void test_open_loop_part(void **state)
{
	(void)state;
	struct probe_config cfg;
	env_value = "3/4";
	assert_int_equal(PARSE(&cfg, "-R", "100", "-c", "2", "-t", "4", "-d", "10s", "http://x/"), 0);
	assert_int_equal(cfg.shard.index, 3);
	assert_true(cfg.rate == 25);
	assert_true(cfg.whole_rate == 100);
	assert_int_equal(cfg.connections, 1); /* 2 connections, 4 shards: at least one each */
	assert_int_equal(cfg.threads, 1);
	assert_int_equal(cfg.requests_per_url, 0);
	probe_config_free(&cfg);
}

static void test_flag_over_environment(void **state)
{
	(void)state;
	struct probe_config cfg;
	env_value = "garbage"; /* not read when the flag is given */
	assert_int_equal(PARSE(&cfg, "--shard", "0/2", "-n", "5", "http://x/"), 0);
	assert_int_equal(cfg.shard.count, 2);
	assert_int_equal(cfg.requests_per_url, 3); /* 0, 2, 4 */
	probe_config_free(&cfg);
	env_value = ""; /* set but empty: not sharded */
	assert_int_equal(PARSE(&cfg, "-n", "5", "http://x/"), 0);
	assert_int_equal(cfg.shard.count, 0);
	assert_int_equal(cfg.requests_per_url, 5);
	assert_int_equal(strlen(cfg.id_prefix), 6);
	probe_config_free(&cfg);
	env_value = "0/1"; /* one shard: the whole load, the plain prefix */
	assert_int_equal(PARSE(&cfg, "-n", "5", "-c", "3", "http://x/"), 0);
	assert_int_equal(cfg.requests_per_url, 5);
	assert_int_equal(cfg.connections, 3);
	assert_int_equal(strlen(cfg.id_prefix), 6);
	probe_config_free(&cfg);
}

static void test_bad_values(void **state)
{
	(void)state;
	struct probe_config cfg;
	FILE *saved = stderr;
	stderr = fopen("/dev/null", "w");
	env_value = NULL;
	int flag_rc = PARSE(&cfg, "--shard", "4/4", "http://x/");
	probe_config_free(&cfg);
	int missing_rc = PARSE(&cfg, "http://x/", "--shard");
	probe_config_free(&cfg);
	env_value = "1-4";
	int env_rc = PARSE(&cfg, "http://x/");
	probe_config_free(&cfg);
	fclose(stderr);
	stderr = saved;
	assert_int_equal(flag_rc, -EINVAL);
	assert_int_equal(missing_rc, -EINVAL);
	assert_int_equal(env_rc, -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_closed_loop_part),
		cmocka_unit_test(test_open_loop_part),
		cmocka_unit_test(test_flag_over_environment),
		cmocka_unit_test(test_bad_values),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
