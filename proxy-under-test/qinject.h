/* qinject — where the reference proxy's faults act on a QUIC tunnel: the rows of
 * fault.h's table whose modes include h3-connect and socks5-quic. Like inject.c for TCP
 * tunnels, one function per hook: each decides (does a fault of this tunnel act here, in
 * this direction, at this byte?) and acts in one place, and counts the act in
 * t->fault_acts, so the ledger says when a fault could not act (fault_acted: false).
 * qrelay.c and qtunnel.c call them; nothing else looks at a QUIC tunnel's faults.
 *
 * Byte positions (after=N) count the direction's relayed bytes from the start of the
 * tunnel, as on TCP: down, origin bytes taken by the stream; up, client bytes written to
 * the TCP leg.
 */
#ifndef TP_PROXY_QINJECT_H
#define TP_PROXY_QINJECT_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/quic.h"
#include "proxy-under-test/fault.h"
#include "proxy-under-test/qrelay.h"

/* At the tunnel's start: no fault yet; the fin-delay timer prepared. */
void qinject_init(struct qtun *t);
/* At its end: stops the timer. NULL-safe. */
void qinject_free(struct qtun *t);
/* The request is known: picks the faults that hit it by its key (inject_key(): the probe
 * id without its run prefix, else "host#k"), into t->faults and t->fault_key. */
void qinject_pick(struct qtun *t);
/* FAULT_AT_CREDIT: the receive credit the tunnel's stream gets — QUIC_CREDIT_NONE under
 * flow-starve (its act is counted when the client's bytes reach the window:
 * qinject_starved), else QUIC_CREDIT_MANUAL. */
enum quic_credit qinject_credit(struct qtun *t);
/* Under flow-starve, the client has sent its whole window and gets no more: counted as
 * the fault's act, once. */
void qinject_starved(struct qtun *t);
/* FAULT_AT_WRITE: *want bytes of direction dir are about to be relayed. truncate,
 * reset, close-conn and stall cut at byte after=N (*want is trimmed to reach it
 * exactly, then the cut is made: truncate ends the direction with FIN, reset with
 * RESET_STREAM toward the client or an RST toward the origin, close-conn closes the whole
 * QUIC connection with CONNECTION_CLOSE, stall holds the bytes). Returns 1 relay *want
 * bytes, 0 relay nothing now (stalled), -1 the direction was cut (the tunnel is ending;
 * relay nothing more). */
int qinject_write(struct qtun *t, enum fault_dir dir, size_t *want);
/* FAULT_AT_EOF: the source of dir ended and its end is due toward the other side.
 * no-fin keeps it forever, fin-delay for ms=N (then qrelay_end_due()). Returns 1 pass it
 * on now, 0 held. */
int qinject_eof(struct qtun *t, enum fault_dir dir);
/* FAULT_AT_RESET: the source of dir was reset (an origin RST; the client's RESET_STREAM).
 * Returns true when reset-as-fin passes it on as an orderly end (counted), false to pass
 * the reset on. */
bool qinject_reset(struct qtun *t, enum fault_dir dir);

#endif
