/* oconn — see oconn.h. */
#include "replay/oconn.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/http1.h"
#include "lib/jsonw.h"
#include "lib/payload.h"
#include "lib/url.h"
#include "replay/oplan.h"
#include "replay/respgen.h"

/* OS_PACE: a timed replay waits before its next recorded segment. */
enum ostate { OS_HEAD, OS_BODY, OS_DELAY, OS_WRITE, OS_DRIP, OS_PACE, OS_CLOSING };

struct oconn {
	struct origin_worker *w;
	int fd;
	struct loop_io io;
	struct loop_timer timer;
	bool tls_on;
	struct tls_conn tls;
	bool handshake_done;
	enum ostate state;
	uint64_t serial;           /* connection number in this process */
	unsigned req_index;
	char peer[NET_ADDRSTRLEN], local[NET_ADDRSTRLEN];
	/* the request */
	char in[HTTP1_MAX_HEAD];
	size_t in_len;
	char id[64], method[16], target[512];
	struct http1_body body;
	bool has_body_seed, body_bad;
	uint64_t body_seed, body_verified;
	bool keep_alive;
	struct plan plan;
	struct respgen gen;
	bool gen_ready;
	uint64_t pace_due_us;      /* timed replay: when the next recorded segment is due */
	/* output */
	uint8_t out[16384];
	size_t out_off, out_len;
	/* accounting: req_received is the request's head and body bytes as they came (the
	 * body's framing included), counted as the parsers take them, so bytes of the next
	 * pipelined request are never this one's; bytes read and never taken by a request
	 * are in[] (and tail_received) and go on the connection's last line */
	uint64_t req_received, req_written, conn_written, tail_received;
	uint64_t t0_us;
	double t_wall;
	bool fin_received, rst_received, fin_sent;
	struct oconn *next, *prev;
};

static void conn_io(struct loop *loop, struct loop_io *io, unsigned events);
static void conn_close(struct oconn *c, const char *end, bool reset);
static void start_response(struct oconn *c);
static void do_write(struct oconn *c);

static double wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long c_read(struct oconn *c, void *buf, size_t len)
{
	return c->tls_on ? tls_read(&c->tls, buf, len) : net_read(c->fd, buf, len);
}

static long c_write(struct oconn *c, const void *buf, size_t len)
{
	return c->tls_on ? tls_write(&c->tls, buf, len) : net_write(c->fd, buf, len);
}

static void c_watch(struct oconn *c, unsigned events)
{
	loop_io_start(&c->w->loop, &c->io, c->fd, events, conn_io, c);
}

/* After -EAGAIN: TLS may need the other direction than the one we asked for. */
static unsigned again_events(const struct oconn *c, unsigned plain)
{
	return c->tls_on && c->tls.want ? c->tls.want : plain;
}

/* One ledger line for the request just answered (or the connection's end). Built
 * with lib/jsonw, as on every platform; a line that does not fit (it cannot: every
 * field is bounded) is counted as lost by ledger_write_line(). */
#define OCONN_LINE_MAX 4096 /* target (512) escaped at worst 6x stays well inside */
static void ledger_line(struct oconn *c, const char *end)
{
	struct origin_shared *sh = c->w->sh;
	if (!ledger_is_open(&sh->ledger))
		return;
	char line[OCONN_LINE_MAX];
	struct jsonw w;
	long long acked = net_bytes_acked(c->fd); /* -ENOTSUP on Windows: null */
	bool answered = c->method[0] || c->gen_ready; /* a request, or an error response to bytes */
	uint64_t received = answered ? c->req_received : c->in_len + c->tail_received;
	const char *fault = origin_fault_name(sh->cfg->fault);
	jsonw_init(&w, line, sizeof line);
	jsonw_object_begin(&w);
	jsonw_field_string(&w, "id", c->id[0] ? c->id : NULL);
	jsonw_field_string(&w, "peer", c->peer);
	jsonw_field_string(&w, "local", c->local);
	jsonw_field_uint(&w, "conn", c->serial);
	jsonw_field_uint(&w, "req", c->req_index);
	jsonw_field_bool(&w, "tls", c->tls_on);
	jsonw_field_string(&w, "method", c->method[0] ? c->method : NULL);
	jsonw_field_string(&w, "target", c->target[0] ? c->target : NULL);
	if (answered)
		jsonw_field_int(&w, "status", c->plan.status);
	else
		jsonw_field_null(&w, "status");
	jsonw_field_uint(&w, "bytes_received", received);
	jsonw_field_uint(&w, "bytes_written", c->req_written);
	jsonw_field_uint(&w, "body_bytes", c->plan.size);
	if (c->plan.sink) {
		jsonw_key(&w, "upload");
		jsonw_object_begin(&w);
		jsonw_field_uint(&w, "bytes", c->body.payload);
		jsonw_field_bool(&w, "verified", c->has_body_seed && !c->body_bad);
		jsonw_object_end(&w);
	}
	const char *acked_key = end ? "bytes_acked_at_close" : "bytes_acked_after_response";
	if (acked >= 0)
		jsonw_field_int(&w, acked_key, acked);
	else
		jsonw_field_null(&w, acked_key);
	jsonw_field_uint(&w, "conn_bytes_written", c->conn_written);
	if (end) {
		jsonw_field_string(&w, "end", end);
		jsonw_field_bool(&w, "fin_sent", c->fin_sent);
		jsonw_field_bool(&w, "fin_received", c->fin_received);
		jsonw_field_bool(&w, "rst_received", c->rst_received);
	}
	jsonw_field_string(&w, "fault", fault);
	jsonw_field_real(&w, "t", c->t_wall);
	jsonw_field_real(&w, "duration_ms", (double)(loop_now(&c->w->loop) - c->t0_us) / 1000.0);
	jsonw_object_end(&w);
	/* A line it cannot build or write counts in sh->ledger.lost. */
	ledger_write_line(&sh->ledger, line, jsonw_finish(&w));
}

static void reset_request(struct oconn *c)
{
	c->id[0] = c->method[0] = c->target[0] = '\0';
	c->req_received = c->req_written = 0;
	c->has_body_seed = c->body_bad = false;
	c->body_verified = 0;
	if (c->gen_ready)
		respgen_free(&c->gen);
	c->gen_ready = false;
	memset(&c->plan, 0, sizeof c->plan);
}

static void conn_close(struct oconn *c, const char *end, bool reset)
{
	struct origin_worker *w = c->w;
	loop_timer_stop(&w->loop, &c->timer);
	loop_io_stop(&w->loop, &c->io);
	/* The request in flight (or the last one) carries how the connection ended. */
	ledger_line(c, end);
	if (c->tls_on) {
		if (!reset)
			tls_shutdown(&c->tls);
		tls_conn_free(&c->tls);
	}
	if (reset)
		net_close_reset(c->fd);
	else
		net_close(c->fd);
	reset_request(c);
	if (c->prev)
		c->prev->next = c->next;
	else
		w->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	w->nconns--;
	free(c);
	if (atomic_load(&w->sh->stopping) && w->nconns == 0)
		loop_stop(&w->loop);
}

/* A simple error response, then close (bad requests, slowloris). */
static void respond_error(struct oconn *c, int status)
{
	if (!c->method[0]) {
		/* No request was parsed: the answer is to every byte read so far. */
		c->req_received = c->in_len;
		c->in_len = 0;
	}
	memset(&c->plan, 0, sizeof c->plan);
	c->plan.status = status;
	c->plan.close = true;
	c->keep_alive = false;
	start_response(c);
}

static void start_response(struct oconn *c)
{
	if (respgen_init(&c->gen, &c->plan, payload_seed(c->target, strlen(c->target)),
			 c->id[0] ? c->id : NULL, c->keep_alive) < 0) {
		/* No memory for gzip state: answer 500 without a body instead. */
		memset(&c->plan, 0, sizeof c->plan);
		c->plan.status = 500;
		c->keep_alive = false;
		respgen_init(&c->gen, &c->plan, 0, NULL, false);
	}
	c->gen_ready = true;
	c->out_off = c->out_len = 0;
	c->pace_due_us = loop_now(&c->w->loop);
	c->state = c->plan.drip_ms ? OS_DRIP : OS_WRITE;
	const struct origin_config *cfg = c->w->sh->cfg;
	if (cfg->fault == ORIGIN_FAULT_SLOW_HEADERS && c->req_written == 0)
		c->plan.delay_ms += (uint32_t)cfg->fault_n;
	if (c->plan.delay_ms) {
		c->state = OS_DELAY;
		loop_timer_start(&c->w->loop, &c->timer, (uint64_t)c->plan.delay_ms * 1000u);
		loop_io_stop(&c->w->loop, &c->io);
		return;
	}
	/* The caller writes at once (do_read, do_write): most responses fit the socket
	 * buffer, so the watcher stays on LOOP_READ and a request costs no epoll_ctl. */
	loop_timer_start(&c->w->loop, &c->timer, OCONN_IDLE_TIMEOUT_US);
}

/* The head is parsed: plan the answer, then read a body or respond. */
static void take_request(struct oconn *c, const struct http1_request *req, size_t head_len)
{
	reset_request(c);
	c->req_received = head_len;
	c->t0_us = loop_now(&c->w->loop);
	c->t_wall = wall_now();
	snprintf(c->method, sizeof c->method, "%.*s", (int)(req->method_len < 15 ? req->method_len : 15),
		 req->method);
	/* A forward proxy may pass the absolute form: keep the path for the seed. */
	size_t tl = req->target_len;
	const char *t = url_origin_form(req->target, &tl);
	if (tl >= sizeof c->target) {
		c->keep_alive = false;
		snprintf(c->target, sizeof c->target, "/");
		respond_error(c, 414);
		return;
	}
	memcpy(c->target, t, tl);
	c->target[tl] = '\0';
	const struct http1_header *h = http1_find_header(req->headers, req->num_headers, "X-Probe-Id");
	if (h)
		snprintf(c->id, sizeof c->id, "%.*s", (int)(h->value_len < 63 ? h->value_len : 63), h->value);
	char host[128] = "";
	h = http1_find_header(req->headers, req->num_headers, "Host");
	if (h)
		oplan_host(h->value, h->value_len, host, sizeof host);
	c->keep_alive = req->keep_alive && c->req_index + 1 < OCONN_MAX_REQUESTS;
	if (oplan_request(c->w->sh->cfg, c->method, host, c->target, &c->plan))
		c->keep_alive = false;
	h = http1_find_header(req->headers, req->num_headers, "X-Tp-Seed");
	if (h)
		c->has_body_seed = oplan_upload_seed(h->value, h->value_len, &c->body_seed);
	if (req->framing != HTTP1_FRAMING_NONE) {
		http1_body_init(&c->body, req->framing, req->content_length);
		if (req->framing == HTTP1_FRAMING_LENGTH && req->content_length > OCONN_MAX_BODY) {
			respond_error(c, 413);
			return;
		}
		c->state = OS_BODY;
		return;
	}
	http1_body_init(&c->body, HTTP1_FRAMING_NONE, 0);
	start_response(c);
}

/* Request body bytes (an upload): verified against X-Tp-Seed when it was sent, and
 * counted in req_received as the decoder takes them. Returns 0, -EPROTO for broken
 * framing, -EFBIG for a body over OCONN_MAX_BODY (a chunk size is refused as soon as
 * its digits say so, before any of its data arrives). */
static int feed_body(struct oconn *c, const uint8_t *data, size_t len, size_t *used_out)
{
	size_t used = 0;
	int rc = 0;
	while (used < len && !c->body.done) {
		const uint8_t *span;
		size_t span_len;
		int err;
		long n = http1_body_feed(&c->body, data + used, len - used, &span, &span_len, &err);
		if (n < 0) {
			rc = -EPROTO;
			break;
		}
		if (c->body.payload + c->body.remaining > OCONN_MAX_BODY) {
			rc = -EFBIG;
			used += (size_t)n;
			break;
		}
		if (span_len && c->has_body_seed && !c->body_bad &&
		    payload_verify(c->body_seed, c->body_verified, span, span_len) >= 0)
			c->body_bad = true;
		c->body_verified += span_len;
		if (n == 0 && span_len == 0)
			break;
		used += (size_t)n;
	}
	c->req_received += used;
	*used_out = used;
	return rc;
}

/* Parses as many complete requests from in[] as the state allows. */
static void process_input(struct oconn *c)
{
	while (c->state == OS_HEAD || c->state == OS_BODY) {
		if (c->state == OS_BODY) {
			size_t used = 0;
			int rc = feed_body(c, (const uint8_t *)c->in, c->in_len, &used);
			memmove(c->in, c->in + used, c->in_len - used);
			c->in_len -= used;
			if (rc < 0) {
				respond_error(c, rc == -EFBIG ? 413 : 400);
				return;
			}
			if (!c->body.done)
				return;
			if (c->plan.sink && c->has_body_seed && c->body_bad)
				c->plan.status = 422; /* the upload arrived corrupted */
			start_response(c);
			return;
		}
		if (c->in_len == 0)
			return;
		struct http1_request req;
		int err = 0;
		int r = http1_parse_request(c->in, c->in_len, HTTP1_MAX_HEAD, &req, &err);
		if (r == HTTP1_NEED_MORE)
			return;
		if (r < 0) {
			snprintf(c->target, sizeof c->target, "-");
			respond_error(c, err == HTTP1_E_TOO_LARGE ? 431 : 400);
			return;
		}
		take_request(c, &req, (size_t)r);
		memmove(c->in, c->in + r, c->in_len - (size_t)r);
		c->in_len -= (size_t)r;
	}
}

static void do_read(struct oconn *c)
{
	/* Past the bound, only what TLS already decrypted (the socket won't signal it). */
	for (int i = 0; i < 8 || (c->tls_on && tls_pending(&c->tls) > 0); i++) {
		size_t room = sizeof c->in - c->in_len;
		if (room == 0) {
			if (c->state == OS_HEAD)
				respond_error(c, 431);
			return;
		}
		long n = c_read(c, c->in + c->in_len, room);
		if (n == -EAGAIN) {
			c_watch(c, again_events(c, LOOP_READ));
			return;
		}
		if (n <= 0) {
			c->fin_received = n == 0;
			c->rst_received = n == -ECONNRESET;
			conn_close(c, n == 0 ? "fin" : "rst", false);
			return;
		}
		c->in_len += (size_t)n;
		if (c->state == OS_HEAD && c->in_len == (size_t)n)
			loop_timer_start(&c->w->loop, &c->timer, OCONN_HEAD_TIMEOUT_US);
		process_input(c);
		if (c->state == OS_WRITE || c->state == OS_DRIP) {
			do_write(c);
			return;
		}
		if (c->state != OS_HEAD && c->state != OS_BODY)
			return;
	}
}

/* The response is fully written: ledger, then the next request or the end. */
static void response_done(struct oconn *c)
{
	ledger_line(c, NULL);
	c->req_index++;
	bool keep = c->keep_alive;
	reset_request(c);
	if (!keep) {
		net_shutdown_write(c->fd);
		c->fin_sent = true;
		c->state = OS_CLOSING; /* wait for the peer's FIN (bounded by the timer) */
		loop_timer_start(&c->w->loop, &c->timer, 5000000);
		c_watch(c, LOOP_READ);
		return;
	}
	c->state = OS_HEAD;
	loop_timer_start(&c->w->loop, &c->timer, OCONN_IDLE_TIMEOUT_US);
	c_watch(c, LOOP_READ);
	process_input(c);
}

/* truncate, rst and stall cut the connection once fault_n response bytes are written:
 * trims *want to reach the cut exactly, or makes it (FIN, RST, or silence until the
 * idle timer ends it). Returns 1 write *want bytes, 0 stalled, -1 closed. */
static int fault_cut(struct oconn *c, size_t *want)
{
	const struct origin_config *cfg = c->w->sh->cfg;
	if (oplan_fault_room(cfg, c->conn_written, want))
		return 1;
	if (cfg->fault == ORIGIN_FAULT_STALL) {
		loop_io_stop(&c->w->loop, &c->io);
		return 0;
	}
	if (cfg->fault == ORIGIN_FAULT_RST) {
		conn_close(c, "local_rst", true);
		return -1;
	}
	net_shutdown_write(c->fd);
	c->fin_sent = true;
	conn_close(c, "local", false);
	return -1;
}

static void do_write(struct oconn *c)
{
	if (c->state != OS_WRITE && c->state != OS_DRIP)
		return;
	for (int i = 0; i < 64; i++) {
		if (c->out_off == c->out_len) {
			/* Timed replay: each segment is due at the response's start plus the
			 * recorded gaps so far; one late (timers have 1 ms grain) goes at once,
			 * so the schedule never drifts. */
			c->pace_due_us += respgen_gap_us(&c->gen);
			uint64_t now = loop_now(&c->w->loop);
			if (c->pace_due_us > now + OCONN_PACE_SLACK_US) {
				c->state = OS_PACE;
				loop_io_stop(&c->w->loop, &c->io);
				loop_timer_start(&c->w->loop, &c->timer, c->pace_due_us - now);
				return;
			}
			bool dripping = c->state == OS_DRIP && respgen_head_done(&c->gen);
			c->out_len = respgen_fill(&c->gen, c->out, dripping ? 64 : sizeof c->out);
			if (dripping && c->out_len > 1 &&
			    c->gen.plan.framing == PLAN_LENGTH) {
				/* Drip: one body byte per step; the rest comes on later ticks. */
				c->gen.produced -= c->out_len - 1;
				c->gen.body_done = false;
				c->out_len = 1;
			}
			c->out_off = 0;
			if (c->out_len == 0) {
				response_done(c);
				/* A pipelined request may already have its response ready. */
				if (c->state == OS_WRITE)
					continue;
				return;
			}
		}
		size_t want = c->out_len - c->out_off;
		if (fault_cut(c, &want) <= 0)
			return;
		long n = c_write(c, c->out + c->out_off, want);
		if (n == -EAGAIN) {
			c_watch(c, again_events(c, LOOP_WRITE));
			return;
		}
		if (n <= 0) {
			c->rst_received = true;
			conn_close(c, "rst", false);
			return;
		}
		c->out_off += (size_t)n;
		c->req_written += (uint64_t)n;
		c->conn_written += (uint64_t)n;
		if (c->state == OS_DRIP && respgen_head_done(&c->gen) && c->out_off == c->out_len &&
		    !c->gen.body_done) {
			loop_io_stop(&c->w->loop, &c->io);
			loop_timer_start(&c->w->loop, &c->timer, (uint64_t)c->plan.drip_ms * 1000u);
			return;
		}
	}
	c_watch(c, LOOP_WRITE);
}

static void conn_io(struct loop *loop, struct loop_io *io, unsigned events)
{
	struct oconn *c = io->data;
	if (c->tls_on && !c->handshake_done) {
		int r = tls_handshake(&c->tls);
		if (r == -EAGAIN) {
			c_watch(c, again_events(c, LOOP_READ));
			return;
		}
		if (r < 0) {
			conn_close(c, "tls_error", false);
			return;
		}
		c->handshake_done = true;
		c->tls.want = 0;
	}
	switch (c->state) {
	case OS_HEAD:
	case OS_BODY:
	case OS_CLOSING:
		if (c->state == OS_CLOSING) {
			char b[4096];
			long n = c_read(c, b, sizeof b);
			if (n == -EAGAIN)
				return;
			if (n > 0)
				c->tail_received += (uint64_t)n; /* after our FIN: read, never answered */
			c->fin_received = n == 0;
			c->rst_received = n == -ECONNRESET;
			conn_close(c, n == 0 ? "fin" : n < 0 ? "rst" : "local", false);
			return;
		}
		do_read(c);
		break;
	case OS_WRITE:
	case OS_DRIP:
		do_write(c);
		break;
	default:
		break;
	}
}

static void conn_timer(struct loop *loop, struct loop_timer *timer)
{
	struct oconn *c = timer->data;
	switch (c->state) {
	case OS_DELAY:
		c->state = c->plan.drip_ms ? OS_DRIP : OS_WRITE;
		loop_timer_start(loop, &c->timer, OCONN_IDLE_TIMEOUT_US);
		do_write(c);
		break;
	case OS_DRIP:
		c->out_off = c->out_len = 0;
		loop_timer_start(loop, &c->timer, OCONN_IDLE_TIMEOUT_US);
		do_write(c);
		break;
	case OS_PACE:
		c->state = OS_WRITE;
		loop_timer_start(loop, &c->timer, OCONN_IDLE_TIMEOUT_US);
		do_write(c);
		break;
	case OS_HEAD:
		if (c->in_len > 0) {
			respond_error(c, 408); /* a head that never completes: slowloris */
			do_write(c);
			break;
		}
		conn_close(c, "timeout", false);
		break;
	default:
		conn_close(c, "timeout", false);
		break;
	}
}

void oconn_on_accept(struct loop *loop, struct loop_io *io, unsigned events)
{
	struct origin_worker *w = io->data;
	size_t li = listeners_index(&w->listeners, io);
	bool tls = w->sh->cfg->listen_tls[li];
	for (int i = 0; i < 64; i++) {
		struct net_addr peer;
		int fd = net_accept(io->fd, &peer);
		if (fd < 0)
			return;
		struct oconn *c = calloc(1, sizeof *c);
		if (!c) {
			net_close(fd);
			continue;
		}
		c->w = w;
		c->fd = fd;
		c->serial = atomic_fetch_add(&w->sh->conns, 1);
		c->t0_us = loop_now(loop);
		c->t_wall = wall_now();
		net_addr_format(&peer, c->peer);
		struct net_addr local;
		if (net_local_addr(fd, &local) == 0)
			net_addr_format(&local, c->local);
		net_nodelay(fd);
		loop_timer_init(&c->timer, conn_timer, c);
		c->next = w->conns;
		if (w->conns)
			w->conns->prev = c;
		w->conns = c;
		w->nconns++;
		if (tls) {
			if (tlsserv_conn_init(&w->sh->tls, &c->tls, fd) < 0) {
				conn_close(c, "local", true);
				continue;
			}
			c->tls_on = true;
		}
		c->state = OS_HEAD;
		loop_timer_start(loop, &c->timer, OCONN_HEAD_TIMEOUT_US);
		c_watch(c, LOOP_READ);
	}
}


void oconn_close_idle(struct origin_worker *w)
{
	for (struct oconn *c = w->conns, *next; c; c = next) {
		next = c->next;
		if (c->state == OS_HEAD && c->in_len == 0)
			conn_close(c, "local", false);
	}
}

void oconn_close_all(struct origin_worker *w)
{
	while (w->conns)
		conn_close(w->conns, "local", false);
}
