/* records — a probe records file (JSON Lines, docs/ledgers.md "Probe records") folded
 * into a run document (docs/run-json.md) while it is read: counted with lib/runcount.h and
 * written with lib/runfile.h, as the probe's own run file is.
 *
 * Memory does not grow with the number of lines: counts, one latency histogram, a
 * coarse histogram per target (at most RECORDS_MAX_TARGETS, the rest pooled) and per
 * time bucket (at most RECORDS_MAX_SLOTS, widened by doubling when a run is longer),
 * and the first RECORDS_FAILURES_KEPT failures in full. Lines are read with a
 * RECORDS_LINE_MAX cap; a longer or malformed line is counted and skipped.
 */
#ifndef TP_REPORTS_RECORDS_H
#define TP_REPORTS_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "lib/runcount.h"

#define RECORDS_LINE_MAX 65536
#define RECORDS_FAILURES_KEPT 100
#define RECORDS_MAX_TARGETS 1024
#define RECORDS_MAX_SLOTS 3600
#define RECORDS_URL_MAX 2048

struct records_target {
	char *url;
	struct runcount_target count;
};

struct records_agg {
	uint64_t lines, bad_lines, first_bad_line;
	struct runcount_totals *tot;       /* allocated: its histogram is 34 KiB */
	double t_min, t_max;               /* start of the first, end of the last request */
	struct records_target *targets;    /* RECORDS_MAX_TARGETS + 1 (the pool) */
	size_t ntargets;
	uint32_t *index;                   /* open addressing: target + 1, 0 = empty */
	bool pooled;                       /* targets beyond the cap went to the pool */
	struct runcount_second *slots;     /* RECORDS_MAX_SLOTS */
	size_t nslots;
	int64_t slot_base;                 /* Unix second of slot 0 */
	int64_t step;                      /* seconds per slot */
	json_t *failures;                  /* the first RECORDS_FAILURES_KEPT, in full */
	char *url;                         /* RECORDS_URL_MAX scratch */
};

/* Returns 0 or -ENOMEM. */
int records_init(struct records_agg *a);
void records_free(struct records_agg *a);
/* Folds one line (without its newline). Returns 0, or -EINVAL when the line is not a
 * record (it is counted in bad_lines); blank lines are ignored. */
int records_line(struct records_agg *a, const char *line, size_t len);
/* The run document for what was folded so far (a new reference). `file` names the
 * input in "records". */
json_t *records_to_run(const struct records_agg *a, const char *file);

/* Reads the file at path line by line. Returns 0 with *doc, or -errno (unreadable),
 * -EINVAL (no valid record); err gets one line saying why. */
int records_load(const char *path, json_t **doc, char *err, size_t errcap);
/* Whether buf (the start of a file) looks like a records file: its first line is a
 * complete JSON object with a "class" and no "schema". */
bool records_sniff(const char *buf, size_t len);

#endif
