/* battery — every check of `tunnelprobe check`, by profile, and the runner that picks
 * and runs them one at a time, each within its budget.
 *
 * The checks themselves live in one file per group (c_bytes.c, c_forward.c, ...), each
 * exporting a table of struct ck_def; battery.c only strings the tables together, so a
 * new check is one row in its group's table.
 */
#ifndef TP_CHECK_BATTERY_H
#define TP_CHECK_BATTERY_H

#include <stddef.h>
#include <stdio.h>

#include "check/ck.h"

/* One table of checks. */
struct ck_table {
	const struct ck_def *defs;
	size_t n;
};

/* The group tables (each group's file defines its own). */
extern const struct ck_table ck_bytes_checks, ck_forward_checks, ck_rules_checks, ck_connect_checks,
	ck_socks5_checks, ck_slow_checks, ck_cache_checks, ck_gateway_checks;

/* Calls fn for every check in battery order. */
void battery_each(void (*fn)(const struct ck_def *def, void *arg), void *arg);
/* Whether def is selected by the arguments (its profile asked for, and --only). */
bool battery_selected(const struct ck_args *a, const struct ck_def *def);

/* What one check gave. */
struct battery_row {
	const struct ck_def *def;
	struct ck_outcome out;
};

struct battery_run {
	struct battery_row *rows; /* allocated by battery_run(), freed by battery_free() */
	size_t n;
	unsigned passed, failed, skipped, warned;
};

/* Runs the selected checks, printing each row on `live` as it finishes (NULL: quiet).
 * Returns 0, or -ENOMEM. */
int battery_run(struct ck *ck, struct battery_run *run, FILE *live);
void battery_free(struct battery_run *run);

#endif
