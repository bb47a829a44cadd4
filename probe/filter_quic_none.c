/* filter_quic_none — the QUIC filter of filter.h for the Windows build: lib/quic and
 * lib/h3 (ngtcp2, nghttp3, GnuTLS) do not exist for mingw-w64, so the Windows probe
 * refuses --http3 and --http3-only at parse time (config.c) and no link is ever QUIC.
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
#endif
