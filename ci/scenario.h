/* scenario — the scenario file of `tunnelprobe run` (docs/scenarios.md): what the
 * origin serves, which proxy sits in between (the reference proxy with its faults, or
 * the user's own build), whether to capture, the probe's load, and the expectations a
 * run must meet.
 *
 * The parser is sans-I/O: scenario_parse() takes the whole text and a name for
 * messages; errors come back as "NAME:LINE: what is wrong". A struct scenario owns
 * nothing outside itself (fixed-size fields, capped counts), so it needs no free.
 */
#ifndef TP_CI_SCENARIO_H
#define TP_CI_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCN_MAX_TEXT 512   /* one value (a URL, a path, a fault spec) */
#define SCN_MAX_LIST 32    /* urls, faults, expectations, extra args */
#define SCN_MAX_ARGS 16

/* Upper bounds of the durations a scenario (or `run --duration`) may ask for: longer
 * is a typo, refused at parse time rather than run for centuries. */
#define SCN_MAX_DURATION_S (7.0 * 86400) /* duration, --duration: a week */
#define SCN_MAX_TIMEOUT_S 3600.0         /* timeout, segment: an hour */
#define SCN_MAX_RATE 1e6                 /* rate, requests/s */

enum scn_cmp { SCN_LE, SCN_GE, SCN_EQ };

/* One expectation, checked against the run summary (and the capture verdicts). */
enum scn_expect_kind {
	SCN_EXPECT_CLASS,       /* class NAME OP N */
	SCN_EXPECT_OK,          /* ok OP N */
	SCN_EXPECT_REQUESTS,    /* requests OP N */
	SCN_EXPECT_ERROR_RATE,  /* error_rate OP X (0..1) */
	SCN_EXPECT_LATENCY,     /* p50_ms | p90_ms | p99_ms | p999_ms | max_ms OP X */
	SCN_EXPECT_REUSE,       /* reuse_ratio OP X */
	SCN_EXPECT_STATUS,      /* status CODE OP N */
	SCN_EXPECT_PHASE,       /* phase CLASS PHASE OP N: failures of CLASS in PHASE */
	SCN_EXPECT_VERDICT,     /* verdict PHRASE | CODE [from SOURCE,...]: some joined
				 * verdict has one of the codes the phrase stands for
				 * (docs/scenarios.md), and facts from every SOURCE named */
	SCN_EXPECT_RSS_GROWTH,  /* rss_growth_mb OP X: the local proxy's RSS, last - first */
	SCN_EXPECT_FD_GROWTH,   /* fd_growth OP N */
	SCN_EXPECT_NEW_CLASS,   /* no_new_class: none absent from --baseline appears */
	SCN_EXPECT_P99_REGRESSION, /* p99_regression_pct <= X against --baseline */
	SCN_EXPECT_MISSED,      /* missed OP N: open-loop starts not made (open_loop.missed) */
	SCN_EXPECT_VERIFIED,    /* verified OP N: bodies checked byte for byte */
	SCN_EXPECT_UNVERIFIED,  /* unverified OP N: ok bodies with nothing to check against */
	SCN_EXPECT_PHASE_LATENCY, /* phase_p99_ms PHASE OP X (also p50, p90, mean, max):
				   * phases_ms.PHASE.p99 */
	SCN_EXPECT_ACCOUNTED,   /* accounted OP 0|1: every probe id found in the ledgers */
	SCN_EXPECT_RSS_GROWTH_PCT, /* rss_growth_pct OP X: last - first sample under load */
	SCN_EXPECT_FD_GROWTH_PCT,  /* fd_growth_pct OP X */
};

/* When an expectation is checked (`expect`, `expect reference`, `expect user`). */
enum scn_group {
	SCN_GROUP_ALWAYS = 0,   /* whatever the proxy */
	SCN_GROUP_REFERENCE,    /* only when run started the reference proxy (its faults) */
	SCN_GROUP_USER,         /* only against a proxy run did not start (--proxy URL,
				 * proxy external) */
};

struct scn_expect {
	enum scn_expect_kind kind;
	enum scn_group group;
	enum scn_cmp cmp;
	double value;
	char name[64];       /* class name, latency field, status code, or phase */
	char name2[64];      /* phase for SCN_EXPECT_PHASE and SCN_EXPECT_PHASE_LATENCY */
	char text[SCN_MAX_TEXT]; /* verdict: the phrase or code as written */
	uint32_t codes;      /* verdict: one bit per enum tp_verdict_code it accepts */
	uint32_t sources;    /* verdict "... from SOURCE,...": one bit per enum tp_source a
			      * matching verdict's evidence must include; 0 any */
	unsigned line;       /* for messages */
};

struct scenario {
	char name[128];
	char description[SCN_MAX_TEXT];

	/* origin */
	bool origin;             /* start the replay origin */
	char sites[SCN_MAX_TEXT];  /* site file, resolved against the scenario's folder */
	char replay[SCN_MAX_TEXT];
	char origin_args[SCN_MAX_ARGS][SCN_MAX_TEXT];
	size_t norigin_args;

	/* proxy */
	bool proxy_reference;    /* start the reference proxy */
	char proxy_url[SCN_MAX_TEXT]; /* external proxy (or --proxy on the command line) */
	char faults[SCN_MAX_LIST][SCN_MAX_TEXT];
	size_t nfaults;
	char upstream[SCN_MAX_TEXT];
	bool upstream_reference; /* "upstream reference [FAULT...]": a second reference proxy */
	char upstream_faults[SCN_MAX_LIST][SCN_MAX_TEXT];
	size_t nupstream_faults;
	char proxy_args[SCN_MAX_ARGS][SCN_MAX_TEXT];
	size_t nproxy_args;
	char proxy_scheme[16];   /* the reference proxy's, one of SCN_REFERENCE_SCHEMES */
	bool proxy_quic;         /* that scheme is a QUIC one: the proxy's --quic-listen */
	bool proxy_windows;      /* "proxy reference [SCHEME] windows": its Windows build
				  * (build/win64/tunnelprobe.exe) under Wine */
	char simulated[SCN_MAX_TEXT]; /* "simulated NOTE": what the reference proxy's
				       * faults stand in for ("Linux reference proxy with a
				       * short-send fault, not a Windows build"); "" none */
	bool proxy_resolves_names; /* a proxy run did not start gets the site names (no
				    * --connect-to): the user's proxy must resolve them */

	bool capture;

	/* probe */
	char urls[SCN_MAX_LIST][SCN_MAX_TEXT]; /* may hold {http} and {tls}: the origin ports */
	size_t nurls;
	uint64_t requests;       /* per URL */
	double duration_s;
	unsigned concurrency, threads;
	double rate, timeout_s;
	char probe_args[SCN_MAX_ARGS][SCN_MAX_TEXT];
	size_t nprobe_args;

	/* soak */
	double segment_s;        /* checkpoint period of long runs (default 10 s) */

	struct scn_expect expects[SCN_MAX_LIST];
	size_t nexpects;
};

/* Parses text[0..len). Returns 0, or -EINVAL with "name:LINE: message" in err. */
int scenario_parse(struct scenario *scn, const char *text, size_t len, const char *name,
		   char *err, size_t errlen);
/* Reads and parses a file (at most 1 MiB). Same returns; -EIO when unreadable. */
int scenario_load(struct scenario *scn, const char *path, char *err, size_t errlen);

const char *scn_cmp_name(enum scn_cmp cmp);
bool scn_compare(double got, enum scn_cmp cmp, double want);

/* A duration ("30s", "5m", "1h") of more than 0 and at most max seconds; -1 when s is
 * anything else. */
double scn_duration(const char *s, double max);

/* The schemes `proxy reference SCHEME` takes, as the probe's -x spells them: the TCP
 * listener's, and the QUIC listener's (`quic`: CONNECT over HTTP/3, ALPN h3;
 * `socks5+quic` / `socks5h+quic`: SOCKS5 on QUIC streams, ALPN socks5). */
#define SCN_REFERENCE_SCHEMES "http, socks5, socks5h, quic, socks5+quic or socks5h+quic"

/* 1 when scheme is one of the QUIC listener's, 0 one of the TCP listener's, -1 none of
 * SCN_REFERENCE_SCHEMES. */
int scn_scheme_quic(const char *scheme);

/* Whether scn holds an expectation of this group (e.g. `expect user` lines). */
bool scn_has_group(const struct scenario *scn, enum scn_group g);

#endif
