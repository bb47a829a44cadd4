/* h3 — see h3.h. nghttp3 0.8 parses and frames; this file routes lib/quic events into
 * it, its output into the QUIC streams, and its callbacks out as h3 events. */
#include "lib/h3.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nghttp3/nghttp3.h>

_Static_assert(sizeof(struct quic_vec) == sizeof(nghttp3_vec), "quic_vec mirrors nghttp3_vec");
_Static_assert(offsetof(struct quic_vec, len) == offsetof(nghttp3_vec, len), "quic_vec layout");

#define MAX_FREE_STREAMS 32   /* recycled h3 stream structs kept per connection */
#define FLUSH_VECS 16

static void emit(struct h3_conn *h, struct h3_event *ev)
{
	if (h->cb)
		h->cb(h, ev, h->arg);
}

static void emit_stream(struct h3_conn *h, enum h3_event_type type, struct h3_stream *s,
			uint64_t code, bool has_code)
{
	struct h3_event ev = {.type = type, .stream = s, .code = code, .has_code = has_code};
	emit(h, &ev);
}

/* A connection-level failure: CONNECTION_CLOSE with the HTTP/3 code nghttp3 infers. */
static void fail_conn(struct h3_conn *h, int liberr)
{
	if (h->failed)
		return;
	h->failed = true;
	quic_conn_close(h->quic, true, nghttp3_err_infer_quic_app_error_code(liberr),
			nghttp3_strerror(liberr));
}

/* ---------------------------------------------------------------- streams */

static struct h3_stream *stream_alloc(struct h3_conn *h, struct quic_stream *qs)
{
	struct h3_stream *s = h->free_streams;
	if (s) {
		h->free_streams = s->next_free;
		h->nfree--;
	} else {
		if (h->nalive >= h->opts.max_streams)
			return NULL;
		s = malloc(sizeof *s);
		if (!s)
			return NULL;
	}
	/* Everything but the arena (written before it is read) starts at zero. */
	memset(s, 0, offsetof(struct h3_stream, arena));
	memset(&s->arena_len, 0, sizeof *s - offsetof(struct h3_stream, arena_len));
	s->id = qs->id;
	s->h3 = h;
	s->qs = qs;
	s->credit = QUIC_CREDIT_AUTO;
	quic_sbuf_init(&s->body, h->opts.body_sndbuf);
	qs->user = s;
	quic_stream_set_credit(qs, QUIC_CREDIT_MANUAL);
	s->next_all = h->all_head;
	if (h->all_head)
		h->all_head->prev_all = s;
	h->all_head = s;
	h->nalive++;
	return s;
}

static void set_want_writable(struct h3_conn *h, struct h3_stream *s, bool want);

static void stream_release(struct h3_conn *h, struct h3_stream *s)
{
	set_want_writable(h, s, false);
	quic_sbuf_free(&s->body, &h->pool);
	if (s->qs)
		s->qs->user = NULL;
	if (s->prev_all)
		s->prev_all->next_all = s->next_all;
	else
		h->all_head = s->next_all;
	if (s->next_all)
		s->next_all->prev_all = s->prev_all;
	h->nalive--;
	if (h->nfree < MAX_FREE_STREAMS) {
		s->next_free = h->free_streams;
		h->free_streams = s;
		h->nfree++;
	} else {
		free(s);
	}
}

/* The h3 stream behind an nghttp3 callback: its user data, or found through the QUIC
 * stream (a server learns of request streams from QUIC first). */
static struct h3_stream *stream_of(struct h3_conn *h, int64_t id, void *stream_user_data)
{
	if (stream_user_data)
		return stream_user_data;
	struct quic_stream *qs = quic_stream_find(h->quic, id);
	struct h3_stream *s = qs ? qs->user : NULL;
	if (s)
		nghttp3_conn_set_stream_user_data(h->ng, id, s);
	return s;
}

/* Resets both directions of s for a protocol error we found. */
static void stream_fail(struct h3_conn *h, struct h3_stream *s, uint64_t code)
{
	if (s->qs) {
		quic_stream_shutdown_write(h->quic, s->qs, code);
		quic_stream_shutdown_read(h->quic, s->qs, code);
	}
	nghttp3_conn_shutdown_stream_read(h->ng, s->id);
	nghttp3_conn_shutdown_stream_write(h->ng, s->id);
	s->body_ended = true;
	h->stats.streams_failed++;
	emit_stream(h, H3_EV_ERROR, s, code, true);
}

static void set_want_writable(struct h3_conn *h, struct h3_stream *s, bool want)
{
	if (s->want_writable == want)
		return;
	s->want_writable = want;
	if (want)
		h->nwaiting++;
	else
		h->nwaiting--;
}

/* After body bytes were released: WRITABLE for every stream that waits and has room
 * (in its own buffer and in the connection's pool). */
static void wake_writers(struct h3_conn *h)
{
	if (!h->nwaiting || (!h->pool.free && h->pool.allocated >= h->pool.max_chunks))
		return;
	for (struct h3_stream *s = h->all_head; s && h->nwaiting; s = s->next_all) {
		if (!s->want_writable || s->body.written - s->body.acked >= s->body.cap)
			continue;
		set_want_writable(h, s, false);
		if (!s->body_ended)
			emit_stream(h, H3_EV_WRITABLE, s, 0, false);
	}
}

/* ---------------------------------------------------------------- nghttp3 callbacks */

static int cb_acked_stream_data(nghttp3_conn *conn, int64_t id, uint64_t len, void *cu, void *su)
{
	(void)conn;
	struct h3_conn *h = cu;
	struct h3_stream *s = stream_of(h, id, su);
	if (!s)
		return 0;
	s->body_acked += len;
	quic_sbuf_ack(&s->body, &h->pool, s->body_acked);
	struct h3_event ev = {.type = H3_EV_ACKED, .stream = s, .len = (size_t)len};
	emit(h, &ev);
	wake_writers(h);
	return 0;
}

static int cb_stream_close(nghttp3_conn *conn, int64_t id, uint64_t code, void *cu, void *su)
{
	(void)conn;
	struct h3_conn *h = cu;
	struct h3_stream *s = stream_of(h, id, su);
	if (!s || s->closed_emitted)
		return 0;
	s->closed_emitted = true;
	emit_stream(h, H3_EV_CLOSED, s, code, code != H3_NO_ERROR);
	stream_release(h, s);
	return 0;
}

static int cb_recv_data(nghttp3_conn *conn, int64_t id, const uint8_t *data, size_t len,
			void *cu, void *su)
{
	(void)conn;
	struct h3_conn *h = cu;
	struct h3_stream *s = stream_of(h, id, su);
	if (!s)
		return 0;
	s->body_received += len;
	h->stats.body_bytes_received += len;
	struct h3_event ev = {.type = H3_EV_DATA, .stream = s, .data = data, .len = len};
	emit(h, &ev);
	if (s->credit == QUIC_CREDIT_AUTO && s->qs)
		quic_stream_consume(h->quic, s->qs, len);
	return 0;
}

static int cb_deferred_consume(nghttp3_conn *conn, int64_t id, size_t consumed, void *cu,
			       void *su)
{
	(void)conn;
	(void)su;
	struct h3_conn *h = cu;
	struct quic_stream *qs = quic_stream_find(h->quic, id);
	if (qs)
		quic_stream_consume(h->quic, qs, consumed);
	return 0;
}

static int cb_begin_headers(nghttp3_conn *conn, int64_t id, void *cu, void *su)
{
	(void)conn;
	struct h3_stream *s = stream_of(cu, id, su);
	if (!s)
		return 0;
	/* A new header section (a final response after 1xx, say) starts afresh. */
	s->arena_len = 0;
	s->nfields = 0;
	s->fields_overflow = false;
	s->in_trailers = false;
	s->method = s->scheme = s->authority = s->path = NULL;
	return 0;
}

static int cb_begin_trailers(nghttp3_conn *conn, int64_t id, void *cu, void *su)
{
	(void)conn;
	struct h3_stream *s = stream_of(cu, id, su);
	if (s) {
		s->in_trailers = true;
		s->nfields = 0;
	}
	return 0;
}

/* Copies len bytes and a NUL into the stream's arena; NULL when it is full. */
static const char *arena_put(struct h3_stream *s, const uint8_t *p, size_t len)
{
	if (len + 1 > sizeof s->arena - s->arena_len)
		return NULL;
	char *dst = s->arena + s->arena_len;
	memcpy(dst, p, len);
	dst[len] = '\0';
	s->arena_len += len + 1;
	return dst;
}

static int cb_recv_header(nghttp3_conn *conn, int64_t id, int32_t token, nghttp3_rcbuf *name,
			  nghttp3_rcbuf *value, uint8_t flags, void *cu, void *su)
{
	(void)conn;
	(void)flags;
	struct h3_stream *s = stream_of(cu, id, su);
	if (!s || s->fields_overflow)
		return 0;
	nghttp3_vec n = nghttp3_rcbuf_get_buf(name), v = nghttp3_rcbuf_get_buf(value);
	const char *ns = arena_put(s, n.base, n.len);
	const char *vs = ns ? arena_put(s, v.base, v.len) : NULL;
	if (!vs) {
		s->fields_overflow = true;
		return 0;
	}
	if (!s->in_trailers) {
		switch (token) {
		case NGHTTP3_QPACK_TOKEN__METHOD: s->method = vs; return 0;
		case NGHTTP3_QPACK_TOKEN__SCHEME: s->scheme = vs; return 0;
		case NGHTTP3_QPACK_TOKEN__AUTHORITY: s->authority = vs; return 0;
		case NGHTTP3_QPACK_TOKEN__PATH: s->path = vs; return 0;
		case NGHTTP3_QPACK_TOKEN__STATUS: s->status = atoi(vs); return 0;
		default: break;
		}
		if (ns[0] == ':')
			return 0; /* nghttp3 validated it; we keep only the ones above */
	}
	if (s->nfields == H3_MAX_FIELDS) {
		s->fields_overflow = true;
		return 0;
	}
	s->fields[s->nfields].name = ns;
	s->fields[s->nfields].value = vs;
	s->nfields++;
	return 0;
}

static int cb_end_headers(nghttp3_conn *conn, int64_t id, int fin, void *cu, void *su)
{
	(void)conn;
	(void)fin;
	struct h3_conn *h = cu;
	struct h3_stream *s = stream_of(h, id, su);
	if (!s)
		return 0;
	if (s->fields_overflow) {
		stream_fail(h, s, H3_EXCESSIVE_LOAD);
		return 0;
	}
	if (h->server) {
		s->request_seen = true;
		h->stats.requests++;
		emit_stream(h, H3_EV_REQUEST, s, 0, false);
	} else if (s->status >= 200) {
		h->stats.responses++;
		emit_stream(h, H3_EV_RESPONSE, s, 0, false);
	}
	return 0;
}

static int cb_end_trailers(nghttp3_conn *conn, int64_t id, int fin, void *cu, void *su)
{
	(void)conn;
	(void)fin;
	struct h3_conn *h = cu;
	struct h3_stream *s = stream_of(h, id, su);
	if (!s)
		return 0;
	if (s->fields_overflow)
		stream_fail(h, s, H3_EXCESSIVE_LOAD);
	else
		emit_stream(h, H3_EV_TRAILERS, s, 0, false);
	return 0;
}

static int cb_stop_sending(nghttp3_conn *conn, int64_t id, uint64_t code, void *cu, void *su)
{
	(void)conn;
	(void)su;
	struct h3_conn *h = cu;
	struct quic_stream *qs = quic_stream_find(h->quic, id);
	if (qs)
		quic_stream_shutdown_read(h->quic, qs, code);
	return 0;
}

static int cb_end_stream(nghttp3_conn *conn, int64_t id, void *cu, void *su)
{
	(void)conn;
	struct h3_conn *h = cu;
	struct h3_stream *s = stream_of(h, id, su);
	if (!s)
		return 0;
	s->end_received = true;
	emit_stream(h, H3_EV_END, s, 0, false);
	return 0;
}

/* nghttp3 resets a stream it found malformed (H3_MESSAGE_ERROR) or refused. */
static int cb_reset_stream(nghttp3_conn *conn, int64_t id, uint64_t code, void *cu, void *su)
{
	(void)conn;
	struct h3_conn *h = cu;
	struct quic_stream *qs = quic_stream_find(h->quic, id);
	if (qs)
		quic_stream_shutdown_write(h->quic, qs, code);
	struct h3_stream *s = stream_of(h, id, su);
	if (s) {
		s->body_ended = true;
		h->stats.streams_failed++;
		emit_stream(h, H3_EV_ERROR, s, code, true);
	}
	return 0;
}

static int cb_shutdown(nghttp3_conn *conn, int64_t id, void *cu)
{
	(void)conn;
	struct h3_event ev = {.type = H3_EV_GOAWAY, .id = id};
	emit(cu, &ev);
	return 0;
}

static nghttp3_ssize read_body(nghttp3_conn *conn, int64_t id, nghttp3_vec *vec, size_t veccnt,
			       uint32_t *pflags, void *cu, void *su)
{
	(void)conn;
	struct h3_stream *s = stream_of(cu, id, su);
	if (!s)
		return NGHTTP3_ERR_CALLBACK_FAILURE;
	size_t n = quic_sbuf_peek(&s->body, (struct quic_vec *)vec, veccnt);
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += vec[i].len;
	quic_sbuf_advance(&s->body, total);
	if (s->body_ended && quic_sbuf_unsent(&s->body) == 0) {
		*pflags |= NGHTTP3_DATA_FLAG_EOF;
		if (s->trailers_pending)
			*pflags |= NGHTTP3_DATA_FLAG_NO_END_STREAM;
		return (nghttp3_ssize)n;
	}
	return n ? (nghttp3_ssize)n : NGHTTP3_ERR_WOULDBLOCK;
}

/* ---------------------------------------------------------------- to QUIC and back */

/* Moves what nghttp3 has queued into the QUIC streams' send buffers. */
void h3_conn_flush(struct h3_conn *h)
{
	if (!h->ng || h->failed)
		return;
	for (unsigned guard = 0; guard < 4096 && h->quic->state < QUIC_ST_CLOSING; guard++) {
		int64_t id = -1;
		int fin = 0;
		nghttp3_vec v[FLUSH_VECS];
		nghttp3_ssize n = nghttp3_conn_writev_stream(h->ng, &id, &fin, v, FLUSH_VECS);
		if (n < 0) {
			fail_conn(h, (int)n);
			return;
		}
		if (id < 0)
			return;
		struct quic_stream *qs = quic_stream_find(h->quic, id);
		if (!qs) {
			nghttp3_conn_shutdown_stream_write(h->ng, id); /* the QUIC stream is gone */
			continue;
		}
		size_t total = 0, accepted = 0;
		bool refused = false;
		for (nghttp3_ssize i = 0; i < n; i++) {
			total += v[i].len;
			if (refused || accepted < total - v[i].len)
				continue;
			long w = quic_stream_write(h->quic, qs, v[i].base, v[i].len, false);
			if (w < 0)
				refused = true;
			else
				accepted += (size_t)w;
		}
		if (refused && accepted == 0) {
			/* Reset or STOP_SENDING: nothing more goes on this stream. */
			nghttp3_conn_shutdown_stream_write(h->ng, id);
			continue;
		}
		if (fin && accepted == total)
			quic_stream_finish(h->quic, qs);
		int rv = nghttp3_conn_add_write_offset(h->ng, id, accepted);
		if (rv != 0) {
			fail_conn(h, rv);
			return;
		}
		/* The QUIC buffer is full: quic's WRITABLE event unblocks it. */
		if (accepted < total)
			nghttp3_conn_block_stream(h->ng, id);
		else if (total == 0 && !fin)
			return; /* nothing to move, nothing will change in this call */
	}
}

static void maybe_flush(struct h3_conn *h)
{
	if (h->depth == 0)
		h3_conn_flush(h);
}

/* Control and QPACK streams, once QUIC lets us open streams. */
static int setup(struct h3_conn *h)
{
	if (h->ready)
		return 0;
	struct quic_stream *ctrl, *enc, *dec;
	if (quic_stream_open(h->quic, false, NULL, &ctrl) != 0 ||
	    quic_stream_open(h->quic, false, NULL, &enc) != 0 ||
	    quic_stream_open(h->quic, false, NULL, &dec) != 0)
		return NGHTTP3_ERR_H3_STREAM_CREATION_ERROR;
	int rv = nghttp3_conn_bind_control_stream(h->ng, ctrl->id);
	if (rv == 0)
		rv = nghttp3_conn_bind_qpack_streams(h->ng, enc->id, dec->id);
	if (rv != 0)
		return rv;
	h->ready = true;
	return 0;
}

static void feed(struct h3_conn *h, struct quic_stream *qs, const uint8_t *data, size_t len,
		 bool fin)
{
	if (h->failed)
		return;
	nghttp3_ssize n = nghttp3_conn_read_stream(h->ng, qs->id, data, len, fin);
	if (n < 0) {
		fail_conn(h, (int)n);
		return;
	}
	/* Framing and control bytes: credit back at once (body bytes: cb_recv_data). */
	quic_stream_consume(h->quic, qs, (size_t)n);
}

static void stream_closed(struct h3_conn *h, const struct quic_event *ev)
{
	struct quic_stream *qs = ev->stream;
	struct h3_stream *s = qs->user;
	if (s) {
		s->quic_final = qs->stats;
		s->qs = NULL;
		qs->user = NULL;
		nghttp3_conn_set_stream_user_data(h->ng, qs->id, s);
	}
	if (ev->conn_closed) {
		/* The connection is gone: no more HTTP/3 on it, just end our stream. */
		nghttp3_conn_set_stream_user_data(h->ng, qs->id, NULL);
		if (s && !s->closed_emitted) {
			s->closed_emitted = true;
			emit_stream(h, H3_EV_CLOSED, s, 0, false);
			stream_release(h, s);
		}
		return;
	}
	int rv = nghttp3_conn_close_stream(h->ng, qs->id, ev->has_code ? ev->code : H3_NO_ERROR);
	if (rv == NGHTTP3_ERR_STREAM_NOT_FOUND) {
		/* nghttp3 never saw it (no byte arrived or was sent): end it here. */
		if (s && !s->closed_emitted) {
			s->closed_emitted = true;
			emit_stream(h, H3_EV_CLOSED, s, ev->code, ev->has_code);
			stream_release(h, s);
		}
	} else if (rv != 0) {
		fail_conn(h, rv); /* a critical stream closed */
	}
}

static void on_quic(struct quic_conn *q, const struct quic_event *ev, void *arg)
{
	(void)q;
	struct h3_conn *h = arg;
	struct quic_stream *qs = ev->stream;
	struct h3_stream *s = qs ? qs->user : NULL;
	struct h3_event pass = {.type = H3_EV_QUIC, .quic = ev};
	h->depth++;
	switch (ev->type) {
	case QUIC_EV_HANDSHAKE_DONE: {
		int rv = setup(h);
		if (rv != 0)
			fail_conn(h, rv);
		emit(h, &pass);
		break;
	}
	case QUIC_EV_STREAM_OPEN:
		quic_stream_set_credit(qs, QUIC_CREDIT_MANUAL);
		if (qs->id % 4 == 1) {
			/* A server-initiated bidi stream: HTTP/3 has none. */
			fail_conn(h, NGHTTP3_ERR_H3_STREAM_CREATION_ERROR);
		} else if (qs->id % 4 == 0 && !stream_alloc(h, qs)) {
			quic_stream_shutdown_write(h->quic, qs, H3_REQUEST_REJECTED);
			quic_stream_shutdown_read(h->quic, qs, H3_REQUEST_REJECTED);
		}
		break;
	case QUIC_EV_STREAM_DATA:
		feed(h, qs, ev->data, ev->len, false);
		break;
	case QUIC_EV_STREAM_FIN:
		feed(h, qs, NULL, 0, true);
		break;
	case QUIC_EV_STREAM_RESET:
		nghttp3_conn_shutdown_stream_read(h->ng, qs->id);
		if (s) {
			h->stats.streams_reset_by_peer++;
			emit_stream(h, H3_EV_RESET, s, ev->code, true);
		}
		break;
	case QUIC_EV_STREAM_STOPPED:
		nghttp3_conn_shutdown_stream_write(h->ng, qs->id);
		if (s) {
			s->body_ended = true;
			emit_stream(h, H3_EV_STOPPED, s, 0, false);
		}
		break;
	case QUIC_EV_STREAM_ACKED:
		if (ev->len) {
			int rv = nghttp3_conn_add_ack_offset(h->ng, qs->id, ev->len);
			if (rv != 0)
				fail_conn(h, rv);
		}
		break;
	case QUIC_EV_STREAM_WRITABLE:
		nghttp3_conn_unblock_stream(h->ng, qs->id);
		break;
	case QUIC_EV_STREAM_CLOSED:
		stream_closed(h, ev);
		break;
	case QUIC_EV_STREAMS_AVAILABLE:
	case QUIC_EV_CID_NEW:
	case QUIC_EV_CID_RETIRED:
	case QUIC_EV_CLOSED:
		emit(h, &pass);
		break;
	}
	h->depth--;
	maybe_flush(h);
}

/* ---------------------------------------------------------------- API */

int h3_conn_init(struct h3_conn *h, struct quic_conn *q, const struct h3_opts *opts)
{
	memset(h, 0, sizeof *h);
	h->quic = q;
	h->server = q->server;
	h->opts = *opts;
	if (!h->opts.body_sndbuf)
		h->opts.body_sndbuf = 1u << 20;
	if (!h->opts.conn_body_bytes)
		h->opts.conn_body_bytes = 16u << 20;
	if (!h->opts.max_streams)
		h->opts.max_streams = 1024;
	h->cb = opts->cb;
	h->arg = opts->arg;
	quic_chunk_pool_init(&h->pool, h->opts.conn_body_bytes);

	nghttp3_callbacks cb = {
		.acked_stream_data = cb_acked_stream_data,
		.stream_close = cb_stream_close,
		.recv_data = cb_recv_data,
		.deferred_consume = cb_deferred_consume,
		.begin_headers = cb_begin_headers,
		.recv_header = cb_recv_header,
		.end_headers = cb_end_headers,
		.begin_trailers = cb_begin_trailers,
		.recv_trailer = cb_recv_header,
		.end_trailers = cb_end_trailers,
		.stop_sending = cb_stop_sending,
		.end_stream = cb_end_stream,
		.reset_stream = cb_reset_stream,
		.shutdown = cb_shutdown,
	};
	nghttp3_settings st;
	nghttp3_settings_default(&st);
	st.max_field_section_size = H3_FIELD_BYTES;
	st.qpack_max_dtable_capacity = 4096;
	st.qpack_blocked_streams = 100;
	nghttp3_conn *ng = NULL;
	int rv = h->server ? nghttp3_conn_server_new(&ng, &cb, &st, NULL, h)
			   : nghttp3_conn_client_new(&ng, &cb, &st, NULL, h);
	if (rv != 0)
		return -ENOMEM;
	h->ng = ng;
	if (h->server) {
		/* Only checks PRIORITY_UPDATE stream ids; QUIC enforces the real limit. */
		nghttp3_conn_set_max_client_streams_bidi(ng, 1ull << 40);
	}
	q->cb = on_quic;
	q->arg = h;
	if (q->state == QUIC_ST_OPEN) {
		rv = setup(h);
		if (rv != 0) {
			fail_conn(h, rv);
			return 0; /* the QUIC close reports it */
		}
		maybe_flush(h);
	}
	return 0;
}

void h3_conn_free(struct h3_conn *h)
{
	if (!h || !h->ng)
		return;
	nghttp3_conn_del(h->ng);
	h->ng = NULL;
	while (h->all_head) {
		struct h3_stream *s = h->all_head;
		h->all_head = s->next_all;
		quic_sbuf_free(&s->body, &h->pool);
		if (s->qs)
			s->qs->user = NULL;
		free(s);
	}
	while (h->free_streams) {
		struct h3_stream *s = h->free_streams;
		h->free_streams = s->next_free;
		free(s);
	}
	quic_chunk_pool_free(&h->pool);
	if (h->quic && h->quic->arg == h) {
		h->quic->cb = NULL;
		h->quic->arg = NULL;
	}
}

static nghttp3_nv nv(const char *name, const char *value)
{
	nghttp3_nv n = {(uint8_t *)name, (uint8_t *)value, strlen(name), strlen(value),
			NGHTTP3_NV_FLAG_NONE};
	return n;
}

static int fields_nv(nghttp3_nv *out, size_t have, const struct h3_header *f, size_t n)
{
	if (n > H3_MAX_FIELDS)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!f[i].name || !f[i].value)
			return -EINVAL;
		out[have + i] = nv(f[i].name, f[i].value);
	}
	return (int)(have + n);
}

int h3_submit_request(struct h3_conn *h, const struct h3_request *req, struct h3_stream **out)
{
	*out = NULL;
	if (h->server || !req->method || !req->authority)
		return -EINVAL;
	bool connect = strcmp(req->method, "CONNECT") == 0;
	if (connect ? (req->scheme || req->path) : (!req->scheme || !req->path))
		return -EINVAL;
	if (!h->ready || h->failed || h->quic->state >= QUIC_ST_CLOSING)
		return -ENOTCONN;
	if (h->nalive >= h->opts.max_streams)
		return -ENOSPC;
	nghttp3_nv nva[4 + H3_MAX_FIELDS];
	size_t n = 0;
	nva[n++] = nv(":method", req->method);
	if (!connect)
		nva[n++] = nv(":scheme", req->scheme);
	nva[n++] = nv(":authority", req->authority);
	if (!connect)
		nva[n++] = nv(":path", req->path);
	int cnt = fields_nv(nva, n, req->fields, req->nfields);
	if (cnt < 0)
		return cnt;

	struct quic_stream *qs;
	int rv = quic_stream_open(h->quic, true, NULL, &qs);
	if (rv != 0)
		return rv;
	struct h3_stream *s = stream_alloc(h, qs);
	if (!s) {
		quic_stream_shutdown_write(h->quic, qs, H3_REQUEST_CANCELLED);
		return -ENOMEM;
	}
	s->user = req->user;
	s->has_reader = req->body;
	s->body_ended = !req->body;
	nghttp3_data_reader dr = {.read_data = read_body};
	rv = nghttp3_conn_submit_request(h->ng, qs->id, nva, (size_t)cnt, req->body ? &dr : NULL, s);
	if (rv != 0) {
		quic_stream_shutdown_write(h->quic, qs, H3_REQUEST_CANCELLED);
		quic_stream_shutdown_read(h->quic, qs, H3_REQUEST_CANCELLED);
		stream_release(h, s);
		return rv == NGHTTP3_ERR_NOMEM ? -ENOMEM : -EINVAL;
	}
	h->stats.requests++;
	*out = s;
	maybe_flush(h);
	return 0;
}

int h3_submit_response(struct h3_conn *h, struct h3_stream *s, int status,
		       const struct h3_header *fields, size_t nfields, bool body)
{
	if (!h->server || status < 100 || status > 599)
		return -EINVAL;
	if (s->responded)
		return -EALREADY;
	char code[4];
	snprintf(code, sizeof code, "%d", status);
	nghttp3_nv nva[1 + H3_MAX_FIELDS];
	nva[0] = nv(":status", code);
	int cnt = fields_nv(nva, 1, fields, nfields);
	if (cnt < 0)
		return cnt;
	int rv;
	if (status < 200) {
		rv = nghttp3_conn_submit_info(h->ng, s->id, nva, (size_t)cnt);
	} else {
		nghttp3_data_reader dr = {.read_data = read_body};
		rv = nghttp3_conn_submit_response(h->ng, s->id, nva, (size_t)cnt, body ? &dr : NULL);
		if (rv == 0) {
			s->responded = true;
			s->has_reader = body;
			s->body_ended = !body;
			h->stats.responses++;
		}
	}
	if (rv != 0)
		return rv == NGHTTP3_ERR_NOMEM ? -ENOMEM : -EINVAL;
	maybe_flush(h);
	return 0;
}

int h3_submit_trailers(struct h3_conn *h, struct h3_stream *s, const struct h3_header *fields,
		       size_t nfields)
{
	if (!s->has_reader || s->body_ended)
		return -EPIPE;
	nghttp3_nv nva[H3_MAX_FIELDS];
	int cnt = fields_nv(nva, 0, fields, nfields);
	if (cnt < 0)
		return cnt;
	int rv = nghttp3_conn_submit_trailers(h->ng, s->id, nva, (size_t)cnt);
	if (rv != 0)
		return rv == NGHTTP3_ERR_NOMEM ? -ENOMEM : -EINVAL;
	s->trailers_pending = true;
	s->body_ended = true;
	nghttp3_conn_resume_stream(h->ng, s->id);
	maybe_flush(h);
	return 0;
}

long h3_stream_write(struct h3_conn *h, struct h3_stream *s, const void *data, size_t len)
{
	if (!s->has_reader || s->body_ended || !s->qs)
		return -EPIPE;
	size_t n = quic_sbuf_append(&s->body, &h->pool, data, len);
	s->body_written += n;
	h->stats.body_bytes_sent += n;
	if (n < len)
		set_want_writable(h, s, true);
	if (n) {
		nghttp3_conn_resume_stream(h->ng, s->id);
		maybe_flush(h);
	}
	return (long)n;
}

int h3_stream_end(struct h3_conn *h, struct h3_stream *s)
{
	if (!s->has_reader || s->body_ended || !s->qs)
		return -EPIPE;
	s->body_ended = true;
	nghttp3_conn_resume_stream(h->ng, s->id);
	maybe_flush(h);
	return 0;
}

int h3_stream_reset(struct h3_conn *h, struct h3_stream *s, uint64_t code)
{
	if (!s->qs)
		return -EPIPE;
	int rw = quic_stream_shutdown_write(h->quic, s->qs, code);
	int rr = quic_stream_shutdown_read(h->quic, s->qs, code);
	nghttp3_conn_shutdown_stream_read(h->ng, s->id);
	nghttp3_conn_shutdown_stream_write(h->ng, s->id);
	s->body_ended = true;
	maybe_flush(h);
	return rw == 0 || rr == 0 ? 0 : -EPIPE;
}

void h3_stream_set_credit(struct h3_conn *h, struct h3_stream *s, enum quic_credit mode)
{
	(void)h;
	s->credit = mode;
	if (s->qs)
		quic_stream_set_credit(s->qs, mode == QUIC_CREDIT_NONE ? QUIC_CREDIT_NONE
								  : QUIC_CREDIT_MANUAL);
}

void h3_stream_consume(struct h3_conn *h, struct h3_stream *s, size_t n)
{
	if (s->credit == QUIC_CREDIT_MANUAL && s->qs)
		quic_stream_consume(h->quic, s->qs, n);
}

const struct quic_stream_stats *h3_stream_quic(const struct h3_stream *s)
{
	return s->qs ? &s->qs->stats : &s->quic_final;
}

const char *h3_error_name(uint64_t code)
{
	static const char *const h3[] = {
		"H3_NO_ERROR", "H3_GENERAL_PROTOCOL_ERROR", "H3_INTERNAL_ERROR",
		"H3_STREAM_CREATION_ERROR", "H3_CLOSED_CRITICAL_STREAM", "H3_FRAME_UNEXPECTED",
		"H3_FRAME_ERROR", "H3_EXCESSIVE_LOAD", "H3_ID_ERROR", "H3_SETTINGS_ERROR",
		"H3_MISSING_SETTINGS", "H3_REQUEST_REJECTED", "H3_REQUEST_CANCELLED",
		"H3_REQUEST_INCOMPLETE", "H3_MESSAGE_ERROR", "H3_CONNECT_ERROR",
		"H3_VERSION_FALLBACK",
	};
	static const char *const qpack[] = {
		"QPACK_DECOMPRESSION_FAILED", "QPACK_ENCODER_STREAM_ERROR",
		"QPACK_DECODER_STREAM_ERROR",
	};
	if (code >= 0x100 && code < 0x100 + sizeof h3 / sizeof h3[0])
		return h3[code - 0x100];
	if (code >= 0x200 && code < 0x200 + sizeof qpack / sizeof qpack[0])
		return qpack[code - 0x200];
	return "unknown";
}
