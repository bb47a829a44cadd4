/* merge — `tunnelprobe report merge RUN... -o merged.json [--html FILE] [--scenario FILE]`:
 * the run files of a load split between processes (`probe --shard I/N`, `run --shard`)
 * added into the one run file the whole load would have written (docs/distributed.md).
 *
 * The adding is lib/runfile.h's runfile_merge, applied input after input, so memory
 * holds one merged document and one input whatever the number of shards. What merge
 * adds for shards:
 *   - the inputs are checked to be shards of one load: all sharded or none, the same
 *     count N and the same whole load (`shard.load`), the same target URLs in the same
 *     order, no index twice (each refused with exit 2);
 *   - the merged run states the whole load: `config`'s connections, rate and
 *     requests_per_url, and `open_loop.rate`, from `shard.load`; `shard` gives way to
 *     `shards: {count, merged: [I...], missing: [I...]}`;
 *   - with --scenario, the scenario's expectations are checked on the merged run by
 *     the checker main() installed (merge_set_checker): reports/ does not link ci/,
 *     where the one implementation of the checks lives.
 *
 * A RUN is what `report` accepts (reports/inputs.h), or a folder holding no run.json:
 * then its entries named shard-* (run files, or run folders of `run --shard`), in
 * natural order (shard-2 before shard-10).
 */
#ifndef TP_REPORTS_MERGE_H
#define TP_REPORTS_MERGE_H

#include <stddef.h>

#include <jansson.h>

/* Checks the expectations of the scenario file at path against run (a merged run,
 * borrowed; baseline NULL or a run to compare with) and writes them into run as
 * "expectations" (docs/run-json.md). Returns how many failed, or -1 with one line in
 * err when the scenario cannot be read. */
typedef int (*merge_checker_fn)(json_t *run, json_t *baseline, const char *path, char *err, size_t cap);

/* Installs the checker --scenario uses (cli/main.c installs ci's). Without one,
 * --scenario is refused (exit 2). */
void merge_set_checker(merge_checker_fn fn);

/* argv[0] is "merge". Exit 0 written; 1 written, but an expectation failed or shards
 * are missing; 2 bad usage, an input that cannot be read, or inputs that are not
 * shards of one load (one line on stderr, nothing written). */
int merge_main(int argc, char **argv);

#endif
