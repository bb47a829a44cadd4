/* expect — see expect.h. */
#include "ci/expect.h"

#include <stdio.h>
#include <string.h>

size_t expect_check(const struct scenario *scn, json_t *run, json_t *baseline, const struct samples *smp,
		    struct check_result *results)
{
	struct checks_proxy px = {.started = smp && smp->proxy_started,
				  .rss_growth_kib = smp ? samples_rss_growth(smp) : -1,
				  .fd_growth = smp ? samples_fd_growth(smp) : -1};
	return checks_run(scn, run, baseline, json_object_get(run, "verdicts"), &px, results);
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
