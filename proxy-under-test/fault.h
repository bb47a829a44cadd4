/* fault — the reference proxy's fault specs (SPEC §5, docs/proxy.md), the table of
 * where each fault acts, and the deterministic decision of which requests a fault hits.
 *
 * A spec is "NAME[:k=v[,k=v...]]" with optional " p=P seed=S dir=up|down" parts,
 * separated by spaces or commas: "truncate:after=32768 p=0.17 seed=7",
 * "rst:after=1000,dir=up", "slow:bps=20000". A request with key K (inject_pick(): the
 * probe's id without its run prefix, else "host#k") is hit when
 * hash(seed, hash(K)) / 2^64 < p, so a seed hits the same requests in every run.
 * Sans-I/O: parse text, answer questions; nothing allocates. The acts are inject.c's:
 * one function per hook below, the only code that looks at a tunnel's faults.
 *
 * Where each fault acts — the table in fault.c is this as data (fault_info()). TCP
 * tunnels act in inject.c (inject_...), QUIC tunnels in qinject.c (qinject_...):
 *
 *   fault               hook: inject_...  called from                  direction     modes
 *   close-before-reply  request           session.c request_ready      (handshake)   tcp
 *   refuse              request           session.c request_ready      (handshake)   tcp
 *   close-mid-reply     reply,            session.c established,       (handshake)   tcp
 *                       response_head     forward.c take_response
 *   close-after-accept  reply             session.c established        (handshake)   tcp
 *   corrupt:at=N        read              relay.c fill, relay_start,   dir=          tcp
 *                                         forward.c reads, session.c
 *   drop-chunk-end      last_chunk        relay.c fill,                dir=          tcp
 *                                         forward.c response_done,
 *                                         request_body_taken
 *   truncate:after=N    write             relay.c flush;               dir=          tcp, quic
 *                                         qrelay.c down_step, up_flush
 *   rst:after=N         write             relay.c flush                dir=          tcp
 *   stall:after=N       write             relay.c flush; qrelay.c      dir=          tcp, quic
 *   slow:bps=N          write             relay.c flush                dir=          tcp
 *   no-fin              eof               relay.c relay_propagate_eof; dir=          tcp, quic
 *                                         qrelay.c end_toward
 *   full-close          eof               relay.c relay_propagate_eof  either        tcp
 *   short-send-drop     sent              relay.c relay_written        dir=          tcp
 *     [after=N]         (streams legs only: the Windows build, docs/proxy.md)
 *   reset-as-fin        reset             relay.c relay_fill_read;     dir=          tcp, quic
 *                                         qrelay.c on_tcp_reset,
 *                                         qrelay_stream_reset
 *   fin-delay:ms=N      eof               qrelay.c end_toward          dir=          quic
 *   reset:after=N       write             qrelay.c (as truncate)       dir=          quic
 *   close-conn:after=N  write             qrelay.c (as truncate)       dir=          quic
 *   flow-starve         credit            qtunnel.c, when a tunnel's   up            quic
 *                                         stream is taken
 *
 * "tcp" is forward (absolute-form requests), CONNECT and SOCKS5 on the TCP listeners,
 * chained or not, and reverse (--reverse: a forward session whose requests all go to
 * one origin, so each fault acts there as in forward mode; the proxy's own answers —
 * 429, 503, /metrics — are its replies, never relayed bytes, and no fault touches
 * them); "quic" is CONNECT over HTTP/3 and SOCKS5 on QUIC streams (--quic-listen). A
 * fault whose row leaves out a mode the proxy serves (a forward proxy's TCP listeners
 * serve the first three, a reverse proxy only reverse, --quic-listen the two QUIC
 * ones) is refused at start (fault_idle_mode()): a QUIC-only fault with a TCP
 * listener, a TCP-only one with a QUIC listener.
 *
 * In forward mode the proxy's "reply" is the response head it
 * writes: close-mid-reply sends half of the first one, close-after-accept closes once
 * the origin leg is up, before the request goes out. Byte positions (after=, at=)
 * count the direction's relayed bytes from the start of the tunnel; a forward
 * connection is one tunnel, its requests' bytes (heads as rewritten on the write side)
 * counted together. Whether a fault can act also depends on what a tunnel carries,
 * which only the client decides: drop-chunk-end sees plain HTTP only (over TLS the last
 * chunk is never visible), a cut past the last byte never comes. Such a tunnel's ledger
 * line says fault_acted: false — a fault is never silently a no-op.
 */
#ifndef TP_PROXY_FAULT_H
#define TP_PROXY_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FAULT_MAX 8

enum fault_kind {
	FAULT_TRUNCATE = 1,      /* after=N: a short send, the rest dropped, then FIN */
	FAULT_RST,               /* after=N: RST toward the receiving leg */
	FAULT_CLOSE_BEFORE_REPLY,/* close before any CONNECT/SOCKS reply byte */
	FAULT_CLOSE_MID_REPLY,   /* send part of the reply, then close */
	FAULT_CLOSE_AFTER_ACCEPT,/* success reply, then close */
	FAULT_REFUSE,            /* 403 / SOCKS "not allowed" */
	FAULT_NO_FIN,            /* never propagate EOF to the receiving leg */
	FAULT_FULL_CLOSE,        /* a half-close from one side closes both directions */
	FAULT_STALL,             /* after=N: stop relaying, keep the connection open */
	FAULT_CORRUPT,           /* at=N: flip a bit of byte N */
	FAULT_SLOW,              /* bps=N: relay at most N bytes per second */
	FAULT_DROP_CHUNK_END,    /* drop a chunked body's last chunk "0\r\n\r\n", then FIN */
	FAULT_SHORT_SEND_DROP,   /* [after=N]: a send completion that leaves bytes of the buffer
				  * unsent is taken as the end of them: the rest dropped, FIN */
	FAULT_RESET_AS_FIN,      /* a reset read from one side is passed on as an orderly end */
	FAULT_FIN_DELAY,         /* ms=N: the end (FIN) is passed on N ms late (QUIC) */
	FAULT_RESET,             /* after=N: RESET_STREAM toward the receiver (QUIC) */
	FAULT_CLOSE_CONN,        /* after=N: CONNECTION_CLOSE, every stream of it ends (QUIC) */
	FAULT_FLOW_STARVE,       /* the client's stream credit is never raised (QUIC) */
	FAULT_KIND_END           /* one past the last kind */
};

enum fault_dir { FAULT_DOWN = 0 /* origin → client */, FAULT_UP /* client → origin */ };

/* How a client uses the proxy (a session's kind). */
enum fault_mode {
	FAULT_MODE_FORWARD = 1u << 0, /* absolute-form HTTP requests */
	FAULT_MODE_CONNECT = 1u << 1, /* HTTP CONNECT tunnels */
	FAULT_MODE_SOCKS5 = 1u << 2,  /* SOCKS5 CONNECT tunnels */
	FAULT_MODE_REVERSE = 1u << 3, /* requests to a reverse proxy's origin (--reverse) */
	FAULT_MODE_H3 = 1u << 4,      /* CONNECT over HTTP/3 (--quic-listen, ALPN "h3") */
	FAULT_MODE_QSOCKS5 = 1u << 5, /* SOCKS5 on QUIC streams (--quic-listen, ALPN "socks5") */
};
#define FAULT_MODES_TUNNEL (FAULT_MODE_CONNECT | FAULT_MODE_SOCKS5)
/* What a forward proxy's TCP listener serves (all of it on every listener). */
#define FAULT_MODES_PROXY (FAULT_MODE_FORWARD | FAULT_MODES_TUNNEL)
#define FAULT_MODES_ALL (FAULT_MODES_PROXY | FAULT_MODE_REVERSE) /* every TCP mode */
#define FAULT_MODES_QUIC (FAULT_MODE_H3 | FAULT_MODE_QSOCKS5)    /* what --quic-listen serves */
#define FAULT_MODE_LAST FAULT_MODE_QSOCKS5

/* Where a fault acts: the inject.h function of the same name. */
enum fault_hook {
	FAULT_AT_REQUEST,    /* the client's request is known, nothing sent to it yet */
	FAULT_AT_REPLY,      /* the success reply to a CONNECT or SOCKS5 request */
	FAULT_AT_READ,       /* bytes just read from a leg, before they are relayed */
	FAULT_AT_LAST_CHUNK, /* a chunked body's last chunk, about to be relayed */
	FAULT_AT_WRITE,      /* bytes about to be written to a leg */
	FAULT_AT_SENT,       /* a write to a streams leg completed (leg.h) */
	FAULT_AT_EOF,        /* a FIN read from one leg, to pass on to the other */
	FAULT_AT_RESET,      /* a reset read from one leg, to pass on to the other */
	FAULT_AT_CREDIT,     /* a QUIC tunnel's stream is taken: the credit it is given */
};

/* Which direction a fault acts on. */
enum fault_scope {
	FAULT_SCOPE_HANDSHAKE, /* the request and the reply to it; dir= is refused */
	FAULT_SCOPE_DIR,       /* the direction dir= names (down by default) */
	FAULT_SCOPE_EITHER,    /* both: whichever direction ends first; dir= is refused */
	FAULT_SCOPE_UP,        /* client → origin only, by its nature; dir= is refused */
};

/* One row of the table above. */
struct fault_info {
	const char *name;      /* as in a spec: "truncate", "close-after-accept", ... */
	const char *param;     /* its one parameter ("after", "at", "bps", "ms"), or NULL */
	bool param_optional;   /* the parameter may be left out (then 0) */
	enum fault_hook hook;
	enum fault_scope scope;
	unsigned modes[2];     /* the FAULT_MODE_* bits it acts in, by the dir= of its spec */
	bool sees_bytes;       /* it must see relayed bytes in a buffer: no splice(2) */
	bool needs_streams;    /* it acts on write completions: streams legs only (leg.h) */
};

struct fault {
	enum fault_kind kind;
	enum fault_dir dir;
	uint64_t n;        /* after=, at=, bps= or ms= */
	double p;          /* probability per tunnel, default 1 */
	uint64_t seed;
	char spec[160];    /* as given, for the ledger */
};

/* The faults that hit one tunnel (pointers into the configuration's faults). */
struct fault_set {
	const struct fault *hit[FAULT_MAX];
	size_t n;
};

/* Parses one spec. Returns 0, or -EINVAL with a short reason in *why (also for a dir=
 * given to a fault that has no direction). */
int fault_parse(const char *spec, struct fault *f, const char **why);
/* The row of a kind, or NULL for a value that is not a kind. */
const struct fault_info *fault_info(enum fault_kind kind);
/* The name of a kind ("truncate", "close-after-accept", ...), "?" for no kind. */
const char *fault_name(enum fault_kind kind);
/* Does f, as specified (its dir=), act in mode (one FAULT_MODE_* bit)? */
bool fault_acts_in(const struct fault *f, enum fault_mode mode);
/* The first of faults[0..n) that does not act in one of the FAULT_MODE_* bits of
 * modes (the modes the proxy serves), that mode in *mode; NULL when every one acts in
 * every one. */
const struct fault *fault_idle_mode(const struct fault *faults, size_t n, unsigned modes,
				    enum fault_mode *mode);
/* "forward", "connect", "socks5", "h3-connect", "socks5-quic" for one FAULT_MODE_* bit. */
const char *fault_mode_name(enum fault_mode mode);
/* A request key's 64-bit hash (FNV-1a): what fault_hits() is asked about. */
uint64_t fault_key_hash(const char *key);
/* Does fault f hit the request whose key hashes to k? */
bool fault_hits(const struct fault *f, uint64_t k);

/* Fills set with those of faults[0..n) that hit key hash k (at most FAULT_MAX). */
void fault_set_pick(struct fault_set *set, const struct fault *faults, size_t n, uint64_t k);
/* The first fault of set of this kind that acts on direction dir (by its scope), or NULL.
 * Handshake faults ignore dir. */
const struct fault *fault_set_find(const struct fault_set *set, enum fault_kind kind,
				   enum fault_dir dir);
/* Counts one more act of f (one of set's) in acts[] (set order). */
void fault_set_acted(const struct fault_set *set, uint32_t acts[FAULT_MAX], const struct fault *f);
/* The first of faults[0..n) that acts on write completions (needs_streams), or NULL. */
const struct fault *fault_needs_streams(const struct fault *faults, size_t n);
/* The specs of set's faults joined by "; " into out[0..cap) (the ledger's "fault"; ""
 * for none). cap FAULT_SPECS_MAX holds any set. */
#define FAULT_SPECS_MAX (FAULT_MAX * 164)
void fault_set_specs(const struct fault_set *set, char *out, size_t cap);
/* True when a fault of set must see relayed bytes (its tunnel is not spliced). */
bool fault_set_sees_bytes(const struct fault_set *set);
/* True when buf[0..len) ends with a chunked body's last chunk "0\r\n\r\n" (with no
 * extension or trailer), at the start of buf or after the line end before it. */
bool fault_ends_last_chunk(const char *buf, size_t len);

#endif
