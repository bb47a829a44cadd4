/* out — the battery's results for people and machines: the table on stdout (a row
 * per check as it finishes, then the totals), JSON, JUnit XML and a self-contained
 * HTML page. Formats are a contract (docs/check.md): JSON is
 *   {proxy, gateway, profiles, checks: [{id, title, profile, rule, result, detail,
 *    evidence: {name: number|string}, ms}], passed, failed, skipped, warned}
 * Credentials in URLs are written as "user:***".
 */
#ifndef TP_CHECK_OUT_H
#define TP_CHECK_OUT_H

#include <stdio.h>

#include "check/battery.h"

/* The table's header line. */
void ckout_header(FILE *f);
/* One row: id, result, rule, title, then the detail and the evidence indented. */
void ckout_row(FILE *f, const struct battery_row *row);
/* The totals line: "N checks: N passed, N failed, N skipped, N warned". */
void ckout_totals(FILE *f, const struct battery_run *run);

/* Each writes path (replacing it). Returns 0, or -errno with a line on stderr. */
int ckout_json(const char *path, const struct ck_args *a, const struct battery_run *run);
int ckout_junit(const char *path, const struct ck_args *a, const struct battery_run *run);
int ckout_html(const char *path, const struct ck_args *a, const struct battery_run *run);

/* A URL as given, with a password replaced by "***". */
void ckout_redact(const char *url, char *out, size_t cap);
/* Writes s with &, <, >, " and ' escaped (HTML and XML text and attributes). */
void ckout_escape(FILE *f, const char *s);

#endif
