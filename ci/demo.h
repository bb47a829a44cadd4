/* demo — the built-in demo of `tunnelprobe run` with no scenario: the six sites of the
 * Windows IOCP incident served by the local TLS origin, probed through the reference
 * proxy twice — healthy ("linux-healthy"), and with a short-send truncation fault on
 * about a third of the tunnels ("linux-short-send": the Linux reference proxy
 * simulating the incident's symptom, recorded as simulated in its run file; no Windows
 * build runs here) — and compared side by side. demo_run runs them (ci/runner.h) into
 * one folder with a report of both. */
#ifndef TP_CI_DEMO_H
#define TP_CI_DEMO_H

#include <stddef.h>

#include "ci/runner.h"

struct demo_part {
	const char *label;  /* "linux-healthy", "linux-short-send" */
	const char *text;   /* scenario text (docs/scenarios.md) */
};

/* The demo's runs, in order; *n receives their number. */
const struct demo_part *demo_parts(size_t *n);

/* Runs every part into out/LABEL, prints their summaries and writes out/report.html.
 * Returns the worst status (0 met, 1 not met, 2 could not run or interrupted). */
int demo_run(const char *out, const struct runner_opts *o);

#endif
