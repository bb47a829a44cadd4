/* tun — the client side of the two tunnel handshakes a check drives by hand: HTTP
 * CONNECT (RFC 9110 §9.3.6) and SOCKS5 (RFC 1928, RFC 1929 user/password), with every
 * knob a check needs to send what a normal client would not (a method set, a bad
 * address type, an unsupported command). Bytes read past a reply stay in the struct
 * cx: they are the tunnel's first bytes.
 */
#ifndef TP_CHECK_TUN_H
#define TP_CHECK_TUN_H

#include <stdbool.h>
#include <stdint.h>

#include "check/cio.h"
#include "check/cx.h"
#include "lib/socks5.h"
#include "lib/url.h"

struct ck_outcome;

/* Sends "CONNECT authority HTTP/1.1" (Host, extra header lines) and reads the reply
 * head into r (zero-filled). Returns the status, or -1 when no whole head came (r->end,
 * c->end say how it ended). */
int tun_connect(struct cio *c, struct cx *x, const char *authority, const char *extra,
		struct cx_resp *r, uint64_t deadline);
/* Fails out with why a CONNECT to authority did not give 2xx. */
void tun_connect_failed(struct ck_outcome *out, const struct cio *c, const struct cx_resp *r,
			int status, const char *authority);

struct tun_socks5 {
	/* what to send */
	bool offer_none, offer_userpass;
	char user[256], pass[256];
	uint8_t cmd;             /* SOCKS5_CMD_CONNECT unless a check wants another */
	uint8_t raw_atyp;        /* non-zero: send this address type with 4 address bytes */
	struct socks5_addr dst;
	/* what came back */
	int method;              /* the method chosen, -1 before */
	int auth_status;         /* RFC 1929 status, -1 when no auth took place */
	int rep;                 /* the reply code, -1 when none came */
	struct socks5_addr bound;
	const char *stage;       /* where it stopped: "connect", "method", "auth", "reply", "done" */
	char why[200];
};

/* Defaults: offers no-auth, and user/password when the proxy URL carries them;
 * CONNECT; dst to fill in. */
void tun_socks5_init(struct tun_socks5 *s, const struct url *proxy);
/* Runs the handshake. Returns 0 when the reply was 0 (succeeded), else -1 with
 * s->stage and s->why set (a refusal's code in s->rep, a method refusal in s->method). */
int tun_socks5(struct cio *c, struct cx *x, struct tun_socks5 *s, uint64_t deadline);

#endif
