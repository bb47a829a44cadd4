/* Unit tests for check/oplan (what the check origin does per target) and check/prom
 * (request counts by status from a Prometheus exposition): one table row per case,
 * good and malformed, each fed whole and as an absolute-form target. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "check/oplan.h"
#include "check/prom.h"

struct plan_case {
	const char *target;
	int rc;
	enum oplan_action action;
	const char *tag;
	uint64_t n, m;
	const char *cc;
};

static const struct plan_case plans[] = {
	{"/t/ab-1/bytes/1024", 0, OP_BYTES, "ab-1", 1024, 0, ""},
	{"/t/x/bytes/0", 0, OP_BYTES, "x", 0, 0, ""},
	{"/t/x/bytes/104857600?q=1", 0, OP_BYTES, "x", 104857600, 0, ""}, /* query ignored */
	{"/t/x/chunked/5", 0, OP_CHUNKED, "x", 5, 0, ""},
	{"/t/x/chunks/5", 0, OP_CHUNKS, "x", 5, 0, ""},
	{"/t/x/reset/100/25", 0, OP_RESET, "x", 100, 25, ""},
	{"/t/x/drip/512/40", 0, OP_DRIP, "x", 512, 40, ""},
	{"/t/x/status/204", 0, OP_STATUS, "x", 204, 0, ""},
	{"/t/x/echo", 0, OP_ECHO, "x", 0, 0, ""},
	{"/t/x/hold", 0, OP_HOLD, "x", 0, 0, ""},
	{"/t/x/cc/private+max-age=60/10", 0, OP_CC, "x", 10, 0, "private,max-age=60"},
	{"/t/a.b_c-9/gw/64", 0, OP_GW, "a.b_c-9", 64, 0, ""},
	{"/t/x/hop/100", 0, OP_HOP, "x", 100, 0, ""},
	/* malformed: each is a 404 at the origin */
	{"/", -1, OP_NONE, "", 0, 0, ""},
	{"/t/", -1, OP_NONE, "", 0, 0, ""},
	{"/t/x", -1, OP_NONE, "x", 0, 0, ""},                 /* no action */
	{"/t/x/nosuch/1", -1, OP_NONE, "x", 0, 0, ""},
	{"/t/x/bytes", -1, OP_NONE, "x", 0, 0, ""},           /* missing size */
	{"/t/x/bytes/1/2", -1, OP_NONE, "x", 0, 0, ""},       /* one argument too many */
	{"/t/x/bytes/-1", -1, OP_NONE, "x", 0, 0, ""},
	{"/t/x/bytes/1099511627777", -1, OP_NONE, "x", 0, 0, ""}, /* over OPLAN_MAX_SIZE */
	{"/t/x/bytes/99999999999999999999", -1, OP_NONE, "x", 0, 0, ""},
	{"/t/x/status/99", -1, OP_NONE, "x", 0, 0, ""},
	{"/t/x/status/600", -1, OP_NONE, "x", 0, 0, ""},
	{"/t/x/drip/10/0", -1, OP_NONE, "x", 0, 0, ""},       /* a drip needs an interval */
	{"/t/x/cc/NO_UPPER/1", -1, OP_NONE, "x", 0, 0, ""},
	{"/t/a b/bytes/1", -1, OP_NONE, "", 0, 0, ""},         /* bad tag character */
	{"/t/0123456789012345678901234567890123456789012345678/bytes/1", -1, OP_NONE, "", 0, 0, ""},
	{"/x/t/bytes/1", -1, OP_NONE, "", 0, 0, ""},
};

static void check_plan(const struct plan_case *c, const char *target)
{
	struct oplan p;
	int rc = oplan_parse(target, strlen(target), &p);
	if (rc != c->rc || p.action != c->action || strcmp(p.tag, c->tag) != 0 ||
	    (rc == 0 && (p.n != c->n || p.m != c->m || strcmp(p.cc, c->cc) != 0)))
		fail_msg("%s: got rc %d action %s tag '%s' n %llu m %llu cc '%s'", target, rc,
			 oplan_name(p.action), p.tag, (unsigned long long)p.n,
			 (unsigned long long)p.m, p.cc);
}

static void test_plans(void **state)
{
	(void)state;
	char abs[512];
	for (size_t i = 0; i < sizeof plans / sizeof plans[0]; i++) {
		check_plan(&plans[i], plans[i].target);
		snprintf(abs, sizeof abs, "http://127.0.0.1:8080%s", plans[i].target);
		check_plan(&plans[i], abs);
	}
}

static void test_action_names_round_trip(void **state)
{
	(void)state;
	assert_string_equal(oplan_name(OP_BYTES), "bytes");
	assert_string_equal(oplan_name(OP_AFTERFIN), "afterfin");
	assert_string_equal(oplan_name(OP_NONE), "?");
}

struct prom_case {
	const char *why;
	const char *text;
	double s200, s404, s500;
	size_t samples, bad;
};

static const struct prom_case proms[] = {
	{"one counter, two statuses",
	 "# HELP http_requests_total requests\n# TYPE http_requests_total counter\n"
	 "http_requests_total{code=\"200\"} 5\nhttp_requests_total{code=\"404\"} 3\n",
	 5, 3, 0, 2, 0},
	{"summed over other labels, status label name",
	 "gw_requests_total{method=\"GET\",status=\"200\"} 2\n"
	 "gw_requests_total{method=\"POST\",status=\"200\"} 3 1700000000000\n",
	 5, 0, 0, 2, 0},
	{"status_code, CRLF, float values",
	 "x_responses_total{status_code=\"500\"} 1.5e1\r\n", 0, 0, 15, 1, 0},
	{"not a request counter: skipped",
	 "process_cpu_seconds_total 12\nhttp_request_duration_seconds_count{code=\"200\"} 9\n"
	 "http_requests_inflight{code=\"200\"} 4\n",
	 0, 0, 0, 0, 0},
	{"a label value that is not a status",
	 "http_requests_total{code=\"2xx\"} 7\nhttp_requests_total{code=\"2000\"} 7\n", 0, 0, 0, 0, 0},
	{"escaped quotes in another label",
	 "http_requests_total{path=\"/a\\\"b\",code=\"404\"} 1\n", 0, 1, 0, 1, 0},
	{"malformed lines are counted, the rest still read",
	 "http_requests_total{code=\"200\" 1\n{code=\"200\"} 1\nhttp_requests_total{code=\"200\"} x\n"
	 "http_requests_total{code=\"200\"} 4",
	 4, 0, 0, 1, 3},
	{"negative and NaN values are ignored",
	 "http_requests_total{code=\"200\"} -1\nhttp_requests_total{code=\"200\"} NaN\n", 0, 0, 0, 0, 0},
	{"empty", "", 0, 0, 0, 0, 0},
};

static void test_prom(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof proms / sizeof proms[0]; i++) {
		const struct prom_case *c = &proms[i];
		struct prom_counts pc;
		memset(&pc, 0, sizeof pc);
		prom_parse(c->text, strlen(c->text), &pc);
		if (pc.by_status[200] != c->s200 || pc.by_status[404] != c->s404 ||
		    pc.by_status[500] != c->s500 || pc.samples != c->samples || pc.bad_lines != c->bad)
			fail_msg("%s: got 200=%g 404=%g 500=%g samples %zu bad %zu", c->why,
				 pc.by_status[200], pc.by_status[404], pc.by_status[500], pc.samples,
				 pc.bad_lines);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plans),
		cmocka_unit_test(test_action_names_round_trip),
		cmocka_unit_test(test_prom),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
