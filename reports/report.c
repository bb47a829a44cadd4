/* report — see report.h: options, loading and checking run files, the outputs. */
#include "reports/report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define RUN_SCHEMA "tunnelprobe.run/1"

static void usage(FILE *out)
{
	fputs("usage: tunnelprobe report RUN... -o FILE.html [--label NAME]... [--markdown FILE]\n"
	      "                           [--junit FILE]\n"
	      "  RUN               a run file (run.json) or a run folder holding one\n"
	      "  --label NAME      a name per run, in order (default: the run's label)\n"
	      "  -o FILE.html      the self-contained page; several runs are shown side by side\n"
	      "  --markdown FILE   a Markdown summary (CI step summaries); '-' for stdout\n"
	      "  --junit FILE      JUnit XML: a test case per target and per expectation\n",
	      out);
}

/* Loads and checks one run file; prints why not and returns NULL. */
static json_t *load_run(const char *arg, char *path, size_t cap)
{
	struct stat st;
	if (stat(arg, &st) == 0 && S_ISDIR(st.st_mode))
		snprintf(path, cap, "%s/run.json", arg);
	else
		snprintf(path, cap, "%s", arg);
	json_error_t jerr;
	json_t *doc = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc) {
		fprintf(stderr, "tunnelprobe report: %s:%d:%d: %s\n", path, jerr.line, jerr.column, jerr.text);
		return NULL;
	}
	const char *schema = json_string_value(json_object_get(doc, "schema"));
	if (!json_is_object(doc) || !schema || strcmp(schema, RUN_SCHEMA) != 0) {
		fprintf(stderr, "tunnelprobe report: %s: not a %s run file (schema: %s)\n", path, RUN_SCHEMA,
			schema ? schema : "missing");
		json_decref(doc);
		return NULL;
	}
	const char *need[] = {"requests", "ok", "classes", "latency_ms", "targets"};
	for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
		if (!json_object_get(doc, need[i])) {
			fprintf(stderr, "tunnelprobe report: %s: field '%s' missing\n", path, need[i]);
			json_decref(doc);
			return NULL;
		}
	return doc;
}

static int write_to(const char *path, int (*fn)(FILE *, const struct report_run *, size_t),
		    const struct report_run *runs, size_t n)
{
	bool std = strcmp(path, "-") == 0;
	FILE *fp = std ? stdout : fopen(path, "w");
	if (!fp) {
		fprintf(stderr, "tunnelprobe report: cannot write %s: %s\n", path, strerror(errno));
		return 2;
	}
	int rc = fn(fp, runs, n);
	if (!std && fclose(fp) != 0)
		rc = -1;
	if (rc < 0) {
		fprintf(stderr, "tunnelprobe report: writing %s failed\n", path);
		return 2;
	}
	return 0;
}

int report_main(int argc, char **argv)
{
	struct report_run runs[REPORT_MAX_RUNS] = {0};
	const char *labels[REPORT_MAX_RUNS];
	size_t n = 0, nlabels = 0;
	const char *html = NULL, *markdown = NULL, *junit = NULL;
	static char paths[REPORT_MAX_RUNS][4096];
	int rc = 2;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool has = i + 1 < argc;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			rc = 0;
			goto out;
		} else if (strcmp(a, "-o") == 0 && has) {
			html = argv[++i];
		} else if (strcmp(a, "--label") == 0 && has) {
			if (nlabels == REPORT_MAX_RUNS)
				goto too_many;
			labels[nlabels++] = argv[++i];
		} else if (strcmp(a, "--markdown") == 0 && has) {
			markdown = argv[++i];
		} else if (strcmp(a, "--junit") == 0 && has) {
			junit = argv[++i];
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "tunnelprobe report: unknown option or missing value: '%s'\n", a);
			goto out;
		} else {
			if (n == REPORT_MAX_RUNS)
				goto too_many;
			runs[n].doc = load_run(a, paths[n], sizeof paths[n]);
			if (!runs[n].doc)
				goto out;
			runs[n].path = paths[n];
			n++;
		}
	}
	if (n == 0 || (!html && !markdown && !junit)) {
		fprintf(stderr, "tunnelprobe report: give at least one run and an output (-o, --markdown, "
				"--junit)\n");
		goto out;
	}
	if (nlabels && nlabels != n) {
		fprintf(stderr, "tunnelprobe report: %zu labels for %zu runs\n", nlabels, n);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const char *own = json_string_value(json_object_get(runs[i].doc, "label"));
		runs[i].label = nlabels ? labels[i] : own ? own : runs[i].path;
	}
	rc = 0;
	if (html && (rc = write_to(html, report_html, runs, n)) != 0)
		goto out;
	if (markdown && (rc = write_to(markdown, report_markdown, runs, n)) != 0)
		goto out;
	if (junit && (rc = write_to(junit, report_junit, runs, n)) != 0)
		goto out;
	goto out;
too_many:
	fprintf(stderr, "tunnelprobe report: at most %d runs\n", REPORT_MAX_RUNS);
	rc = 2;
out:
	for (size_t i = 0; i < n; i++)
		json_decref(runs[i].doc);
	return rc;
}
