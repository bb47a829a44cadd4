/* demo — the built-in demo of `tunnelprobe run` with no scenario: the six sites of the
 * Windows IOCP incident served by the local TLS origin, probed through the reference
 * proxy twice — healthy, and with the IOCP-like truncation fault on about one tunnel
 * in six — and compared side by side. */
#ifndef TP_CI_DEMO_H
#define TP_CI_DEMO_H

#include <stddef.h>

struct demo_part {
	const char *label;  /* "linux-healthy", "windows-iocp" */
	const char *text;   /* scenario text (docs/scenarios.md) */
};

/* The demo's runs, in order; *n receives their number. */
const struct demo_part *demo_parts(size_t *n);

#endif
