/* c_forward — HTTP forwarding, the framing and connection rules: 1xx, HEAD, 204 and
 * 304 (no body, and the connection still framed for the next response), chunked with
 * trailers, Expect: 100-continue, keep-alive on each leg, pipelining. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "check/battery.h"
#include "check/ck.h"
#include "lib/payload.h"

#define V_F CK_VIA_FORWARD
#define P_F CK_PROFILE_FORWARD

/* Writes one request head on c. Returns 0 or -1. */
static int send_get(struct ck *ck, struct cio *c, const char *method, const char *path,
		    const char *extra)
{
	char head[2048];
	int n = ck_head(ck, CK_VIA_FORWARD, head, sizeof head, method, path, extra);
	return n < 0 || cio_write(c, head, (size_t)n, ck->deadline) < 0 ? -1 : 0;
}

/* A bodiless response (HEAD, 204, 304) and then another request on the same
 * connection: if the proxy sent body bytes after the bodiless one, the second response
 * reads them as garbage. */
static void bodiless(struct ck *ck, const struct ck_def *d, struct ck_outcome *o)
{
	char tag[OPLAN_MAX_TAG], path[128], path2[128], extra[128] = "";
	struct cio c;
	struct cx x;
	struct cx_resp r = {0}, r2 = {0};
	const char *method = "GET";
	unsigned flags = 0;
	ck_tag(ck, tag);
	if (d->arg == 0) { /* HEAD */
		method = "HEAD";
		flags = HTTP1_REQ_HEAD;
		snprintf(path, sizeof path, "/t/%s/bytes/1000", tag);
	} else if (d->arg == 204) {
		snprintf(path, sizeof path, "/t/%s/status/204", tag);
	} else { /* 304: a matching If-None-Match */
		snprintf(path, sizeof path, "/t/%s/etag/1000", tag);
		snprintf(extra, sizeof extra, "If-None-Match: \"tp-%s\"\r\n", tag);
	}
	snprintf(path2, sizeof path2, "/t/%s.2/bytes/10", tag);
	int want = d->arg == 0 ? 200 : (int)d->arg;
	if (ck_open(ck, V_F, NULL, &c, &x, o) < 0)
		return;
	if (send_get(ck, &c, method, path, extra) == 0)
		cx_read_response(&x, flags, &r, ck->deadline);
	ck_evidence(o, &c, &r, NULL);
	if (ck_bad_response(o, &c, &r, want, 0))
		goto out;
	if (cx_pending(&x) > 0) {
		ck_result(o, CK_FAIL, "%zu bytes followed a response that has no body", cx_pending(&x));
		goto out;
	}
	bool closes = !r.resp.keep_alive;
	if (!closes && send_get(ck, &c, "GET", path2, NULL) == 0)
		cx_read_response(&x, 0, &r2, ck->deadline);
	if (!closes && ck_bad_response(o, &c, &r2, 200, 10))
		goto out;
	ck_result(o, CK_PASS, "%d with no body%s", want,
		  closes ? "; the proxy closed the connection after it"
			 : ", and the next response on the connection was framed right");
out:
	cio_close(&c);
}

static void interim(struct ck *ck, const struct ck_def *d, struct ck_outcome *o)
{
	char tag[OPLAN_MAX_TAG], path[128];
	struct cio c;
	struct cx x;
	struct cx_resp r = {0};
	snprintf(path, sizeof path, "/t/%s/info/4096", ck_tag(ck, tag));
	if (ck_get(ck, V_F, path, NULL, &c, &x, &r, o) < 0 && o->decided)
		return;
	ck_evidence(o, &c, &r, NULL);
	ck_num(o, "interim", r.ninterim ? (uint64_t)r.interim[0] : 0);
	if (ck_bad_response(o, &c, &r, 200, 4096)) {
		cio_close(&c);
		return;
	}
	if (r.ninterim && r.interim[0] == 103)
		ck_result(o, CK_PASS, "103 Early Hints passed on, then the 200 byte-exact");
	else
		ck_result(o, CK_WARN, "the 103 interim response was dropped (a proxy MUST forward "
			  "1xx); the final response was intact");
	cio_close(&c);
}

static void chunked(struct ck *ck, const struct ck_def *d, struct ck_outcome *o)
{
	char tag[OPLAN_MAX_TAG], path[128];
	struct cio c;
	struct cx x;
	struct cx_resp r = {0};
	snprintf(path, sizeof path, "/t/%s/%s/%" PRIu64, ck_tag(ck, tag),
		 d->arg2 ? "chunked" : "chunks", d->arg);
	if (ck_get(ck, V_F, path, NULL, &c, &x, &r, o) < 0 && o->decided)
		return;
	ck_evidence(o, &c, &r, NULL);
	ck_num(o, "trailer_bytes", r.trailer_bytes);
	if (!ck_bad_response(o, &c, &r, 200, d->arg))
		ck_result(o, CK_PASS, "the chunked body arrived byte-exact and properly ended%s",
			  !d->arg2 ? "" : r.trailer_bytes > 2 ? ", trailer kept"
							  : " (the trailer field was dropped)");
	cio_close(&c);
}

/* Expect: 100-continue: the head alone, a wait for 100 (up to 1 s, as curl does),
 * then the body; the origin checks every byte. */
static void expect_continue(struct ck *ck, const struct ck_def *d, struct ck_outcome *o)
{
	char tag[OPLAN_MAX_TAG], path[128], extra[128];
	struct cio c;
	struct cx x;
	struct cx_resp r1 = {0}, r = {0};
	struct corigin_req req;
	snprintf(path, sizeof path, "/t/%s/upload", ck_tag(ck, tag));
	snprintf(extra, sizeof extra, "Expect: 100-continue\r\nContent-Length: %" PRIu64 "\r\n",
		 d->arg);
	if (ck_open(ck, V_F, NULL, &c, &x, o) < 0)
		return;
	if (send_get(ck, &c, "POST", path, extra) < 0)
		goto out;
	int got = cx_read_head(&x, CX_STOP_1XX, &r1, ck_step(ck, 1000));
	bool cont = got == 0 && r1.status == 100;
	if (got == 0 && !cont) { /* a final answer before the body: the request is over */
		ck_result(o, CK_FAIL, "the proxy answered %d before the body was sent", r1.status);
		goto out;
	}
	cio_write_payload(&c, payload_seed(path, strlen(path)), 0, d->arg, ck->deadline);
	cx_read_response(&x, 0, &r, ck->deadline);
	ck_str(o, "continue", "%s", cont ? "100 passed on" : "none within 1 s");
	bool seen = corigin_find(&ck->origin, tag, &req, 1) > 0;
	ck_evidence(o, &c, &r, seen ? &req : NULL);
	if (seen && (req.body_bad_at >= 0 || req.body_received != d->arg))
		ck_result(o, CK_FAIL, "the origin got %" PRIu64 " of %" PRIu64 " body bytes%s",
			  req.body_received, d->arg, req.body_bad_at >= 0 ? ", corrupted" : "");
	else if (!ck_bad_response(o, &c, &r, 200, UINT64_MAX))
		ck_result(o, CK_PASS, "%s; the %" PRIu64 "-byte body reached the origin byte-exact",
			  cont ? "100 Continue came" : "no 100 Continue within 1 s (allowed)", d->arg);
out:
	cio_close(&c);
}

/* Three requests, one after the other, on one client connection; arg 0 judges the
 * client's leg (answered on one connection), 1 the origin's (carried on one). */
static void keepalive(struct ck *ck, const struct ck_def *d, struct ck_outcome *o)
{
	char tag[OPLAN_MAX_TAG], path[128], prefix[OPLAN_MAX_TAG + 1];
	struct cio c;
	struct cx x;
	int answered = 0;
	bool reopened = false, keep = true, silent = false;
	int retries = 0;
	ck_tag(ck, tag);
	snprintf(prefix, sizeof prefix, "%s.", tag);
	if (ck_open(ck, V_F, NULL, &c, &x, o) < 0)
		return;
	for (int i = 0; i < 3; i++) {
		struct cx_resp r = {0};
		uint64_t want = (uint64_t)(1000 * (i + 1));
		snprintf(path, sizeof path, "/t/%s.%d/bytes/%d", tag, i, (int)want);
		if (i > 0 && (c.end != CIO_OPEN || !keep)) {
			cio_close(&c);
			if (ck_open(ck, V_F, NULL, &c, &x, o) < 0)
				return;
			reopened = true;
		}
		uint64_t before = c.received;
		send_get(ck, &c, "GET", path, NULL);
		cx_read_response(&x, 0, &r, ck->deadline);
		if (r.end == CX_NO_HEAD && c.received == before && i > 0 && retries++ < 3) {
			/* Closed after a response that did not say so: a client retries. */
			silent = true;
			keep = false;
			i--;
			continue;
		}
		if (ck_bad_response(o, &c, &r, 200, want)) {
			ck_str(o, "failed_request", "%d", i + 1);
			cio_close(&c);
			return;
		}
		answered++;
		keep = r.resp.keep_alive; /* the proxy said it closes: the next needs a new one */
	}
	cio_close(&c);
	uint64_t reqs, conns;
	corigin_count(&ck->origin, prefix, &reqs, &conns);
	ck_num(o, "requests", (uint64_t)answered);
	ck_num(o, "client_connections", reopened ? 2 : 1);
	ck_num(o, "origin_connections", conns);
	if (d->arg == 0)
		ck_result(o, reopened ? CK_WARN : CK_PASS, "%s",
			  silent     ? "the proxy closed the client's connection after a response "
				       "without Connection: close (a client must retry)"
			  : reopened ? "the proxy closed the client's connection between requests"
				     : "3 requests answered on one client connection");
	else
		ck_result(o, conns <= 1 ? CK_PASS : CK_WARN,
			  "the origin saw 3 requests on %" PRIu64 " connection%s", conns,
			  conns <= 1 ? "" : "s (no reuse of the origin's leg)");
}

/* Three requests written at once; the answers must come back whole and in order. */
static void pipelining(struct ck *ck, const struct ck_def *d, struct ck_outcome *o)
{
	char tag[OPLAN_MAX_TAG], heads[3 * 512], path[3][128];
	struct cio c;
	struct cx x;
	size_t len = 0;
	ck_tag(ck, tag);
	for (int i = 0; i < 3; i++) {
		snprintf(path[i], sizeof path[i], "/t/%s.%d/bytes/%d", tag, i, 1000 * (i + 1));
		len += (size_t)ck_head(ck, V_F, heads + len, sizeof heads - len, "GET", path[i], NULL);
	}
	if (ck_open(ck, V_F, NULL, &c, &x, o) < 0)
		return;
	cio_write(&c, heads, len, ck->deadline);
	int answered = 0;
	for (int i = 0; i < 3; i++) {
		struct cx_resp r = {0};
		uint64_t want = (uint64_t)(1000 * (i + 1));
		if (cx_read_response(&x, 0, &r, ck->deadline) < 0 && r.end == CX_NO_HEAD && i > 0) {
			ck_result(o, CK_WARN, "only %d of 3 pipelined requests were answered, then the "
				  "connection %s (a client must retry the rest)", i, cio_end_name(c.end));
			break;
		}
		if (ck_bad_response(o, &c, &r, 200, want))
			break;
		if (r.seed != payload_seed(path[i], strlen(path[i]))) {
			ck_result(o, CK_FAIL, "response %d answers another request: out of order", i + 1);
			break;
		}
		answered++;
	}
	ck_num(o, "answered", (uint64_t)answered);
	if (answered == 3)
		ck_result(o, CK_PASS, "3 pipelined requests answered in order, byte-exact");
	cio_close(&c);
}

static const struct ck_def defs[] = {
	{"forward.chunked", "chunked body: byte-exact and properly ended", "RFC 9112 §7.1", P_F,
	 V_F, chunked, 1024 * 1024, 0, 15},
	{"forward.chunked.trailer", "chunked body with a trailer: byte-exact and properly ended",
	 "RFC 9112 §7.1.2", P_F, V_F, chunked, 1024 * 1024, 1, 15},
	{"forward.1xx", "a 103 interim response is passed on before the 200", "RFC 9110 §15.2",
	 P_F, V_F, interim, 0, 0, 10},
	{"forward.head", "HEAD: no body, the connection framed for the next response",
	 "RFC 9110 §9.3.2", P_F, V_F, bodiless, 0, 0, 10},
	{"forward.204", "204: no body, the connection framed for the next response",
	 "RFC 9110 §15.3.5", P_F, V_F, bodiless, 204, 0, 10},
	{"forward.304", "304: no body, the connection framed for the next response",
	 "RFC 9110 §15.4.5", P_F, V_F, bodiless, 304, 0, 10},
	{"forward.expect-100", "Expect: 100-continue upload reaches the origin byte-exact",
	 "RFC 9110 §10.1.1", P_F, V_F, expect_continue, 65536, 0, 15},
	{"forward.keepalive.client", "keep-alive: requests in turn on one client connection",
	 "RFC 9112 §9.3", P_F, V_F, keepalive, 0, 0, 15},
	{"forward.keepalive.origin", "keep-alive: the origin's connection is reused",
	 "RFC 9112 §9.3", P_F, V_F, keepalive, 1, 0, 15},
	{"forward.pipelining", "pipelined requests answered in order", "RFC 9112 §9.3.2", P_F, V_F,
	 pipelining, 0, 0, 15},
};

const struct ck_table ck_forward_checks = {defs, sizeof defs / sizeof defs[0]};
