/* inject — see inject.h; fault.h has the table of where each fault acts. */
#include "proxy-under-test/inject.h"

#include <stdio.h>
#include <string.h>

#include "lib/socks5.h"
#include "proxy-under-test/relay.h"
#include "proxy-under-test/server.h"

#define SLOW_WINDOW_US 1000000u /* slow:bps=N: N bytes per window of one second */

static const struct fault *find(const struct session *s, enum fault_kind kind, enum fault_dir dir)
{
	return fault_set_find(&s->faults, kind, dir);
}

/* Fault f of the session acted (once more). */
static void acted(struct session *s, const struct fault *f)
{
	fault_set_acted(&s->faults, s->fault_acts, f);
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
	s->faults.n = 0;
	loop_timer_init(&s->slow_timer, on_slow, s);
}

void inject_free(struct session *s)
{
	if (s)
		loop_timer_stop(&s->w->loop, &s->slow_timer);
}

void inject_key(struct proxy_worker *w, const char *id, const char *host, char *out, size_t cap)
{
	const char *dash = strchr(id, '-');
	if (id[0]) {
		/* The same request of the same target in every run, whatever the run prefix. */
		snprintf(out, cap, "%s", dash && dash[1] ? dash + 1 : id);
		return;
	}
	/* No id (SOCKS5, a client that is not the probe): the k-th tunnel to this host. The
	 * port is left out: a test origin's port changes from run to run, its name does
	 * not. Hosts share a counter only when they share a slot, which keeps the count
	 * deterministic for a given arrival order. */
	atomic_uint_fast64_t *seq = &w->shared->key_seq[fault_key_hash(host) % PROXY_KEY_SLOTS];
	unsigned long long k = (unsigned long long)atomic_fetch_add(seq, 1);
	snprintf(out, cap, "%s#%llu", host, k);
}

void inject_pick(struct session *s)
{
	const struct proxy_config *cfg = s->w->cfg;
	if (!cfg->nfaults)
		return;
	inject_key(s->w, s->id, s->host, s->fault_key, sizeof s->fault_key);
	fault_set_pick(&s->faults, cfg->faults, cfg->nfaults, fault_key_hash(s->fault_key));
}

bool inject_request(struct session *s)
{
	const struct fault *f = find(s, FAULT_CLOSE_BEFORE_REPLY, FAULT_DOWN);
	if (f) {
		acted(s, f);
		if (!s->first_close)
			s->first_close = "proxy->client";
		session_close(s, false, false);
		return true;
	}
	f = find(s, FAULT_REFUSE, FAULT_DOWN);
	if (f) {
		acted(s, f);
		session_refuse(s, s->kind == SK_SOCKS5 ? SOCKS5_REP_NOT_ALLOWED : 403, "Forbidden");
		return true;
	}
	return false;
}

bool inject_reply(struct session *s, const char *reply, size_t len)
{
	const struct fault *mid = find(s, FAULT_CLOSE_MID_REPLY, FAULT_DOWN);
	const struct fault *after = find(s, FAULT_CLOSE_AFTER_ACCEPT, FAULT_DOWN);
	if (!reply) {
		/* Forward: the origin leg is up and the request accepted; close-mid-reply waits
		 * for the response head (inject_response_head). */
		if (!after)
			return false;
		acted(s, after);
		s->first_close = "proxy->client";
		session_close(s, false, false);
		return true;
	}
	if (mid) {
		acted(s, mid);
		len /= 2;
		s->close_after_reply = true;
	} else if (after) {
		acted(s, after);
		s->close_after_reply = true;
	}
	if (s->close_after_reply && !s->first_close)
		s->first_close = "proxy->client";
	relay_queue_client(s, reply, len);
	return false;
}

size_t inject_response_head(struct session *s, size_t len)
{
	const struct fault *mid = find(s, FAULT_CLOSE_MID_REPLY, FAULT_DOWN);
	if (!mid || s->close_after_reply)
		return len;
	acted(s, mid);
	s->close_after_reply = true;
	if (!s->first_close)
		s->first_close = "proxy->client";
	return len / 2;
}

void inject_read(struct session *s, const struct flow *f, char *buf, size_t len)
{
	const struct fault *corrupt = find(s, FAULT_CORRUPT, session_dir(s, f));
	uint64_t first = f->received - len; /* the stream position of buf[0] */
	if (corrupt && corrupt->n >= first && corrupt->n < f->received) {
		buf[corrupt->n - first] ^= 0x01;
		acted(s, corrupt);
	}
}

bool inject_last_chunk(struct session *s, struct flow *f)
{
	const struct fault *drop = find(s, FAULT_DROP_CHUNK_END, session_dir(s, f));
	if (!drop || f->len - f->off < 5 || !fault_ends_last_chunk(f->buf + f->off, f->len - f->off))
		return false;
	f->len -= 5;
	f->dropped += 5;
	acted(s, drop);
	return true;
}

/* A cut fault's byte is reached: make the cut. Returns 0 (held)
 * or -1 (closed), as inject_write(). */
static int cut(struct session *s, struct flow *f, const struct fault *fault)
{
	struct leg *dst = session_dst(s, f);
	acted(s, fault);
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
	 * trimmed to reach the byte was the short send, unless the cut fell between writes.
	 * The rest is every relayed byte pending, not just want (a streams leg's slice). */
	f->dropped += (f->ctl ? f->ctl_off : f->len) - f->off;
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
			return cut(s, f, c);
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
			acted(s, slow); /* it held bytes back: the pace is the fault's */
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

int inject_sent(struct session *s, struct flow *f)
{
	const struct fault *c = find(s, FAULT_SHORT_SEND_DROP, session_dir(s, f));
	size_t end = f->ctl ? f->ctl_off : f->len; /* relayed bytes up to a reply of our own */
	if (!c || f->discard || f->off >= end || f->sent < c->n)
		return 1;
	acted(s, c);
	f->short_sends++; /* the completion it took for a partial one */
	f->discard = true; /* flush() drops the rest, and all that follows */
	struct leg *dst = session_dst(s, f);
	if (!s->first_close)
		s->first_close = dst == &s->client ? "proxy->client" : "proxy->upstream";
	leg_shutdown_write(dst);
	return 1;
}

int inject_eof(struct session *s, struct flow *f)
{
	enum fault_dir dir = session_dir(s, f);
	const struct fault *fault = find(s, FAULT_NO_FIN, dir);
	if (fault) {
		acted(s, fault);
		return 0; /* the end is never signalled: the receiver waits */
	}
	fault = find(s, FAULT_FULL_CLOSE, dir);
	if (fault) {
		acted(s, fault);
		if (!s->first_close)
			s->first_close = session_dst(s, f) == &s->client ? "proxy->client" : "proxy->upstream";
		session_close(s, false, false);
		return -1;
	}
	return 1;
}

bool inject_reset(struct session *s, struct flow *f)
{
	const struct fault *fault = find(s, FAULT_RESET_AS_FIN, session_dir(s, f));
	if (!fault)
		return false;
	struct leg *src = session_src(s, f);
	acted(s, fault);
	if (src->end == END_OPEN)
		src->end = END_RST; /* the ledger keeps the truth; the other side sees a FIN */
	if (!s->first_close)
		s->first_close = src == &s->client ? "client" : "upstream";
	f->eof = true;
	return true;
}

void inject_snapshot(const struct session *s, uint32_t acts[FAULT_MAX])
{
	memcpy(acts, s->fault_acts, sizeof s->fault_acts);
}
