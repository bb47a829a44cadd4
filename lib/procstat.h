/* procstat — what another process costs, read from /proc (Linux): its resident memory
 * and its open descriptors. Used to watch a proxy under test (`check --pid`); off
 * Linux both say -ENOTSUP. */
#ifndef TP_PROCSTAT_H
#define TP_PROCSTAT_H

#include <sys/types.h>

/* VmRSS of pid in KiB, or a negative errno (-ENOENT: no such process). */
long procstat_rss_kib(pid_t pid);
/* Open descriptors of pid, or a negative errno (-EACCES: not ours to read). */
long procstat_fds(pid_t pid);

#endif
