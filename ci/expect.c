/* expect — see expect.h. */
#include "ci/expect.h"

#include <stdio.h>
#include <string.h>

/* Bridge, to go when ci/checks.c reads verdict objects (verdicts as data): checks_run
 * still matches `verdict TEXT` against sentences, so it gets the objects' "text"s.
 * Then: pass json_object_get(run, "verdicts") itself. NULL when the run has none (no
 * ledgers joined). */
static json_t *verdict_texts(json_t *run)
{
	json_t *verdicts = json_object_get(run, "verdicts");
	if (!json_is_array(verdicts))
		return NULL;
	json_t *texts = json_array();
	size_t i;
	json_t *v;
	json_array_foreach(verdicts, i, v) {
		const char *text = json_string_value(json_object_get(v, "text"));
		if (text)
			json_array_append_new(texts, json_string(text));
	}
	return texts;
}

size_t expect_check(const struct scenario *scn, json_t *run, json_t *baseline, const struct samples *smp,
		    struct check_result *results)
{
	json_t *verdicts = verdict_texts(run);
	size_t failed = checks_run(scn, run, baseline, verdicts, smp ? samples_rss_growth(smp) : -1,
				   smp ? samples_fd_growth(smp) : -1, results);
	json_decref(verdicts);
	return failed;
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
