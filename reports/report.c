/* report — see report.h: options, loading the runs, writing the outputs. */
#include "reports/report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/runfile.h"
#include "reports/html.h"
#include "reports/inputs.h"
#include "reports/merge.h"
#include "reports/text.h"

static void usage(FILE *out)
{
	fputs("usage: tunnelprobe report RUN... [-o FILE.html] [--label NAME]... [--text FILE]\n"
	      "                           [--markdown FILE] [--junit FILE] [--json FILE]\n"
	      "       tunnelprobe report merge RUN... -o FILE.json [--html FILE] [--scenario FILE]\n"
	      "                           shards (probe --shard) into one run: see merge --help\n"
	      "  RUN               a run file (run.json), a run folder, a probe records file\n"
	      "                    (JSON Lines), or several joined by '+' (merged: shards)\n"
	      "  -o FILE.html      one self-contained page; several runs side by side\n"
	      "  --label NAME      a name per run, in order (default: the run's own label)\n"
	      "  --text FILE       plain-text summary ('-' stdout; the default output)\n"
	      "  --markdown FILE   Markdown summary, e.g. $GITHUB_STEP_SUMMARY ('-' stdout)\n"
	      "  --junit FILE      JUnit XML: a test case per target and per expectation\n"
	      "  --json FILE       the (merged or aggregated) run file of a single RUN\n"
	      "Exit status: 0 written; 2 bad usage or a run file that cannot be read.\n",
	      out);
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
	if (std ? fflush(fp) != 0 : fclose(fp) != 0)
		rc = -1;
	if (rc < 0) {
		fprintf(stderr, "tunnelprobe report: writing %s failed\n", path);
		return 2;
	}
	return 0;
}

int report_write(const char *path, int (*fn)(FILE *, const struct report_run *, size_t),
		 const struct report_run *runs, size_t n)
{
	return write_to(path, fn, runs, n);
}

static int write_json(FILE *out, const struct report_run *runs, size_t n)
{
	(void)n;
	return runfile_dumpf(runs[0].doc, out) < 0 || ferror(out) ? -1 : 0;
}

int report_main(int argc, char **argv)
{
	struct report_run runs[REPORT_MAX_RUNS] = {{0}};
	const char *labels[REPORT_MAX_RUNS];
	size_t n = 0, nlabels = 0;
	const char *html = NULL, *markdown = NULL, *junit = NULL, *text = NULL, *json = NULL;
	int rc = 2;
	if (argc > 1 && strcmp(argv[1], "merge") == 0)
		return merge_main(argc - 1, argv + 1); /* a run file named merge: ./merge */
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool has = i + 1 < argc;
		const char **slot = NULL;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			rc = 0;
			goto out;
		} else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
			slot = &html;
		} else if (strcmp(a, "--markdown") == 0) {
			slot = &markdown;
		} else if (strcmp(a, "--junit") == 0) {
			slot = &junit;
		} else if (strcmp(a, "--text") == 0) {
			slot = &text;
		} else if (strcmp(a, "--json") == 0) {
			slot = &json;
		} else if (strcmp(a, "--label") == 0) {
			if (!has) {
				fprintf(stderr, "tunnelprobe report: --label needs a value\n");
				goto out;
			}
			if (nlabels == REPORT_MAX_RUNS)
				goto too_many;
			labels[nlabels++] = argv[++i];
			continue;
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "tunnelprobe report: unknown option '%s' (see --help)\n", a);
			goto out;
		} else {
			if (n == REPORT_MAX_RUNS)
				goto too_many;
			char err[512];
			if (inputs_load(a, &runs[n].doc, err, sizeof err) < 0) {
				fprintf(stderr, "tunnelprobe report: %s\n", err);
				goto out;
			}
			runs[n].src = a;
			if ((runs[n].hist = malloc(sizeof *runs[n].hist)) &&
			    runfile_hist(runs[n].doc, runs[n].hist) != 0) {
				free(runs[n].hist);
				runs[n].hist = NULL;
			}
			n++;
			continue;
		}
		if (!has || !argv[i + 1][0]) {
			fprintf(stderr, "tunnelprobe report: %s needs a file name\n", a);
			goto out;
		}
		*slot = argv[++i];
	}
	if (n == 0) {
		fprintf(stderr, "tunnelprobe report: no run given (see --help)\n");
		goto out;
	}
	if (nlabels && nlabels != n) {
		fprintf(stderr, "tunnelprobe report: %zu labels for %zu runs\n", nlabels, n);
		goto out;
	}
	if (json && n != 1) {
		fprintf(stderr, "tunnelprobe report: --json writes one run; merge them with A+B\n");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const char *own = json_string_value(json_object_get(runs[i].doc, "label"));
		runs[i].label = nlabels ? labels[i] : own && *own ? own : runs[i].src;
	}
	if (!html && !markdown && !junit && !json && !text)
		text = "-";
	rc = 0;
	if (json && (rc = write_to(json, write_json, runs, n)) != 0)
		goto out;
	if (html && (rc = write_to(html, report_html, runs, n)) != 0)
		goto out;
	if (text && (rc = write_to(text, report_text, runs, n)) != 0)
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
	for (size_t i = 0; i < n; i++) {
		json_decref(runs[i].doc);
		free(runs[i].hist);
	}
	return rc;
}
