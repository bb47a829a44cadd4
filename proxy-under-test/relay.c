/* relay — see relay.h. */
#include "proxy-under-test/relay.h"

#include <errno.h>
#include <string.h>

#include "lib/jsonw.h"
#include "proxy-under-test/forward.h"
#include "proxy-under-test/inject.h"
#include "proxy-under-test/server.h"

#define RELAY_STEPS 32 /* per event: a fast tunnel cannot starve the others */
/* A ledger line: its strings are bounded (the faults' specs, 8 x 160, the longest),
 * so even escaped at worst they fit. */
#define RELAY_LINE_MAX 16384

void relay_queue_client(struct session *s, const void *data, size_t len)
{
	struct flow *f = &s->down;
	if (len > sizeof f->buf - f->len)
		len = sizeof f->buf - f->len; /* replies are small: cannot happen */
	/* A forward session answers after what is queued (earlier responses); a tunnel's
	 * reply goes before any relayed byte (a chained upstream's early bytes wait). */
	size_t at = f->ctl ? f->ctl_off + f->ctl : s->kind == SK_FORWARD ? f->len : f->off;
	memmove(f->buf + at + len, f->buf + at, f->len - at);
	memcpy(f->buf + at, data, len);
	if (!f->ctl)
		f->ctl_off = at;
	f->ctl += len;
	f->len += len;
}

/* The ledger's names (docs/ledgers.md) of how a leg ended and of a session's kind. */
static const char *const end_names[] = {
	[END_OPEN] = "open", [END_FIN] = "fin", [END_RST] = "rst", [END_TIMEOUT] = "timeout",
	[END_LOCAL] = "local", [END_LOCAL_RST] = "local_rst",
};
static const char *const kind_names[] = {
	[SK_UNKNOWN] = "unknown", [SK_CONNECT] = "connect", [SK_SOCKS5] = "socks5",
	[SK_FORWARD] = "forward",
};

void relay_dir_json(struct jsonw *w, const char *key, const struct relay_dir *d)
{
	jsonw_key(w, key);
	jsonw_object_begin(w);
	jsonw_field_uint(w, "received", d->received);
	jsonw_field_uint(w, "sent", d->sent);
	jsonw_field_uint(w, "recv_ops", d->recv_ops);
	jsonw_field_uint(w, "send_ops", d->send_ops);
	jsonw_field_uint(w, "short_sends", d->short_sends);
	jsonw_field_uint(w, "dropped", d->dropped);
	jsonw_field_uint(w, "wire_sent", d->wire_sent);
	jsonw_object_end(w);
}

const char *relay_end_name(enum leg_end e)
{
	return (unsigned)e < sizeof end_names / sizeof end_names[0] && end_names[e] ? end_names[e] : "open";
}

static void flow_counts(const struct flow *f, struct relay_dir *d)
{
	*d = (struct relay_dir){f->received, f->sent, f->recv_ops, f->send_ops, f->short_sends,
				f->dropped, f->sent};
}

/* fault_acted: null without faults; true when each fault of the tunnel acted (since
 * acts0), false when one of them could not (drop-chunk-end in a TLS tunnel, a cut
 * past the last byte, ...). */
static void acted_json(struct jsonw *w, const struct session *s, const uint32_t *acts0)
{
	jsonw_key(w, "fault_acted");
	if (!s->faults.n) {
		jsonw_null(w);
		return;
	}
	bool all = true;
	for (size_t i = 0; i < s->faults.n; i++)
		if (s->fault_acts[i] <= (acts0 ? acts0[i] : 0))
			all = false;
	jsonw_bool(w, all);
}

/* A string field, null when absent or empty. */
static void field_text(struct jsonw *w, const char *key, const char *v)
{
	jsonw_field_string(w, key, v && v[0] ? v : NULL);
}

/* The line's fields (docs/ledgers.md), in their order. */
static void ledger_fields(struct jsonw *w, struct session *s, const struct relay_counts *c,
			  const char *faults, double duration)
{
	field_text(w, "id", c->id);
	jsonw_field_string(w, "kind", kind_names[s->kind]);
	jsonw_field_uint(w, "tunnel", s->number);
	if (c->index >= 0) {
		jsonw_field_int(w, "req", c->index);
		field_text(w, "method", c->method);
		if (c->status)
			jsonw_field_int(w, "status", c->status);
		else
			jsonw_field_null(w, "status");
	}
	jsonw_field_string(w, "client_peer", s->client.peer);
	jsonw_field_string(w, "client_local", s->client.local);
	field_text(w, "upstream_local", c->up_local);
	field_text(w, "upstream_peer", c->up_peer);
	field_text(w, "target", c->target);
	relay_dir_json(w, "down", &c->down);
	relay_dir_json(w, "up", &c->up);
	field_text(w, "first_close", c->final ? s->first_close : NULL);
	jsonw_field_string(w, "client_end", end_names[c->final ? s->client.end : END_OPEN]);
	jsonw_field_string(w, "upstream_end", end_names[c->final ? s->up.end : END_OPEN]);
	jsonw_field_bool(w, "shutdown_write_client", c->final && s->client.shut_wr);
	jsonw_field_bool(w, "shutdown_write_upstream", c->final && s->up.shut_wr);
	if (s->reply >= 0)
		jsonw_field_int(w, "reply", s->reply);
	else
		jsonw_field_null(w, "reply");
	field_text(w, "fault", faults);
	acted_json(w, s, c->acts0);
	field_text(w, "fault_key", s->fault_key);
	jsonw_field_real(w, "t", c->t);
	jsonw_field_real(w, "duration_ms", duration);
}

void relay_write_ledger(struct session *s, const struct relay_counts *c)
{
	struct ledger_file *ledger = &s->w->shared->ledger;
	if (!ledger_is_open(ledger))
		return; /* no --ledger: not even the JSON is built (forward writes one per request) */
	char faults[FAULT_SPECS_MAX];
	fault_set_specs(&s->faults, faults, sizeof faults);
	struct relay_counts own = {0};
	if (!c) {
		flow_counts(&s->down, &own.down);
		flow_counts(&s->upf, &own.up);
		own.id = s->id;
		own.target = s->target;
		own.up_local = s->up.local;
		own.up_peer = s->up.peer;
		own.t = s->t;
		own.start_us = s->start_us;
		own.index = -1;
		own.final = true;
		c = &own;
	}
	double duration = (double)(loop_now(&s->w->loop) - c->start_us) / 1000.0;
	char line[RELAY_LINE_MAX];
	struct jsonw w;
	jsonw_init(&w, line, sizeof line);
	jsonw_object_begin(&w);
	ledger_fields(&w, s, c, faults, duration);
	jsonw_object_end(&w);
	/* A line it cannot build or write counts in ledger->lost. */
	ledger_write_line(ledger, line, jsonw_finish(&w));
}

void relay_close(struct session *s, bool reset_client, bool reset_up)
{
	leg_close(s, &s->client, reset_client);
	leg_close(s, &s->up, reset_up);
}

void relay_account_close(struct session *s, bool relaying)
{
	/* Bytes received and never sent (still in a buffer or a pipe) count as dropped, so
	 * received == sent + dropped holds for every tunnel. */
	struct flow *flows[2] = {&s->down, &s->upf};
	for (int k = 0; k < 2; k++) {
		struct flow *f = flows[k];
		if (relaying && s->kind != SK_FORWARD && f->len > f->off + f->ctl)
			f->dropped += f->len - f->off - f->ctl;
		f->off = f->len = f->ctl = 0; /* counted once, whoever closes */
		f->dropped += f->z.pending;
		zcopy_close(&f->z);
	}
}

void relay_watch(struct session *s)
{
	unsigned ce = 0, ue = 0;
	bool down_pending = s->down.off < s->down.len || s->down.z.pending,
	     up_pending = s->upf.off < s->upf.len || s->upf.z.pending;
	/* A direction a fault holds (stall, slow) waits for no event: the slow timer or the
	 * idle timeout ends the wait, and watching for room would only spin. */
	bool down_writes = down_pending && !s->down.stalled && !s->down.waiting,
	     up_writes = up_pending && !s->upf.stalled && !s->upf.waiting;
	if (s->state == SS_HANDSHAKE) {
		ce = LOOP_READ | (down_pending ? LOOP_WRITE : 0);
	} else if (s->state == SS_RELAY) {
		if (down_writes)
			ce |= LOOP_WRITE;
		if (!up_pending && !s->upf.eof && !s->upf.done && !s->upf.stalled && !s->upf.waiting &&
		    !s->upf.held)
			ce |= LOOP_READ;
		if (up_writes)
			ue |= LOOP_WRITE;
		if (!down_pending && !s->down.eof && !s->down.done && !s->down.stalled && !s->down.waiting)
			ue |= LOOP_READ;
	}
	if (s->client.fd >= 0)
		leg_watch(s, &s->client, ce);
	if (s->up.fd >= 0 && s->state == SS_RELAY)
		leg_watch(s, &s->up, ue);
}

void relay_init(struct session *s)
{
	s->down.z.rd = s->down.z.wr = s->upf.z.rd = s->upf.z.wr = -1;
}

/* The one place that chooses splice: tunnels (CONNECT, SOCKS5) whose faults never look
 * at or hold back individual bytes. Forward sessions parse what they relay; faults
 * that cut, corrupt or pace need the bytes in a buffer (sees_bytes in fault.h's
 * table), and streams legs have no splice. Without a pipe (no splice on this OS, or
 * out of descriptors) the buffer does the job. */
static void choose_zcopy(struct session *s)
{
	if (s->w->cfg->no_splice || s->w->cfg->io != LEG_READY ||
	    (s->kind != SK_CONNECT && s->kind != SK_SOCKS5) || fault_set_sees_bytes(&s->faults))
		return;
	if (zcopy_open(&s->down.z) < 0)
		return;
	if (zcopy_open(&s->upf.z) < 0) {
		zcopy_close(&s->down.z);
		return;
	}
	s->down.zc = s->upf.zc = true;
}

void relay_start(struct session *s)
{
	s->state = SS_RELAY;
	/* Bytes the client sent with its request (early data) are already in the buffer:
	 * they count as received, and the byte faults see them as any others. */
	s->upf.received += s->upf.len;
	if (s->upf.len) {
		s->upf.recv_ops++;
		inject_read(s, &s->upf, s->upf.buf, s->upf.len);
	}
	loop_timer_start(&s->w->loop, &s->timer, (uint64_t)(s->w->cfg->idle_timeout_s * 1e6));
	if (!s->close_after_reply)
		choose_zcopy(s);
	relay_step(s);
}

long relay_fill_read(struct session *s, struct flow *f, char *buf, size_t cap, struct zpipe *zp)
{
	struct leg *src = session_src(s, f);
	long n = leg_read(src, buf, cap, zp);
	if (n == -EAGAIN)
		return 0;
	if (n == 0) {
		f->eof = true;
		return relay_propagate_eof(s, f) ? RELAY_ENDED : -1;
	}
	if (n < 0) {
		if (inject_reset(s, f)) /* reset-as-fin: the client is told an orderly end */
			return relay_propagate_eof(s, f) ? RELAY_ENDED : -1;
		return relay_leg_reset(s, src); /* an RST is passed on as an RST */
	}
	f->received += (uint64_t)n;
	f->recv_ops++;
	if (!zp)
		inject_read(s, f, buf, (size_t)n);
	return n;
}

/* The source of f ended (FIN): propagate it, unless a fault says otherwise.
 * Returns false when the session was closed. */
bool relay_propagate_eof(struct session *s, struct flow *f)
{
	struct leg *src = session_src(s, f), *dst = session_dst(s, f);
	f->done = true;
	if (!s->first_close)
		s->first_close = src == &s->client ? "client" : "upstream";
	if (src->end == END_OPEN)
		src->end = END_FIN;
	int r = inject_eof(s, f);
	if (r <= 0)
		return r == 0;
	leg_shutdown_write(dst);
	return true;
}

int relay_leg_reset(struct session *s, struct leg *leg)
{
	leg->end = END_RST;
	if (!s->first_close)
		s->first_close = leg == &s->client ? "client" : "upstream";
	session_close(s, leg == &s->up, leg == &s->client);
	return -1;
}

/* A write of f took n bytes (of full it would have taken, had no fault trimmed it): the
 * counters and the buffer move on. own: the proxy's own reply. */
static void took(struct flow *f, bool own, size_t n, size_t full)
{
	if (own) {
		f->off += n;
		f->ctl_off += n;
		f->ctl -= n;
		f->own_sent += (uint64_t)n;
		return;
	}
	f->send_ops++;
	if (n < full)
		f->short_sends++;
	f->sent += (uint64_t)n;
	f->off += n;
}

/* Writes f's pending bytes to its destination, applying write-side faults; on a
 * streams leg posts one slice and returns (relay_written() goes on).
 * Returns 1 drained, 0 would block (or held, or posted), -1 the session was closed. */
static int flush(struct session *s, struct flow *f)
{
	struct leg *dst = session_dst(s, f);
	if (dst->fd < 0 || f->posted)
		return 0; /* forward: the origin leg is being replaced; or a write in flight */
	while (f->off < f->len) {
		bool own = f->ctl && f->off == f->ctl_off; /* no fault, no counter */
		size_t end = own ? f->off + f->ctl : f->ctl ? f->ctl_off : f->len;
		if (f->discard && !own) {
			f->dropped += end - f->off; /* short-send-drop: taken as sent, never written */
			f->off = end;
			continue;
		}
		size_t full = leg_write_max(dst, end - f->off), want = full;
		if (!own) {
			int go = inject_write(s, f, &want);
			if (go <= 0)
				return go;
		}
		long n = leg_write(dst, f->buf + f->off, want);
		if (n == LEG_POSTED) {
			f->posted = want;
			f->post_full = full;
			f->post_own = own;
			return 0;
		}
		if (n == -EAGAIN)
			return 0;
		if (n < 0)
			return relay_leg_reset(s, dst);
		took(f, own, (size_t)n, full);
	}
	f->off = f->len = f->ctl_off = 0;
	while (f->z.pending > 0) {
		size_t want = f->z.pending;
		long n = zcopy_out(&f->z, dst->fd, want);
		if (n == -EAGAIN)
			return 0;
		if (n <= 0)
			return relay_leg_reset(s, dst);
		f->send_ops++;
		if ((size_t)n < want)
			f->short_sends++;
		f->sent += (uint64_t)n;
	}
	if (s->fwd)
		forward_flushed(s, f);
	if (f->eof && !f->done && !relay_propagate_eof(s, f))
		return -1;
	return 1;
}

void relay_written(struct session *s, struct flow *f, bool detached, size_t n, int err)
{
	if (!f->posted)
		return; /* an upstream proxy message (session.c) is not a flow's */
	bool own = f->post_own;
	size_t full = f->post_full;
	f->posted = 0;
	if (n > 0 || err == 0)
		took(f, own, n, full);
	if (s->state == SS_CLOSED)
		return; /* cancelled by the close: counted, nothing more to do */
	if (err < 0 && !detached) {
		relay_leg_reset(s, session_dst(s, f));
		return;
	}
	if (!own && err == 0 && inject_sent(s, f) < 0)
		return;
	relay_step(s);
}

/* Reads into f's (empty) buffer, applying read-side faults. 1 read, 0 nothing now,
 * -1 the session was closed. */
static int fill(struct session *s, struct flow *f)
{
	struct leg *src = session_src(s, f);
	if (src->fd < 0 || f->eof || f->done || f->stalled || f->waiting)
		return 0;
	if (s->kind == SK_FORWARD && s->fwd)
		return f == &s->upf ? forward_fill(s, f) : forward_fill_down(s, f);
	long n = relay_fill_read(s, f, f->buf, sizeof f->buf, f->zc ? &f->z : NULL);
	if (n <= 0)
		return n == RELAY_ENDED ? 1 : (int)n;
	loop_timer_start(&s->w->loop, &s->timer, (uint64_t)(s->w->cfg->idle_timeout_s * 1e6));
	if (f->zc)
		return 1; /* the bytes wait in the pipe; no byte fault is active */
	f->len = (size_t)n;
	f->off = 0;
	if (inject_last_chunk(s, f))
		f->eof = true; /* the last chunk never reaches the client; then the tunnel ends */
	return 1;
}

void relay_step(struct session *s)
{
	if (s->state == SS_HANDSHAKE) {
		if (s->down.off < s->down.len && flush(s, &s->down) < 0)
			return;
		relay_watch(s);
		return;
	}
	for (int i = 0; i < RELAY_STEPS; i++) {
		bool progress = false;
		struct flow *flows[2] = {&s->down, &s->upf};
		for (int k = 0; k < 2; k++) {
			struct flow *f = flows[k];
			/* len > 0 with off == len: a streams write took the last bytes; flush()
			 * finishes the drain (what follows it: FIN, forward's next request). */
			if (f->len > 0 || f->z.pending || (f->eof && !f->done)) {
				int r = flush(s, f);
				if (r < 0)
					return;
				progress |= r > 0;
			}
			/* After a refusal or a fault's reply only that reply is flushed. */
			if (f->off == f->len && !f->z.pending && !s->close_after_reply) {
				int r = fill(s, f);
				if (r < 0)
					return;
				progress |= r > 0;
			}
		}
		if (s->close_after_reply && s->down.off == s->down.len && !s->down.z.pending) {
			session_close(s, false, false);
			return;
		}
		if (s->down.done && s->upf.done) {
			session_close(s, false, false);
			return;
		}
		if (!progress)
			break;
	}
	relay_watch(s);
}
