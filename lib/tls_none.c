/* tls_none — tls.h and tlsserv.h for the Windows build, which has no TLS: Debian has no
 * OpenSSL for mingw and the project cross-builds no third-party library (issue 15). Every
 * call says so instead of pretending: initialising fails with -ENOTSUP and a reason, so
 * `origin --tls-listen` and `probe https://...` refuse at start with one line; the
 * rest is never reached without a context. Compiles to nothing off Windows (tls.c and
 * tlsserv.c are OpenSSL's there). */
#ifdef _WIN32
#include <errno.h>

#include "lib/tls.h"
#include "lib/tlsserv.h"

#define NO_TLS "TLS is not in the Windows build (Debian has no OpenSSL for mingw-w64)"

int tls_client_ctx_init(struct tls_client_ctx *ctx, const char *cafile, bool insecure,
			const char *keylog_path, const char **why)
{
	*ctx = (struct tls_client_ctx){0};
	*why = NO_TLS;
	return -ENOTSUP;
}

void tls_client_ctx_free(struct tls_client_ctx *ctx) { (void)ctx; }

int tls_conn_init(struct tls_conn *tc, struct tls_client_ctx *ctx, int fd, const char *sni,
		  const char *verify_host)
{
	*tc = (struct tls_conn){0};
	return -ENOTSUP;
}

int tls_conn_init_io(struct tls_conn *tc, struct tls_client_ctx *ctx, const struct tls_io *io,
		     void *arg, const char *sni, const char *verify_host)
{
	*tc = (struct tls_conn){0};
	return -ENOTSUP;
}

void tls_conn_free(struct tls_conn *tc) { (void)tc; }
int tls_handshake(struct tls_conn *tc) { return -ENOTSUP; }
long tls_read(struct tls_conn *tc, void *buf, size_t len) { return -ENOTSUP; }
long tls_write(struct tls_conn *tc, const void *buf, size_t len) { return -ENOTSUP; }
size_t tls_pending(const struct tls_conn *tc) { return 0; }
void tls_shutdown(struct tls_conn *tc) { (void)tc; }

int tlsserv_init(struct tlsserv *ts, const char *ca_path, const char **why)
{
	*why = NO_TLS;
	return -ENOTSUP;
}

void tlsserv_free(struct tlsserv *ts) { (void)ts; }
int tlsserv_conn_init(struct tlsserv *ts, struct tls_conn *tc, int fd) { return -ENOTSUP; }
#endif
