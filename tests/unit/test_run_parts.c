/* Unit tests for the pieces of `run` that need no child process: a scenario's URLs
 * made concrete (ports filled in, host names mapped to the origin for --resolve and
 * --connect-to, address literals left alone, IPv6 included), the child argv builder's
 * overflow, paths beside the scenario, the proxy's resource samples as the run file
 * holds them, the run id, the run file's proxy object, the ledger accounting, the ok
 * requests' latency and the one-line diagnosis of a run that failed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ci/account.h"
#include "ci/args.h"
#include "ci/expect.h"
#include "ci/proxyinfo.h"
#include "ci/rundir.h"
#include "ci/runner.h"
#include "ci/samples.h"
#include "ci/scenario.h"
#include "ci/targets.h"
#include "lib/version.h"

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
	/* The same names for a proxy run did not start: it is asked for the address. */
	assert_string_equal(t->connect_to[0], "www.example.test:8443:127.0.0.1:8443");
	assert_string_equal(t->connect_to[2], "api.test:443:127.0.0.1:443");
	char names[64];
	targets_names(t, names, sizeof names);
	assert_string_equal(names, "www.example.test:8443, www.example.test:8080, api.test:443");
	targets_names(t, names, 24);
	assert_string_equal(names, "www.example.test:844...");
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
	/* Growth in %: from the first sample under load, once there are two. */
	double rss_pct = -1, fd_pct = -1;
	assert_false(samples_growth_pct(&s, &rss_pct, &fd_pct));
	samples_take(&s, getpid(), 3.0);
	assert_true(samples_growth_pct(&s, &rss_pct, &fd_pct));
	assert_true(rss_pct > -50 && rss_pct < 50);
	j = samples_json(&s);
	assert_true(json_integer_value(json_object_get(j, "rss_kib_warm")) > 0);
	json_decref(j);
	samples_free(&s);
	samples_free(NULL);
}

/* `<scenario>-<unix seconds>-<pid>`, 1-64 of [A-Za-z0-9._-]: a long name is cut. */
static void test_run_id(void **state)
{
	(void)state;
	char id[RUNNER_RUN_ID_MAX + 1], want[64];
	runner_run_id("win-iocp", id, sizeof id);
	snprintf(want, sizeof want, "-%ld", (long)getpid());
	assert_true(strncmp(id, "win-iocp-", 9) == 0);
	assert_true(strlen(id) > strlen(want) && strcmp(id + strlen(id) - strlen(want), want) == 0);
	char name[128];
	memset(name, 'n', sizeof name - 1);
	name[sizeof name - 1] = '\0';
	runner_run_id(name, id, sizeof id);
	assert_int_equal(strlen(id), RUNNER_RUN_ID_MAX);
	assert_int_equal(strspn(id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"), strlen(id));
}

static const char *jstr(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* The run file's proxy object: what the reference proxy said of its build, or this
 * binary's own; a user's proxy with nothing made up; the simulated note. */
static void test_proxyinfo(void **state)
{
	(void)state;
	static struct scenario scn;
	char err[256];
	const char *text = "scenario t\nproxy reference http\n  fault truncate:after=32768 p=0.34\n"
			   "  simulated Linux reference proxy with a short-send fault, not a Windows build\n"
			   "  upstream reference\n  upstream_fault close-after-accept\nprobe\n  url http://a.test/\n";
	assert_int_equal(scenario_parse(&scn, text, strlen(text), "t.tps", err, sizeof err), 0);
	struct proxyinfo pi;
	proxyinfo_reference(&pi, "http://127.0.0.1:3128", "tunnelprobe 0.2.0 windows/x86_64 iocp", &scn);
	json_t *j = proxyinfo_json(&pi);
	assert_string_equal(jstr(j, "kind"), "reference");
	assert_string_equal(jstr(j, "url"), "http://127.0.0.1:3128");
	assert_string_equal(jstr(j, "build"), "tunnelprobe 0.2.0");
	assert_string_equal(jstr(j, "platform"), "windows/x86_64");
	assert_string_equal(jstr(j, "backend"), "iocp");
	assert_string_equal(jstr(j, "build_source"), "proxy");
	assert_string_equal(jstr(j, "fault"), "truncate:after=32768 p=0.34; upstream close-after-accept");
	assert_true(json_is_true(json_object_get(j, "simulated")));
	assert_string_equal(jstr(j, "note"), "Linux reference proxy with a short-send fault, not a Windows build");
	json_decref(j);
	proxyinfo_reference(&pi, "http://127.0.0.1:3128", "", &scn); /* printed no build line */
	j = proxyinfo_json(&pi);
	assert_string_equal(jstr(j, "build"), "tunnelprobe " TP_VERSION);
	assert_string_equal(jstr(j, "build_source"), "run");
	assert_non_null(strchr(jstr(j, "platform"), '/'));
	json_decref(j);
	proxyinfo_user(&pi, "socks5://127.0.0.1:1080");
	j = proxyinfo_json(&pi);
	assert_string_equal(jstr(j, "kind"), "user");
	assert_true(json_is_null(json_object_get(j, "build")) && json_is_null(json_object_get(j, "fault")));
	assert_true(json_is_false(json_object_get(j, "simulated")));
	assert_null(json_object_get(j, "note"));
	json_decref(j);
	memset(&pi, 0, sizeof pi);
	j = proxyinfo_json(&pi);
	assert_true(json_is_null(j));
	json_decref(j);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void remove_files(const char *dir)
{
	static const char *const names[] = {"records.jsonl", "origin.jsonl", "proxy.jsonl"};
	char path[256];
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		unlink(path);
	}
	rmdir(dir);
}

/* Every probe id in the ledgers that should have it, no ledger id without a record,
 * other runs' lines left out, and "unknown" — never a guess — on unreadable input. */
static void test_account(void **state)
{
	(void)state;
	char dir[] = "/tmp/tp-account-XXXXXX", text[200];
	assert_non_null(mkdtemp(dir));
	write_file(dir, "records.jsonl",
		   "{\"id\":\"p-0-0\",\"class\":\"ok\",\"phase\":\"done\",\"reused\":false,\"run\":\"R\"}\n"
		   "{\"id\":\"p-0-1\",\"class\":\"ok\",\"phase\":\"done\",\"reused\":true,\"run\":\"R\"}\n"
		   "{\"id\":\"p-1-0\",\"class\":\"incomplete_read\",\"phase\":\"body\",\"reused\":false}\n"
		   "{\"id\":\"p-1-1\",\"class\":\"proxy_refused\",\"phase\":\"proxy\",\"reused\":false}\n"
		   "{\"id\":\"old-0-0\",\"class\":\"ok\",\"phase\":\"done\",\"run\":\"EARLIER\"}\n");
	write_file(dir, "origin.jsonl",
		   "{\"id\":\"p-0-0\",\"run\":\"R\"}\n{\"id\":\"p-0-1\",\"run\":\"R\"}\n{\"id\":\"p-1-0\"}\n"
		   "{\"id\":null}\n{\"id\":\"old-0-0\",\"run\":\"EARLIER\"}\n");
	write_file(dir, "proxy.jsonl", "{\"id\":\"p-0-0\"}\n{\"id\":\"p-1-0\"}\n{\"id\":null}\n");
	struct account a;
	assert_int_equal(account_run(dir, "R", true, &a), 0);
	assert_true(a.known);
	assert_int_equal(a.records, 4);
	assert_int_equal(a.want_origin, 3); /* the refused one never reached it */
	assert_int_equal(a.want_proxy, 2);  /* the reused one rode p-0-0's tunnel */
	assert_true(account_ok(&a));
	account_text(&a, text, sizeof text);
	assert_string_equal(text, "4 requests; 3/3 that reached the origin in its ledger; 2/2 tunnels in the proxy ledger");

	/* A record the origin never saw; a ledger id no record has. */
	write_file(dir, "origin.jsonl", "{\"id\":\"p-0-0\"}\n{\"id\":\"p-0-1\"}\n{\"id\":\"ghost-9-9\"}\n");
	assert_int_equal(account_run(dir, "R", true, &a), 0);
	assert_false(account_ok(&a));
	assert_int_equal(a.missing_origin, 1);
	assert_int_equal(a.unknown_ids, 1);
	assert_string_equal(a.example, "p-1-0");
	/* A tunnel the proxy could not name (CONNECT without X-Probe-Id) is found by the
	 * probe's local address. */
	write_file(dir, "origin.jsonl", "{\"id\":\"p-0-0\"}\n{\"id\":\"p-0-1\"}\n{\"id\":\"p-1-0\"}\n");
	write_file(dir, "proxy.jsonl", "{\"id\":\"p-0-0\"}\n{\"id\":null,\"client_peer\":\"127.0.0.1:5000\"}\n");
	assert_int_equal(account_run(dir, "R", true, &a), 0);
	assert_int_equal(a.missing_proxy, 1);
	write_file(dir, "records.jsonl",
		   "{\"id\":\"p-0-0\",\"class\":\"ok\",\"phase\":\"done\"}\n"
		   "{\"id\":\"p-1-0\",\"class\":\"ok\",\"phase\":\"done\",\"local\":\"127.0.0.1:5000\"}\n");
	assert_int_equal(account_run(dir, "R", true, &a), 0);
	assert_int_equal(a.missing_proxy, 0);
	assert_int_equal(a.unknown_ids, 1); /* p-0-1: in the origin ledger, in no record */
	/* Without the proxy ledger (a user's proxy) only the origin is checked. */
	assert_int_equal(account_run(dir, "R", false, &a), 0);
	assert_false(a.proxy_checked);
	assert_int_equal(a.want_proxy, 0);

	/* Unreadable: unknown, with the reason. */
	write_file(dir, "origin.jsonl", "{\"id\":\"p-0-0\"}\nnot json\n");
	assert_int_equal(account_run(dir, "R", true, &a), 0);
	assert_false(a.known);
	assert_false(account_ok(&a));
	assert_string_equal(a.why, "the origin ledger has an unreadable line");
	remove_files(dir);
	assert_int_equal(account_run(dir, "R", true, &a), 0);
	assert_string_equal(a.why, "the origin ledger missing");
}

static json_t *failed_run(const char *cls, const char *detail)
{
	return json_pack("{s:i,s:i,s:{s:i},s:[{s:s,s:s}]}", "requests", 6, "ok", 0, "classes", cls, 6, "failures",
			 "class", cls, "detail", detail);
}

/* One line first when every request failed for a reason the user can fix. */
static void test_diagnosis(void **state)
{
	(void)state;
	char out[600];
	json_t *run = failed_run("proxy_refused", "CONNECT 500 Internal Server Error");
	expect_diagnosis(run, "http://127.0.0.1:3128", "www.baidu.com:443", out, sizeof out);
	assert_string_equal(out, "cause: the proxy refused every request (CONNECT 500 Internal Server Error); it was "
				 "asked for the scenario's site names: can it resolve www.baidu.com:443 to this machine?");
	expect_diagnosis(run, "http://127.0.0.1:3128", "", out, sizeof out);
	assert_true(strstr(out, "check its access rules") != NULL);
	json_decref(run);
	run = failed_run("connect_error", "connection refused");
	expect_diagnosis(run, "socks5://127.0.0.1:1", "", out, sizeof out);
	assert_string_equal(out, "cause: the proxy socks5://127.0.0.1:1 is unreachable (connection refused); is it "
				 "running and listening there?");
	expect_diagnosis(run, "", "", out, sizeof out); /* direct: the origin, not the user's */
	assert_string_equal(out, "");
	json_decref(run);
	run = failed_run("dns_error", "no such name");
	expect_diagnosis(run, "", "", out, sizeof out);
	assert_true(strncmp(out, "cause: no name resolved (no such name)", 38) == 0);
	json_decref(run);
	/* Mixed or partly ok: the report says more than one line could. */
	run = json_pack("{s:i,s:i,s:{s:i,s:i}}", "requests", 6, "ok", 0, "classes", "proxy_refused", 3, "reset", 3);
	expect_diagnosis(run, "http://p:1", "", out, sizeof out);
	assert_string_equal(out, "");
	json_object_set_new(run, "ok", json_integer(1));
	expect_diagnosis(run, "http://p:1", "", out, sizeof out);
	assert_string_equal(out, "");
	json_decref(run);
}


int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_targets),
		cmocka_unit_test(test_args),
		cmocka_unit_test(test_rundir),
		cmocka_unit_test(test_samples),
		cmocka_unit_test(test_run_id),
		cmocka_unit_test(test_proxyinfo),
		cmocka_unit_test(test_account),
		cmocka_unit_test(test_diagnosis),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
