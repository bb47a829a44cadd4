/* tunnelprobe — one binary, one subcommand per part (SPEC §5). */
#include <stdio.h>
#include <string.h>

#include "lib/version.h"
#include "probe/probe.h"
#include "proxy-under-test/proxy.h"
#include "replay/origin.h"
#ifndef _WIN32 /* the Windows build: proxy, origin, probe (docs/windows.md) */
#include "capture/capture.h"
#include "check/check.h"
#include "ci/run.h"
#include "ci/sharded.h"
#include "reports/merge.h"
#include "reports/report.h"
#endif

static int version_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return puts("tunnelprobe " TP_VERSION) < 0;
}

static const struct {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *what;
} commands[] = {
	{"probe", probe_main, "load and verify through a proxy (or direct)"},
	{"gen", gen_main, "write a deterministic payload (for static origins)"},
	{"origin", origin_main, "the replay origin (HTTP/1.1 over TCP and TLS)"},
	{"proxy", proxy_main, "the reference proxy, with fault injection"},
#ifndef _WIN32
	{"capture", capture_main, "pcap correlator: bytes per leg, FIN/RST, verdicts"},
	{"report", report_main, "run JSON -> self-contained HTML, side by side"},
	{"run", run_main, "run a scenario (no scenario: the built-in demo)"},
	{"check", check_main, "conformance battery for a proxy (docs/check.md)"},
#endif
	{"version", version_main, "print the version"},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: tunnelprobe COMMAND [options]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].what);
	fprintf(out, "\n`tunnelprobe COMMAND --help` for a command's options.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("tunnelprobe %s\n", TP_VERSION);
		return 0;
	}
	/* `report merge --scenario` checks expectations with run's checks: reports/ and
	 * ci/ stay separate parts, and main, which links both, connects them. */
#ifndef _WIN32
	merge_set_checker(sharded_check_merged);
#endif
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].main(argc - 1, argv + 1);
	fprintf(stderr, "tunnelprobe: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
