/* oplan — what the check origin does for a request: the request target names it.
 *
 * Targets are "/t/TAG/ACTION[/ARG[/ARG]]" (a query after '?' is ignored). TAG (1-47
 * of [A-Za-z0-9._-]) names the check and request, so the check finds its requests in
 * the origin's log whatever the proxy did to the rest. Sizes are decimal, at most
 * OPLAN_MAX_SIZE. The actions:
 *
 *   bytes/N        200 with Content-Length N (payload of the target's seed)
 *   chunked/N      200 chunked (16 KiB chunks) with a trailer field X-Tp-Trailer
 *   chunks/N       200 chunked, no trailer (the last chunk is "0\r\n\r\n")
 *   close/N        200 close-delimited: N bytes, then FIN
 *   info/N         103 Early Hints first, then as bytes/N
 *   status/CODE    CODE (200..599); 204 and 304 without a body, others a short one
 *   reset/N/AT     200 close-delimited announcing N; RST after AT body bytes
 *   resetcl/N/AT   200 with Content-Length N; RST after AT body bytes
 *   fin/N          200 with Content-Length N, FIN right after it, then reads to EOF
 *   drip/N/MS      200 with Content-Length N, 16 bytes every MS milliseconds
 *   echo           200, the body is the request head exactly as received
 *   upload         reads the request body and checks it against the target's seed:
 *                  200 "ok N" when every byte matched, else 422
 *   endless        200 close-delimited payload until the client goes
 *   hold           never answers (the proxy's idle timeout shows)
 *   afterfin/N     waits for the client's FIN, then as bytes/N
 *   cc/VALUE/N     as bytes/N with Cache-Control VALUE ('+' stands for ',')
 *   etag/N         as bytes/N with an ETag and Cache-Control: no-cache; 304 to a
 *                  matching If-None-Match
 *   lm/N           the same with Last-Modified and If-Modified-Since
 *   stale/N        ETag with Cache-Control: max-age=1; 304 to a matching If-None-Match
 *   vary/N         Vary: Accept-Language, max-age=60, a body (and X-Tp-Lang) per language
 *   gw/N           as bytes/N, or 500 while the origin is set failing
 *   hop/N          as bytes/N with hop-by-hop fields: Connection: X-Tp-Hop, X-Tp-Hop,
 *                  Keep-Alive, and the end-to-end X-Tp-End
 *
 * Sans-I/O and allocation-free: oplan_parse() reads the target only.
 */
#ifndef TP_CHECK_OPLAN_H
#define TP_CHECK_OPLAN_H

#include <stddef.h>
#include <stdint.h>

#define OPLAN_MAX_TAG 48
#define OPLAN_MAX_SIZE (1ull << 40)
#define OPLAN_MAX_CC 64
#define OPLAN_CHUNK 16384 /* payload bytes per chunk of chunked/N */

enum oplan_action {
	OP_NONE = 0, /* not a /t/ target: 404 */
	OP_BYTES, OP_CHUNKED, OP_CHUNKS, OP_CLOSE, OP_INFO, OP_STATUS, OP_RESET, OP_RESETCL, OP_FIN,
	OP_DRIP, OP_ECHO, OP_UPLOAD, OP_ENDLESS, OP_HOLD, OP_AFTERFIN, OP_CC, OP_ETAG, OP_LM,
	OP_STALE, OP_VARY, OP_GW, OP_HOP,
};

struct oplan {
	enum oplan_action action;
	char tag[OPLAN_MAX_TAG];
	uint64_t n;  /* size (or status code) */
	uint64_t m;  /* second argument: reset position, drip interval */
	char cc[OPLAN_MAX_CC]; /* cc/: the Cache-Control value, ',' restored */
};

/* Parses target[0..len) (origin form, or absolute form: the path is taken). Returns 0
 * with *p filled, or -1 when the target is not one of the above (p->action OP_NONE;
 * p->tag set when the target had one). */
int oplan_parse(const char *target, size_t len, struct oplan *p);
/* The action's name as in a target ("bytes", ...), "?" for OP_NONE. */
const char *oplan_name(enum oplan_action a);

#endif
