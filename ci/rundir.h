/* rundir — the run folder's files: creating the folder, paths in it and beside the
 * scenario, and appending one file to another (a soak's records segments). */
#ifndef TP_CI_RUNDIR_H
#define TP_CI_RUNDIR_H

#include <stddef.h>

/* mkdir -p path (mode 0755). Returns 0 or -errno (-ENAMETOOLONG for a long path). */
int rundir_make(const char *path);

/* out = "dir/name". Returns 0 or -ENAMETOOLONG. */
int rundir_path(char *out, size_t cap, const char *dir, const char *name);

/* out = path when it is absolute, else "base/path" (a scenario's files are relative
 * to its folder). Returns 0 or -ENAMETOOLONG. */
int rundir_resolve(char *out, size_t cap, const char *base, const char *path);

/* Appends the file from to the file to (created when missing). Returns 0 or -errno
 * (-EIO when a write failed). */
int rundir_append(const char *from, const char *to);

#endif
