/* capture — the command: options, then analyze → join → output. */
#include "capture/capture.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capture/analyze.h"
#include "capture/join.h"
#include "capture/output.h"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: tunnelprobe capture (--iface IF | --read FILE) [options] [LEDGER...]\n"
		"       tunnelprobe capture LEDGER...        (ledgers only, no capture)\n"
		"  -i, --iface IF        capture live on IF (needs root or CAP_NET_RAW)\n"
		"  -r, --read FILE       analyse a pcap or pcapng file\n"
		"  -w, --write FILE      save the frames: pcapng, or classic pcap when FILE ends .pcap\n"
		"      --json FILE       write the JSON result (\"-\" for stdout)\n"
		"  -f, --filter EXPR     BPF filter (default live: \"tcp or udp\")\n"
		"  -p, --ports P,P,...   filter on these TCP and UDP ports (builds the BPF filter)\n"
		"  -s, --snaplen N       bytes kept per frame live (default %d; byte counts never\n"
		"                        need more, TLS/HTTP scanning wants the payload)\n"
		"  -B, --buffer MIB      live ring buffer in MiB (default %u)\n"
		"  -d, --duration SECS   stop a live capture after SECS (default: at SIGINT/SIGTERM)\n"
		"  -c, --count N         stop after N frames\n"
		"      --no-checksum     skip TCP checksum verification\n"
		"      --max-flows N     keep at most N flows; later ones are left out and counted\n"
		"                        (default %d, about 230 MB of flow state)\n"
		"      --run-id ID       join only ledger lines of run ID (others are counted)\n"
		"      --all-flows       list every flow in the summary\n"
		"      --all-requests    list every request in the JSON (default: the requests of\n"
		"                        connections that had a failure)\n"
		"  -q, --quiet           no summary on stdout\n"
		"LEDGER: probe records, origin or proxy ledgers (JSON Lines), or a run.json.\n",
		CAP_DEFAULT_SNAPLEN, CAP_DEFAULT_BUFFER >> 20, FLOW_DEFAULT_MAX);
}

static int bad(const char *fmt, const char *arg)
{
	fprintf(stderr, "tunnelprobe capture: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n");
	return 2;
}

static bool parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v > max)
		return false;
	*out = v;
	return true;
}

/* "80,443" -> "(tcp or udp) and (port 80 or port 443)": QUIC is UDP. */
static int ports_filter(const char *list, char *out, size_t outlen)
{
	size_t n = (size_t)snprintf(out, outlen, "(tcp or udp) and (");
	const char *p = list;
	bool first = true;
	while (*p) {
		char *end;
		errno = 0;
		unsigned long v = strtoul(p, &end, 10);
		if (errno || end == p || v == 0 || v > 65535 || (*end && *end != ','))
			return -EINVAL;
		n += (size_t)snprintf(out + n, n < outlen ? outlen - n : 0, "%sport %lu",
				      first ? "" : " or ", v);
		first = false;
		p = *end ? end + 1 : end;
	}
	if (first)
		return -EINVAL;
	n += (size_t)snprintf(out + n, n < outlen ? outlen - n : 0, ")");
	return n < outlen ? 0 : -ENAMETOOLONG;
}

/* The JSON document to path ("-": stdout). Returns 0 or a negative errno. */
static int write_json(const char *path, const struct cap_analysis *a, const struct ledgers *l,
		      const struct join *j, bool all_requests)
{
	bool to_stdout = strcmp(path, "-") == 0;
	FILE *fp = to_stdout ? stdout : fopen(path, "w");
	if (!fp)
		return -errno;
	int rc = capture_json_write(fp, a, l, j, all_requests);
	if (to_stdout)
		rc = fflush(fp) != 0 && rc == 0 ? -EIO : rc;
	else if (fclose(fp) != 0 && rc == 0)
		rc = -EIO;
	return rc;
}

/* What the command line asks for beside the capture itself. */
struct capture_args {
	struct cap_opts o;
	const char *json_path, *run_id;
	bool quiet, all_flows, all_requests;
	char port_filter[1024]; /* --ports made into a filter: o.filter may point here */
};

/* Parses argv into a. Returns -1 to go on, or the exit status (0 after --help, 2 after
 * a message on stderr). */
static int parse_args(struct capture_args *a, int argc, char **argv)
{
	enum { OPT_JSON = 1000, OPT_NOCSUM, OPT_MAXFLOWS, OPT_ALL, OPT_RUN_ID, OPT_ALL_REQUESTS };
	static const struct option opts[] = {
		{"iface", required_argument, NULL, 'i'},
		{"read", required_argument, NULL, 'r'},
		{"write", required_argument, NULL, 'w'},
		{"json", required_argument, NULL, OPT_JSON},
		{"filter", required_argument, NULL, 'f'},
		{"ports", required_argument, NULL, 'p'},
		{"snaplen", required_argument, NULL, 's'},
		{"buffer", required_argument, NULL, 'B'},
		{"duration", required_argument, NULL, 'd'},
		{"count", required_argument, NULL, 'c'},
		{"no-checksum", no_argument, NULL, OPT_NOCSUM},
		{"max-flows", required_argument, NULL, OPT_MAXFLOWS},
		{"all-flows", no_argument, NULL, OPT_ALL},
		{"run-id", required_argument, NULL, OPT_RUN_ID},
		{"all-requests", no_argument, NULL, OPT_ALL_REQUESTS},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	*a = (struct capture_args){0};
	struct cap_opts *o = &a->o;
	*o = (struct cap_opts){.snaplen = CAP_DEFAULT_SNAPLEN, .buffer_bytes = CAP_DEFAULT_BUFFER,
			       .check_csum = true};
	uint64_t v;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "i:r:w:f:p:s:B:d:c:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'i': o->iface = optarg; break;
		case 'r': o->read_path = optarg; break;
		case 'w': o->write_path = optarg; break;
		case OPT_JSON: a->json_path = optarg; break;
		case 'f': o->filter = optarg; break;
		case 'p':
			if (ports_filter(optarg, a->port_filter, sizeof a->port_filter) < 0)
				return bad("--ports wants a comma-separated list of ports 1-65535, got '%s'", optarg);
			o->filter = a->port_filter;
			break;
		case 's':
			if (!parse_u64(optarg, 262144, &v) || v < 68)
				return bad("--snaplen wants 68..262144, got '%s'", optarg);
			o->snaplen = (int)v;
			break;
		case 'B':
			if (!parse_u64(optarg, 1024, &v) || v < 1)
				return bad("--buffer wants 1..1024 MiB, got '%s'", optarg);
			o->buffer_bytes = v << 20;
			break;
		case 'd': {
			char *end;
			errno = 0;
			double d = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(d > 0) || d > 1e7)
				return bad("--duration wants seconds > 0, got '%s'", optarg);
			o->duration_s = d;
			break;
		}
		case 'c':
			if (!parse_u64(optarg, UINT64_MAX, &v) || v < 1)
				return bad("--count wants a positive number, got '%s'", optarg);
			o->max_frames = v;
			break;
		case OPT_NOCSUM: o->check_csum = false; break;
		case OPT_MAXFLOWS:
			if (!parse_u64(optarg, 100000000, &v) || v < 1)
				return bad("--max-flows wants 1..100000000, got '%s'", optarg);
			o->max_flows = (size_t)v;
			break;
		case OPT_ALL: a->all_flows = true; break;
		case OPT_ALL_REQUESTS: a->all_requests = true; break;
		case OPT_RUN_ID:
			if (!ledgers_run_id_valid(optarg))
				return bad("--run-id wants 1-64 characters of A-Z a-z 0-9 . _ -, got '%s'", optarg);
			a->run_id = optarg;
			break;
		case 'q': a->quiet = true; break;
		case 'h': usage(stdout); return 0;
		default:
			fprintf(stderr, "tunnelprobe capture: see 'tunnelprobe capture --help'\n");
			return 2;
		}
	}
	if (o->iface && o->read_path)
		return bad("%s", "--iface and --read exclude each other");
	if (!o->iface && !o->read_path && optind >= argc)
		return bad("%s", "nothing to analyse: give --iface IF, --read FILE, or ledgers");
	if (o->write_path && !o->iface && !o->read_path)
		return bad("%s", "--write needs --iface or --read");
	return -1;
}

int capture_main(int argc, char **argv)
{
	struct capture_args args;
	int parsed = parse_args(&args, argc, argv);
	if (parsed >= 0)
		return parsed;
	const struct cap_opts *opts = &args.o;
	bool quiet = args.quiet;

	int status = 2;
	struct ledgers l;
	struct cap_analysis a;
	struct join j = {0};
	bool have_a = false;
	ledgers_init(&l);
	if (args.run_id)
		snprintf(l.run_id, sizeof l.run_id, "%s", args.run_id);
	if (opts->iface || opts->read_path) {
		if (cap_analysis_init(&a, opts) < 0) {
			fprintf(stderr, "tunnelprobe capture: out of memory\n");
			goto out;
		}
		have_a = true;
		char err[512] = "";
		if (cap_analysis_run(&a, err, sizeof err) < 0) {
			fprintf(stderr, "tunnelprobe capture: %s\n", err);
			goto out;
		}
		if (a.read_error[0] && quiet)
			fprintf(stderr, "tunnelprobe capture: warning: %s\n", a.read_error);
	}
	/* Ledgers are read after a live capture: the run writes them while we capture. */
	for (int i = optind; i < argc; i++) {
		int rc = ledgers_load(&l, argv[i]);
		if (rc < 0) {
			fprintf(stderr, "tunnelprobe capture: cannot read ledger %s: %s\n", argv[i],
				strerror(-rc));
			goto out;
		}
	}
	if (join_build(&j, &l, have_a ? &a.flows : NULL) < 0 || (have_a && join_quic(&j, &a.quic) < 0)) {
		fprintf(stderr, "tunnelprobe capture: out of memory\n");
		goto out;
	}
	if (!quiet)
		capture_summary(stdout, have_a ? &a : NULL, &l, &j, args.all_flows);
	if (args.json_path && write_json(args.json_path, have_a ? &a : NULL, &l, &j, args.all_requests) < 0) {
		fprintf(stderr, "tunnelprobe capture: cannot write %s\n", args.json_path);
		goto out;
	}
	status = capture_all_ok(have_a ? &a : NULL, &j) ? 0 : 1;
out:
	join_free(&j);
	if (have_a)
		cap_analysis_free(&a);
	ledgers_free(&l);
	return status;
}
