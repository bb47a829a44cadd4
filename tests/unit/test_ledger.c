/* Unit tests for lib/ledger's JSON Lines writer: the one writer the proxy and the origin
 * share. Lines from several threads never interleave, every line is flushed as it is
 * written, and a closed ledger refuses writes without leaking the record. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/jsonw.h"
#include "lib/ledger.h"

#define THREADS 4
#define LINES 500

struct writer_arg {
	struct ledger_file *lf;
	int thread;
	int failures;
};

static void *writer(void *p)
{
	struct writer_arg *a = p;
	char pad[200];
	memset(pad, 'x', sizeof pad - 1);
	pad[sizeof pad - 1] = '\0';
	for (int i = 0; i < LINES; i++)
		if (ledger_write(a->lf, json_pack("{s:i,s:i,s:s}", "thread", a->thread, "i", i, "pad",
						  pad)) != 0)
			a->failures++;
	return NULL;
}

static char *temp_path(void)
{
	char *path = strdup("/tmp/tp-ledger-XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	return path;
}

/* The file at path holds exactly want; removes it. */
static void assert_file_is(char *path, const char *want)
{
	FILE *fp = fopen(path, "r");
	assert_non_null(fp);
	char buf[256] = "";
	size_t n = fread(buf, 1, sizeof buf - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	assert_string_equal(buf, want);
	unlink(path);
	free(path);
}

static void test_threads_write_whole_lines(void **state)
{
	(void)state;
	char *path = temp_path();
	struct ledger_file lf;
	assert_int_equal(ledger_open(&lf, path), 0);
	assert_true(ledger_is_open(&lf));
	pthread_t th[THREADS];
	struct writer_arg args[THREADS];
	for (int t = 0; t < THREADS; t++) {
		args[t] = (struct writer_arg){.lf = &lf, .thread = t};
		assert_int_equal(pthread_create(&th[t], NULL, writer, &args[t]), 0);
	}
	for (int t = 0; t < THREADS; t++) {
		pthread_join(th[t], NULL);
		assert_int_equal(args[t].failures, 0);
	}
	/* Flushed per line: the file is complete before the ledger is closed. */
	FILE *fp = fopen(path, "r");
	assert_non_null(fp);
	int next[THREADS] = {0};
	char line[1024];
	int lines = 0;
	while (fgets(line, sizeof line, fp)) {
		json_error_t jerr;
		json_t *o = json_loads(line, 0, &jerr);
		if (!o)
			fail_msg("line %d is not one JSON object: %s", lines + 1, line);
		int t = (int)json_integer_value(json_object_get(o, "thread"));
		int i = (int)json_integer_value(json_object_get(o, "i"));
		assert_in_range(t, 0, THREADS - 1);
		assert_int_equal(i, next[t]); /* each thread's lines in its own order */
		next[t]++;
		json_decref(o);
		lines++;
	}
	fclose(fp);
	assert_int_equal(lines, THREADS * LINES);
	assert_int_equal(lf.lost, 0);
	ledger_close(&lf);
	assert_false(ledger_is_open(&lf));
	unlink(path);
	free(path);
}

static void test_appends(void **state)
{
	(void)state;
	char *path = temp_path();
	for (int round = 0; round < 2; round++) {
		struct ledger_file lf;
		assert_int_equal(ledger_open(&lf, path), 0);
		assert_int_equal(ledger_write(&lf, json_pack("{s:i}", "round", round)), 0);
		ledger_close(&lf);
	}
	assert_file_is(path, "{\"round\":0}\n{\"round\":1}\n");
}

static void test_closed_ledger(void **state)
{
	(void)state;
	struct ledger_file lf = {0};
	assert_false(ledger_is_open(&lf));
	assert_false(ledger_is_open(NULL));
	/* The record is released either way (ASan would report a leak). */
	assert_int_equal(ledger_write(&lf, json_pack("{s:i}", "a", 1)), -EBADF);
	ledger_close(&lf);
	ledger_close(NULL);
	assert_int_equal(ledger_open(&lf, "/nonexistent-dir/ledger.jsonl"), -ENOENT);
	assert_false(ledger_is_open(&lf));
	ledger_close(&lf);
}

/* --run-id: which ids are valid, and every line of a ledger with one carries it. */
static void test_run_id(void **state)
{
	(void)state;
	const char *good[] = {"a", "demo-1763851234-4242", "A.b_c-9",
			      "0123456789012345678901234567890123456789012345678901234567890123"};
	const char *bad[] = {"", "a b", "a/b", "x\"y", "caf\xc3\xa9", "a\n",
			     "01234567890123456789012345678901234567890123456789012345678901234"};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
		if (!ledger_run_id_valid(good[i]))
			fail_msg("'%s' refused", good[i]);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (ledger_run_id_valid(bad[i]))
			fail_msg("'%s' accepted", bad[i]);
	char *path = temp_path();
	struct ledger_file lf;
	assert_int_equal(ledger_open(&lf, path), 0);
	assert_int_equal(ledger_set_run(&lf, "a b"), -EINVAL);
	assert_int_equal(ledger_write(&lf, json_pack("{s:i}", "a", 1)), 0);
	assert_int_equal(ledger_set_run(&lf, "run-7"), 0);
	assert_int_equal(ledger_write(&lf, json_pack("{s:i}", "a", 2)), 0);
	/* A line built with lib/jsonw gets it the same way: the writer adds it. */
	char line[64];
	struct jsonw w;
	jsonw_init(&w, line, sizeof line);
	jsonw_object_begin(&w);
	jsonw_field_int(&w, "a", 3);
	jsonw_object_end(&w);
	assert_int_equal(ledger_write_line(&lf, line, jsonw_finish(&w)), 0);
	assert_string_equal(line, "{\"a\":3}"); /* given back as it was */
	char empty[] = "{}", array[] = "[1]";
	assert_int_equal(ledger_write_line(&lf, empty, 2), 0);
	assert_int_equal(ledger_write_line(&lf, array, 3), -EINVAL); /* no object to add it to */
	ledger_close(&lf);
	assert_file_is(path, "{\"a\":1}\n{\"a\":2,\"run\":\"run-7\"}\n{\"a\":3,\"run\":\"run-7\"}\n"
			     "{\"run\":\"run-7\"}\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_threads_write_whole_lines),
		cmocka_unit_test(test_appends),
		cmocka_unit_test(test_closed_ledger),
		cmocka_unit_test(test_run_id),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
