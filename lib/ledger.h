/* ledger — the vocabulary every part's ledger shares: failure classes (SPEC §4),
 * the phases a connection goes through, how a connection ended, and a JSON Lines
 * writer. Names returned here are the stable strings used in JSON and reports;
 * changing one is a format change (docs/run-json.md).
 */
#ifndef TP_LEDGER_H
#define TP_LEDGER_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

enum tp_class {
	TP_OK = 0,
	TP_DNS_ERROR,
	TP_CONNECT_ERROR,
	TP_PROXY_REFUSED,          /* non-2xx CONNECT reply, SOCKS reply != 0 */
	TP_PROXY_CONNECT_ABORTED,  /* the proxy closed before its CONNECT/SOCKS reply was complete */
	TP_TUNNEL_CLOSED_EARLY,    /* success reply, then closed before the first response byte */
	TP_TLS_ERROR,
	TP_TLS_ALERT,
	TP_TIMEOUT,
	TP_RESET,
	TP_INCOMPLETE_READ,
	TP_CORRUPT_BODY,
	TP_HTTP_ERROR,
	TP_PROTOCOL_ERROR,
	TP_CLASS_COUNT
};

/* Where a connection was when it ended (curl-style named states). */
enum tp_phase {
	TP_PHASE_DNS = 0,
	TP_PHASE_CONNECT,
	TP_PHASE_PROXY,      /* CONNECT or SOCKS5 exchange with the proxy */
	TP_PHASE_TLS,
	TP_PHASE_REQUEST,    /* sending the request */
	TP_PHASE_FIRST_BYTE, /* waiting for the first response byte */
	TP_PHASE_HEADERS,    /* reading the response head */
	TP_PHASE_BODY,
	TP_PHASE_FIN,        /* body complete by framing... or waiting for the end of a
			      * close-delimited body that never comes */
	TP_PHASE_DONE,
	TP_PHASE_COUNT
};

/* "ok", "incomplete_read", ...; NULL for an out-of-range value. */
const char *tp_class_name(enum tp_class c);
/* Returns the class for a name, or -1. */
int tp_class_from_name(const char *name);
/* "dns", "connect", "proxy", "tls", "request", "first_byte", "headers", "body", "fin", "done" */
const char *tp_phase_name(enum tp_phase p);
int tp_phase_from_name(const char *name);

/* A JSON Lines file written by one thread at a time (callers serialise or give each
 * thread its own). */
struct ledger_file {
	FILE *fp;
	bool owned; /* fclose on ledger_close */
};

/* Opens path for appending ("-" is stdout). Returns 0 or -errno. */
int ledger_open(struct ledger_file *lf, const char *path);
/* Writes obj as one compact line and decrefs it (steals the reference). Returns 0 or
 * -EIO. Flushes so a run killed half-way still leaves complete lines. */
int ledger_write(struct ledger_file *lf, json_t *obj);
void ledger_close(struct ledger_file *lf);

#endif
