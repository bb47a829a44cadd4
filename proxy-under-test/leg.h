/* leg — one of a reference proxy session's two connections (the client's, the outbound
 * one) and the only code that does I/O on it. session.c, relay.c and forward.c read,
 * write, watch, shut down and close legs through these calls and never see which of
 * the two drivers is under them (`--io`, chosen once per proxy):
 *
 *  - LEG_READY (the Linux default): readiness. The loop says when (loop_io), and
 *    net_read / net_write (or splice(2), zcopy.h) move bytes at once.
 *  - LEG_STREAMS (the Windows default, and the only shape a completion port has):
 *    completion-style streams (loop_stream). A read is posted into the leg's own
 *    buffer (LEG_RX_FIRST bytes, LEG_RX_BUF once a read filled that) and handed out by
 *    leg_read() once it completed. A write
 *    is posted from the caller's buffer, at most LEG_SLICE bytes at a time, and its
 *    completion — a real WSASend completion on Windows — comes back to the session as
 *    session_on_written() with the count the OS took; the caller's bytes must stay put
 *    until then. On Linux the epoll backend emulates streams, which is how the same
 *    code runs under the sanitizers.
 *
 * Events: the session asks for LOOP_READ / LOOP_WRITE with leg_watch() and is called
 * back with session_on_io(loop, &leg->io, events), in both drivers level-triggered: a
 * streams leg reports LOOP_READ while its buffer holds bytes or its end, and LOOP_WRITE
 * while no write or connect is in flight — from loop_run(), never inside the call.
 *
 * Closing: leg_close() hands the socket back at once in LEG_READY; a streams leg's
 * requests are cancelled first (their callbacks still come, a write's with the bytes
 * the OS had taken) and its socket is closed when the loop says they are done: the
 * session counts such legs in closing_legs, and session_leg_closed() is called for each.
 */
#ifndef TP_PROXY_LEG_H
#define TP_PROXY_LEG_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include "lib/loop.h"
#include "lib/net.h"
#include "lib/zcopy.h"

#define LEG_RX_BUF 16384 /* a streams leg's read buffer (RELAY_BUF: one flow's worth) */
#define LEG_RX_FIRST 1024 /* ... until a read fills this much: what a posted read locks for
			   * a client that sends a handshake, or nothing, and waits */
/* The most a streams leg posts in one write. Smaller than a flow's buffer on purpose:
 * a read's worth of bytes leaves in two or more completions, so a completion that
 * leaves bytes of the buffer unsent is the everyday case — where the incident's bug
 * (short-send-drop, fault.h) can act — and the memory the OS holds locked per
 * connection stays small. */
#define LEG_SLICE 8192
/* leg_write(): the write was posted; its count comes to session_on_written(). */
#define LEG_POSTED (-EINPROGRESS)

enum leg_io { LEG_READY = 0, LEG_STREAMS };

enum leg_end { END_OPEN = 0, END_FIN, END_RST, END_TIMEOUT, END_LOCAL, END_LOCAL_RST };

struct session;
struct leg_stream; /* leg.c's: the loop_stream, the read buffer, what is in flight */

struct leg {
	int fd;              /* -1 when closed (or never opened) */
	struct loop_io io;   /* LEG_READY: the watcher; both: what callbacks name the leg by */
	char local[NET_ADDRSTRLEN], peer[NET_ADDRSTRLEN];
	enum leg_end end;
	bool shut_wr;        /* we sent FIN toward this leg */
	bool readable;       /* LEG_READY: no read has hit EAGAIN (or come back short) since
			      * the last read event: saves a failing read() per step */
	struct leg_stream *cs; /* LEG_STREAMS while open, else NULL */
};

/* Makes the connected fd (accepted) the leg of s, driven by io. Returns 0, or -errno
 * (-ENOMEM, the loop refused the socket) with the fd still the caller's. */
int leg_open(struct session *s, struct leg *leg, int fd, enum leg_io io);
/* Starts connecting the leg to addr; session_on_io(LOOP_WRITE) says it is done and
 * leg_connect_result() how. Returns 0, or -errno: then leg->fd >= 0 means there is
 * something for leg_close() to close (the session's end does it). */
int leg_connect(struct session *s, struct leg *leg, const struct net_addr *addr, enum leg_io io);
/* After the connect's LOOP_WRITE: 0 connected, or the negative errno of the failure. */
int leg_connect_result(const struct leg *leg);

/* Reads up to len bytes into buf (or, zp given, LEG_READY only, splices into that pipe).
 * Returns the count, 0 at the peer's FIN, -EAGAIN nothing now (a streams leg then has a
 * read posted), or -errno. */
long leg_read(struct leg *leg, void *buf, size_t len, struct zpipe *zp);
/* How many of len bytes one leg_write() may take: len, or LEG_SLICE for a streams leg. */
size_t leg_write_max(const struct leg *leg, size_t len);
/* Writes from buf[0..len): LEG_READY returns the count taken or -EAGAIN; a streams leg
 * posts leg_write_max(len) bytes and returns LEG_POSTED (buf must stay put until
 * session_on_written()), or -EAGAIN while a write or connect is in flight. Else -errno. */
long leg_write(struct leg *leg, const void *buf, size_t len);
/* Sends FIN (shutdown of the write side) and sets shut_wr; a closed leg is left alone. */
void leg_shutdown_write(struct leg *leg);
/* Watches the leg for events (LOOP_READ|LOOP_WRITE; 0 stops). Returns 0, or -errno
 * (the loop refused the watcher: -ENOMEM). */
int leg_watch(struct session *s, struct leg *leg, unsigned events);
/* Closes the leg: an RST when reset, else a FIN (unless one was sent) and close. Its end
 * becomes local / local_rst unless already known; fd becomes -1. A closed leg is left
 * alone. A streams leg finishes later (see above). */
void leg_close(struct session *s, struct leg *leg, bool reset);

#endif
