/* inputs — what `report` accepts as one RUN argument, made into one run document:
 * a run file or a run folder (lib/runfile.h runfile_read: checked, /1 upgraded, a
 * folder's capture joined), a probe records file (records.h: folded as it is read),
 * or several of these joined by '+' (merged with runfile_merge: shards of one run).
 */
#ifndef TP_REPORTS_INPUTS_H
#define TP_REPORTS_INPUTS_H

#include <stddef.h>

#include <jansson.h>

/* Loads arg (a path that exists as given is never split at '+'). A merged input gets
 * "merged_from" (its parts, in order). Returns 0 with *doc (a new reference), or
 * -ENOENT / -EINVAL with one line in err. */
int inputs_load(const char *arg, json_t **doc, char *err, size_t cap);

#endif
