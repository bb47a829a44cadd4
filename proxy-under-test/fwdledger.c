/* fwdledger — see fwdledger.h. */
#include "proxy-under-test/fwdledger.h"

#include <string.h>

#include "proxy-under-test/forward.h"
#include "proxy-under-test/relay.h"
#include "proxy-under-test/reverse.h"
#include "proxy-under-test/server.h"
#include "proxy-under-test/session.h"

static void snapshot(const struct session *s, uint64_t ops[6])
{
	const struct flow *fl[2] = {&s->down, &s->upf};
	for (int k = 0; k < 2; k++) {
		ops[3 * k] = fl[k]->recv_ops;
		ops[3 * k + 1] = fl[k]->send_ops;
		ops[3 * k + 2] = fl[k]->short_sends;
	}
}

static uint64_t span(uint64_t at, uint64_t a, uint64_t b)
{
	if (at < a)
		return 0;
	return (at < b ? at : b) - a;
}

/* One direction of a line from what came in (in bytes, heads as head_in), what went
 * out (wire bytes, heads as head_out): a head counts as delivered once its rewrite is
 * written whole, then body bytes one for one. */
static void dir_line(struct relay_dir *d, uint64_t in, uint64_t wire, uint64_t head_in,
		     uint64_t head_out)
{
	uint64_t sent = wire >= head_out ? head_in + (wire - head_out) : 0;
	d->received = in;
	d->sent = sent;
	d->dropped = in >= sent ? in - sent : 0; /* never short: the property test checks it */
	d->wire_sent = wire;
}

/* Writes the ledger line of request r. */
static void emit(struct session *s, struct fwd_req *r, bool final)
{
	struct fwd *fw = s->fwd;
	struct relay_counts c = {0};
	uint64_t up_wire = span(s->upf.sent, r->up_a, r->up_complete ? r->up_b : UINT64_MAX);
	dir_line(&c.up, r->up_in, up_wire, r->up_head_in, r->up_head_out);
	uint64_t down_in = r->down_extra, down_wire = 0;
	if (r->down_started) {
		down_in += span(fw->down_consumed, r->down_c, r->down_complete ? r->down_d : UINT64_MAX);
		down_wire = span(s->down.sent, r->down_e, r->down_complete ? r->down_g : UINT64_MAX);
	}
	dir_line(&c.down, down_in, down_wire, r->down_heads_in, r->down_heads_out);
	/* Reverse mode's own answers: what of it was written (they go out in order). */
	c.down.wire_sent += r->own_n ? span(s->down.own_sent, r->own_a, r->own_a + r->own_n)
				     : r->down_own;
	uint64_t now_ops[6];
	snapshot(s, now_ops);
	struct relay_dir *d[2] = {&c.down, &c.up};
	for (int k = 0; k < 2; k++) {
		d[k]->recv_ops = now_ops[3 * k] - r->ops[3 * k];
		d[k]->send_ops = now_ops[3 * k + 1] - r->ops[3 * k + 1];
		d[k]->short_sends = now_ops[3 * k + 2] - r->ops[3 * k + 2];
	}
	c.id = r->id;
	c.target = r->target;
	c.up_local = r->up_local;
	c.up_peer = r->up_peer;
	c.method = r->method;
	c.status = r->status;
	c.index = (int)r->index;
	c.t = r->t;
	c.start_us = r->start_us;
	c.acts0 = r->acts;
	c.final = final;
	reverse_line(s, r->gate, r->status, final);
	relay_write_ledger(s, &c);
	fw->emitted++;
}

/* The proxy's own bytes written that no reverse-mode answer of a request accounts for
 * (a refusal that ends the connection). */
static uint64_t own_unanswered(const struct session *s)
{
	uint64_t own = s->down.own_sent, answered = s->fwd->own_queued;
	return own > answered ? own - answered : 0;
}

/* The line of bytes no request took (and of a connection that carried none): all
 * received, none delivered. */
static void emit_orphans(struct session *s)
{
	struct fwd *fw = s->fwd;
	struct relay_counts c = {0};
	dir_line(&c.up, fw->orphan_up, 0, 0, 0);
	dir_line(&c.down, fw->orphan_down, 0, 0, 0);
	c.down.wire_sent = own_unanswered(s); /* a refusal of the bytes, if the proxy gave one */
	c.up.recv_ops = fw->orphan_up > 0;
	c.down.recv_ops = fw->orphan_down > 0;
	/* With no request taken, the bytes are the first request's, refused or cut. */
	c.id = fw->requests == 0 ? s->id : NULL;
	c.target = s->target;
	c.status = s->reply > 0 ? s->reply : 0;
	c.index = (int)fw->requests;
	c.t = s->t;
	c.start_us = s->start_us;
	c.final = true;
	reverse_line(s, REVERSE_NONE, c.status, true);
	relay_write_ledger(s, &c);
	fw->emitted++;
}

/* Is r answered and delivered both ways, so its line says all there is to say? */
static bool line_ready(const struct session *s, const struct fwd_req *r)
{
	return r->down_complete && s->down.sent >= r->down_g && r->up_complete &&
	       s->upf.sent >= r->up_b;
}

void fwdledger_lines(struct session *s)
{
	struct fwd *fw = s->fwd;
	for (; fw->q_emit < fw->q_resp && line_ready(s, fwd_at(fw, fw->q_emit)); fw->q_emit++)
		emit(s, fwd_at(fw, fw->q_emit), false);
}

void fwdledger_start(struct session *s, struct fwd_req *q)
{
	snapshot(s, q->ops);
	memcpy(q->acts, s->fwd->head_acts, sizeof q->acts);
}

unsigned fwdledger_finish(struct session *s)
{
	struct fwd *fw = s->fwd;
	if (!fw)
		return 0;
	/* Bytes still buffered: the rest of a request's body, or the start of a head no
	 * request took; an origin's bytes for the response awaited, or for none. */
	if (fw->req_in_body && fw->q_tail > fw->q_emit)
		fwd_at(fw, fw->q_tail - 1)->up_in += fw->req_len;
	else
		fw->orphan_up += fw->req_len;
	if (fw->q_resp < fw->q_tail)
		fwd_at(fw, fw->q_resp)->down_extra += fw->rsp_len;
	else
		fw->orphan_down += fw->rsp_len;
	fw->req_len = fw->rsp_len = 0;
	/* The proxy's own answer (it ends the connection) is to the bytes no request took
	 * when there are any, else to the last request. */
	bool orphans = fw->orphan_up || fw->orphan_down || fw->q_tail == 0;
	if (!orphans && fw->q_tail > fw->q_emit && !fwd_at(fw, fw->q_tail - 1)->own_n)
		fwd_at(fw, fw->q_tail - 1)->down_own = own_unanswered(s);
	for (; fw->q_emit < fw->q_tail; fw->q_emit++)
		emit(s, fwd_at(fw, fw->q_emit), true);
	if (orphans)
		emit_orphans(s);
	return fw->emitted;
}
