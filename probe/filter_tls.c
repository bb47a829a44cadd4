/* filter_tls — TLS (lib/tls, OpenSSL) to the origin. On a socket (TCP, directly or
 * through a TCP proxy) the filters below hold no bytes once connected, so OpenSSL reads
 * and writes the socket itself; on a stack without one (a tunnel on a QUIC stream) it
 * reads and writes the filter below through a BIO (lib/tls's tls_io), and a failure
 * that filter classified (a CONNECTION_CLOSE) passes through as PF_ERR. Alerts and verification failures become PF_ERR with the class tls_alert or
 * tls_error and the alert name or the reason as detail; a close during the handshake
 * through a tunnel is tunnel_closed_early, as SPEC §4 says. */
#include <errno.h>
#include <string.h>

#include "probe/link.h"
#include "probe/worker.h"

static int tls_failed(struct pf_tls *t, int rc, enum tp_phase phase)
{
	struct link *l = t->base.link;
	struct pf_error *e = &l->err;
	if (rc == TLS_ERR_ALERT)
		return pf_fail(e, TP_TLS_ALERT, phase, "%s", t->tls.alert);
	if (rc == TLS_ERR_VERIFY || rc == TLS_ERR_PROTOCOL)
		return pf_fail(e, TP_TLS_ERROR, phase, "%s", t->tls.detail);
	if (t->tls.io_err == PF_ERR)
		return PF_ERR; /* the filter below said what happened */
	return rc;
}

static long below_read(void *arg, void *buf, size_t len) { return pf_read(arg, buf, len); }
static long below_write(void *arg, const void *buf, size_t len) { return pf_write(arg, buf, len); }
static const struct tls_io below_io = {.read = below_read, .write = below_write};

static int tls_connect_step(struct pf *f)
{
	struct pf_tls *t = (struct pf_tls *)f;
	struct link *l = f->link;
	if (!t->on) {
		const struct probe_target *tg = l->target;
		const char *sni = tg->url.host_is_literal ? NULL : tg->url.host;
		struct tls_client_ctx *ctx = (struct tls_client_ctx *)&l->w->cfg->tls;
		int rc = l->fd >= 0 ? tls_conn_init(&t->tls, ctx, l->fd, sni, tg->url.host)
				    : tls_conn_init_io(&t->tls, ctx, &below_io, f->next, sni, tg->url.host);
		if (rc < 0)
			return pf_fail(&l->err, TP_TLS_ERROR, TP_PHASE_TLS, "out of memory");
		t->on = true;
	}
	int rc = tls_handshake(&t->tls);
	if (rc == -EAGAIN) {
		link_watch(l, t->tls.want);
		return -EAGAIN;
	}
	if (rc == 0)
		return 0;
	if (t->tls.io_err == PF_ERR)
		return PF_ERR; /* the filter below said what happened */
	if (rc == -EPIPE || rc == -ECONNRESET) {
		const char *how = rc == -EPIPE ? "closed" : "reset";
		if (link_tunneled(l))
			return pf_fail(&l->err, TP_TUNNEL_CLOSED_EARLY, TP_PHASE_TLS,
				       "tunnel %s during the TLS handshake", how);
		return pf_fail(&l->err, rc == -ECONNRESET ? TP_RESET : TP_TLS_ERROR, TP_PHASE_TLS,
			       "connection %s during the TLS handshake", how);
	}
	rc = tls_failed(t, rc, TP_PHASE_TLS);
	return rc == PF_ERR ? rc : pf_fail(&l->err, TP_TLS_ERROR, TP_PHASE_TLS, "%s", strerror(-rc));
}

static long tls_read_f(struct pf *f, void *buf, size_t len)
{
	struct pf_tls *t = (struct pf_tls *)f;
	long n = tls_read(&t->tls, buf, len);
	return n < 0 && n != -EAGAIN ? tls_failed(t, (int)n, TP_PHASE_BODY) : n;
}

static long tls_write_f(struct pf *f, const void *buf, size_t len)
{
	struct pf_tls *t = (struct pf_tls *)f;
	long n = tls_write(&t->tls, buf, len);
	return n < 0 && n != -EAGAIN ? tls_failed(t, (int)n, TP_PHASE_REQUEST) : n;
}

static int tls_shutdown_f(struct pf *f)
{
	(void)f;
	return -ENOTSUP; /* TLS has no half-close: close_notify ends both directions */
}

static unsigned tls_want(const struct pf *f, unsigned plain)
{
	(void)plain;
	return ((const struct pf_tls *)f)->tls.want;
}

static size_t tls_pending_f(const struct pf *f) { return tls_pending(&((const struct pf_tls *)f)->tls); }

static void tls_close(struct pf *f)
{
	struct pf_tls *t = (struct pf_tls *)f;
	if (t->on)
		tls_conn_free(&t->tls);
	t->on = false;
}

static void tls_timed_out(struct pf *f, struct pf_error *err)
{
	pf_fail(err, TP_TIMEOUT, TP_PHASE_TLS, "TLS handshake not done within %.1fs",
		f->link->w->cfg->timeout_s);
}

const struct pf_ops pf_tls_ops = {
	.name = "tls",
	.phase = TP_PHASE_TLS,
	.connect = tls_connect_step,
	.read = tls_read_f,
	.write = tls_write_f,
	.shutdown = tls_shutdown_f,
	.close = tls_close,
	.want = tls_want,
	.pending = tls_pending_f,
	.timed_out = tls_timed_out,
};
