/* tls — see tls.h. */
#include "lib/tls.h"

#include <errno.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "lib/loop.h"

static int keylog_index = -1;
static pthread_once_t keylog_once = PTHREAD_ONCE_INIT;
static void keylog_index_init(void)
{
	keylog_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

static void keylog_cb(const SSL *ssl, const char *line)
{
	struct tls_client_ctx *ctx = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), keylog_index);
	if (!ctx || !ctx->keylog)
		return;
	pthread_mutex_lock(&ctx->keylog_lock);
	fprintf(ctx->keylog, "%s\n", line);
	fflush(ctx->keylog);
	pthread_mutex_unlock(&ctx->keylog_lock);
}

/* Records the name of every alert the peer sends, so a failure can say which. */
static void info_cb(const SSL *ssl, int where, int ret)
{
	if (!(where & SSL_CB_READ_ALERT))
		return;
	struct tls_conn *tc = SSL_get_app_data(ssl);
	if (tc && (ret & 0xff) != SSL3_AD_CLOSE_NOTIFY)
		snprintf(tc->alert, sizeof tc->alert, "%s", SSL_alert_desc_string_long(ret));
}

int tls_client_ctx_init(struct tls_client_ctx *ctx, const char *cafile, bool insecure,
			const char *keylog_path, const char **why)
{
	memset(ctx, 0, sizeof *ctx);
	pthread_once(&keylog_once, keylog_index_init);
	SSL_CTX *sc = SSL_CTX_new(TLS_client_method());
	if (!sc) {
		*why = "cannot create an OpenSSL context";
		return -EINVAL;
	}
	ctx->ssl_ctx = sc;
	SSL_CTX_set_min_proto_version(sc, TLS1_2_VERSION);
	/* An EOF without close_notify is a short body for the HTTP layer to judge (the
	 * IOCP incident), not a TLS failure: let SSL_read return 0 for it. */
	SSL_CTX_set_options(sc, SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_mode(sc, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
				     SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_info_callback(sc, info_cb);
	if (insecure) {
		SSL_CTX_set_verify(sc, SSL_VERIFY_NONE, NULL);
	} else {
		SSL_CTX_set_verify(sc, SSL_VERIFY_PEER, NULL);
		if (cafile) {
			if (SSL_CTX_load_verify_locations(sc, cafile, NULL) != 1) {
				*why = "cannot read the CA file (--cacert): not readable or not PEM";
				goto fail;
			}
		} else if (SSL_CTX_set_default_verify_paths(sc) != 1) {
			*why = "cannot load the system CA store";
			goto fail;
		}
	}
	if (keylog_path) {
		ctx->keylog = fopen(keylog_path, "a");
		if (!ctx->keylog) {
			*why = "cannot open the key log file (--keylog)";
			goto fail;
		}
		pthread_mutex_init(&ctx->keylog_lock, NULL);
		ctx->keylog_lock_ready = true;
		SSL_CTX_set_ex_data(sc, keylog_index, ctx);
		SSL_CTX_set_keylog_callback(sc, keylog_cb);
	}
	return 0;
fail:
	tls_client_ctx_free(ctx);
	return -EINVAL;
}

void tls_client_ctx_free(struct tls_client_ctx *ctx)
{
	if (!ctx)
		return;
	SSL_CTX_free(ctx->ssl_ctx);
	ctx->ssl_ctx = NULL;
	if (ctx->keylog)
		fclose(ctx->keylog);
	ctx->keylog = NULL;
	if (ctx->keylog_lock_ready)
		pthread_mutex_destroy(&ctx->keylog_lock);
	ctx->keylog_lock_ready = false;
}

/* SNI and the name or address the certificate must match. */
static void set_names(SSL *ssl, const char *sni, const char *verify_host)
{
	if (sni)
		SSL_set_tlsext_host_name(ssl, sni);
	if (verify_host) {
		X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
		if (sni)
			X509_VERIFY_PARAM_set1_host(param, verify_host, 0);
		else
			X509_VERIFY_PARAM_set1_ip_asc(param, verify_host);
	}
}

/* ---- a BIO over struct tls_io ---- */

static BIO_METHOD *io_method;
static pthread_once_t io_method_once = PTHREAD_ONCE_INIT;

/* A result of io as a BIO's: bytes; or retry for -EAGAIN; or -1 with errno set, which
 * classify() reads as a socket's (ECONNRESET, EPIPE) — the code itself kept in io_err. */
static int io_result(BIO *b, struct tls_conn *tc, long n, size_t *done, bool reading)
{
	BIO_clear_retry_flags(b);
	if (n > 0) {
		*done = (size_t)n;
		return 1;
	}
	*done = 0;
	if (n == 0)
		return 0; /* EOF */
	if (n == -EAGAIN) {
		if (reading)
			BIO_set_retry_read(b);
		else
			BIO_set_retry_write(b);
		return -1;
	}
	tc->io_err = (int)n;
	errno = n == -EPIPE ? EPIPE : ECONNRESET;
	return -1;
}

static int io_bread(BIO *b, char *buf, size_t len, size_t *done)
{
	struct tls_conn *tc = BIO_get_data(b);
	return io_result(b, tc, tc->io->read(tc->io_arg, buf, len), done, true);
}

static int io_bwrite(BIO *b, const char *buf, size_t len, size_t *done)
{
	struct tls_conn *tc = BIO_get_data(b);
	return io_result(b, tc, tc->io->write(tc->io_arg, buf, len), done, false);
}

static long io_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b, (void)num, (void)ptr;
	return cmd == BIO_CTRL_FLUSH ? 1 : 0; /* writes go straight to io */
}

static int io_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static void io_method_init(void)
{
	BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "tunnelprobe io");
	if (m && (!BIO_meth_set_read_ex(m, io_bread) || !BIO_meth_set_write_ex(m, io_bwrite) ||
		  !BIO_meth_set_ctrl(m, io_ctrl) || !BIO_meth_set_create(m, io_create))) {
		BIO_meth_free(m);
		m = NULL;
	}
	io_method = m; /* kept for the process's life, as OpenSSL keeps its own */
}

int tls_conn_init_io(struct tls_conn *tc, struct tls_client_ctx *ctx, const struct tls_io *io,
		     void *arg, const char *sni, const char *verify_host)
{
	memset(tc, 0, sizeof *tc);
	pthread_once(&io_method_once, io_method_init);
	if (!io_method)
		return -ENOMEM;
	SSL *ssl = SSL_new(ctx->ssl_ctx);
	BIO *b = ssl ? BIO_new(io_method) : NULL;
	if (!b) {
		SSL_free(ssl);
		return -ENOMEM;
	}
	tc->io = io;
	tc->io_arg = arg;
	BIO_set_data(b, tc);
	SSL_set_bio(ssl, b, b); /* the SSL owns the BIO (one reference for both directions) */
	SSL_set_connect_state(ssl);
	SSL_set_app_data(ssl, tc);
	set_names(ssl, sni, verify_host);
	tc->ssl = ssl;
	return 0;
}

int tls_conn_init(struct tls_conn *tc, struct tls_client_ctx *ctx, int fd, const char *sni,
		  const char *verify_host)
{
	memset(tc, 0, sizeof *tc);
	SSL *ssl = SSL_new(ctx->ssl_ctx);
	if (!ssl)
		return -ENOMEM;
	SSL_set_fd(ssl, fd);
	SSL_set_connect_state(ssl);
	SSL_set_app_data(ssl, tc);
	set_names(ssl, sni, verify_host);
	tc->ssl = ssl;
	return 0;
}

void tls_conn_free(struct tls_conn *tc)
{
	if (!tc || !tc->ssl)
		return;
	SSL_free(tc->ssl);
	tc->ssl = NULL;
}

/* Turns an SSL_get_error() result into our convention, filling detail/alert. */
static long classify(struct tls_conn *tc, int ret, int saved_errno)
{
	SSL *ssl = tc->ssl;
	int err = SSL_get_error(ssl, ret);
	switch (err) {
	case SSL_ERROR_WANT_READ:
		tc->want = LOOP_READ;
		return -EAGAIN;
	case SSL_ERROR_WANT_WRITE:
		tc->want = LOOP_WRITE;
		return -EAGAIN;
	case SSL_ERROR_ZERO_RETURN:
		tc->close_notify = (SSL_get_shutdown(ssl) & SSL_RECEIVED_SHUTDOWN) != 0;
		ERR_clear_error();
		return 0;
	case SSL_ERROR_SYSCALL:
		ERR_clear_error();
		if (saved_errno == ECONNRESET || saved_errno == EPIPE)
			return -saved_errno;
		if (saved_errno == 0)
			return 0; /* bare EOF */
		snprintf(tc->detail, sizeof tc->detail, "%s", strerror(saved_errno));
		return -saved_errno;
	default:
		break;
	}
	unsigned long e = ERR_peek_last_error();
	long verify = SSL_get_verify_result(ssl);
	if (ERR_GET_REASON(e) == SSL_R_CERTIFICATE_VERIFY_FAILED && verify != X509_V_OK) {
		snprintf(tc->detail, sizeof tc->detail, "certificate verify failed: %s",
			 X509_verify_cert_error_string(verify));
		ERR_clear_error();
		return TLS_ERR_VERIFY;
	}
	if (tc->alert[0]) {
		snprintf(tc->detail, sizeof tc->detail, "alert %s", tc->alert);
		ERR_clear_error();
		return TLS_ERR_ALERT;
	}
	char buf[120];
	ERR_error_string_n(e, buf, sizeof buf);
	snprintf(tc->detail, sizeof tc->detail, "%s", e ? buf : "TLS failure");
	ERR_clear_error();
	/* A reset surfaces as SSL_ERROR_SSL with errno set on some paths. */
	if (saved_errno == ECONNRESET)
		return -ECONNRESET;
	return TLS_ERR_PROTOCOL;
}

int tls_handshake(struct tls_conn *tc)
{
	errno = 0;
	int ret = SSL_do_handshake(tc->ssl);
	if (ret == 1) {
		tc->handshake_done = true;
		return 0;
	}
	long r = classify(tc, ret, errno);
	return r == 0 ? -EPIPE : (int)r;
}

long tls_read(struct tls_conn *tc, void *buf, size_t len)
{
	size_t got = 0;
	errno = 0;
	int ret = SSL_read_ex(tc->ssl, buf, len, &got);
	if (ret == 1)
		return (long)got;
	return classify(tc, ret, errno);
}

long tls_write(struct tls_conn *tc, const void *buf, size_t len)
{
	size_t put = 0;
	errno = 0;
	int ret = SSL_write_ex(tc->ssl, buf, len, &put);
	if (ret == 1)
		return (long)put;
	long r = classify(tc, ret, errno);
	return r == 0 ? -EPIPE : r;
}

size_t tls_pending(const struct tls_conn *tc)
{
	return tc->ssl ? (size_t)SSL_pending(tc->ssl) : 0;
}

void tls_shutdown(struct tls_conn *tc)
{
	if (tc->ssl && tc->handshake_done) {
		SSL_shutdown(tc->ssl);
		ERR_clear_error();
	}
}
