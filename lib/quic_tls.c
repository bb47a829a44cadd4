/* quic_tls — lib/quic's TLS (see quic.h, quic_impl.h): a connection's GnuTLS session
 * (ALPN, SNI, verification, the key log), the client and server contexts and the
 * server's credentials. */
#include "lib/quic_impl.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>

/* TLS 1.3 only, the AEADs and groups QUIC allows; no middlebox compatibility mode. */
static const char tls_priority[] =
	"NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:"
	"+CHACHA20-POLY1305:+AES-128-CCM:-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:"
	"+GROUP-SECP384R1:+GROUP-SECP521R1:%DISABLE_TLS13_COMPAT_MODE";

/* ---------------------------------------------------------------- TLS */

static int keylog_open(struct quic_keylog *kl, const char *path, const char **why)
{
	memset(kl, 0, sizeof *kl);
	if (!path)
		return 0;
	kl->file = fopen(path, "a");
	if (!kl->file) {
		if (why)
			*why = "cannot open the key log file";
		return -EINVAL;
	}
	pthread_mutex_init(&kl->lock, NULL);
	kl->lock_ready = true;
	return 0;
}

static void keylog_close(struct quic_keylog *kl)
{
	if (kl->file)
		fclose(kl->file);
	if (kl->lock_ready)
		pthread_mutex_destroy(&kl->lock);
	memset(kl, 0, sizeof *kl);
}

static struct quic_conn *conn_of_session(gnutls_session_t s)
{
	ngtcp2_crypto_conn_ref *ref = gnutls_session_get_ptr(s);
	return ref->user_data;
}

static struct quic_keylog *keylog_of(struct quic_conn *c)
{
	struct quic_conn_impl *im = c->impl;
	return im->cctx ? &im->cctx->keylog : &im->sctx->keylog;
}

static void hex(char *out, const uint8_t *in, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

/* One NSS key log line per secret: "LABEL <client random> <secret>". */
static int keylog_cb(gnutls_session_t s, const char *label, const gnutls_datum_t *secret)
{
	struct quic_keylog *kl = keylog_of(conn_of_session(s));
	gnutls_datum_t crandom, srandom;
	gnutls_session_get_random(s, &crandom, &srandom);
	if (!kl->file || crandom.size != 32 || secret->size > 64)
		return 0;
	char rnd[65], sec[129];
	hex(rnd, crandom.data, 32);
	hex(sec, secret->data, secret->size);
	pthread_mutex_lock(&kl->lock);
	fprintf(kl->file, "%s %s %s\n", label, rnd, sec);
	fflush(kl->file);
	pthread_mutex_unlock(&kl->lock);
	return 0;
}

/* Server: after the ClientHello is parsed, present the certificate for its SNI. */
static int post_client_hello(gnutls_session_t s)
{
	struct quic_server_ctx *sctx = conn_of_session(s)->impl->sctx;
	char name[256];
	size_t len = sizeof name;
	unsigned type = 0;
	const char *sni = NULL;
	if (gnutls_server_name_get(s, name, &len, &type, 0) == 0 && type == GNUTLS_NAME_DNS)
		sni = name;
	const struct quic_cred *cr = sctx->sni(sctx->sni_arg, sni);
	if (cr && gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, cr->cred) != 0)
		return GNUTLS_E_INTERNAL_ERROR;
	return 0;
}

static int alpn_datums(gnutls_datum_t *d, const char *const *alpn, size_t n)
{
	if (n > QUIC_MAX_ALPN)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(alpn[i]);
		if (len == 0 || len > 31)
			return -EINVAL;
		d[i].data = (unsigned char *)alpn[i];
		d[i].size = (unsigned)len;
	}
	return 0;
}

static ngtcp2_conn *get_conn(ngtcp2_crypto_conn_ref *ref)
{
	struct quic_conn *c = ref->user_data;
	return c->impl->conn;
}

static bool is_ip_literal(const char *s)
{
	uint8_t buf[16];
	return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

int quic_tls_setup(struct quic_conn *c, const struct quic_conn_opts *o)
{
	struct quic_conn_impl *im = c->impl;
	unsigned flags = (c->server ? GNUTLS_SERVER | GNUTLS_NO_AUTO_SEND_TICKET : GNUTLS_CLIENT) |
			 GNUTLS_NO_END_OF_EARLY_DATA;
	if (gnutls_init(&im->tls, flags) != 0) {
		im->tls = NULL;
		quic_set_detail(&c->close, "gnutls_init failed");
		return -ENOMEM;
	}
	int rv = gnutls_priority_set_direct(im->tls, tls_priority, NULL);
	if (rv == 0)
		rv = c->server ? ngtcp2_crypto_gnutls_configure_server_session(im->tls)
			       : ngtcp2_crypto_gnutls_configure_client_session(im->tls);
	if (rv != 0) {
		quic_set_detail(&c->close, "TLS session setup failed");
		return -EPROTO;
	}
	im->conn_ref.get_conn = get_conn;
	im->conn_ref.user_data = c;
	gnutls_session_set_ptr(im->tls, &im->conn_ref);

	gnutls_datum_t alpn[QUIC_MAX_ALPN];
	if (c->server) {
		struct quic_server_ctx *sctx = im->sctx;
		const char *names[QUIC_MAX_ALPN];
		for (size_t i = 0; i < sctx->nalpn; i++)
			names[i] = sctx->alpn[i];
		alpn_datums(alpn, names, sctx->nalpn);
		rv = gnutls_credentials_set(im->tls, GNUTLS_CRD_CERTIFICATE, sctx->cred->cred);
		if (rv == 0 && sctx->nalpn)
			rv = gnutls_alpn_set_protocols(im->tls, alpn, (unsigned)sctx->nalpn,
						       GNUTLS_ALPN_MANDATORY |
							       GNUTLS_ALPN_SERVER_PRECEDENCE);
		if (sctx->sni)
			gnutls_handshake_set_post_client_hello_function(im->tls, post_client_hello);
	} else {
		struct quic_client_ctx *cctx = im->cctx;
		if (alpn_datums(alpn, o->alpn, o->nalpn) != 0) {
			quic_set_detail(&c->close, "bad ALPN list");
			return -EINVAL;
		}
		rv = gnutls_credentials_set(im->tls, GNUTLS_CRD_CERTIFICATE, cctx->cred);
		if (rv == 0 && o->nalpn)
			rv = gnutls_alpn_set_protocols(im->tls, alpn, (unsigned)o->nalpn,
						       GNUTLS_ALPN_MANDATORY);
		if (rv == 0 && o->sni && !is_ip_literal(o->sni))
			rv = gnutls_server_name_set(im->tls, GNUTLS_NAME_DNS, o->sni, strlen(o->sni));
		if (rv == 0 && !cctx->insecure) {
			const char *host = o->verify_host ? o->verify_host : o->sni;
			if (host) {
				snprintf(im->verify_host, sizeof im->verify_host, "%s", host);
			} else {
				const struct sockaddr *sa = o->remote;
				const void *ip = sa->sa_family == AF_INET6
							 ? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
							 : (const void *)&((const struct sockaddr_in *)sa)->sin_addr;
				inet_ntop(sa->sa_family, ip, im->verify_host, sizeof im->verify_host);
			}
			/* GnuTLS 3.7 keeps this pointer for the session's life (it copies nothing):
			 * the name lives in the connection, not in the caller's memory. */
			gnutls_session_set_verify_cert(im->tls, im->verify_host, 0);
		}
	}
	if (rv != 0) {
		quic_set_detail(&c->close, "TLS setup: %s", gnutls_strerror(rv));
		return -EPROTO;
	}
	if (keylog_of(c)->file)
		gnutls_session_set_keylog_function(im->tls, keylog_cb);
	return 0;
}

/* ---------------------------------------------------------------- contexts */

int quic_client_ctx_init(struct quic_client_ctx *ctx, const char *cafile, bool insecure,
			 const char *keylog_path, const char **why)
{
	memset(ctx, 0, sizeof *ctx);
	gnutls_certificate_credentials_t cred = NULL;
	int err = -ENOMEM;
	if (gnutls_certificate_allocate_credentials(&cred) != 0) {
		cred = NULL;
		if (why)
			*why = "out of memory";
		goto out;
	}
	err = -EINVAL;
	if (cafile) {
		if (gnutls_certificate_set_x509_trust_file(cred, cafile, GNUTLS_X509_FMT_PEM) <= 0) {
			if (why)
				*why = "no certificate could be read from the CA file";
			goto out;
		}
	} else if (!insecure && gnutls_certificate_set_x509_system_trust(cred) < 0) {
		if (why)
			*why = "the system trust store cannot be read";
		goto out;
	}
	if (gnutls_rnd(GNUTLS_RND_RANDOM, ctx->secret, sizeof ctx->secret) != 0) {
		if (why)
			*why = "no random bytes";
		goto out;
	}
	if (keylog_open(&ctx->keylog, keylog_path, why) != 0)
		goto out;
	ctx->insecure = insecure;
	ctx->cred = cred;
	cred = NULL;
	err = 0;
out:
	if (cred)
		gnutls_certificate_free_credentials(cred);
	return err;
}

void quic_client_ctx_free(struct quic_client_ctx *ctx)
{
	if (!ctx)
		return;
	if (ctx->cred)
		gnutls_certificate_free_credentials(ctx->cred);
	keylog_close(&ctx->keylog);
	memset(ctx, 0, sizeof *ctx);
}

static int cred_load(struct quic_cred *cr, const gnutls_datum_t *cert, const gnutls_datum_t *key,
		     const char *cert_path, const char *key_path, const char **why)
{
	memset(cr, 0, sizeof *cr);
	gnutls_certificate_credentials_t cred;
	if (gnutls_certificate_allocate_credentials(&cred) != 0) {
		if (why)
			*why = "out of memory";
		return -ENOMEM;
	}
	int rv = cert ? gnutls_certificate_set_x509_key_mem2(cred, cert, key, GNUTLS_X509_FMT_PEM,
							     NULL, 0)
		      : gnutls_certificate_set_x509_key_file2(cred, cert_path, key_path,
							      GNUTLS_X509_FMT_PEM, NULL, 0);
	if (rv < 0) {
		gnutls_certificate_free_credentials(cred);
		if (why)
			*why = "the certificate or key cannot be loaded";
		return -EINVAL;
	}
	cr->cred = cred;
	return 0;
}

int quic_cred_init_pem(struct quic_cred *cr, const char *cert_pem, size_t cert_len,
		       const char *key_pem, size_t key_len, const char **why)
{
	gnutls_datum_t cert = {(unsigned char *)cert_pem, (unsigned)cert_len};
	gnutls_datum_t key = {(unsigned char *)key_pem, (unsigned)key_len};
	return cred_load(cr, &cert, &key, NULL, NULL, why);
}

int quic_cred_init_files(struct quic_cred *cr, const char *cert_path, const char *key_path,
			 const char **why)
{
	return cred_load(cr, NULL, NULL, cert_path, key_path, why);
}

void quic_cred_free(struct quic_cred *cr)
{
	if (!cr)
		return;
	if (cr->cred)
		gnutls_certificate_free_credentials(cr->cred);
	cr->cred = NULL;
}

int quic_server_ctx_init(struct quic_server_ctx *ctx, const struct quic_cred *cred,
			 const char *const *alpn, size_t nalpn,
			 const uint8_t secret[QUIC_SECRET_LEN], const char *keylog_path,
			 const char **why)
{
	memset(ctx, 0, sizeof *ctx);
	gnutls_datum_t check[QUIC_MAX_ALPN];
	if (!cred || !cred->cred || alpn_datums(check, alpn, nalpn) != 0) {
		if (why)
			*why = !cred || !cred->cred ? "no certificate" : "bad ALPN list";
		return -EINVAL;
	}
	for (size_t i = 0; i < nalpn; i++)
		snprintf(ctx->alpn[i], sizeof ctx->alpn[i], "%s", alpn[i]);
	ctx->nalpn = nalpn;
	ctx->cred = cred;
	memcpy(ctx->secret, secret, QUIC_SECRET_LEN);
	return keylog_open(&ctx->keylog, keylog_path, why);
}

void quic_server_ctx_free(struct quic_server_ctx *ctx)
{
	if (!ctx)
		return;
	keylog_close(&ctx->keylog);
	memset(ctx, 0, sizeof *ctx);
}
