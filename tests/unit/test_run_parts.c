/* Unit tests for the pieces of `run` that need no child process: a scenario's URLs
 * made concrete (ports filled in, host names mapped to the origin, address literals
 * left alone, IPv6 included), the child argv builder's overflow, paths beside the
 * scenario, and the proxy's resource samples as the run file holds them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ci/args.h"
#include "ci/rundir.h"
#include "ci/samples.h"
#include "ci/scenario.h"
#include "ci/targets.h"

static void test_targets(void **state)
{
	(void)state;
	static struct scenario scn; /* large: not on the stack */
	char err[256];
	const char *text = "scenario t\nprobe\n"
			   "  url https://WWW.Example.test:{tls}/bytes/10\n"
			   "  url http://www.example.test:{http}/x\n"
			   "  url https://www.example.test:{tls}/again\n"
			   "  url http://127.0.0.1:{http}/v4\n"
			   "  url http://[::1]:{http}/v6\n"
			   "  url http://localhost:{http}/local\n"
			   "  url https://api.test/default-port\n";
	assert_int_equal(scenario_parse(&scn, text, strlen(text), "t.tps", err, sizeof err), 0);
	struct targets *t = malloc(sizeof *t);
	assert_int_equal(targets_make(t, &scn, true, 8080, 8443), 0);
	assert_int_equal(t->nurls, 7);
	assert_string_equal(t->urls[0], "https://WWW.Example.test:8443/bytes/10");
	assert_string_equal(t->urls[4], "http://[::1]:8080/v6");
	/* One entry per name and port; literals and localhost need none. */
	assert_int_equal(t->nresolve, 3);
	assert_string_equal(t->resolve[0], "www.example.test:8443:127.0.0.1");
	assert_string_equal(t->resolve[1], "www.example.test:8080:127.0.0.1");
	assert_string_equal(t->resolve[2], "api.test:443:127.0.0.1");
	/* No origin: the URLs as given, nothing mapped. */
	assert_int_equal(targets_make(t, &scn, false, 0, 0), 0);
	assert_int_equal(t->nresolve, 0);
	assert_string_equal(t->urls[1], "http://www.example.test:0/x");
	free(t);
}

static void test_args(void **state)
{
	(void)state;
	struct args *a = malloc(sizeof *a);
	args_init(a);
	args_add(a, "probe");
	args_opt(a, "-c", "%u", 6u);
	assert_true(args_ok(a));
	assert_int_equal(a->n, 3);
	assert_string_equal(a->v[2], "6");
	assert_null(a->v[3]);
	for (int i = 0; i < PROCS_MAX_ARGS; i++)
		args_add(a, "x");
	assert_false(args_ok(a)); /* one too many */
	assert_int_equal(a->n, PROCS_MAX_ARGS);
	assert_null(a->v[a->n]);
	args_init(a);
	char *big = malloc(sizeof a->store + 1);
	memset(big, 'y', sizeof a->store);
	big[sizeof a->store] = '\0';
	args_add(a, "%s", big);
	assert_false(args_ok(a)); /* does not fit */
	assert_int_equal(a->n, 0);
	free(big);
	free(a);
}

static void test_rundir(void **state)
{
	(void)state;
	char out[64];
	assert_int_equal(rundir_resolve(out, sizeof out, "docs/x", "sites/a.sites"), 0);
	assert_string_equal(out, "docs/x/sites/a.sites");
	assert_int_equal(rundir_resolve(out, sizeof out, "docs/x", "/abs/a.sites"), 0);
	assert_string_equal(out, "/abs/a.sites");
	assert_true(rundir_path(out, 8, "longer", "name") < 0);
	char dir[] = "/tmp/tp-rundir-XXXXXX", deep[128], a[160], b[160];
	assert_non_null(mkdtemp(dir));
	snprintf(deep, sizeof deep, "%s/one/two", dir);
	assert_int_equal(rundir_make(deep), 0);
	assert_int_equal(rundir_make(deep), 0); /* exists: fine */
	snprintf(a, sizeof a, "%s/a", deep);
	snprintf(b, sizeof b, "%s/b", deep);
	FILE *fp = fopen(a, "w");
	fputs("line\n", fp);
	fclose(fp);
	assert_int_equal(rundir_append(a, b), 0);
	assert_int_equal(rundir_append(a, b), 0);
	fp = fopen(b, "r");
	char buf[32] = "";
	size_t n = fread(buf, 1, sizeof buf - 1, fp);
	fclose(fp);
	assert_int_equal(n, 10);
	assert_true(rundir_append("/nonexistent/x", b) < 0);
	unlink(a);
	unlink(b);
	snprintf(a, sizeof a, "%s/one", dir);
	rmdir(deep);
	rmdir(a);
	rmdir(dir);
}

static void test_samples(void **state)
{
	(void)state;
	struct samples s;
	assert_int_equal(samples_init(&s), 0);
	assert_null(samples_json(&s)); /* nothing sampled */
	assert_int_equal(samples_rss_growth(&s), -1);
	samples_take(&s, 0, 0); /* no proxy: nothing */
	samples_take(&s, getpid(), 0);
	samples_take(&s, getpid(), 1.5);
	json_t *j = samples_json(&s);
	assert_non_null(j);
	assert_int_equal(json_array_size(json_object_get(j, "samples")), 2);
	assert_true(json_integer_value(json_object_get(j, "rss_kib_first")) > 0);
	assert_true(samples_fd_growth(&s) >= -64);
	json_decref(j);
	samples_free(&s);
	samples_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_targets),
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_rundir),
		cmocka_unit_test(test_samples),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
