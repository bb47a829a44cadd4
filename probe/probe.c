/* probe — `tunnelprobe probe`: parse, run the workers, merge, report.
 * Also `tunnelprobe gen`, the payload generator for origins we do not control. */
#include "probe/probe.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lib/payload.h"
#include "lib/stopsig.h"
#ifndef _WIN32
#include "lib/runfile.h"
#endif
#include "probe/config.h"
#include "probe/summary.h"
#include "probe/worker.h"

/* Set by probe_main for the SIGINT handler: the workers to abort. */
static struct probe_worker *volatile running_workers;
static volatile unsigned running_count;

static void on_sigint(int sig)
{
	(void)sig;
	struct probe_worker *ws = running_workers;
	for (unsigned i = 0; ws && i < running_count; i++)
		worker_abort(&ws[i]);
}

static double wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The wall clock on the microsecond grid, rounded down (up): records print their start
 * t to the microsecond, so a run's started (ended) on the same grid, taken before the
 * first request (after the last), keeps started <= every t <= ended. */
static double wall_floor_us(void) { return floor(wall_now() * 1e6) / 1e6; }
static double wall_ceil_us(void) { return ceil(wall_now() * 1e6) / 1e6; }

/* Runs cfg once with all its threads; fills merged (caller frees with stats_free). */
static int run_once(const struct probe_config *cfg, FILE *records, struct probe_stats *merged,
		    double *elapsed)
{
	pthread_mutex_t records_lock = PTHREAD_MUTEX_INITIALIZER;
	unsigned n = cfg->threads;
	struct probe_worker *ws = calloc(n, sizeof *ws);
	if (!ws)
		return -ENOMEM;
	uint64_t start = loop_clock_us();
	double wall_start = wall_now(); /* every worker maps loop time to Unix time by these */
	int rc = 0;
	unsigned started = 0;
	for (unsigned i = 0; i < n && rc == 0; i++)
		rc = worker_init(&ws[i], cfg, i, start, wall_start, records, &records_lock);
	if (rc == 0 && (rc = stats_init(merged, cfg->ntargets, start, cfg->learn_bodies)) == 0) {
		running_workers = ws;
		running_count = n;
		for (; started < n; started++)
			if (pthread_create(&ws[started].thread, NULL, worker_run, &ws[started]) != 0) {
				rc = -EAGAIN;
				break;
			}
		bool tty = isatty(STDERR_FILENO) && !cfg->quiet;
		/* Progress: the workers' relaxed counters, once a second, on a terminal only. */
		for (unsigned tick = 1;; tick++) {
			unsigned finished = 0;
			uint64_t total = 0, failed = 0;
			for (unsigned i = 0; i < started; i++) {
				total += atomic_load_explicit(&ws[i].progress_done, memory_order_relaxed);
				failed += atomic_load_explicit(&ws[i].progress_failed, memory_order_relaxed);
				finished += (unsigned)atomic_load(&ws[i].finished);
			}
			if (finished == started || !tty)
				break;
			if (tick % 5 == 0) {
				double secs = (double)(loop_clock_us() - start) / 1e6;
				fprintf(stderr, "\r[%6.1fs] %" PRIu64 " done, %" PRIu64 " failed, %.0f req/s   ",
					secs, total, failed, secs > 0 ? (double)total / secs : 0.0);
			}
			struct timespec ts = {0, 200000000};
			nanosleep(&ts, NULL);
		}
		if (tty)
			fputs("\r\033[K", stderr);
		for (unsigned i = 0; i < started; i++)
			pthread_join(ws[i].thread, NULL);
		running_workers = NULL;
		running_count = 0;
		for (unsigned i = 0; i < started && rc == 0; i++)
			rc = stats_merge(merged, &ws[i].stats);
	}
	*elapsed = (double)(loop_clock_us() - start) / 1e6;
	for (unsigned i = 0; i < n; i++)
		worker_free(&ws[i]);
	free(ws);
	return rc;
}

int probe_main(int argc, char **argv)
{
	struct probe_config cfg;
	int rc = probe_config_parse(&cfg, argc, argv, (const char *(*)(const char *))getenv);
	if (rc != 0) {
		probe_config_free(&cfg);
		return rc > 0 ? 0 : 2;
	}
	int exit_code = 2;
	FILE *records = NULL;
	struct probe_stats st = {0}, direct_st = {0};
	struct probe_config direct_cfg = {0};
	bool have_direct = false;
	if (cfg.records_path && !(records = fopen(cfg.records_path, "w"))) {
		fprintf(stderr, "tunnelprobe probe: cannot write --records %s: %s\n", cfg.records_path,
			strerror(errno));
		goto out;
	}
	stopsig_install(on_sigint);

	if (cfg.compare_direct) {
		/* The direct run goes first: bodies without a seed are then compared with
		 * what the same URL gave without the proxy (stats_known_body). */
		double direct_elapsed;
		if (probe_config_direct(&cfg, &direct_cfg) < 0 ||
		    run_once(&direct_cfg, NULL, &direct_st, &direct_elapsed) < 0) {
			fprintf(stderr, "tunnelprobe probe: cannot run the direct comparison\n");
			goto out;
		}
		have_direct = true;
		for (size_t i = 0; i < cfg.ntargets; i++)
			if (!cfg.targets[i].known.has_sha256)
				stats_known_body(&direct_st, i, &cfg.targets[i].known);
	}
	double started = wall_floor_us(), elapsed = 0;
	if (run_once(&cfg, records, &st, &elapsed) < 0) {
		fprintf(stderr, "tunnelprobe probe: cannot start the workers\n");
		goto out;
	}
	double ended = wall_ceil_us();
	if (!cfg.quiet) {
		summary_print(&st, &cfg, elapsed, stdout);
		if (have_direct)
			summary_print_compare(&st, &direct_st, &cfg, stdout);
	}
#ifndef _WIN32 /* the Windows probe refused --json at parse time (no jansson) */
	if (cfg.json_path) {
		json_t *doc = summary_json(&st, &cfg, started, ended);
		if (doc && have_direct)
			json_object_set_new(doc, "direct", summary_direct_json(&direct_st, &direct_cfg));
		rc = doc ? runfile_write(doc, cfg.json_path) : -ENOMEM;
		json_decref(doc);
		if (rc < 0) {
			fprintf(stderr, "tunnelprobe probe: cannot write %s: %s\n", cfg.json_path, strerror(-rc));
			goto out;
		}
	}
#else
	(void)started; /* the run file's times, and there is none */
	(void)ended;
#endif
	/* A shard whose part of -n is empty (more shards than requests per URL) did all
	 * it had to: its empty run file still merges. */
	bool nothing_to_do = shard_active(&cfg.shard) && cfg.duration_s == 0 && cfg.requests_per_url == 0;
	exit_code = cfg.exit_zero || (st.tot.requests == st.tot.ok && (st.tot.requests > 0 || nothing_to_do)) ? 0 : 1;
out:
	if (records)
		fclose(records);
	stats_free(&st);
	if (have_direct)
		stats_free(&direct_st);
	probe_config_free(&direct_cfg);
	probe_config_free(&cfg);
	return exit_code;
}

int gen_main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "--seed") == 0) {
		printf("%016" PRIx64 "\n", payload_seed(argv[2], strlen(argv[2])));
		return 0;
	}
	char *end;
	errno = 0;
	unsigned long long size = argc == 3 ? strtoull(argv[2], &end, 10) : 0;
	if (argc != 3 || errno || *end || argv[2][0] == '-' || argv[1][0] != '/') {
		fprintf(stderr, "usage: tunnelprobe gen TARGET SIZE    (TARGET like /bytes/1024)\n"
				"       tunnelprobe gen --seed TARGET\n");
		return 2;
	}
	uint64_t seed = payload_seed(argv[1], strlen(argv[1]));
	static uint8_t buf[1 << 16];
	for (uint64_t off = 0; off < size;) {
		size_t n = size - off < sizeof buf ? (size_t)(size - off) : sizeof buf;
		payload_fill(seed, off, buf, n);
		if (fwrite(buf, 1, n, stdout) != n) {
			fprintf(stderr, "tunnelprobe gen: write failed\n");
			return 1;
		}
		off += n;
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
