/* quic_none — the client context of quic.h for the Windows build: lib/quic needs ngtcp2
 * and GnuTLS, which Debian has not for mingw-w64. The probe's configuration is the one
 * caller outside QUIC code (the rest of lib/quic is reached only through oquic.c and
 * filter_quic.c, whose Windows stand-ins never call it), and the Windows probe refuses
 * --http3 before it; should it be reached, it says so. Compiles to nothing off Windows
 * (quic.c is the real one). */
#ifdef _WIN32
#include <errno.h>

#include "lib/quic.h"

int quic_client_ctx_init(struct quic_client_ctx *ctx, const char *cafile, bool insecure,
			 const char *keylog_path, const char **why)
{
	*ctx = (struct quic_client_ctx){0};
	if (why)
		*why = "QUIC is not in the Windows build (Debian has no ngtcp2 or GnuTLS for mingw-w64)";
	return -ENOTSUP;
}

void quic_client_ctx_free(struct quic_client_ctx *ctx) { (void)ctx; }
#endif
