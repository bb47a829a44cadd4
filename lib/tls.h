/* tls — the TLS client side on OpenSSL 3, non-blocking, over a connected fd.
 *
 * A struct tls_client_ctx is shared read-only by every thread (OpenSSL's SSL_CTX is
 * thread-safe once configured); a struct tls_conn is one connection, owned by the
 * thread whose loop drives it. I/O functions follow net.h's convention (bytes, 0 at
 * EOF, -EAGAIN to wait for tls_conn.want) plus the TLS_ERR_* codes below.
 */
#ifndef TP_TLS_H
#define TP_TLS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Beyond errno: negative codes that do not collide with -errno values. */
#define TLS_ERR_PROTOCOL (-4096) /* handshake or record-layer failure; see tls_conn.detail */
#define TLS_ERR_ALERT (-4097)    /* the peer sent a fatal alert; tls_conn.alert names it */
#define TLS_ERR_VERIFY (-4098)   /* certificate verification failed; detail says why */

struct tls_client_ctx {
	void *ssl_ctx;          /* SSL_CTX * */
	FILE *keylog;           /* NSS key log (SSLKEYLOGFILE format) or NULL */
	pthread_mutex_t keylog_lock;
	bool keylog_lock_ready;
};

/* cafile: PEM bundle to trust (NULL: the system store); insecure: no verification
 * (-k); keylog_path: NSS key log file to append to (NULL: none). Returns 0, or -EINVAL
 * with *why set (unreadable CA file, ...). */
int tls_client_ctx_init(struct tls_client_ctx *ctx, const char *cafile, bool insecure,
			const char *keylog_path, const char **why);
void tls_client_ctx_free(struct tls_client_ctx *ctx);

struct tls_io;

struct tls_conn {
	void *ssl;              /* SSL * */
	unsigned want;          /* LOOP_READ/LOOP_WRITE needed after -EAGAIN */
	bool handshake_done;
	bool close_notify;      /* EOF arrived as a close_notify alert (else a bare FIN) */
	char alert[48];         /* name of the last alert received ("handshake failure") */
	char detail[160];       /* why the last TLS_ERR_* happened */
	int io_err;             /* tls_conn_init_io: the last failure of io (not -EAGAIN),
				 * 0 when none: a caller's own code passes through here */
	const struct tls_io *io;
	void *io_arg;
};

/* A byte stream that is not a socket (a tunnel on a QUIC stream): read and write follow
 * net.h's convention (bytes, 0 at EOF on read, -EAGAIN to wait, -ECONNRESET, -EPIPE, or
 * any other negative code of the caller's, kept in tls_conn.io_err). */
struct tls_io {
	long (*read)(void *arg, void *buf, size_t len);
	long (*write)(void *arg, const void *buf, size_t len);
};

/* Prepares a client connection on fd. sni: host name to send and verify (NULL for an
 * address literal: then the IP is verified). Returns 0 or -ENOMEM. */
int tls_conn_init(struct tls_conn *tc, struct tls_client_ctx *ctx, int fd, const char *sni,
		  const char *verify_host);
/* The same over io (an OpenSSL BIO calling it; arg is passed back). The fd path above
 * is unchanged by it. After -EAGAIN, tc->want says which direction io must be ready
 * for. Returns 0 or -ENOMEM. */
int tls_conn_init_io(struct tls_conn *tc, struct tls_client_ctx *ctx, const struct tls_io *io,
		     void *arg, const char *sni, const char *verify_host);
/* Releases the SSL object (does not close fd). NULL-safe, idempotent. */
void tls_conn_free(struct tls_conn *tc);

/* Advances the handshake: 0 when done, -EAGAIN (wait for tc->want), 0 < never,
 * -ECONNRESET, -EPIPE (EOF during the handshake), TLS_ERR_ALERT, TLS_ERR_VERIFY,
 * TLS_ERR_PROTOCOL. */
int tls_handshake(struct tls_conn *tc);
/* Reads decrypted bytes: count, 0 at EOF (close_notify or bare FIN: see
 * tc->close_notify), -EAGAIN, -ECONNRESET, TLS_ERR_ALERT, TLS_ERR_PROTOCOL. */
long tls_read(struct tls_conn *tc, void *buf, size_t len);
/* Writes: count (may be short), -EAGAIN, -ECONNRESET, -EPIPE, TLS_ERR_*. */
long tls_write(struct tls_conn *tc, const void *buf, size_t len);
/* Decrypted bytes OpenSSL holds that the socket will not signal again: read them
 * before waiting for readiness. */
size_t tls_pending(const struct tls_conn *tc);
/* Sends close_notify (best effort, non-blocking). */
void tls_shutdown(struct tls_conn *tc);

#endif
