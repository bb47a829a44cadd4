/* relay — see relay.h. */
#include "proxy-under-test/relay.h"

#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "proxy-under-test/forward.h"
#include "proxy-under-test/inject.h"
#include "proxy-under-test/server.h"

#define RELAY_STEPS 32 /* per event: a fast tunnel cannot starve the others */

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

static json_t *dir_json(const struct relay_dir *d)
{
	return json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "received", (json_int_t)d->received,
			 "sent", (json_int_t)d->sent, "recv_ops", (json_int_t)d->recv_ops, "send_ops",
			 (json_int_t)d->send_ops, "short_sends", (json_int_t)d->short_sends, "dropped",
			 (json_int_t)d->dropped, "wire_sent", (json_int_t)d->wire_sent);
}

static void flow_counts(const struct flow *f, struct relay_dir *d)
{
	*d = (struct relay_dir){f->received, f->sent, f->recv_ops, f->send_ops, f->short_sends,
				f->dropped, f->sent};
}

/* fault_acted: null without faults; true when each fault of the tunnel acted (since
 * acts0), false when one of them could not (drop-chunk-end in a TLS tunnel, a cut
 * past the last byte, ...). */
static json_t *acted_json(const struct session *s, const uint32_t *acts0)
{
	if (!s->faults.n)
		return json_null();
	for (size_t i = 0; i < s->faults.n; i++)
		if (s->fault_acts[i] <= (acts0 ? acts0[i] : 0))
			return json_false();
	return json_true();
}

static json_t *str_or_null(const char *v) { return v && v[0] ? json_string(v) : json_null(); }

void relay_write_ledger(struct session *s, const struct relay_counts *c)
{
	struct ledger_file *ledger = &s->w->shared->ledger;
	if (!ledger_is_open(ledger))
		return; /* no --ledger: not even the JSON is built (forward writes one per request) */
	char faults[FAULT_MAX * 164] = "";
	for (size_t i = 0; i < s->faults.n; i++) {
		size_t l = strlen(faults);
		snprintf(faults + l, sizeof faults - l, "%s%s", l ? "; " : "", s->faults.hit[i]->spec);
	}
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
	json_t *o = json_object();
	json_object_set_new(o, "id", str_or_null(c->id));
	json_object_set_new(o, "kind", json_string(kind_names[s->kind]));
	json_object_set_new(o, "tunnel", json_integer((json_int_t)s->number));
	if (c->index >= 0) {
		json_object_set_new(o, "req", json_integer(c->index));
		json_object_set_new(o, "method", str_or_null(c->method));
		json_object_set_new(o, "status", c->status ? json_integer(c->status) : json_null());
	}
	json_object_set_new(o, "client_peer", json_string(s->client.peer));
	json_object_set_new(o, "client_local", json_string(s->client.local));
	json_object_set_new(o, "upstream_local", str_or_null(c->up_local));
	json_object_set_new(o, "upstream_peer", str_or_null(c->up_peer));
	json_object_set_new(o, "target", str_or_null(c->target));
	json_object_set_new(o, "down", dir_json(&c->down));
	json_object_set_new(o, "up", dir_json(&c->up));
	json_object_set_new(o, "first_close", c->final ? str_or_null(s->first_close) : json_null());
	json_object_set_new(o, "client_end", json_string(end_names[c->final ? s->client.end : END_OPEN]));
	json_object_set_new(o, "upstream_end", json_string(end_names[c->final ? s->up.end : END_OPEN]));
	json_object_set_new(o, "shutdown_write_client", json_boolean(c->final && s->client.shut_wr));
	json_object_set_new(o, "shutdown_write_upstream", json_boolean(c->final && s->up.shut_wr));
	json_object_set_new(o, "reply", s->reply >= 0 ? json_integer(s->reply) : json_null());
	json_object_set_new(o, "fault", s->faults.n ? json_string(faults) : json_null());
	json_object_set_new(o, "fault_acted", acted_json(s, c->acts0));
	json_object_set_new(o, "fault_key", str_or_null(s->fault_key));
	json_object_set_new(o, "t", json_real(c->t));
	json_object_set_new(o, "duration_ms", json_real(duration));
	ledger_write(ledger, o); /* a line it cannot write counts in ledger->lost */
}

void relay_close_leg(struct session *s, struct leg *leg, bool reset)
{
	if (leg->fd < 0)
		return;
	loop_io_stop(&s->w->loop, &leg->io);
	if (reset) {
		net_close_reset(leg->fd);
		if (leg->end == END_OPEN)
			leg->end = END_LOCAL_RST;
	} else {
		/* FIN first: close() alone would send an RST if unread bytes were queued. */
		if (!leg->shut_wr)
			net_shutdown_write(leg->fd);
		net_close(leg->fd);
		if (leg->end == END_OPEN)
			leg->end = END_LOCAL;
	}
	leg->fd = -1;
}

void relay_close(struct session *s, bool relaying, bool reset_client, bool reset_up)
{
	relay_close_leg(s, &s->client, reset_client);
	relay_close_leg(s, &s->up, reset_up);
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
	struct loop *loop = &s->w->loop;
	unsigned ce = 0, ue = 0;
	bool down_pending = s->down.off < s->down.len || s->down.z.pending,
	     up_pending = s->upf.off < s->upf.len || s->upf.z.pending;
	if (s->state == SS_HANDSHAKE) {
		ce = LOOP_READ | (down_pending ? LOOP_WRITE : 0);
	} else if (s->state == SS_RELAY) {
		if (down_pending)
			ce |= LOOP_WRITE;
		if (!up_pending && !s->upf.eof && !s->upf.done && !s->upf.stalled && !s->upf.waiting &&
		    !s->upf.held)
			ce |= LOOP_READ;
		if (up_pending)
			ue |= LOOP_WRITE;
		if (!down_pending && !s->down.eof && !s->down.done && !s->down.stalled && !s->down.waiting)
			ue |= LOOP_READ;
	}
	if (s->client.fd >= 0)
		loop_io_start(loop, &s->client.io, s->client.fd, ce, session_on_io, s);
	if (s->up.fd >= 0 && s->state == SS_RELAY)
		loop_io_start(loop, &s->up.io, s->up.fd, ue, session_on_io, s);
}

void relay_init(struct session *s)
{
	s->down.z.rd = s->down.z.wr = s->upf.z.rd = s->upf.z.wr = -1;
}

/* The one place that chooses splice: tunnels (CONNECT, SOCKS5) whose faults never look
 * at or hold back individual bytes. Forward sessions parse what they relay; faults
 * that cut, corrupt or pace need the bytes in a buffer (sees_bytes in fault.h's
 * table). Without a pipe (no splice on this OS, or out of descriptors) the buffer does
 * the job. */
static void choose_zcopy(struct session *s)
{
	if (s->w->cfg->no_splice || (s->kind != SK_CONNECT && s->kind != SK_SOCKS5) ||
	    fault_set_sees_bytes(&s->faults))
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

long relay_read(struct leg *leg, void *buf, size_t len, struct zpipe *zp)
{
	if (!leg->readable)
		return -EAGAIN;
	size_t want = zp ? zp->cap - zp->pending : len;
	long n = zp ? zcopy_in(zp, leg->fd) : net_read(leg->fd, buf, len);
	/* A short read almost always drained the socket; if not, the level-triggered
	 * loop reports it again and the flag comes back. */
	if (n == -EAGAIN || (n > 0 && (size_t)n < want))
		leg->readable = false;
	return n;
}

long relay_fill_read(struct session *s, struct flow *f, char *buf, size_t cap, struct zpipe *zp)
{
	struct leg *src = session_src(s, f);
	long n = relay_read(src, buf, cap, zp);
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
	if (dst->fd >= 0 && !dst->shut_wr) {
		net_shutdown_write(dst->fd);
		dst->shut_wr = true;
	}
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

/* Writes f's pending bytes to its destination, applying write-side faults.
 * Returns 1 drained, 0 would block (or held), -1 the session was closed. */
static int flush(struct session *s, struct flow *f)
{
	struct leg *dst = session_dst(s, f);
	if (dst->fd < 0)
		return 0; /* forward: the origin leg is being replaced */
	while (f->off < f->len) {
		if (f->ctl && f->off == f->ctl_off) {
			/* The proxy's own reply: no fault, no counter. */
			long n = net_write(dst->fd, f->buf + f->off, f->ctl);
			if (n == -EAGAIN)
				return 0;
			if (n < 0)
				return relay_leg_reset(s, dst);
			f->off += (size_t)n;
			f->ctl_off += (size_t)n;
			f->ctl -= (size_t)n;
			f->own_sent += (uint64_t)n;
			continue;
		}
		size_t end = f->ctl ? f->ctl_off : f->len; /* relayed bytes up to the reply */
		size_t want = end - f->off;
		int go = inject_write(s, f, &want);
		if (go <= 0)
			return go;
		long n = net_write(dst->fd, f->buf + f->off, want);
		if (n == -EAGAIN)
			return 0;
		if (n < 0)
			return relay_leg_reset(s, dst);
		f->send_ops++;
		if ((size_t)n < end - f->off)
			f->short_sends++;
		f->sent += (uint64_t)n;
		f->off += (size_t)n;
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
			if (f->off < f->len || f->z.pending || (f->eof && !f->done)) {
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
