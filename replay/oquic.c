/* oquic — see oquic.h. */
#include "replay/oquic.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "lib/hex.h"
#include "replay/ostream.h"

#define SOCK_BUF_BYTES (4 << 20) /* UDP socket buffers: a burst of a fast connection */
#define MAX_CIDS 8               /* connection IDs routing to one connection (4 + spares) */

static void conn_free(struct oqconn *qc);

/* ---- shared: certificates and secrets ---- */

/* A leaf for the name a client sent in SNI, made on first use (lib/tlsserv), so any
 * name is served under its own certificate from the origin's CA. */
static const struct quic_cred *on_sni(void *arg, const char *name)
{
	struct oquic_shared *qs = arg;
	if (!name || !*name || strlen(name) >= sizeof qs->leaves[0].name)
		return NULL;
	const struct quic_cred *found = NULL;
	pthread_mutex_lock(&qs->lock);
	for (size_t i = 0; i < qs->nleaves && !found; i++)
		if (strcasecmp(qs->leaves[i].name, name) == 0)
			found = &qs->leaves[i].cred;
	if (!found && qs->nleaves < TLSSERV_MAX_NAMES) {
		char *cert = NULL, *key = NULL;
		size_t cl = 0, kl = 0;
		const char *why;
		struct oquic_leaf *leaf = &qs->leaves[qs->nleaves];
		if (tlsserv_leaf_pem(qs->tls, name, &cert, &cl, &key, &kl) == 0 &&
		    quic_cred_init_pem(&leaf->cred, cert, cl, key, kl, &why) == 0) {
			snprintf(leaf->name, sizeof leaf->name, "%s", name);
			found = &leaf->cred;
			qs->nleaves++;
		}
		free(cert);
		free(key);
	}
	pthread_mutex_unlock(&qs->lock);
	return found; /* NULL: not a host name, or the cache is full: the default */
}

int oquic_shared_init(struct origin_shared *sh, const char **why)
{
	if (sh->cfg->nquic == 0)
		return 0;
	struct oquic_shared *qs = calloc(1, sizeof *qs);
	if (!qs) {
		*why = "out of memory";
		return -ENOMEM;
	}
	sh->quic = qs;
	pthread_mutex_init(&qs->lock, NULL);
	qs->tls = &sh->tls;
	qs->max_udp_payload = sh->cfg->quic_max_udp_payload ? sh->cfg->quic_max_udp_payload : QUIC_MAX_PAYLOAD;
	if (getrandom(qs->secret, sizeof qs->secret, 0) != (ssize_t)sizeof qs->secret) {
		*why = "no random bytes for the QUIC secrets";
		return -EIO;
	}
	char *cert = NULL, *key = NULL;
	size_t cl = 0, kl = 0;
	int rc = tlsserv_leaf_pem(qs->tls, NULL, &cert, &cl, &key, &kl);
	if (rc == 0)
		rc = quic_cred_init_pem(&qs->dflt, cert, cl, key, kl, why);
	else
		*why = "cannot make the QUIC certificate";
	free(cert);
	free(key);
	if (rc < 0)
		return rc;
	qs->dflt_ready = true;
	static const char *const alpn[] = {"h3"};
	rc = quic_server_ctx_init(&qs->ctx, &qs->dflt, alpn, 1, qs->secret, NULL, why);
	if (rc < 0)
		return rc;
	qs->ctx.sni = on_sni;
	qs->ctx.sni_arg = qs;
	qs->ctx_ready = true;
	return 0;
}

void oquic_shared_free(struct origin_shared *sh)
{
	struct oquic_shared *qs = sh->quic;
	if (!qs)
		return;
	if (qs->ctx_ready)
		quic_server_ctx_free(&qs->ctx);
	for (size_t i = 0; i < qs->nleaves; i++)
		quic_cred_free(&qs->leaves[i].cred);
	if (qs->dflt_ready)
		quic_cred_free(&qs->dflt);
	pthread_mutex_destroy(&qs->lock);
	free(qs);
	sh->quic = NULL;
}

/* ---- the connection's ledger line ---- */

/* How the connection ended, in the words TCP lines use for theirs. */
static const char *conn_end(const struct quic_close *cl)
{
	switch (cl->reason) {
	case QUIC_CLOSE_PEER:
		return cl->code == 0 || (cl->app && cl->code == H3_NO_ERROR) ? "fin" : "rst";
	case QUIC_CLOSE_IDLE:
	case QUIC_CLOSE_HANDSHAKE_TIMEOUT:
		return "timeout";
	case QUIC_CLOSE_TLS:
		return "tls_error";
	case QUIC_CLOSE_PROTOCOL:
		return "protocol_error";
	case QUIC_CLOSE_STATELESS_RESET:
		return "rst";
	default:
		return "local";
	}
}

static json_t *close_json(const struct quic_close *cl)
{
	const char *name = cl->reason == QUIC_CLOSE_NONE ? NULL
			   : cl->app ? h3_error_name(cl->code) : quic_transport_error_name(cl->code);
	json_t *o = json_object();
	json_object_set_new(o, "reason", json_string(quic_close_reason_name(cl->reason)));
	json_object_set_new(o, "by_peer", json_boolean(cl->by_peer));
	json_object_set_new(o, "app", json_boolean(cl->app));
	json_object_set_new(o, "code", json_integer((json_int_t)cl->code));
	json_object_set_new(o, "name", name ? json_string(name) : json_null());
	json_object_set_new(o, "tls_alert",
			    cl->reason == QUIC_CLOSE_TLS ? json_string(quic_alert_name(cl->tls_alert)) : json_null());
	json_object_set_new(o, "detail", json_string(cl->detail));
	return o;
}

static void conn_ledger(const struct oqconn *qc)
{
	struct origin_shared *sh = qc->q->w->sh;
	if (!ledger_is_open(&sh->ledger))
		return;
	const struct quic_conn_stats *cs = &qc->quic.stats;
	struct quic_path_info pi;
	quic_conn_path_info(&qc->quic, &pi);
	json_t *o = json_object();
	json_object_set_new(o, "id", json_null());
	json_object_set_new(o, "proto", json_string("h3"));
	json_object_set_new(o, "peer", json_string(qc->peer));
	json_object_set_new(o, "local", json_string(qc->local));
	json_object_set_new(o, "conn", json_integer((json_int_t)qc->serial));
	json_object_set_new(o, "stream", json_null());
	json_object_set_new(o, "server_cid", json_string(qc->server_cid));
	json_object_set_new(o, "client_cid", json_string(qc->client_cid));
	json_object_set_new(o, "original_dcid", json_string(qc->original_dcid));
	json_object_set_new(o, "tls", json_true());
	json_object_set_new(o, "alpn", qc->quic.alpn[0] ? json_string(qc->quic.alpn) : json_null());
	json_object_set_new(o, "requests", json_integer(qc->nreq));
	json_object_set_new(o, "bytes_received", json_integer((json_int_t)cs->stream_bytes_received));
	json_object_set_new(o, "bytes_written", json_integer((json_int_t)cs->stream_bytes_sent));
	json_object_set_new(o, "bytes_acked_at_close", json_integer((json_int_t)cs->stream_bytes_acked));
	json_object_set_new(o, "conn_bytes_written", json_integer((json_int_t)cs->stream_bytes_sent));
	json_object_set_new(o, "end", json_string(conn_end(&qc->quic.close)));
	json_t *qo = json_object();
	json_object_set_new(qo, "datagrams_sent", json_integer((json_int_t)cs->datagrams_sent));
	json_object_set_new(qo, "datagrams_received", json_integer((json_int_t)cs->datagrams_received));
	json_object_set_new(qo, "udp_bytes_sent", json_integer((json_int_t)cs->bytes_sent));
	json_object_set_new(qo, "udp_bytes_received", json_integer((json_int_t)cs->bytes_received));
	json_object_set_new(qo, "streams_opened_peer", json_integer(cs->streams_opened_peer));
	json_object_set_new(qo, "resets_sent", json_integer(cs->resets_sent));
	json_object_set_new(qo, "resets_received", json_integer(cs->resets_received));
	json_object_set_new(qo, "credit_stalls", json_integer(cs->credit_stalls));
	json_object_set_new(qo, "conn_credit_stalls", json_integer(cs->conn_credit_stalls));
	json_object_set_new(qo, "srtt_ms", json_real((double)pi.srtt_us / 1000.0));
	json_object_set_new(qo, "close", close_json(&qc->quic.close));
	json_object_set_new(o, "quic_conn", qo);
	const char *fault = origin_fault_name(sh->cfg->fault);
	json_object_set_new(o, "fault", fault ? json_string(fault) : json_null());
	json_object_set_new(o, "t", json_real(qc->t_wall));
	json_object_set_new(o, "duration_ms",
			    json_real((double)(loop_now(&qc->q->w->loop) - qc->t0_us) / 1000.0));
	ledger_write(&sh->ledger, o);
}

/* ---- sending ---- */

static void sock_watch(struct oquic_sock *sk, bool write)
{
	loop_io_start(&sk->q->w->loop, &sk->io, sk->udp.fd, LOOP_READ | (write ? LOOP_WRITE : 0),
		      sk->io.cb, sk);
}

/* Sends one batch from the socket's send area. Returns 0, or -EAGAIN when the socket
 * took none or only part of it: the rest waits in sk->pending for LOOP_WRITE. Other
 * send errors lose the batch, as a network would: QUIC's loss recovery resends. */
static int send_batch(struct oquic_sock *sk, const struct quic_tx *tx)
{
	struct net_dgram d = {.buf = tx->buf, .len = tx->len,
			      .segment = (uint16_t)(tx->count > 1 ? tx->seg : 0)};
	memcpy(&d.addr.ss, &tx->to, tx->tolen);
	d.addr.len = tx->tolen;
	int n = net_udp_send(&sk->udp, &d, 1);
	if (n == 1 || (n < 0 && n != -EAGAIN))
		return 0;
	sk->pending = d; /* net_udp_send advanced it past what went out */
	sock_watch(sk, true);
	return -EAGAIN;
}

static void wait_for_room(struct oqconn *qc)
{
	if (qc->waiting)
		return;
	qc->waiting = true;
	qc->next_wait = qc->sock->wait_head;
	qc->sock->wait_head = qc;
}

static void arm_timer(struct oqconn *qc)
{
	struct loop *loop = &qc->q->w->loop;
	uint64_t due = quic_conn_expiry(&qc->quic);
	if (due == UINT64_MAX)
		loop_timer_stop(loop, &qc->timer);
	else
		loop_timer_start_at(loop, &qc->timer, due);
}

void oquic_conn_flush(struct oqconn *qc)
{
	struct oquic_sock *sk = qc->sock;
	struct loop *loop = &qc->q->w->loop;
	bool stopping = qc->q->stopping;
	if (qc->quic.state == QUIC_ST_CLOSED) {
		conn_free(qc);
		return;
	}
	if (sk->pending.len) {
		wait_for_room(qc); /* the send area holds another batch */
		arm_timer(qc);
		return;
	}
	struct quic_tx tx = {.buf = sk->tx, .cap = sk->tx_cap};
	int rounds = 0;
	for (; rounds < OQUIC_FLUSH_ROUNDS; rounds++) {
		if (quic_conn_write(&qc->quic, loop_now(loop), &tx) <= 0)
			break;
		if (send_batch(sk, &tx) < 0) {
			wait_for_room(qc);
			break;
		}
	}
	/* In shutdown a connection is done once its CONNECTION_CLOSE went out: no need to
	 * wait out the closing period for a client's stray packets. */
	if (qc->quic.state == QUIC_ST_CLOSED ||
	    (stopping && qc->quic.state >= QUIC_ST_CLOSING && !qc->waiting)) {
		conn_free(qc);
		return;
	}
	if (rounds == OQUIC_FLUSH_ROUNDS)
		loop_timer_start_at(loop, &qc->timer, loop_now(loop)); /* more after others' turn */
	else
		arm_timer(qc);
}

/* The socket takes datagrams again: its refused batch, then the waiting connections. */
static void sock_writable(struct oquic_sock *sk)
{
	if (sk->pending.len) {
		int n = net_udp_send(&sk->udp, &sk->pending, 1);
		if (n == 0 || n == -EAGAIN)
			return;
		sk->pending.len = 0;
	}
	sock_watch(sk, false);
	/* Bounded: each connection leaves the list once, or the socket fills again. */
	while (sk->wait_head && !sk->pending.len) {
		struct oqconn *qc = sk->wait_head;
		sk->wait_head = qc->next_wait;
		qc->waiting = false;
		oquic_conn_flush(qc);
	}
}

static void on_conn_timer(struct loop *loop, struct loop_timer *timer)
{
	struct oqconn *qc = timer->data;
	quic_conn_handle_expiry(&qc->quic, loop_now(loop));
	oquic_conn_flush(qc);
}

/* ---- connections ---- */

static void mark_dirty(struct oqconn *qc)
{
	if (qc->dirty)
		return;
	qc->dirty = true;
	qc->next_dirty = qc->q->dirty;
	qc->q->dirty = qc;
}

static void conn_event(struct oqconn *qc, const struct quic_event *ev);

static void on_h3(struct h3_conn *h, const struct h3_event *ev, void *arg)
{
	struct oqconn *qc = arg;
	if (ev->type == H3_EV_QUIC)
		conn_event(qc, ev->quic);
	else if (ev->type != H3_EV_GOAWAY)
		ostream_event(qc, ev);
}

static void conn_event(struct oqconn *qc, const struct quic_event *ev)
{
	struct quic_cidmap *map = &qc->q->map;
	switch (ev->type) {
	case QUIC_EV_CID_NEW:
		quic_cidmap_put(map, ev->cid, ev->cidlen, qc);
		break;
	case QUIC_EV_CID_RETIRED:
		quic_cidmap_del(map, ev->cid, ev->cidlen);
		break;
	case QUIC_EV_HANDSHAKE_DONE: {
		uint8_t cid[QUIC_MAX_CIDLEN];
		hex_encode(cid, quic_conn_peer_cid(&qc->quic, cid), qc->client_cid);
		if (qc->h3_up || strcmp(qc->quic.alpn, "h3") != 0)
			break;
		struct h3_opts o = {.cb = on_h3, .arg = qc};
		if (h3_conn_init(&qc->h3, &qc->quic, &o) == 0)
			qc->h3_up = true;
		else
			quic_conn_close(&qc->quic, true, H3_INTERNAL_ERROR, "out of memory");
		break;
	}
	default:
		break;
	}
}

static void on_quic(struct quic_conn *c, const struct quic_event *ev, void *arg)
{
	conn_event(arg, ev);
}

/* A connection for a client's first Initial. Returns it, or NULL (dropped). */
static struct oqconn *conn_new(struct oquic_sock *sk, const uint8_t *pkt, size_t len,
			       const struct net_addr *from, const struct quic_pkt_ids *ids)
{
	struct oquic *q = sk->q;
	struct origin_shared *sh = q->w->sh;
	struct oqconn *qc = calloc(1, sizeof *qc);
	if (!qc)
		return NULL;
	qc->q = q;
	qc->sock = sk;
	struct quic_conn_opts o = {
		.local = (const struct sockaddr *)&sk->local.ss, .local_len = sk->local.len,
		.remote = (const struct sockaddr *)&from->ss, .remote_len = from->len,
		.params = {.max_udp_payload = sh->quic->max_udp_payload},
		.cb = on_quic, .arg = qc,
	};
	uint8_t cids[MAX_CIDS][QUIC_MAX_CIDLEN];
	size_t lens[MAX_CIDS], n = 0;
	if (quic_conn_init_server(&qc->quic, &sh->quic->ctx, &o, pkt, len, loop_now(&q->w->loop)) < 0)
		goto fail;
	/* The client's Initials carry the DCID it chose until it hears from us; ngtcp2 knows
	 * it only once it read the first one, so it comes from the datagram. */
	memcpy(cids[0], ids->dcid, ids->dcidlen);
	lens[0] = ids->dcidlen;
	n = 1 + quic_conn_cids(&qc->quic, cids + 1, lens + 1, MAX_CIDS - 1);
	for (size_t i = 0; i < n; i++)
		if (lens[i] && quic_cidmap_put(&q->map, cids[i], lens[i], qc) < 0)
			goto fail;
	qc->serial = atomic_fetch_add(&sh->conns, 1);
	qc->t0_us = loop_now(&q->w->loop);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	qc->t_wall = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	net_addr_format(from, qc->peer);
	net_addr_format(&sk->local, qc->local);
	hex_encode(qc->quic.scid, qc->quic.scidlen, qc->server_cid);
	hex_encode(ids->scid, ids->scidlen, qc->client_cid);
	hex_encode(ids->dcid, ids->dcidlen, qc->original_dcid);
	loop_timer_init(&qc->timer, on_conn_timer, qc);
	qc->next = q->conns;
	if (q->conns)
		q->conns->prev = qc;
	q->conns = qc;
	q->nconns++;
	q->w->nconns++;
	return qc;
fail:
	for (size_t i = 0; i < n; i++)
		if (lens[i] && quic_cidmap_get(&q->map, cids[i], lens[i]) == qc)
			quic_cidmap_del(&q->map, cids[i], lens[i]);
	quic_conn_free(&qc->quic);
	free(qc);
	return NULL;
}

/* Forgets a connection: its ledger line, its ids, its memory. Its streams have had
 * their last events (lib/quic delivers them with the connection's end; oquic_worker_free
 * closes a connection before it gets here). */
static void conn_free(struct oqconn *qc)
{
	struct oquic *q = qc->q;
	struct origin_worker *w = q->w;
	conn_ledger(qc);
	loop_timer_stop(&w->loop, &qc->timer);
	for (struct oqconn **p = &q->dirty; *p; p = &(*p)->next_dirty)
		if (*p == qc) {
			*p = qc->next_dirty;
			break;
		}
	for (struct oqconn **p = &qc->sock->wait_head; *p; p = &(*p)->next_wait)
		if (*p == qc) {
			*p = qc->next_wait;
			break;
		}
	uint8_t cids[MAX_CIDS][QUIC_MAX_CIDLEN];
	size_t lens[MAX_CIDS];
	size_t n = quic_conn_cids(&qc->quic, cids, lens, MAX_CIDS);
	for (size_t i = 0; i < n; i++)
		if (quic_cidmap_get(&q->map, cids[i], lens[i]) == qc)
			quic_cidmap_del(&q->map, cids[i], lens[i]);
	if (qc->h3_up)
		h3_conn_free(&qc->h3);
	quic_conn_free(&qc->quic);
	if (qc->prev)
		qc->prev->next = qc->next;
	else
		q->conns = qc->next;
	if (qc->next)
		qc->next->prev = qc->prev;
	q->nconns--;
	w->nconns--;
	free(qc);
	if (atomic_load(&w->sh->stopping) && w->nconns == 0)
		loop_stop(&w->loop);
}

void oquic_conn_stream_ended(struct oqconn *qc)
{
	if (qc->q->stopping && qc->nstreams == 0) {
		quic_conn_close(&qc->quic, true, H3_NO_ERROR, "shutdown");
		mark_dirty(qc);
	}
}

/* ---- receiving ---- */

/* A Version Negotiation packet for a client speaking a version we do not: only for a
 * datagram as large as an Initial must be, so we never send more than we got. */
static void version_negotiation(struct oquic_sock *sk, size_t len, const struct net_addr *from,
				const struct quic_pkt_ids *ids)
{
	uint8_t vn[256];
	long n = len >= 1200 ? quic_write_version_negotiation(vn, sizeof vn, ids) : -1;
	if (n <= 0 || sk->pending.len)
		return;
	struct net_dgram d = {.buf = vn, .len = (size_t)n, .addr = *from};
	net_udp_send(&sk->udp, &d, 1); /* best effort: the client retries its Initial */
}

static void datagram(struct oquic_sock *sk, const uint8_t *pkt, size_t len,
		     const struct net_addr *from)
{
	struct oquic *q = sk->q;
	struct quic_pkt_ids ids;
	int rv = len ? quic_pkt_ids(pkt, len, &ids) : -EINVAL;
	if (rv == 1)
		version_negotiation(sk, len, from, &ids);
	if (rv != 0)
		return;
	struct oqconn *qc = quic_cidmap_get(&q->map, ids.dcid, ids.dcidlen);
	if (!qc) {
		/* A new connection starts with a long header; anything else for an ID we do
		 * not know (another worker's, or one we forgot) is dropped. */
		if (!ids.long_header || q->stopping || q->nconns >= OQUIC_MAX_CONNS)
			return;
		qc = conn_new(sk, pkt, len, from, &ids);
		if (!qc)
			return;
	}
	quic_conn_read(&qc->quic, (const struct sockaddr *)&from->ss, from->len, pkt, len,
		       loop_now(&q->w->loop));
	mark_dirty(qc);
}

static void on_udp(struct loop *loop, struct loop_io *io, unsigned events)
{
	struct oquic_sock *sk = io->data;
	struct oquic *q = sk->q;
	if (events & LOOP_WRITE)
		sock_writable(sk);
	for (int round = 0; round < OQUIC_RX_ROUNDS && (events & (LOOP_READ | LOOP_ERROR)); round++) {
		for (size_t i = 0; i < OQUIC_RX_BATCH; i++) {
			q->rx[i].buf = q->rxbuf + i * OQUIC_RX_ENTRY;
			q->rx[i].cap = OQUIC_RX_ENTRY;
		}
		int n = net_udp_recv(&sk->udp, q->rx, OQUIC_RX_BATCH);
		if (n <= 0)
			break;
		for (int i = 0; i < n; i++) {
			const struct net_dgram *d = &q->rx[i];
			if (d->truncated)
				continue;
			/* A GRO run is datagrams of d->segment bytes, the last maybe shorter. */
			size_t seg = d->segment ? d->segment : d->len;
			for (size_t off = 0; seg && off < d->len; off += seg)
				datagram(sk, (const uint8_t *)d->buf + off,
					 d->len - off < seg ? d->len - off : seg, &d->addr);
		}
		if (n < OQUIC_RX_BATCH)
			break;
	}
	/* One flush per connection for all its datagrams: ACKs and data go out together. */
	while (q->dirty) {
		struct oqconn *qc = q->dirty;
		q->dirty = qc->next_dirty;
		qc->dirty = false;
		oquic_conn_flush(qc);
	}
}

/* ---- workers ---- */

static int sock_open(struct oquic *q, struct oquic_sock *sk, struct net_addr *addr, bool shared)
{
	sk->q = q;
	unsigned flags = NET_UDP_GRO | (shared ? NET_UDP_REUSEPORT : 0);
	int err = net_udp_bind(&sk->udp, addr, flags);
	if (err < 0)
		return err;
	int size = SOCK_BUF_BYTES; /* best effort: the kernel caps it at its rmem/wmem max */
	setsockopt(sk->udp.fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
	setsockopt(sk->udp.fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
	if ((err = net_local_addr(sk->udp.fd, &sk->local)) < 0)
		return err;
	if (net_addr_port(addr) == 0)
		net_addr_set_port(addr, net_addr_port(&sk->local)); /* the other workers' port */
	/* A batch goes out as one GSO send, which the kernel caps at one UDP datagram's
	 * size in all (and at 64 segments). */
	size_t pay = q->w->sh->quic->max_udp_payload, fit = NET_UDP_MAX_PAYLOAD / pay;
	sk->tx_cap = (fit < OQUIC_TX_DGRAMS ? fit : OQUIC_TX_DGRAMS) * pay;
	if (!(sk->tx = malloc(sk->tx_cap)))
		return -ENOMEM;
	return loop_io_start(&q->w->loop, &sk->io, sk->udp.fd, LOOP_READ, on_udp, sk);
}

static void sock_close(struct oquic *q, struct oquic_sock *sk)
{
	loop_io_stop(&q->w->loop, &sk->io);
	if (sk->udp.fd >= 0)
		close(sk->udp.fd);
	sk->udp.fd = -1;
	free(sk->tx);
	sk->tx = NULL;
}

int oquic_worker_init(struct origin_worker *w, struct origin_config *cfg, size_t *failed)
{
	*failed = 0;
	if (cfg->nquic == 0)
		return 0;
	struct oquic *q = calloc(1, sizeof *q);
	if (!q)
		return -ENOMEM;
	q->w = w;
	w->quic = q;
	for (size_t i = 0; i < ORIGIN_MAX_LISTEN; i++)
		q->sock[i].udp.fd = -1;
	int err = -ENOMEM;
	q->rxbuf = malloc((size_t)OQUIC_RX_BATCH * OQUIC_RX_ENTRY);
	if (!q->rxbuf || quic_cidmap_init(&q->map, (size_t)OQUIC_MAX_CONNS * MAX_CIDS) < 0)
		goto fail;
	for (; q->nsock < cfg->nquic; q->nsock++) {
		*failed = q->nsock;
		err = sock_open(q, &q->sock[q->nsock], &cfg->quic_listen[q->nsock], cfg->threads > 1);
		if (err < 0) {
			q->nsock++; /* closed below with the others */
			goto fail;
		}
	}
	return 0;
fail:
	oquic_worker_free(w);
	return err;
}

void oquic_stop(struct origin_worker *w)
{
	struct oquic *q = w->quic;
	if (!q || q->stopping)
		return;
	q->stopping = true;
	for (struct oqconn *qc = q->conns, *next; qc; qc = next) {
		next = qc->next;
		if (qc->nstreams == 0) {
			quic_conn_close(&qc->quic, true, H3_NO_ERROR, "shutdown");
			oquic_conn_flush(qc); /* may free it */
		}
	}
}

void oquic_worker_free(struct origin_worker *w)
{
	struct oquic *q = w ? w->quic : NULL;
	if (!q)
		return;
	/* Connections still open get a CONNECTION_CLOSE if the socket takes it, and their
	 * streams their last events (and ledger lines), before they are forgotten. */
	q->stopping = true;
	loop_update_time(&w->loop);
	while (q->conns) {
		struct oqconn *qc = q->conns;
		quic_conn_close(&qc->quic, true, H3_NO_ERROR, "shutdown");
		struct quic_tx tx = {.buf = qc->sock->tx, .cap = qc->sock->tx_cap};
		if (tx.buf && quic_conn_write(&qc->quic, loop_now(&w->loop), &tx) > 0 && !qc->sock->pending.len)
			send_batch(qc->sock, &tx);
		conn_free(qc);
	}
	for (size_t i = 0; i < q->nsock; i++)
		sock_close(q, &q->sock[i]);
	ostream_pool_free(q);
	quic_cidmap_free(&q->map);
	free(q->rxbuf);
	free(q);
	w->quic = NULL;
}
