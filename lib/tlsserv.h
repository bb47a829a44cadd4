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

/* A new leaf for cn and san ("DNS:localhost,IP:127.0.0.1"), signed by the CA, as PEM for
 * TLS stacks other than OpenSSL (lib/quic's GnuTLS): *cert the leaf then the CA, *key
 * its private key (PKCS#8). Both are NUL-terminated, malloc'ed, the caller's to free;
 * their lengths go to *cert_len and *key_len. Returns 0, or -ENOMEM / -EINVAL (a san
 * OpenSSL does not take) with nothing to free. */
int tlsserv_leaf_pem(struct tlsserv *ts, const char *cn, const char *san, char **cert,
		     size_t *cert_len, char **key, size_t *key_len);

/* Prepares a server-side connection on fd (handshake with tls_handshake()). Returns 0 or
 * -ENOMEM. */
int tlsserv_conn_init(struct tlsserv *ts, struct tls_conn *tc, int fd);

#endif
