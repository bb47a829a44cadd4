/* expect — see expect.h. */
#include "ci/expect.h"

#include <stdio.h>
#include <string.h>

size_t expect_evaluate(const struct scenario *scn, json_t *run, json_t *baseline, const struct expect_env *env,
		    struct check_result *results)
{
	const struct samples *smp = env ? env->samples : NULL;
	struct checks_proxy px = {.started = smp && smp->proxy_started,
				  .user = env && env->user_proxy,
				  .rss_growth_kib = smp ? samples_rss_growth(smp) : -1,
				  .fd_growth = smp ? samples_fd_growth(smp) : -1};
	if (smp)
		px.pct_known = samples_growth_pct(smp, &px.rss_growth_pct, &px.fd_growth_pct);
	const struct checks_in in = {.run = run,
				     .baseline = baseline,
				     .verdicts = json_object_get(run, "verdicts"),
				     .proxy = &px,
				     .accounted = env ? env->accounted : NULL};
	return checks_run(scn, &in, results);
}

void expect_summary(const char *name, json_t *run, size_t failed, char *out, size_t cap)
{
	char classes[256] = "";
	const char *key;
	json_t *v;
	json_object_foreach(json_object_get(run, "classes"), key, v) {
		if (strcmp(key, "ok") == 0)
			continue;
		size_t l = strlen(classes);
		snprintf(classes + l, sizeof classes - l, "%s%lld %s", l ? ", " : "", (long long)json_integer_value(v),
			 key);
	}
	snprintf(out, cap, "%s: %lld/%lld ok%s%s%s, expectations %s", name,
		 (long long)json_integer_value(json_object_get(run, "ok")),
		 (long long)json_integer_value(json_object_get(run, "requests")), classes[0] ? " (" : "", classes,
		 classes[0] ? ")" : "", failed ? "NOT met" : "met");
}

/* The detail of the first failure sample ("CONNECT 500"), or "". */
static const char *first_detail(json_t *run)
{
	const char *d = json_string_value(json_object_get(json_array_get(json_object_get(run, "failures"), 0), "detail"));
	return d ? d : "";
}

void expect_diagnosis(json_t *run, const char *proxy_url, const char *names, char *out, size_t cap)
{
	out[0] = '\0';
	json_int_t req = json_integer_value(json_object_get(run, "requests"));
	json_int_t ok = json_integer_value(json_object_get(run, "ok"));
	json_t *classes = json_object_get(run, "classes");
	if (req <= 0 || ok > 0)
		return;
	/* Only when one class explains every request: anything mixed needs the report. */
	bool proxy = proxy_url && *proxy_url;
	const char *detail = first_detail(run);
	char said[200];
	snprintf(said, sizeof said, "%s%.160s%s", *detail ? " (" : "", detail, *detail ? ")" : "");
	if (json_integer_value(json_object_get(classes, "proxy_refused")) == req) {
		if (names && *names)
			snprintf(out, cap, "cause: the proxy refused every request%s; it was asked for the "
				 "scenario's site names: can it resolve %s to this machine?", said, names);
		else
			snprintf(out, cap, "cause: the proxy refused every request%s; check its access rules "
				 "(destination 127.0.0.1, the origin's ports, CONNECT to ports other than 443)", said);
	} else if (proxy && json_integer_value(json_object_get(classes, "connect_error")) == req) {
		snprintf(out, cap, "cause: the proxy %s is unreachable%s; is it running and listening there?",
			 proxy_url, said);
	} else if (json_integer_value(json_object_get(classes, "dns_error")) == req) {
		snprintf(out, cap, "cause: no name resolved%s; %s", said,
			 proxy && strncmp(proxy_url, "socks5h:", 8) != 0
				 ? "the probe resolves names itself here: check the proxy URL's host"
				 : "check the names and this machine's resolver");
	}
}
