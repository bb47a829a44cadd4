/* qinject — see qinject.h; fault.h has the table of where each fault acts. */
#include "proxy-under-test/qinject.h"

#include <string.h>

#include "proxy-under-test/inject.h"
#include "proxy-under-test/qtunnel.h"
#include "proxy-under-test/server.h"

static const struct fault *find(const struct qtun *t, enum fault_kind kind, enum fault_dir dir)
{
	return fault_set_find(&t->faults, kind, dir);
}

static void acted(struct qtun *t, const struct fault *f)
{
	fault_set_acted(&t->faults, t->fault_acts, f);
}

static struct loop *loop_of(struct qtun *t)
{
	return &t->qc->ql->w->loop;
}

/* fin-delay's time is up for every direction whose end it holds and whose due time
 * has come (both directions share the timer). */
static void on_fin_due(struct loop *loop, struct loop_timer *timer)
{
	struct qtun *t = timer->data;
	struct qconn *qc = t->qc;
	uint64_t now = loop_now(loop), next = 0;
	bool due[2] = {false, false};
	for (int i = 0; i < 2; i++) {
		struct qrelay_dir *d = qrelay_dir(t, (enum fault_dir)i);
		if (d->fin_due_us && d->fin_due_us <= now) {
			d->fin_due_us = 0;
			due[i] = true;
		} else if (d->fin_due_us && (!next || d->fin_due_us < next)) {
			next = d->fin_due_us;
		}
	}
	if (next)
		loop_timer_start_at(loop, &t->fin_timer, next);
	for (int i = 0; i < 2; i++)
		if (due[i])
			qrelay_end_due(t, (enum fault_dir)i);
	qlisten_flush(qc); /* last: it may end tunnels, t among them */
}

void qinject_init(struct qtun *t)
{
	t->faults.n = 0;
	loop_timer_init(&t->fin_timer, on_fin_due, t);
}

void qinject_free(struct qtun *t)
{
	if (t)
		loop_timer_stop(loop_of(t), &t->fin_timer);
}

void qinject_pick(struct qtun *t)
{
	struct proxy_worker *w = t->qc->ql->w;
	if (!w->cfg->nfaults)
		return;
	inject_key(w, t->id, t->host, t->fault_key, sizeof t->fault_key);
	fault_set_pick(&t->faults, w->cfg->faults, w->cfg->nfaults, fault_key_hash(t->fault_key));
}

enum quic_credit qinject_credit(struct qtun *t)
{
	return find(t, FAULT_FLOW_STARVE, FAULT_UP) ? QUIC_CREDIT_NONE : QUIC_CREDIT_MANUAL;
}

void qinject_starved(struct qtun *t)
{
	const struct fault *f = find(t, FAULT_FLOW_STARVE, FAULT_UP);
	if (f && !t->credit_stalled) {
		t->credit_stalled = true;
		acted(t, f);
	}
}

/* A cut fault's byte is reached: make the cut. Returns 0 (held) or -1 (cut). */
static int cut(struct qtun *t, enum fault_dir dir, const struct fault *f)
{
	struct qrelay_dir *d = qrelay_dir(t, dir);
	acted(t, f);
	switch (f->kind) {
	case FAULT_STALL:
		d->stalled = true; /* hold everything from here on; the idle timer ends it */
		return 0;
	case FAULT_CLOSE_CONN:
		/* Every stream of the connection ends with it; each tunnel's line says so. */
		d->stalled = true;
		if (!t->first_close)
			t->first_close = "proxy->client";
		quic_conn_close(&t->qc->q, true, QTUNNEL_FAULT, "tunnelprobe fault close-conn");
		return -1;
	case FAULT_RESET:
		qrelay_cut(t, dir, false, QTUNNEL_FAULT);
		return -1;
	default: /* truncate: the rest is dropped, then an orderly end */
		qrelay_cut(t, dir, true, 0);
		return -1;
	}
}

int qinject_write(struct qtun *t, enum fault_dir dir, size_t *want)
{
	static const enum fault_kind cuts[] = {FAULT_TRUNCATE, FAULT_RESET, FAULT_CLOSE_CONN,
					       FAULT_STALL};
	const struct fault *c = NULL;
	for (size_t i = 0; i < sizeof cuts / sizeof cuts[0] && !c; i++)
		c = find(t, cuts[i], dir);
	const struct qrelay_dir *d = qrelay_dir(t, dir);
	if (!c || d->sent + *want <= c->n)
		return 1;
	if (d->sent >= c->n)
		return cut(t, dir, c);
	*want = (size_t)(c->n - d->sent); /* up to the cut exactly; it comes with the next write */
	return 1;
}

int qinject_eof(struct qtun *t, enum fault_dir dir)
{
	struct qrelay_dir *d = qrelay_dir(t, dir);
	const struct fault *f = find(t, FAULT_NO_FIN, dir);
	if (f) {
		acted(t, f);
		d->held = true; /* the end is never signalled: the receiver waits */
		return 0;
	}
	f = find(t, FAULT_FIN_DELAY, dir);
	if (!f)
		return 1;
	acted(t, f);
	d->held = true;
	d->fin_due_us = loop_now(loop_of(t)) + f->n * 1000;
	if (!loop_timer_active(&t->fin_timer) || t->fin_timer.due_us > d->fin_due_us)
		loop_timer_start_at(loop_of(t), &t->fin_timer, d->fin_due_us);
	return 0;
}

bool qinject_reset(struct qtun *t, enum fault_dir dir)
{
	const struct fault *f = find(t, FAULT_RESET_AS_FIN, dir);
	if (f)
		acted(t, f);
	return f != NULL;
}
