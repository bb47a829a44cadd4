/* session — one client connection of the reference proxy: the handshake (HTTP CONNECT,
 * SOCKS5, or a plain forward request), the outbound leg (direct or through an
 * upstream proxy), then the relay of both directions with exact counters, half-close
 * done right, and the faults this tunnel was chosen for.
 *
 * session.c owns the handshake (the protocol chosen once per connection, by its first
 * byte), the outbound leg and the session's end; upstream.c the exchange with an
 * upstream proxy; relay.c (relay.h) the byte relay,
 * closing the legs and the ledger line; forward.c the forward requests and fwdledger.c
 * their ledger lines; inject.c what the faults do (fault.h says where); auth.c the
 * credentials; leg.c all I/O on the two connections, by readiness or by completions
 * (`--io`; the Windows build's WSARecv/WSASend) — the rest never knows which.
 */
#ifndef TP_PROXY_SESSION_H
#define TP_PROXY_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/dns.h"
#include "lib/http1.h"
#include "lib/loop.h"
#include "lib/net.h"
#include "lib/url.h"
#include "proxy-under-test/chain.h"
#include "proxy-under-test/fault.h"
#include "proxy-under-test/leg.h"
#include "lib/zcopy.h"

#define RELAY_BUF 16384 /* per direction: two of them bound a tunnel's memory */
#define SESSION_ID_MAX 64 /* an X-Probe-Id kept for the ledger, NUL included (longer: cut) */

struct proxy_worker;
struct fwd;

/* One direction: bytes read from one leg, written to the other. */
struct flow {
	char buf[RELAY_BUF];
	size_t off, len;     /* pending bytes are buf[off..len) */
	size_t ctl_off, ctl; /* of those, buf[ctl_off..ctl_off+ctl) are the proxy's own replies
			      * (relay_queue_client): written in place, never counted */
	uint64_t received, sent, recv_ops, send_ops, short_sends, dropped;
	uint64_t own_sent;   /* the proxy's own reply bytes written (not relayed, not in sent) */
	bool eof;            /* the source sent FIN */
	bool done;           /* nothing more will be relayed this way */
	bool held;           /* forward: the next request waits for earlier answers */
	bool zc;             /* bytes go through z (splice) once buf is empty */
	struct zpipe z;
	/* A write posted to a streams leg (leg.h) and not yet completed: buf[off..off+posted)
	 * stays put until session_on_written(). */
	size_t posted;
	size_t post_full;    /* what it would have been without a fault trimming it (a
			      * completion taking fewer is a short send) */
	bool post_own;       /* it is the proxy's own reply (ctl), not relayed bytes */
	bool discard;        /* short-send-drop acted: what comes this way is dropped */
	/* What the faults of this direction keep (inject.c). */
	bool stalled;        /* a stall fault stopped it */
	bool waiting;        /* slow: the budget of this second is spent */
	bool cut_short;      /* a write was trimmed to end at a cut fault's byte */
	uint64_t window_start_us, window_sent; /* slow: the current second, and sent at its start */
};

enum session_state {
	SS_HANDSHAKE,  /* reading the client's request / SOCKS messages */
	SS_RESOLVING,
	SS_CONNECTING,
	SS_UPSTREAM,   /* CONNECT or SOCKS5 exchange with the upstream proxy */
	SS_RELAY,
	SS_CLOSED,
};

enum session_kind { SK_UNKNOWN = 0, SK_CONNECT, SK_SOCKS5, SK_FORWARD };

enum socks_step { SOCKS_GREETING, SOCKS_AUTH, SOCKS_REQUEST };

struct session {
	struct proxy_worker *w;
	uint64_t number;            /* accept order across workers (the ledger's "tunnel") */
	enum session_state state;
	enum session_kind kind;
	enum socks_step socks_step;
	struct chain chain;         /* chained: the handshake with the upstream proxy */
	struct leg client, up;
	struct flow down;           /* up → client */
	struct flow upf;            /* client → up */
	struct loop_timer timer;    /* handshake, connect and idle deadlines */
	struct loop_timer slow_timer; /* slow fault: the next second's budget */
	struct dns_query *dnsq;
	char host[URL_MAX_HOST];    /* the destination asked for */
	uint16_t port;
	struct net_addr dst;
	char target[URL_MAX_HOST + 8];
	char id[SESSION_ID_MAX];    /* X-Probe-Id of the CONNECT or first forward request, or "" */
	int reply;                  /* CONNECT status or SOCKS reply code sent (-1 none) */
	struct fault_set faults;    /* the faults that hit this tunnel (inject.c) */
	uint32_t fault_acts[FAULT_MAX]; /* how often each of them acted (faults.hit order) */
	char fault_key[URL_MAX_HOST + 32]; /* what the faults were picked by (inject_pick) */
	bool close_after_reply;     /* close-after-accept / close-mid-reply / refusals */
	const char *first_close;    /* "client" or "upstream" */
	double t;                   /* start, Unix seconds */
	uint64_t start_us;
	struct fwd *fwd;            /* forward sessions only (forward.h) */
	char ctl[1024];             /* a message to the upstream proxy */
	size_t ctl_len, ctl_off;
	unsigned closing_legs;      /* streams legs closed and not yet given back (leg.h) */
	bool relaying_at_close;     /* session_close() came in the relay */
	struct session *next, *prev; /* the worker's list */
};

/* Answers the client with an HTTP status (or, for SOCKS5, a reply code) and closes
 * once it is sent. The session may be freed before this returns. */
void session_refuse(struct session *s, int code, const char *reason);
/* The outbound leg could not be had (err: -ECONNREFUSED, -ETIMEDOUT, -EACCES, ...; why
 * for humans): the client gets the reply that says so (502, 504, 403 / the SOCKS reply
 * code), then the close. The session may be freed before this returns. */
void session_fail_upstream(struct session *s, int err, const char *why);
/* The outbound leg is ready (and the upstream proxy, if any, said yes): the success
 * reply is queued (its faults decide) and the relay starts. */
void session_established(struct session *s);
/* Forward sessions: replaces the origin leg (closed if open) by one to s->host:s->port;
 * the relay resumes when it is up. The session may be freed before this returns. */
void session_reconnect(struct session *s);
/* A CONNECT authority a[0..len) — "host:port", "[v6]:port", port 1-65535 — into host
 * (without brackets) and *port. False when it is not one (nothing written then). */
bool session_parse_authority(const char *a, size_t len, char host[URL_MAX_HOST], uint16_t *port);
/* Copies the X-Probe-Id of req into out (cut to SESSION_ID_MAX - 1 bytes), "" when it
 * has none. */
void session_copy_probe_id(char out[SESSION_ID_MAX], const struct http1_request *req);

/* Takes an accepted client socket. Returns the session or NULL (fd closed). */
struct session *session_accept(struct proxy_worker *w, int fd, uint64_t number);
/* Loop callback for both legs. */
void session_on_io(struct loop *loop, struct loop_io *io, unsigned events);

/* Ends the session: closes what is open (RST toward a leg when reset_*), writes its
 * ledger line(s), frees it — at once, or, with streams legs (leg.h), once the loop has
 * given them back (the session is then SS_CLOSED and gets no more events, only the
 * counts of its cancelled requests). A closed session is left alone. */
void session_close(struct session *s, bool reset_client, bool reset_up);
/* A streams leg's write completed (leg.h): written bytes of what it posted were taken;
 * err 0, or -errno (-ECANCELED when it was closed). detached: the leg was closed (or,
 * forward, replaced) since. The session may be freed before this returns. */
void session_on_written(struct session *s, struct leg *leg, bool detached, size_t written,
			int err);
/* A streams leg closed by leg_close() is given back; the session may be freed. */
void session_leg_closed(struct session *s);

/* The direction of a flow of s, the leg it reads from and the leg it writes to. */
static inline enum fault_dir session_dir(const struct session *s, const struct flow *f)
{
	return f == &s->down ? FAULT_DOWN : FAULT_UP;
}
static inline struct leg *session_src(struct session *s, const struct flow *f)
{
	return f == &s->down ? &s->up : &s->client;
}
static inline struct leg *session_dst(struct session *s, const struct flow *f)
{
	return f == &s->down ? &s->client : &s->up;
}

#endif
