/* Unit tests for lib/textfile: whole-file reads are NUL-terminated (the line parsers
 * walk them with strtok_r), sized by the file rather than the cap, and a file over the
 * cap or one that cannot be opened is refused with "PATH: why". */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/textfile.h"

static char path[64];

static void write_file(const char *data, size_t len)
{
	FILE *fp = fopen(path, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	fclose(fp);
}

static int setup(void **state)
{
	(void)state;
	snprintf(path, sizeof path, "/tmp/tp-textfile-%ld", (long)getpid());
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

static void test_reads_whole_file_nul_terminated(void **state)
{
	(void)state;
	write_file("GET /a 1.http\nGET /b 2.http", 27);
	char *buf, err[256];
	size_t len;
	assert_int_equal(textfile_read(path, 1 << 20, &buf, &len, err, sizeof err), 0);
	assert_int_equal(len, 27);
	assert_int_equal(buf[27], '\0');
	assert_string_equal(buf, "GET /a 1.http\nGET /b 2.http");
	free(buf);
}

static void test_empty_file(void **state)
{
	(void)state;
	write_file("", 0);
	char *buf, err[256];
	size_t len = 99;
	assert_int_equal(textfile_read(path, 100, &buf, &len, err, sizeof err), 0);
	assert_int_equal(len, 0);
	assert_string_equal(buf, "");
	free(buf);
}

static void test_larger_than_buffers_grow(void **state)
{
	(void)state;
	size_t n = 100000; /* several doublings past the first 4 KiB */
	char *data = malloc(n);
	assert_non_null(data);
	for (size_t i = 0; i < n; i++)
		data[i] = (char)('a' + i % 26);
	write_file(data, n);
	char *buf, err[256];
	size_t len;
	assert_int_equal(textfile_read(path, n, &buf, &len, err, sizeof err), 0); /* exactly the cap */
	assert_int_equal(len, n);
	assert_memory_equal(buf, data, n);
	assert_int_equal(buf[n], '\0');
	free(buf);
	assert_int_equal(textfile_read(path, n - 1, &buf, &len, err, sizeof err), -EFBIG);
	assert_null(buf);
	assert_non_null(strstr(err, "larger than 99999 bytes"));
	assert_non_null(strstr(err, path));
	free(data);
}

static void test_missing_file(void **state)
{
	(void)state;
	char *buf, err[256];
	size_t len;
	assert_int_equal(textfile_read("/nonexistent/tp/file", 100, &buf, &len, err, sizeof err), -EIO);
	assert_null(buf);
	assert_string_equal(err, "/nonexistent/tp/file: cannot read: No such file or directory");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_reads_whole_file_nul_terminated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_larger_than_buffers_grow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_file, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
