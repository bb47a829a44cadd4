/* quic_stream — lib/quic's streams (see quic.h, quic_impl.h): the send buffers ngtcp2
 * retransmits from, the stream structs (recycled, mapped by id, queued to send, waiting
 * for room), ngtcp2's callbacks, which turn into events, and the stream API. */
#include "lib/quic_impl.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>

#define MAX_FREE_STREAMS 64     /* recycled stream structs kept per connection */

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

/* ---------------------------------------------------------------- streams */

static bool stream_has_pending(const struct quic_stream *s)
{
	if (s->write_shut || s->blocked)
		return false;
	return quic_sbuf_unsent(&s->sbuf) > 0 || (s->fin_wanted && !s->stats.fin_sent);
}

void qs_queue_remove(struct quic_conn_impl *im, struct quic_stream *s)
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

void qs_queue_add(struct quic_conn_impl *im, struct quic_stream *s)
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
			quic_emit_stream(c, QUIC_EV_STREAM_WRITABLE, s);
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

void qs_release(struct quic_conn *c, struct quic_stream *s)
{
	struct quic_conn_impl *im = c->impl;
	if (s->id >= 0)
		smap_del(im, s->id);
	qs_queue_remove(im, s);
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
		qs_release(c, s);
		return NULL;
	}
	s->opened_by_peer = true;
	ngtcp2_conn_set_stream_user_data(c->impl->conn, id, s);
	c->stats.streams_opened_peer++;
	quic_emit_stream(c, QUIC_EV_STREAM_OPEN, s);
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
	quic_emit(c, &ev);
	return 0;
}

static int cb_remove_cid(ngtcp2_conn *conn, const ngtcp2_cid *cid, void *user)
{
	(void)conn;
	struct quic_event ev = {.type = QUIC_EV_CID_RETIRED, .cid = cid->data, .cidlen = cid->datalen};
	quic_emit(user, &ev);
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
	quic_emit(c, &ev);
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
		quic_emit(c, &ev);
	}
	if (flags & NGTCP2_STREAM_DATA_FLAG_FIN) {
		s->stats.fin_received = true;
		s->stats.final_size = offset + len;
		struct quic_event ev = {.type = QUIC_EV_STREAM_FIN, .stream = s,
					.offset = offset + len, .fin = true};
		quic_emit(c, &ev);
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
	quic_emit(c, &ev);
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
	quic_emit(c, &ev);
	qs_release(c, s);
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
	quic_emit(c, &ev);
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
		qs_queue_add(c->impl, s);
	}
	return 0;
}

static int cb_extend_max_local_streams(ngtcp2_conn *conn, uint64_t max_streams, void *user)
{
	(void)conn;
	struct quic_event ev = {.type = QUIC_EV_STREAMS_AVAILABLE, .offset = max_streams};
	quic_emit(user, &ev);
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

void quic_callbacks_init(ngtcp2_callbacks *cb, bool server)
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
		qs_release(c, s);
		return rv == NGTCP2_ERR_STREAM_ID_BLOCKED ? -EAGAIN : -ENOMEM;
	}
	s->id = id;
	if (smap_put(im, s) != 0) {
		/* ngtcp2 has the stream: reset it so it ends, and forget it. */
		ngtcp2_conn_shutdown_stream(im->conn, id, 0);
		ngtcp2_conn_set_stream_user_data(im->conn, id, NULL);
		s->id = -1;
		qs_release(c, s);
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
	qs_queue_add(im, s);
	return (long)n;
}

int quic_stream_finish(struct quic_conn *c, struct quic_stream *s)
{
	if (s->write_shut || !stream_writable_side(s))
		return -EPIPE;
	if (c->state >= QUIC_ST_CLOSING)
		return -ENOTCONN;
	s->fin_wanted = true;
	qs_queue_add(c->impl, s);
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
	qs_queue_remove(c->impl, s);
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
