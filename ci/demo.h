/* demo — the built-in demo of `tunnelprobe run` with no scenario: the six sites of the
 * Windows IOCP incident served by the local TLS origin, probed through the reference
 * proxy's builds side by side — the Linux build (epoll) healthy ("linux-healthy"), the
 * Windows build (IOCP, build/win64/tunnelprobe.exe under Wine) with short-send-drop on
 * about a third of the tunnels ("windows-short-send": the bug class acting on real
 * WSASend completions), and the Windows build healthy ("windows-healthy": the IOCP path
 * itself relays every byte). Where the Windows build cannot run (no Wine, not built) it
 * says so in one line and runs the Linux build simulating the symptom instead
 * ("linux-short-send", recorded as simulated in its run file). demo_run runs them
 * (ci/runner.h) into one folder with a report of all. */
#ifndef TP_CI_DEMO_H
#define TP_CI_DEMO_H

#include <stdbool.h>
#include <stddef.h>

#include "ci/runner.h"

struct demo_part {
	const char *label;  /* "linux-healthy", "windows-short-send", ... */
	const char *text;   /* scenario text (docs/scenarios.md) */
};

/* The demo's runs, in order, with the Windows build or without it; *n receives their
 * number. */
const struct demo_part *demo_parts(bool windows, size_t *n);

/* Runs every part into out/LABEL, prints their summaries and writes out/report.html.
 * Returns the worst status (0 met, 1 not met, 2 could not run or interrupted). */
int demo_run(const char *out, const struct runner_opts *o);

#endif
