/* quic — see quic.h. ngtcp2 0.12 does the protocol; lib/quic adapts its callbacks to
 * one event stream, keeps the send buffers ngtcp2 needs, and turns every way a
 * connection ends into one struct quic_close. This file: a connection's life (making
 * it, reading, writing, timers, every ending) and the names; streams are
 * quic_stream.c's, TLS quic_tls.c's, listener helpers quic_route.c's (quic_impl.h). */
#include "lib/quic_impl.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <openssl/ssl.h>

_Static_assert(sizeof(struct quic_vec) == sizeof(ngtcp2_vec), "quic_vec mirrors ngtcp2_vec");
_Static_assert(offsetof(struct quic_vec, len) == offsetof(ngtcp2_vec, len), "quic_vec layout");

#define NS_PER_US 1000ull
#define MAX_BATCH 64            /* datagrams per quic_conn_write */
#define MAX_STREAM_VECS 16      /* chunks handed to ngtcp2 per STREAM frame */
#define MAX_CC_RESENDS 8        /* CONNECTION_CLOSE repeats in the closing period */
#define BATCH_SLACK 64          /* a first datagram this close to full still starts a batch */

/* ---------------------------------------------------------------- helpers */

static uint64_t us_from_ns(uint64_t ns)
{
	return ns == UINT64_MAX ? UINT64_MAX : (ns + NS_PER_US - 1) / NS_PER_US;
}

void quic_set_detail(struct quic_close *cl, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cl->detail, sizeof cl->detail, fmt, ap);
	va_end(ap);
}

void quic_emit(struct quic_conn *c, struct quic_event *ev)
{
	if (c->cb)
		c->cb(c, ev, c->arg);
}

void quic_emit_stream(struct quic_conn *c, enum quic_event_type type, struct quic_stream *s)
{
	struct quic_event ev = {.type = type, .stream = s};
	quic_emit(c, &ev);
}

static void params_defaults(struct quic_params *p)
{
	if (!p->max_data)
		p->max_data = 4u << 20;
	if (!p->max_stream_data)
		p->max_stream_data = 1u << 20;
	if (!p->max_window)
		p->max_window = 16u << 20;
	if (!p->max_stream_window)
		p->max_stream_window = 6u << 20;
	if (!p->max_streams_bidi)
		p->max_streams_bidi = 100;
	if (!p->max_streams_uni)
		p->max_streams_uni = 16;
	if (!p->idle_timeout_us)
		p->idle_timeout_us = 30ull * 1000 * 1000;
	if (!p->handshake_timeout_us)
		p->handshake_timeout_us = 10ull * 1000 * 1000;
	if (!p->stream_sndbuf)
		p->stream_sndbuf = 1u << 20;
	if (!p->conn_sndbuf)
		p->conn_sndbuf = 16u << 20;
	if (!p->max_streams_alive)
		p->max_streams_alive = 4096;
	if (!p->max_udp_payload)
		p->max_udp_payload = QUIC_MAX_PAYLOAD;
}

/* ---------------------------------------------------------------- connections */

static void log_printf(void *user, const char *fmt, ...)
{
	struct quic_conn *c = user;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(c->impl->log, fmt, ap);
	va_end(ap);
	fputc('\n', c->impl->log);
}

static void transport_params(ngtcp2_transport_params *tp, const struct quic_params *p)
{
	ngtcp2_transport_params_default(tp);
	tp->initial_max_stream_data_bidi_local = p->max_stream_data;
	tp->initial_max_stream_data_bidi_remote = p->max_stream_data;
	tp->initial_max_stream_data_uni = p->max_stream_data;
	tp->initial_max_data = p->max_data;
	tp->initial_max_streams_bidi = p->max_streams_bidi;
	tp->initial_max_streams_uni = p->max_streams_uni;
	tp->max_idle_timeout = p->idle_timeout_us * NS_PER_US;
	tp->active_connection_id_limit = 4;
}

static void settings_init(ngtcp2_settings *st, const struct quic_params *p, FILE *log,
			  uint64_t now_us)
{
	ngtcp2_settings_default(st);
	st->initial_ts = now_us * NS_PER_US;
	st->handshake_timeout = p->handshake_timeout_us * NS_PER_US;
	st->max_window = p->max_window;
	st->max_stream_window = p->max_stream_window;
	st->max_tx_udp_payload_size = p->max_udp_payload;
	if (p->max_udp_payload > NGTCP2_MAX_PMTUD_UDP_PAYLOAD_SIZE)
		st->no_tx_udp_payload_size_shaping = 1;
	if (log)
		st->log_printf = log_printf;
}

/* What both kinds of connection set up before ngtcp2's. */
static int conn_begin(struct quic_conn *c, bool server, const struct quic_conn_opts *o)
{
	memset(c, 0, sizeof *c);
	c->server = server;
	c->cb = o->cb;
	c->arg = o->arg;
	c->impl = calloc(1, sizeof *c->impl);
	if (!c->impl)
		return -ENOMEM;
	struct quic_conn_impl *im = c->impl;
	if (!o->local || !o->remote || o->local_len > sizeof im->local ||
	    o->remote_len > sizeof(struct sockaddr_storage)) {
		quic_set_detail(&c->close, "addresses missing or too long");
		return -EINVAL;
	}
	memcpy(&im->local, o->local, o->local_len);
	im->local_len = o->local_len;
	im->params = o->params;
	params_defaults(&im->params);
	im->log = o->log;
	quic_chunk_pool_init(&im->pool, im->params.conn_sndbuf);
	ngtcp2_connection_close_error_default(&im->ccerr);
	return 0;
}

static ngtcp2_path conn_path(struct quic_conn_impl *im, const struct sockaddr *remote,
			     socklen_t remote_len)
{
	ngtcp2_path path = {
		.local = {(ngtcp2_sockaddr *)&im->local, im->local_len},
		.remote = {(ngtcp2_sockaddr *)remote, remote_len},
	};
	return path;
}

int quic_conn_init_client(struct quic_conn *c, struct quic_client_ctx *ctx,
			  const struct quic_conn_opts *opts, uint64_t now_us)
{
	int err = conn_begin(c, false, opts);
	if (err)
		return err;
	struct quic_conn_impl *im = c->impl;
	im->cctx = ctx;
	im->secret = ctx->secret;
	err = quic_tls_setup(c, opts);
	if (err)
		return err;

	ngtcp2_cid dcid, scid;
	dcid.datalen = QUIC_CID_LEN;
	scid.datalen = QUIC_CID_LEN;
	if (gnutls_rnd(GNUTLS_RND_RANDOM, dcid.data, dcid.datalen) != 0 ||
	    gnutls_rnd(GNUTLS_RND_RANDOM, scid.data, scid.datalen) != 0) {
		quic_set_detail(&c->close, "no random bytes");
		return -EPROTO;
	}
	ngtcp2_callbacks cb;
	quic_callbacks_init(&cb, false);
	ngtcp2_settings st;
	settings_init(&st, &im->params, opts->log, now_us);
	ngtcp2_transport_params tp;
	transport_params(&tp, &im->params);
	ngtcp2_path path = conn_path(im, opts->remote, opts->remote_len);
	if (ngtcp2_conn_client_new(&im->conn, &dcid, &scid, &path, NGTCP2_PROTO_VER_V1, &cb, &st,
				   &tp, NULL, c) != 0) {
		im->conn = NULL;
		quic_set_detail(&c->close, "ngtcp2_conn_client_new failed");
		return -ENOMEM;
	}
	ngtcp2_conn_set_tls_native_handle(im->conn, im->tls);
	memcpy(c->scid, scid.data, scid.datalen);
	c->scidlen = scid.datalen;
	return 0;
}

int quic_conn_init_server(struct quic_conn *c, struct quic_server_ctx *ctx,
			  const struct quic_conn_opts *opts, const uint8_t *pkt, size_t len,
			  uint64_t now_us)
{
	ngtcp2_pkt_hd hd;
	int err = conn_begin(c, true, opts);
	if (err)
		return err;
	if (ngtcp2_accept(&hd, pkt, len) != 0) {
		quic_set_detail(&c->close, "not an Initial packet that can start a connection");
		return -EINVAL;
	}
	struct quic_conn_impl *im = c->impl;
	im->sctx = ctx;
	im->secret = ctx->secret;
	err = quic_tls_setup(c, opts);
	if (err)
		return err;

	ngtcp2_cid scid;
	scid.datalen = QUIC_CID_LEN;
	if (gnutls_rnd(GNUTLS_RND_RANDOM, scid.data, scid.datalen) != 0) {
		quic_set_detail(&c->close, "no random bytes");
		return -EPROTO;
	}
	ngtcp2_callbacks cb;
	quic_callbacks_init(&cb, true);
	ngtcp2_settings st;
	settings_init(&st, &im->params, opts->log, now_us);
	ngtcp2_transport_params tp;
	transport_params(&tp, &im->params);
	/* 0.12: no original_dcid_present flag, the field is simply set. */
	tp.original_dcid = hd.dcid;
	tp.stateless_reset_token_present = 1;
	if (ngtcp2_crypto_generate_stateless_reset_token(tp.stateless_reset_token, im->secret,
							 QUIC_SECRET_LEN, &scid) != 0) {
		quic_set_detail(&c->close, "stateless reset token");
		return -EPROTO;
	}
	ngtcp2_path path = conn_path(im, opts->remote, opts->remote_len);
	if (ngtcp2_conn_server_new(&im->conn, &hd.scid, &scid, &path, hd.version, &cb, &st, &tp,
				   NULL, c) != 0) {
		im->conn = NULL;
		quic_set_detail(&c->close, "ngtcp2_conn_server_new failed");
		return -ENOMEM;
	}
	ngtcp2_conn_set_tls_native_handle(im->conn, im->tls);
	memcpy(c->scid, scid.data, scid.datalen);
	c->scidlen = scid.datalen;
	return 0;
}

void quic_conn_free(struct quic_conn *c)
{
	if (!c || !c->impl)
		return;
	struct quic_conn_impl *im = c->impl;
	/* ngtcp2 goes first: it holds pointers into the streams' buffers. It calls no
	 * stream_close on the way out, so the streams still alive are freed here. */
	if (im->conn)
		ngtcp2_conn_del(im->conn);
	if (im->tls)
		gnutls_deinit(im->tls);
	while (im->all_head) {
		struct quic_stream *s = im->all_head;
		im->all_head = s->next_all;
		quic_sbuf_free(&s->sbuf, &im->pool);
		free(s);
	}
	while (im->free_streams) {
		struct quic_stream *s = im->free_streams;
		im->free_streams = s->next_free;
		free(s);
	}
	quic_chunk_pool_free(&im->pool);
	free(im->smap);
	free(im);
	c->impl = NULL;
}

/* ---------------------------------------------------------------- endings */

static uint64_t closing_period_us(struct quic_conn *c)
{
	return 3 * us_from_ns(ngtcp2_conn_get_pto(c->impl->conn));
}

/* Delivers QUIC_EV_CLOSED once, from the top of a public call (never nested). */
static void announce_close(struct quic_conn *c)
{
	struct quic_conn_impl *im = c->impl;
	if (c->state < QUIC_ST_CLOSING || im->close_announced)
		return;
	im->close_announced = true;
	struct quic_event ev = {.type = QUIC_EV_CLOSED, .close = &c->close};
	quic_emit(c, &ev);
	/* The connection's end is the end of every stream still open: each gets its one
	 * STREAM_CLOSED (ngtcp2 calls no stream_close on the way out). Nothing is sent from
	 * here on but CONNECTION_CLOSE, so ngtcp2 no longer reads the send buffers. */
	while (im->all_head) {
		struct quic_stream *s = im->all_head;
		struct quic_event sev = {.type = QUIC_EV_STREAM_CLOSED, .stream = s,
					 .conn_closed = true};
		quic_emit(c, &sev);
		qs_release(c, s);
	}
}

/* We end the connection: CONNECTION_CLOSE with im->ccerr goes out on the next write. */
static void start_closing(struct quic_conn *c, enum quic_close_reason reason)
{
	if (c->state >= QUIC_ST_CLOSING)
		return;
	c->state = QUIC_ST_CLOSING;
	c->close.reason = reason;
	c->close.by_peer = false;
	c->close.app = c->impl->ccerr.type == NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_APPLICATION;
	c->close.code = c->impl->ccerr.error_code;
	c->impl->cc_pending = true;
}

/* Ends at once, silently (idle timeout, dropped handshake). */
static void set_closed(struct quic_conn *c, enum quic_close_reason reason)
{
	if (c->state < QUIC_ST_CLOSING) {
		c->close.reason = reason;
		c->close.by_peer = false;
	}
	c->state = QUIC_ST_CLOSED;
}

static void copy_reason(struct quic_close *cl, const uint8_t *r, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len && n + 1 < sizeof cl->detail; i++)
		cl->detail[n++] = r[i] >= 0x20 && r[i] < 0x7f ? (char)r[i] : '?';
	while (n && cl->detail[n - 1] == ' ')
		n--;
	cl->detail[n] = '\0';
}

/* The peer ended it (CONNECTION_CLOSE or stateless reset): classify, then drain. */
static void start_draining(struct quic_conn *c, uint64_t now_us)
{
	struct quic_conn_impl *im = c->impl;
	struct quic_close *cl = &c->close;
	memset(cl, 0, sizeof *cl);
	cl->by_peer = true;
	if (im->stateless_reset) {
		cl->reason = QUIC_CLOSE_STATELESS_RESET;
	} else {
		ngtcp2_connection_close_error cc;
		ngtcp2_conn_get_connection_close_error(im->conn, &cc);
		cl->code = cc.error_code;
		cl->app = cc.type == NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_APPLICATION;
		if (!cl->app && cc.error_code >= NGTCP2_CRYPTO_ERROR && cc.error_code <= 0x1ff) {
			cl->reason = QUIC_CLOSE_TLS;
			cl->tls_alert = (uint8_t)(cc.error_code & 0xff);
		} else if (!cl->app && cc.error_code != NGTCP2_NO_ERROR) {
			cl->reason = QUIC_CLOSE_PROTOCOL;
		} else {
			cl->reason = QUIC_CLOSE_PEER;
		}
		copy_reason(cl, cc.reason, cc.reasonlen);
	}
	c->state = QUIC_ST_DRAINING;
	im->close_deadline_us = now_us + closing_period_us(c);
}

/* A failure found by ngtcp2 while reading or writing: pick the close to send. */
static void fail(struct quic_conn *c, int liberr)
{
	struct quic_conn_impl *im = c->impl;
	if (c->state >= QUIC_ST_CLOSING)
		return;
	if (liberr == NGTCP2_ERR_CRYPTO) {
		uint8_t alert = ngtcp2_conn_get_tls_alert(im->conn);
		ngtcp2_connection_close_error_set_transport_error_tls_alert(&im->ccerr, alert, NULL, 0);
		start_closing(c, QUIC_CLOSE_TLS);
		c->close.tls_alert = alert;
		unsigned status = gnutls_session_get_verify_cert_status(im->tls);
		gnutls_datum_t msg;
		if (status && gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509,
									   &msg, 0) == 0) {
			copy_reason(&c->close, msg.data, msg.size);
			gnutls_free(msg.data);
		} else {
			quic_set_detail(&c->close, "TLS handshake failed (alert %s)", quic_alert_name(alert));
		}
		return;
	}
	ngtcp2_connection_close_error_set_transport_error_liberr(&im->ccerr, liberr, NULL, 0);
	bool internal = liberr == NGTCP2_ERR_NOMEM || liberr == NGTCP2_ERR_CALLBACK_FAILURE ||
			liberr == NGTCP2_ERR_INTERNAL;
	start_closing(c, internal ? QUIC_CLOSE_INTERNAL : QUIC_CLOSE_PROTOCOL);
	quic_set_detail(&c->close, "%s", ngtcp2_strerror(liberr));
}

/* ---------------------------------------------------------------- read */

int quic_conn_read(struct quic_conn *c, const struct sockaddr *from, socklen_t fromlen,
		   const uint8_t *pkt, size_t len, uint64_t now_us)
{
	struct quic_conn_impl *im = c->impl;
	if (!im || !im->conn)
		return -EINVAL;
	c->stats.datagrams_received++;
	c->stats.bytes_received += len;
	if (c->state == QUIC_ST_CLOSING) {
		/* Every packet in the closing period gets our CONNECTION_CLOSE again. */
		if (im->cc_len && im->cc_resends < MAX_CC_RESENDS)
			im->cc_resend_due = 1;
		return 0;
	}
	if (c->state >= QUIC_ST_DRAINING)
		return 0;
	ngtcp2_path path = conn_path(im, from, fromlen);
	ngtcp2_pkt_info pi = {0};
	int rv = ngtcp2_conn_read_pkt(im->conn, &path, &pi, pkt, len, now_us * NS_PER_US);
	int err = 0;
	switch (rv) {
	case 0:
		break;
	case NGTCP2_ERR_DRAINING:
		start_draining(c, now_us);
		break;
	case NGTCP2_ERR_DROP_CONN:
	case NGTCP2_ERR_RETRY:
		quic_set_detail(&c->close, "%s", ngtcp2_strerror(rv));
		set_closed(c, QUIC_CLOSE_PROTOCOL);
		break;
	case NGTCP2_ERR_NOMEM:
		err = -ENOMEM;
		fail(c, rv);
		break;
	default:
		fail(c, rv);
		break;
	}
	announce_close(c);
	return err;
}

/* ---------------------------------------------------------------- write */

static int write_close(struct quic_conn *c, uint64_t now_us, struct quic_tx *tx)
{
	struct quic_conn_impl *im = c->impl;
	if (im->cc_pending) {
		im->cc_pending = false;
		ngtcp2_path_storage ps;
		ngtcp2_path_storage_zero(&ps);
		ngtcp2_pkt_info pi;
		ngtcp2_ssize n = ngtcp2_conn_write_connection_close(
			im->conn, &ps.path, &pi, im->cc_pkt, sizeof im->cc_pkt, &im->ccerr,
			now_us * NS_PER_US);
		im->close_deadline_us = now_us + closing_period_us(c);
		if (n <= 0) {
			/* Nothing can be sent in this state (no keys yet): just end. */
			c->state = QUIC_ST_CLOSED;
			return 0;
		}
		im->cc_len = (size_t)n;
		im->cc_resend_due = 1;
	}
	if (!im->cc_resend_due || tx->cap < im->cc_len)
		return 0;
	im->cc_resend_due = 0;
	im->cc_resends++;
	memcpy(tx->buf, im->cc_pkt, im->cc_len);
	tx->len = tx->seg = im->cc_len;
	tx->count = 1;
	c->stats.datagrams_sent++;
	c->stats.bytes_sent += im->cc_len;
	return 1;
}

/* Books n bytes (and the FIN) of stream s that ngtcp2 took into a packet. */
static void stream_sent(struct quic_conn *c, struct quic_stream *s, ngtcp2_ssize n,
			size_t offered, bool fin)
{
	if (n < 0)
		return;
	if (n > 0) {
		quic_sbuf_advance(&s->sbuf, (size_t)n);
		s->stats.bytes_sent += (uint64_t)n;
		c->stats.stream_bytes_sent += (uint64_t)n;
	}
	if (fin && (size_t)n == offered) {
		s->stats.fin_sent = true;
		s->fin_with_data = n > 0;
	}
	/* Round robin: a stream that still has data goes behind the others. */
	qs_queue_remove(c->impl, s);
	qs_queue_add(c->impl, s);
}

/* ngtcp2 refused stream s in the packet being built; 0 to go on, else a fatal code. */
static int stream_refused(struct quic_conn *c, struct quic_stream *s, ngtcp2_ssize rv)
{
	struct quic_conn_impl *im = c->impl;
	switch (rv) {
	case NGTCP2_ERR_STREAM_DATA_BLOCKED:
		s->blocked = true;
		s->stats.credit_stalls++;
		c->stats.credit_stalls++;
		qs_queue_remove(im, s);
		return 0;
	case NGTCP2_ERR_STREAM_SHUT_WR:
	case NGTCP2_ERR_STREAM_NOT_FOUND:
		qs_queue_remove(im, s);
		if (!s->write_shut) {
			/* We did not reset it: the peer's STOP_SENDING did (ngtcp2 0.12 has no
			 * callback for that frame). */
			s->write_shut = true;
			s->stats.stop_sending_received = true;
			quic_emit_stream(c, QUIC_EV_STREAM_STOPPED, s);
		}
		return 0;
	default:
		return (int)rv;
	}
}

int quic_conn_write(struct quic_conn *c, uint64_t now_us, struct quic_tx *tx)
{
	struct quic_conn_impl *im = c->impl;
	tx->len = tx->seg = tx->count = 0;
	if (!im || !im->conn)
		return -EINVAL;
	if (c->state >= QUIC_ST_DRAINING)
		return 0;
	int n = 0;
	if (c->state == QUIC_ST_CLOSING)
		goto closing;

	ngtcp2_tstamp ts = now_us * NS_PER_US;
	size_t maxpay = ngtcp2_conn_get_max_tx_udp_payload_size(im->conn);
	size_t quantum = ngtcp2_conn_get_send_quantum(im->conn) / maxpay;
	size_t max_pkts = quantum ? quantum : 1;
	if (max_pkts > MAX_BATCH)
		max_pkts = MAX_BATCH;
	ngtcp2_path_storage ps;
	ngtcp2_path_storage_zero(&ps);
	ngtcp2_pkt_info pi;
	size_t seg = 0;
	int fatal = 0;

	/* Bounded: every round either completes a datagram, drops a stream from the
	 * queue, or ends the loop. */
	for (unsigned guard = 0; tx->count < max_pkts && guard < 4 * MAX_BATCH + 4096; guard++) {
		size_t destlen = seg ? seg : maxpay;
		if (tx->cap - tx->len < destlen)
			break;
		struct quic_stream *s = im->q_head;
		ngtcp2_vec v[MAX_STREAM_VECS];
		size_t nv = 0, offered = 0;
		bool fin = false;
		if (s) {
			size_t unsent = quic_sbuf_unsent(&s->sbuf);
			if (unsent && ngtcp2_conn_get_max_data_left(im->conn) == 0) {
				/* Connection credit exhausted: only control frames now. */
				if (!im->conn_blocked) {
					im->conn_blocked = true;
					c->stats.conn_credit_stalls++;
					s->stats.conn_credit_stalls++;
				}
				s = NULL;
			} else {
				im->conn_blocked = false;
				nv = quic_sbuf_peek(&s->sbuf, (struct quic_vec *)v, MAX_STREAM_VECS);
				for (size_t i = 0; i < nv; i++)
					offered += v[i].len;
				fin = s->fin_wanted && !s->stats.fin_sent && offered == unsent;
			}
		}
		uint32_t flags = NGTCP2_WRITE_STREAM_FLAG_MORE | (fin ? NGTCP2_WRITE_STREAM_FLAG_FIN : 0);
		ngtcp2_ssize ndatalen = -1;
		ngtcp2_ssize nw = ngtcp2_conn_writev_stream(im->conn, &ps.path, &pi,
							    tx->buf + tx->len, destlen, &ndatalen,
							    flags, s ? s->id : -1, v, nv, ts);
		if (nw == NGTCP2_ERR_WRITE_MORE) {
			stream_sent(c, s, ndatalen, offered, fin);
			continue;
		}
		if (nw < 0) {
			if (s && (fatal = stream_refused(c, s, nw)) == 0)
				continue;
			fatal = (int)nw;
			break;
		}
		if (s)
			stream_sent(c, s, ndatalen, offered, fin);
		if (nw == 0)
			break;
		tx->len += (size_t)nw;
		tx->count++;
		if (tx->count == 1)
			seg = (size_t)nw;
		/* Equal-size datagrams only, so the batch can go out as one GSO send: a short
		 * one ends it. The first sets the size; ngtcp2 fills data packets a few bytes
		 * short of maxpay (1444 of 1452), so only a first datagram clearly smaller (an
		 * ACK, the end of the data) keeps the batch from going on at its size. */
		if ((size_t)nw < seg || (tx->count == 1 && (size_t)nw + BATCH_SLACK < maxpay))
			break;
	}
	if (tx->count) {
		tx->seg = seg;
		memcpy(&tx->to, ps.path.remote.addr, ps.path.remote.addrlen);
		tx->tolen = ps.path.remote.addrlen;
		c->stats.datagrams_sent += tx->count;
		c->stats.bytes_sent += tx->len;
	}
	ngtcp2_conn_update_pkt_tx_time(im->conn, ts);
	if (fatal)
		fail(c, fatal);
	n = (int)tx->count;
	if (n || c->state != QUIC_ST_CLOSING)
		goto out;
closing:
	n = write_close(c, now_us, tx);
	if (n) {
		const ngtcp2_path *p = ngtcp2_conn_get_path(im->conn);
		memcpy(&tx->to, p->remote.addr, p->remote.addrlen);
		tx->tolen = p->remote.addrlen;
	}
out:
	announce_close(c);
	return n;
}

/* ---------------------------------------------------------------- timers */

uint64_t quic_conn_expiry(const struct quic_conn *c)
{
	const struct quic_conn_impl *im = c->impl;
	if (!im || !im->conn || c->state == QUIC_ST_CLOSED)
		return UINT64_MAX;
	if (c->state >= QUIC_ST_CLOSING)
		return im->cc_pending ? 0 : im->close_deadline_us;
	return us_from_ns(ngtcp2_conn_get_expiry(im->conn));
}

int quic_conn_handle_expiry(struct quic_conn *c, uint64_t now_us)
{
	struct quic_conn_impl *im = c->impl;
	if (!im || !im->conn || c->state == QUIC_ST_CLOSED)
		return 0;
	if (c->state >= QUIC_ST_CLOSING) {
		if (!im->cc_pending && now_us >= im->close_deadline_us)
			c->state = QUIC_ST_CLOSED;
		return 0;
	}
	int rv = ngtcp2_conn_handle_expiry(im->conn, now_us * NS_PER_US);
	switch (rv) {
	case 0:
		break;
	case NGTCP2_ERR_IDLE_CLOSE:
		quic_set_detail(&c->close, "no packet for %llu ms",
			   (unsigned long long)(im->params.idle_timeout_us / 1000));
		set_closed(c, QUIC_CLOSE_IDLE);
		break;
	case NGTCP2_ERR_HANDSHAKE_TIMEOUT:
		quic_set_detail(&c->close, "handshake not done in %llu ms",
			   (unsigned long long)(im->params.handshake_timeout_us / 1000));
		set_closed(c, QUIC_CLOSE_HANDSHAKE_TIMEOUT);
		break;
	default:
		fail(c, rv);
		break;
	}
	announce_close(c);
	return rv == NGTCP2_ERR_NOMEM ? -ENOMEM : 0;
}

void quic_conn_close(struct quic_conn *c, bool app, uint64_t code, const char *reason)
{
	struct quic_conn_impl *im = c->impl;
	if (!im || !im->conn || c->state >= QUIC_ST_CLOSING)
		return;
	size_t rlen = 0;
	if (reason) {
		rlen = strlen(reason);
		if (rlen > sizeof im->cc_reason)
			rlen = sizeof im->cc_reason;
		memcpy(im->cc_reason, reason, rlen);
	}
	if (app)
		ngtcp2_connection_close_error_set_application_error(&im->ccerr, code, im->cc_reason,
								    rlen);
	else
		ngtcp2_connection_close_error_set_transport_error(&im->ccerr, code, im->cc_reason,
								  rlen);
	start_closing(c, QUIC_CLOSE_LOCAL);
	copy_reason(&c->close, im->cc_reason, rlen);
}

void quic_conn_path_info(const struct quic_conn *c, struct quic_path_info *out)
{
	memset(out, 0, sizeof *out);
	if (!c->impl || !c->impl->conn)
		return;
	ngtcp2_conn_stat st;
	ngtcp2_conn_get_conn_stat(c->impl->conn, &st);
	out->srtt_us = st.smoothed_rtt / NS_PER_US;
	out->min_rtt_us = st.min_rtt == UINT64_MAX ? 0 : st.min_rtt / NS_PER_US;
	out->cwnd = st.cwnd;
	out->bytes_in_flight = st.bytes_in_flight;
}

size_t quic_conn_cids(const struct quic_conn *c, uint8_t (*cids)[QUIC_MAX_CIDLEN],
		      size_t *lens, size_t n)
{
	if (!c->impl || !c->impl->conn)
		return 0;
	ngtcp2_conn *conn = c->impl->conn;
	ngtcp2_cid all[16];
	size_t cnt = 0, have = ngtcp2_conn_get_num_scid(conn);
	if (have <= 16) {
		ngtcp2_conn_get_scid(conn, all);
	} else {
		have = 0;
	}
	if (c->server && cnt < n) {
		const ngtcp2_cid *o = ngtcp2_conn_get_client_initial_dcid(conn);
		memcpy(cids[cnt], o->data, o->datalen);
		lens[cnt++] = o->datalen;
	}
	for (size_t i = 0; i < have && cnt < n; i++) {
		memcpy(cids[cnt], all[i].data, all[i].datalen);
		lens[cnt++] = all[i].datalen;
	}
	return cnt;
}

static size_t copy_cid(const ngtcp2_cid *cid, uint8_t out[QUIC_MAX_CIDLEN])
{
	if (!cid || cid->datalen > QUIC_MAX_CIDLEN)
		return 0;
	memcpy(out, cid->data, cid->datalen);
	return cid->datalen;
}

size_t quic_conn_peer_cid(const struct quic_conn *c, uint8_t out[QUIC_MAX_CIDLEN])
{
	return c->impl && c->impl->conn ? copy_cid(ngtcp2_conn_get_dcid(c->impl->conn), out) : 0;
}

size_t quic_conn_original_dcid(const struct quic_conn *c, uint8_t out[QUIC_MAX_CIDLEN])
{
	if (!c->server || !c->impl || !c->impl->conn)
		return 0;
	return copy_cid(ngtcp2_conn_get_client_initial_dcid(c->impl->conn), out);
}

/* ---------------------------------------------------------------- names */

const char *quic_alert_name(uint8_t alert)
{
	return SSL_alert_desc_string_long(alert);
}

const char *quic_transport_error_name(uint64_t code)
{
	static const char *const names[] = {
		"NO_ERROR", "INTERNAL_ERROR", "CONNECTION_REFUSED", "FLOW_CONTROL_ERROR",
		"STREAM_LIMIT_ERROR", "STREAM_STATE_ERROR", "FINAL_SIZE_ERROR",
		"FRAME_ENCODING_ERROR", "TRANSPORT_PARAMETER_ERROR", "CONNECTION_ID_LIMIT_ERROR",
		"PROTOCOL_VIOLATION", "INVALID_TOKEN", "APPLICATION_ERROR",
		"CRYPTO_BUFFER_EXCEEDED", "KEY_UPDATE_ERROR", "AEAD_LIMIT_REACHED", "NO_VIABLE_PATH",
	};
	if (code < sizeof names / sizeof names[0])
		return names[code];
	if (code >= 0x100 && code <= 0x1ff)
		return "CRYPTO_ERROR";
	return "unknown";
}

const char *quic_close_reason_name(enum quic_close_reason r)
{
	switch (r) {
	case QUIC_CLOSE_NONE: return "none";
	case QUIC_CLOSE_LOCAL: return "local";
	case QUIC_CLOSE_PEER: return "peer";
	case QUIC_CLOSE_IDLE: return "idle_timeout";
	case QUIC_CLOSE_HANDSHAKE_TIMEOUT: return "handshake_timeout";
	case QUIC_CLOSE_TLS: return "tls";
	case QUIC_CLOSE_PROTOCOL: return "protocol";
	case QUIC_CLOSE_STATELESS_RESET: return "stateless_reset";
	case QUIC_CLOSE_INTERNAL: return "internal";
	}
	return "unknown";
}
