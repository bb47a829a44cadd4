/* libFuzzer target: ledger lines (capture/ledgers.c) as capture reads them from files
 * anyone hands it — probe records, origin and proxy ledger lines, in any order and
 * shape — through the join, the judge and both outputs. The first byte picks a run id
 * filter (odd: only run "r1"). Nothing may crash, leak or read out of bounds; every
 * verdict renders within its bound. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/join.h"
#include "capture/output.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	struct ledgers l;
	ledgers_init(&l);
	if (data[0] & 1)
		snprintf(l.run_id, sizeof l.run_id, "r1");
	const char *p = (const char *)data + 1, *end = (const char *)data + size;
	for (int lines = 0; p < end && lines < 256; lines++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		json_t *o = json_loadb(p, n, 0, NULL);
		if (!o || !ledgers_add(&l, o, (data[0] & 2) ? "r1" : NULL))
			l.bad_lines++;
		json_decref(o);
		p += n + 1;
	}
	struct join j;
	if (join_build(&j, &l, NULL) == 0) {
		char text[TP_VERDICT_TEXT_MAX];
		for (size_t i = 0; i < j.n; i++)
			if (strlen(tp_verdict_render(&j.t[i].verdict, text, sizeof text)) >= sizeof text)
				__builtin_trap();
		json_t *doc = capture_json(NULL, &l, &j, data[0] & 4);
		char *s = json_dumps(doc, JSON_COMPACT);
		free(s);
		json_decref(doc);
		FILE *null = fopen("/dev/null", "w");
		if (null) {
			capture_summary(null, NULL, &l, &j, true);
			capture_json_write(null, NULL, &l, &j, true);
			fclose(null);
		}
		join_free(&j);
	}
	ledgers_free(&l);
	return 0;
}
