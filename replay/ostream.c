/* ostream — see ostream.h. */
#include "replay/ostream.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "lib/hex.h"
#include "lib/payload.h"
#include "replay/h3resp.h"
#include "replay/oconn.h"
#include "replay/oplan.h"

#define WRITE_ROUNDS 64 /* body pieces per turn; then a zero timer lets others run */

/* OST_PACE: a timed replay waits for its next recorded segment; OST_STALLED: the stall
 * fault stopped it; OST_RESETTING: the rst fault waits for the bytes before the cut to
 * be acknowledged; OST_DONE: nothing more to write (ended, reset or refused). */
enum ost_state {
	OST_REQUEST,
	OST_DELAY,
	OST_WRITE,
	OST_DRIP,
	OST_PACE,
	OST_STALLED,
	OST_RESETTING,
	OST_DONE
};

struct ostream {
	struct oqconn *qc;
	struct h3_stream *s;
	struct loop_timer timer;
	enum ost_state state;
	unsigned req;                 /* index of the request on its connection */
	char id[64], method[16], target[512];
	int status;                   /* the status answered, 0 before */
	struct plan plan;
	bool head_request;
	bool has_seed, upload_bad;
	uint64_t seed, upload_bytes;
	bool resp_ready;
	bool drip_sent;               /* this drip tick's byte is out */
	struct h3resp resp;
	uint64_t body_written;        /* response body bytes the stream accepted */
	uint64_t pace_due_us;         /* timed replay: when the next segment is due */
	uint64_t t0_us;
	double t_wall;
	const char *cut;              /* the fault that ended it early: "local", "local_rst" */
	struct ostream *next_free;
};

static void respond(struct ostream *st);
static void write_more(struct ostream *st);

static struct loop *st_loop(const struct ostream *st)
{
	return &st->qc->q->w->loop;
}

static const struct origin_config *st_cfg(const struct ostream *st)
{
	return st->qc->q->w->sh->cfg;
}

static double wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- ledger ---- */

static json_t *quic_facts(const struct quic_stream_stats *q)
{
	json_t *o = json_object();
	json_object_set_new(o, "bytes_written", json_integer((json_int_t)q->bytes_written));
	json_object_set_new(o, "bytes_sent", json_integer((json_int_t)q->bytes_sent));
	json_object_set_new(o, "bytes_acked", json_integer((json_int_t)q->bytes_acked));
	json_object_set_new(o, "bytes_received", json_integer((json_int_t)q->bytes_received));
	json_object_set_new(o, "fin_sent", json_boolean(q->fin_sent));
	json_object_set_new(o, "fin_acked", json_boolean(q->fin_acked));
	json_object_set_new(o, "fin_received", json_boolean(q->fin_received));
	json_object_set_new(o, "reset_sent", q->reset_sent ? json_integer((json_int_t)q->reset_code_sent) : json_null());
	json_object_set_new(o, "reset_received",
			    q->reset_received ? json_integer((json_int_t)q->reset_code_received) : json_null());
	json_object_set_new(o, "stop_sending_sent",
			    q->stop_sending_sent ? json_integer((json_int_t)q->stop_sending_code_sent) : json_null());
	json_object_set_new(o, "stop_sending_received",
			    q->stop_sending_received ? json_integer((json_int_t)q->stop_sending_code_received)
						     : json_null());
	json_object_set_new(o, "credit_stalls", json_integer(q->credit_stalls));
	json_object_set_new(o, "conn_credit_stalls", json_integer(q->conn_credit_stalls));
	return o;
}

/* How the stream ended, in the TCP ledger's words where they fit: "fin" (complete both
 * ways), "local" / "local_rst" (we cut it: FIN early or RESET_STREAM), "rst" (the
 * client's RESET_STREAM or STOP_SENDING), "conn_closed" (the connection ended first). */
static const char *stream_end(const struct ostream *st, const struct quic_stream_stats *q,
			      bool conn_closed)
{
	if (st->cut)
		return st->cut;
	if (q->reset_received || q->stop_sending_received)
		return "rst";
	if (q->reset_sent)
		return "local_rst";
	return conn_closed ? "conn_closed" : "fin";
}

static void ledger_line(const struct ostream *st, const struct h3_stream *s)
{
	struct oqconn *qc = st->qc;
	struct origin_shared *sh = qc->q->w->sh;
	if (!ledger_is_open(&sh->ledger))
		return;
	const struct quic_stream_stats *q = h3_stream_quic(s);
	bool conn_closed = qc->quic.state >= QUIC_ST_CLOSING && !(q->fin_acked && q->fin_received);
	json_t *o = json_object();
	json_object_set_new(o, "id", st->id[0] ? json_string(st->id) : json_null());
	json_object_set_new(o, "proto", json_string("h3"));
	json_object_set_new(o, "peer", json_string(qc->peer));
	json_object_set_new(o, "local", json_string(qc->local));
	json_object_set_new(o, "conn", json_integer((json_int_t)qc->serial));
	json_object_set_new(o, "req", json_integer(st->req));
	json_object_set_new(o, "stream", json_integer((json_int_t)s->id));
	json_object_set_new(o, "server_cid", json_string(qc->server_cid));
	json_object_set_new(o, "client_cid", json_string(qc->client_cid));
	json_object_set_new(o, "original_dcid", json_string(qc->original_dcid));
	json_object_set_new(o, "tls", json_true());
	json_object_set_new(o, "method", st->method[0] ? json_string(st->method) : json_null());
	json_object_set_new(o, "target", st->target[0] ? json_string(st->target) : json_null());
	json_object_set_new(o, "status", st->status ? json_integer(st->status) : json_null());
	/* Stream bytes as HTTP/1's count message bytes: frames included (HEADERS, DATA). */
	json_object_set_new(o, "bytes_received", json_integer((json_int_t)q->bytes_received));
	json_object_set_new(o, "bytes_written", json_integer((json_int_t)q->bytes_written));
	json_object_set_new(o, "body_bytes", json_integer((json_int_t)st->plan.size));
	json_object_set_new(o, "body_written", json_integer((json_int_t)st->body_written));
	json_object_set_new(o, "body_acked", json_integer((json_int_t)s->body_acked));
	if (st->plan.sink)
		json_object_set_new(o, "upload", json_pack("{s:I,s:b}", "bytes", (json_int_t)st->upload_bytes,
							  "verified", st->has_seed && !st->upload_bad));
	json_object_set_new(o, "bytes_acked_at_close", json_integer((json_int_t)q->bytes_acked));
	json_object_set_new(o, "conn_bytes_written", json_integer((json_int_t)q->bytes_written));
	json_object_set_new(o, "end", json_string(stream_end(st, q, conn_closed)));
	json_object_set_new(o, "fin_sent", json_boolean(q->fin_sent));
	json_object_set_new(o, "fin_acked", json_boolean(q->fin_acked));
	json_object_set_new(o, "fin_received", json_boolean(q->fin_received));
	json_object_set_new(o, "rst_received", json_boolean(q->reset_received || q->stop_sending_received));
	json_object_set_new(o, "quic", quic_facts(q));
	const char *fault = origin_fault_name(sh->cfg->fault);
	json_object_set_new(o, "fault", fault ? json_string(fault) : json_null());
	json_object_set_new(o, "t", json_real(st->t_wall));
	json_object_set_new(o, "duration_ms",
			    json_real((double)(loop_now(st_loop(st)) - st->t0_us) / 1000.0));
	ledger_write(&sh->ledger, o); /* a line it cannot write counts in sh->ledger.lost */
}

/* ---- the pool ---- */

static void on_timer(struct loop *loop, struct loop_timer *timer);

static struct ostream *stream_get(struct oqconn *qc)
{
	struct oquic *q = qc->q;
	struct ostream *st = q->free_streams;
	if (st) {
		q->free_streams = st->next_free;
		q->nfree_streams--;
	} else if (!(st = malloc(sizeof *st))) {
		return NULL;
	}
	/* Everything before the response generator starts at zero; the generator and its
	 * buffers are set up by h3resp_init before they are read. */
	memset(st, 0, offsetof(struct ostream, resp));
	memset(&st->body_written, 0, sizeof *st - offsetof(struct ostream, body_written));
	st->qc = qc;
	loop_timer_init(&st->timer, on_timer, st);
	return st;
}

static void stream_put(struct oquic *q, struct ostream *st)
{
	if (q->nfree_streams >= OSTREAM_KEEP) {
		free(st);
		return;
	}
	st->next_free = q->free_streams;
	q->free_streams = st;
	q->nfree_streams++;
}

void ostream_pool_free(struct oquic *q)
{
	while (q->free_streams) {
		struct ostream *st = q->free_streams;
		q->free_streams = st->next_free;
		free(st);
	}
	q->nfree_streams = 0;
}

/* ---- the request ---- */

static const char *field(const struct h3_stream *s, const char *name)
{
	for (size_t i = 0; i < s->nfields; i++)
		if (strcmp(s->fields[i].name, name) == 0)
			return s->fields[i].value;
	return NULL;
}

/* Plans a response of status with no body (bad requests, refusals). */
static void plan_status(struct ostream *st, int status)
{
	memset(&st->plan, 0, sizeof st->plan);
	st->plan.status = status;
}

static void take_request(struct oqconn *qc, struct h3_stream *s)
{
	struct ostream *st = stream_get(qc);
	if (!st) {
		h3_stream_reset(&qc->h3, s, H3_INTERNAL_ERROR); /* no memory: refuse it */
		return;
	}
	st->s = s;
	s->user = st;
	st->req = qc->nreq++;
	qc->nstreams++;
	st->t0_us = loop_now(st_loop(st));
	st->t_wall = wall_now();
	snprintf(st->method, sizeof st->method, "%s", s->method ? s->method : "");
	st->head_request = strcmp(st->method, "HEAD") == 0;
	const char *id = field(s, "x-probe-id");
	if (id)
		snprintf(st->id, sizeof st->id, "%s", id);
	const char *seed = field(s, "x-tp-seed");
	if (seed)
		st->has_seed = oplan_upload_seed(seed, strlen(seed), &st->seed);
	const char *path = s->path;
	if (!path || path[0] != '/') {
		snprintf(st->target, sizeof st->target, "-");
		plan_status(st, 400); /* CONNECT, or a path the origin cannot serve */
	} else if (strlen(path) >= sizeof st->target) {
		snprintf(st->target, sizeof st->target, "/");
		plan_status(st, 414);
	} else {
		snprintf(st->target, sizeof st->target, "%s", path);
		char host[128] = "";
		if (s->authority)
			oplan_host(s->authority, strlen(s->authority), host, sizeof host);
		oplan_request(st_cfg(st), st->method, host, st->target, &st->plan);
		const char *cl = field(s, "content-length");
		if (cl && strtoull(cl, NULL, 10) > OCONN_MAX_BODY)
			plan_status(st, 413);
	}
	st->state = OST_REQUEST;
	loop_timer_start(st_loop(st), &st->timer, OSTREAM_REQUEST_TIMEOUT_US);
}

/* Request body bytes: verified against X-Tp-Seed when one was sent (as over HTTP/1.1,
 * uploads are checked whatever the path; /sink answers 422 when they differ). */
static void take_body(struct ostream *st, const uint8_t *data, size_t len)
{
	if (st->has_seed && !st->upload_bad &&
	    payload_verify(st->seed, st->upload_bytes, data, len) >= 0)
		st->upload_bad = true;
	st->upload_bytes += len;
	if (st->upload_bytes > OCONN_MAX_BODY && st->state == OST_REQUEST) {
		plan_status(st, 413);
		respond(st); /* the rest of the body is read and dropped */
	}
}

/* The whole request is in: the response, after the plan's delay and slow-headers. */
static void request_done(struct ostream *st)
{
	if (st->state != OST_REQUEST)
		return;
	if (st->plan.sink && st->has_seed && st->upload_bad)
		st->plan.status = 422; /* the upload arrived corrupted */
	const struct origin_config *cfg = st_cfg(st);
	uint64_t delay_ms = st->plan.delay_ms;
	if (cfg->fault == ORIGIN_FAULT_SLOW_HEADERS)
		delay_ms += cfg->fault_n;
	if (delay_ms) {
		st->state = OST_DELAY;
		loop_timer_start(st_loop(st), &st->timer, delay_ms * 1000u);
		return;
	}
	respond(st);
}

/* ---- the response ---- */

static void respond(struct ostream *st)
{
	struct h3_conn *h = &st->qc->h3;
	loop_timer_stop(st_loop(st), &st->timer);
	/* The header section is copied by h3_submit_response: a stack copy will do. */
	struct h3resp_head head;
	h3resp_init(&st->resp, &st->plan, payload_seed(st->target, strlen(st->target)),
		    st->id[0] ? st->id : NULL, st->head_request, &head);
	st->resp_ready = true;
	st->status = head.status;
	st->state = OST_DONE;
	if (h3_submit_response(h, st->s, head.status, head.fields, head.nfields, head.body) < 0) {
		h3_stream_reset(h, st->s, H3_INTERNAL_ERROR);
		return;
	}
	if (!head.body)
		return; /* the header section ended the stream */
	st->state = st->plan.drip_ms ? OST_DRIP : OST_WRITE;
	st->pace_due_us = loop_now(st_loop(st));
	write_more(st);
}

/* The rst fault's reset, once every body byte written is acknowledged. */
static void reset_when_acked(struct ostream *st)
{
	if (st->state != OST_RESETTING || st->s->body_acked < st->body_written)
		return;
	st->state = OST_DONE;
	h3_stream_reset(&st->qc->h3, st->s, H3_INTERNAL_ERROR);
}

/* truncate, rst and stall cut the stream once fault_n body bytes are written: trims
 * *want to reach the cut exactly, or makes it (FIN, RESET_STREAM, or silence). Returns 1
 * write *want bytes, 0 stalled, -1 cut. */
static int fault_cut(struct ostream *st, size_t *want)
{
	const struct origin_config *cfg = st_cfg(st);
	if (oplan_fault_room(cfg, st->body_written, want))
		return 1;
	struct h3_conn *h = &st->qc->h3;
	if (cfg->fault == ORIGIN_FAULT_STALL) {
		st->state = OST_STALLED; /* until the client gives up or the connection idles out */
		return 0;
	}
	if (cfg->fault == ORIGIN_FAULT_RST) {
		/* RESET_STREAM drops what is not yet delivered: the bytes before the cut are
		 * let through first, so the client reads exactly fault_n and then the reset. */
		st->cut = "local_rst";
		st->state = OST_RESETTING;
		reset_when_acked(st);
	} else {
		st->cut = "local";
		st->state = OST_DONE;
		h3_stream_end(h, st->s);
	}
	return -1;
}

/* A timed replay's gap: true when the next segment is not due yet (the timer waits). */
static bool pace(struct ostream *st, uint32_t gap_us)
{
	/* Each segment is due at the response's start plus the recorded gaps so far; one
	 * late or nearly due goes at once, so the schedule never drifts (as over TCP). */
	st->pace_due_us += gap_us;
	uint64_t now = loop_now(st_loop(st));
	if (st->pace_due_us <= now + OCONN_PACE_SLACK_US)
		return false;
	st->state = OST_PACE;
	loop_timer_start(st_loop(st), &st->timer, st->pace_due_us - now);
	return true;
}

static void write_more(struct ostream *st)
{
	struct h3_conn *h = &st->qc->h3;
	for (int round = 0; round < WRITE_ROUNDS; round++) {
		if (st->state != OST_WRITE && st->state != OST_DRIP)
			return;
		const uint8_t *data = NULL;
		uint32_t gap = 0;
		long n = h3resp_peek(&st->resp, &data, &gap);
		if (n == -EAGAIN) {
			if (pace(st, gap))
				return;
			continue;
		}
		if (n <= 0) {
			/* The end (a recording cut short ends early, as it did on the wire), or a
			 * recorded body whose framing is broken. */
			st->state = OST_DONE;
			if (n == 0)
				h3_stream_end(h, st->s);
			else
				h3_stream_reset(h, st->s, H3_INTERNAL_ERROR);
			return;
		}
		if (st->state == OST_DRIP && st->drip_sent) {
			st->drip_sent = false; /* one body byte per tick */
			loop_timer_start(st_loop(st), &st->timer, (uint64_t)st->plan.drip_ms * 1000u);
			return;
		}
		size_t want = st->state == OST_DRIP ? 1 : (size_t)n;
		if (fault_cut(st, &want) <= 0)
			return;
		long w = h3_stream_write(h, st->s, data, want);
		if (w < 0) {
			st->state = OST_DONE; /* the client stopped it */
			return;
		}
		h3resp_take(&st->resp, (size_t)w);
		st->body_written += (uint64_t)w;
		if ((size_t)w < want)
			return; /* the buffer is full: H3_EV_WRITABLE brings us back */
		st->drip_sent = st->state == OST_DRIP;
	}
	/* Enough for one turn: the rest after the loop's other work. */
	loop_timer_start(st_loop(st), &st->timer, 0);
}

static void on_timer(struct loop *loop, struct loop_timer *timer)
{
	struct ostream *st = timer->data;
	switch (st->state) {
	case OST_REQUEST:
		plan_status(st, 408); /* the request never completed */
		respond(st);
		break;
	case OST_DELAY:
		respond(st);
		break;
	case OST_PACE:
		st->state = OST_WRITE;
		write_more(st);
		break;
	case OST_WRITE:
	case OST_DRIP:
		write_more(st);
		break;
	default:
		return;
	}
	/* Outside any lib/quic callback: what the stream wrote goes out now. */
	oquic_conn_flush(st->qc);
}

/* The stream's last event: its ledger line, then the struct goes back to the pool. */
static void stream_closed(struct oqconn *qc, struct ostream *st, struct h3_stream *s)
{
	ledger_line(st, s);
	loop_timer_stop(st_loop(st), &st->timer);
	if (st->resp_ready)
		h3resp_free(&st->resp);
	s->user = NULL;
	stream_put(qc->q, st);
	qc->nstreams--;
	oquic_conn_stream_ended(qc);
}

void ostream_event(struct oqconn *qc, const struct h3_event *ev)
{
	struct h3_stream *s = ev->stream;
	if (ev->type == H3_EV_REQUEST) {
		take_request(qc, s);
		return;
	}
	struct ostream *st = s ? s->user : NULL;
	if (!st)
		return; /* a stream that never made a request */
	switch (ev->type) {
	case H3_EV_DATA:
		take_body(st, ev->data, ev->len);
		break;
	case H3_EV_END:
		request_done(st);
		break;
	case H3_EV_RESET:
		/* The client gave up on its request: no answer to an incomplete one. */
		if (st->state == OST_REQUEST) {
			st->state = OST_DONE;
			h3_stream_reset(&qc->h3, s, H3_REQUEST_INCOMPLETE);
		}
		break;
	case H3_EV_STOPPED:
	case H3_EV_ERROR:
		st->state = OST_DONE;
		loop_timer_stop(st_loop(st), &st->timer);
		break;
	case H3_EV_WRITABLE:
		write_more(st);
		break;
	case H3_EV_ACKED:
		reset_when_acked(st);
		break;
	case H3_EV_CLOSED:
		stream_closed(qc, st, s);
		break;
	default:
		break;
	}
}
