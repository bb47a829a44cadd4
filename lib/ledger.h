/* ledger — the vocabulary every part's ledger shares: failure classes (SPEC §4),
 * the phases a connection goes through, how a connection ended, and a JSON Lines
 * writer. Names returned here are the stable strings used in JSON and reports;
 * changing one is a format change (docs/run-json.md).
 */
#ifndef TP_LEDGER_H
#define TP_LEDGER_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#ifndef _WIN32 /* no jansson for mingw: Windows builds write lines with lib/jsonw */
#include <jansson.h>
#endif

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

/* A JSON Lines file shared by threads: the proxy's and the origin's workers all append
 * to one. The writer owns its lock, so callers need no serialising of their own; each
 * record is serialised outside the lock and written and flushed as one line under it,
 * so lines never interleave and a run killed half-way leaves only whole lines.
 *
 * Caller memory: a zero-filled struct ledger_file is a closed ledger (ledger_is_open()
 * false, ledger_close() a no-op); ledger_open() makes it open; ledger_close() makes it
 * closed again. Open and close from one thread while no other writes. */
#define LEDGER_RUN_MAX 64  /* a run id is 1..64 characters of [A-Za-z0-9._-] */
#define LEDGER_LINE_BUF 65536 /* stdio buffer: a line up to this long leaves in one write */

struct ledger_file {
	FILE *fp;             /* NULL when closed */
	char run[LEDGER_RUN_MAX + 1]; /* ledger_set_run(): every line gets "run", or "" */
	pthread_mutex_t lock; /* initialised by ledger_open, destroyed by ledger_close */
	uint64_t lost;        /* lines ledger_write() failed to write (read it once the
			       * writers are done: the owner reports it) */
	int error;            /* the first failure's negative errno, 0 when none */
};

/* Opens path for appending. Returns 0 or -errno (the ledger stays closed). */
int ledger_open(struct ledger_file *lf, const char *path);
/* Is id a run id (`--run-id`, docs/ledgers.md): 1..LEDGER_RUN_MAX characters, each a
 * letter, digit, '.', '_' or '-'? A run id goes into file names and JSON unescaped. */
bool ledger_run_id_valid(const char *id);
/* From now on every line written carries "run": id as its last member — added by
 * ledger_write_line(), the one writer, whoever built the line (an open ledger; call
 * before other threads write). Returns 0, or -EINVAL for an id that is not valid. */
int ledger_set_run(struct ledger_file *lf, const char *id);
/* True between a successful ledger_open() and ledger_close(): callers test it before
 * building a record nobody will read. */
static inline bool ledger_is_open(const struct ledger_file *lf) { return lf && lf->fp; }
#ifndef _WIN32
/* Thread-safe. Writes obj as one compact JSON line through ledger_write_line() (which
 * adds "run"), and decrefs it (steals the reference, also on failure). Linux only (no
 * jansson for mingw): the parts' own lines are built with lib/jsonw. Returns 0,
 * -EBADF when the ledger is closed, -ENOMEM when obj cannot be serialised, -EIO when
 * the line cannot be written; the last two also count in lost and error. */
int ledger_write(struct ledger_file *lf, json_t *obj);
#endif
/* Thread-safe. Writes a finished line — line[0..len), one JSON document without a
 * newline, as lib/jsonw makes it — followed by '\n', in one write, flushed; with a run
 * id set (ledger_set_run) the document must be an object, and "run" is added as its
 * last member. line[len] must be writable (jsonw_finish() leaves a NUL there): it holds
 * the '\n' during the write and is given back. Returns 0, -EBADF when the ledger is
 * closed, -EINVAL for a line holding a newline (or, with a run id, not an object),
 * -EIO when the line cannot be written (counted in lost and
 * error, as a caller's failure to build the line should be: pass a negative len, its
 * errno, to count it the same way). */
int ledger_write_line(struct ledger_file *lf, char *line, long len);
/* Closes the file. NULL-safe; a closed ledger is left alone. */
void ledger_close(struct ledger_file *lf);

#endif
