/* merge — see merge.h. */
#include "reports/merge.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/runfile.h"
#include "lib/shard.h"
#include "reports/html.h"
#include "reports/inputs.h"
#include "reports/report.h"

#define MERGE_MAX_INPUTS SHARD_MAX /* run files one merge reads, folders expanded */

static merge_checker_fn checker; /* set once by main before any command runs */

void merge_set_checker(merge_checker_fn fn)
{
	checker = fn;
}

struct merge_opts {
	const char *out, *html, *scenario, *baseline, *label;
	bool quiet;
};

/* The merge so far. */
struct merge_state {
	json_t *acc;            /* the merged run (NULL before the first input) */
	json_t *from;           /* merged_from: the inputs, in order */
	size_t inputs;
	int sharded;            /* -1 before the first input, then 0 or 1 for all */
	unsigned count;         /* N of the shards */
	json_t *load;           /* the first shard's shard.load (a reference) */
	json_t *urls;           /* the first input's target URLs (owned) */
	char first[PATH_MAX];   /* the first input, for messages */
	unsigned nseen;
	unsigned char seen[SHARD_MAX / 8]; /* shard indexes merged, a bit each */
};

static void usage(FILE *out)
{
	fputs("usage: tunnelprobe report merge RUN... -o FILE.json [--html FILE] [--scenario FILE]\n"
	      "                                 [--baseline FILE] [--label NAME] [-q]\n"
	      "  RUN               a run file or run folder of one shard (probe --shard, run --shard),\n"
	      "                    a probe records file, or a folder without run.json: its\n"
	      "                    shard-*.json files and shard-* folders. Any number; counts,\n"
	      "                    classes, verdicts and histograms add exactly, time series\n"
	      "                    align on absolute time\n"
	      "  -o FILE.json      the merged run file ('-' stdout)\n"
	      "  --html FILE       the merged run's report page\n"
	      "  --scenario FILE   check this scenario's expectations on the merged run\n"
	      "  --baseline FILE   a previous run for the scenario's regression expectations\n"
	      "  --label NAME      the merged run's name in reports (default: the first input's)\n"
	      "  -q                no summary on stdout\n"
	      "Exit status: 0 merged; 1 merged, but an expectation failed or shards are missing;\n"
	      "2 bad usage, an unreadable input, or inputs that are not shards of one load.\n",
	      out);
}

/* Returns 0 to merge, 1 after --help, 2 for bad usage (message). The RUN arguments
 * (those no option takes) go to runs[] (room for argc), their number to *nruns. */
static int parse(int argc, char **argv, struct merge_opts *o, const char **runs, size_t *nruns)
{
	memset(o, 0, sizeof *o);
	*nruns = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char **slot = NULL;
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 1;
		} else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
			o->quiet = true;
			continue;
		} else if (strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0) {
			slot = &o->out;
		} else if (strcmp(a, "--html") == 0) {
			slot = &o->html;
		} else if (strcmp(a, "--scenario") == 0) {
			slot = &o->scenario;
		} else if (strcmp(a, "--baseline") == 0) {
			slot = &o->baseline;
		} else if (strcmp(a, "--label") == 0) {
			slot = &o->label;
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "tunnelprobe report merge: unknown option '%s' (see --help)\n", a);
			return 2;
		} else {
			runs[(*nruns)++] = a;
			continue;
		}
		if (i + 1 >= argc || !argv[i + 1][0]) {
			fprintf(stderr, "tunnelprobe report merge: %s needs a value\n", a);
			return 2;
		}
		*slot = argv[++i];
	}
	if (*nruns == 0 || (!o->out && !o->html)) {
		fprintf(stderr, "tunnelprobe report merge: %s (see --help)\n",
			*nruns == 0 ? "no run given" : "no output: give -o FILE.json and/or --html FILE");
		return 2;
	}
	if (o->scenario && !checker) {
		fprintf(stderr, "tunnelprobe report merge: --scenario needs the run part, not built in\n");
		return 2;
	}
	return 0;
}

/* The target URLs of doc, in order (a new array). */
static json_t *target_urls(json_t *doc)
{
	json_t *urls = json_array(), *t;
	size_t i;
	json_array_foreach(json_object_get(doc, "targets"), i, t)
		json_array_append(urls, json_object_get(t, "url"));
	return urls;
}

/* url without the port of its authority ("http://h:8080/p" -> "http://h/p"). */
static void url_portless(const char *url, char *out, size_t cap)
{
	const char *auth = strstr(url, "://");
	auth = auth ? auth + 3 : url;
	size_t alen = strcspn(auth, "/?#");
	const char *colon = NULL;
	for (const char *c = auth; c < auth + alen; c++)
		if (*c == ':')
			colon = c;
		else if (*c == ']')
			colon = NULL; /* an IPv6 literal's colons */
	if (colon && colon + 1 < auth + alen && strspn(colon + 1, "0123456789") == (size_t)(auth + alen - colon - 1))
		snprintf(out, cap, "%.*s%s", (int)(colon - url), url, auth + alen);
	else
		snprintf(out, cap, "%s", url);
}

/* Whether two URL lists are the same targets: equal, or equal but for the ports — the
 * shards of `run --shard` each start their own origin on a free port. */
static bool same_targets(json_t *a, json_t *b)
{
	if (json_equal(a, b))
		return true;
	if (json_array_size(a) != json_array_size(b))
		return false;
	for (size_t i = 0; i < json_array_size(a); i++) {
		const char *x = json_string_value(json_array_get(a, i)), *y = json_string_value(json_array_get(b, i));
		char px[4096], py[4096];
		if (!x || !y)
			return false;
		url_portless(x, px, sizeof px);
		url_portless(y, py, sizeof py);
		if (strcmp(px, py) != 0)
			return false;
	}
	return true;
}

/* doc's targets named by the first input's URLs (same_targets held), so that
 * runfile_merge, which adds targets with the same URL, adds them. */
static void rename_targets(json_t *doc, json_t *urls)
{
	json_t *t;
	size_t i;
	json_array_foreach(json_object_get(doc, "targets"), i, t)
		json_object_set(t, "url", json_array_get(urls, i));
}

/* Checks that doc (from src) is a shard of the load the inputs so far split, and marks
 * its index seen. 0, or -1 with a message. */
static int note_shard(struct merge_state *st, json_t *doc, const char *src)
{
	json_t *sh = json_object_get(doc, "shard");
	int sharded = json_is_object(sh);
	json_t *urls = target_urls(doc);
	int rc = -1;
	if (st->sharded < 0) {
		st->sharded = sharded;
		st->urls = urls;
		urls = NULL;
		snprintf(st->first, sizeof st->first, "%s", src);
	} else if (st->sharded != sharded) {
		fprintf(stderr, "tunnelprobe report merge: %s is %sa shard, %s is %s: merge the shards of one "
				"load, or runs without --shard\n", src, sharded ? "" : "not ", st->first,
			sharded ? "not" : "one");
		goto out;
	} else if (!same_targets(urls, st->urls)) {
		fprintf(stderr, "tunnelprobe report merge: %s probed other URLs than %s (or in another order)\n",
			src, st->first);
		goto out;
	} else {
		rename_targets(doc, st->urls);
	}
	rc = 0;
	if (!sharded)
		goto out;
	json_int_t index = json_integer_value(json_object_get(sh, "index"));
	json_int_t count = json_integer_value(json_object_get(sh, "count"));
	json_t *load = json_object_get(sh, "load");
	rc = -1;
	if (count < 2 || count > SHARD_MAX || index < 0 || index >= count || !json_is_object(load)) {
		fprintf(stderr, "tunnelprobe report merge: %s: malformed \"shard\" (want {index, count, load})\n", src);
	} else if (st->count && (count != st->count || !json_equal(load, st->load))) {
		fprintf(stderr, "tunnelprobe report merge: %s is shard %lld/%lld of another load than %s (shard.load "
				"or the shard count differs)\n", src, (long long)index, (long long)count, st->first);
	} else if (st->seen[index / 8] & (1u << (index % 8))) {
		fprintf(stderr, "tunnelprobe report merge: shard %lld/%lld is given twice (again in %s)\n",
			(long long)index, (long long)count, src);
	} else {
		if (!st->count) {
			st->count = (unsigned)count;
			st->load = json_incref(load);
		}
		st->seen[index / 8] |= (unsigned char)(1u << (index % 8));
		st->nseen++;
		rc = 0;
	}
out:
	json_decref(urls);
	return rc;
}

/* One input read, checked and added. 0, or 2 after a message. */
static int add_input(struct merge_state *st, const char *path)
{
	char err[600];
	json_t *doc = NULL;
	if (st->inputs == MERGE_MAX_INPUTS) {
		fprintf(stderr, "tunnelprobe report merge: more than %d inputs\n", MERGE_MAX_INPUTS);
		return 2;
	}
	if (inputs_load(path, &doc, err, sizeof err) < 0) {
		fprintf(stderr, "tunnelprobe report merge: %s\n", err);
		return 2;
	}
	if (note_shard(st, doc, path) < 0) {
		json_decref(doc);
		return 2;
	}
	json_array_append_new(st->from, json_string(path));
	st->inputs++;
	if (!st->acc) {
		st->acc = doc;
		return 0;
	}
	json_t *merged = runfile_merge(st->acc, doc, err, sizeof err);
	json_decref(doc);
	if (!merged) {
		fprintf(stderr, "tunnelprobe report merge: %s: %s\n", path, err);
		return 2;
	}
	json_decref(st->acc);
	st->acc = merged;
	return 0;
}

static int natural_order(const void *a, const void *b)
{
	return strverscmp(*(const char *const *)a, *(const char *const *)b);
}

/* Whether dir/name is a folder. */
static bool is_dir(const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct stat sb;
	return snprintf(path, sizeof path, "%s/%s", dir, name) < (int)sizeof path && stat(path, &sb) == 0 &&
	       S_ISDIR(sb.st_mode);
}

/* A folder without run.json: its shard-*.json files and shard-* folders, in natural
 * order. 0, or 2 after a message. */
static int add_folder(struct merge_state *st, const char *dir)
{
	DIR *d = opendir(dir);
	if (!d) {
		fprintf(stderr, "tunnelprobe report merge: cannot read %s: %s\n", dir, strerror(errno));
		return 2;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	struct dirent *e;
	while ((e = readdir(d)) && rc == 0) {
		size_t len = strlen(e->d_name);
		/* Run files and run folders; a shard's records (shard-0.jsonl) beside its run
		 * file would count its requests twice. */
		if (strncmp(e->d_name, "shard-", 6) != 0 ||
		    !(is_dir(dir, e->d_name) || (len > 5 && strcmp(e->d_name + len - 5, ".json") == 0)))
			continue;
		if (n == MERGE_MAX_INPUTS) {
			fprintf(stderr, "tunnelprobe report merge: more than %d shards in %s\n", MERGE_MAX_INPUTS, dir);
			rc = 2;
		} else if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **more = realloc(names, cap * sizeof *names);
			if (!more)
				rc = 2;
			else
				names = more;
		}
		if (rc == 0 && !(names[n++] = strdup(e->d_name)))
			rc = 2;
	}
	closedir(d);
	if (rc == 0 && n == 0) {
		fprintf(stderr, "tunnelprobe report merge: %s has neither run.json nor shard-*.json files or shard-* "
				"folders\n", dir);
		rc = 2;
	}
	if (rc == 0)
		qsort(names, n, sizeof *names, natural_order);
	for (size_t i = 0; i < n && rc == 0; i++) {
		char path[PATH_MAX];
		if (snprintf(path, sizeof path, "%s/%s", dir, names[i]) >= (int)sizeof path) {
			fprintf(stderr, "tunnelprobe report merge: path too long in %s\n", dir);
			rc = 2;
		} else {
			rc = add_input(st, path);
		}
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

/* A RUN argument: a shard folder, or what `report` reads. */
static int add_arg(struct merge_state *st, const char *arg)
{
	struct stat sb;
	char runjson[PATH_MAX];
	snprintf(runjson, sizeof runjson, "%s/run.json", arg);
	if (stat(arg, &sb) == 0 && S_ISDIR(sb.st_mode) && stat(runjson, &sb) != 0)
		return add_folder(st, arg);
	return add_input(st, arg);
}

/* The merged shards said as the whole load: config and open_loop.rate from shard.load,
 * "shard" replaced by "shards". Returns the number of shards missing. */
static unsigned state_whole_load(struct merge_state *st)
{
	json_t *run = st->acc, *config = json_object_get(run, "config");
	const char *keys[] = {"connections", "rate", "requests_per_url"};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (json_is_object(config) && json_object_get(st->load, keys[i]))
			json_object_set(config, keys[i], json_object_get(st->load, keys[i]));
	json_t *open_loop = json_object_get(run, "open_loop");
	if (json_is_object(open_loop))
		json_object_set(open_loop, "rate", json_object_get(st->load, "rate"));
	json_t *merged = json_array(), *missing = json_array();
	for (unsigned i = 0; i < st->count; i++)
		json_array_append_new(st->seen[i / 8] & (1u << (i % 8)) ? merged : missing, json_integer(i));
	unsigned nmissing = (unsigned)json_array_size(missing);
	json_object_del(run, "shard");
	json_object_set_new(run, "shards", json_pack("{s:i,s:o,s:o}", "count", (int)st->count, "merged", merged,
						      "missing", missing));
	return nmissing;
}

/* The expectations written by the checker, one line each, as `run` prints them. */
static void say_expectations(json_t *run, FILE *out)
{
	json_t *e;
	size_t i;
	json_array_foreach(json_object_get(run, "expectations"), i, e) {
		const char *result = json_string_value(json_object_get(e, "result"));
		const char *text = json_string_value(json_object_get(e, "expect"));
		fprintf(out, "  %s %s\n", result && strcmp(result, "fail") == 0 ? "FAIL" : result ? result : "?",
			text ? text : "");
	}
}

static void say_summary(const struct merge_state *st, unsigned missing, FILE *out)
{
	json_t *run = st->acc;
	fprintf(out, "merged %zu run%s", st->inputs, st->inputs == 1 ? "" : "s");
	if (st->sharded)
		fprintf(out, " (%u of %u shards%s)", st->nseen, st->count, missing ? ", some MISSING" : "");
	fprintf(out, ": %lld requests, %lld ok", (long long)json_integer_value(json_object_get(run, "requests")),
		(long long)json_integer_value(json_object_get(run, "ok")));
	const char *name;
	json_t *v;
	json_object_foreach(json_object_get(run, "classes"), name, v)
		if (strcmp(name, "ok") != 0)
			fprintf(out, ", %lld %s", (long long)json_integer_value(v), name);
	fputc('\n', out);
}

/* On stderr, also with -q: a merge without every shard is not the whole load. */
static void say_missing(const struct merge_state *st)
{
	json_t *m = json_object_get(json_object_get(st->acc, "shards"), "missing");
	fprintf(stderr, "tunnelprobe report merge: shards missing:");
	for (size_t i = 0; i < json_array_size(m) && i < 20; i++)
		fprintf(stderr, " %lld", (long long)json_integer_value(json_array_get(m, i)));
	fprintf(stderr, "%s (of %u): the merge is not the whole load\n", json_array_size(m) > 20 ? " ..." : "",
		st->count);
}

/* The outputs: -o, --html. 0 or 2 after a message. */
static int write_outputs(const struct merge_opts *o, json_t *run)
{
	if (o->out) {
		int rc = strcmp(o->out, "-") == 0 ? runfile_dumpf(run, stdout) : runfile_write(run, o->out);
		if (rc < 0) {
			fprintf(stderr, "tunnelprobe report merge: cannot write %s: %s\n", o->out, strerror(-rc));
			return 2;
		}
	}
	if (!o->html)
		return 0;
	struct report_run r = {.src = o->out ? o->out : "merged", .doc = run};
	const char *label = json_string_value(json_object_get(run, "label"));
	r.label = label && *label ? label : r.src;
	if ((r.hist = malloc(sizeof *r.hist)) && runfile_hist(run, r.hist) != 0) {
		free(r.hist);
		r.hist = NULL;
	}
	int rc = report_write(o->html, report_html, &r, 1);
	free(r.hist);
	return rc;
}

/* --scenario: the expectations checked on the merged run. The number failed, or -1
 * after a message. */
static int check_scenario(const struct merge_opts *o, json_t *run)
{
	char err[600];
	json_t *baseline = NULL;
	if (o->baseline && runfile_read(o->baseline, &baseline, err, sizeof err) < 0) {
		fprintf(stderr, "tunnelprobe report merge: --baseline %s\n", err);
		return -1;
	}
	int failed = checker(run, baseline, o->scenario, err, sizeof err);
	json_decref(baseline);
	if (failed < 0)
		fprintf(stderr, "tunnelprobe report merge: %s\n", err);
	return failed;
}

int merge_main(int argc, char **argv)
{
	struct merge_opts o;
	const char **runs = calloc((size_t)argc + 1, sizeof *runs);
	struct merge_state *st = calloc(1, sizeof *st);
	size_t nruns = 0;
	int rc = 2;
	if (!runs || !st || !(st->from = json_array())) {
		fprintf(stderr, "tunnelprobe report merge: out of memory\n");
		goto out;
	}
	st->sharded = -1;
	if ((rc = parse(argc, argv, &o, runs, &nruns)) != 0) {
		rc = rc == 1 ? 0 : 2;
		goto out;
	}
	for (size_t i = 0; i < nruns; i++)
		if ((rc = add_arg(st, runs[i])) != 0)
			goto out;
	unsigned missing = st->sharded ? state_whole_load(st) : 0;
	json_object_set(st->acc, "merged_from", st->from);
	if (o.label)
		json_object_set_new(st->acc, "label", json_string(o.label));
	int failed = o.scenario ? check_scenario(&o, st->acc) : 0;
	rc = 2;
	if (failed < 0 || write_outputs(&o, st->acc) != 0)
		goto out;
	FILE *say = o.out && strcmp(o.out, "-") == 0 ? stderr : stdout;
	if (missing)
		say_missing(st);
	if (!o.quiet) {
		say_summary(st, missing, say);
		say_expectations(st->acc, say);
		if (o.scenario)
			fprintf(say, "expectations %s\n", failed ? "NOT met" : "met");
	}
	rc = failed || missing ? 1 : 0;
out:
	if (st) {
		json_decref(st->acc);
		json_decref(st->from);
		json_decref(st->load);
		json_decref(st->urls);
	}
	free(st);
	free(runs);
	return rc;
}
