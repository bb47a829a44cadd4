/* ledger — see ledger.h. */
#include "lib/ledger.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const class_names[TP_CLASS_COUNT] = {
	[TP_OK] = "ok",
	[TP_DNS_ERROR] = "dns_error",
	[TP_CONNECT_ERROR] = "connect_error",
	[TP_PROXY_REFUSED] = "proxy_refused",
	[TP_PROXY_CONNECT_ABORTED] = "proxy_connect_aborted",
	[TP_TUNNEL_CLOSED_EARLY] = "tunnel_closed_early",
	[TP_TLS_ERROR] = "tls_error",
	[TP_TLS_ALERT] = "tls_alert",
	[TP_TIMEOUT] = "timeout",
	[TP_RESET] = "reset",
	[TP_INCOMPLETE_READ] = "incomplete_read",
	[TP_CORRUPT_BODY] = "corrupt_body",
	[TP_HTTP_ERROR] = "http_error",
	[TP_PROTOCOL_ERROR] = "protocol_error",
};

static const char *const phase_names[TP_PHASE_COUNT] = {
	[TP_PHASE_DNS] = "dns",
	[TP_PHASE_CONNECT] = "connect",
	[TP_PHASE_PROXY] = "proxy",
	[TP_PHASE_TLS] = "tls",
	[TP_PHASE_REQUEST] = "request",
	[TP_PHASE_FIRST_BYTE] = "first_byte",
	[TP_PHASE_HEADERS] = "headers",
	[TP_PHASE_BODY] = "body",
	[TP_PHASE_FIN] = "fin",
	[TP_PHASE_DONE] = "done",
};

const char *tp_class_name(enum tp_class c)
{
	return (unsigned)c < TP_CLASS_COUNT ? class_names[c] : NULL;
}

int tp_class_from_name(const char *name)
{
	for (int i = 0; i < TP_CLASS_COUNT; i++)
		if (strcmp(class_names[i], name) == 0)
			return i;
	return -1;
}

const char *tp_phase_name(enum tp_phase p)
{
	return (unsigned)p < TP_PHASE_COUNT ? phase_names[p] : NULL;
}

int tp_phase_from_name(const char *name)
{
	for (int i = 0; i < TP_PHASE_COUNT; i++)
		if (strcmp(phase_names[i], name) == 0)
			return i;
	return -1;
}

int ledger_open(struct ledger_file *lf, const char *path)
{
	*lf = (struct ledger_file){0};
	FILE *fp = fopen(path, "a");
	if (!fp)
		return -errno;
	int err = pthread_mutex_init(&lf->lock, NULL);
	if (err) {
		fclose(fp);
		return -err;
	}
	lf->fp = fp;
	return 0;
}

bool ledger_run_id_valid(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n > LEDGER_RUN_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = id[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  c == '.' || c == '_' || c == '-';
		if (!ok)
			return false;
	}
	return true;
}

int ledger_set_run(struct ledger_file *lf, const char *id)
{
	if (!ledger_run_id_valid(id))
		return -EINVAL;
	snprintf(lf->run, sizeof lf->run, "%s", id);
	return 0;
}

int ledger_write(struct ledger_file *lf, json_t *obj)
{
	if (!ledger_is_open(lf)) {
		json_decref(obj);
		return -EBADF;
	}
	if (lf->run[0])
		json_object_set_new(obj, "run", json_string(lf->run));
	char *line = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	size_t len = line ? strlen(line) : 0;
	if (line)
		line[len] = '\n'; /* json_dumps' NUL becomes the line end: one fwrite per line */
	pthread_mutex_lock(&lf->lock);
	int rc = 0;
	if (!line)
		rc = -ENOMEM;
	else if (fwrite(line, 1, len + 1, lf->fp) != len + 1 || fflush(lf->fp) != 0)
		rc = -EIO;
	if (rc < 0) {
		lf->lost++;
		if (!lf->error)
			lf->error = rc;
	}
	pthread_mutex_unlock(&lf->lock);
	free(line);
	return rc;
}

void ledger_close(struct ledger_file *lf)
{
	if (!ledger_is_open(lf))
		return;
	fclose(lf->fp);
	lf->fp = NULL;
	pthread_mutex_destroy(&lf->lock);
}
