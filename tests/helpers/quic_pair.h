/* quic_pair.h — a lib/quic client and server connected in memory, for unit tests
 * (test_quic, test_h3) and the in-memory bench of h3peer. Failures go through QP_ASSERT:
 * a cmocka assertion unless the includer defines it first.
 *
 * The wire is direct delivery: every datagram one side writes is read by the other at
 * once, unless dropped (drop_every, deaf). The clock is fake: qp_run jumps it to the
 * next expiry whenever neither side has anything to send, so timeouts take no real
 * time. The server connection is made from the first Initial that reaches it, with
 * srv_cb as its event callback. Certificates come from make_ca in tests/e2e/peers.sh,
 * run twice: a/ (the CA the client trusts, its leaf for localhost and 127.0.0.1, and
 * a/chain.pem = leaf + CA) and b/ (an unrelated CA and its own leaf).
 * Every loop is bounded. */
#ifndef TP_TESTS_QUIC_PAIR_H
#define TP_TESTS_QUIC_PAIR_H

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/quic.h"

#ifndef QP_ASSERT
#define QP_ASSERT(cond) assert_true(cond)
#endif

#define QP_MAX_ROUNDS 200000

struct qp_peer {
	struct quic_conn c;
	bool up;                   /* c is initialised */
	struct sockaddr_in addr;
	unsigned drop_every;       /* drop every Nth datagram arriving here */
	unsigned arrived;
	bool deaf;                 /* drop everything arriving here */
};

struct qp_setup {
	const char *certdir;       /* made by qp_certs_make */
	const char *cafile;        /* client trust (NULL: the test CA) */
	const char *const *alpn;   /* client offer (NULL: {"h3"}) */
	size_t nalpn;
	const char *sni;           /* NULL: "localhost" */
	const char *keylog;
	struct quic_params cparams, sparams;
	quic_sni_cb sni_cb;        /* server; its arg is the world */
	bool default_other;        /* the server's default certificate is b/'s leaf */
	quic_event_cb cli_cb, srv_cb;
	void *cli_arg, *srv_arg;
	uint64_t start_us;         /* the clock's start (0: 5 s); a real clock's now for benches */
};

struct qp_world {
	struct quic_client_ctx cctx;
	struct quic_cred cred, other; /* a/'s leaf (trusted); b/'s leaf (unknown issuer) */
	struct quic_server_ctx sctx;
	struct qp_peer cli, srv;
	struct quic_conn_opts sopts;
	uint64_t now;
	uint8_t txbuf[64 * 1024];
};

typedef bool (*qp_done_fn)(struct qp_world *w, void *arg);

static inline const char *qp_path(const char *dir, const char *name)
{
	static char path[4][320];
	static int i;
	i = (i + 1) % 4;
	snprintf(path[i], sizeof path[i], "%s/%s", dir, name);
	return path[i];
}

/* A private directory with the test certificates; 0 or -1. */
static inline int qp_certs_make(char *dir, size_t cap)
{
	const char *root = getenv("TP_ROOT");
	snprintf(dir, cap, "/tmp/tp-quic-unit.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	char cmd[2048];
	int n = snprintf(cmd, sizeof cmd,
		 "cd %s && for d in a b; do mkdir -p %s/$d && T=%s/$d bash -c "
		 "'. tests/e2e/peers.sh && make_ca' || exit 1; done && "
		 "cat %s/a/leaf.pem %s/a/ca.pem >%s/a/chain.pem",
		 root ? root : ".", dir, dir, dir, dir, dir);
	if (n < 0 || (size_t)n >= sizeof cmd)
		return -1;
	return system(cmd) == 0 ? 0 : -1;
}

static inline int qp_certs_remove(const char *dir)
{
	char cmd[300];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* cmocka group fixtures: the certificates live in qp_certdir for the whole group. */
static char qp_certdir[256];

static inline int qp_group_setup(void **state)
{
	(void)state;
	return qp_certs_make(qp_certdir, sizeof qp_certdir);
}

static inline int qp_group_teardown(void **state)
{
	(void)state;
	return qp_certs_remove(qp_certdir);
}

static inline void qp_peer_init(struct qp_peer *p, const char *ip, uint16_t port)
{
	memset(p, 0, sizeof *p);
	p->addr.sin_family = AF_INET;
	p->addr.sin_port = htons(port);
	inet_pton(AF_INET, ip, &p->addr.sin_addr);
}

static inline void qp_deliver(struct qp_world *w, struct qp_peer *to, struct qp_peer *from,
			      const uint8_t *pkt, size_t len)
{
	to->arrived++;
	if (to->deaf || (to->drop_every && to->arrived % to->drop_every == 0))
		return;
	if (!to->up) {
		w->sopts.local = (struct sockaddr *)&to->addr;
		w->sopts.local_len = sizeof to->addr;
		w->sopts.remote = (struct sockaddr *)&from->addr;
		w->sopts.remote_len = sizeof from->addr;
		if (quic_conn_init_server(&to->c, &w->sctx, &w->sopts, pkt, len, w->now) != 0) {
			quic_conn_free(&to->c);
			return;
		}
		to->up = true;
	}
	QP_ASSERT(quic_conn_read(&to->c, (struct sockaddr *)&from->addr, sizeof from->addr, pkt,
				 len, w->now) == 0);
}

/* Sends everything from can send now; true when something went out. */
static inline bool qp_flush(struct qp_world *w, struct qp_peer *from, struct qp_peer *to)
{
	bool moved = false;
	struct quic_tx tx = {.buf = w->txbuf, .cap = sizeof w->txbuf};
	for (int batches = 0; from->up && batches < 256; batches++) {
		int n = quic_conn_write(&from->c, w->now, &tx);
		QP_ASSERT(n >= 0);
		if (n == 0)
			break;
		/* A batch: equal segments, the last one possibly shorter. */
		QP_ASSERT(tx.len <= tx.cap);
		QP_ASSERT(tx.seg * (tx.count - 1) < tx.len && tx.len <= tx.seg * tx.count);
		for (size_t off = 0; off < tx.len; off += tx.seg) {
			size_t len = tx.len - off < tx.seg ? tx.len - off : tx.seg;
			qp_deliver(w, to, from, tx.buf + off, len);
		}
		moved = true;
	}
	return moved;
}

static inline uint64_t qp_expiry(const struct qp_peer *p)
{
	return p->up ? quic_conn_expiry(&p->c) : UINT64_MAX;
}

static inline void qp_handle_expiry(struct qp_world *w)
{
	if (w->cli.up)
		QP_ASSERT(quic_conn_handle_expiry(&w->cli.c, w->now) == 0);
	if (w->srv.up)
		QP_ASSERT(quic_conn_handle_expiry(&w->srv.c, w->now) == 0);
}

/* Exchanges datagrams until done(w, arg), or until nothing is left to happen. */
static inline bool qp_run(struct qp_world *w, qp_done_fn done, void *arg)
{
	for (unsigned round = 0; round < QP_MAX_ROUNDS; round++) {
		if (done(w, arg))
			return true;
		bool moved = qp_flush(w, &w->cli, &w->srv);
		moved |= qp_flush(w, &w->srv, &w->cli);
		if (moved)
			continue;
		uint64_t e = qp_expiry(&w->cli), es = qp_expiry(&w->srv);
		if (es < e)
			e = es;
		if (e == UINT64_MAX)
			break;
		if (e > w->now)
			w->now = e;
		qp_handle_expiry(w);
	}
	return done(w, arg);
}

/* Exchanges for a fixed stretch of fake time, in steps of step_us. */
static inline void qp_idle(struct qp_world *w, unsigned steps, uint64_t step_us)
{
	for (unsigned i = 0; i < steps; i++) {
		qp_flush(w, &w->cli, &w->srv);
		qp_flush(w, &w->srv, &w->cli);
		w->now += step_us;
		qp_handle_expiry(w);
	}
}

static const char *const qp_alpn_h3[] = {"h3"};
static const char *const qp_alpn_server[] = {"h3", "socks5"};
static const uint8_t qp_secret[QUIC_SECRET_LEN] = {1, 2, 3, 4};

static inline struct qp_world *qp_world_new(const struct qp_setup *st)
{
	struct qp_world *w = calloc(1, sizeof *w);
	QP_ASSERT(w != NULL);
	const char *dir = st->certdir, *why = NULL;
	const char *ca = st->cafile ? st->cafile : qp_path(dir, "a/ca.pem");
	QP_ASSERT(quic_client_ctx_init(&w->cctx, ca, false, st->keylog, &why) == 0);
	QP_ASSERT(quic_cred_init_files(&w->cred, qp_path(dir, "a/chain.pem"),
				       qp_path(dir, "a/leaf.key"), &why) == 0);
	QP_ASSERT(quic_cred_init_files(&w->other, qp_path(dir, "b/leaf.pem"),
				       qp_path(dir, "b/leaf.key"), &why) == 0);
	QP_ASSERT(quic_server_ctx_init(&w->sctx, st->default_other ? &w->other : &w->cred,
				       qp_alpn_server, 2, qp_secret, NULL, &why) == 0);
	w->sctx.sni = st->sni_cb;
	w->sctx.sni_arg = w;
	qp_peer_init(&w->cli, "10.0.0.1", 40000);
	qp_peer_init(&w->srv, "10.0.0.2", 443);
	w->now = st->start_us ? st->start_us : 5000000; /* any start works, not only 0 */
	w->sopts.params = st->sparams;
	w->sopts.cb = st->srv_cb;
	w->sopts.arg = st->srv_arg;
	struct quic_conn_opts o = {
		.local = (struct sockaddr *)&w->cli.addr,
		.local_len = sizeof w->cli.addr,
		.remote = (struct sockaddr *)&w->srv.addr,
		.remote_len = sizeof w->srv.addr,
		.sni = st->sni ? st->sni : "localhost",
		.alpn = st->alpn ? st->alpn : qp_alpn_h3,
		.nalpn = st->alpn ? st->nalpn : 1,
		.params = st->cparams,
		.cb = st->cli_cb,
		.arg = st->cli_arg,
	};
	QP_ASSERT(quic_conn_init_client(&w->cli.c, &w->cctx, &o, w->now) == 0);
	w->cli.up = true;
	return w;
}

static inline void qp_world_free(struct qp_world *w)
{
	quic_conn_free(&w->cli.c);
	quic_conn_free(&w->srv.c);
	quic_server_ctx_free(&w->sctx);
	quic_cred_free(&w->cred);
	quic_cred_free(&w->other);
	quic_client_ctx_free(&w->cctx);
	free(w);
}

#endif
