/* qtunnel — the two framings of the reference proxy's QUIC tunnels, chosen by a
 * connection's ALPN (docs/proxy.md "QUIC"):
 *
 *  "h3"      CONNECT over HTTP/3 (RFC 9114 §4.4). Each request stream is a tunnel:
 *            ":method CONNECT" with ":authority host:port" (no :scheme or :path), the
 *            Proxy-Authorization and X-Probe-Id fields as on TCP; 200 opens it, then
 *            DATA both ways, FIN for FIN. 400 (no or a bad authority), 403 (--allow,
 *            refuse), 405 (any other method; allow: CONNECT), 407 (credentials); a TCP
 *            connect that fails, or a TCP reset later, is a stream error
 *            H3_CONNECT_ERROR (0x10f).
 *  "socks5"  SOCKS5 (RFC 1928, RFC 1929) on raw QUIC streams: each bidirectional stream
 *            the client opens is one tunnel, its first bytes the greeting, the RFC 1929
 *            exchange when --auth asks for it, and the CONNECT request; the replies come
 *            on the same stream, then the tunnel's bytes both ways. After a failure
 *            reply the proxy finishes the stream. Streams end and fail as in "h3", with
 *            the same codes: there is no registry of codes for SOCKS5 on QUIC, so the
 *            proxy uses HTTP/3's.
 *
 * Stream codes the proxy sends (both framings; RESET_STREAM, STOP_SENDING, and
 * CONNECTION_CLOSE for close-conn): QTUNNEL_CONNECT_ERROR the TCP side failed or reset;
 * QTUNNEL_FAULT a fault (reset, close-conn); QTUNNEL_CANCELLED the proxy gave up (an
 * idle tunnel, a handshake not finished in time, shutdown); QTUNNEL_NO_ERROR
 * STOP_SENDING for bytes the proxy no longer wants (after a truncation).
 *
 * The stream operations below hide the framing from qrelay.c: on "h3" they are body
 * bytes through lib/h3, on "socks5" stream bytes through lib/quic. All are no-ops once
 * the stream has closed.
 */
#ifndef TP_PROXY_QTUNNEL_H
#define TP_PROXY_QTUNNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/h3.h"
#include "lib/net.h"
#include "lib/quic.h"
#include "proxy-under-test/qlisten.h"

#define QTUNNEL_NO_ERROR H3_NO_ERROR            /* 0x100 */
#define QTUNNEL_FAULT H3_INTERNAL_ERROR         /* 0x102 */
#define QTUNNEL_CANCELLED H3_REQUEST_CANCELLED  /* 0x10c */
#define QTUNNEL_CONNECT_ERROR H3_CONNECT_ERROR  /* 0x10f */

struct qtun;

/* qc's handshake is done: its events go to the framing its ALPN names (h3: lib/h3 takes
 * the connection). Returns 0, or -1 (an ALPN we do not speak, out of memory): the
 * caller closes the connection. */
int qtunnel_attach(struct qconn *qc);
/* A socks5 connection's stream events (qlisten passes on what is not connection-level). */
void qtunnel_quic_event(struct qconn *qc, const struct quic_event *ev);

/* The tunnel toward the origin is open: the success reply (200; SOCKS5 reply 0 with the
 * TCP leg's local address in bound, or 0.0.0.0:0). */
void qtunnel_reply_ok(struct qtun *t, const struct net_addr *bound);
/* It cannot be opened; err says why: -EACCES (not allowed: 403 / SOCKS5 reply 2), a
 * refused, unreachable, timed-out or failed connect or upstream (H3_CONNECT_ERROR /
 * SOCKS5 replies 5, 3, 4, 1). The stream ends after the answer. */
void qtunnel_refuse(struct qtun *t, int err);

/* Tunnel bytes toward the client: how many the stream took (0 when full: qrelay_on_
 * writable follows), or -EPIPE (it is finished, reset or closed). */
long qtunnel_write(struct qtun *t, const void *data, size_t len);
/* FIN after the bytes written. 0 or -EPIPE. */
int qtunnel_finish(struct qtun *t);
/* RESET_STREAM and STOP_SENDING with code. */
void qtunnel_reset(struct qtun *t, uint64_t code);
/* STOP_SENDING with code: the client's further bytes are unwanted. */
void qtunnel_stop_reading(struct qtun *t, uint64_t code);
/* n tunnel bytes from the client were written on (or dropped): their credit goes back. */
void qtunnel_consume(struct qtun *t, size_t n);
/* The stream's receive credit: QUIC_CREDIT_MANUAL, or QUIC_CREDIT_NONE (flow-starve). */
void qtunnel_set_credit(struct qtun *t, enum quic_credit mode);
/* The stream's QUIC counters: live, or as of its close. */
const struct quic_stream_stats *qtunnel_stats(const struct qtun *t);

#endif
