/* inject — where the reference proxy's faults act on a session. One function per hook
 * of fault.h's table: each decides (does a fault of this tunnel act here, in this
 * direction, at this byte?) and acts (cuts, flips, holds, closes) in one place.
 * session.c, relay.c and forward.c call them at the points the table names; nothing
 * else looks at a tunnel's faults.
 *
 * Functions that can close the session say so: after a return that says "closed" the
 * session is freed and must not be touched.
 */
#ifndef TP_PROXY_INJECT_H
#define TP_PROXY_INJECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proxy-under-test/session.h"

/* At accept: picks the faults that hit tunnel s->number into s->faults and prepares
 * the slow fault's timer. */
void inject_init(struct session *s);
/* At close: stops the timer. NULL-safe. */
void inject_free(struct session *s);

/* The request is known, nothing has gone out (every mode): close-before-reply closes
 * the session, refuse answers 403 / SOCKS reply 2 and closes once that is sent. True
 * when a fault took the session over (it may be freed): the caller stops. */
bool inject_request(struct session *s);
/* The outbound leg is up (CONNECT, SOCKS5): queues the success reply reply[0..len) for
 * the client — half of it, then close, for close-mid-reply; all of it, then close, for
 * close-after-accept. */
void inject_reply(struct session *s, const char *reply, size_t len);
/* buf[0..len) are the bytes just read from the source of f, already counted in
 * f->received: corrupt flips the low bit of byte at=N when it is among them. */
void inject_read(struct session *s, const struct flow *f, char *buf, size_t len);
/* f (origin → client) holds the end of a chunked body, or may (tunnels: the bytes just
 * read): drop-chunk-end takes the last chunk "0\r\n\r\n" out of f, counted as dropped.
 * True when it did: the caller ends the client's side. */
bool inject_last_chunk(struct session *s, struct flow *f);
/* The relay is about to write *want pending bytes of f: truncate, rst and stall cut the
 * direction at byte after=N (*want is trimmed to reach it exactly, then the cut is
 * made: truncate drops the rest and ends with FIN, rst with an RST, stall holds the
 * bytes); slow trims *want to what this second allows. Returns 1 write *want bytes,
 * 0 write nothing now (stalled, or waiting for the next second), -1 the session was
 * closed. */
int inject_write(struct session *s, struct flow *f, size_t *want);
/* The source of f sent FIN: no-fin keeps it from the other side, full-close closes the
 * whole session. Returns 1 pass the FIN on, 0 keep it, -1 the session was closed. */
int inject_eof(struct session *s, struct flow *f);

#endif
