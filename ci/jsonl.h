/* jsonl — reading a JSON Lines file (a ledger, the probe's records) line by line with
 * a cap on the line length, so memory does not grow with the file. */
#ifndef TP_CI_JSONL_H
#define TP_CI_JSONL_H

#include <stddef.h>

typedef int (*jsonl_fn)(void *ctx, const char *line, size_t len);

/* Calls fn(ctx, line, len) for every non-empty line of path (without its newline; a
 * last line without one counts), stopping at the first negative return of fn.
 * Returns 0, -ENOENT (cannot open), -EINVAL (a line longer than max), -EIO, -ENOMEM,
 * or what fn returned. */
int jsonl_each(const char *path, size_t max, jsonl_fn fn, void *ctx);

#endif
