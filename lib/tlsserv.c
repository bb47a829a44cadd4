/* tlsserv — see tlsserv.h. Keys are P-256 (fast to make); certificates last two days. */
#include "lib/tlsserv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

static EVP_PKEY *new_key(void)
{
	return EVP_EC_gen("P-256");
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, issuer, cert, NULL, NULL, 0);
	X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	if (!ext)
		return -1;
	int ok = X509_add_ext(cert, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

/* A certificate for key, signed by (issuer, issuer_key) or self-signed. */
static X509 *make_cert(EVP_PKEY *key, const char *cn, const char *san, bool ca, X509 *issuer,
		       EVP_PKEY *issuer_key)
{
	static long serial;
	X509 *cert = X509_new();
	if (!cert)
		return NULL;
	X509_set_version(cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(cert), (long)time(NULL) * 1000 + (++serial % 1000));
	X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
	X509_gmtime_adj(X509_getm_notAfter(cert), 2 * 24 * 3600);
	X509_set_pubkey(cert, key);
	X509_NAME *name = X509_get_subject_name(cert);
	X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"tunnelprobe", -1, -1, 0);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(cert, issuer ? X509_get_subject_name(issuer) : name);
	X509 *iss = issuer ? issuer : cert;
	bool ok = add_ext(cert, iss, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE") == 0 &&
		  add_ext(cert, iss, NID_key_usage,
			  ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature") == 0 &&
		  add_ext(cert, iss, NID_subject_key_identifier, "hash") == 0 &&
		  (!issuer || add_ext(cert, iss, NID_authority_key_identifier, "keyid") == 0) &&
		  (!san || add_ext(cert, iss, NID_subject_alt_name, san) == 0) &&
		  (ca || add_ext(cert, iss, NID_ext_key_usage, "serverAuth") == 0) &&
		  X509_sign(cert, issuer_key ? issuer_key : key, EVP_sha256()) > 0;
	if (!ok) {
		X509_free(cert);
		return NULL;
	}
	return cert;
}

static int on_sni(SSL *ssl, int *alert, void *arg);

/* A server SSL_CTX presenting a fresh leaf for san, signed by the CA. */
static SSL_CTX *leaf_ctx(struct tlsserv *ts, const char *cn, const char *san)
{
	EVP_PKEY *key = new_key();
	X509 *cert = key ? make_cert(key, cn, san, false, ts->ca_cert, ts->ca_key) : NULL;
	SSL_CTX *ctx = cert ? SSL_CTX_new(TLS_server_method()) : NULL;
	if (ctx) {
		SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
		SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
					      SSL_MODE_RELEASE_BUFFERS);
		SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
		if (SSL_CTX_use_certificate(ctx, cert) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
		    SSL_CTX_add1_chain_cert(ctx, ts->ca_cert) != 1) {
			SSL_CTX_free(ctx);
			ctx = NULL;
		} else {
			SSL_CTX_set_tlsext_servername_callback(ctx, on_sni);
			SSL_CTX_set_tlsext_servername_arg(ctx, ts);
		}
	}
	X509_free(cert);
	EVP_PKEY_free(key);
	return ctx;
}

/* A name a leaf can be made for: a non-empty host name that fits a leaf's slot. */
static bool host_name_ok(const char *name)
{
	if (!name || !*name || strlen(name) >= sizeof ((struct tlsserv_leaf *)0)->name)
		return false;
	for (const char *c = name; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
		      *c == '-' || *c == '.'))
			return false;
	return true;
}

/* Switches the connection to a leaf for the name asked for, made on first use. */
static int on_sni(SSL *ssl, int *alert, void *arg)
{
	struct tlsserv *ts = arg;
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
	(void)alert;
	if (!host_name_ok(name))
		return SSL_TLSEXT_ERR_OK; /* none, or not a host name: keep the default */
	SSL_CTX *found = NULL;
	pthread_mutex_lock(&ts->lock);
	for (size_t i = 0; i < ts->nleaves && !found; i++)
		if (strcasecmp(ts->leaves[i].name, name) == 0)
			found = ts->leaves[i].ctx;
	if (!found && ts->nleaves < TLSSERV_MAX_NAMES) {
		char san[300];
		snprintf(san, sizeof san, "DNS:%s", name);
		found = leaf_ctx(ts, name, san);
		if (found) {
			snprintf(ts->leaves[ts->nleaves].name, sizeof ts->leaves[0].name, "%s", name);
			ts->leaves[ts->nleaves++].ctx = found;
		}
	}
	pthread_mutex_unlock(&ts->lock);
	if (found)
		SSL_set_SSL_CTX(ssl, found);
	return SSL_TLSEXT_ERR_OK;
}

int tlsserv_init(struct tlsserv *ts, const char *ca_path, const char **why)
{
	memset(ts, 0, sizeof *ts);
	pthread_mutex_init(&ts->lock, NULL);
	EVP_PKEY *ca_key = new_key();
	X509 *ca = ca_key ? make_cert(ca_key, "tunnelprobe test CA", NULL, true, NULL, NULL) : NULL;
	if (!ca) {
		EVP_PKEY_free(ca_key);
		*why = "cannot make the CA";
		return -ENOMEM;
	}
	ts->ca_key = ca_key;
	ts->ca_cert = ca;
	ts->ctx = leaf_ctx(ts, "localhost", "DNS:localhost,IP:127.0.0.1,IP:::1");
	if (!ts->ctx) {
		*why = "cannot make the default certificate";
		tlsserv_free(ts);
		return -ENOMEM;
	}
	if (ca_path) {
		FILE *fp = fopen(ca_path, "w");
		if (!fp || PEM_write_X509(fp, ca) != 1) {
			if (fp)
				fclose(fp);
			*why = "cannot write the CA file";
			tlsserv_free(ts);
			return -EIO;
		}
		fclose(fp);
	}
	return 0;
}

void tlsserv_free(struct tlsserv *ts)
{
	if (!ts)
		return;
	for (size_t i = 0; i < ts->nleaves; i++)
		SSL_CTX_free(ts->leaves[i].ctx);
	ts->nleaves = 0;
	SSL_CTX_free(ts->ctx);
	X509_free(ts->ca_cert);
	EVP_PKEY_free(ts->ca_key);
	ts->ctx = ts->ca_cert = ts->ca_key = NULL;
	pthread_mutex_destroy(&ts->lock);
}

int tlsserv_conn_init(struct tlsserv *ts, struct tls_conn *tc, int fd)
{
	memset(tc, 0, sizeof *tc);
	SSL *ssl = SSL_new(ts->ctx);
	if (!ssl)
		return -ENOMEM;
	SSL_set_fd(ssl, fd);
	SSL_set_accept_state(ssl);
	SSL_set_app_data(ssl, tc);
	tc->ssl = ssl;
	return 0;
}

/* The PEM text a BIO holds, as a malloc'd NUL-terminated copy. */
static char *bio_text(BIO *bio, size_t *len)
{
	char *data;
	long n = BIO_get_mem_data(bio, &data);
	char *out = n > 0 ? malloc((size_t)n + 1) : NULL;
	if (!out)
		return NULL;
	memcpy(out, data, (size_t)n);
	out[n] = '\0';
	*len = (size_t)n;
	return out;
}

int tlsserv_leaf_pem_san(struct tlsserv *ts, const char *cn, const char *san, char **cert,
			 size_t *cert_len, char **key, size_t *key_len)
{
	*cert = *key = NULL;
	int rc = -ENOMEM;
	EVP_PKEY *pkey = new_key();
	X509 *leaf = NULL;
	BIO *cbio = BIO_new(BIO_s_mem()), *kbio = BIO_new(BIO_s_mem());
	if (!pkey || !cbio || !kbio)
		goto out;
	pthread_mutex_lock(&ts->lock); /* make_cert's serial counter */
	leaf = make_cert(pkey, cn, san, false, ts->ca_cert, ts->ca_key);
	pthread_mutex_unlock(&ts->lock);
	if (!leaf)
		rc = -EINVAL; /* a key but no certificate: the san was refused */
	if (!leaf || PEM_write_bio_X509(cbio, leaf) != 1 || PEM_write_bio_X509(cbio, ts->ca_cert) != 1 ||
	    PEM_write_bio_PrivateKey(kbio, pkey, NULL, NULL, 0, NULL, NULL) != 1)
		goto out;
	*cert = bio_text(cbio, cert_len);
	*key = bio_text(kbio, key_len);
	if (!*cert || !*key) {
		free(*cert);
		free(*key);
		*cert = *key = NULL;
		rc = -ENOMEM;
		goto out;
	}
	rc = 0;
out:
	BIO_free(cbio);
	BIO_free(kbio);
	X509_free(leaf);
	EVP_PKEY_free(pkey);
	return rc;
}

int tlsserv_leaf_pem(struct tlsserv *ts, const char *name, char **cert, size_t *cert_len,
		     char **key, size_t *key_len)
{
	*cert = *key = NULL;
	if (!name || !*name)
		return tlsserv_leaf_pem_san(ts, "localhost", "DNS:localhost,IP:127.0.0.1,IP:::1", cert,
					    cert_len, key, key_len);
	if (!host_name_ok(name))
		return -EINVAL;
	char san[300];
	snprintf(san, sizeof san, "DNS:%s", name);
	return tlsserv_leaf_pem_san(ts, name, san, cert, cert_len, key, key_len);
}
