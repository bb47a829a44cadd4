/* config — see config.h. */
#include "probe/config.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#ifdef _WIN32
#include <winsock2.h> /* before bcrypt.h: it wants windows.h's types */
#include <bcrypt.h>
#else
#include <sys/random.h>
#include <sys/socket.h>
#endif

#include "lib/base64.h"
#include "lib/hex.h"
#include "lib/payload.h"
#include "lib/units.h"

void probe_usage(FILE *out)
{
	fputs("usage: tunnelprobe probe [options] URL...\n"
	      "\n"
	      "Target and proxy:\n"
	      "  -x, --proxy URL         http://H:P (CONNECT for https URLs), socks5://H:P,\n"
	      "                          socks5h://H:P; default from http_proxy, https_proxy,\n"
	      "                          all_proxy (as curl); over QUIC: quic://H:P (CONNECT\n"
	      "                          over HTTP/3), socks5+quic://H:P, socks5h+quic://H:P\n"
	      "                          (SOCKS5 on QUIC streams, ALPN socks5)\n"
	      "      --noproxy LIST      hosts reached directly ('*': ignore proxy variables)\n"
	      "  -p, --proxytunnel       CONNECT through an http:// proxy for http URLs too\n"
	      "      --urls-file FILE    more targets, one per line, # comments; a line may add\n"
	      "                          sha256=HEX length=N: what the body must be\n"
	      "      --resolve H:P:ADDR  use ADDR for host H port P (as curl)\n"
	      "      --connect-to H:P:ADDR:PORT  connect to ADDR:PORT for host H port P (as\n"
	      "                          curl; through a proxy, ask it for ADDR:PORT); Host,\n"
	      "                          SNI and certificate checks keep H\n"
	      "  -4, -6                  IPv4 / IPv6 only\n"
	      "      --http3             https URLs over QUIC + HTTP/3; a target that fails QUIC\n"
	      "                          goes on over TCP + TLS (the record says why)\n"
	      "      --http3-only        the same without falling back\n"
	      "Load:\n"
	      "  -n N                    requests per URL (default 1)\n"
	      "  -d SECS                 run for a duration instead (5, 30s, 2m, 1h)\n"
	      "  -c CONC                 connections (default 1)\n"
	      "      --streams N         HTTP/3 requests, or tunnels through a QUIC proxy, at\n"
	      "                          once on each QUIC connection (default 1)\n"
	      "  -R RATE                 open loop: RATE requests/s in all; latency counts from\n"
	      "                          each request's intended start (no coordinated omission)\n"
	      "  -t, --threads N         threads, one event loop each (default 1)\n"
	      "      --no-keepalive      a new connection for every request\n"
	      "  -X, --request METHOD    request method (default GET, POST with --upload)\n"
	      "      --upload SIZE       send a SIZE-byte verifiable body with each request\n"
	      "      --compressed        ask for gzip (Accept-Encoding) and verify decoded bytes\n"
	      "      --half-close        shut down our write side after the request (plain\n"
	      "                          http: tests that the proxy keeps relaying the response)\n"
	      "Checks:\n"
	      "      --timeout SECS      limit for each phase after connect (default 30)\n"
	      "      --connect-timeout S limit for dns + connect (default 10)\n"
	      "      --expect-status L   statuses that count as ok: 200,204,3xx (default 2xx,3xx)\n"
	      "      --no-verify         do not check bodies against X-Tp-Seed\n"
	      "      --cacert FILE       trust this CA (PEM)    -k, --insecure  no verification\n"
	      "      --compare-direct    run the same targets again without the proxy\n"
	      "Output:\n"
	      "      --json FILE         run summary (docs/ledgers.md, docs/run-json.md)\n"
	      "      --records FILE      one JSON line per request\n"
	      "      --keylog FILE       TLS keys in NSS key log format (Wireshark)\n"
	      "      --label TEXT        a name for this run in reports\n"
	      "      --run-id ID         put \"run\": ID in every record (ledgers are joined by it)\n"
	      "  -q, --quiet             no summary on stdout\n"
	      "Distributed:\n"
	      "      --shard I/N         send shard I's part of the load (of N, from 0): the\n"
	      "                          requests k of each URL with k mod N == I, -c / N\n"
	      "                          connections, -R / N; default from TP_SHARD\n"
	      "      --exit-zero         exit 0 also when requests failed (a job's shards leave\n"
	      "                          judging to report merge)\n"
	      "Exit status: 0 all requests ok, 1 some failed (0 with --exit-zero), 2 bad usage or\n"
	      "configuration.\n",
	      out);
}

static bool parse_uint(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;
	errno = 0;
	if (*s == '-' || *s == '\0')
		return false;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

/* "200,204,3xx" → the expect_status table. */
static bool parse_statuses(const char *s, bool table[1000])
{
	memset(table, 0, 1000 * sizeof table[0]);
	const char *p = s;
	while (*p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (len == 3 && p[0] >= '1' && p[0] <= '9' && (p[1] == 'x' || p[1] == 'X') &&
		    (p[2] == 'x' || p[2] == 'X')) {
			int base = (p[0] - '0') * 100;
			for (int i = 0; i < 100; i++)
				table[base + i] = true;
		} else if (len == 3 && p[0] >= '1' && p[0] <= '9' && p[1] >= '0' && p[1] <= '9' &&
			   p[2] >= '0' && p[2] <= '9') {
			table[(p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0')] = true;
		} else {
			return false;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	return true;
}

static int fail(const char *fmt, const char *arg)
{
	fputs("tunnelprobe probe: ", stderr);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return -EINVAL;
}

static int add_target(struct probe_config *cfg, const char *spec, size_t *cap)
{
	const char *why = NULL;
	if (cfg->ntargets == PROBE_MAX_TARGETS)
		return fail("too many targets (at most %s)", "4096");
	if (cfg->ntargets == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		struct probe_target *t = realloc(cfg->targets, ncap * sizeof *t);
		if (!t)
			return fail("out of memory%s", "");
		cfg->targets = t;
		*cap = ncap;
	}
	struct probe_target *t = &cfg->targets[cfg->ntargets];
	memset(t, 0, sizeof *t);
	t->spec = spec;
	t->known.length = -1;
	if (url_parse(spec, &t->url, &why) < 0) {
		fprintf(stderr, "tunnelprobe probe: bad URL '%s': %s\n", spec, why);
		return -EINVAL;
	}
	cfg->ntargets++;
	return 0;
}

static int read_urls_file(struct probe_config *cfg, const char *path, size_t *cap, char **storage)
{
	FILE *fp = fopen(path, "r");
	if (!fp)
		return fail("cannot read --urls-file '%s'", path);
	/* The file's lines live as long as the config: one buffer, kept in *storage. */
	size_t size = 0, len = 0;
	char *buf = NULL;
	char line[URL_MAX_PATH + 512];
	int rc = 0;
	unsigned lineno = 0;
	while (fgets(line, sizeof line, fp)) {
		lineno++;
		size_t n = strlen(line);
		if (n == sizeof line - 1 && line[n - 1] != '\n') {
			fprintf(stderr, "tunnelprobe probe: %s:%u: line too long\n", path, lineno);
			rc = -EINVAL;
			break;
		}
		while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ' ||
			     line[n - 1] == '\t'))
			line[--n] = '\0';
		char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '#')
			continue;
		size_t need = strlen(p) + 1;
		if (len + need > size) {
			size_t nsize = (len + need) * 2 + 4096;
			char *nbuf = realloc(buf, nsize);
			if (!nbuf) {
				rc = fail("out of memory%s", "");
				break;
			}
			buf = nbuf;
			size = nsize;
		}
		memcpy(buf + len, p, need);
		len += need;
	}
	fclose(fp);
	*storage = buf;
	if (rc < 0)
		return rc;
	for (size_t off = 0, next; off < len; off = next) {
		next = off + strlen(buf + off) + 1; /* before the line is split in place */
		const char *why = NULL;
		struct url tmp;
		struct probe_known known;
		if (probe_parse_urls_line(buf + off, &known, &why) < 0) {
			fprintf(stderr, "tunnelprobe probe: %s: bad line '%s': %s\n", path, buf + off, why);
			return -EINVAL;
		}
		if (url_parse(buf + off, &tmp, &why) < 0) {
			fprintf(stderr, "tunnelprobe probe: %s: bad URL '%s': %s\n", path, buf + off, why);
			return -EINVAL;
		}
		if ((rc = add_target(cfg, buf + off, cap)) < 0)
			return rc;
		cfg->targets[cfg->ntargets - 1].known = known;
	}
	return 0;
}

int probe_parse_urls_line(char *line, struct probe_known *known, const char **why)
{
	memset(known, 0, sizeof *known);
	known->length = -1;
	char *p = line + strcspn(line, " \t");
	bool have_length = false;
	while (*p) {
		*p++ = '\0';
		p += strspn(p, " \t");
		if (*p == '\0')
			break;
		size_t n = strcspn(p, " \t");
		if (n == 7 + 64 && strncmp(p, "sha256=", 7) == 0 && !known->has_sha256) {
			for (size_t i = 0; i < 32; i++) {
				int hi = hex_digit(p[7 + 2 * i]), lo = hex_digit(p[8 + 2 * i]);
				if (hi < 0 || lo < 0) {
					*why = "sha256= wants 64 hex digits";
					return -EINVAL;
				}
				known->sha256[i] = (uint8_t)(hi << 4 | lo);
			}
			known->has_sha256 = true;
		} else if (n > 7 && strncmp(p, "length=", 7) == 0 && !have_length) {
			char num[24];
			unsigned long long v;
			if (n - 7 >= sizeof num) {
				*why = "length= wants a byte count";
				return -EINVAL;
			}
			memcpy(num, p + 7, n - 7);
			num[n - 7] = '\0';
			if (!parse_uint(num, INT64_MAX, &v)) {
				*why = "length= wants a byte count";
				return -EINVAL;
			}
			known->length = (int64_t)v;
			have_length = true;
		} else {
			*why = "after the URL only sha256=HEX and length=N, once each";
			return -EINVAL;
		}
		p += n;
	}
	return 0;
}

bool probe_run_id_valid(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n > PROBE_RUN_ID_MAX)
		return false;
	for (const char *c = id; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		      *c == '.' || *c == '_' || *c == '-'))
			return false;
	return true;
}

static int parse_connect_to(struct probe_config *cfg, const char *s)
{
	const char *why = NULL;
	if (cfg->nconnect_to == PROBE_MAX_CONNECT_TO)
		return fail("too many --connect-to entries (at most %s)", "32");
	if (url_parse_connect_to(s, &cfg->connect_to[cfg->nconnect_to], &why) < 0) {
		fprintf(stderr, "tunnelprobe probe: bad --connect-to '%s': %s (want HOST:PORT:ADDR:PORT)\n", s,
			why);
		return -EINVAL;
	}
	cfg->nconnect_to++;
	return 0;
}

/* t's dial host and port: the URL's, or the first matching --connect-to rule's. */
static void apply_connect_to(const struct probe_config *cfg, struct probe_target *t)
{
	memcpy(t->dial_host, t->url.host, sizeof t->dial_host);
	t->dial_port = t->url.port;
	t->dial_is_ipv6 = t->url.host_is_ipv6;
	t->dial_is_literal = t->url.host_is_literal;
	for (size_t i = 0; i < cfg->nconnect_to; i++) {
		const struct url_connect_to *r = &cfg->connect_to[i];
		if (!url_connect_to_matches(r, &t->url))
			continue;
		t->connect_to = true;
		if (r->to_host[0]) {
			memcpy(t->dial_host, r->to_host, sizeof t->dial_host);
			t->dial_is_ipv6 = r->to_is_ipv6;
			t->dial_is_literal = r->to_is_literal;
		}
		if (r->to_port)
			t->dial_port = r->to_port;
		return;
	}
}

int probe_target_dial_authority(const struct probe_target *t, char *out, size_t cap)
{
	int n = snprintf(out, cap, "%s%s%s:%u", t->dial_is_ipv6 ? "[" : "", t->dial_host,
			 t->dial_is_ipv6 ? "]" : "", (unsigned)t->dial_port);
	return n < 0 || (size_t)n >= cap ? -ENOSPC : n;
}

static int parse_resolve(struct probe_config *cfg, const char *s)
{
	if (cfg->nresolve == PROBE_MAX_RESOLVE)
		return fail("too many --resolve entries%s", "");
	struct probe_resolve *r = &cfg->resolve[cfg->nresolve];
	const char *c1 = strchr(s, ':');
	const char *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	if (!c1 || !c2 || c1 == s || (size_t)(c1 - s) >= sizeof r->host)
		return fail("bad --resolve '%s' (want HOST:PORT:ADDR)", s);
	memcpy(r->host, s, (size_t)(c1 - s));
	r->host[c1 - s] = '\0';
	char port[8];
	if ((size_t)(c2 - c1 - 1) >= sizeof port)
		return fail("bad --resolve port in '%s'", s);
	memcpy(port, c1 + 1, (size_t)(c2 - c1 - 1));
	port[c2 - c1 - 1] = '\0';
	unsigned long long p;
	if (!parse_uint(port, 65535, &p) || p == 0)
		return fail("bad --resolve port in '%s'", s);
	r->port = (uint16_t)p;
	char addr[64];
	const char *a = c2 + 1;
	size_t alen = strlen(a);
	if (alen >= 2 && a[0] == '[' && a[alen - 1] == ']') {
		a++;
		alen -= 2;
	}
	if (alen >= sizeof addr)
		return fail("bad --resolve address in '%s'", s);
	memcpy(addr, a, alen);
	addr[alen] = '\0';
	if (net_addr_from_ip(addr, r->port, &r->addr) < 0)
		return fail("bad --resolve address in '%s' (want an IP literal)", s);
	cfg->nresolve++;
	return 0;
}

/* A fresh random prefix for the run's X-Probe-Ids: 6 hex digits, and ".sI" for shard
 * I. The shard stays inside the first dash-separated field: the reference proxy keys
 * its faults by the id without that field, so a shard's requests meet the faults they
 * would meet unsharded. */
static void new_id_prefix(struct probe_config *cfg)
{
	uint32_t rnd = 0;
#ifdef _WIN32
	if (BCryptGenRandom(NULL, (UCHAR *)&rnd, sizeof rnd, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0)
#else
	if (getrandom(&rnd, sizeof rnd, GRND_NONBLOCK) != sizeof rnd)
#endif
		rnd = (uint32_t)time(NULL) ^ (uint32_t)getpid();
	if (shard_active(&cfg->shard))
		snprintf(cfg->id_prefix, sizeof cfg->id_prefix, "%06x.s%u", rnd & 0xffffff, cfg->shard.index);
	else
		snprintf(cfg->id_prefix, sizeof cfg->id_prefix, "%06x", rnd & 0xffffff);
}

/* --shard (or else TP_SHARD) read, and the load cut to this shard's part. 0 or
 * -EINVAL after a message. */
static int apply_shard(struct probe_config *cfg, const char *flag, const char *(*env)(const char *))
{
	const char *spec = flag ? flag : env ? env("TP_SHARD") : NULL;
	const char *why = NULL;
	cfg->whole_requests_per_url = cfg->requests_per_url;
	cfg->whole_connections = cfg->connections;
	cfg->whole_rate = cfg->rate;
	if (!spec || (!flag && !*spec))
		return 0;
	if (shard_parse(spec, &cfg->shard, &why) < 0) {
		fprintf(stderr, "tunnelprobe probe: bad %s '%s': %s\n", flag ? "--shard" : "TP_SHARD", spec, why);
		return -EINVAL;
	}
	cfg->requests_per_url = shard_part(&cfg->shard, cfg->requests_per_url);
	cfg->connections = shard_connections(&cfg->shard, cfg->connections);
	cfg->rate = shard_rate(&cfg->shard, cfg->rate);
	if (cfg->threads > cfg->connections)
		cfg->threads = cfg->connections;
	if (cfg->duration_s == 0 && cfg->requests_per_url == 0)
		fprintf(stderr, "tunnelprobe probe: shard %u/%u has no request: -n %llu per URL goes to shards "
				"0..%llu\n", cfg->shard.index, cfg->shard.count,
			(unsigned long long)cfg->whole_requests_per_url,
			(unsigned long long)cfg->whole_requests_per_url - 1);
	return 0;
}

/* The request head of a target without its last line (X-Probe-Id, added per request),
 * built once so a request costs a memcpy instead of a printf. */
static int build_head(const struct probe_config *cfg, struct probe_target *t)
{
	bool via_tunnel = t->has_proxy && (t->tunnel || t->proxy.scheme != URL_HTTP);
	bool forward_auth = t->has_proxy && !via_tunnel && t->proxy_auth[0];
	char upload[128] = "";
	if (cfg->upload_bytes)
		snprintf(upload, sizeof upload,
			 "Content-Length: %llu\r\nContent-Type: application/octet-stream\r\n"
			 "X-Tp-Seed: %016llx\r\n",
			 (unsigned long long)cfg->upload_bytes, (unsigned long long)t->upload_seed);
	size_t cap = strlen(t->request_target) + sizeof t->host_header + sizeof t->proxy_auth + 512;
	t->head = malloc(cap);
	if (!t->head)
		return fail("out of memory%s", "");
	int n = snprintf(t->head, cap,
			 "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: tunnelprobe/0.1\r\nAccept: */*\r\n"
			 "%s%s%s%s%s%s",
			 cfg->method, t->request_target, t->host_header,
			 forward_auth ? "Proxy-Authorization: " : "", forward_auth ? t->proxy_auth : "",
			 forward_auth ? "\r\n" : "", cfg->compressed ? "Accept-Encoding: gzip\r\n" : "",
			 upload, cfg->keepalive ? "" : "Connection: close\r\n");
	if (n < 0 || (size_t)n >= cap)
		return fail("request head too long for '%s'", t->spec);
	t->head_len = (size_t)n;
	return 0;
}

/* The proxy URLs over QUIC, and what each is parsed as: quic:// an HTTP/3 CONNECT proxy
 * (Chromium's name for QUIC proxies; port 443 by default), socks5+quic:// and
 * socks5h+quic:// SOCKS5 on QUIC streams (ALPN "socks5"; port 1080 by default). */
static const struct {
	const char *prefix, *as;
	uint16_t port;
} quic_proxies[] = {
	{"quic://", "http://", 443},
	{"socks5+quic://", "socks5://", 1080},
	{"socks5h+quic://", "socks5h://", 1080},
};

/* url_parse_proxy, and the QUIC proxy schemes above (t->proxy_quic). */
static int parse_proxy(const char *spec, struct probe_target *t, const char **why)
{
	for (size_t i = 0; i < sizeof quic_proxies / sizeof quic_proxies[0]; i++) {
		size_t n = strlen(quic_proxies[i].prefix);
		if (strncasecmp(spec, quic_proxies[i].prefix, n) != 0)
			continue;
#ifdef _WIN32
		*why = "QUIC proxies are not in the Windows build (Debian has no GnuTLS, ngtcp2 or "
		       "nghttp3 for mingw-w64)";
		return -EINVAL;
#endif
		char as[URL_MAX_HOST + URL_MAX_USERINFO * 2 + 64];
		int len = snprintf(as, sizeof as, "%s%s", quic_proxies[i].as, spec + n);
		if (len < 0 || (size_t)len >= sizeof as) {
			*why = "proxy URL too long";
			return -EINVAL;
		}
		if (url_parse_proxy(as, &t->proxy, why) < 0)
			return -EINVAL;
		if (!t->proxy.port_explicit)
			t->proxy.port = quic_proxies[i].port;
		t->proxy_quic = true;
		return 0;
	}
	return url_parse_proxy(spec, &t->proxy, why);
}

/* Fills the derived fields of each target: proxy, tunnel, request line, auth. */
static int finish_target(struct probe_config *cfg, struct probe_target *t, const char *proxy_opt,
			 const char *noproxy, bool proxytunnel, const char *(*env)(const char *))
{
	const char *proxy = proxy_opt;
	if (!proxy && !(noproxy && strcmp(noproxy, "*") == 0))
		proxy = url_proxy_from_env(&t->url, env);
	if (proxy && *proxy) {
		const char *why = NULL;
		if (parse_proxy(proxy, t, &why) < 0) {
			fprintf(stderr, "tunnelprobe probe: bad proxy URL '%s': %s\n", proxy, why);
			return -EINVAL;
		}
		t->has_proxy = true;
		t->proxy_spec = proxy;
		/* A QUIC proxy is always a tunnel: CONNECT over HTTP/3, or SOCKS5 on a stream. */
		t->tunnel = t->proxy.scheme == URL_HTTP &&
			    (t->url.scheme == URL_HTTPS || proxytunnel || t->proxy_quic);
	}
	if (url_authority(&t->url, true, t->host_header, sizeof t->host_header) < 0)
		return fail("host too long in '%s'", t->spec);
	apply_connect_to(cfg, t);
	bool absolute = t->has_proxy && t->proxy.scheme == URL_HTTP && !t->tunnel;
	size_t cap = URL_MAX_PATH + URL_MAX_HOST + 32;
	t->request_target = malloc(cap);
	if (!t->request_target)
		return fail("out of memory%s", "");
	if (absolute && t->connect_to) {
		/* The proxy is asked for the dial address; Host: still names the site. */
		char auth[URL_MAX_HOST + 16];
		probe_target_dial_authority(t, auth, sizeof auth);
		int n = snprintf(t->request_target, cap, "http://%s%s", auth, t->url.path);
		if (n < 0 || (size_t)n >= cap)
			return fail("URL too long: '%s'", t->spec);
	} else if (absolute) {
		if (url_absolute(&t->url, t->request_target, cap) < 0)
			return fail("URL too long: '%s'", t->spec);
	} else {
		snprintf(t->request_target, cap, "%s", t->url.path);
	}
	if (t->has_proxy && t->proxy.scheme == URL_HTTP && t->proxy.has_userinfo) {
		char plain[URL_MAX_USERINFO * 2 + 2];
		int n = snprintf(plain, sizeof plain, "%s:%s", t->proxy.user, t->proxy.pass);
		memcpy(t->proxy_auth, "Basic ", 6);
		/* Sized for the longest user and password (config.h): it always fits. */
		base64_encode(plain, n > 0 ? (size_t)n : 0, t->proxy_auth + 6, sizeof t->proxy_auth - 6);
	}
	t->upload_seed = payload_seed(t->url.path, strlen(t->url.path));
	return build_head(cfg, t);
}

enum {
	OPT_NOPROXY = 256, OPT_URLS_FILE, OPT_RESOLVE, OPT_NO_KEEPALIVE, OPT_UPLOAD, OPT_COMPRESSED,
	OPT_TIMEOUT, OPT_CONNECT_TIMEOUT, OPT_EXPECT_STATUS, OPT_NO_VERIFY, OPT_CACERT,
	OPT_COMPARE_DIRECT, OPT_HALF_CLOSE, OPT_JSON, OPT_RECORDS, OPT_KEYLOG, OPT_LABEL, OPT_DNS_SERVERS,
	OPT_CONNECT_TO, OPT_RUN_ID, OPT_SHARD, OPT_EXIT_ZERO, OPT_HTTP3, OPT_HTTP3_ONLY, OPT_STREAMS,
};

static const struct option long_opts[] = {
	{"proxy", required_argument, NULL, 'x'},
	{"noproxy", required_argument, NULL, OPT_NOPROXY},
	{"proxytunnel", no_argument, NULL, 'p'},
	{"urls-file", required_argument, NULL, OPT_URLS_FILE},
	{"resolve", required_argument, NULL, OPT_RESOLVE},
	{"connect-to", required_argument, NULL, OPT_CONNECT_TO},
	{"run-id", required_argument, NULL, OPT_RUN_ID},
	{"shard", required_argument, NULL, OPT_SHARD},
	{"exit-zero", no_argument, NULL, OPT_EXIT_ZERO},
	{"http3", no_argument, NULL, OPT_HTTP3},
	{"http3-only", no_argument, NULL, OPT_HTTP3_ONLY},
	{"streams", required_argument, NULL, OPT_STREAMS},
	{"threads", required_argument, NULL, 't'},
	{"connections", required_argument, NULL, 'c'},
	{"rate", required_argument, NULL, 'R'},
	{"duration", required_argument, NULL, 'd'},
	{"requests", required_argument, NULL, 'n'},
	{"no-keepalive", no_argument, NULL, OPT_NO_KEEPALIVE},
	{"request", required_argument, NULL, 'X'},
	{"upload", required_argument, NULL, OPT_UPLOAD},
	{"compressed", no_argument, NULL, OPT_COMPRESSED},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
	{"expect-status", required_argument, NULL, OPT_EXPECT_STATUS},
	{"no-verify", no_argument, NULL, OPT_NO_VERIFY},
	{"cacert", required_argument, NULL, OPT_CACERT},
	{"insecure", no_argument, NULL, 'k'},
	{"compare-direct", no_argument, NULL, OPT_COMPARE_DIRECT},
	{"half-close", no_argument, NULL, OPT_HALF_CLOSE},
	{"json", required_argument, NULL, OPT_JSON},
	{"records", required_argument, NULL, OPT_RECORDS},
	{"keylog", required_argument, NULL, OPT_KEYLOG},
	{"label", required_argument, NULL, OPT_LABEL},
	{"dns-servers", required_argument, NULL, OPT_DNS_SERVERS},
	{"quiet", no_argument, NULL, 'q'},
	{"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

/* The options that say where requests go, gathered while parsing. */
struct where_opts {
	const char *proxy, *noproxy;
	bool proxytunnel;
	size_t cap; /* of cfg->targets */
};

/* Handles the options about targets and their paths (proxy, --urls-file, --resolve,
 * --connect-to, --run-id). 1 when opt was one of them, 0 when not, -EINVAL after a
 * message. */
static int where_option(struct probe_config *cfg, int opt, const char *arg, struct where_opts *w)
{
	switch (opt) {
	case 'x': w->proxy = arg; return 1;
	case OPT_NOPROXY: w->noproxy = arg; return 1;
	case 'p': w->proxytunnel = true; return 1;
	case OPT_URLS_FILE:
		return read_urls_file(cfg, arg, &w->cap, &cfg->urls_storage) < 0 ? -EINVAL : 1;
	case OPT_RESOLVE:
		return parse_resolve(cfg, arg) < 0 ? -EINVAL : 1;
	case OPT_CONNECT_TO:
		return parse_connect_to(cfg, arg) < 0 ? -EINVAL : 1;
	case OPT_RUN_ID:
		if (!probe_run_id_valid(arg))
			return fail("--run-id wants 1-64 characters of A-Z a-z 0-9 . _ -, not '%s'", arg);
		snprintf(cfg->run_id, sizeof cfg->run_id, "%s", arg);
		return 1;
	default:
		return 0;
	}
}

/* The TLS context (and the system CA store, a few ms to load) only when a target is
 * https, or a TLS option must be checked now (an unreadable --cacert is exit 2 even
 * for an http run). 0 or -EINVAL after a message. */
static int prepare_tls(struct probe_config *cfg)
{
	bool need_tls = cfg->cacert || cfg->keylog;
	for (size_t i = 0; i < cfg->ntargets; i++)
		need_tls |= cfg->targets[i].url.scheme == URL_HTTPS;
	const char *why = NULL;
	if (need_tls && tls_client_ctx_init(&cfg->tls, cfg->cacert, cfg->insecure, cfg->keylog, &why) < 0)
		return fail("%s", why);
	cfg->tls_ready = need_tls;
	bool need_quic = false;
	for (size_t i = 0; i < cfg->ntargets; i++) /* the direct run of --compare-direct too */
		need_quic |= cfg->targets[i].quic || cfg->targets[i].proxy_quic ||
			     (cfg->http3 && cfg->compare_direct && cfg->targets[i].url.scheme == URL_HTTPS);
	if (need_quic && quic_client_ctx_init(&cfg->quic, cfg->cacert, cfg->insecure, cfg->keylog, &why) < 0)
		return fail("%s", why ? why : "cannot set up QUIC TLS");
	cfg->quic_ready = need_quic;
	return 0;
}

/* Which targets go over QUIC, and what --http3, --http3-only and --streams allow. 0 or
 * -EINVAL after a message. */
static int plan_http3(struct probe_config *cfg)
{
	bool quic_proxy = false;
	for (size_t i = 0; i < cfg->ntargets; i++)
		quic_proxy |= cfg->targets[i].proxy_quic;
	cfg->quic_proxy = quic_proxy;
	if (cfg->streams > 1 && !cfg->http3 && !quic_proxy)
		return fail("--streams needs --http3, --http3-only or a QUIC proxy (HTTP/1.1 carries "
			    "one request at a time)%s", "");
	for (size_t i = 0; cfg->http3 && i < cfg->ntargets; i++) {
		struct probe_target *t = &cfg->targets[i];
		bool https = t->url.scheme == URL_HTTPS;
		if (cfg->http3_only && !https)
			return fail("--http3-only: '%s' is not an https URL (HTTP/3 needs TLS)", t->spec);
		if (cfg->http3_only && t->has_proxy)
			return fail("--http3-only: '%s' goes through a proxy, and HTTP/3 does not go "
				    "through http:// or socks5:// proxies", t->spec);
		t->quic = https && !t->has_proxy;
		if (https && t->has_proxy)
			t->h3_not_tried = t->proxy_quic ? "HTTP/3 not tried: through a QUIC proxy the tunnel carries "
							  "HTTP/1.1 (over TLS to the origin)"
							: "HTTP/3 not tried: it does not go through an http:// or socks5:// proxy";
	}
	return 0;
}

int probe_config_parse(struct probe_config *cfg, int argc, char **argv,
		       const char *(*env)(const char *))
{
	memset(cfg, 0, sizeof *cfg);
	cfg->connections = 1;
	cfg->threads = 1;
	cfg->streams = 1;
	cfg->timeout_s = 30;
	cfg->connect_timeout_s = 10;
	cfg->keepalive = true;
	cfg->verify = true;
	cfg->family = AF_UNSPEC;
	cfg->argc = argc;
	cfg->argv = argv;
	parse_statuses("2xx,3xx", cfg->expect_status);
	struct where_opts w = {0};
	const char *shard = NULL;
	bool have_n = false;
	unsigned long long v;
	int opt, rc;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":x:pt:c:R:d:n:X:kq46h", long_opts, NULL)) != -1) {
		if ((rc = where_option(cfg, opt, optarg, &w)) != 0) {
			if (rc < 0)
				return rc;
			continue;
		}
		switch (opt) {
		case 't':
			if (!parse_uint(optarg, 256, &v) || v == 0)
				return fail("-t wants 1..256 threads, not '%s'", optarg);
			cfg->threads = (unsigned)v;
			break;
		case 'c':
			if (!parse_uint(optarg, 1000000, &v) || v == 0)
				return fail("-c wants 1..1000000 connections, not '%s'", optarg);
			cfg->connections = (unsigned)v;
			break;
		case 'R': {
			char *end;
			errno = 0;
			cfg->rate = strtod(optarg, &end);
			if (errno || *end || !(cfg->rate > 0) || cfg->rate > 1e7)
				return fail("-R wants a rate in requests/s, not '%s'", optarg);
			break;
		}
		case 'd':
			cfg->duration_s = units_duration(optarg);
			if (!(cfg->duration_s > 0))
				return fail("-d wants a duration like 10, 30s, 2m, not '%s'", optarg);
			break;
		case 'n':
			if (!parse_uint(optarg, 1000000000ull, &v) || v == 0)
				return fail("-n wants a positive count, not '%s'", optarg);
			cfg->requests_per_url = v;
			have_n = true;
			break;
		case 'X': cfg->method = optarg; break;
		case OPT_UPLOAD:
			if (!units_size(optarg, &cfg->upload_bytes))
				return fail("--upload wants a size like 1024, 64k, 10M, not '%s'", optarg);
			break;
		case OPT_COMPRESSED: cfg->compressed = true; break;
		case OPT_HTTP3:
		case OPT_HTTP3_ONLY:
#ifdef _WIN32
			return fail("%s: HTTP/3 over QUIC is not in the Windows build (Debian has no GnuTLS, "
				    "ngtcp2 or nghttp3 for mingw-w64)", opt == OPT_HTTP3 ? "--http3" : "--http3-only");
#endif
			cfg->http3 = true;
			cfg->http3_only |= opt == OPT_HTTP3_ONLY;
			break;
		case OPT_STREAMS:
			if (!parse_uint(optarg, PROBE_MAX_STREAMS, &v) || v == 0)
				return fail("--streams wants 1..1000 requests per connection, not '%s'", optarg);
			cfg->streams = (unsigned)v;
			break;
		case OPT_NO_KEEPALIVE: cfg->keepalive = false; break;
		case OPT_TIMEOUT:
			cfg->timeout_s = units_duration(optarg);
			if (!(cfg->timeout_s > 0))
				return fail("--timeout wants a duration, not '%s'", optarg);
			break;
		case OPT_CONNECT_TIMEOUT:
			cfg->connect_timeout_s = units_duration(optarg);
			if (!(cfg->connect_timeout_s > 0))
				return fail("--connect-timeout wants a duration, not '%s'", optarg);
			break;
		case OPT_EXPECT_STATUS:
			if (!parse_statuses(optarg, cfg->expect_status))
				return fail("--expect-status wants a list like 200,204,3xx, not '%s'", optarg);
			break;
		case OPT_NO_VERIFY: cfg->verify = false; break;
		case OPT_CACERT: cfg->cacert = optarg; break;
		case 'k': cfg->insecure = true; break;
		case OPT_COMPARE_DIRECT: cfg->compare_direct = true; break;
		case OPT_HALF_CLOSE:
			cfg->half_close = true;
			cfg->keepalive = false;
			break;
		case OPT_JSON:
#ifdef _WIN32
			return fail("--json %s: the run summary needs jansson, which the Windows build has "
				    "not; --records works (`tunnelprobe report` on Linux folds them into a run file)",
				    optarg);
#endif
			cfg->json_path = optarg;
			break;
		case OPT_RECORDS: cfg->records_path = optarg; break;
		case OPT_KEYLOG: cfg->keylog = optarg; break;
		case OPT_LABEL: cfg->label = optarg; break;
		case OPT_DNS_SERVERS: cfg->dns_servers = optarg; break;
		case OPT_SHARD: shard = optarg; break;
		case OPT_EXIT_ZERO: cfg->exit_zero = true; break;
		case 'q': cfg->quiet = true; break;
		case '4': cfg->family = AF_INET; break;
		case '6': cfg->family = AF_INET6; break;
		case 'h':
			probe_usage(stdout);
			return 1;
		case ':':
			return fail("option '%s' needs a value", argv[optind - 1]);
		default:
			return fail("unknown option '%s' (see --help)", argv[optind - 1]);
		}
	}
	for (int i = optind; i < argc; i++)
		if (add_target(cfg, argv[i], &w.cap) < 0)
			return -EINVAL;
	if (cfg->ntargets == 0)
		return fail("no URL given (see --help)%s", "");
	if (have_n && cfg->duration_s > 0)
		return fail("-n and -d exclude each other%s", "");
	if (!have_n && cfg->duration_s == 0)
		cfg->requests_per_url = 1;
	if (cfg->threads > cfg->connections)
		cfg->threads = cfg->connections;
	if (apply_shard(cfg, shard, env) < 0)
		return -EINVAL;
	if (!cfg->method)
		cfg->method = cfg->upload_bytes ? "POST" : "GET";
	for (const char *m = cfg->method; *m; m++)
		if (*m <= ' ' || *m >= 127 || strchr("()<>@,;:\\\"/[]?={}", *m))
			return fail("bad method '%s'", cfg->method);
	if (cfg->method[0] == '\0')
		return fail("empty method%s", "");
	for (size_t i = 0; i < cfg->ntargets; i++)
		if (finish_target(cfg, &cfg->targets[i], w.proxy, w.noproxy, w.proxytunnel, env) < 0)
			return -EINVAL;
	if (plan_http3(cfg) < 0 || prepare_tls(cfg) < 0)
		return -EINVAL;
	new_id_prefix(cfg);
	return 0;
}

void probe_config_free(struct probe_config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->ntargets; i++) {
		free(cfg->targets[i].request_target);
		free(cfg->targets[i].head);
	}
	if (!cfg->is_copy) {
		free(cfg->urls_storage);
		if (cfg->tls_ready)
			tls_client_ctx_free(&cfg->tls);
		if (cfg->quic_ready)
			quic_client_ctx_free(&cfg->quic);
	}
	free(cfg->targets);
	cfg->targets = NULL;
	cfg->ntargets = 0;
}

int probe_config_direct(const struct probe_config *cfg, struct probe_config *direct)
{
	*direct = *cfg;
	direct->is_copy = true;
	direct->learn_bodies = true;
	/* Its own ids: the origin's ledger must not see one id twice in a run. */
	do
		new_id_prefix(direct);
	while (strcmp(direct->id_prefix, cfg->id_prefix) == 0);
	direct->targets = calloc(cfg->ntargets, sizeof *direct->targets);
	if (!direct->targets)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->ntargets; i++) {
		struct probe_target *t = &direct->targets[i];
		*t = cfg->targets[i];
		t->has_proxy = t->tunnel = t->proxy_quic = false;
		t->proxy_spec = NULL;
		t->quic = cfg->http3 && t->url.scheme == URL_HTTPS;
		t->h3_not_tried = NULL;
		t->proxy_auth[0] = '\0';
		t->request_target = strdup(t->url.path);
		t->head = NULL;
		if (!t->request_target || build_head(direct, t) < 0) {
			direct->ntargets = i;
			probe_config_free(direct);
			return -ENOMEM;
		}
	}
	return 0;
}
