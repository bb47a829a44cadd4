/* ck — what every check shares: the run's context, a check's definition and its
 * outcome (result, detail, evidence), and the ways a check reaches the origin (through
 * the proxy as a forward request, a CONNECT tunnel or a SOCKS5 tunnel, through the
 * gateway, or directly).
 *
 * A check is a function that fills a struct ck_outcome; it runs on the caller's
 * thread, one at a time, and must end by ck->deadline (the runner sets it from the
 * check's budget). Evidence is a short list of named facts (numbers or strings) that
 * the outputs render as they are: docs/check.md lists the names in use.
 */
#ifndef TP_CHECK_CK_H
#define TP_CHECK_CK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "check/args.h"
#include "check/cio.h"
#include "check/cx.h"
#include "check/origin.h"
#include "lib/net.h"

enum ck_result { CK_PASS = 0, CK_FAIL, CK_SKIP, CK_WARN };

enum ck_via {
	CK_VIA_FORWARD, /* absolute-form requests to the proxy */
	CK_VIA_CONNECT, /* a CONNECT tunnel through the proxy to the origin */
	CK_VIA_SOCKS5,  /* a SOCKS5 tunnel through the proxy to the origin */
	CK_VIA_GATEWAY, /* origin-form requests to the gateway */
	CK_VIA_DIRECT,  /* origin-form requests to the origin itself */
};

#define CK_MAX_FACTS 16

struct ck_fact {
	char key[32];
	bool is_num;
	uint64_t num;
	char str[160];
};

struct ck_outcome {
	enum ck_result result;
	bool decided;          /* a result was set */
	char detail[640];
	struct ck_fact facts[CK_MAX_FACTS];
	size_t nfacts;
	uint64_t ms;           /* how long the check took */
};

struct ck;
struct ck_def;
typedef void (*ck_fn)(struct ck *ck, const struct ck_def *def, struct ck_outcome *out);

struct ck_def {
	const char *id;        /* "forward.bytes.100m": profile, group, name */
	const char *title;
	const char *rule;      /* "RFC 9112 §6.3" */
	unsigned profile;      /* one CK_PROFILE_* bit (args.h) */
	enum ck_via via;
	ck_fn run;
	uint64_t arg, arg2;    /* what run needs: a size, a count */
	unsigned budget_s;     /* the check ends within this */
};

struct ck {
	const struct ck_args *args;
	struct corigin origin;
	char authority[NET_ADDRSTRLEN];  /* how the proxy reaches the origin: "127.0.0.1:P" */
	char authority6[NET_ADDRSTRLEN]; /* "[::1]:P", or "" without IPv6 */
	char banner_authority[NET_ADDRSTRLEN];
	uint16_t origin_port;
	struct net_addr proxy;           /* resolved --proxy (len 0: none) */
	struct net_addr gateway;         /* resolved --gateway (len 0: none) */
	struct net_addr metrics;         /* resolved --metrics (len 0: none) */
	/* What one gateway check leaves for the next (c_gateway.c). */
	int gw_retry_after;              /* seconds of the 429's Retry-After, -1: none seen */
	bool gw_breaker_open;            /* the breaker opened in gateway.breaker.open */
	char nonce[12];                  /* per run: every tag starts with it */
	unsigned seq;
	uint64_t deadline;               /* the running check's end */
	int socks5_state;                /* 0 not probed, 1 speaks SOCKS5, -1 does not */
	char socks5_why[200];
};

/* ---- outcomes ---- */
void ck_result(struct ck_outcome *o, enum ck_result r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void ck_num(struct ck_outcome *o, const char *key, uint64_t v);
void ck_str(struct ck_outcome *o, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
const char *ck_result_name(enum ck_result r); /* "pass", "fail", "skip", "warn" */

/* Evidence of one exchange: client bytes and ending, the response's status, body and
 * ending, and (with req) what the origin received and sent. */
struct corigin_req;
void ck_evidence(struct ck_outcome *o, const struct cio *c, const struct cx_resp *r,
		 const struct corigin_req *req);

/* ---- reaching the origin ---- */

/* A new tag for the running check: "<nonce>-<n>". */
const char *ck_tag(struct ck *ck, char out[OPLAN_MAX_TAG]);
/* The deadline of a step: now + ms, but never past the check's own deadline. */
uint64_t ck_step(const struct ck *ck, uint64_t ms);

/* Opens a connection that carries requests to the origin by via (handshake done for
 * CONNECT and SOCKS5, to `authority`, NULL for the origin's). Returns 0, or -1 with
 * out failed (detail says where it stopped). */
int ck_open(struct ck *ck, enum ck_via via, const char *authority, struct cio *c, struct cx *x,
	    struct ck_outcome *out);
/* Writes a request head: "METHOD target HTTP/1.1", Host, extra header lines (each
 * ending in CRLF, or NULL), the blank line; target is absolute-form for forward.
 * Returns its length, or -1 when it does not fit. */
int ck_head(const struct ck *ck, enum ck_via via, char *out, size_t cap, const char *method,
	    const char *path, const char *extra);
/* One whole exchange on a new connection: GET path, the response read (and checked
 * against the payload) before the deadline. Returns 0 when it completed, else -1;
 * out is failed when the connection could not be opened. */
int ck_get(struct ck *ck, enum ck_via via, const char *path, const char *extra,
	   struct cio *c, struct cx *x, struct cx_resp *r, struct ck_outcome *out);

/* Fails out with what went wrong in a response (no head, truncated, reset, wrong bytes,
 * wrong status) and returns true; false when r is a complete, verified `want` response. */
bool ck_bad_response(struct ck_outcome *o, const struct cio *c, const struct cx_resp *r,
		     int want, uint64_t want_body);

/* An authority "127.0.0.1:P" where nothing listens: a port bound and closed again
 * (another program could take it meanwhile; the checks that use it say what they
 * got). Returns 0 or -errno. */
int ck_closed_authority(char *out, size_t cap);

#endif
