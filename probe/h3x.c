/* h3x — see h3x.h. Runs inside lib/h3 callbacks (the QUIC filter's driver) or from a
 * request's start or deadline; it never drives the connection itself: after changing
 * something it asks the filter to send (pf_quic_kick). */
#include "probe/h3x.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lib/h3.h"
#include "lib/payload.h"
#include "probe/conn.h"
#include "probe/verify.h"
#include "probe/worker.h"

static struct h3_conn *h3_of(const struct conn *c) { return pf_quic_h3(c->link->quic_f); }

/* The record's byte counts from the stream's QUIC counters: what the request put on
 * the stream (HEADERS and DATA frames) and what came back on it. */
static void sync_counts(struct conn *c, const struct h3_stream *s)
{
	const struct quic_stream_stats *st = h3_stream_quic(s);
	c->rec.bytes_sent = st->bytes_written;
	c->rec.wire_received = st->bytes_received;
}

/* Writes what the upload body still has; ends the request side when all is in. */
static void upload_more(struct conn *c)
{
	struct h3_conn *h = h3_of(c);
	const struct probe_config *cfg = c->w->cfg;
	while (c->upload_sent < cfg->upload_bytes) {
		uint64_t left = cfg->upload_bytes - c->upload_sent;
		size_t len = left < sizeof c->w->scratch ? (size_t)left : sizeof c->w->scratch;
		payload_fill(conn_target(c)->upload_seed, c->upload_sent, c->w->scratch, len);
		long n = h3_stream_write(h, c->stream, c->w->scratch, len);
		if (n <= 0) {
			if (n < 0)
				conn_finish(c, TP_RESET, TP_PHASE_REQUEST, "request stream closed after %" PRIu64
					    " upload bytes", c->upload_sent);
			return; /* full: H3_EV_WRITABLE brings us back */
		}
		c->upload_sent += (uint64_t)n;
	}
	h3_stream_end(h, c->stream);
	c->state = CONN_HEAD;
	conn_arm(c, cfg->timeout_s);
}

/* Opens the request's stream and sends its header section (and body). A peer that
 * allows no more streams now parks the request (streams_available starts it). */
static void submit(struct conn *c)
{
	const struct probe_config *cfg = c->w->cfg;
	const struct probe_target *t = conn_target(c);
	char length[24] = "", seed[24] = "";
	struct h3_header fields[8];
	size_t n = 0;
	fields[n++] = (struct h3_header){"user-agent", "tunnelprobe/0.1"};
	fields[n++] = (struct h3_header){"accept", "*/*"};
	if (cfg->compressed)
		fields[n++] = (struct h3_header){"accept-encoding", "gzip"};
	if (cfg->upload_bytes) {
		snprintf(length, sizeof length, "%" PRIu64, cfg->upload_bytes);
		snprintf(seed, sizeof seed, "%016" PRIx64, t->upload_seed);
		fields[n++] = (struct h3_header){"content-length", length};
		fields[n++] = (struct h3_header){"content-type", "application/octet-stream"};
		fields[n++] = (struct h3_header){"x-tp-seed", seed};
	}
	fields[n++] = (struct h3_header){"x-probe-id", c->rec.id};
	struct h3_request req = {.method = cfg->method, .scheme = "https", .authority = t->host_header,
				 .path = t->url.path, .fields = fields, .nfields = n,
				 .body = cfg->upload_bytes > 0, .user = c};
	struct h3_stream *s = NULL;
	int rc = h3_submit_request(h3_of(c), &req, &s);
	if (rc == -EAGAIN)
		return; /* parked in CONN_SENDING until the peer allows another stream */
	if (rc < 0) {
		if (!conn_retry_if_stale(c))
			conn_finish(c, rc == -ENOTCONN ? TP_RESET : TP_PROTOCOL_ERROR, TP_PHASE_REQUEST,
				    "cannot open an HTTP/3 stream: %s",
				    rc == -ENOTCONN ? "the connection is closing" : strerror(-rc));
		return;
	}
	s->user = c;
	c->stream = s;
	if (cfg->upload_bytes) {
		upload_more(c);
	} else {
		c->state = CONN_HEAD;
		conn_arm(c, cfg->timeout_s);
	}
	pf_quic_kick(c->link->quic_f);
}

static void h3x_begin(struct conn *c)
{
	c->state = CONN_SENDING;
	c->stream = NULL;
	c->upload_sent = 0;
	conn_arm(c, c->w->cfg->timeout_s);
	submit(c);
}

static void h3x_streams_available(struct link *l)
{
	/* A parked request may start the worker's next (which may park): each once. */
	struct conn *parked[PROBE_MAX_STREAMS];
	size_t n = 0;
	for (struct conn *c = l->users; c && n < PROBE_MAX_STREAMS; c = c->link_next)
		if (c->state == CONN_SENDING && !c->stream)
			parked[n++] = c;
	for (size_t i = 0; i < n; i++)
		if (parked[i]->link == l && parked[i]->state == CONN_SENDING && !parked[i]->stream)
			submit(parked[i]);
}

/* ---- the response ---- */

/* The response's header section as an HTTP/1.1 head for verify.h. 0, or -1 (ended). */
static int take_head(struct conn *c, const struct h3_stream *s)
{
	struct http1_response resp;
	memset(&resp, 0, offsetof(struct http1_response, headers));
	resp.minor_version = 1;
	resp.status = s->status;
	resp.reason = "";
	resp.num_headers = s->nfields < HTTP1_MAX_HEADERS ? s->nfields : HTTP1_MAX_HEADERS;
	for (size_t i = 0; i < resp.num_headers; i++)
		resp.headers[i] = (struct http1_header){s->fields[i].name, strlen(s->fields[i].name),
							s->fields[i].value, strlen(s->fields[i].value)};
	const struct http1_header *cl = http1_find_header(resp.headers, resp.num_headers, "content-length");
	const struct http1_header *ce = http1_find_header(resp.headers, resp.num_headers, "content-encoding");
	resp.keep_alive = true;
	resp.gzip = ce && http1_token_eq(ce->value, ce->value_len, "gzip");
	if (strcmp(c->w->cfg->method, "HEAD") == 0 || s->status == 204 || s->status == 304) {
		resp.framing = HTTP1_FRAMING_NONE;
	} else if (cl) {
		/* nghttp3 checked the digits and holds DATA to this length (H3_MESSAGE_ERROR). */
		uint64_t v = 0;
		for (size_t i = 0; i < cl->value_len && i < 19; i++)
			v = v * 10 + (uint64_t)(cl->value[i] - '0');
		resp.framing = HTTP1_FRAMING_LENGTH;
		resp.content_length = v;
	} else {
		resp.framing = HTTP1_FRAMING_CLOSE;
	}
	c->times.first_byte = conn_now(c);
	if (verify_head(c, &resp) < 0)
		return -1;
	/* Whatever the length says, the body ends with the stream's FIN: short of it is
	 * incomplete_read, and all of it with no FIN a timeout in phase fin. */
	if (c->framing != HTTP1_FRAMING_NONE)
		c->framing = HTTP1_FRAMING_CLOSE;
	return 0;
}

static const char *code_name(uint64_t code) { return h3_error_name(code); }

/* Our own reset of a malformed response (nghttp3's H3_MESSAGE_ERROR and the like). */
static void on_error(struct conn *c, const struct h3_stream *s, uint64_t code)
{
	if (code == H3_MESSAGE_ERROR && h3_stream_quic(s)->fin_received && c->state == CONN_BODY &&
	    verify_short(c, TP_PHASE_BODY))
		return; /* a FIN before the announced length */
	conn_finish(c, TP_PROTOCOL_ERROR, conn_phase(c), "malformed response: %s (0x%" PRIx64 ")%s",
		    code_name(code), code,
		    code == H3_EXCESSIVE_LOAD ? ": header section over 64 fields or 8 KiB" : "");
}

/* The stream closed without its end or a reset being reported first. */
static void on_closed(struct conn *c, const struct h3_event *ev)
{
	struct pf_quic *qf = c->link->quic_f;
	bool fin = h3_stream_quic(ev->stream)->fin_received;
	c->stream = NULL; /* dies when this event returns */
	/* The FIN came short of the announced length: nghttp3 0.8 ends the connection for
	 * that (H3_MESSAGE_ERROR), but for this request it is what it is over TCP. */
	if (fin && c->state == CONN_BODY && verify_short(c, TP_PHASE_BODY))
		return;
	if (!pf_quic_usable(qf)) {
		/* The connection ended: how it ended is the request's end. */
		struct pf_error err;
		const struct quic_conn *q = h3_of(c)->quic;
		pf_quic_describe_close(&q->close, true, true, c->w->cfg->timeout_s, &err);
		conn_link_failed(c, &err);
		return;
	}
	conn_finish(c, TP_RESET, conn_phase(c), "stream closed%s%s (0x%" PRIx64 ") after %" PRIu64 " body bytes",
		    ev->has_code ? " with " : "", ev->has_code ? code_name(ev->code) : "", ev->code,
		    c->rec.bytes_received);
}

static void h3x_stream_event(struct link *l, const struct h3_event *ev)
{
	(void)l;
	struct h3_stream *s = ev->stream;
	struct conn *c = s ? s->user : NULL;
	if (!c || c->stream != s)
		return; /* its request already ended */
	sync_counts(c, s);
	switch (ev->type) {
	case H3_EV_RESPONSE:
		if (c->state == CONN_HEAD || c->state == CONN_SENDING)
			take_head(c, s);
		break;
	case H3_EV_DATA:
		if (c->state == CONN_BODY)
			verify_body(c, ev->data, ev->len);
		break;
	case H3_EV_END:
		if (c->state == CONN_BODY)
			verify_end(c);
		else if (!conn_retry_if_stale(c))
			conn_finish(c, TP_INCOMPLETE_READ, conn_phase(c), "stream ended before a response");
		break;
	case H3_EV_RESET:
		if (!conn_retry_if_stale(c))
			conn_finish(c, TP_RESET, conn_phase(c), "stream reset by the server: %s (0x%" PRIx64
				    ") after %" PRIu64 " body bytes", code_name(ev->code), ev->code,
				    c->rec.bytes_received);
		break;
	case H3_EV_STOPPED:
		if (c->state == CONN_SENDING)
			conn_finish(c, TP_RESET, TP_PHASE_REQUEST, "the server stopped our request stream "
				    "(STOP_SENDING) after %" PRIu64 " upload bytes", c->upload_sent);
		break;
	case H3_EV_ERROR:
		on_error(c, s, ev->code);
		break;
	case H3_EV_WRITABLE:
		if (c->state == CONN_SENDING)
			upload_more(c);
		break;
	case H3_EV_CLOSED:
		on_closed(c, ev);
		break;
	default:
		break;
	}
}

/* The request ended: a stream still open is cancelled (RESET_STREAM + STOP_SENDING
 * with H3_REQUEST_CANCELLED), so the server stops sending what nobody reads. */
static void h3x_detach(struct conn *c)
{
	struct h3_stream *s = c->stream;
	if (!s)
		return;
	sync_counts(c, s);
	s->user = NULL;
	c->stream = NULL;
	struct pf_quic *qf = c->link->quic_f;
	if (qf && pf_quic_usable(qf) && !s->end_received) {
		h3_stream_reset(h3_of(c), s, H3_REQUEST_CANCELLED);
		pf_quic_kick(qf);
	}
}

static void h3x_ready(struct conn *c)
{
	(void)c; /* the QUIC filter reads its own socket and hands over stream events */
}

const struct link_proto h3x_proto = {
	.name = "h3",
	.begin = h3x_begin,
	.ready = h3x_ready,
	.detach = h3x_detach,
	.stream_event = h3x_stream_event,
	.streams_available = h3x_streams_available,
};
