/* Unit tests for lib/jsonw: the exact text of the shared cases (tests/helpers/
 * jsonw_cases.h, which the Windows test program checks too), every call out of place
 * refused with -EINVAL, every buffer too small refused with -ENOSPC and never
 * overrun, 3000 seeded random documents read back by jansson as written, and jsonw
 * lines written by two threads through ledger_write_line(). */
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
#include "tests/helpers/jsonw_cases.h"
#include "tests/helpers/jsonw_roundtrip.h"

static void test_cases_give_exact_text(void **state)
{
	(void)state;
	char buf[1024];
	for (size_t i = 0; i < JSONW_CASES; i++) {
		struct jsonw w;
		jsonw_init(&w, buf, sizeof buf);
		jsonw_cases[i].build(&w);
		long len = jsonw_finish(&w);
		print_message("case %s\n", jsonw_cases[i].name);
		assert_int_equal(len, (long)strlen(jsonw_cases[i].want));
		assert_string_equal(buf, jsonw_cases[i].want);
		/* What jansson makes of it is valid JSON (the cases hold no NUL in keys). */
		json_error_t err;
		json_t *v = json_loadb(buf, (size_t)len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
		if (strcmp(jsonw_cases[i].name, "numbers") != 0) /* UINT64_MAX: past jansson */
			assert_non_null(v);
		json_decref(v);
	}
}

/* Every prefix of the buffer too short is -ENOSPC and writes nothing past cap. */
static void test_every_short_buffer_fails_closed(void **state)
{
	(void)state;
	char buf[1024];
	for (size_t i = 0; i < JSONW_CASES; i++) {
		size_t want = strlen(jsonw_cases[i].want);
		for (size_t cap = 0; cap <= want + 1; cap++) {
			memset(buf, 'X', sizeof buf);
			struct jsonw w;
			jsonw_init(&w, buf, cap);
			jsonw_cases[i].build(&w);
			long len = jsonw_finish(&w);
			if (cap <= want) {
				assert_int_equal(len, -ENOSPC);
			} else {
				assert_int_equal(len, (long)want);
				assert_memory_equal(buf, jsonw_cases[i].want, want + 1);
			}
			assert_int_equal(buf[cap], 'X'); /* the byte past the buffer is untouched */
			if (cap > 0)
				assert_non_null(memchr(buf, '\0', cap)); /* always NUL-terminated */
		}
	}
}

static void misuse_value_in_object(struct jsonw *w)
{
	jsonw_object_begin(w);
	jsonw_int(w, 1);
	jsonw_object_end(w);
}

static void misuse_key_in_array(struct jsonw *w)
{
	jsonw_array_begin(w);
	jsonw_key(w, "k");
	jsonw_array_end(w);
}

static void misuse_two_keys(struct jsonw *w)
{
	jsonw_object_begin(w);
	jsonw_key(w, "a");
	jsonw_key(w, "b");
	jsonw_int(w, 1);
	jsonw_object_end(w);
}

static void misuse_key_without_value(struct jsonw *w)
{
	jsonw_object_begin(w);
	jsonw_key(w, "a");
	jsonw_object_end(w);
}

static void misuse_wrong_end(struct jsonw *w)
{
	jsonw_object_begin(w);
	jsonw_array_end(w);
}

static void misuse_end_without_begin(struct jsonw *w) { jsonw_array_end(w); }

static void misuse_left_open(struct jsonw *w)
{
	jsonw_array_begin(w);
	jsonw_array_begin(w);
	jsonw_array_end(w);
}

static void misuse_two_top_values(struct jsonw *w)
{
	jsonw_int(w, 1);
	jsonw_int(w, 2);
}

static void misuse_nothing(struct jsonw *w) { (void)w; }

static void misuse_too_deep(struct jsonw *w)
{
	for (int i = 0; i <= JSONW_MAX_DEPTH; i++)
		jsonw_array_begin(w);
	for (int i = 0; i <= JSONW_MAX_DEPTH; i++)
		jsonw_array_end(w);
}

static void misuse_null_key(struct jsonw *w)
{
	jsonw_object_begin(w);
	jsonw_key(w, NULL);
	jsonw_null(w);
	jsonw_object_end(w);
}

static void test_calls_out_of_place_are_refused(void **state)
{
	(void)state;
	static const struct {
		const char *why;
		void (*build)(struct jsonw *w);
	} cases[] = {
		{"a value where a key is due", misuse_value_in_object},
		{"a key in an array", misuse_key_in_array},
		{"two keys in a row", misuse_two_keys},
		{"a key without its value", misuse_key_without_value},
		{"an end of the other kind", misuse_wrong_end},
		{"an end without a begin", misuse_end_without_begin},
		{"a container left open", misuse_left_open},
		{"two top-level values", misuse_two_top_values},
		{"no value at all", misuse_nothing},
		{"past JSONW_MAX_DEPTH", misuse_too_deep},
		{"a NULL key", misuse_null_key},
	};
	char buf[256];
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct jsonw w;
		jsonw_init(&w, buf, sizeof buf);
		cases[i].build(&w);
		print_message("misuse: %s\n", cases[i].why);
		assert_int_equal(jsonw_finish(&w), -EINVAL);
	}
	/* The deepest allowed nesting is fine. */
	struct jsonw w;
	jsonw_init(&w, buf, sizeof buf);
	for (int i = 0; i < JSONW_MAX_DEPTH; i++)
		jsonw_array_begin(&w);
	for (int i = 0; i < JSONW_MAX_DEPTH; i++)
		jsonw_array_end(&w);
	assert_int_equal(jsonw_finish(&w), 2 * JSONW_MAX_DEPTH);
}

static void test_errors_are_sticky(void **state)
{
	(void)state;
	char buf[8];
	struct jsonw w;
	jsonw_init(&w, buf, sizeof buf);
	jsonw_array_begin(&w);
	jsonw_string(&w, "this does not fit");
	jsonw_int(&w, 1); /* would fit, but the document is already lost */
	jsonw_array_end(&w);
	assert_int_equal(jsonw_finish(&w), -ENOSPC);
	assert_int_equal(jsonw_finish(&w), -ENOSPC);
}

/* Random programs (a fixed seed: the same 3000 every run), each in a roomy buffer and
 * in one cut at a random size. A few make a call out of place on purpose (byte 0xff). */
static void test_random_documents_read_back_by_jansson(void **state)
{
	(void)state;
	uint8_t program[512];
	uint32_t x = 12345;
	int accepted = 0;
	for (int doc = 0; doc < 3000; doc++) {
		for (size_t i = 0; i < sizeof program; i++) {
			x = x * 1664525u + 1013904223u;
			program[i] = (uint8_t)(x >> 24);
		}
		size_t n = 16 + x % (sizeof program - 16);
		const char *why = jsonw_roundtrip(program, n, JRT_BIG);
		if (why)
			fail_msg("document %d: %s", doc, why);
		why = jsonw_roundtrip(program, n, 1 + x % 512);
		if (why)
			fail_msg("document %d (small buffer): %s", doc, why);
		struct jsonw w;
		static char buf[JRT_BIG];
		struct jrt_mirror m = {0};
		struct jrt_reader r = {program, n};
		jsonw_init(&w, buf, sizeof buf);
		jrt_run(&r, &w, &m);
		accepted += jsonw_finish(&w) >= 0;
		jrt_mirror_free(&m);
	}
	/* The check means something only if many documents were well formed. */
	print_message("%d of 3000 random documents well formed\n", accepted);
	assert_true(accepted >= 2000);
}

enum { LINES_PER_THREAD = 500 };

struct writer {
	struct ledger_file *lf;
	int thread;
	int failures;
};

/* Builds each line with jsonw on the stack, as the proxy's workers will. */
static void *write_lines(void *arg)
{
	struct writer *wr = arg;
	for (int i = 0; i < LINES_PER_THREAD; i++) {
		char line[256];
		struct jsonw w;
		jsonw_init(&w, line, sizeof line);
		jsonw_object_begin(&w);
		jsonw_field_int(&w, "thread", wr->thread);
		jsonw_field_int(&w, "seq", i);
		jsonw_field_string(&w, "note", "line\nbreaks are escaped");
		jsonw_object_end(&w);
		if (ledger_write_line(wr->lf, line, jsonw_finish(&w)) != 0)
			wr->failures++;
	}
	return NULL;
}

/* Two threads write jsonw lines into one ledger: every line is whole, parses, and
 * appears once; a line with a raw newline is refused; a line the caller failed to
 * build counts as lost. */
static void test_jsonw_lines_through_the_ledger(void **state)
{
	(void)state;
	char path[] = "/tmp/tp-jsonw-ledger.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	struct ledger_file lf = {0};
	char line[] = "{}";
	assert_int_equal(ledger_write_line(&lf, line, 2), -EBADF);
	assert_int_equal(ledger_open(&lf, path), 0);
	struct writer wr[2] = {{&lf, 0, 0}, {&lf, 1, 0}};
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, write_lines, &wr[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(wr[0].failures + wr[1].failures, 0);
	char raw[] = "{\"a\":\n1}";
	assert_int_equal(ledger_write_line(&lf, raw, (long)strlen(raw)), -EINVAL);
	assert_int_equal(lf.lost, 0);
	assert_int_equal(ledger_write_line(&lf, line, -ENOSPC), -ENOSPC);
	assert_int_equal(lf.lost, 1);
	assert_int_equal(lf.error, -ENOSPC);
	assert_string_equal(line, "{}"); /* the caller's NUL is given back */
	ledger_close(&lf);

	FILE *fp = fopen(path, "r");
	assert_non_null(fp);
	char buf[512];
	int seen[2][LINES_PER_THREAD] = {{0}};
	int lines = 0;
	while (fgets(buf, sizeof buf, fp)) {
		json_error_t err;
		json_t *v = json_loads(buf, 0, &err);
		assert_non_null(v);
		int t = (int)json_integer_value(json_object_get(v, "thread"));
		int seq = (int)json_integer_value(json_object_get(v, "seq"));
		assert_string_equal(json_string_value(json_object_get(v, "note")),
				    "line\nbreaks are escaped");
		assert_true(t >= 0 && t < 2 && seq >= 0 && seq < LINES_PER_THREAD);
		seen[t][seq]++;
		lines++;
		json_decref(v);
	}
	fclose(fp);
	unlink(path);
	assert_int_equal(lines, 2 * LINES_PER_THREAD);
	for (int t = 0; t < 2; t++)
		for (int i = 0; i < LINES_PER_THREAD; i++)
			assert_int_equal(seen[t][i], 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases_give_exact_text),
		cmocka_unit_test(test_every_short_buffer_fails_closed),
		cmocka_unit_test(test_calls_out_of_place_are_refused),
		cmocka_unit_test(test_errors_are_sticky),
		cmocka_unit_test(test_random_documents_read_back_by_jansson),
		cmocka_unit_test(test_jsonw_lines_through_the_ledger),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
