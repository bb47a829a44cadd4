/* upstream — see upstream.h. */
#include "proxy-under-test/upstream.h"

#include <errno.h>
#include <string.h>

#include "proxy-under-test/chain.h"
#include "proxy-under-test/inject.h"
#include "proxy-under-test/server.h"

static void upstream_send(struct session *s, int len)
{
	s->ctl_len = len > 0 ? (size_t)len : 0;
	s->ctl_off = 0;
	s->down.len = s->down.off = 0;
}

void upstream_start(struct session *s)
{
	s->state = SS_UPSTREAM;
	loop_timer_start(&s->w->loop, &s->timer, (uint64_t)(s->w->cfg->handshake_timeout_s * 1e6));
	/* The messages and the parsing of the replies are chain.c's (sans I/O, shared with
	 * the QUIC tunnels); here they go through the leg. */
	int n = chain_start(&s->chain, &s->w->cfg->upstream, s->host, s->port, s->target, s->id,
			    s->ctl, sizeof s->ctl);
	if (n < 0) {
		session_fail_upstream(s, -EPROTO, "upstream proxy request too long");
		return;
	}
	upstream_send(s, n);
	leg_watch(s, &s->up, LOOP_WRITE);
}

/* The upstream proxy's reply (its first r bytes of down) said yes: bytes after it
 * already belong to the origin, received like any other (the client gets them after
 * the proxy's own reply). */
static void upstream_early(struct session *s, size_t r)
{
	struct flow *f = &s->down;
	memmove(f->buf, f->buf + r, f->len - r);
	f->len -= r;
	f->received += f->len;
	if (f->len) {
		f->recv_ops++;
		inject_read(s, f, f->buf, f->len);
	}
	session_established(s);
}

/* n bytes of the message to the upstream proxy went out: once all did, its reply is
 * awaited. */
void upstream_wrote(struct session *s, size_t n)
{
	s->ctl_off += n;
	leg_watch(s, &s->up, s->ctl_off < s->ctl_len ? LOOP_WRITE : LOOP_READ);
}

/* Reads and handles the upstream proxy's replies. */
void upstream_step(struct session *s)
{
	if (s->ctl_off < s->ctl_len) {
		long n = leg_write(&s->up, s->ctl + s->ctl_off, s->ctl_len - s->ctl_off);
		if (n == -EAGAIN || n == LEG_POSTED)
			return; /* a streams leg says what it took in session_on_written() */
		if (n < 0) {
			session_fail_upstream(s, (int)n, "upstream proxy write failed");
			return;
		}
		upstream_wrote(s, (size_t)n);
		return;
	}
	struct flow *f = &s->down;
	long n = leg_read(&s->up, f->buf + f->len, sizeof f->buf - f->len, NULL);
	if (n == -EAGAIN)
		return;
	if (n <= 0) {
		/* The upstream proxy aborted its reply: a correct proxy says 502. */
		session_fail_upstream(s, -ECONNRESET, "upstream proxy closed before its reply");
		return;
	}
	f->len += (size_t)n;
	size_t used = 0, outlen = 0;
	int r = chain_feed(&s->chain, (const uint8_t *)f->buf, f->len, &used, s->ctl, sizeof s->ctl,
			   &outlen);
	if (r == CHAIN_NEED_MORE)
		return;
	if (r < 0) {
		f->len = 0;
		session_fail_upstream(s, r, "upstream proxy refused");
		return;
	}
	if (r == CHAIN_OPEN) {
		/* Bytes after the reply already belong to the origin: keep them for the client. */
		upstream_early(s, used);
		return;
	}
	upstream_send(s, (int)outlen); /* the next SOCKS5 step; a reply says nothing more */
	leg_watch(s, &s->up, LOOP_WRITE);
}
