/* ledger — see ledger.h. */
#include "lib/ledger.h"

#include <errno.h>
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
	if (strcmp(path, "-") == 0) {
		*lf = (struct ledger_file){.fp = stdout, .owned = false};
		return 0;
	}
	FILE *fp = fopen(path, "a");
	if (!fp)
		return -errno;
	*lf = (struct ledger_file){.fp = fp, .owned = true};
	return 0;
}

int ledger_write(struct ledger_file *lf, json_t *obj)
{
	int rc = 0;
	if (!lf->fp || json_dumpf(obj, lf->fp, JSON_COMPACT) < 0 || fputc('\n', lf->fp) == EOF ||
	    fflush(lf->fp) != 0)
		rc = -EIO;
	json_decref(obj);
	return rc;
}

void ledger_close(struct ledger_file *lf)
{
	if (!lf || !lf->fp)
		return;
	if (lf->owned)
		fclose(lf->fp);
	lf->fp = NULL;
}
