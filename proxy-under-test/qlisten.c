/* qlisten — see qlisten.h. */
#include "proxy-under-test/qlisten.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gnutls/crypto.h>

#include "lib/tlsserv.h"
#include "proxy-under-test/qrelay.h"
#include "proxy-under-test/qtunnel.h"

#define QL_RX_BYTES 65536      /* one receive entry: a datagram, or a GRO run of them */
#define QL_RX_ROUNDS 8         /* receive batches per socket event: others get a turn */
#define QL_TX_ROUNDS 64        /* send batches per flush; the timer brings the rest */
#define QL_SOCKBUF (4 << 20)   /* socket buffers: a burst of a fast tunnel fits */
#define QL_CIDS_PER_CONN 8

static const char *const alpn_offered[] = {"h3", "socks5"};

/* The --quic-listen addresses in a certificate's subjectAltName: "IP:x" for each
 * specific address (wildcards are covered by the loopback names). */
static void listen_sans(const struct proxy_config *cfg, char *san, size_t cap)
{
	size_t len = (size_t)snprintf(san, cap, "DNS:localhost,IP:127.0.0.1,IP:::1");
	for (size_t i = 0; i < cfg->nquic && len < cap; i++) {
		char ip[INET6_ADDRSTRLEN] = "";
		const struct sockaddr_storage *ss = &cfg->quic_listen[i].ss;
		if (ss->ss_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, ip, sizeof ip);
		else
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, ip, sizeof ip);
		if (ip[0] && strcmp(ip, "0.0.0.0") && strcmp(ip, "::") && strcmp(ip, "127.0.0.1") &&
		    strcmp(ip, "::1"))
			len += (size_t)snprintf(san + len, cap - len, ",IP:%s", ip);
	}
}

/* A CA made here (written to --ca-out) and a leaf signed by it. */
static int make_cred(struct qserver *qs, const struct proxy_config *cfg, const char **why)
{
	struct tlsserv ts;
	char *cert = NULL, *key = NULL;
	size_t cert_len = 0, key_len = 0;
	char san[1024];
	int rc = tlsserv_init(&ts, cfg->ca_out, why);
	if (rc < 0)
		return rc;
	listen_sans(cfg, san, sizeof san);
	rc = tlsserv_leaf_pem_san(&ts, "tunnelprobe proxy", san, &cert, &cert_len, &key, &key_len);
	if (rc < 0)
		*why = "cannot make the certificate";
	else
		rc = quic_cred_init_pem(&qs->cred, cert, cert_len, key, key_len, why);
	free(cert);
	free(key);
	tlsserv_free(&ts); /* the leaf is made; the CA's key is not needed any more */
	return rc;
}

int qserver_init(struct qserver *qs, const struct proxy_config *cfg)
{
	memset(qs, 0, sizeof *qs);
	const char *why = "?";
	uint8_t secret[QUIC_SECRET_LEN];
	int rc = cfg->quic_cert ? quic_cred_init_files(&qs->cred, cfg->quic_cert, cfg->quic_key, &why)
				: make_cred(qs, cfg, &why);
	if (rc < 0) {
		fprintf(stderr, "tunnelprobe proxy: QUIC certificate: %s\n", why);
		return -1;
	}
	qs->cred_ready = true;
	if (gnutls_rnd(GNUTLS_RND_RANDOM, secret, sizeof secret) != 0) {
		fprintf(stderr, "tunnelprobe proxy: no random bytes for QUIC\n");
		return -1;
	}
	if (quic_server_ctx_init(&qs->ctx, &qs->cred, alpn_offered, 2, secret, NULL, &why) < 0) {
		fprintf(stderr, "tunnelprobe proxy: QUIC: %s\n", why);
		return -1;
	}
	qs->ctx_ready = true;
	return 0;
}

void qserver_free(struct qserver *qs)
{
	if (!qs)
		return;
	if (qs->ctx_ready)
		quic_server_ctx_free(&qs->ctx);
	if (qs->cred_ready)
		quic_cred_free(&qs->cred);
	qs->ctx_ready = qs->cred_ready = false;
}

/* ---- connections ---- */

static void unmap(struct qlisten *ql, struct qconn *qc)
{
	uint8_t cids[QL_CIDS_PER_CONN][QUIC_MAX_CIDLEN];
	size_t lens[QL_CIDS_PER_CONN];
	size_t n = quic_conn_cids(&qc->q, cids, lens, QL_CIDS_PER_CONN);
	for (size_t i = 0; i < n; i++)
		if (quic_cidmap_get(&ql->map, cids[i], lens[i]) == qc)
			quic_cidmap_del(&ql->map, cids[i], lens[i]);
}

/* Frees an ended connection (and, should any remain, its tunnels: each writes its line). */
static void reap(struct qconn *qc)
{
	struct qlisten *ql = qc->ql;
	while (qc->tunnels)
		qrelay_abort(qc->tunnels, true, QTUNNEL_CANCELLED);
	loop_timer_stop(&ql->w->loop, &qc->timer);
	unmap(ql, qc);
	if (qc->h3_up)
		h3_conn_free(&qc->h3);
	quic_conn_free(&qc->q);
	if (qc->prev)
		qc->prev->next = qc->next;
	else
		ql->conns = qc->next;
	if (qc->next)
		qc->next->prev = qc->prev;
	ql->nconns--;
	free(qc);
	server_check_drained(ql->w);
}

void qlisten_flush(struct qconn *qc)
{
	struct qlisten *ql = qc->ql;
	struct loop *loop = &ql->w->loop;
	struct quic_tx tx = {.buf = ql->tx, .cap = sizeof ql->tx};
	for (int round = 0; round < QL_TX_ROUNDS; round++) {
		int n = quic_conn_write(&qc->q, loop_now(loop), &tx);
		if (n <= 0)
			break;
		struct net_dgram d = {.buf = tx.buf, .len = tx.len,
				      .segment = tx.count > 1 ? (uint16_t)tx.seg : 0};
		memcpy(&d.addr.ss, &tx.to, tx.tolen);
		d.addr.len = tx.tolen;
		/* A full socket loses the batch: QUIC's loss recovery sends it again. */
		if (net_udp_send(&ql->udp[qc->sock], &d, 1) != 1)
			break;
	}
	uint64_t due = quic_conn_expiry(&qc->q);
	if (qc->q.state == QUIC_ST_CLOSED)
		due = loop_now(loop); /* the timer reaps it, outside whatever called us */
	if (due == UINT64_MAX)
		loop_timer_stop(loop, &qc->timer);
	else
		loop_timer_start_at(loop, &qc->timer, due);
}

static void on_conn_timer(struct loop *loop, struct loop_timer *timer)
{
	struct qconn *qc = timer->data;
	if (qc->q.state != QUIC_ST_CLOSED)
		quic_conn_handle_expiry(&qc->q, loop_now(loop));
	if (qc->q.state != QUIC_ST_CLOSED)
		qlisten_flush(qc);
	if (qc->q.state == QUIC_ST_CLOSED)
		reap(qc);
}

void qlisten_conn_event(struct qconn *qc, const struct quic_event *ev)
{
	struct qlisten *ql = qc->ql;
	switch (ev->type) {
	case QUIC_EV_CID_NEW:
		quic_cidmap_put(&ql->map, ev->cid, ev->cidlen, qc);
		break;
	case QUIC_EV_CID_RETIRED:
		quic_cidmap_del(&ql->map, ev->cid, ev->cidlen);
		break;
	case QUIC_EV_HANDSHAKE_DONE: /* from lib/quic, then again through lib/h3 */
		if (qc->framing == QF_NONE && qtunnel_attach(qc) < 0)
			quic_conn_close(&qc->q, false, 0x0101 /* INTERNAL_ERROR */, "cannot serve this ALPN");
		break;
	default:
		break; /* CLOSED: every stream gets its STREAM_CLOSED next; reaped by the timer */
	}
}

/* lib/quic's events before the handshake, and for socks5 connections. */
static void on_quic(struct quic_conn *c, const struct quic_event *ev, void *arg)
{
	struct qconn *qc = arg;
	(void)c;
	if (ev->stream)
		qtunnel_quic_event(qc, ev);
	else
		qlisten_conn_event(qc, ev);
}

/* A client's Initial on socket sock: a new connection, or NULL (drop the datagram). */
static struct qconn *accept_conn(struct qlisten *ql, size_t sock, const struct net_dgram *d,
				 const uint8_t *pkt, size_t len)
{
	const struct proxy_config *cfg = ql->w->cfg;
	if (ql->stopping || ql->nconns >= cfg->max_clients)
		return NULL; /* the client's handshake times out: no state spent on it */
	struct qconn *qc = calloc(1, sizeof *qc);
	if (!qc)
		return NULL;
	qc->ql = ql;
	qc->sock = sock;
	loop_timer_init(&qc->timer, on_conn_timer, qc);
	struct quic_conn_opts o = {
		.local = (const struct sockaddr *)&ql->addr[sock].ss, .local_len = ql->addr[sock].len,
		.remote = (const struct sockaddr *)&d->addr.ss, .remote_len = d->addr.len,
		.params = {.max_stream_data = QRELAY_WINDOW, .max_stream_window = QRELAY_WINDOW,
			   .credit = QUIC_CREDIT_MANUAL,
			   /* Twice a tunnel's: an idle tunnel ends by its own timer (a stream
			    * reset the client sees) before its connection goes silent. */
			   .idle_timeout_us = (uint64_t)(cfg->idle_timeout_s * 2e6),
			   .handshake_timeout_us = (uint64_t)(cfg->handshake_timeout_s * 1e6)},
		.cb = on_quic, .arg = qc};
	if (quic_conn_init_server(&qc->q, &ql->srv->ctx, &o, pkt, len, loop_now(&ql->w->loop)) < 0) {
		quic_conn_free(&qc->q);
		free(qc);
		return NULL;
	}
	uint8_t cids[QL_CIDS_PER_CONN][QUIC_MAX_CIDLEN];
	size_t lens[QL_CIDS_PER_CONN];
	size_t n = quic_conn_cids(&qc->q, cids, lens, QL_CIDS_PER_CONN);
	for (size_t i = 0; i < n; i++)
		quic_cidmap_put(&ql->map, cids[i], lens[i], qc);
	qc->number = atomic_fetch_add(&ql->srv->conns, 1);
	net_addr_format(&d->addr, qc->peer);
	net_addr_format(&ql->addr[sock], qc->local);
	qc->next = ql->conns;
	if (ql->conns)
		ql->conns->prev = qc;
	ql->conns = qc;
	ql->nconns++;
	return qc;
}

/* One datagram pkt[0..len) from d's sender, on socket sock. */
static void datagram(struct qlisten *ql, size_t sock, const struct net_dgram *d, const uint8_t *pkt,
		     size_t len, struct qconn **touched, size_t *ntouched)
{
	struct quic_pkt_ids ids;
	int rv = quic_pkt_ids(pkt, len, &ids);
	if (rv == 1) {
		uint8_t vn[256];
		long n = quic_write_version_negotiation(vn, sizeof vn, &ids);
		struct net_dgram out = {.buf = vn, .len = n > 0 ? (size_t)n : 0, .addr = d->addr};
		if (n > 0)
			net_udp_send(&ql->udp[sock], &out, 1);
		return;
	}
	if (rv < 0)
		return;
	struct qconn *qc = quic_cidmap_get(&ql->map, ids.dcid, ids.dcidlen);
	if (!qc && ids.long_header)
		qc = accept_conn(ql, sock, d, pkt, len);
	if (!qc || qc->q.state == QUIC_ST_CLOSED)
		return;
	quic_conn_read(&qc->q, (const struct sockaddr *)&d->addr.ss, d->addr.len, pkt, len,
		       loop_now(&ql->w->loop));
	if (!qc->touched && *ntouched < QLISTEN_RX_BATCH * NET_UDP_MAX_SEGMENTS) {
		qc->touched = true;
		touched[(*ntouched)++] = qc;
	}
}

static void on_udp(struct loop *loop, struct loop_io *io, unsigned events)
{
	struct qlisten *ql = io->data;
	size_t sock = (size_t)(io - ql->io);
	(void)events;
	for (int round = 0; round < QL_RX_ROUNDS; round++) {
		for (size_t i = 0; i < QLISTEN_RX_BATCH; i++)
			ql->dg[i] = (struct net_dgram){.buf = ql->rx + i * QL_RX_BYTES, .cap = QL_RX_BYTES};
		int got = net_udp_recv(&ql->udp[sock], ql->dg, QLISTEN_RX_BATCH);
		if (got <= 0)
			return;
		/* Connections that got datagrams answer once, after the whole batch. */
		struct qconn *touched[QLISTEN_RX_BATCH * NET_UDP_MAX_SEGMENTS];
		size_t ntouched = 0;
		for (int i = 0; i < got; i++) {
			const struct net_dgram *d = &ql->dg[i];
			const uint8_t *p = d->buf;
			size_t seg = d->segment ? d->segment : d->len;
			for (size_t off = 0; off < d->len && !d->truncated; off += seg)
				datagram(ql, sock, d, p + off, d->len - off < seg ? d->len - off : seg,
					 touched, &ntouched);
		}
		for (size_t i = 0; i < ntouched; i++) {
			struct qconn *qc = touched[i];
			qc->touched = false;
			qlisten_flush(qc);
		}
		if (got < QLISTEN_RX_BATCH)
			return; /* drained */
	}
	(void)loop;
}

int qlisten_open(struct qlisten *ql, struct proxy_worker *w, struct qserver *srv,
		 struct net_addr *addrs, size_t n, bool shared, size_t *failed)
{
	memset(ql, 0, sizeof *ql);
	ql->w = w;
	ql->srv = srv;
	*failed = n;
	int err = -ENOMEM;
	ql->rx = malloc((size_t)QLISTEN_RX_BATCH * QL_RX_BYTES);
	if (!ql->rx || quic_cidmap_init(&ql->map, (size_t)w->cfg->max_clients * QL_CIDS_PER_CONN) < 0)
		goto fail;
	for (; ql->n < n; ql->n++) {
		size_t i = ql->n;
		err = net_udp_bind(&ql->udp[i], &addrs[i],
				   NET_UDP_GRO | (shared ? NET_UDP_REUSEPORT : 0));
		if (err < 0) {
			*failed = i;
			goto fail;
		}
		int sz = QL_SOCKBUF;
		setsockopt(ql->udp[i].fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof sz);
		setsockopt(ql->udp[i].fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof sz);
		if (net_local_addr(ql->udp[i].fd, &ql->addr[i]) < 0)
			ql->addr[i] = addrs[i];
		addrs[i] = ql->addr[i]; /* a port 0 is bound now: the next worker takes the same */
		err = loop_io_start(&w->loop, &ql->io[i], ql->udp[i].fd, LOOP_READ, on_udp, ql);
		if (err < 0) {
			close(ql->udp[i].fd);
			*failed = i;
			goto fail;
		}
	}
	return 0;
fail:
	qlisten_close(ql);
	return err;
}

void qlisten_drain(struct qlisten *ql)
{
	if (!ql)
		return;
	ql->stopping = true;
	for (struct qconn *qc = ql->conns; qc; qc = qc->next)
		if (!qc->ntunnels) {
			quic_conn_close(&qc->q, true, QTUNNEL_NO_ERROR, "shutting down");
			qlisten_flush(qc);
		}
}

void qlisten_close(struct qlisten *ql)
{
	if (!ql || !ql->w)
		return;
	while (ql->conns)
		reap(ql->conns);
	for (size_t i = 0; i < ql->n; i++) {
		loop_io_stop(&ql->w->loop, &ql->io[i]);
		close(ql->udp[i].fd);
	}
	ql->n = 0;
	quic_cidmap_free(&ql->map);
	free(ql->rx);
	ql->rx = NULL;
	ql->w = NULL;
}
