/* c_connect — what is particular to CONNECT tunnels: the 2xx reply has no body and the
 * tunnel's bytes start right after it (a server that speaks first), bytes sent right
 * after the request head are relayed, and refusals (policy, a closed port, an
 * unreachable address, a malformed authority) get their codes and end the connection. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "check/battery.h"
#include "check/ck.h"
#include "check/tun.h"
#include "lib/payload.h"

#define V_C CK_VIA_CONNECT
#define P_C CK_PROFILE_CONNECT

/* The multicast address the refusal checks aim at: Linux refuses a TCP connect to it
 * at once (ENETUNREACH) without sending a packet, so nothing leaves the host. */
#define UNREACHABLE "224.0.0.1:9"

/* Connects to the proxy and sends CONNECT to authority; r gets the reply head. */
static int connect_to(struct ck *ck, struct ck_outcome *o, const char *authority,
		      const char *extra, struct cio *c, struct cx *x, struct cx_resp *r)
{
	int rc = cio_connect(c, &ck->proxy, ck_step(ck, 5000));
	cx_init(x, c);
	if (rc < 0) {
		ck_result(o, CK_FAIL, "cannot connect to the proxy: %s", strerror(-rc));
		return -1;
	}
	return tun_connect(c, x, authority, extra, r, ck->deadline);
}

static void reply(struct ck *ck, const struct ck_def *d, struct ck_outcome *o)
{
	struct cio c;
	struct cx x;
	struct cx_resp r = {0};
	char v[64];
	int status = connect_to(ck, o, ck->authority, NULL, &c, &x, &r);
	if (o->decided)
		return;
	ck_evidence(o, &c, &r, NULL);
	if (status / 100 != 2)
		tun_connect_failed(o, &c, &r, status, ck->authority);
	else if (cx_header(&r, "Content-Length", v, sizeof v) ||
		 cx_header(&r, "Transfer-Encoding", v, sizeof v))
		ck_result(o, CK_FAIL, "the %d reply carries Content-Length or Transfer-Encoding "
			  "(MUST NOT)", status);
	else if (cx_pending(&x))
		ck_result(o, CK_FAIL, "%zu bytes followed the %d reply before the origin said "
			  "anything", cx_pending(&x), status);
	else
		ck_result(o, CK_PASS, "%d, no body, the tunnel open", status);
	cio_close(&c);
}

/* The banner origin writes first: exactly its bytes, then its FIN, must follow the
 * reply head. */
static void banner(struct ck *ck, const struct ck_def *d, struct ck_outcome *o)
{
	struct cio c;
	struct cx x;
	struct cx_resp r = {0};
	int status = connect_to(ck, o, ck->banner_authority, NULL, &c, &x, &r);
	if (o->decided)
		return;
	if (status / 100 != 2) {
		tun_connect_failed(o, &c, &r, status, ck->banner_authority);
		cio_close(&c);
		return;
	}
	uint64_t seed = payload_seed("/banner", 7), got = 0;
	long bad = -1;
	for (;;) {
		size_t n = cx_pending(&x);
		if (n) {
			long b = payload_verify(seed, got, x.buf + x.off, n);
			if (b >= 0 && bad < 0)
				bad = (long)got + b;
			got += n;
			x.off = x.len;
		}
		if (cx_fill(&x, ck_step(ck, 5000)) <= 0)
			break;
	}
	ck_num(o, "tunnel_bytes", got);
	ck_evidence(o, &c, NULL, NULL);
	if (bad >= 0)
		ck_result(o, CK_FAIL, "the tunnel's byte %ld differs from what the origin wrote", bad);
	else if (got != CORIGIN_BANNER || c.end != CIO_FIN)
		ck_result(o, CK_FAIL, "%" PRIu64 " of %d bytes the origin wrote first arrived, then %s",
			  got, CORIGIN_BANNER, c.end == CIO_OPEN ? "nothing (no FIN)" : cio_end_name(c.end));
	else
		ck_result(o, CK_PASS, "the origin's first %d bytes followed the reply exactly, then its "
			  "FIN", CORIGIN_BANNER);
	cio_close(&c);
}

/* The request to the origin goes out in the same write as the CONNECT head. */
static void early_data(struct ck *ck, const struct ck_def *d, struct ck_outcome *o)
{
	char tag[OPLAN_MAX_TAG], path[128], b[1024];
	struct cio c;
	struct cx x;
	struct cx_resp reply = {0}, r = {0};
	snprintf(path, sizeof path, "/t/%s/bytes/4096", ck_tag(ck, tag));
	int n = snprintf(b, sizeof b, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", ck->authority,
			 ck->authority);
	n += ck_head(ck, V_C, b + n, sizeof b - (size_t)n, "GET", path, NULL);
	int rc = cio_connect(&c, &ck->proxy, ck_step(ck, 5000));
	cx_init(&x, &c);
	if (rc < 0) {
		ck_result(o, CK_FAIL, "cannot connect to the proxy: %s", strerror(-rc));
		return;
	}
	cio_write(&c, b, (size_t)n, ck->deadline);
	if (cx_read_head(&x, HTTP1_REQ_CONNECT, &reply, ck->deadline) < 0 || reply.status / 100 != 2) {
		tun_connect_failed(o, &c, &reply, reply.status ? reply.status : -1, ck->authority);
	} else {
		cx_read_response(&x, 0, &r, ck_step(ck, 5000));
		ck_evidence(o, &c, &r, NULL);
		if (r.end == CX_TIMEOUT && !r.status)
			ck_result(o, CK_FAIL, "the bytes sent right after the CONNECT head were lost: "
				  "no answer to them");
		else if (!ck_bad_response(o, &c, &r, 200, 4096))
			ck_result(o, CK_PASS, "the request sent with the CONNECT head was relayed and "
				  "answered");
	}
	cio_close(&c);
}

/* A refusal: arg selects the destination. Expected codes in `want` (a 403 for policy,
 * 502/503/504 otherwise); with arg2 set, the verdict is whether the connection ends. */
enum { REF_PORT, REF_UNREACHABLE, REF_POLICY, REF_AUTHORITY };

static void refusal(struct ck *ck, const struct ck_def *d, struct ck_outcome *o)
{
	char auth[NET_ADDRSTRLEN + 64];
	struct cio c;
	struct cx x;
	struct cx_resp r = {0};
	switch (d->arg) {
	case REF_PORT:
		if (ck_closed_authority(auth, sizeof auth) < 0) {
			ck_result(o, CK_SKIP, "no free port to aim at");
			return;
		}
		break;
	case REF_UNREACHABLE:
		snprintf(auth, sizeof auth, UNREACHABLE);
		break;
	case REF_POLICY:
		if (!ck->args->denied) {
			ck_result(o, CK_SKIP, "no --denied HOST:PORT given (a destination the proxy's "
				  "policy refuses)");
			return;
		}
		snprintf(auth, sizeof auth, "%s", ck->args->denied);
		break;
	default:
		snprintf(auth, sizeof auth, "/t/not-an-authority");
	}
	ck_str(o, "target", "%s", auth);
	int status = connect_to(ck, o, auth, NULL, &c, &x, &r);
	if (o->decided)
		return;
	if (status > 0)
		cx_read_body(&x, &r, ck_step(ck, 3000));
	ck_evidence(o, &c, &r, NULL);
	bool ok;
	switch (d->arg) {
	case REF_POLICY: ok = status == 403; break;
	case REF_AUTHORITY: ok = status == 400; break;
	default: ok = status == 502 || status == 503 || status == 504 || status == 403;
	}
	if (d->arg2) { /* does the connection end after the refusal? */
		enum cio_end e = status > 0 ? cio_drain(&c, ck_step(ck, 3000), NULL) : c.end;
		ck_str(o, "after_refusal", "%s", cio_end_name(e));
		if (status / 100 == 2)
			ck_result(o, CK_FAIL, "a closed port was answered %d", status);
		else if (e == CIO_TIMEOUT)
			ck_result(o, CK_WARN, "the connection stayed open after the %d refusal: bytes a "
				  "client sent after its CONNECT would be read as a new request", status);
		else
			ck_result(o, CK_PASS, "after the %d refusal the proxy ended the connection (%s)",
				  status, cio_end_name(e));
	} else if (status / 100 == 2) {
		ck_result(o, CK_FAIL, "CONNECT %s answered %d: a tunnel to nowhere", auth, status);
	} else if (status < 0) {
		ck_result(o, CK_WARN, "no refusal status: the proxy %s the connection",
			  c.end == CIO_RESET ? "reset" : r.end == CX_TIMEOUT ? "kept silent on" : "closed");
	} else {
		ck_result(o, ok ? CK_PASS : CK_WARN, "refused with %d%s", status,
			  ok ? "" : d->arg == REF_POLICY ? " (403 is the rule)"
			       : d->arg == REF_AUTHORITY ? " (400 is the rule)"
							 : " (502, 503 or 504 say why)");
	}
	cio_close(&c);
}

static const struct ck_def defs[] = {
	{"connect.reply", "2xx with no body; the tunnel starts right after the head",
	 "RFC 9110 §9.3.6", P_C, V_C, reply, 0, 0, 10},
	{"connect.server-first", "an origin that speaks first: its bytes follow the reply exactly",
	 "RFC 9110 §9.3.6", P_C, V_C, banner, 0, 0, 10},
	{"connect.early-data", "bytes sent right after the CONNECT head are relayed",
	 "RFC 9110 §9.3.6", P_C, V_C, early_data, 0, 0, 10},
	{"connect.refused.port", "a closed port is refused with 502/503/504", "RFC 9110 §15.6.3",
	 P_C, V_C, refusal, REF_PORT, 0, 15},
	{"connect.refused.unreachable", "an unreachable address is refused with 502/503/504",
	 "RFC 9110 §15.6.3", P_C, V_C, refusal, REF_UNREACHABLE, 0, 15},
	{"connect.refused.policy", "a destination not allowed is refused with 403",
	 "RFC 9110 §15.5.4", P_C, V_C, refusal, REF_POLICY, 0, 15},
	{"connect.refused.authority", "a target not in authority form is refused with 400",
	 "RFC 9110 §9.3.6", P_C, V_C, refusal, REF_AUTHORITY, 0, 10},
	{"connect.refused.closes", "the connection ends after a refusal", "RFC 9110 §9.3.6", P_C,
	 V_C, refusal, REF_PORT, 1, 15},
};

const struct ck_table ck_connect_checks = {defs, sizeof defs / sizeof defs[0]};
