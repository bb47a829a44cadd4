/* filter_qstream — a tunnel on one stream of a QUIC proxy's connection (the carrier,
 * filter_quic.c): quic-stream (socks5+quic://: a raw bidirectional stream, the socks5
 * filter above does the SOCKS5 handshake on it) and h3-connect (quic://: an HTTP/3
 * CONNECT request, RFC 9114 §4.4, whose 2xx reply opens the tunnel).
 *
 * Received bytes wait in the filter's ring until the exchange reads them; the stream's
 * credit is given back only then, and the carrier's stream window is the ring's size,
 * so the ring cannot overflow. The stream's end reads as a socket's would: FIN is EOF
 * (0), RESET_STREAM is -ECONNRESET, so the exchange classifies a tunnel on QUIC exactly
 * as one on TCP (tunnel_closed_early, incomplete_read, reset, timeout in phase fin); the
 * wire codes go to the record's QUIC facts (link->quic_facts). A CONNECTION_CLOSE is
 * classified by the carrier (pf_quic_describe_close: by its code) and read as PF_ERR.
 * Before the tunnel is up, the proxy ending the stream is proxy_connect_aborted and a
 * refused CONNECT proxy_refused, as over TCP.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/h3.h"
#include "lib/quic.h"
#include "probe/link.h"
#include "probe/worker.h"

/* ---- events from the carrier (inside its drive; the link hears after it) ---- */

static void ring_put(struct pf_qstream *s, const uint8_t *data, size_t len)
{
	if (len > PF_QSTREAM_RING - s->ring_len) {
		/* The peer sent past the window we gave: ngtcp2 closes the connection with
		 * FLOW_CONTROL_ERROR before this can happen; keep what fits. */
		len = PF_QSTREAM_RING - s->ring_len;
	}
	size_t tail = (s->ring_head + s->ring_len) % PF_QSTREAM_RING;
	size_t first = len < PF_QSTREAM_RING - tail ? len : PF_QSTREAM_RING - tail;
	memcpy(s->ring + tail, data, first);
	memcpy(s->ring, data + first, len - first);
	s->ring_len += len;
}

static void stream_reset(struct pf_qstream *s, uint64_t code)
{
	struct tp_quic_facts *facts = &s->base.link->quic_facts;
	s->reset = true;
	facts->has_reset = true;
	facts->reset_code = code;
}

void pf_qstream_on_h3(struct pf_qstream *s, const struct h3_event *ev)
{
	s->wake = true;
	switch (ev->type) {
	case H3_EV_RESPONSE: s->status = ev->stream->status; break;
	case H3_EV_DATA: ring_put(s, ev->data, ev->len); break;
	case H3_EV_END: s->fin = true; break;
	case H3_EV_RESET: stream_reset(s, ev->code); break;
	case H3_EV_ERROR: stream_reset(s, ev->code); break;
	case H3_EV_CLOSED:
		if (ev->has_code && !s->reset && !s->fin)
			stream_reset(s, ev->code);
		ev->stream->user = NULL;
		s->hs = NULL;
		s->stream_gone = true;
		break;
	default: break;
	}
}

void pf_qstream_on_quic(struct pf_qstream *s, const struct quic_event *ev)
{
	s->wake = true;
	switch (ev->type) {
	case QUIC_EV_STREAM_DATA: ring_put(s, ev->data, ev->len); break;
	case QUIC_EV_STREAM_FIN: s->fin = true; break;
	case QUIC_EV_STREAM_RESET: stream_reset(s, ev->code); break;
	case QUIC_EV_STREAM_CLOSED:
		if (ev->has_code && !s->reset && !s->fin)
			stream_reset(s, ev->code);
		ev->stream->user = NULL;
		s->qs = NULL;
		s->stream_gone = true;
		break;
	default: break;
	}
}

void pf_qstream_notify(struct pf_qstream *s) { link_wake(s->base.link); }

/* ---- connecting ---- */

/* Opens the tunnel's stream: a raw one, or the CONNECT request (which carries the
 * X-Probe-Id of the request the tunnel is opened for, as over TCP). 0 when open,
 * -EAGAIN when the proxy allows no more streams now, PF_ERR. */
static int open_stream(struct pf_qstream *s)
{
	struct link *l = s->base.link;
	struct quic_conn *q = pf_quic_conn(s->carrier);
	int rc;
	int64_t id = -1;
	if (s->h3) {
		char authority[URL_MAX_HOST + 16];
		probe_target_dial_authority(l->target, authority, sizeof authority);
		struct h3_header fields[3];
		size_t n = 0;
		fields[n++] = (struct h3_header){"user-agent", "tunnelprobe/0.1"};
		fields[n++] = (struct h3_header){"x-probe-id", l->opener_id};
		if (l->target->proxy_auth[0])
			fields[n++] = (struct h3_header){"proxy-authorization", l->target->proxy_auth};
		struct h3_request req = {.method = "CONNECT", .authority = authority, .fields = fields,
					 .nfields = n, .body = true, .user = s};
		struct h3_conn *h = pf_quic_h3(s->carrier);
		rc = h3_submit_request(h, &req, &s->hs);
		if (rc == 0) {
			h3_stream_set_credit(h, s->hs, QUIC_CREDIT_MANUAL);
			id = s->hs->id;
		}
	} else {
		rc = quic_stream_open(q, true, s, &s->qs);
		if (rc == 0) {
			quic_stream_set_credit(s->qs, QUIC_CREDIT_MANUAL);
			id = s->qs->id;
		}
	}
	if (rc == -EAGAIN)
		return rc;
	if (rc < 0)
		return pf_fail(&l->err, TP_PROXY_CONNECT_ABORTED, TP_PHASE_PROXY, "cannot open a stream to the QUIC proxy: %s",
			       strerror(-rc));
	s->opened = true;
	l->quic_facts.on_stream = true;
	l->quic_facts.stream = id;
	pf_quic_kick(s->carrier);
	return 0;
}

static int carrier_failed(struct pf_qstream *s)
{
	struct link *l = s->base.link;
	if (!pf_quic_carrier_closed(s->carrier, &l->err))
		return 0;
	const struct quic_conn *q = pf_quic_conn(s->carrier);
	if (q->state >= QUIC_ST_CLOSING && (q->close.reason == QUIC_CLOSE_PEER || q->close.reason == QUIC_CLOSE_LOCAL)) {
		l->quic_facts.has_close = true;
		l->quic_facts.close_code = q->close.code;
	}
	s->conn_gone = true;
	return PF_ERR;
}

/* The carrier's handshake, then the stream. 0 when the stream is open. */
static int connect_carrier(struct pf_qstream *s)
{
	struct link *l = s->base.link;
	if (!s->carrier) {
		s->ring_head = s->ring_len = 0;
		s->status = 0;
		s->opened = s->fin = s->reset = s->stream_gone = s->conn_gone = s->wake = false;
		if (pf_quic_carrier_attach(l, s) < 0) {
			l->deferred_fail = true; /* reported from the loop */
			return -EAGAIN;
		}
	}
	if (carrier_failed(s))
		return PF_ERR;
	if (!pf_quic_carrier_up(s->carrier)) {
		/* As for a QUIC origin: the handshake's time is the "tls" phase. */
		if (pf_quic_carrier_answered(s->carrier) && l->phase == TP_PHASE_CONNECT) {
			l->phase = TP_PHASE_TLS;
			link_set_deadline(l, loop_now(&l->w->loop) + (uint64_t)(l->w->cfg->timeout_s * 1e6));
		}
		return -EAGAIN;
	}
	return s->opened ? 0 : open_stream(s);
}

static int qstream_connect(struct pf *f)
{
	return connect_carrier((struct pf_qstream *)f);
}

/* The stream ended before the proxy's reply: as a TCP proxy closing early. */
static int aborted(struct pf_qstream *s)
{
	struct link *l = s->base.link;
	if (s->reset)
		return pf_fail(&l->err, TP_PROXY_CONNECT_ABORTED, TP_PHASE_PROXY,
			       "proxy reset the stream before its reply: %s (0x%llx)",
			       h3_error_name(l->quic_facts.reset_code), (unsigned long long)l->quic_facts.reset_code);
	return pf_fail(&l->err, TP_PROXY_CONNECT_ABORTED, TP_PHASE_PROXY, "proxy closed the stream before its reply");
}

static int h3_connect_step(struct pf *f)
{
	struct pf_qstream *s = (struct pf_qstream *)f;
	struct link *l = f->link;
	bool was_open = s->opened;
	int rc = connect_carrier(s);
	if (rc != 0)
		return rc;
	if (!was_open) {
		link_phase(l, TP_PHASE_PROXY); /* the CONNECT is out: waiting for the reply */
		return -EAGAIN;
	}
	if (s->status >= 200 && s->status < 300)
		return 0;
	if (s->status) {
		l->err.status = s->status;
		return pf_fail(&l->err, TP_PROXY_REFUSED, TP_PHASE_PROXY, "CONNECT refused by the QUIC proxy: %d",
			       s->status);
	}
	if (s->reset || s->fin || s->stream_gone)
		return aborted(s);
	return -EAGAIN;
}

static void qstream_timed_out(struct pf *f, struct pf_error *err)
{
	struct pf_qstream *s = (struct pf_qstream *)f;
	const struct probe_config *cfg = f->link->w->cfg;
	if (!s->carrier || !pf_quic_carrier_answered(s->carrier))
		pf_fail(err, TP_CONNECT_ERROR, TP_PHASE_CONNECT, "no answer to the QUIC Initial within %.1fs",
			cfg->connect_timeout_s);
	else if (!pf_quic_carrier_up(s->carrier))
		pf_fail(err, TP_TIMEOUT, TP_PHASE_TLS, "QUIC handshake not done within %.1fs", cfg->timeout_s);
	else if (!s->opened)
		pf_fail(err, TP_TIMEOUT, TP_PHASE_PROXY, "the QUIC proxy allowed no stream within %.1fs",
			cfg->timeout_s);
	else
		pf_fail(err, TP_TIMEOUT, TP_PHASE_PROXY, "no CONNECT reply within %.1fs", cfg->timeout_s);
}

/* ---- the byte stream ---- */

static long qstream_read(struct pf *f, void *buf, size_t len)
{
	struct pf_qstream *s = (struct pf_qstream *)f;
	if (s->ring_len) {
		size_t n = len < s->ring_len ? len : s->ring_len;
		size_t first = n < PF_QSTREAM_RING - s->ring_head ? n : PF_QSTREAM_RING - s->ring_head;
		memcpy(buf, s->ring + s->ring_head, first);
		memcpy((uint8_t *)buf + first, s->ring, n - first);
		s->ring_head = (s->ring_head + n) % PF_QSTREAM_RING;
		s->ring_len -= n;
		if (s->hs)
			h3_stream_consume(pf_quic_h3(s->carrier), s->hs, n);
		else if (s->qs)
			quic_stream_consume(pf_quic_conn(s->carrier), s->qs, n);
		pf_quic_kick(s->carrier);
		return (long)n;
	}
	if (s->reset)
		return -ECONNRESET;
	if (s->fin)
		return 0;
	if (!s->carrier || carrier_failed(s))
		return PF_ERR;
	return s->stream_gone ? -ECONNRESET : -EAGAIN;
}

static long qstream_write(struct pf *f, const void *buf, size_t len)
{
	struct pf_qstream *s = (struct pf_qstream *)f;
	if (!s->carrier || carrier_failed(s))
		return PF_ERR;
	long n;
	if (s->hs)
		n = h3_stream_write(pf_quic_h3(s->carrier), s->hs, buf, len);
	else if (s->qs)
		n = quic_stream_write(pf_quic_conn(s->carrier), s->qs, buf, len, false);
	else
		return s->reset ? -ECONNRESET : -EPIPE;
	if (n == 0)
		return -EAGAIN; /* WRITABLE wakes the link */
	if (n > 0)
		pf_quic_kick(s->carrier);
	return n == -EPIPE && s->reset ? -ECONNRESET : n;
}

static int qstream_shutdown(struct pf *f)
{
	struct pf_qstream *s = (struct pf_qstream *)f;
	int rc = -EPIPE;
	if (s->hs)
		rc = h3_stream_end(pf_quic_h3(s->carrier), s->hs);
	else if (s->qs)
		rc = quic_stream_finish(pf_quic_conn(s->carrier), s->qs);
	if (rc == 0)
		pf_quic_kick(s->carrier);
	return rc;
}

/* The tunnel is done: the stream is cancelled if it still lives (RESET_STREAM and
 * STOP_SENDING), and its later events reach no one. */
static void qstream_close(struct pf *f)
{
	struct pf_qstream *s = (struct pf_qstream *)f;
	if (!s->carrier)
		return;
	if (s->hs) {
		s->hs->user = NULL;
		h3_stream_reset(pf_quic_h3(s->carrier), s->hs, H3_REQUEST_CANCELLED);
	} else if (s->qs) {
		struct quic_conn *q = pf_quic_conn(s->carrier);
		s->qs->user = NULL;
		quic_stream_shutdown_write(q, s->qs, 0);
		quic_stream_shutdown_read(q, s->qs, 0);
	}
	s->hs = NULL;
	s->qs = NULL;
	pf_quic_carrier_detach(s);
}

static unsigned qstream_want(const struct pf *f, unsigned plain)
{
	(void)f, (void)plain;
	return 0; /* no socket: the carrier wakes the link */
}

static size_t qstream_pending(const struct pf *f) { return ((const struct pf_qstream *)f)->ring_len; }

/* The two differ in how they connect, and in that a CONNECT stream is itself the tunnel
 * (a raw stream is not: the socks5 filter above it is). */
#define QSTREAM_OPS(filter_name, is_tunnel, connect_fn)                                    \
	{                                                                                  \
		.name = filter_name, .phase = TP_PHASE_CONNECT, .tunnel = is_tunnel,         \
		.connect = connect_fn, .read = qstream_read, .write = qstream_write,          \
		.shutdown = qstream_shutdown, .close = qstream_close, .want = qstream_want,   \
		.pending = qstream_pending, .timed_out = qstream_timed_out,                  \
	}
const struct pf_ops pf_quic_stream_ops = QSTREAM_OPS("quic-stream", false, qstream_connect);
const struct pf_ops pf_h3_connect_ops = QSTREAM_OPS("h3-connect", true, h3_connect_step);
