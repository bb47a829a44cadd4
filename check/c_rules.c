/* c_rules — what a forward proxy does to request heads: the target rewritten to
 * origin form, Host, hop-by-hop fields, Via; and what it refuses: a malformed head
 * (400), an oversized one (431), and the request-smuggling shapes (CL+TE, conflicting
 * Content-Length, obs-fold, bare LF), which must never reach the origin as sent.
 *
 * The origin's log holds each head exactly as it arrived, so every verdict reads the
 * bytes the proxy wrote. */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "check/battery.h"
#include "check/ck.h"

#define V_F CK_VIA_FORWARD
#define P_F CK_PROFILE_FORWARD

/* Counts the head's field lines named name (case-insensitive, at line starts). */
static int count_field(const char *head, size_t len, const char *name)
{
	size_t n = strlen(name);
	int count = 0;
	for (size_t i = 0; i + n < len; i++) {
		if (i > 0 && head[i - 1] != '\n')
			continue;
		if (strncasecmp(head + i, name, n) == 0 && head[i + n] == ':')
			count++;
	}
	return count;
}

/* The value of the first field named name, copied into out; false when absent. */
static bool field(const char *head, size_t len, const char *name, char *out, size_t cap)
{
	size_t n = strlen(name);
	for (size_t i = 0; i + n < len; i++) {
		if ((i > 0 && head[i - 1] != '\n') || strncasecmp(head + i, name, n) != 0 ||
		    head[i + n] != ':')
			continue;
		size_t v = i + n + 1;
		while (v < len && (head[v] == ' ' || head[v] == '\t'))
			v++;
		size_t e = v;
		while (e < len && head[e] != '\r' && head[e] != '\n')
			e++;
		snprintf(out, cap, "%.*s", (int)(e - v), head + v);
		return true;
	}
	return false;
}

static bool has_bare_lf(const char *head, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (head[i] == '\n' && (i == 0 || head[i - 1] != '\r'))
			return true;
	return false;
}

static bool has_fold(const char *head, size_t len)
{
	/* A line that starts with a space or tab continues the one before (obs-fold). */
	for (size_t i = 0; i + 1 < len; i++)
		if (head[i] == '\n' && (head[i + 1] == ' ' || head[i + 1] == '\t'))
			return true;
	return false;
}

/* GET echo with extra fields; fills req with the origin's record of it and r with the
 * client's response. Returns 0, or -1 with o failed. */
static int echo(struct ck *ck, struct ck_outcome *o, const char *extra, const char *host,
		struct cio *c, struct cx_resp *r, struct corigin_req *req)
{
	char tag[OPLAN_MAX_TAG], path[128], head[2048];
	struct cx x;
	snprintf(path, sizeof path, "/t/%s/echo", ck_tag(ck, tag));
	if (ck_open(ck, V_F, NULL, c, &x, o) < 0)
		return -1;
	int n = host ? snprintf(head, sizeof head, "GET http://%s%s HTTP/1.1\r\nHost: %s\r\n%s\r\n",
				ck->authority, path, host, extra ? extra : "")
		     : ck_head(ck, V_F, head, sizeof head, "GET", path, extra);
	cio_write(c, head, (size_t)n, ck->deadline);
	cx_read_response(&x, 0, r, ck->deadline);
	cio_close(c);
	if (corigin_find(&ck->origin, tag, req, 1) == 0) {
		ck_evidence(o, c, r, NULL);
		if (!ck_bad_response(o, c, r, 200, UINT64_MAX))
			ck_result(o, CK_FAIL, "the request never reached the origin");
		return -1;
	}
	ck_evidence(o, c, r, req);
	return 0;
}

static void origin_form(struct ck *ck, const struct ck_def *d, struct ck_outcome *o)
{
	struct cio c;
	struct cx_resp r = {0};
	struct corigin_req req;
	if (echo(ck, o, NULL, NULL, &c, &r, &req) < 0)
		return;
	const char *sp = memchr(req.head, ' ', req.head_copied);
	const char *target = sp ? sp + 1 : "";
	ck_str(o, "origin_target", "%.*s", (int)strcspn(target, " \r\n"), target);
	if (target[0] == '/')
		ck_result(o, CK_PASS, "the absolute-form target reached the origin in origin form");
	else
		ck_result(o, CK_FAIL, "the origin received the absolute form: a proxy MUST send "
			  "origin form to an origin server");
}

/* arg 0: the client's Host matches the URI; 1: it does not, and the URI's must win. */
static void host(struct ck *ck, const struct ck_def *d, struct ck_outcome *o)
{
	struct cio c;
	struct cx_resp r = {0};
	struct corigin_req req;
	char got[256] = "";
	if (echo(ck, o, NULL, d->arg ? "wrong-host.test" : ck->authority, &c, &r, &req) < 0)
		return;
	int hosts = count_field(req.head, req.head_copied, "Host");
	field(req.head, req.head_copied, "Host", got, sizeof got);
	ck_str(o, "origin_host", "%s", got);
	ck_num(o, "origin_host_fields", (uint64_t)hosts);
	if (hosts == 1 && strcmp(got, ck->authority) == 0)
		ck_result(o, CK_PASS, "the origin saw Host: %s%s", got,
			  d->arg ? " (the URI's authority replaced the client's Host)" : "");
	else
		ck_result(o, CK_FAIL, "the origin saw %d Host field%s, '%s'; want one, '%s'", hosts,
			  hosts == 1 ? "" : "s", got, ck->authority);
}

static void hop_request(struct ck *ck, const struct ck_def *d, struct ck_outcome *o)
{
	struct cio c;
	struct cx_resp r = {0};
	struct corigin_req req;
	const char *extra = "Connection: keep-alive, X-Tp-Hop\r\nX-Tp-Hop: 1\r\n"
			    "Keep-Alive: timeout=30\r\nProxy-Connection: keep-alive\r\nX-Tp-End: 1\r\n";
	if (echo(ck, o, extra, NULL, &c, &r, &req) < 0)
		return;
	const char *h = req.head;
	size_t n = req.head_copied;
	bool hop = count_field(h, n, "X-Tp-Hop"), ka = count_field(h, n, "Keep-Alive"),
	     pc = count_field(h, n, "Proxy-Connection"), end = count_field(h, n, "X-Tp-End");
	ck_str(o, "forwarded", "%s%s%s%s", hop ? "X-Tp-Hop " : "", ka ? "Keep-Alive " : "",
	       pc ? "Proxy-Connection " : "", end ? "X-Tp-End" : "");
	if (hop || ka)
		ck_result(o, CK_FAIL, "hop-by-hop fields reached the origin (%s%s)",
			  hop ? "X-Tp-Hop, named by Connection" : "", ka ? " Keep-Alive" : "");
	else if (!end)
		ck_result(o, CK_FAIL, "the end-to-end field X-Tp-End was dropped");
	else if (pc)
		ck_result(o, CK_WARN, "Proxy-Connection (not standard, hop-by-hop in practice) "
			  "reached the origin");
	else
		ck_result(o, CK_PASS, "Connection-listed and hop-by-hop fields removed, end-to-end "
			  "kept");
}

static void hop_response(struct ck *ck, const struct ck_def *d, struct ck_outcome *o)
{
	char tag[OPLAN_MAX_TAG], path[128], v[64];
	struct cio c;
	struct cx x;
	struct cx_resp r = {0};
	snprintf(path, sizeof path, "/t/%s/hop/100", ck_tag(ck, tag));
	if (ck_get(ck, V_F, path, NULL, &c, &x, &r, o) < 0 && o->decided)
		return;
	ck_evidence(o, &c, &r, NULL);
	cio_close(&c);
	if (ck_bad_response(o, &c, &r, 200, 100))
		return;
	bool hop = cx_header(&r, "X-Tp-Hop", v, sizeof v), end = cx_header(&r, "X-Tp-End", v, sizeof v);
	bool ka = cx_header(&r, "Keep-Alive", v, sizeof v);
	if (hop || ka)
		ck_result(o, CK_FAIL, "hop-by-hop fields of the response reached the client (%s%s)",
			  hop ? "X-Tp-Hop, named by Connection" : "", ka ? " Keep-Alive" : "");
	else if (!end)
		ck_result(o, CK_FAIL, "the end-to-end response field X-Tp-End was dropped");
	else
		ck_result(o, CK_PASS, "the response's hop-by-hop fields removed, end-to-end kept");
}

static void via(struct ck *ck, const struct ck_def *d, struct ck_outcome *o)
{
	struct cio c;
	struct cx_resp r = {0};
	struct corigin_req req;
	char up[128] = "", down[128] = "";
	if (echo(ck, o, NULL, NULL, &c, &r, &req) < 0)
		return;
	bool in_req = field(req.head, req.head_copied, "Via", up, sizeof up);
	bool in_resp = r.status && cx_header(&r, "Via", down, sizeof down);
	ck_str(o, "request_via", "%s", up);
	ck_str(o, "response_via", "%s", down);
	if (in_req && in_resp)
		ck_result(o, CK_PASS, "Via added both ways");
	else
		ck_result(o, CK_FAIL, "no Via on the %s", !in_req && !in_resp ? "request or the response"
							  : !in_req ? "forwarded request"
								    : "forwarded response");
}

/* Sends raw request bytes (tag in the target) and reads what comes back. Returns how
 * many requests of that tag reached the origin (the first in *req). */
static size_t raw(struct ck *ck, struct ck_outcome *o, const char *bytes, size_t len,
		  const char *tag, struct cio *c, struct cx_resp *r, struct corigin_req *req)
{
	struct cx x;
	if (ck_open(ck, V_F, NULL, c, &x, o) < 0)
		return 0;
	cio_write(c, bytes, len, ck_step(ck, 3000));
	cx_read_response(&x, 0, r, ck_step(ck, 5000));
	cio_close(c);
	/* A proxy may still be passing the request on: give the origin a moment. */
	cio_sleep_ms(100);
	size_t n = corigin_find(&ck->origin, tag, req, 1);
	ck_evidence(o, c, r, n ? req : NULL);
	ck_num(o, "origin_requests", n);
	return n;
}

/* The proxy refused (or dropped) a request that must not be forwarded as sent. */
static void refused(struct ck_outcome *o, const struct cx_resp *r, const struct cio *c,
		    const char *what)
{
	if (r->status == 400 || r->status == 431)
		ck_result(o, CK_PASS, "%s: refused with %d, nothing reached the origin", what, r->status);
	else if (r->status >= 400)
		ck_result(o, CK_WARN, "%s: refused with %d (400 is the rule), nothing reached the origin",
			  what, r->status);
	else if (r->status)
		ck_result(o, CK_FAIL, "%s: answered %d without reaching the origin", what, r->status);
	else
		ck_result(o, CK_WARN, "%s: the proxy %s the connection without a response (400 is the "
			  "rule); nothing reached the origin", what,
			  c->end == CIO_RESET ? "reset" : "closed");
}

static void bad_request(struct ck *ck, const struct ck_def *d, struct ck_outcome *o)
{
	char tag[OPLAN_MAX_TAG], req_bytes[1024];
	struct cio c;
	struct cx_resp r = {0};
	struct corigin_req req;
	ck_tag(ck, tag);
	/* Whitespace between a field name and its colon: RFC 9112 §5.1 says 400. */
	int n = snprintf(req_bytes, sizeof req_bytes,
			 "GET http://%s/t/%s/echo HTTP/1.1\r\nHost: %s\r\nX-Tp-Bad : 1\r\n\r\n",
			 ck->authority, tag, ck->authority);
	if (raw(ck, o, req_bytes, (size_t)n, tag, &c, &r, &req) == 0) {
		if (!o->decided)
			refused(o, &r, &c, "whitespace before a colon");
		return;
	}
	if (strstr(req.head, "X-Tp-Bad :"))
		ck_result(o, CK_FAIL, "the malformed field reached the origin as sent");
	else
		ck_result(o, CK_WARN, "the request was repaired and forwarded (400 is the rule)");
}

static void too_large(struct ck *ck, const struct ck_def *d, struct ck_outcome *o)
{
	char tag[OPLAN_MAX_TAG];
	static char big[128 * 1024]; /* a constant-size scratch head, rebuilt per run */
	struct cio c;
	struct cx_resp r = {0};
	struct corigin_req req;
	ck_tag(ck, tag);
	size_t len = (size_t)snprintf(big, sizeof big, "GET http://%s/t/%s/echo HTTP/1.1\r\nHost: %s\r\n",
				      ck->authority, tag, ck->authority);
	for (int i = 0; len + 4200 < sizeof big && len < d->arg; i++) {
		len += (size_t)snprintf(big + len, sizeof big - len, "X-Tp-Big-%d: ", i);
		memset(big + len, 'a', 4000);
		len += 4000;
		memcpy(big + len, "\r\n", 2);
		len += 2;
	}
	memcpy(big + len, "\r\n", 2);
	len += 2;
	ck_num(o, "head_bytes", len);
	if (raw(ck, o, big, len, tag, &c, &r, &req) == 0) {
		if (!o->decided)
			refused(o, &r, &c, "an oversized head");
		return;
	}
	ck_result(o, CK_WARN, "a %zu-byte head was forwarded (the origin %s)", len,
		  req.parse_err ? "refused it" : "took it");
}

enum smuggle { SM_CL_TE, SM_DUP_CL, SM_FOLD, SM_BARE_LF };

static void smuggle(struct ck *ck, const struct ck_def *d, struct ck_outcome *o)
{
	char tag[OPLAN_MAX_TAG], b[1024], v[32] = "";
	struct cio c;
	struct cx_resp r = {0};
	struct corigin_req req;
	ck_tag(ck, tag);
	int n = snprintf(b, sizeof b, "POST http://%s/t/%s/upload HTTP/1.1\r\nHost: %s\r\n",
			 ck->authority, tag, ck->authority);
	static const char *const tails[] = {
		[SM_CL_TE] = "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
		[SM_DUP_CL] = "Content-Length: 3\r\nContent-Length: 5\r\n\r\n01234",
		[SM_FOLD] = "X-Tp-Fold: a\r\n b\r\nContent-Length: 0\r\n\r\n",
		[SM_BARE_LF] = "X-Tp-A: 1\nX-Tp-B: 2\r\nContent-Length: 0\r\n\r\n",
	};
	static const char *const names[] = {
		[SM_CL_TE] = "Content-Length with Transfer-Encoding",
		[SM_DUP_CL] = "two different Content-Length values",
		[SM_FOLD] = "an obs-fold line", [SM_BARE_LF] = "a bare LF line end",
	};
	n += snprintf(b + n, sizeof b - (size_t)n, "%s", tails[d->arg]);
	if (raw(ck, o, b, (size_t)n, tag, &c, &r, &req) == 0) {
		if (!o->decided)
			refused(o, &r, &c, names[d->arg]);
		return;
	}
	const char *h = req.head;
	size_t len = req.head_copied;
	int cl = count_field(h, len, "Content-Length"), te = count_field(h, len, "Transfer-Encoding");
	switch (d->arg) {
	case SM_CL_TE:
		if (cl && te)
			ck_result(o, CK_FAIL, "forwarded raw: the origin got both Content-Length and "
				  "Transfer-Encoding (a smuggling vector)");
		else if (cl && (!field(h, len, "Content-Length", v, sizeof v) || strcmp(v, "0") != 0))
			ck_result(o, CK_FAIL, "framed by Content-Length: %s although Transfer-Encoding "
				  "overrides it (its chunked body is empty)", v);
		else if (cl)
			ck_result(o, CK_PASS, "decoded by Transfer-Encoding and forwarded with "
				  "Content-Length: 0, the empty body it framed");
		else
			ck_result(o, CK_PASS, "forwarded with Transfer-Encoding only (Content-Length "
				  "removed, as the rule says)");
		break;
	case SM_DUP_CL:
		ck_result(o, cl > 1 ? CK_FAIL : CK_WARN, cl > 1 ? "forwarded raw: the origin got %d "
			  "Content-Length fields" : "forwarded with %d Content-Length (400 is the rule)", cl);
		break;
	case SM_FOLD:
		if (has_fold(h, len))
			ck_result(o, CK_FAIL, "forwarded raw: the obs-fold reached the origin");
		else
			ck_result(o, CK_PASS, "the fold was replaced before forwarding");
		break;
	default:
		if (has_bare_lf(h, len))
			ck_result(o, CK_FAIL, "forwarded raw: a bare LF reached the origin, which may "
				  "split the field differently");
		else
			ck_result(o, CK_PASS, "line ends normalised to CRLF before forwarding");
	}
}

static const struct ck_def defs[] = {
	{"forward.uri.origin-form", "the absolute-form target is rewritten to origin form",
	 "RFC 9112 §3.2.1", P_F, V_F, origin_form, 0, 0, 10},
	{"forward.host.kept", "Host reaches the origin as the URI's authority", "RFC 9112 §3.2.2",
	 P_F, V_F, host, 0, 0, 10},
	{"forward.host.replaced", "a Host that disagrees with the URI is replaced",
	 "RFC 9112 §3.2.2", P_F, V_F, host, 1, 0, 10},
	{"forward.hop.request", "hop-by-hop and Connection-listed request fields removed",
	 "RFC 9110 §7.6.1", P_F, V_F, hop_request, 0, 0, 10},
	{"forward.hop.response", "hop-by-hop and Connection-listed response fields removed",
	 "RFC 9110 §7.6.1", P_F, V_F, hop_response, 0, 0, 10},
	{"forward.via", "Via added to the request and the response", "RFC 9110 §7.6.3", P_F, V_F,
	 via, 0, 0, 10},
	{"forward.error.400", "a malformed request head gets 400 and goes no further",
	 "RFC 9112 §5.1", P_F, V_F, bad_request, 0, 0, 10},
	{"forward.error.431", "an oversized request head gets 431 or 400", "RFC 6585 §5", P_F, V_F,
	 too_large, 96 * 1024, 0, 15},
	{"forward.smuggle.cl-te", "Content-Length with Transfer-Encoding never forwarded raw",
	 "RFC 9112 §6.1", P_F, V_F, smuggle, SM_CL_TE, 0, 10},
	{"forward.smuggle.dup-cl", "conflicting Content-Length never forwarded raw",
	 "RFC 9112 §6.3 (rule 5)", P_F, V_F, smuggle, SM_DUP_CL, 0, 10},
	{"forward.smuggle.obs-fold", "an obs-fold never forwarded raw", "RFC 9112 §5.2", P_F, V_F,
	 smuggle, SM_FOLD, 0, 10},
	{"forward.smuggle.bare-lf", "a bare LF never forwarded raw", "RFC 9112 §2.2", P_F, V_F,
	 smuggle, SM_BARE_LF, 0, 10},
};

const struct ck_table ck_rules_checks = {defs, sizeof defs / sizeof defs[0]};
