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
	FILE *fp = fopen(path, "ab"); /* binary: Windows would end lines with CR LF */
	if (!fp)
		return -errno;
	/* Fully buffered, with room for a whole line: each line leaves in one write() at
	 * its fflush, so a run killed half-way leaves whole lines. */
	setvbuf(fp, NULL, _IOFBF, LEDGER_LINE_BUF);
	int err = pthread_mutex_init(&lf->lock, NULL);
	if (err) {
		fclose(fp);
		return -err;
	}
	lf->fp = fp;
	return 0;
}

/* Counts a line that was lost, remembering the first reason. Under the lock. */
static void count_lost(struct ledger_file *lf, int rc)
{
	lf->lost++;
	if (!lf->error)
		lf->error = rc;
}

int ledger_write_line(struct ledger_file *lf, char *line, long len)
{
	if (!ledger_is_open(lf))
		return -EBADF;
	if (len >= 0 && memchr(line, '\n', (size_t)len))
		return -EINVAL;
	/* With a run id, the line is an object that gets "run" as its last member. */
	if (len >= 0 && lf->run[0] && (len < 2 || line[0] != '{' || line[len - 1] != '}'))
		return -EINVAL;
	pthread_mutex_lock(&lf->lock);
	int rc = 0;
	if (len < 0) {
		rc = (int)len; /* the caller could not build it: counted as lost */
	} else if (lf->run[0]) {
		/* The id needs no escaping (ledger_run_id_valid); "{}" has no member before it. */
		size_t body = (size_t)len - 1;
		if (fwrite(line, 1, body, lf->fp) != body ||
		    fprintf(lf->fp, "%s\"run\":\"%s\"}\n", len > 2 ? "," : "", lf->run) < 0 ||
		    fflush(lf->fp) != 0)
			rc = -EIO;
	} else {
		char end = line[len];
		line[len] = '\n';
		if (fwrite(line, 1, (size_t)len + 1, lf->fp) != (size_t)len + 1 || fflush(lf->fp) != 0)
			rc = -EIO;
		line[len] = end;
	}
	if (rc < 0)
		count_lost(lf, rc);
	pthread_mutex_unlock(&lf->lock);
	return rc;
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

#ifndef _WIN32
int ledger_write(struct ledger_file *lf, json_t *obj)
{
	if (!ledger_is_open(lf)) {
		json_decref(obj);
		return -EBADF;
	}
	/* "run" is added by ledger_write_line(), as for every line. */
	char *line = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	int rc = ledger_write_line(lf, line, line ? (long)strlen(line) : -ENOMEM);
	free(line);
	return rc;
}
#endif

void ledger_close(struct ledger_file *lf)
{
	if (!ledger_is_open(lf))
		return;
	fclose(lf->fp);
	lf->fp = NULL;
	pthread_mutex_destroy(&lf->lock);
}
