/* ck — see ck.h. */
#include "check/ck.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/tun.h"
#include "lib/socks5.h"

const char *ck_result_name(enum ck_result r)
{
	static const char *const names[] = {
		[CK_PASS] = "pass", [CK_FAIL] = "fail", [CK_SKIP] = "skip", [CK_WARN] = "warn"};
	return (unsigned)r < 4 ? names[r] : "?";
}

/* Text that came from the proxy or the origin may hold any byte: outputs get printable
 * ASCII only (JSON needs valid UTF-8, a terminal needs no escapes). */
static void printable(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			*s = '?';
}

void ck_result(struct ck_outcome *o, enum ck_result r, const char *fmt, ...)
{
	/* The first failure decides: later steps of a failed check only add evidence. */
	if (o->decided && o->result == CK_FAIL)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(o->detail, sizeof o->detail, fmt, ap);
	va_end(ap);
	printable(o->detail);
	o->result = r;
	o->decided = true;
}

static struct ck_fact *fact(struct ck_outcome *o, const char *key)
{
	for (size_t i = 0; i < o->nfacts; i++)
		if (strcmp(o->facts[i].key, key) == 0)
			return &o->facts[i];
	if (o->nfacts == CK_MAX_FACTS)
		return NULL;
	struct ck_fact *f = &o->facts[o->nfacts++];
	memset(f, 0, sizeof *f);
	snprintf(f->key, sizeof f->key, "%s", key);
	return f;
}

void ck_num(struct ck_outcome *o, const char *key, uint64_t v)
{
	struct ck_fact *f = fact(o, key);
	if (f) {
		f->is_num = true;
		f->num = v;
	}
}

void ck_str(struct ck_outcome *o, const char *key, const char *fmt, ...)
{
	struct ck_fact *f = fact(o, key);
	if (!f)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->str, sizeof f->str, fmt, ap);
	va_end(ap);
	printable(f->str);
	f->is_num = false;
}

void ck_evidence(struct ck_outcome *o, const struct cio *c, const struct cx_resp *r,
		 const struct corigin_req *req)
{
	if (c) {
		ck_num(o, "client_sent", c->sent);
		ck_num(o, "client_received", c->received);
		ck_str(o, "client_end", "%s", cio_end_name(c->end));
	}
	if (r) {
		if (r->status)
			ck_num(o, "status", (uint64_t)r->status);
		ck_num(o, "body", r->body);
		ck_str(o, "response_end", "%s", cx_end_name(r->end));
	}
	if (req) {
		ck_num(o, "origin_received", req->head_len + req->body_received);
		ck_num(o, "origin_sent", req->resp_sent);
	}
}

const char *ck_tag(struct ck *ck, char out[OPLAN_MAX_TAG])
{
	snprintf(out, OPLAN_MAX_TAG, "%s-%u", ck->nonce, ++ck->seq);
	return out;
}

uint64_t ck_step(const struct ck *ck, uint64_t ms)
{
	uint64_t d = cio_deadline_ms(ms);
	return d < ck->deadline ? d : ck->deadline;
}

int ck_head(const struct ck *ck, enum ck_via via, char *out, size_t cap, const char *method,
	    const char *path, const char *extra)
{
	const char *auth = ck->authority;
	int n;
	if (via == CK_VIA_FORWARD)
		n = snprintf(out, cap, "%s http://%s%s HTTP/1.1\r\nHost: %s\r\n%s\r\n", method, auth,
			     path, auth, extra ? extra : "");
	else
		n = snprintf(out, cap, "%s %s HTTP/1.1\r\nHost: %s\r\n%s\r\n", method, path, auth,
			     extra ? extra : "");
	return n < 0 || (size_t)n >= cap ? -1 : n;
}

/* The SOCKS5 destination for authority "h:p" / "[v6]:p". */
static int socks_dst(const char *authority, struct socks5_addr *dst)
{
	char host[256];
	const char *colon = strrchr(authority, ':');
	if (!colon || (size_t)(colon - authority) >= sizeof host)
		return -1;
	size_t hl = (size_t)(colon - authority);
	const char *h = authority;
	if (h[0] == '[' && hl >= 2) {
		h++;
		hl -= 2;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	unsigned long port = strtoul(colon + 1, NULL, 10);
	return socks5_addr_from_host(dst, host, (uint16_t)port);
}

int ck_open(struct ck *ck, enum ck_via via, const char *authority, struct cio *c, struct cx *x,
	    struct ck_outcome *out)
{
	const char *auth = authority ? authority : ck->authority;
	const struct net_addr *to = via == CK_VIA_GATEWAY ? &ck->gateway
				    : via == CK_VIA_DIRECT ? &ck->origin.addr
							   : &ck->proxy;
	uint64_t deadline = ck_step(ck, 5000);
	int rc = cio_connect(c, to, deadline);
	cx_init(x, c);
	if (rc < 0) {
		char a[NET_ADDRSTRLEN];
		ck_result(out, CK_FAIL, "cannot connect to %s: %s", net_addr_format(to, a),
			  rc == -ETIMEDOUT ? "timed out" : strerror(-rc));
		return -1;
	}
	if (via == CK_VIA_CONNECT) {
		struct cx_resp r = {0};
		int status = tun_connect(c, x, auth, NULL, &r, deadline);
		if (status / 100 != 2) {
			tun_connect_failed(out, c, &r, status, auth);
			cio_close(c);
			return -1;
		}
	} else if (via == CK_VIA_SOCKS5) {
		struct tun_socks5 s;
		tun_socks5_init(&s, &ck->args->proxy);
		if (socks_dst(auth, &s.dst) < 0 || tun_socks5(c, x, &s, deadline) < 0) {
			ck_result(out, CK_FAIL, "SOCKS5 CONNECT to %s failed: %s", auth, s.why);
			ck_str(out, "socks5_stage", "%s", s.stage);
			cio_close(c);
			return -1;
		}
	}
	return 0;
}

int ck_get(struct ck *ck, enum ck_via via, const char *path, const char *extra,
	   struct cio *c, struct cx *x, struct cx_resp *r, struct ck_outcome *out)
{
	char head[2048];
	if (ck_open(ck, via, NULL, c, x, out) < 0)
		return -1;
	int n = ck_head(ck, via, head, sizeof head, "GET", path, extra);
	if (n < 0 || cio_write(c, head, (size_t)n, ck_step(ck, 5000)) < 0)
		return -1;
	return cx_read_response(x, 0, r, ck->deadline);
}

bool ck_bad_response(struct ck_outcome *o, const struct cio *c, const struct cx_resp *r,
		     int want, uint64_t want_body)
{
	if (r->end == CX_NO_HEAD || (r->end == CX_TIMEOUT && !r->status)) {
		ck_result(o, CK_FAIL, "no response: the connection %s after %" PRIu64 " bytes",
			  r->end == CX_TIMEOUT ? "stayed silent until the deadline"
			  : c->end == CIO_RESET ? "was reset"
						: "was closed",
			  c->received);
		return true;
	}
	if (r->end == CX_PROTOCOL && !r->status) {
		ck_result(o, CK_FAIL, "malformed response head (%s)", http1_strerror(r->proto_err));
		return true;
	}
	if (want && r->status != want) {
		ck_result(o, CK_FAIL, "status %d, want %d", r->status, want);
		return true;
	}
	if (r->end != CX_COMPLETE) {
		ck_result(o, CK_FAIL, "the body ended %s after %" PRIu64 " of %" PRIu64 " bytes%s%s",
			  cx_end_name(r->end), r->body, want_body,
			  r->end == CX_PROTOCOL ? ": " : "",
			  r->end == CX_PROTOCOL ? http1_strerror(r->proto_err) : "");
		return true;
	}
	if (r->bad_at >= 0) {
		ck_result(o, CK_FAIL, "body corrupted: byte %ld differs from what the origin sent",
			  r->bad_at);
		return true;
	}
	if (want_body != UINT64_MAX && r->body != want_body) {
		ck_result(o, CK_FAIL, "body of %" PRIu64 " bytes, want %" PRIu64, r->body, want_body);
		return true;
	}
	if (want_body != UINT64_MAX && want_body > 0 && !r->has_seed) {
		ck_result(o, CK_FAIL, "the response lost the X-Tp-Seed header: bytes unverified");
		return true;
	}
	return false;
}

int ck_closed_authority(char *out, size_t cap)
{
	struct net_addr a;
	net_addr_from_ip("127.0.0.1", 0, &a);
	int fd = net_listen(&a, 1, false);
	if (fd < 0)
		return fd;
	int rc = net_local_addr(fd, &a);
	net_close(fd);
	if (rc < 0)
		return rc;
	snprintf(out, cap, "127.0.0.1:%u", net_addr_port(&a));
	return 0;
}
