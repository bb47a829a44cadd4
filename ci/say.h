/* say — `run`'s progress lines on stdout (flushed at once, so a CI log shows them as
 * they happen), silenced by -q. Errors go to stderr directly, never through here. */
#ifndef TP_CI_SAY_H
#define TP_CI_SAY_H

#include <stdbool.h>

/* printf to stdout unless quiet. */
void say(bool quiet, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
