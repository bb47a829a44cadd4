/* filter_quic_none — the QUIC filters of filter.h for the Windows build: lib/quic and
 * lib/h3 (ngtcp2, nghttp3, GnuTLS) do not exist for mingw-w64, so the Windows probe
 * refuses --http3, --http3-only and QUIC proxy URLs (quic://, socks5+quic://) at parse
 * time (config.c) and no link is ever QUIC nor a tunnel on a QUIC stream.
 * Should one be, its connection fails in the connect phase saying why, instead of
 * pretending. Compiles to nothing off Windows (filter_quic.c is the real one). */
#ifdef _WIN32
#include <errno.h>
#include <stdlib.h>

#include "probe/filter.h"
#include "probe/link.h"

struct pf_quic {
	struct pf base;
};

struct pf *pf_quic_new(struct link *l)
{
	struct pf_quic *qf = calloc(1, sizeof *qf);
	return qf ? &qf->base : NULL;
}

static int quic_connect(struct pf *f)
{
	return pf_fail(&f->link->err, TP_CONNECT_ERROR, TP_PHASE_CONNECT,
		       "HTTP/3 over QUIC is not in the Windows build");
}

static long quic_read(struct pf *f, void *buf, size_t len) { return -EOPNOTSUPP; }
static long quic_write(struct pf *f, const void *buf, size_t len) { return -EOPNOTSUPP; }
static int quic_shutdown(struct pf *f) { return -ENOTSUP; }
/* As filter_quic.c's: a closed QUIC filter frees itself (link_close closes it once). */
static void quic_close(struct pf *f) { free(f); }
static unsigned quic_want(const struct pf *f, unsigned plain) { return 0; }
static size_t quic_pending(const struct pf *f) { return 0; }

bool pf_quic_usable(const struct pf_quic *q) { return false; }
void pf_quic_carrier_release(struct pf_quic **slot) { *slot = NULL; }

const struct pf_ops pf_quic_ops = {
	.name = "quic",
	.phase = TP_PHASE_CONNECT,
	.connect = quic_connect,
	.read = quic_read,
	.write = quic_write,
	.shutdown = quic_shutdown,
	.close = quic_close,
	.want = quic_want,
	.pending = quic_pending,
};

/* A tunnel through a QUIC proxy (filter_qstream.c). */
static int qstream_connect(struct pf *f)
{
	return pf_fail(&f->link->err, TP_CONNECT_ERROR, TP_PHASE_CONNECT,
		       "QUIC proxies are not in the Windows build");
}
static void qstream_close(struct pf *f) { (void)f; }

#define QSTREAM_NONE(filter_name)                                                          \
	{                                                                                  \
		.name = filter_name, .phase = TP_PHASE_CONNECT, .connect = qstream_connect,  \
		.read = quic_read, .write = quic_write, .shutdown = quic_shutdown,           \
		.close = qstream_close, .want = quic_want, .pending = quic_pending,          \
	}
const struct pf_ops pf_quic_stream_ops = QSTREAM_NONE("quic-stream");
const struct pf_ops pf_h3_connect_ops = QSTREAM_NONE("h3-connect");
#endif
