/* c_socks5 — what is particular to SOCKS5 (RFC 1928, RFC 1929): the method
 * negotiation (no-auth, user/password, a wrong password), the three address types
 * (IPv4, IPv6, a domain the proxy resolves: socks5h), and the reply codes for a closed
 * port (5), an unreachable address (3/4), a refused destination (2), a bad address type
 * (8) and an unsupported command (7), after which the proxy must close. */
#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "check/battery.h"
#include "check/ck.h"
#include "check/tun.h"

#define V_S CK_VIA_SOCKS5
#define P_S CK_PROFILE_SOCKS5

/* Connects to the proxy and runs the handshake of s. Returns what tun_socks5() does,
 * or -2 when the proxy cannot be reached (o failed). */
static int s5(struct ck *ck, struct ck_outcome *o, struct tun_socks5 *s, struct cio *c,
	      struct cx *x)
{
	int rc = cio_connect(c, &ck->proxy, ck_step(ck, 5000));
	cx_init(x, c);
	if (rc < 0) {
		ck_result(o, CK_FAIL, "cannot connect to the proxy: %s", strerror(-rc));
		return -2;
	}
	rc = tun_socks5(c, x, s, ck->deadline);
	ck_str(o, "stage", "%s", s->stage);
	if (s->method >= 0)
		ck_num(o, "method", (uint64_t)s->method);
	if (s->rep >= 0)
		ck_num(o, "reply", (uint64_t)s->rep);
	return rc;
}

static bool has_credentials(const struct ck *ck)
{
	return ck->args->proxy.has_userinfo && ck->args->proxy.user[0];
}

static void dst_origin(struct ck *ck, struct tun_socks5 *s)
{
	socks5_addr_from_host(&s->dst, "127.0.0.1", ck->origin_port);
}

/* One GET through an open tunnel: the tunnel carries bytes both ways, exactly. */
static void exchange(struct ck *ck, struct ck_outcome *o, struct cio *c, struct cx *x,
		     const char *how)
{
	char tag[OPLAN_MAX_TAG], path[128], head[512];
	struct cx_resp r = {0};
	snprintf(path, sizeof path, "/t/%s/bytes/65536", ck_tag(ck, tag));
	int n = ck_head(ck, V_S, head, sizeof head, "GET", path, NULL);
	cio_write(c, head, (size_t)n, ck->deadline);
	cx_read_response(x, 0, &r, ck->deadline);
	ck_evidence(o, c, &r, NULL);
	if (!ck_bad_response(o, c, &r, 200, 65536))
		ck_result(o, CK_PASS, "%s; 64 KiB through the tunnel byte-exact", how);
}

static void method_noauth(struct ck *ck, const struct ck_def *d, struct ck_outcome *o)
{
	struct cio c;
	struct cx x;
	struct tun_socks5 s;
	tun_socks5_init(&s, NULL);
	dst_origin(ck, &s);
	int rc = s5(ck, o, &s, &c, &x);
	if (rc == -2)
		return;
	if (has_credentials(ck))
		ck_result(o, s.method == SOCKS5_METHOD_UNACCEPTABLE ? CK_PASS : CK_FAIL,
			  s.method == SOCKS5_METHOD_UNACCEPTABLE
				  ? "a proxy that wants a password refused no-auth with 0xff"
				  : "a proxy given credentials accepted a client without them (%s)", s.why);
	else if (rc == 0)
		exchange(ck, o, &c, &x, "no-auth accepted");
	else
		ck_result(o, CK_FAIL, "no-auth handshake failed at %s: %s", s.stage, s.why);
	cio_close(&c);
}

/* Offers user/password alone: with credentials the whole exchange must work; without,
 * a proxy that has no passwords must say 0xff (it may not pick no-auth, not offered). */
static void method_userpass(struct ck *ck, const struct ck_def *d, struct ck_outcome *o)
{
	struct cio c;
	struct cx x;
	struct tun_socks5 s;
	tun_socks5_init(&s, &ck->args->proxy);
	s.offer_none = false;
	s.offer_userpass = true;
	if (!has_credentials(ck)) {
		snprintf(s.user, sizeof s.user, "tunnelprobe");
		snprintf(s.pass, sizeof s.pass, "check");
	}
	dst_origin(ck, &s);
	int rc = s5(ck, o, &s, &c, &x);
	if (rc == -2)
		return;
	if (has_credentials(ck)) {
		if (rc == 0)
			exchange(ck, o, &c, &x, "user/password accepted");
		else
			ck_result(o, CK_FAIL, "user/password handshake failed at %s: %s", s.stage, s.why);
	} else if (s.method == SOCKS5_METHOD_UNACCEPTABLE) {
		ck_result(o, CK_PASS, "no passwords configured: 0xff to a user/password-only greeting");
	} else if (s.method == SOCKS5_METHOD_USERPASS) {
		ck_result(o, CK_PASS, "the proxy asked for user/password (%s)",
			  s.auth_status == 0 ? "and took ours" : "and refused ours");
	} else {
		ck_result(o, CK_FAIL, "the proxy %s", s.why[0] ? s.why : "chose a method not offered");
	}
	cio_close(&c);
}

static void auth_bad(struct ck *ck, const struct ck_def *d, struct ck_outcome *o)
{
	struct cio c;
	struct cx x;
	struct tun_socks5 s;
	if (!has_credentials(ck)) {
		ck_result(o, CK_SKIP, "no user:password in --proxy to get wrong");
		return;
	}
	tun_socks5_init(&s, &ck->args->proxy);
	s.offer_none = false;
	/* A different password of a length RFC 1929 allows. */
	snprintf(s.pass, sizeof s.pass, "%.200s-wrong", ck->args->proxy.pass);
	dst_origin(ck, &s);
	int rc = s5(ck, o, &s, &c, &x);
	if (rc == -2)
		return;
	enum cio_end e = s.auth_status > 0 ? cio_drain(&c, ck_step(ck, 3000), NULL) : c.end;
	if (rc == 0 || s.auth_status == 0)
		ck_result(o, CK_FAIL, "a wrong password was accepted");
	else if (s.auth_status < 0)
		ck_result(o, CK_FAIL, "no user/password exchange took place (%s)", s.why);
	else if (e == CIO_TIMEOUT)
		ck_result(o, CK_FAIL, "refused (status %d) but the connection stayed open (MUST close)",
			  s.auth_status);
	else
		ck_result(o, CK_PASS, "a wrong password refused (status %d), then the connection closed",
			  s.auth_status);
	cio_close(&c);
}

/* CONNECT by address type: arg 1 IPv4, 4 IPv6, 3 a domain name. */
static void atyp(struct ck *ck, const struct ck_def *d, struct ck_outcome *o)
{
	struct cio c;
	struct cx x;
	struct tun_socks5 s;
	tun_socks5_init(&s, &ck->args->proxy);
	const char *host = d->arg == SOCKS5_ATYP_IPV6 ? "::1"
			   : d->arg == SOCKS5_ATYP_DOMAIN ? "localhost"
							  : "127.0.0.1";
	uint16_t port = ck->origin_port;
	if (d->arg == SOCKS5_ATYP_IPV6) {
		if (!ck->origin.addr6.len) {
			ck_result(o, CK_SKIP, "this host has no IPv6 loopback for the origin");
			return;
		}
		port = net_addr_port(&ck->origin.addr6);
	}
	socks5_addr_from_host(&s.dst, host, port);
	ck_str(o, "target", "%s", host);
	int rc = s5(ck, o, &s, &c, &x);
	if (rc == 0) {
		char bound[300];
		if (socks5_addr_format(&s.bound, bound, sizeof bound) > 0)
			ck_str(o, "bound", "%s", bound);
		exchange(ck, o, &c, &x, "reply 0");
	} else if (rc != -2) {
		ck_result(o, CK_FAIL, "CONNECT to %s failed at %s: %s", host, s.stage, s.why);
	}
	cio_close(&c);
}

/* A refusal by reply code. arg: which; the codes that pass are in the table row. */
enum { R5_PORT, R5_UNREACHABLE, R5_POLICY, R5_ATYP, R5_COMMAND, R5_CLOSES };

static void reply_code(struct ck *ck, const struct ck_def *d, struct ck_outcome *o)
{
	struct cio c;
	struct cx x;
	struct tun_socks5 s;
	char auth[NET_ADDRSTRLEN + 64];
	tun_socks5_init(&s, &ck->args->proxy);
	dst_origin(ck, &s);
	switch (d->arg) {
	case R5_PORT:
	case R5_CLOSES:
		if (ck_closed_authority(auth, sizeof auth) < 0) {
			ck_result(o, CK_SKIP, "no free port to aim at");
			return;
		}
		socks5_addr_from_host(&s.dst, "127.0.0.1", (uint16_t)atoi(strrchr(auth, ':') + 1));
		break;
	case R5_UNREACHABLE: /* Linux refuses TCP to multicast at once: nothing leaves */
		socks5_addr_from_host(&s.dst, "224.0.0.1", 9);
		break;
	case R5_POLICY: {
		const char *den = ck->args->denied;
		if (!den) {
			ck_result(o, CK_SKIP, "no --denied HOST:PORT given (a destination the proxy's "
				  "policy refuses)");
			return;
		}
		char h[256];
		const char *colon = strrchr(den, ':');
		snprintf(h, sizeof h, "%.*s", (int)(colon - den), den);
		socks5_addr_from_host(&s.dst, h, (uint16_t)atoi(colon + 1));
		break;
	}
	case R5_ATYP:
		s.raw_atyp = 9;
		break;
	default:
		s.cmd = 9; /* no such command */
	}
	int rc = s5(ck, o, &s, &c, &x);
	if (rc == -2)
		return;
	unsigned want = (unsigned)d->arg2, rep = (unsigned)s.rep;
	enum cio_end e = s.rep > 0 ? cio_drain(&c, ck_step(ck, 11000), NULL) : c.end;
	ck_str(o, "after_reply", "%s", cio_end_name(e));
	if (rc == 0 || s.rep == 0)
		ck_result(o, CK_FAIL, "reply 0 (succeeded) for a request that cannot succeed");
	else if (d->arg == R5_CLOSES)
		ck_result(o, e == CIO_TIMEOUT ? CK_FAIL : CK_PASS, e == CIO_TIMEOUT
			  ? "reply %d, then the connection stayed open past 10 s (MUST close)"
			  : "reply %d, then the connection closed", s.rep);
	else if (s.rep < 0)
		ck_result(o, CK_WARN, "no reply: %s", s.why);
	else if (rep == (want & 0xff) || rep == (want >> 8))
		ck_result(o, CK_PASS, "reply %d (%s)", s.rep, socks5_reply_name(s.rep));
	else
		ck_result(o, CK_WARN, "reply %d (%s), where %u%s%.0u says why", s.rep,
			  socks5_reply_name(s.rep), want & 0xff, want >> 8 ? " or " : "", want >> 8);
	cio_close(&c);
}

static const struct ck_def defs[] = {
	{"socks5.method.noauth", "no-auth negotiated (or refused with 0xff when a password is due)",
	 "RFC 1928 §3", P_S, V_S, method_noauth, 0, 0, 10},
	{"socks5.method.userpass", "user/password negotiated; never a method not offered",
	 "RFC 1929 §2", P_S, V_S, method_userpass, 0, 0, 10},
	{"socks5.auth.bad", "a wrong password is refused and the connection closed",
	 "RFC 1929 §2", P_S, V_S, auth_bad, 0, 0, 10},
	{"socks5.atyp.ipv4", "CONNECT to an IPv4 address", "RFC 1928 §4", P_S, V_S, atyp,
	 SOCKS5_ATYP_IPV4, 0, 10},
	{"socks5.atyp.ipv6", "CONNECT to an IPv6 address", "RFC 1928 §4", P_S, V_S, atyp,
	 SOCKS5_ATYP_IPV6, 0, 10},
	{"socks5.atyp.domain", "CONNECT to a name the proxy resolves (socks5h)", "RFC 1928 §4",
	 P_S, V_S, atyp, SOCKS5_ATYP_DOMAIN, 0, 10},
	{"socks5.reply.refused", "a closed port gets reply 5", "RFC 1928 §6", P_S, V_S, reply_code,
	 R5_PORT, 5, 15},
	{"socks5.reply.unreachable", "an unreachable address gets reply 3 or 4", "RFC 1928 §6",
	 P_S, V_S, reply_code, R5_UNREACHABLE, 3 | 4 << 8, 15},
	{"socks5.reply.not-allowed", "a destination not allowed gets reply 2", "RFC 1928 §6", P_S,
	 V_S, reply_code, R5_POLICY, 2, 15},
	{"socks5.reply.atyp", "an unknown address type gets reply 8", "RFC 1928 §6", P_S, V_S,
	 reply_code, R5_ATYP, 8, 15},
	{"socks5.reply.command", "an unknown command gets reply 7", "RFC 1928 §6", P_S, V_S,
	 reply_code, R5_COMMAND, 7, 15},
	{"socks5.reply.closes", "the connection closes after a failure reply", "RFC 1928 §6", P_S,
	 V_S, reply_code, R5_CLOSES, 5, 15},
};

const struct ck_table ck_socks5_checks = {defs, sizeof defs / sizeof defs[0]};
