/* sites — what the replay origin answers: site files (docs/origin.md) and the built-in
 * paths that need none (/bytes/N, /chunked/N, /gzip/N, /close/N, /status/CODE,
 * /delay/MS, /drip, /sink). Both produce a struct plan: status, framing, size,
 * encoding, extra headers, pacing. Sans-I/O: text in, plans out, no allocation.
 *
 * A site file has one route per line, "HOST PATH key=value ...", '#' comments:
 *   www.baidu.com   /   size=654397 framing=length
 *   www.qq.com      /   size=123456 framing=chunked chunk=8192
 *   www.taobao.com  /   size=230000 gzip=on
 *   api.test  /limited  status=429 header=Retry-After:1 size=20
 *   *         /slow     delay=200 size=1024
 * HOST "*" matches any host; PATH is matched exactly (query ignored) or, ending in
 * "*", as a prefix.
 */
#ifndef TP_REPLAY_SITES_H
#define TP_REPLAY_SITES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SITES_MAX_ROUTES 256
#define PLAN_MAX_HEADERS 512

enum plan_framing { PLAN_LENGTH = 0, PLAN_CHUNKED, PLAN_CLOSE };

struct rec_seg; /* replay/recording.h */

struct plan {
	int status;
	enum plan_framing framing;
	uint64_t size;            /* decoded body length */
	uint32_t chunk;           /* chunked: payload bytes per chunk */
	bool gzip;                /* Content-Encoding: gzip (implies chunked unless close) */
	uint32_t delay_ms;        /* before the response */
	uint32_t drip_ms;         /* between body bytes (one byte per step) */
	bool sink;                /* POST /sink: verify and count the request body */
	bool close;               /* Connection: close after this response */
	char headers[PLAN_MAX_HEADERS]; /* extra "Name: value\r\n" lines */
	const uint8_t *raw;       /* --replay: a recorded response, sent byte for byte */
	size_t raw_len;
	const struct rec_seg *segs; /* --replay-timing: written in these sizes, after these gaps */
	size_t nsegs;
};

struct route {
	char host[128];
	char path[256];
	bool prefix;
	struct plan plan;
};

struct sites {
	struct route routes[SITES_MAX_ROUTES];
	size_t n;
};

/* Parses a site file's text. Returns 0, or -EINVAL with "NAME:LINE: message" in err. */
int sites_parse(struct sites *s, const char *text, size_t len, const char *name, char *err,
		size_t errlen);
/* Reads a file (at most 1 MiB) and parses it. */
int sites_load(struct sites *s, const char *path, char *err, size_t errlen);

/* The plan for a request: a matching route of s (may be NULL), else a built-in path,
 * else 404. host is the Host header without port (may be empty); target the
 * origin-form target with query. */
void sites_plan(const struct sites *s, const char *method, const char *host, const char *target,
		struct plan *plan);

#endif
