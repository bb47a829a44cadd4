/* origin — see origin.h. The connection state machine is here; what a response looks
 * like per action is oresp.c. */
#include "check/origin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/cio.h"
#include "check/oresp.h"
#include "lib/http1.h"
#include "lib/payload.h"

enum oc_state {
	OC_HEAD,  /* reading a request head */
	OC_BODY,  /* reading its body */
	OC_READY, /* the request is whole: answer (afterfin/ waits for the client's FIN) */
	OC_WRITE, /* writing the response */
	OC_DRAIN, /* after our FIN, or holding: reading until the peer closes */
};

struct oconn {
	struct corigin *o;
	struct oconn *next, **prev; /* o->conns */
	struct loop_io io;
	struct loop_timer drip;
	int fd;
	uint64_t id;
	enum oc_state state;
	char in[HTTP1_MAX_HEAD + 16384]; /* a head, then body bytes being decoded */
	size_t in_len;
	size_t head_len, consumed;       /* the head's length; bytes of in[] taken */
	int parse_err;
	struct http1_request req;        /* points into in[] */
	struct oplan plan;
	struct http1_body body;
	uint64_t seed;
	long body_bad_at;
	unsigned requests;
	uint64_t req_seq;                /* the log record of the request being answered */
	char out[65536];
	size_t out_len, out_off;
	struct oresp_gen gen;
	bool peer_fin;                   /* the peer's FIN was read */
	bool discard_input;              /* after our FIN or while holding: count, keep nothing */
	bool reset_on_close;
};

static void conn_free(struct oconn *c);
static int conn_advance(struct oconn *c);

/* ---- the log (every access under o->lock) ---- */

static struct corigin_conn *log_conn(struct corigin *o, uint64_t id)
{
	struct corigin_conn *r = &o->log[id % CORIGIN_CONNS];
	return r->id == id ? r : NULL;
}

static struct corigin_req *log_req(struct corigin *o, uint64_t seq)
{
	struct corigin_req *r = &o->reqs[seq % CORIGIN_REQS];
	return seq && r->seq == seq ? r : NULL;
}

/* Runs stmt with L (connection c's log record) or R (its current request's) under the
 * lock, when the record is still in the log. */
#define WITH_CONN(c, stmt)                                                   \
	do {                                                                 \
		pthread_mutex_lock(&(c)->o->lock);                           \
		struct corigin_conn *L = log_conn((c)->o, (c)->id);          \
		if (L) {                                                     \
			stmt;                                                \
		}                                                            \
		pthread_mutex_unlock(&(c)->o->lock);                         \
	} while (0)
#define WITH_REQ(c, stmt)                                                    \
	do {                                                                 \
		pthread_mutex_lock(&(c)->o->lock);                           \
		struct corigin_req *R = log_req((c)->o, (c)->req_seq);       \
		if (R) {                                                     \
			stmt;                                                \
		}                                                            \
		pthread_mutex_unlock(&(c)->o->lock);                         \
	} while (0)

/* ---- connections ---- */

static void watch(struct oconn *c, unsigned events)
{
	loop_io_set(&c->o->loop, &c->io, events);
}

/* Ends the connection: with an RST when reset, else a close (FIN if none was sent). */
static void conn_end(struct oconn *c, bool reset)
{
	c->reset_on_close = reset;
	WITH_CONN(c, {
		L->closed = true;
		if (reset)
			L->rst_sent = true;
		else if (!L->fin_sent)
			L->fin_sent = true;
	});
	conn_free(c);
}

static void conn_free(struct oconn *c)
{
	struct corigin *o = c->o;
	loop_io_stop(&o->loop, &c->io);
	loop_timer_stop(&o->loop, &c->drip);
	if (c->fd >= 0) {
		if (c->reset_on_close)
			net_close_reset(c->fd);
		else
			net_close(c->fd);
	}
	*c->prev = c->next;
	if (c->next)
		c->next->prev = c->prev;
	o->nconns--;
	free(c);
}

/* Reads what is there into c->in. Returns 0, or -1 when the connection was freed. */
static int conn_read(struct oconn *c)
{
	uint8_t scratch[16384];
	for (int steps = 0; steps < 16 && !c->peer_fin; steps++) {
		/* After our FIN, or while holding, bytes are only counted. A full buffer waits
		 * for the state machine to take from it (the loop reports the rest again). */
		bool keep = !c->discard_input;
		if (keep && c->in_len == sizeof c->in)
			return 0;
		long n = keep ? net_read(c->fd, c->in + c->in_len, sizeof c->in - c->in_len)
			      : net_read(c->fd, scratch, sizeof scratch);
		if (n == -EAGAIN)
			return 0;
		if (n == 0) {
			c->peer_fin = true;
			WITH_CONN(c, L->fin_received = true);
			return 0;
		}
		if (n < 0) {
			WITH_CONN(c, L->rst_received = (n == -ECONNRESET));
			conn_end(c, false);
			return -1;
		}
		if (keep)
			c->in_len += (size_t)n;
		WITH_CONN(c, {
			L->received += (uint64_t)n;
			if (L->fin_sent)
				L->after_fin += (uint64_t)n;
		});
	}
	return 0;
}

/* Writes staged bytes and refills from the body generator. Returns 0, or -1 when the
 * connection was freed. */
static int conn_write(struct oconn *c)
{
	for (;;) {
		if (c->out_off == c->out_len)
			c->out_off = c->out_len = 0;
		/* Body bytes go out with the head and with each other while there is room, so
		 * a small response is one segment (no Nagle wait between head and body). */
		if (c->out_len < sizeof c->out / 2) {
			size_t more = 0;
			oresp_produce(&c->gen, c->out + c->out_len, sizeof c->out - c->out_len, &more);
			c->out_len += more;
		}
		if (c->out_off == c->out_len)
			break;
		long n = net_write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
		if (n == -EAGAIN)
			return 0;
		if (n < 0) {
			WITH_CONN(c, L->rst_received = (n == -ECONNRESET || n == -EPIPE));
			conn_end(c, false);
			return -1;
		}
		c->out_off += (size_t)n;
		WITH_CONN(c, L->sent += (uint64_t)n);
		WITH_REQ(c, R->resp_sent += (uint64_t)n);
	}
	if (c->gen.reset_due) {
		conn_end(c, true);
		return -1;
	}
	if (c->gen.waiting) {
		watch(c, 0);
		loop_timer_start(&c->o->loop, &c->drip, c->gen.drip_ms * 1000);
		return 0;
	}
	return conn_advance(c);
}

static void on_drip(struct loop *loop, struct loop_timer *t)
{
	struct oconn *c = t->data;
	c->gen.waiting = false;
	watch(c, LOOP_WRITE);
}

static void on_io(struct loop *loop, struct loop_io *io, unsigned events)
{
	struct oconn *c = io->data;
	if ((events & (LOOP_READ | LOOP_ERROR)) && c->state != OC_WRITE) {
		if (conn_read(c) < 0 || conn_advance(c) < 0)
			return;
	}
	if ((events & (LOOP_WRITE | LOOP_ERROR)) && c->state == OC_WRITE)
		conn_write(c);
}

/* A response is fully written: end, half-close, or wait for the next request. */
static int response_done(struct oconn *c)
{
	WITH_REQ(c, R->resp_complete = true);
	c->req_seq = 0;
	if (c->gen.end == OEND_KEEP) {
		c->state = OC_HEAD;
		c->discard_input = false;
		watch(c, LOOP_READ);
		return 1;
	}
	/* FIN after the body; then read on until the peer closes (its bytes are counted
	 * as arriving after our FIN). */
	net_shutdown_write(c->fd);
	WITH_CONN(c, L->fin_sent = true);
	c->state = OC_DRAIN;
	c->discard_input = true;
	watch(c, LOOP_READ);
	return 0;
}

/* Starts the response for the request just read. */
static int respond(struct oconn *c)
{
	struct oresp_in in = {
		.plan = &c->plan,
		.head = c->in,
		.head_len = c->head_len,
		.req = &c->req,
		.parse_err = c->parse_err,
		.body_received = c->body.payload,
		.body_bad_at = c->body_bad_at,
		.body_complete = c->body.done,
		.failing = atomic_load(&c->o->failing),
		.conn = c->id,
		.index = c->requests - 1,
	};
	int status = oresp_start(&c->gen, &in, c->out, sizeof c->out, &c->out_len);
	c->out_off = 0;
	WITH_REQ(c, R->status = status);
	/* The request bytes are consumed now (the head stayed for the echo). */
	memmove(c->in, c->in + c->consumed, c->in_len - c->consumed);
	c->in_len -= c->consumed;
	c->consumed = 0;
	if (c->gen.end == OEND_HOLD) {
		c->state = OC_DRAIN;
		c->discard_input = true;
		watch(c, LOOP_READ);
		return 0;
	}
	c->state = OC_WRITE;
	c->discard_input = true;
	watch(c, LOOP_WRITE);
	return conn_write(c);
}

/* Records a new request whose head is c->in[0..head_len). */
static void request_begin(struct oconn *c)
{
	struct corigin *o = c->o;
	pthread_mutex_lock(&o->lock);
	uint64_t seq = ++o->nreqs;
	struct corigin_req *r = &o->reqs[seq % CORIGIN_REQS];
	memset(r, 0, sizeof *r);
	r->seq = seq;
	r->conn = c->id;
	r->index = c->requests;
	r->body_bad_at = -1;
	r->head_len = c->head_len;
	r->head_copied = c->head_len < sizeof r->head ? c->head_len : sizeof r->head;
	memcpy(r->head, c->in, r->head_copied);
	r->parse_err = c->parse_err;
	r->action = c->plan.action;
	memcpy(r->tag, c->plan.tag, sizeof r->tag);
	if (!c->parse_err) {
		size_t m = c->req.method_len < sizeof r->method - 1 ? c->req.method_len
								  : sizeof r->method - 1;
		memcpy(r->method, c->req.method, m);
	}
	struct corigin_conn *L = log_conn(o, c->id);
	if (L)
		L->requests++;
	pthread_mutex_unlock(&o->lock);
	c->req_seq = seq;
	c->requests++;
}

/* Where the head in c->in ends (the byte after its blank line), or 0. A bare-LF blank
 * line counts too, so a head a proxy passed on with bare LFs is still seen. */
static size_t head_end(const char *b, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (b[i] != '\n')
			continue;
		if (b[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && b[i + 1] == '\r' && b[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* OC_HEAD: a whole head in c->in? Parse it, log it, go on to the body or answer. */
static int take_head(struct oconn *c)
{
	size_t end = head_end(c->in, c->in_len);
	if (end == 0 && c->in_len < HTTP1_MAX_HEAD) {
		if (c->peer_fin) {
			conn_end(c, false);
			return -1;
		}
		return 0;
	}
	c->head_len = end ? end : c->in_len;
	c->parse_err = end ? 0 : HTTP1_E_TOO_LARGE;
	memset(&c->plan, 0, sizeof c->plan);
	if (end) {
		int err = 0;
		int r = http1_parse_request(c->in, end, HTTP1_MAX_HEAD, &c->req, &err);
		if (r < 0)
			c->parse_err = err ? err : HTTP1_E_START_LINE;
		else
			oplan_parse(c->req.target, c->req.target_len, &c->plan);
	}
	c->consumed = c->head_len;
	c->body_bad_at = -1;
	request_begin(c);
	if (c->parse_err)
		return respond(c);
	http1_body_init(&c->body, c->req.framing, c->req.content_length);
	c->seed = payload_seed(c->req.target, c->req.target_len);
	if (c->req.framing != HTTP1_FRAMING_NONE && c->req.expect_continue) {
		static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
		net_write(c->fd, cont, sizeof cont - 1); /* a short first write: 25 bytes fit */
		WITH_CONN(c, L->sent += sizeof cont - 1);
	}
	c->state = c->req.framing == HTTP1_FRAMING_NONE ? OC_READY : OC_BODY;
	return 1;
}

/* OC_BODY: decodes (and for upload/ checks) the request body bytes in c->in. */
static int take_body(struct oconn *c)
{
	while (!c->body.done && c->consumed < c->in_len) {
		const uint8_t *data;
		size_t dlen;
		int err = 0;
		long used = http1_body_feed(&c->body, (const uint8_t *)c->in + c->consumed,
					    c->in_len - c->consumed, &data, &dlen, &err);
		if (used < 0) {
			c->parse_err = err;
			WITH_REQ(c, R->parse_err = err);
			return respond(c);
		}
		if (dlen && c->plan.action == OP_UPLOAD && c->body_bad_at < 0) {
			long bad = payload_verify(c->seed, c->body.payload - dlen, data, dlen);
			if (bad >= 0)
				c->body_bad_at = (long)(c->body.payload - dlen) + bad;
		}
		c->consumed += (size_t)used;
	}
	/* Body bytes are dropped as they are decoded; the head stays for the echo. */
	if (c->consumed > c->head_len) {
		size_t drop = c->consumed - c->head_len;
		memmove(c->in + c->head_len, c->in + c->consumed, c->in_len - c->consumed);
		c->in_len -= drop;
		c->consumed = c->head_len;
	}
	uint64_t got = c->body.payload;
	long bad = c->body_bad_at;
	bool done = c->body.done;
	WITH_REQ(c, {
		R->body_received = got;
		R->body_bad_at = bad;
		R->body_complete = done;
	});
	if (done) {
		c->state = OC_READY;
		return 1;
	}
	if (c->peer_fin)
		return respond(c); /* truncated upload: answered as such */
	return 0;
}

/* Runs the state machine as far as the input allows. Returns 0, or -1 when the
 * connection was freed. */
static int conn_advance(struct oconn *c)
{
	for (int steps = 0; steps < 64; steps++) {
		int r = 0;
		switch (c->state) {
		case OC_HEAD:
			r = take_head(c);
			break;
		case OC_BODY:
			r = take_body(c);
			break;
		case OC_READY:
			if (c->plan.action == OP_AFTERFIN && !c->peer_fin)
				return 0;
			r = respond(c);
			break;
		case OC_WRITE:
			if (c->out_off < c->out_len || !c->gen.finished)
				return 0;
			r = response_done(c);
			break;
		case OC_DRAIN:
			if (c->peer_fin) {
				conn_end(c, false);
				return -1;
			}
			return 0;
		}
		if (r < 0)
			return -1;
		if (r == 0)
			return 0;
	}
	return 0;
}

static void accept_one(struct corigin *o, int lfd, bool banner)
{
	struct net_addr peer;
	int fd = net_accept(lfd, &peer);
	if (fd < 0)
		return;
	struct oconn *c = o->nconns < CORIGIN_MAX_CONNS ? calloc(1, sizeof *c) : NULL;
	if (!c) {
		net_close(fd);
		return;
	}
	c->o = o;
	c->fd = fd;
	net_nodelay(fd);
	c->state = OC_HEAD;
	loop_timer_init(&c->drip, on_drip, c);
	c->next = o->conns;
	c->prev = &o->conns;
	if (o->conns)
		o->conns->prev = &c->next;
	o->conns = c;
	o->nconns++;
	pthread_mutex_lock(&o->lock);
	c->id = ++o->nlog;
	struct corigin_conn *L = &o->log[c->id % CORIGIN_CONNS];
	memset(L, 0, sizeof *L);
	L->id = c->id;
	L->banner = banner;
	net_addr_format(&peer, L->peer);
	pthread_mutex_unlock(&o->lock);
	if (loop_io_start(&o->loop, &c->io, fd, LOOP_READ, on_io, c) < 0) {
		conn_end(c, false);
		return;
	}
	if (banner) {
		oresp_banner(&c->gen, c->out, sizeof c->out, &c->out_len);
		c->state = OC_WRITE;
		c->discard_input = true;
		watch(c, LOOP_WRITE);
		conn_write(c);
	}
}

static void on_accept(struct loop *loop, struct loop_io *io, unsigned events)
{
	struct corigin *o = io->data;
	bool banner = io >= o->banner.io && io < o->banner.io + LISTENERS_MAX;
	for (int i = 0; i < 16; i++) {
		uint64_t before = o->nlog;
		accept_one(o, io->fd, banner);
		if (o->nlog == before)
			break;
	}
}

static void on_wake(struct loop *loop)
{
	struct corigin *o = loop->data;
	if (!atomic_load(&o->stopping))
		return;
	listeners_close(&o->http);
	listeners_close(&o->http6);
	listeners_close(&o->banner);
	while (o->conns)
		conn_end(o->conns, false);
	loop_stop(loop);
}

static void *origin_thread(void *arg)
{
	struct corigin *o = arg;
	loop_run(&o->loop);
	return NULL;
}

int corigin_start(struct corigin *o, const struct net_addr *bind_addr, char *err, size_t errlen)
{
	memset(o, 0, sizeof *o);
	pthread_mutex_init(&o->lock, NULL);
	size_t failed;
	int rc = loop_init(&o->loop);
	if (rc < 0) {
		snprintf(err, errlen, "origin: event loop: %s", strerror(-rc));
		goto out;
	}
	o->loop.data = o;
	o->loop.on_wake = on_wake;
	o->addr = *bind_addr;
	rc = listeners_open(&o->http, &o->loop, &o->addr, 1, false, on_accept, o, &failed);
	if (rc < 0) {
		char a[NET_ADDRSTRLEN];
		snprintf(err, errlen, "origin: cannot listen on %s: %s", net_addr_format(bind_addr, a),
			 strerror(-rc));
		goto out;
	}
	o->banner_addr = o->addr;
	net_addr_set_port(&o->banner_addr, 0);
	rc = listeners_open(&o->banner, &o->loop, &o->banner_addr, 1, false, on_accept, o, &failed);
	if (rc < 0) {
		snprintf(err, errlen, "origin: banner listener: %s", strerror(-rc));
		goto out;
	}
	/* IPv6 loopback is optional: checks that need it skip without it. */
	if (net_addr_from_ip("::1", 0, &o->addr6) < 0 ||
	    listeners_open(&o->http6, &o->loop, &o->addr6, 1, false, on_accept, o, &failed) < 0)
		o->addr6.len = 0;
	rc = -pthread_create(&o->thread, NULL, origin_thread, o);
	if (rc < 0) {
		snprintf(err, errlen, "origin: thread: %s", strerror(-rc));
		goto out;
	}
	o->started = true;
	return 0;
out:
	listeners_close(&o->http);
	listeners_close(&o->http6);
	listeners_close(&o->banner);
	loop_free(&o->loop);
	pthread_mutex_destroy(&o->lock);
	return rc;
}

void corigin_stop(struct corigin *o)
{
	if (!o || !o->started)
		return;
	atomic_store(&o->stopping, true);
	loop_wake(&o->loop);
	pthread_join(o->thread, NULL);
	loop_free(&o->loop);
	pthread_mutex_destroy(&o->lock);
	o->started = false;
}

/* ---- log readers ---- */

size_t corigin_find(struct corigin *o, const char *tag, struct corigin_req *out, size_t max)
{
	size_t n = 0;
	pthread_mutex_lock(&o->lock);
	uint64_t first = o->nreqs > CORIGIN_REQS ? o->nreqs - CORIGIN_REQS + 1 : 1;
	for (uint64_t s = first; s <= o->nreqs; s++) {
		const struct corigin_req *r = log_req(o, s);
		if (!r || strcmp(r->tag, tag) != 0)
			continue;
		if (n < max)
			out[n] = *r;
		n++;
	}
	pthread_mutex_unlock(&o->lock);
	return n;
}

void corigin_count(struct corigin *o, const char *prefix, uint64_t *requests, uint64_t *conns)
{
	size_t plen = strlen(prefix);
	uint64_t nreq = 0, nconn = 0, last_conn = 0;
	pthread_mutex_lock(&o->lock);
	uint64_t first = o->nreqs > CORIGIN_REQS ? o->nreqs - CORIGIN_REQS + 1 : 1;
	for (uint64_t s = first; s <= o->nreqs; s++) {
		const struct corigin_req *r = log_req(o, s);
		if (!r || strncmp(r->tag, prefix, plen) != 0)
			continue;
		nreq++;
		/* A connection counts once: its requests are its index 0, 1, ...; one whose
		 * first request here is not index 0 still counts when first seen. */
		if (r->index == 0 || r->conn != last_conn) {
			bool seen = false;
			for (uint64_t t = first; t < s && !seen; t++) {
				const struct corigin_req *q = log_req(o, t);
				seen = q && q->conn == r->conn && strncmp(q->tag, prefix, plen) == 0;
			}
			nconn += !seen;
		}
		last_conn = r->conn;
	}
	pthread_mutex_unlock(&o->lock);
	*requests = nreq;
	*conns = nconn;
}

bool corigin_conn(struct corigin *o, uint64_t id, struct corigin_conn *out)
{
	pthread_mutex_lock(&o->lock);
	const struct corigin_conn *r = log_conn(o, id);
	if (r)
		*out = *r;
	pthread_mutex_unlock(&o->lock);
	return r != NULL;
}

uint64_t corigin_last_conn(struct corigin *o)
{
	pthread_mutex_lock(&o->lock);
	uint64_t n = o->nlog;
	pthread_mutex_unlock(&o->lock);
	return n;
}

bool corigin_wait_closed(struct corigin *o, uint64_t id, uint64_t deadline)
{
	for (;;) {
		struct corigin_conn c;
		if (!corigin_conn(o, id, &c) || c.closed)
			return true;
		if (cio_left_ms(deadline) == 0)
			return false;
		cio_sleep_ms(10);
	}
}

bool corigin_wait_conn(struct corigin *o, uint64_t after, uint64_t deadline)
{
	while (corigin_last_conn(o) <= after) {
		if (cio_left_ms(deadline) == 0)
			return false;
		cio_sleep_ms(5);
	}
	return true;
}

void corigin_set_failing(struct corigin *o, bool failing)
{
	atomic_store(&o->failing, failing);
}
