/* stopsig — see stopsig.h. */
#include "lib/stopsig.h"

#include <signal.h>
#include <stddef.h>

#ifdef _WIN32
#include <windows.h>

/* The console handler has no argument to carry it: set once, before any event. */
static void (*volatile stop_fn)(int sig);

static BOOL WINAPI on_console(DWORD event)
{
	void (*fn)(int) = stop_fn;
	if (!fn || (event != CTRL_C_EVENT && event != CTRL_BREAK_EVENT && event != CTRL_CLOSE_EVENT))
		return FALSE;
	fn(event == CTRL_C_EVENT ? SIGINT : SIGTERM);
	return TRUE; /* handled: the process is not ended for it */
}

void stopsig_install(void (*on_stop)(int sig))
{
	stop_fn = on_stop;
	SetConsoleCtrlHandler(on_console, TRUE);
}
#else
void stopsig_install(void (*on_stop)(int sig))
{
	struct sigaction sa = {.sa_handler = on_stop};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}
#endif
