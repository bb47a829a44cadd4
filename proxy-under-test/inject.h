/* inject — where the reference proxy's faults act on a session. One function per hook
 * of fault.h's table: each decides (does a fault of this tunnel act here, in this
 * direction, at this byte?) and acts (cuts, flips, holds, closes) in one place, and
 * counts the act in s->fault_acts, so the ledger can say when a fault could not act
 * (fault_acted: false). session.c, relay.c and forward.c call them at the points the
 * table names; nothing else looks at a tunnel's faults.
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

struct proxy_worker;

/* At accept: no fault hits the session until inject_pick(); prepares the slow timer. */
void inject_init(struct session *s);
/* At close: stops the timer. NULL-safe. */
void inject_free(struct session *s);

/* The request is known: picks the faults that hit it into s->faults by its key
 * (docs/proxy.md "Which requests a fault hits"): the X-Probe-Id without its first
 * dash-separated field (the probe's random run prefix) when the request carried one,
 * else the target host and its per-host sequence number ("host#k", counted across the
 * workers; the port is left out, as a test origin's changes from run to run). The key
 * goes into s->fault_key. Nothing without faults. */
void inject_pick(struct session *s);
/* The request is known, nothing has gone out (every mode): close-before-reply closes
 * the session, refuse answers 403 / SOCKS reply 2 and closes once that is sent. True
 * when a fault took the session over (it may be freed): the caller stops. */
bool inject_request(struct session *s);
/* The outbound leg is up. Tunnels: queues the success reply reply[0..len) — half of
 * it, then close, for close-mid-reply; all of it, then close, for close-after-accept;
 * returns false. Forward sessions (reply NULL: the proxy has no reply of its own):
 * close-after-accept closes the session before the request goes out and returns true
 * (freed); else false. */
bool inject_reply(struct session *s, const char *reply, size_t len);
/* Forward: a response head of len bytes (rewritten) is about to be queued for the
 * client. Returns how many of them to queue: all, or half for close-mid-reply (the
 * session then closes once they are sent; the caller sets nothing). */
size_t inject_response_head(struct session *s, size_t len);
/* buf[0..len) are the bytes just read from the source of f, already counted in
 * f->received: corrupt flips the low bit of byte at=N when it is among them. */
void inject_read(struct session *s, const struct flow *f, char *buf, size_t len);
/* f holds the end of a chunked body, or may (tunnels: the bytes just read): drop-chunk-
 * end of f's direction takes the last chunk "0\r\n\r\n" out of f, counted as dropped.
 * True when it did: the caller ends f's direction (FIN toward its receiver). */
bool inject_last_chunk(struct session *s, struct flow *f);
/* The relay is about to write *want pending bytes of f: truncate, rst and stall cut the
 * direction at byte after=N (*want is trimmed to reach it exactly, then the cut is
 * made: truncate drops the rest and ends with FIN, rst with an RST, stall holds the
 * bytes); slow trims *want to what this second allows. Returns 1 write *want bytes,
 * 0 write nothing now (stalled, or waiting for the next second), -1 the session was
 * closed. */
int inject_write(struct session *s, struct flow *f, size_t *want);
/* A write of f's relayed bytes to a streams leg completed (relay_written(); its count
 * is in f->sent): when relayed bytes of f's buffer are still unsent and f->sent has
 * reached after=N, short-send-drop of f's direction takes the completion for the end of
 * them — the incident's IOCP bug, acting on a real completion: counted as a short
 * send, the rest of the buffer and every byte the source sends this way from now on
 * dropped (counted, never written: f->discard), FIN toward the receiver at once.
 * Returns 1 (the relay goes on: the source is still read, to its end, so `dropped`
 * ends equal to what the receiver missed). */
int inject_sent(struct session *s, struct flow *f);
/* The source of f sent FIN: no-fin keeps it from the other side, full-close closes the
 * whole session. Returns 1 pass the FIN on, 0 keep it, -1 the session was closed. */
int inject_eof(struct session *s, struct flow *f);
/* Reading the source of f failed with a reset: reset-as-fin of f's direction passes it
 * on as an orderly end instead — the source's end is recorded as rst, the act counted —
 * and returns true: the caller then ends f as if a FIN had been read (relay_propagate_eof
 * and the faults of that hook still apply). False: pass the reset on as a reset. */
bool inject_reset(struct session *s, struct flow *f);
/* The fault key of a request (docs/proxy.md "Which requests a fault hits"), into
 * out[0..cap): the probe id without its first dash-separated field when id is not empty,
 * else host and its per-host sequence number among w's proxy's tunnels ("host#k"). */
void inject_key(struct proxy_worker *w, const char *id, const char *host, char *out, size_t cap);
/* Copies the session's fault act counts (for a forward request's line). */
void inject_snapshot(const struct session *s, uint32_t acts[FAULT_MAX]);

#endif
