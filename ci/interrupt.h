/* interrupt — SIGINT/SIGTERM during `run`: the children of the run under way are
 * stopped at once (async-signal-safe, ci/procs.h) and the run notices and winds down,
 * leaving its last checkpoint. The only state outside main's: the handler needs it.
 */
#ifndef TP_CI_INTERRUPT_H
#define TP_CI_INTERRUPT_H

#include <stdbool.h>

#include "ci/procs.h"

/* Installs the handlers (and ignores SIGPIPE). */
void interrupt_install(void);
/* The children a signal stops: ps, or NULL when no run is under way. */
void interrupt_watch(struct procs *ps);
/* Whether SIGINT or SIGTERM arrived. */
bool interrupt_requested(void);

#endif
