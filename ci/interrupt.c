/* interrupt — see interrupt.h. */
#include "ci/interrupt.h"

#include <signal.h>

static struct procs *volatile watched;
static volatile sig_atomic_t requested;

static void on_signal(int sig)
{
	(void)sig;
	requested = 1;
	struct procs *ps = watched;
	if (ps)
		procs_signal_all(ps, SIGTERM);
}

void interrupt_install(void)
{
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

void interrupt_watch(struct procs *ps)
{
	watched = ps;
}

bool interrupt_requested(void)
{
	return requested != 0;
}
