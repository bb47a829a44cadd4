/* The subcommands, one per part. Each part's header declares `int X_main(int, char **)`;
 * a part that is not in the tree yet simply has no command (so parts land one by one). */
#ifndef TP_CLI_PARTS_H
#define TP_CLI_PARTS_H

#include <stdio.h>

#define TP_VERSION "0.1.0"

#if __has_include("probe/probe.h")
#include "probe/probe.h"
#define TP_CMD_PROBE {"probe", probe_main, "load and verify through a proxy (or direct)"},
#define TP_CMD_GEN {"gen", gen_main, "write a deterministic payload (for static origins)"},
#else
#define TP_CMD_PROBE
#define TP_CMD_GEN
#endif
#if __has_include("replay/origin.h")
#include "replay/origin.h"
#define TP_CMD_ORIGIN {"origin", origin_main, "the replay origin (HTTP/1.1 over TCP and TLS)"},
#else
#define TP_CMD_ORIGIN
#endif
#if __has_include("proxy-under-test/proxy.h")
#include "proxy-under-test/proxy.h"
#define TP_CMD_PROXY {"proxy", proxy_main, "the reference proxy, with fault injection"},
#else
#define TP_CMD_PROXY
#endif
#if __has_include("capture/capture.h")
#include "capture/capture.h"
#define TP_CMD_CAPTURE {"capture", capture_main, "pcap correlator: bytes per leg, FIN/RST, verdicts"},
#else
#define TP_CMD_CAPTURE
#endif
#if __has_include("reports/report.h")
#include "reports/report.h"
#define TP_CMD_REPORT {"report", report_main, "run JSON -> self-contained HTML, side by side"},
#else
#define TP_CMD_REPORT
#endif
#if __has_include("ci/run.h")
#include "ci/run.h"
#define TP_CMD_RUN {"run", run_main, "run a scenario (no scenario: the built-in demo)"},
#else
#define TP_CMD_RUN
#endif

#define TP_PART_COMMANDS TP_CMD_PROBE TP_CMD_GEN TP_CMD_ORIGIN TP_CMD_PROXY TP_CMD_CAPTURE \
	TP_CMD_REPORT TP_CMD_RUN {"version", version_main, "print the version"},

static inline int version_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return puts("tunnelprobe " TP_VERSION) < 0;
}

#endif
