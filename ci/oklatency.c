/* oklatency — see oklatency.h. */
#include "ci/oklatency.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ci/jsonl.h"
#include "lib/hist.h"

#define LINE_MAX_BYTES 65536 /* as report reads records (reports/records.h) */

struct fold {
	const char *run_id;
	struct hist h;
};

/* One record (a post-run pass, not a hot path: a small tree per line is fine). */
static int fold_line(void *ctx, const char *buf, size_t len)
{
	struct fold *f = ctx;
	json_t *o = json_loadb(buf, len, 0, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return -1;
	}
	const char *cls = json_string_value(json_object_get(o, "class"));
	const char *run = json_string_value(json_object_get(o, "run"));
	json_t *ms = json_object_get(o, "latency_ms");
	bool mine = !f->run_id || !run || strcmp(run, f->run_id) == 0;
	if (mine && cls && strcmp(cls, "ok") == 0 && json_is_number(ms) && json_number_value(ms) >= 0)
		hist_record(&f->h, (uint64_t)(json_number_value(ms) * 1000.0 + 0.5));
	json_decref(o);
	return 0;
}

json_t *oklatency_from_records(const char *path, const char *run_id)
{
	struct fold *f = malloc(sizeof *f);
	json_t *out = NULL;
	if (!f)
		return NULL;
	f->run_id = run_id;
	hist_init(&f->h);
	if (jsonl_each(path, LINE_MAX_BYTES, fold_line, f) < 0)
		goto out;
	if (f->h.total == 0) {
		out = json_pack("{s:i}", "requests", 0);
		goto out;
	}
	out = json_pack("{s:I,s:f,s:f,s:f,s:f,s:f,s:f}", "requests", (json_int_t)f->h.total, "mean",
			hist_mean(&f->h) / 1000.0, "p50", (double)hist_percentile(&f->h, 50) / 1000.0, "p90",
			(double)hist_percentile(&f->h, 90) / 1000.0, "p99", (double)hist_percentile(&f->h, 99) / 1000.0,
			"p999", (double)hist_percentile(&f->h, 99.9) / 1000.0, "max", (double)f->h.max / 1000.0);
out:
	free(f);
	return out;
}
