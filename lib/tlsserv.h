/* tlsserv — the TLS server side for test origins: a CA made at start, and a leaf
 * certificate signed by it for whatever name a client asks for (SNI), so
 * https://www.baidu.com/ can be served locally under its own name and verified
 * against the CA (written to a file the probe passes as --cacert).
 *
 * Connections use struct tls_conn from tls.h (tls_conn_init_server), so reads and
 * writes follow the same conventions on both sides.
 */
#ifndef TP_TLSSERV_H
#define TP_TLSSERV_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/tls.h"

#define TLSSERV_MAX_NAMES 256 /* leaf certificates cached; more names reuse the default */

struct tlsserv_leaf {
	char name[256];
	void *ctx; /* SSL_CTX * serving this name */
};

struct tlsserv {
	void *ca_key;   /* EVP_PKEY * */
	void *ca_cert;  /* X509 * */
	void *ctx;      /* SSL_CTX * for clients without SNI (localhost, 127.0.0.1, ::1) */
	struct tlsserv_leaf leaves[TLSSERV_MAX_NAMES];
	size_t nleaves;
	pthread_mutex_t lock; /* the SNI callback runs in every worker thread */
};

/* Makes the CA and the default leaf; writes the CA certificate (PEM) to ca_path when
 * not NULL. Returns 0, or -EIO / -ENOMEM with *why set. */
int tlsserv_init(struct tlsserv *ts, const char *ca_path, const char **why);
void tlsserv_free(struct tlsserv *ts);

/* Prepares a server-side connection on fd (handshake with tls_handshake()). Returns 0 or
 * -ENOMEM. */
int tlsserv_conn_init(struct tlsserv *ts, struct tls_conn *tc, int fd);

/* A leaf certificate signed by the CA, as PEM, for TLS stacks other than OpenSSL
 * (lib/quic takes GnuTLS credentials from PEM): for name, a DNS name as a client sends
 * in SNI, or for NULL or "" the default leaf's names (localhost, 127.0.0.1, ::1). A new
 * key and certificate each call; the caller caches them. *cert gets the leaf then the
 * CA certificate, *key the leaf's private key (PKCS#8); both are NUL-terminated, the
 * caller's to free(), and their lengths go to *cert_len and *key_len. Thread-safe.
 * Returns 0, -EINVAL (name is not a host name: letters, digits, '-', '.', at most 255
 * bytes), or -ENOMEM. */
int tlsserv_leaf_pem(struct tlsserv *ts, const char *name, char **cert, size_t *cert_len,
		     char **key, size_t *key_len);

/* The same for a leaf of common name cn and subjectAltName san as OpenSSL writes it
 * ("DNS:localhost,IP:127.0.0.1,IP:::1"): for a server that knows its addresses (the
 * proxy's QUIC listener names each one it listens on). Thread-safe. Returns 0, -EINVAL
 * (a san OpenSSL does not take) or -ENOMEM, with nothing to free on failure. */
int tlsserv_leaf_pem_san(struct tlsserv *ts, const char *cn, const char *san, char **cert,
			 size_t *cert_len, char **key, size_t *key_len);

#endif
