/* oquic_none — oquic.h for the Windows build: HTTP/3 over QUIC needs lib/quic and lib/h3
 * (ngtcp2, nghttp3, GnuTLS), which Debian has not for mingw-w64, so `origin
 * --quic-listen` is refused at parse time with one line (origin.c) and the origin serves
 * HTTP/1.1 over TCP only. These answer for a configuration without --quic-listen; one
 * with it would be refused here too. Compiles to nothing off Windows (oquic.c is the
 * real one). */
#ifdef _WIN32
#include <errno.h>

#include "replay/oquic.h"

#define NO_QUIC "--quic-listen: HTTP/3 over QUIC is not in the Windows build " \
	"(Debian has no GnuTLS, ngtcp2 or nghttp3 for mingw-w64)"

int oquic_shared_init(struct origin_shared *sh, const char **why)
{
	sh->quic = NULL;
	if (sh->cfg->nquic == 0)
		return 0;
	*why = NO_QUIC;
	return -ENOTSUP;
}

void oquic_shared_free(struct origin_shared *sh) { (void)sh; }

int oquic_worker_init(struct origin_worker *w, struct origin_config *cfg, size_t *failed)
{
	w->quic = NULL;
	if (cfg->nquic == 0)
		return 0;
	*failed = 0;
	return -ENOTSUP;
}

void oquic_worker_free(struct origin_worker *w) { (void)w; }
void oquic_stop(struct origin_worker *w) { (void)w; }
#endif
