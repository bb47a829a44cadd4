/* args — the argv of a child `tunnelprobe SUBCOMMAND ...` under construction, in its
 * own fixed storage (no allocation; caller memory, zero it or args_init it). An
 * argument that does not fit, or one too many, marks the argv overflowed instead of
 * failing there: the caller checks args_ok() once before starting the child.
 */
#ifndef TP_CI_ARGS_H
#define TP_CI_ARGS_H

#include <stdbool.h>
#include <stddef.h>

#include "ci/procs.h"

struct args {
	char *v[PROCS_MAX_ARGS + 1]; /* NULL-terminated, pointing into store */
	size_t n;
	char store[32768];
	size_t used;
	bool overflow;
};

void args_init(struct args *a);
/* Appends one argument, printf-formatted. */
void args_add(struct args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends an option and its printf-formatted value: "--ledger", "DIR/proxy.jsonl". */
void args_opt(struct args *a, const char *option, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Whether every argument fitted. */
bool args_ok(const struct args *a);

#endif
