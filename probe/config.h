/* config — the probe's command line, parsed into a read-only configuration that
 * every worker thread shares. */
#ifndef TP_PROBE_CONFIG_H
#define TP_PROBE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/net.h"
#include "lib/shard.h"
#include "lib/quic.h"
#include "lib/tls.h"
#include "lib/url.h"

#define PROBE_MAX_TARGETS 4096
#define PROBE_MAX_RESOLVE 32
#define PROBE_MAX_CONNECT_TO 32
#define PROBE_RUN_ID_MAX 64
#define PROBE_MAX_STREAMS 1000   /* --streams: HTTP/3 requests, or tunnels through a QUIC
				  * proxy, at once per QUIC connection */

/* What a body is known to be without X-Tp-Seed: from a --urls-file line
 * (sha256=HEX length=N), or learnt from --compare-direct's direct fetches. */
struct probe_known {
	bool has_sha256;
	uint8_t sha256[32];
	int64_t length;            /* decoded body bytes; -1 unknown */
	bool from_direct;          /* learnt from the direct fetch, not given */
};

/* One URL and how it is reached. */
struct probe_target {
	const char *spec;          /* the URL as given (argv or --urls-file line) */
	struct url url;
	bool has_proxy;
	struct url proxy;
	const char *proxy_spec;
	bool tunnel;               /* CONNECT through an http:// or quic:// proxy */
	bool proxy_quic;           /* the proxy is reached over QUIC: quic:// (proxy.scheme
				    * URL_HTTP: CONNECT over HTTP/3), socks5+quic:// and
				    * socks5h+quic:// (SOCKS5 on a QUIC stream) */
	/* Where the connection goes, or what the proxy is asked for: the URL's host and
	 * port, or those of the first --connect-to rule that matched. The Host header,
	 * TLS SNI and certificate verification always keep url.host. */
	char dial_host[URL_MAX_HOST];
	uint16_t dial_port;
	bool dial_is_ipv6, dial_is_literal;
	bool connect_to;           /* a --connect-to rule matched */
	struct probe_known known;
	char host_header[URL_MAX_HOST + 8];
	char *request_target;      /* request-line target: origin-form or absolute-form */
	/* "Basic ..." for an http proxy, or "": room for the base64 of the longest
	 * "user:pass" (two URL_MAX_USERINFO fields and the colon). */
	char proxy_auth[6 + (URL_MAX_USERINFO * 2 + 1 + 2) / 3 * 4 + 1];
	uint64_t upload_seed;      /* payload seed of request bodies (--upload) */
	bool quic;                 /* sent over QUIC + HTTP/3 (--http3, an https URL, no proxy) */
	const char *h3_not_tried;  /* --http3 but over TCP, and why (a proxy), or NULL */
	char *head;                /* the request head up to X-Probe-Id, built once */
	size_t head_len;
};

/* --resolve HOST:PORT:ADDR, as curl. */
struct probe_resolve {
	char host[URL_MAX_HOST];
	uint16_t port;
	struct net_addr addr;
};

struct probe_config {
	struct probe_target *targets;
	size_t ntargets;
	uint64_t requests_per_url;  /* -n (0 with -d) */
	double duration_s;          /* -d (0 with -n) */
	unsigned connections;       /* -c */
	unsigned threads;           /* -t */
	double rate;                /* -R requests/s in all (0: closed loop) */
	double timeout_s;           /* --timeout: each phase after connect */
	double connect_timeout_s;   /* --connect-timeout: dns + connect */
	bool keepalive;             /* --no-keepalive clears it */
	bool verify;                /* --no-verify clears it */
	bool compressed;            /* --compressed: send Accept-Encoding: gzip */
	bool compare_direct;        /* --compare-direct */
	bool learn_bodies;          /* hash ok bodies without a seed (--compare-direct's
				     * direct run: what the proxied run compares with) */
	bool half_close;            /* --half-close: FIN after the request (plain HTTP only) */
	bool http3;                 /* --http3 or --http3-only: https targets over QUIC */
	bool http3_only;            /* --http3-only: no fallback to TCP */
	unsigned streams;           /* --streams: requests at once per QUIC connection */
	bool quic_proxy;            /* a target goes through a QUIC proxy (proxy_quic) */
	bool quiet;                 /* -q */
	bool exit_zero;             /* --exit-zero: exit 0 also when requests failed */
	const char *method;         /* -X, default GET (POST with --upload) */
	uint64_t upload_bytes;      /* --upload N */
	bool expect_status[1000];   /* --expect-status; default 2xx and 3xx */
	int family;                 /* AF_UNSPEC, or AF_INET/AF_INET6 with -4/-6 */
	const char *cacert;
	bool insecure;
	const char *keylog;
	const char *json_path;
	const char *records_path;
	const char *label;
	char id_prefix[24];         /* prefix of every X-Probe-Id in this run */
	struct probe_resolve resolve[PROBE_MAX_RESOLVE];
	size_t nresolve;
	struct url_connect_to connect_to[PROBE_MAX_CONNECT_TO];
	size_t nconnect_to;
	char run_id[PROBE_RUN_ID_MAX + 1]; /* --run-id, "" when not given */
	/* --shard I/N (or TP_SHARD): this process sends shard I's part of the load
	 * (lib/shard.h); requests_per_url, connections and rate above are then that part,
	 * and whole_* the load all N shards split, as given. */
	struct shard shard;
	uint64_t whole_requests_per_url;
	unsigned whole_connections;
	double whole_rate;
	const char *dns_servers;    /* --dns-servers, for tests */
	int argc;
	char **argv;
	struct tls_client_ctx tls;
	bool tls_ready;
	struct quic_client_ctx quic;  /* TLS for QUIC (GnuTLS), when a target is sent over it */
	bool quic_ready;
	char *urls_storage;         /* --urls-file lines, owned */
	bool is_copy;               /* made by probe_config_direct(): shares tls and storage */
};

/* Parses argv (argv[0] is "probe"). Returns 0, 1 when help was printed, or -EINVAL
 * after printing one line on stderr. The config owns what it allocates; free it with
 * probe_config_free(). env is getenv or a test double (proxy variables, TP_SHARD). */
int probe_config_parse(struct probe_config *cfg, int argc, char **argv,
		       const char *(*env)(const char *));
void probe_config_free(struct probe_config *cfg);
/* The same targets reached directly (for --compare-direct): a copy without proxies.
 * Returns 0 or -ENOMEM. */
int probe_config_direct(const struct probe_config *cfg, struct probe_config *direct);
void probe_usage(FILE *out);

/* "HOST:PORT" of t's dial host and port (IPv6 in brackets, the port always written):
 * what a CONNECT asks for. Returns the length, or -ENOSPC. */
int probe_target_dial_authority(const struct probe_target *t, char *out, size_t cap);

/* Splits one --urls-file line (trimmed, not a comment) in place: the URL is the first
 * word, NUL-terminated in line; the words after it may be "sha256=<64 hex>" and
 * "length=<decimal>", each at most once, into *known (zeroed, length -1 first).
 * Returns 0, or -EINVAL with *why a short static reason. */
int probe_parse_urls_line(char *line, struct probe_known *known, const char **why);

/* Whether id is a --run-id: 1..PROBE_RUN_ID_MAX characters of [A-Za-z0-9._-]. */
bool probe_run_id_valid(const char *id);

#endif
