/* inject — see inject.h; fault.h has the table of where each fault acts. */
#include "proxy-under-test/inject.h"

#include <string.h>

#include "lib/socks5.h"
#include "proxy-under-test/relay.h"
#include "proxy-under-test/server.h"

#define SLOW_WINDOW_US 1000000u /* slow:bps=N: N bytes per window of one second */

static const struct fault *find(const struct session *s, enum fault_kind kind, enum fault_dir dir)
{
	return fault_set_find(&s->faults, kind, dir);
}

/* The slow fault's second is over: both directions may go on. */
static void on_slow(struct loop *loop, struct loop_timer *timer)
{
	struct session *s = timer->data;
	s->down.waiting = s->upf.waiting = false;
	relay_step(s);
}

void inject_init(struct session *s)
{
	const struct proxy_config *cfg = s->w->cfg;
	fault_set_pick(&s->faults, cfg->faults, cfg->nfaults, s->number);
	loop_timer_init(&s->slow_timer, on_slow, s);
}

void inject_free(struct session *s)
{
	if (s)
		loop_timer_stop(&s->w->loop, &s->slow_timer);
}

bool inject_request(struct session *s)
{
	if (find(s, FAULT_CLOSE_BEFORE_REPLY, FAULT_DOWN)) {
		session_close(s, false, false);
		return true;
	}
	if (find(s, FAULT_REFUSE, FAULT_DOWN)) {
		session_refuse(s, s->kind == SK_SOCKS5 ? SOCKS5_REP_NOT_ALLOWED : 403, "Forbidden");
		return true;
	}
	return false;
}

void inject_reply(struct session *s, const char *reply, size_t len)
{
	if (find(s, FAULT_CLOSE_MID_REPLY, FAULT_DOWN)) {
		len /= 2;
		s->close_after_reply = true;
	} else if (find(s, FAULT_CLOSE_AFTER_ACCEPT, FAULT_DOWN)) {
		s->close_after_reply = true;
	}
	relay_queue_client(s, reply, len);
}

void inject_read(struct session *s, const struct flow *f, char *buf, size_t len)
{
	const struct fault *corrupt = find(s, FAULT_CORRUPT, session_dir(s, f));
	uint64_t first = f->received - len; /* the stream position of buf[0] */
	if (corrupt && corrupt->n >= first && corrupt->n < f->received)
		buf[corrupt->n - first] ^= 0x01;
}

bool inject_last_chunk(struct session *s, struct flow *f)
{
	if (f != &s->down || !find(s, FAULT_DROP_CHUNK_END, FAULT_DOWN) ||
	    !fault_ends_last_chunk(f->buf, f->len))
		return false;
	f->len -= 5;
	f->dropped += 5;
	return true;
}

/* A cut fault's byte is reached with want bytes pending: make the cut. Returns 0 (held)
 * or -1 (closed), as inject_write(). */
static int cut(struct session *s, struct flow *f, const struct fault *fault, size_t want)
{
	struct leg *dst = session_dst(s, f);
	if (fault->kind == FAULT_STALL) {
		f->stalled = true; /* hold everything from here on; the idle timer ends it */
		return 0;
	}
	if (!s->first_close)
		s->first_close = dst == &s->client ? "proxy->client" : "proxy->upstream";
	if (fault->kind == FAULT_RST) {
		session_close(s, dst == &s->client, dst == &s->up);
		return -1;
	}
	/* truncate, the IOCP bug: the rest of a short send is dropped, then FIN. The write
	 * trimmed to reach the byte was the short send, unless the cut fell between writes. */
	f->dropped += want;
	if (!f->cut_short)
		f->short_sends++;
	f->off = f->len;
	f->ctl = 0; /* a reply queued behind the cut bytes goes with them */
	session_close(s, false, false);
	return -1;
}

int inject_write(struct session *s, struct flow *f, size_t *want)
{
	enum fault_dir dir = session_dir(s, f);
	const struct fault *c = find(s, FAULT_TRUNCATE, dir);
	if (!c)
		c = find(s, FAULT_RST, dir);
	if (!c)
		c = find(s, FAULT_STALL, dir);
	if (c && f->sent + *want > c->n) {
		if (f->sent >= c->n)
			return cut(s, f, c, *want);
		*want = (size_t)(c->n - f->sent);
		f->cut_short = true;
	}
	const struct fault *slow = find(s, FAULT_SLOW, dir);
	if (slow) {
		uint64_t now = loop_now(&s->w->loop);
		if (now - f->window_start_us >= SLOW_WINDOW_US) {
			f->window_start_us = now;
			f->window_sent = f->sent;
		}
		uint64_t in_window = f->sent - f->window_sent;
		uint64_t budget = slow->n > in_window ? slow->n - in_window : 0;
		if (budget == 0) {
			f->waiting = true;
			loop_timer_start_at(&s->w->loop, &s->slow_timer,
					    f->window_start_us + SLOW_WINDOW_US);
			return 0;
		}
		if (*want > budget)
			*want = (size_t)budget;
	}
	return 1;
}

int inject_eof(struct session *s, struct flow *f)
{
	enum fault_dir dir = session_dir(s, f);
	if (find(s, FAULT_NO_FIN, dir))
		return 0; /* the end is never signalled: the receiver waits */
	if (find(s, FAULT_FULL_CLOSE, dir)) {
		session_close(s, false, false);
		return -1;
	}
	return 1;
}
