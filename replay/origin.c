/* origin — see origin.h. One event loop per worker thread (SO_REUSEPORT listeners);
 * each connection reads a request head (capped), plans the response (sites.c),
 * reads and verifies a request body if any, and writes the response produced by
 * respgen.c; keep-alive and pipelined requests follow on the same connection. */
#include "replay/origin.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "lib/http1.h"
#include "lib/loop.h"
#include "lib/net.h"
#include "lib/payload.h"
#include "lib/tlsserv.h"
#include "replay/respgen.h"
#include "replay/sites.h"

#define MAX_LISTEN 8
#define MAX_WORKERS 64
#define HEAD_TIMEOUT_US 10000000u  /* a request head must arrive within 10 s (slowloris) */
#define IDLE_TIMEOUT_US 60000000u  /* an idle keep-alive connection is closed after 60 s */
#define MAX_REQUESTS_PER_CONN 100000

enum ofault_kind { OF_NONE, OF_TRUNCATE, OF_RST, OF_STALL, OF_SLOW_HEADERS };

struct origin_cfg {
	struct net_addr listen[MAX_LISTEN];
	bool listen_tls[MAX_LISTEN];
	size_t nlisten;
	unsigned threads;
	const char *ca_out, *ledger_path, *sites_path;
	struct sites sites;
	enum ofault_kind fault;
	uint64_t fault_n;
};

struct origin_shared {
	const struct origin_cfg *cfg;
	struct tlsserv tls;
	bool tls_ready;
	FILE *ledger;
	pthread_mutex_t ledger_lock;
	atomic_uint_fast64_t conns;
	atomic_int stopping;
};

struct oworker {
	struct origin_shared *sh;
	pthread_t thread;
	struct loop loop;
	int listen_fd[MAX_LISTEN];
	struct loop_io listen_io[MAX_LISTEN];
	size_t nlisten;
	struct oconn *conns;
	size_t nconns;
	uint8_t scratch[65536];
};

enum ostate { OS_HEAD, OS_BODY, OS_DELAY, OS_WRITE, OS_DRIP, OS_CLOSING };

struct oconn {
	struct oworker *w;
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
	/* output */
	uint8_t out[16384];
	size_t out_off, out_len;
	/* accounting */
	uint64_t req_received, req_written, conn_written;
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

/* One ledger line for the request just answered (or the connection's end). */
static void ledger_line(struct oconn *c, const char *end)
{
	struct origin_shared *sh = c->w->sh;
	if (!sh->ledger)
		return;
	long long acked = net_bytes_acked(c->fd);
	json_t *o = json_object();
	json_object_set_new(o, "id", c->id[0] ? json_string(c->id) : json_null());
	json_object_set_new(o, "peer", json_string(c->peer));
	json_object_set_new(o, "local", json_string(c->local));
	json_object_set_new(o, "conn", json_integer((json_int_t)c->serial));
	json_object_set_new(o, "req", json_integer(c->req_index));
	json_object_set_new(o, "tls", json_boolean(c->tls_on));
	json_object_set_new(o, "method", c->method[0] ? json_string(c->method) : json_null());
	json_object_set_new(o, "target", c->target[0] ? json_string(c->target) : json_null());
	json_object_set_new(o, "status", c->method[0] ? json_integer(c->plan.status) : json_null());
	json_object_set_new(o, "bytes_received", json_integer((json_int_t)c->req_received));
	json_object_set_new(o, "bytes_written", json_integer((json_int_t)c->req_written));
	json_object_set_new(o, "body_bytes", json_integer((json_int_t)c->plan.size));
	if (c->plan.sink)
		json_object_set_new(o, "upload", json_pack("{s:I,s:b}", "bytes", (json_int_t)c->body.payload,
							  "verified", c->has_body_seed && !c->body_bad));
	json_object_set_new(o, end ? "bytes_acked_at_close" : "bytes_acked_after_response",
			    acked >= 0 ? json_integer(acked) : json_null());
	json_object_set_new(o, "conn_bytes_written", json_integer((json_int_t)c->conn_written));
	if (end) {
		json_object_set_new(o, "end", json_string(end));
		json_object_set_new(o, "fin_sent", json_boolean(c->fin_sent));
		json_object_set_new(o, "fin_received", json_boolean(c->fin_received));
		json_object_set_new(o, "rst_received", json_boolean(c->rst_received));
	}
	const struct origin_cfg *cfg = sh->cfg;
	static const char *const faults[] = {NULL, "truncate", "rst", "stall", "slow-headers"};
	json_object_set_new(o, "fault", cfg->fault ? json_string(faults[cfg->fault]) : json_null());
	json_object_set_new(o, "t", json_real(c->t_wall));
	json_object_set_new(o, "duration_ms", json_real((double)(loop_now(&c->w->loop) - c->t0_us) / 1000.0));
	char *line = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!line)
		return;
	pthread_mutex_lock(&sh->ledger_lock);
	fprintf(sh->ledger, "%s\n", line);
	fflush(sh->ledger);
	pthread_mutex_unlock(&sh->ledger_lock);
	free(line);
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
	struct oworker *w = c->w;
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
		close(c->fd);
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
	c->state = c->plan.drip_ms ? OS_DRIP : OS_WRITE;
	const struct origin_cfg *cfg = c->w->sh->cfg;
	if (cfg->fault == OF_SLOW_HEADERS && c->req_written == 0)
		c->plan.delay_ms += (uint32_t)cfg->fault_n;
	if (c->plan.delay_ms) {
		c->state = OS_DELAY;
		loop_timer_start(&c->w->loop, &c->timer, (uint64_t)c->plan.delay_ms * 1000u);
		loop_io_stop(&c->w->loop, &c->io);
		return;
	}
	/* The caller writes at once (do_read, do_write): most responses fit the socket
	 * buffer, so the watcher stays on LOOP_READ and a request costs no epoll_ctl. */
	loop_timer_start(&c->w->loop, &c->timer, IDLE_TIMEOUT_US);
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
	const char *t = req->target;
	size_t tl = req->target_len;
	/* A forward proxy may pass the absolute form: keep the path for the seed. */
	if (tl > 7 && strncasecmp(t, "http", 4) == 0 && memchr(t, ':', tl)) {
		const char *slash = memchr(t + 8, '/', tl - 8 > 0 ? tl - 8 : 0);
		tl = slash ? tl - (size_t)(slash - t) : 1;
		t = slash ? slash : "/";
	}
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
	if (h) {
		size_t hl = h->value_len;
		const char *colon = h->value[0] == '[' ? NULL : memchr(h->value, ':', hl);
		if (colon)
			hl = (size_t)(colon - h->value);
		snprintf(host, sizeof host, "%.*s", (int)(hl < 127 ? hl : 127), h->value);
	}
	c->keep_alive = req->keep_alive && c->req_index + 1 < MAX_REQUESTS_PER_CONN;
	sites_plan(&c->w->sh->cfg->sites, c->method, host, c->target, &c->plan);
	if (c->plan.close || c->plan.framing == PLAN_CLOSE)
		c->keep_alive = false;
	h = http1_find_header(req->headers, req->num_headers, "X-Tp-Seed");
	if (h && h->value_len == 16) {
		c->body_seed = strtoull(h->value, NULL, 16);
		c->has_body_seed = true;
	}
	if (req->framing != HTTP1_FRAMING_NONE) {
		http1_body_init(&c->body, req->framing, req->content_length);
		if (req->framing == HTTP1_FRAMING_LENGTH && req->content_length > (1ull << 40)) {
			respond_error(c, 413);
			return;
		}
		c->state = OS_BODY;
		return;
	}
	http1_body_init(&c->body, HTTP1_FRAMING_NONE, 0);
	start_response(c);
}

/* Request body bytes (an upload): verified against X-Tp-Seed when it was sent. */
static int feed_body(struct oconn *c, const uint8_t *data, size_t len, size_t *used_out)
{
	size_t used = 0;
	while (used < len && !c->body.done) {
		const uint8_t *span;
		size_t span_len;
		int err;
		long n = http1_body_feed(&c->body, data + used, len - used, &span, &span_len, &err);
		if (n < 0)
			return -1;
		if (span_len && c->has_body_seed && !c->body_bad &&
		    payload_verify(c->body_seed, c->body_verified, span, span_len) >= 0)
			c->body_bad = true;
		c->body_verified += span_len;
		if (n == 0 && span_len == 0)
			break;
		used += (size_t)n;
	}
	*used_out = used;
	return 0;
}

/* Parses as many complete requests from in[] as the state allows. */
static void process_input(struct oconn *c)
{
	while (c->state == OS_HEAD || c->state == OS_BODY) {
		if (c->state == OS_BODY) {
			size_t used = 0;
			if (feed_body(c, (const uint8_t *)c->in, c->in_len, &used) < 0) {
				respond_error(c, 400);
				return;
			}
			memmove(c->in, c->in + used, c->in_len - used);
			c->in_len -= used;
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
		if (c->state == OS_HEAD || c->state == OS_BODY)
			c->req_received += (uint64_t)n;
		if (c->state == OS_HEAD && c->in_len == (size_t)n)
			loop_timer_start(&c->w->loop, &c->timer, HEAD_TIMEOUT_US);
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
	loop_timer_start(&c->w->loop, &c->timer, IDLE_TIMEOUT_US);
	c_watch(c, LOOP_READ);
	process_input(c);
}

static void do_write(struct oconn *c)
{
	const struct origin_cfg *cfg = c->w->sh->cfg;
	if (c->state != OS_WRITE && c->state != OS_DRIP)
		return;
	for (int i = 0; i < 64; i++) {
		if (c->out_off == c->out_len) {
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
		/* Origin faults cut the response on this connection after N bytes. */
		if (cfg->fault == OF_TRUNCATE || cfg->fault == OF_RST || cfg->fault == OF_STALL) {
			if (c->conn_written >= cfg->fault_n) {
				if (cfg->fault == OF_STALL) {
					loop_io_stop(&c->w->loop, &c->io);
					return; /* the idle timer ends it */
				}
				if (cfg->fault == OF_TRUNCATE) {
					net_shutdown_write(c->fd);
					c->fin_sent = true;
				}
				conn_close(c, cfg->fault == OF_RST ? "local_rst" : "local", cfg->fault == OF_RST);
				return;
			}
			if (c->conn_written + want > cfg->fault_n)
				want = (size_t)(cfg->fault_n - c->conn_written);
		}
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
		loop_timer_start(loop, &c->timer, IDLE_TIMEOUT_US);
		do_write(c);
		break;
	case OS_DRIP:
		c->out_off = c->out_len = 0;
		loop_timer_start(loop, &c->timer, IDLE_TIMEOUT_US);
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

static void on_accept(struct loop *loop, struct loop_io *io, unsigned events)
{
	struct oworker *w = io->data;
	size_t li = (size_t)(io - w->listen_io);
	bool tls = w->sh->cfg->listen_tls[li];
	for (int i = 0; i < 64; i++) {
		struct net_addr peer;
		int fd = net_accept(io->fd, &peer);
		if (fd < 0)
			return;
		struct oconn *c = calloc(1, sizeof *c);
		if (!c) {
			close(fd);
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
		loop_timer_start(loop, &c->timer, HEAD_TIMEOUT_US);
		c_watch(c, LOOP_READ);
	}
}

/* ---- workers and options ---- */

static struct origin_shared *volatile running_sh;
static struct oworker *volatile running_ws;
static volatile unsigned running_n;

static void on_signal(int sig)
{
	(void)sig;
	struct origin_shared *sh = running_sh;
	if (!sh)
		return;
	atomic_store(&sh->stopping, 1);
	struct oworker *ws = running_ws;
	for (unsigned i = 0; ws && i < running_n; i++)
		loop_wake(&ws[i].loop);
}

static void on_wake(struct loop *loop)
{
	struct oworker *w = loop->data;
	if (!atomic_load(&w->sh->stopping))
		return;
	for (size_t i = 0; i < w->nlisten; i++) {
		loop_io_stop(loop, &w->listen_io[i]);
		close(w->listen_fd[i]);
		w->listen_fd[i] = -1;
	}
	/* Idle keep-alive connections go now; responses under way finish. */
	for (struct oconn *c = w->conns, *next; c; c = next) {
		next = c->next;
		if (c->state == OS_HEAD && c->in_len == 0)
			conn_close(c, "local", false);
	}
	if (w->nconns == 0)
		loop_stop(loop);
}

static void *worker_main(void *arg)
{
	struct oworker *w = arg;
	loop_update_time(&w->loop);
	loop_run(&w->loop);
	while (w->conns)
		conn_close(w->conns, "local", false);
	return NULL;
}

static void usage(FILE *out)
{
	fputs("usage: tunnelprobe origin [--listen ADDR]... [--tls-listen ADDR]... [options]\n"
	      "  --listen ADDR       plain HTTP/1.1 (default 127.0.0.1:0); repeatable\n"
	      "  --tls-listen ADDR   HTTPS with a CA made at start; repeatable\n"
	      "                      each bound address is printed: 'listening http|https ADDR'\n"
	      "  --ca-out FILE       write the CA certificate (PEM) for clients' --cacert\n"
	      "  --sites FILE        routes by Host and path (docs/origin.md)\n"
	      "  --ledger FILE       one JSON line per request (docs/ledgers.md)\n"
	      "  --threads N         worker threads (SO_REUSEPORT), default 1\n"
	      "  --fault SPEC        truncate:after=N | rst:after=N | stall:after=N (bytes written\n"
	      "                      per connection) | slow-headers:ms=N\n"
	      "built-in paths: /bytes/N /chunked/N?chunk=K /gzip/N /close/N /status/CODE\n"
	      "                /delay/MS /drip?bytes=N&ms=M  POST /sink (verifies X-Tp-Seed bodies)\n",
	      out);
}

static int bad(const char *what, const char *v)
{
	fprintf(stderr, "tunnelprobe origin: %s '%s'\n", what, v);
	return 2;
}

static int parse_fault(struct origin_cfg *cfg, const char *v)
{
	static const struct { const char *prefix; enum ofault_kind kind; } kinds[] = {
		{"truncate:after=", OF_TRUNCATE}, {"rst:after=", OF_RST}, {"stall:after=", OF_STALL},
		{"slow-headers:ms=", OF_SLOW_HEADERS},
	};
	for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
		size_t n = strlen(kinds[i].prefix);
		if (strncmp(v, kinds[i].prefix, n) != 0)
			continue;
		char *end;
		errno = 0;
		unsigned long long x = strtoull(v + n, &end, 10);
		if (errno || *end || v[n] == '\0' || v[n] == '-')
			return -1;
		cfg->fault = kinds[i].kind;
		cfg->fault_n = x;
		return 0;
	}
	return -1;
}

static int parse_args(struct origin_cfg *cfg, int argc, char **argv)
{
	cfg->threads = 1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			return 1;
		}
		const char *v = i + 1 < argc ? argv[++i] : NULL;
		if (!v)
			return bad("missing value for", a);
		if (strcmp(a, "--listen") == 0 || strcmp(a, "--tls-listen") == 0) {
			if (cfg->nlisten == MAX_LISTEN || net_addr_parse(v, &cfg->listen[cfg->nlisten]) < 0)
				return bad("bad listen address (want IP:PORT or [IPv6]:PORT)", v);
			cfg->listen_tls[cfg->nlisten++] = a[2] == 't';
		} else if (strcmp(a, "--ca-out") == 0) {
			cfg->ca_out = v;
		} else if (strcmp(a, "--ledger") == 0) {
			cfg->ledger_path = v;
		} else if (strcmp(a, "--sites") == 0) {
			char err[600];
			if (sites_load(&cfg->sites, v, err, sizeof err) < 0) {
				fprintf(stderr, "tunnelprobe origin: %s\n", err);
				return 2;
			}
			cfg->sites_path = v;
		} else if (strcmp(a, "--threads") == 0) {
			char *end;
			unsigned long n = strtoul(v, &end, 10);
			if (*end || n == 0 || n > MAX_WORKERS)
				return bad("--threads wants 1..64, not", v);
			cfg->threads = (unsigned)n;
		} else if (strcmp(a, "--fault") == 0) {
			if (parse_fault(cfg, v) < 0)
				return bad("bad --fault (truncate:after=N, rst:after=N, stall:after=N, "
					   "slow-headers:ms=N)", v);
		} else if (strcmp(a, "--replay") == 0) {
			return bad("--replay of recorded responses is not supported yet:", v);
		} else {
			return bad("unknown option", a);
		}
	}
	if (cfg->nlisten == 0)
		net_addr_parse("127.0.0.1:0", &cfg->listen[cfg->nlisten++]);
	return 0;
}

int origin_main(int argc, char **argv)
{
	static struct origin_cfg cfg;
	memset(&cfg, 0, sizeof cfg);
	int rc = parse_args(&cfg, argc, argv);
	if (rc)
		return rc == 1 ? 0 : rc;
	static struct origin_shared sh;
	memset(&sh, 0, sizeof sh);
	sh.cfg = &cfg;
	pthread_mutex_init(&sh.ledger_lock, NULL);
	bool any_tls = false;
	for (size_t i = 0; i < cfg.nlisten; i++)
		any_tls |= cfg.listen_tls[i];
	const char *why = NULL;
	if ((any_tls || cfg.ca_out) && tlsserv_init(&sh.tls, cfg.ca_out, &why) < 0) {
		fprintf(stderr, "tunnelprobe origin: %s\n", why);
		return 2;
	}
	sh.tls_ready = any_tls || cfg.ca_out;
	if (cfg.ledger_path && !(sh.ledger = fopen(cfg.ledger_path, "a"))) {
		fprintf(stderr, "tunnelprobe origin: cannot write --ledger %s: %s\n", cfg.ledger_path,
			strerror(errno));
		return 2;
	}
	struct oworker *ws = calloc(cfg.threads, sizeof *ws);
	int exit_code = 2;
	unsigned started = 0;
	for (unsigned t = 0; ws && t < cfg.threads; t++) {
		struct oworker *w = &ws[t];
		w->sh = &sh;
		if (loop_init(&w->loop) < 0)
			goto out;
		w->loop.data = w;
		w->loop.on_wake = on_wake;
		for (size_t l = 0; l < cfg.nlisten; l++) {
			int fd = net_listen(&cfg.listen[l], 1024, cfg.threads > 1);
			char addr[NET_ADDRSTRLEN];
			if (fd < 0) {
				fprintf(stderr, "tunnelprobe origin: cannot listen on %s: %s\n",
					net_addr_format(&cfg.listen[l], addr), strerror(-fd));
				goto out;
			}
			if (t == 0 && net_addr_port(&cfg.listen[l]) == 0) {
				struct net_addr bound;
				net_local_addr(fd, &bound);
				net_addr_set_port(&cfg.listen[l], net_addr_port(&bound));
			}
			w->listen_fd[l] = fd;
			loop_io_start(&w->loop, &w->listen_io[l], fd, LOOP_READ, on_accept, w);
			w->nlisten++;
		}
	}
	if (!ws)
		goto out;
	for (size_t l = 0; l < cfg.nlisten; l++) {
		char addr[NET_ADDRSTRLEN];
		printf("listening %s %s\n", cfg.listen_tls[l] ? "https" : "http",
		       net_addr_format(&cfg.listen[l], addr));
	}
	fflush(stdout);
	running_sh = &sh;
	running_ws = ws;
	running_n = cfg.threads;
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	for (; started < cfg.threads; started++)
		if (pthread_create(&ws[started].thread, NULL, worker_main, &ws[started]) != 0)
			break;
	for (unsigned t = 0; t < started; t++)
		pthread_join(ws[t].thread, NULL);
	exit_code = started == cfg.threads ? 0 : 2;
out:
	running_sh = NULL;
	running_ws = NULL;
	for (unsigned t = 0; ws && t < cfg.threads; t++) {
		for (size_t l = 0; l < ws[t].nlisten; l++)
			if (ws[t].listen_fd[l] >= 0)
				close(ws[t].listen_fd[l]);
		loop_free(&ws[t].loop);
	}
	free(ws);
	if (sh.ledger)
		fclose(sh.ledger);
	if (sh.tls_ready)
		tlsserv_free(&sh.tls);
	return exit_code;
}
