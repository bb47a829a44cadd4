/* fwdledger — the ledger lines of a forward session (forward.h says what they count):
 * one per request, from the byte positions forward.c records, so that per direction
 * received == sent + dropped, and one for the bytes no request took. Nothing here
 * reads or writes a socket; lines go out through relay_write_ledger().
 */
#ifndef TP_PROXY_FWDLEDGER_H
#define TP_PROXY_FWDLEDGER_H

#include "proxy-under-test/forward.h"

struct session;

/* Request q starts (its head was just taken): notes the flow counters and the faults'
 * acts its line counts from. */
void fwdledger_start(struct session *s, struct fwd_req *q);
/* Writes the lines of the requests answered and delivered both ways, in order. */
void fwdledger_lines(struct session *s);
/* The session ends: the bytes still buffered go to the request they belong to (or to
 * none), the proxy's own last answer to the line it answers, then every line not
 * written yet, and the line of bytes no request took. Returns how many lines the
 * session wrote in all (never 0). Not for a session without forward state (returns 0). */
unsigned fwdledger_finish(struct session *s);

#endif
