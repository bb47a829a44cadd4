/* quic — see quic.h. ngtcp2 0.12 does the protocol; this file adapts its callbacks to
 * one event stream, keeps the send buffers ngtcp2 needs, and turns every way a
 * connection ends into one struct quic_close. */
#include "lib/quic.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>
#include <openssl/ssl.h>

_Static_assert(sizeof(struct quic_vec) == sizeof(ngtcp2_vec), "quic_vec mirrors ngtcp2_vec");
_Static_assert(offsetof(struct quic_vec, len) == offsetof(ngtcp2_vec, len), "quic_vec layout");

#define NS_PER_US 1000ull
#define MAX_BATCH 64            /* datagrams per quic_conn_write */
#define MAX_STREAM_VECS 16      /* chunks handed to ngtcp2 per STREAM frame */
#define MAX_FREE_STREAMS 64     /* recycled stream structs kept per connection */
#define MAX_CC_RESENDS 8        /* CONNECTION_CLOSE repeats in the closing period */
#define CC_PKT_CAP 1500
#define BATCH_SLACK 64          /* a first datagram this close to full still starts a batch */

/* TLS 1.3 only, the AEADs and groups QUIC allows; no middlebox compatibility mode. */
static const char tls_priority[] =
	"NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:"
	"+CHACHA20-POLY1305:+AES-128-CCM:-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:"
	"+GROUP-SECP384R1:+GROUP-SECP521R1:%DISABLE_TLS13_COMPAT_MODE";

struct quic_conn_impl {
	ngtcp2_conn *conn;
	gnutls_session_t tls;
	ngtcp2_crypto_conn_ref conn_ref;
	struct quic_client_ctx *cctx;
	struct quic_server_ctx *sctx;
	const uint8_t *secret;         /* QUIC_SECRET_LEN bytes, the context's */
	struct sockaddr_storage local;
	socklen_t local_len;
	struct quic_params params;
	struct quic_chunk_pool pool;
	struct quic_stream *free_streams;
	size_t nfree_streams, nstreams_alive;
	struct quic_stream *q_head, *q_tail;   /* streams with something to send */
	struct quic_stream *w_head;            /* streams waiting for QUIC_EV_STREAM_WRITABLE */
	struct quic_stream *all_head;          /* every stream alive */
	struct quic_stream **smap;             /* stream id -> stream, linear probing */
	size_t smap_n, smap_len;
	FILE *log;
	ngtcp2_connection_close_error ccerr;  /* what our CONNECTION_CLOSE says */
	uint8_t cc_reason[64];
	uint8_t cc_pkt[CC_PKT_CAP];
	size_t cc_len;
	bool cc_pending;               /* CONNECTION_CLOSE still to be built */
	unsigned cc_resends, cc_resend_due;
	uint64_t close_deadline_us;    /* end of the closing or draining period */
	bool close_announced;
	bool conn_blocked;             /* connection-level credit exhausted */
	bool stateless_reset;
	char verify_host[256];         /* GnuTLS keeps the pointer, not a copy, for the session */
};

/* ---------------------------------------------------------------- send buffers */

void quic_chunk_pool_init(struct quic_chunk_pool *pool, size_t max_bytes)
{
	memset(pool, 0, sizeof *pool);
	pool->max_chunks = (max_bytes + QUIC_CHUNK_SIZE - 1) / QUIC_CHUNK_SIZE;
	if (pool->max_chunks == 0)
		pool->max_chunks = 1;
}

void quic_chunk_pool_free(struct quic_chunk_pool *pool)
{
	if (!pool)
		return;
	while (pool->free) {
		struct quic_chunk *ch = pool->free;
		pool->free = ch->next;
		free(ch);
		pool->allocated--;
	}
	pool->nfree = 0;
}

static struct quic_chunk *chunk_get(struct quic_chunk_pool *pool)
{
	struct quic_chunk *ch = pool->free;
	if (ch) {
		pool->free = ch->next;
		pool->nfree--;
	} else {
		if (pool->allocated >= pool->max_chunks)
			return NULL;
		ch = malloc(sizeof *ch);
		if (!ch)
			return NULL;
		pool->allocated++;
	}
	ch->next = NULL;
	ch->len = 0;
	return ch;
}

static void chunk_put(struct quic_chunk_pool *pool, struct quic_chunk *ch)
{
	ch->next = pool->free;
	pool->free = ch;
	pool->nfree++;
}

void quic_sbuf_init(struct quic_sbuf *sb, size_t cap)
{
	memset(sb, 0, sizeof *sb);
	sb->cap = cap;
}

size_t quic_sbuf_append(struct quic_sbuf *sb, struct quic_chunk_pool *pool, const void *data,
			size_t len)
{
	const uint8_t *p = data;
	size_t room = sb->cap - (size_t)(sb->written - sb->acked);
	size_t done = 0;
	if (len > room)
		len = room;
	while (done < len) {
		struct quic_chunk *t = sb->tail;
		if (!t || t->len == QUIC_CHUNK_SIZE) {
			struct quic_chunk *ch = chunk_get(pool);
			if (!ch)
				break;
			if (t)
				t->next = ch;
			else {
				sb->head = ch;
				sb->head_off = sb->written;
			}
			sb->tail = t = ch;
		}
		size_t n = QUIC_CHUNK_SIZE - t->len;
		if (n > len - done)
			n = len - done;
		memcpy(t->data + t->len, p + done, n);
		t->len += n;
		done += n;
	}
	sb->written += done;
	return done;
}

size_t quic_sbuf_peek(const struct quic_sbuf *sb, struct quic_vec *v, size_t n)
{
	size_t cnt = 0;
	uint64_t off = sb->cur ? sb->cur_off : sb->head_off;
	for (struct quic_chunk *ch = sb->cur ? sb->cur : sb->head; ch && cnt < n; ch = ch->next) {
		uint64_t end = off + ch->len;
		if (end > sb->sent) {
			size_t skip = sb->sent > off ? (size_t)(sb->sent - off) : 0;
			v[cnt].base = ch->data + skip;
			v[cnt].len = ch->len - skip;
			cnt++;
		}
		off = end;
	}
	return cnt;
}

void quic_sbuf_advance(struct quic_sbuf *sb, size_t n)
{
	assert(n <= sb->written - sb->sent);
	sb->sent += n;
	/* Keep the cursor on the chunk that holds `sent` (a full chunk's length no longer
	 * changes; the tail's may, so the cursor stays on it). */
	if (!sb->cur) {
		sb->cur = sb->head;
		sb->cur_off = sb->head_off;
	}
	while (sb->cur && sb->cur->next && sb->cur_off + sb->cur->len <= sb->sent) {
		sb->cur_off += sb->cur->len;
		sb->cur = sb->cur->next;
	}
}

void quic_sbuf_ack(struct quic_sbuf *sb, struct quic_chunk_pool *pool, uint64_t upto)
{
	if (upto > sb->sent)
		upto = sb->sent;
	if (upto <= sb->acked)
		return;
	sb->acked = upto;
	/* A chunk goes back once every byte in it is acknowledged and no more can be
	 * appended to it (it is full, or it is not the tail). */
	while (sb->head) {
		struct quic_chunk *h = sb->head;
		if (sb->head_off + h->len > sb->acked)
			break;
		if (h == sb->tail && h->len < QUIC_CHUNK_SIZE)
			break;
		sb->head = h->next;
		sb->head_off += h->len;
		if (!sb->head)
			sb->tail = NULL;
		if (sb->cur == h)
			sb->cur = NULL; /* the head is where peeking starts again */
		chunk_put(pool, h);
	}
}

void quic_sbuf_free(struct quic_sbuf *sb, struct quic_chunk_pool *pool)
{
	if (!sb)
		return;
	while (sb->head) {
		struct quic_chunk *h = sb->head;
		sb->head = h->next;
		chunk_put(pool, h);
	}
	sb->tail = NULL;
	sb->cur = NULL;
}

/* Whether quic_sbuf_append would take at least one byte now. */
static bool sbuf_has_room(const struct quic_sbuf *sb, const struct quic_chunk_pool *pool)
{
	if (sb->written - sb->acked >= sb->cap)
		return false;
	if (sb->tail && sb->tail->len < QUIC_CHUNK_SIZE)
		return true;
	return pool->free || pool->allocated < pool->max_chunks;
}

/* ---------------------------------------------------------------- helpers */

static uint64_t us_from_ns(uint64_t ns)
{
	return ns == UINT64_MAX ? UINT64_MAX : (ns + NS_PER_US - 1) / NS_PER_US;
}

static void set_detail(struct quic_close *cl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void set_detail(struct quic_close *cl, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cl->detail, sizeof cl->detail, fmt, ap);
	va_end(ap);
}

static void emit(struct quic_conn *c, struct quic_event *ev)
{
	if (c->cb)
		c->cb(c, ev, c->arg);
}

static void emit_stream(struct quic_conn *c, enum quic_event_type type, struct quic_stream *s)
{
	struct quic_event ev = {.type = type, .stream = s};
	emit(c, &ev);
}

static bool is_ip_literal(const char *s)
{
	uint8_t buf[16];
	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
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

/* ---------------------------------------------------------------- streams */

static bool stream_has_pending(const struct quic_stream *s)
{
	if (s->write_shut || s->blocked)
		return false;
	return quic_sbuf_unsent(&s->sbuf) > 0 || (s->fin_wanted && !s->stats.fin_sent);
}

static void queue_remove(struct quic_conn_impl *im, struct quic_stream *s)
{
	if (!s->queued)
		return;
	if (s->prev_q)
		s->prev_q->next_q = s->next_q;
	else
		im->q_head = s->next_q;
	if (s->next_q)
		s->next_q->prev_q = s->prev_q;
	else
		im->q_tail = s->prev_q;
	s->next_q = s->prev_q = NULL;
	s->queued = false;
}

static void queue_add(struct quic_conn_impl *im, struct quic_stream *s)
{
	if (s->queued || !stream_has_pending(s))
		return;
	s->prev_q = im->q_tail;
	s->next_q = NULL;
	if (im->q_tail)
		im->q_tail->next_q = s;
	else
		im->q_head = s;
	im->q_tail = s;
	s->queued = true;
}

/* Streams waiting for room use next_free as their link while alive (it is only the
 * free-list link once released). */
static void waiters_remove(struct quic_conn_impl *im, struct quic_stream *s)
{
	if (!s->want_writable)
		return;
	for (struct quic_stream **pp = &im->w_head; *pp; pp = &(*pp)->next_free) {
		if (*pp == s) {
			*pp = s->next_free;
			break;
		}
	}
	s->next_free = NULL;
	s->want_writable = false;
}

static void waiters_add(struct quic_conn_impl *im, struct quic_stream *s)
{
	if (s->want_writable)
		return;
	s->want_writable = true;
	s->next_free = im->w_head;
	im->w_head = s;
}

/* After chunks were released: tell every waiting stream that can now write. */
static void waiters_wake(struct quic_conn *c)
{
	struct quic_conn_impl *im = c->impl;
	struct quic_stream **pp = &im->w_head;
	while (*pp) {
		struct quic_stream *s = *pp;
		if (!s->write_shut && !sbuf_has_room(&s->sbuf, &im->pool)) {
			pp = &s->next_free;
			continue;
		}
		*pp = s->next_free;
		s->next_free = NULL;
		s->want_writable = false;
		if (!s->write_shut)
			emit_stream(c, QUIC_EV_STREAM_WRITABLE, s);
		pp = &im->w_head; /* the callback may have changed the list */
	}
}

/* Stream id map: open addressing with linear probing and backward-shift deletion (no
 * tombstones). It doubles when half full; streams alive are capped, so is it. */
static size_t smap_home(int64_t id, size_t n)
{
	return (size_t)(((uint64_t)id * 0x9e3779b97f4a7c15ull) >> 32) & (n - 1);
}

static int smap_put(struct quic_conn_impl *im, struct quic_stream *s)
{
	if (2 * (im->smap_len + 1) > im->smap_n) {
		size_t n = im->smap_n ? 2 * im->smap_n : 16;
		struct quic_stream **fresh = calloc(n, sizeof *fresh);
		if (!fresh)
			return -ENOMEM;
		for (size_t j = 0; j < im->smap_n; j++) {
			struct quic_stream *o = im->smap[j];
			if (!o)
				continue;
			size_t i = smap_home(o->id, n);
			while (fresh[i])
				i = (i + 1) & (n - 1);
			fresh[i] = o;
		}
		free(im->smap);
		im->smap = fresh;
		im->smap_n = n;
	}
	size_t i = smap_home(s->id, im->smap_n);
	while (im->smap[i])
		i = (i + 1) & (im->smap_n - 1);
	im->smap[i] = s;
	im->smap_len++;
	return 0;
}

static size_t smap_index(const struct quic_conn_impl *im, int64_t id)
{
	if (!im->smap_n)
		return SIZE_MAX;
	size_t mask = im->smap_n - 1;
	for (size_t i = smap_home(id, im->smap_n);; i = (i + 1) & mask) {
		if (!im->smap[i])
			return SIZE_MAX;
		if (im->smap[i]->id == id)
			return i;
	}
}

static void smap_del(struct quic_conn_impl *im, int64_t id)
{
	size_t i = smap_index(im, id);
	if (i == SIZE_MAX)
		return;
	size_t mask = im->smap_n - 1;
	im->smap[i] = NULL;
	im->smap_len--;
	/* Pull later entries of the same run back so no lookup stops short. */
	for (size_t j = (i + 1) & mask; im->smap[j]; j = (j + 1) & mask) {
		size_t k = smap_home(im->smap[j]->id, im->smap_n);
		bool movable = i <= j ? (k <= i || k > j) : (k <= i && k > j);
		if (movable) {
			im->smap[i] = im->smap[j];
			im->smap[j] = NULL;
			i = j;
		}
	}
}

struct quic_stream *quic_stream_find(struct quic_conn *c, int64_t id)
{
	if (!c->impl)
		return NULL;
	size_t i = smap_index(c->impl, id);
	return i == SIZE_MAX ? NULL : c->impl->smap[i];
}

static struct quic_stream *stream_alloc(struct quic_conn *c, int64_t id)
{
	struct quic_conn_impl *im = c->impl;
	struct quic_stream *s = im->free_streams;
	if (s) {
		im->free_streams = s->next_free;
		im->nfree_streams--;
	} else {
		if (im->nstreams_alive >= im->params.max_streams_alive)
			return NULL;
		s = malloc(sizeof *s);
		if (!s)
			return NULL;
	}
	memset(s, 0, sizeof *s);
	s->id = id;
	s->conn = c;
	s->credit = im->params.credit;
	quic_sbuf_init(&s->sbuf, im->params.stream_sndbuf);
	s->next_all = im->all_head;
	if (im->all_head)
		im->all_head->prev_all = s;
	im->all_head = s;
	im->nstreams_alive++;
	return s;
}

static void stream_release(struct quic_conn *c, struct quic_stream *s)
{
	struct quic_conn_impl *im = c->impl;
	if (s->id >= 0)
		smap_del(im, s->id);
	queue_remove(im, s);
	waiters_remove(im, s);
	quic_sbuf_free(&s->sbuf, &im->pool);
	if (s->prev_all)
		s->prev_all->next_all = s->next_all;
	else
		im->all_head = s->next_all;
	if (s->next_all)
		s->next_all->prev_all = s->prev_all;
	im->nstreams_alive--;
	if (im->nfree_streams < MAX_FREE_STREAMS) {
		s->next_free = im->free_streams;
		im->free_streams = s;
		im->nfree_streams++;
	} else {
		free(s);
	}
}

/* The struct for a stream the peer opened, made on its first callback. */
static struct quic_stream *stream_adopt(struct quic_conn *c, int64_t id)
{
	struct quic_stream *s = stream_alloc(c, id);
	if (!s)
		return NULL;
	if (smap_put(c->impl, s) != 0) {
		s->id = -1;
		stream_release(c, s);
		return NULL;
	}
	s->opened_by_peer = true;
	ngtcp2_conn_set_stream_user_data(c->impl->conn, id, s);
	c->stats.streams_opened_peer++;
	emit_stream(c, QUIC_EV_STREAM_OPEN, s);
	return s;
}

static struct quic_stream *stream_of(struct quic_conn *c, int64_t id, void *stream_user_data)
{
	if (stream_user_data)
		return stream_user_data;
	if (ngtcp2_conn_is_local_stream(c->impl->conn, id))
		return NULL; /* ours, already released */
	return stream_adopt(c, id);
}

/* A callback for a stream we have no struct for: one of ours we let go (ignore it),
 * or a peer's beyond max_streams_alive (a configuration below the transport limits:
 * the connection fails). */
static int unknown_stream(struct quic_conn *c, int64_t id)
{
	if (ngtcp2_conn_is_local_stream(c->impl->conn, id))
		return 0;
	return NGTCP2_ERR_CALLBACK_FAILURE;
}

/* ---------------------------------------------------------------- ngtcp2 callbacks */

static ngtcp2_conn *get_conn(ngtcp2_crypto_conn_ref *ref)
{
	struct quic_conn *c = ref->user_data;
	return c->impl->conn;
}

static void cb_rand(uint8_t *dest, size_t len, const ngtcp2_rand_ctx *ctx)
{
	(void)ctx;
	(void)gnutls_rnd(GNUTLS_RND_NONCE, dest, len);
}

static int cb_get_new_cid(ngtcp2_conn *conn, ngtcp2_cid *cid, uint8_t *token, size_t cidlen,
			  void *user)
{
	(void)conn;
	struct quic_conn *c = user;
	if (gnutls_rnd(GNUTLS_RND_RANDOM, cid->data, cidlen) != 0)
		return NGTCP2_ERR_CALLBACK_FAILURE;
	cid->datalen = cidlen;
	if (ngtcp2_crypto_generate_stateless_reset_token(token, c->impl->secret, QUIC_SECRET_LEN,
							 cid) != 0)
		return NGTCP2_ERR_CALLBACK_FAILURE;
	struct quic_event ev = {.type = QUIC_EV_CID_NEW, .cid = cid->data, .cidlen = cidlen};
	emit(c, &ev);
	return 0;
}

static int cb_remove_cid(ngtcp2_conn *conn, const ngtcp2_cid *cid, void *user)
{
	(void)conn;
	struct quic_event ev = {.type = QUIC_EV_CID_RETIRED, .cid = cid->data, .cidlen = cid->datalen};
	emit(user, &ev);
	return 0;
}

static int cb_handshake_completed(ngtcp2_conn *conn, void *user)
{
	(void)conn;
	struct quic_conn *c = user;
	gnutls_datum_t p;
	if (gnutls_alpn_get_selected_protocol(c->impl->tls, &p) == 0 && p.size < sizeof c->alpn) {
		memcpy(c->alpn, p.data, p.size);
		c->alpn[p.size] = '\0';
	}
	if (c->state == QUIC_ST_HANDSHAKE)
		c->state = QUIC_ST_OPEN;
	struct quic_event ev = {.type = QUIC_EV_HANDSHAKE_DONE};
	emit(c, &ev);
	return 0;
}

static int cb_recv_stream_data(ngtcp2_conn *conn, uint32_t flags, int64_t id, uint64_t offset,
			       const uint8_t *data, size_t len, void *user, void *suser)
{
	struct quic_conn *c = user;
	struct quic_stream *s = stream_of(c, id, suser);
	if (!s)
		return unknown_stream(c, id);
	s->stats.bytes_received += len;
	c->stats.stream_bytes_received += len;
	if (len) {
		struct quic_event ev = {.type = QUIC_EV_STREAM_DATA, .stream = s, .data = data,
					.len = len, .offset = offset};
		emit(c, &ev);
	}
	if (flags & NGTCP2_STREAM_DATA_FLAG_FIN) {
		s->stats.fin_received = true;
		s->stats.final_size = offset + len;
		struct quic_event ev = {.type = QUIC_EV_STREAM_FIN, .stream = s,
					.offset = offset + len, .fin = true};
		emit(c, &ev);
	}
	/* Credit after the callback: the application saw the data first. */
	switch (s->credit) {
	case QUIC_CREDIT_AUTO:
		ngtcp2_conn_extend_max_stream_offset(conn, id, len);
		ngtcp2_conn_extend_max_offset(conn, len);
		s->stats.bytes_consumed += len;
		break;
	case QUIC_CREDIT_NONE:
		ngtcp2_conn_extend_max_offset(conn, len);
		break;
	case QUIC_CREDIT_MANUAL:
		break;
	}
	return 0;
}

static int cb_stream_open(ngtcp2_conn *conn, int64_t id, void *user)
{
	(void)conn;
	return stream_adopt(user, id) ? 0 : NGTCP2_ERR_CALLBACK_FAILURE;
}

static int cb_acked_stream_data(ngtcp2_conn *conn, int64_t id, uint64_t offset, uint64_t len,
				void *user, void *suser)
{
	(void)conn;
	(void)id;
	struct quic_conn *c = user;
	struct quic_stream *s = suser;
	if (!s)
		return 0;
	if (len == 0)
		s->zero_ack_seen = true; /* only a FIN-only frame is acknowledged with no bytes */
	uint64_t acked = offset + len;
	quic_sbuf_ack(&s->sbuf, &c->impl->pool, acked);
	if (acked > s->stats.bytes_acked) {
		c->stats.stream_bytes_acked += acked - s->stats.bytes_acked;
		s->stats.bytes_acked = acked;
	}
	bool fin_now = false;
	if (s->stats.fin_sent && !s->stats.fin_acked && acked == s->sbuf.written &&
	    (s->fin_with_data || s->zero_ack_seen)) {
		s->stats.fin_acked = true;
		fin_now = true;
	}
	struct quic_event ev = {.type = QUIC_EV_STREAM_ACKED, .stream = s, .len = (size_t)len,
				.offset = s->stats.bytes_acked, .fin = fin_now};
	emit(c, &ev);
	if (c->impl->w_head)
		waiters_wake(c);
	return 0;
}

static int cb_stream_close(ngtcp2_conn *conn, uint32_t flags, int64_t id, uint64_t code,
			   void *user, void *suser)
{
	struct quic_conn *c = user;
	struct quic_stream *s = suser;
	/* Remote streams count against the limit we gave: give one back so the limit
	 * bounds concurrency, not the connection's lifetime total. */
	if (!ngtcp2_conn_is_local_stream(conn, id)) {
		if (ngtcp2_is_bidi_stream(id))
			ngtcp2_conn_extend_max_streams_bidi(conn, 1);
		else
			ngtcp2_conn_extend_max_streams_uni(conn, 1);
	}
	if (!s)
		return 0;
	bool has_code = flags & NGTCP2_STREAM_CLOSE_FLAG_APP_ERROR_CODE_SET;
	/* A clean close of a stream we finished means the FIN was acknowledged. */
	if (!has_code && s->stats.fin_sent)
		s->stats.fin_acked = true;
	if (has_code && s->stats.stop_sending_received && !s->stats.reset_sent) {
		/* ngtcp2 answered the peer's STOP_SENDING with RESET_STREAM, same code. */
		s->stats.reset_sent = true;
		s->stats.reset_code_sent = code;
		s->stats.stop_sending_code_received = code;
	}
	struct quic_event ev = {.type = QUIC_EV_STREAM_CLOSED, .stream = s, .code = code,
				.has_code = has_code};
	emit(c, &ev);
	stream_release(c, s);
	return 0;
}

static int cb_stream_reset(ngtcp2_conn *conn, int64_t id, uint64_t final_size, uint64_t code,
			   void *user, void *suser)
{
	(void)conn;
	struct quic_conn *c = user;
	struct quic_stream *s = stream_of(c, id, suser);
	if (!s)
		return unknown_stream(c, id);
	s->stats.reset_received = true;
	s->stats.reset_code_received = code;
	s->stats.final_size = final_size;
	c->stats.resets_received++;
	struct quic_event ev = {.type = QUIC_EV_STREAM_RESET, .stream = s, .code = code,
				.has_code = true, .offset = final_size};
	emit(c, &ev);
	return 0;
}

static int cb_extend_max_stream_data(ngtcp2_conn *conn, int64_t id, uint64_t max_data,
				     void *user, void *suser)
{
	(void)conn;
	(void)id;
	(void)max_data;
	struct quic_conn *c = user;
	struct quic_stream *s = suser;
	if (s && s->blocked) {
		s->blocked = false;
		queue_add(c->impl, s);
	}
	return 0;
}

static int cb_extend_max_local_streams(ngtcp2_conn *conn, uint64_t max_streams, void *user)
{
	(void)conn;
	struct quic_event ev = {.type = QUIC_EV_STREAMS_AVAILABLE, .offset = max_streams};
	emit(user, &ev);
	return 0;
}

static int cb_recv_stateless_reset(ngtcp2_conn *conn, const ngtcp2_pkt_stateless_reset *sr,
				   void *user)
{
	(void)conn;
	(void)sr;
	struct quic_conn *c = user;
	c->impl->stateless_reset = true;
	return 0;
}

static void log_printf(void *user, const char *fmt, ...)
{
	struct quic_conn *c = user;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(c->impl->log, fmt, ap);
	va_end(ap);
	fputc('\n', c->impl->log);
}

static void callbacks_init(ngtcp2_callbacks *cb, bool server)
{
	memset(cb, 0, sizeof *cb);
	if (server) {
		cb->recv_client_initial = ngtcp2_crypto_recv_client_initial_cb;
	} else {
		cb->client_initial = ngtcp2_crypto_client_initial_cb;
		cb->recv_retry = ngtcp2_crypto_recv_retry_cb;
	}
	cb->recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb;
	cb->handshake_completed = cb_handshake_completed;
	cb->encrypt = ngtcp2_crypto_encrypt_cb;
	cb->decrypt = ngtcp2_crypto_decrypt_cb;
	cb->hp_mask = ngtcp2_crypto_hp_mask_cb;
	cb->recv_stream_data = cb_recv_stream_data;
	cb->acked_stream_data_offset = cb_acked_stream_data;
	cb->stream_open = cb_stream_open;
	cb->stream_close = cb_stream_close;
	cb->recv_stateless_reset = cb_recv_stateless_reset;
	cb->extend_max_local_streams_bidi = cb_extend_max_local_streams;
	cb->extend_max_local_streams_uni = cb_extend_max_local_streams;
	cb->rand = cb_rand;
	cb->get_new_connection_id = cb_get_new_cid;
	cb->remove_connection_id = cb_remove_cid;
	cb->update_key = ngtcp2_crypto_update_key_cb;
	cb->stream_reset = cb_stream_reset;
	cb->extend_max_stream_data = cb_extend_max_stream_data;
	cb->delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb;
	cb->delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb;
	cb->get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb;
	cb->version_negotiation = ngtcp2_crypto_version_negotiation_cb;
}

/* ---------------------------------------------------------------- TLS */

static int keylog_open(struct quic_keylog *kl, const char *path, const char **why)
{
	memset(kl, 0, sizeof *kl);
	if (!path)
		return 0;
	kl->file = fopen(path, "a");
	if (!kl->file) {
		if (why)
			*why = "cannot open the key log file";
		return -EINVAL;
	}
	pthread_mutex_init(&kl->lock, NULL);
	kl->lock_ready = true;
	return 0;
}

static void keylog_close(struct quic_keylog *kl)
{
	if (kl->file)
		fclose(kl->file);
	if (kl->lock_ready)
		pthread_mutex_destroy(&kl->lock);
	memset(kl, 0, sizeof *kl);
}

static struct quic_conn *conn_of_session(gnutls_session_t s)
{
	ngtcp2_crypto_conn_ref *ref = gnutls_session_get_ptr(s);
	return ref->user_data;
}

static struct quic_keylog *keylog_of(struct quic_conn *c)
{
	struct quic_conn_impl *im = c->impl;
	return im->cctx ? &im->cctx->keylog : &im->sctx->keylog;
}

static void hex(char *out, const uint8_t *in, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

/* One NSS key log line per secret: "LABEL <client random> <secret>". */
static int keylog_cb(gnutls_session_t s, const char *label, const gnutls_datum_t *secret)
{
	struct quic_keylog *kl = keylog_of(conn_of_session(s));
	gnutls_datum_t crandom, srandom;
	gnutls_session_get_random(s, &crandom, &srandom);
	if (!kl->file || crandom.size != 32 || secret->size > 64)
		return 0;
	char rnd[65], sec[129];
	hex(rnd, crandom.data, 32);
	hex(sec, secret->data, secret->size);
	pthread_mutex_lock(&kl->lock);
	fprintf(kl->file, "%s %s %s\n", label, rnd, sec);
	fflush(kl->file);
	pthread_mutex_unlock(&kl->lock);
	return 0;
}

/* Server: after the ClientHello is parsed, present the certificate for its SNI. */
static int post_client_hello(gnutls_session_t s)
{
	struct quic_server_ctx *sctx = conn_of_session(s)->impl->sctx;
	char name[256];
	size_t len = sizeof name;
	unsigned type = 0;
	const char *sni = NULL;
	if (gnutls_server_name_get(s, name, &len, &type, 0) == 0 && type == GNUTLS_NAME_DNS)
		sni = name;
	const struct quic_cred *cr = sctx->sni(sctx->sni_arg, sni);
	if (cr && gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cr->cred) != 0)
		return GNUTLS_E_INTERNAL_ERROR;
	return 0;
}

static int alpn_datums(gnutls_datum_t *d, const char *const *alpn, size_t n)
{
	if (n > QUIC_MAX_ALPN)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(alpn[i]);
		if (len == 0 || len > 31)
			return -EINVAL;
		d[i].data = (unsigned char *)alpn[i];
		d[i].size = (unsigned)len;
	}
	return 0;
}

static int tls_setup(struct quic_conn *c, const struct quic_conn_opts *o)
{
	struct quic_conn_impl *im = c->impl;
	unsigned flags = (c->server ? GNUTLS_SERVER | GNUTLS_NO_AUTO_SEND_TICKET : GNUTLS_CLIENT) |
			 GNUTLS_NO_END_OF_EARLY_DATA;
	if (gnutls_init(&im->tls, flags) != 0) {
		im->tls = NULL;
		set_detail(&c->close, "gnutls_init failed");
		return -ENOMEM;
	}
	int rv = gnutls_priority_set_direct(im->tls, tls_priority, NULL);
	if (rv == 0)
		rv = c->server ? ngtcp2_crypto_gnutls_configure_server_session(im->tls)
			       : ngtcp2_crypto_gnutls_configure_client_session(im->tls);
	if (rv != 0) {
		set_detail(&c->close, "TLS session setup failed");
		return -EPROTO;
	}
	im->conn_ref.get_conn = get_conn;
	im->conn_ref.user_data = c;
	gnutls_session_set_ptr(im->tls, &im->conn_ref);

	gnutls_datum_t alpn[QUIC_MAX_ALPN];
	if (c->server) {
		struct quic_server_ctx *sctx = im->sctx;
		const char *names[QUIC_MAX_ALPN];
		for (size_t i = 0; i < sctx->nalpn; i++)
			names[i] = sctx->alpn[i];
		alpn_datums(alpn, names, sctx->nalpn);
		rv = gnutls_credentials_set(im->tls, GNUTLS_CRD_CERTIFICATE, sctx->cred->cred);
		if (rv == 0 && sctx->nalpn)
			rv = gnutls_alpn_set_protocols(im->tls, alpn, (unsigned)sctx->nalpn,
						       GNUTLS_ALPN_MANDATORY |
							       GNUTLS_ALPN_SERVER_PRECEDENCE);
		if (sctx->sni)
			gnutls_handshake_set_post_client_hello_function(im->tls, post_client_hello);
	} else {
		struct quic_client_ctx *cctx = im->cctx;
		if (alpn_datums(alpn, o->alpn, o->nalpn) != 0) {
			set_detail(&c->close, "bad ALPN list");
			return -EINVAL;
		}
		rv = gnutls_credentials_set(im->tls, GNUTLS_CRD_CERTIFICATE, cctx->cred);
		if (rv == 0 && o->nalpn)
			rv = gnutls_alpn_set_protocols(im->tls, alpn, (unsigned)o->nalpn,
						       GNUTLS_ALPN_MANDATORY);
		if (rv == 0 && o->sni && !is_ip_literal(o->sni))
			rv = gnutls_server_name_set(im->tls, GNUTLS_NAME_DNS, o->sni, strlen(o->sni));
		if (rv == 0 && !cctx->insecure) {
			const char *host = o->verify_host ? o->verify_host : o->sni;
			if (host) {
				snprintf(im->verify_host, sizeof im->verify_host, "%s", host);
			} else {
				const struct sockaddr *sa = o->remote;
				const void *ip = sa->sa_family == AF_INET6
							 ? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
							 : (const void *)&((const struct sockaddr_in *)sa)->sin_addr;
				inet_ntop(sa->sa_family, ip, im->verify_host, sizeof im->verify_host);
			}
			/* GnuTLS 3.7 keeps this pointer for the session's life (it copies nothing):
			 * the name lives in the connection, not in the caller's memory. */
			gnutls_session_set_verify_cert(im->tls, im->verify_host, 0);
		}
	}
	if (rv != 0) {
		set_detail(&c->close, "TLS setup: %s", gnutls_strerror(rv));
		return -EPROTO;
	}
	if (keylog_of(c)->file)
		gnutls_session_set_keylog_function(im->tls, keylog_cb);
	return 0;
}

/* ---------------------------------------------------------------- contexts */

int quic_client_ctx_init(struct quic_client_ctx *ctx, const char *cafile, bool insecure,
			 const char *keylog_path, const char **why)
{
	memset(ctx, 0, sizeof *ctx);
	gnutls_certificate_credentials_t cred = NULL;
	int err = -ENOMEM;
	if (gnutls_certificate_allocate_credentials(&cred) != 0) {
		cred = NULL;
		if (why)
			*why = "out of memory";
		goto out;
	}
	err = -EINVAL;
	if (cafile) {
		if (gnutls_certificate_set_x509_trust_file(cred, cafile, GNUTLS_X509_FMT_PEM) <= 0) {
			if (why)
				*why = "no certificate could be read from the CA file";
			goto out;
		}
	} else if (!insecure && gnutls_certificate_set_x509_system_trust(cred) < 0) {
		if (why)
			*why = "the system trust store cannot be read";
		goto out;
	}
	if (gnutls_rnd(GNUTLS_RND_RANDOM, ctx->secret, sizeof ctx->secret) != 0) {
		if (why)
			*why = "no random bytes";
		goto out;
	}
	if (keylog_open(&ctx->keylog, keylog_path, why) != 0)
		goto out;
	ctx->insecure = insecure;
	ctx->cred = cred;
	cred = NULL;
	err = 0;
out:
	if (cred)
		gnutls_certificate_free_credentials(cred);
	return err;
}

void quic_client_ctx_free(struct quic_client_ctx *ctx)
{
	if (!ctx)
		return;
	if (ctx->cred)
		gnutls_certificate_free_credentials(ctx->cred);
	keylog_close(&ctx->keylog);
	memset(ctx, 0, sizeof *ctx);
}

static int cred_load(struct quic_cred *cr, const gnutls_datum_t *cert, const gnutls_datum_t *key,
		     const char *cert_path, const char *key_path, const char **why)
{
	memset(cr, 0, sizeof *cr);
	gnutls_certificate_credentials_t cred;
	if (gnutls_certificate_allocate_credentials(&cred) != 0) {
		if (why)
			*why = "out of memory";
		return -ENOMEM;
	}
	int rv = cert ? gnutls_certificate_set_x509_key_mem2(cred, cert, key, GNUTLS_X509_FMT_PEM,
							     NULL, 0)
		      : gnutls_certificate_set_x509_key_file2(cred, cert_path, key_path,
							      GNUTLS_X509_FMT_PEM, NULL, 0);
	if (rv < 0) {
		gnutls_certificate_free_credentials(cred);
		if (why)
			*why = "the certificate or key cannot be loaded";
		return -EINVAL;
	}
	cr->cred = cred;
	return 0;
}

int quic_cred_init_pem(struct quic_cred *cr, const char *cert_pem, size_t cert_len,
		       const char *key_pem, size_t key_len, const char **why)
{
	gnutls_datum_t cert = {(unsigned char *)cert_pem, (unsigned)cert_len};
	gnutls_datum_t key = {(unsigned char *)key_pem, (unsigned)key_len};
	return cred_load(cr, &cert, &key, NULL, NULL, why);
}

int quic_cred_init_files(struct quic_cred *cr, const char *cert_path, const char *key_path,
			 const char **why)
{
	return cred_load(cr, NULL, NULL, cert_path, key_path, why);
}

void quic_cred_free(struct quic_cred *cr)
{
	if (!cr)
		return;
	if (cr->cred)
		gnutls_certificate_free_credentials(cr->cred);
	cr->cred = NULL;
}

int quic_server_ctx_init(struct quic_server_ctx *ctx, const struct quic_cred *cred,
			 const char *const *alpn, size_t nalpn,
			 const uint8_t secret[QUIC_SECRET_LEN], const char *keylog_path,
			 const char **why)
{
	memset(ctx, 0, sizeof *ctx);
	gnutls_datum_t check[QUIC_MAX_ALPN];
	if (!cred || !cred->cred || alpn_datums(check, alpn, nalpn) != 0) {
		if (why)
			*why = !cred || !cred->cred ? "no certificate" : "bad ALPN list";
		return -EINVAL;
	}
	for (size_t i = 0; i < nalpn; i++)
		snprintf(ctx->alpn[i], sizeof ctx->alpn[i], "%s", alpn[i]);
	ctx->nalpn = nalpn;
	ctx->cred = cred;
	memcpy(ctx->secret, secret, QUIC_SECRET_LEN);
	return keylog_open(&ctx->keylog, keylog_path, why);
}

void quic_server_ctx_free(struct quic_server_ctx *ctx)
{
	if (!ctx)
		return;
	keylog_close(&ctx->keylog);
	memset(ctx, 0, sizeof *ctx);
}

/* ---------------------------------------------------------------- connections */

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
		set_detail(&c->close, "addresses missing or too long");
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
	err = tls_setup(c, opts);
	if (err)
		return err;

	ngtcp2_cid dcid, scid;
	dcid.datalen = QUIC_CID_LEN;
	scid.datalen = QUIC_CID_LEN;
	if (gnutls_rnd(GNUTLS_RND_RANDOM, dcid.data, dcid.datalen) != 0 ||
	    gnutls_rnd(GNUTLS_RND_RANDOM, scid.data, scid.datalen) != 0) {
		set_detail(&c->close, "no random bytes");
		return -EPROTO;
	}
	ngtcp2_callbacks cb;
	callbacks_init(&cb, false);
	ngtcp2_settings st;
	settings_init(&st, &im->params, opts->log, now_us);
	ngtcp2_transport_params tp;
	transport_params(&tp, &im->params);
	ngtcp2_path path = conn_path(im, opts->remote, opts->remote_len);
	if (ngtcp2_conn_client_new(&im->conn, &dcid, &scid, &path, NGTCP2_PROTO_VER_V1, &cb, &st,
				   &tp, NULL, c) != 0) {
		im->conn = NULL;
		set_detail(&c->close, "ngtcp2_conn_client_new failed");
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
		set_detail(&c->close, "not an Initial packet that can start a connection");
		return -EINVAL;
	}
	struct quic_conn_impl *im = c->impl;
	im->sctx = ctx;
	im->secret = ctx->secret;
	err = tls_setup(c, opts);
	if (err)
		return err;

	ngtcp2_cid scid;
	scid.datalen = QUIC_CID_LEN;
	if (gnutls_rnd(GNUTLS_RND_RANDOM, scid.data, scid.datalen) != 0) {
		set_detail(&c->close, "no random bytes");
		return -EPROTO;
	}
	ngtcp2_callbacks cb;
	callbacks_init(&cb, true);
	ngtcp2_settings st;
	settings_init(&st, &im->params, opts->log, now_us);
	ngtcp2_transport_params tp;
	transport_params(&tp, &im->params);
	/* 0.12: no original_dcid_present flag, the field is simply set. */
	tp.original_dcid = hd.dcid;
	tp.stateless_reset_token_present = 1;
	if (ngtcp2_crypto_generate_stateless_reset_token(tp.stateless_reset_token, im->secret,
							 QUIC_SECRET_LEN, &scid) != 0) {
		set_detail(&c->close, "stateless reset token");
		return -EPROTO;
	}
	ngtcp2_path path = conn_path(im, opts->remote, opts->remote_len);
	if (ngtcp2_conn_server_new(&im->conn, &hd.scid, &scid, &path, hd.version, &cb, &st, &tp,
				   NULL, c) != 0) {
		im->conn = NULL;
		set_detail(&c->close, "ngtcp2_conn_server_new failed");
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
	emit(c, &ev);
	/* The connection's end is the end of every stream still open: each gets its one
	 * STREAM_CLOSED (ngtcp2 calls no stream_close on the way out). Nothing is sent from
	 * here on but CONNECTION_CLOSE, so ngtcp2 no longer reads the send buffers. */
	while (im->all_head) {
		struct quic_stream *s = im->all_head;
		struct quic_event sev = {.type = QUIC_EV_STREAM_CLOSED, .stream = s,
					 .conn_closed = true};
		emit(c, &sev);
		stream_release(c, s);
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
			set_detail(&c->close, "TLS handshake failed (alert %s)", quic_alert_name(alert));
		}
		return;
	}
	ngtcp2_connection_close_error_set_transport_error_liberr(&im->ccerr, liberr, NULL, 0);
	bool internal = liberr == NGTCP2_ERR_NOMEM || liberr == NGTCP2_ERR_CALLBACK_FAILURE ||
			liberr == NGTCP2_ERR_INTERNAL;
	start_closing(c, internal ? QUIC_CLOSE_INTERNAL : QUIC_CLOSE_PROTOCOL);
	set_detail(&c->close, "%s", ngtcp2_strerror(liberr));
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
		set_detail(&c->close, "%s", ngtcp2_strerror(rv));
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
	queue_remove(c->impl, s);
	queue_add(c->impl, s);
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
		queue_remove(im, s);
		return 0;
	case NGTCP2_ERR_STREAM_SHUT_WR:
	case NGTCP2_ERR_STREAM_NOT_FOUND:
		queue_remove(im, s);
		if (!s->write_shut) {
			/* We did not reset it: the peer's STOP_SENDING did (ngtcp2 0.12 has no
			 * callback for that frame). */
			s->write_shut = true;
			s->stats.stop_sending_received = true;
			emit_stream(c, QUIC_EV_STREAM_STOPPED, s);
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
		set_detail(&c->close, "no packet for %llu ms",
			   (unsigned long long)(im->params.idle_timeout_us / 1000));
		set_closed(c, QUIC_CLOSE_IDLE);
		break;
	case NGTCP2_ERR_HANDSHAKE_TIMEOUT:
		set_detail(&c->close, "handshake not done in %llu ms",
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

/* ---------------------------------------------------------------- stream API */

int quic_stream_open(struct quic_conn *c, bool bidi, void *user, struct quic_stream **out)
{
	struct quic_conn_impl *im = c->impl;
	*out = NULL;
	if (!im || !im->conn || c->state >= QUIC_ST_CLOSING)
		return -ENOTCONN;
	struct quic_stream *s = stream_alloc(c, -1);
	if (!s)
		return -ENOSPC;
	int64_t id;
	int rv = bidi ? ngtcp2_conn_open_bidi_stream(im->conn, &id, s)
		      : ngtcp2_conn_open_uni_stream(im->conn, &id, s);
	if (rv != 0) {
		stream_release(c, s);
		return rv == NGTCP2_ERR_STREAM_ID_BLOCKED ? -EAGAIN : -ENOMEM;
	}
	s->id = id;
	if (smap_put(im, s) != 0) {
		/* ngtcp2 has the stream: reset it so it ends, and forget it. */
		ngtcp2_conn_shutdown_stream(im->conn, id, 0);
		ngtcp2_conn_set_stream_user_data(im->conn, id, NULL);
		s->id = -1;
		stream_release(c, s);
		return -ENOMEM;
	}
	s->user = user;
	c->stats.streams_opened_local++;
	*out = s;
	return 0;
}

static bool stream_writable_side(const struct quic_stream *s)
{
	return ngtcp2_is_bidi_stream(s->id) || !s->opened_by_peer;
}

long quic_stream_write(struct quic_conn *c, struct quic_stream *s, const void *data,
		       size_t len, bool fin)
{
	struct quic_conn_impl *im = c->impl;
	if (c->state >= QUIC_ST_CLOSING)
		return -ENOTCONN;
	if (s->write_shut || s->fin_wanted || !stream_writable_side(s))
		return -EPIPE;
	size_t n = len ? quic_sbuf_append(&s->sbuf, &im->pool, data, len) : 0;
	s->stats.bytes_written += n;
	if (n < len) {
		if (n == 0)
			c->stats.write_refused++;
		waiters_add(im, s);
	} else if (fin) {
		s->fin_wanted = true;
	}
	queue_add(im, s);
	return (long)n;
}

int quic_stream_finish(struct quic_conn *c, struct quic_stream *s)
{
	if (s->write_shut || !stream_writable_side(s))
		return -EPIPE;
	if (c->state >= QUIC_ST_CLOSING)
		return -ENOTCONN;
	s->fin_wanted = true;
	queue_add(c->impl, s);
	return 0;
}

void quic_stream_consume(struct quic_conn *c, struct quic_stream *s, size_t n)
{
	if (s->credit != QUIC_CREDIT_MANUAL || !n || !c->impl->conn)
		return;
	ngtcp2_conn_extend_max_stream_offset(c->impl->conn, s->id, n);
	ngtcp2_conn_extend_max_offset(c->impl->conn, n);
	s->stats.bytes_consumed += n;
}

void quic_stream_set_credit(struct quic_stream *s, enum quic_credit mode)
{
	s->credit = mode;
}

int quic_stream_shutdown_write(struct quic_conn *c, struct quic_stream *s, uint64_t code)
{
	if (s->write_shut || s->stats.fin_acked || !stream_writable_side(s))
		return -EPIPE;
	if (ngtcp2_conn_shutdown_stream_write(c->impl->conn, s->id, code) != 0)
		return -ENOMEM;
	s->write_shut = true;
	s->stats.reset_sent = true;
	s->stats.reset_code_sent = code;
	c->stats.resets_sent++;
	queue_remove(c->impl, s);
	waiters_remove(c->impl, s);
	return 0;
}

int quic_stream_shutdown_read(struct quic_conn *c, struct quic_stream *s, uint64_t code)
{
	if (s->stats.stop_sending_sent || s->stats.reset_received)
		return -EPIPE;
	if (!ngtcp2_is_bidi_stream(s->id) && !s->opened_by_peer)
		return -EPIPE; /* our own uni stream has no read side */
	if (ngtcp2_conn_shutdown_stream_read(c->impl->conn, s->id, code) != 0)
		return -ENOMEM;
	s->stats.stop_sending_sent = true;
	s->stats.stop_sending_code_sent = code;
	return 0;
}

/* ---------------------------------------------------------------- routing */

int quic_pkt_ids(const uint8_t *pkt, size_t len, struct quic_pkt_ids *ids)
{
	ngtcp2_version_cid vc;
	memset(ids, 0, sizeof *ids);
	if (len == 0)
		return -EINVAL; /* ngtcp2 asserts on an empty datagram */
	int rv = ngtcp2_pkt_decode_version_cid(&vc, pkt, len, QUIC_CID_LEN);
	if (rv != 0 && rv != NGTCP2_ERR_VERSION_NEGOTIATION)
		return -EINVAL;
	if (vc.dcidlen > QUIC_MAX_CIDLEN || vc.scidlen > QUIC_MAX_CIDLEN)
		return -EINVAL;
	ids->version = vc.version;
	ids->long_header = (pkt[0] & 0x80) != 0;
	ids->dcidlen = vc.dcidlen;
	ids->scidlen = vc.scidlen;
	if (vc.dcidlen)
		memcpy(ids->dcid, vc.dcid, vc.dcidlen);
	if (vc.scidlen)
		memcpy(ids->scid, vc.scid, vc.scidlen);
	return rv == NGTCP2_ERR_VERSION_NEGOTIATION ? 1 : 0;
}

long quic_write_version_negotiation(uint8_t *buf, size_t cap, const struct quic_pkt_ids *ids)
{
	uint32_t versions[] = {NGTCP2_PROTO_VER_V1};
	uint8_t rnd;
	(void)gnutls_rnd(GNUTLS_RND_NONCE, &rnd, 1);
	ngtcp2_ssize n = ngtcp2_pkt_write_version_negotiation(
		buf, cap, rnd, ids->scid, ids->scidlen, ids->dcid, ids->dcidlen, versions, 1);
	return n < 0 ? -ENOSPC : (long)n;
}

#define SLOT_DELETED 0xff

static uint64_t cid_hash(const struct quic_cidmap *m, const uint8_t *cid, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull ^ m->seed; /* FNV-1a, seeded per map */
	for (size_t i = 0; i < len; i++) {
		h ^= cid[i];
		h *= 0x100000001b3ull;
	}
	return h ^ (h >> 29);
}

int quic_cidmap_init(struct quic_cidmap *m, size_t max_entries)
{
	memset(m, 0, sizeof *m);
	size_t n = 16;
	while (n < 2 * max_entries)
		n *= 2;
	m->slots = calloc(n, sizeof *m->slots);
	if (!m->slots)
		return -ENOMEM;
	m->nslots = n;
	m->max_len = max_entries;
	(void)gnutls_rnd(GNUTLS_RND_NONCE, &m->seed, sizeof m->seed);
	return 0;
}

void quic_cidmap_free(struct quic_cidmap *m)
{
	if (!m)
		return;
	free(m->slots);
	memset(m, 0, sizeof *m);
}

static struct quic_cidmap_slot *cidmap_find(const struct quic_cidmap *m, const uint8_t *cid,
					    size_t len)
{
	size_t mask = m->nslots - 1;
	size_t i = (size_t)cid_hash(m, cid, len) & mask;
	for (size_t probes = 0; probes < m->nslots; probes++, i = (i + 1) & mask) {
		struct quic_cidmap_slot *sl = &m->slots[i];
		if (sl->len == 0)
			return NULL;
		if (sl->len == len && memcmp(sl->cid, cid, len) == 0)
			return sl;
	}
	return NULL;
}

/* Rebuilds the table in place when deleted slots crowd it (probes would lengthen). */
static void cidmap_rehash(struct quic_cidmap *m)
{
	struct quic_cidmap_slot *old = m->slots;
	struct quic_cidmap_slot *fresh = calloc(m->nslots, sizeof *fresh);
	if (!fresh)
		return;
	m->slots = fresh;
	m->used = 0;
	size_t mask = m->nslots - 1;
	for (size_t j = 0; j < m->nslots; j++) {
		if (old[j].len == 0 || old[j].len == SLOT_DELETED)
			continue;
		size_t i = (size_t)cid_hash(m, old[j].cid, old[j].len) & mask;
		while (fresh[i].len)
			i = (i + 1) & mask;
		fresh[i] = old[j];
		m->used++;
	}
	free(old);
}

int quic_cidmap_put(struct quic_cidmap *m, const uint8_t *cid, size_t len, void *value)
{
	if (len == 0 || len > QUIC_MAX_CIDLEN)
		return -EINVAL;
	struct quic_cidmap_slot *sl = cidmap_find(m, cid, len);
	if (sl) {
		sl->value = value;
		return 0;
	}
	if (m->len >= m->max_len)
		return -ENOSPC;
	if (m->used >= m->nslots * 3 / 4)
		cidmap_rehash(m);
	size_t mask = m->nslots - 1;
	size_t i = (size_t)cid_hash(m, cid, len) & mask;
	while (m->slots[i].len != 0 && m->slots[i].len != SLOT_DELETED)
		i = (i + 1) & mask;
	sl = &m->slots[i];
	if (sl->len == 0)
		m->used++;
	memcpy(sl->cid, cid, len);
	sl->len = (uint8_t)len;
	sl->value = value;
	m->len++;
	return 0;
}

void *quic_cidmap_get(const struct quic_cidmap *m, const uint8_t *cid, size_t len)
{
	if (len == 0 || len > QUIC_MAX_CIDLEN)
		return NULL;
	struct quic_cidmap_slot *sl = cidmap_find(m, cid, len);
	return sl ? sl->value : NULL;
}

void quic_cidmap_del(struct quic_cidmap *m, const uint8_t *cid, size_t len)
{
	if (len == 0 || len > QUIC_MAX_CIDLEN)
		return;
	struct quic_cidmap_slot *sl = cidmap_find(m, cid, len);
	if (!sl)
		return;
	sl->len = SLOT_DELETED;
	sl->value = NULL;
	m->len--;
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
