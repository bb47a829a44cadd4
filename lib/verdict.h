/* verdict — a verdict as data: what ended one tunnel (or one TCP flow seen on its own),
 * the hop it names, the direction whose bytes were lost, the byte it happened at, and
 * the facts it was made from. Verdicts are made in one place (capture/judge.c), carried
 * as JSON (capture.json `tunnels[].verdict` and `flows[].verdict`, run files'
 * `failures[].verdict` and `verdicts[]`) and read back by their code. The sentence
 * people read is rendered from the data (tp_verdict_render) and never parsed.
 *
 * Names are a contract (docs/capture.md "Verdicts"): the code, hop, direction, source,
 * fact and unit names below appear in JSON; a new one is a format change made on
 * purpose, a renamed one never happens.
 *
 * Everything lives in caller memory with fixed sizes; the only allocation is the json_t
 * tp_verdict_to_json returns.
 */
#ifndef TP_VERDICT_H
#define TP_VERDICT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* The codes, in the order of docs/capture.md's table. */
enum tp_verdict_code {
	TP_V_OK = 0,
	TP_V_TRUNCATED_PROXY_CLIENT, /* the proxy sent the client fewer bytes than it got, then FIN */
	TP_V_RESET_BY_PROXY,         /* the proxy reset the client leg */
	TP_V_TRUNCATED_ORIGIN_PROXY, /* the origin leg ended early (FIN by the origin before its framing) */
	TP_V_RESET_BY_ORIGIN,        /* the origin reset the origin leg */
	TP_V_RESET_UPSTREAM_BY_PROXY, /* the proxy reset the origin leg */
	TP_V_LOST_GAP,               /* the count drops where the capture has a gap */
	TP_V_CLIENT_TIMEOUT,         /* the client gave up waiting */
	TP_V_NO_FIN,                 /* all bytes delivered but the proxy never signalled the end */
	TP_V_CLIENT_SHORT_READ,      /* the wire carried more than the probe read */
	TP_V_RESET_BY_CLIENT,        /* the client reset (gave up) */
	TP_V_TLS_ALERT,              /* a TLS alert ended it */
	TP_V_CLOSED_EARLY,           /* the proxy closed the tunnel right after accepting it */
	TP_V_RESET_BECAME_FIN,       /* the origin leg ended with a reset, the client saw an
				      * orderly end: the proxy turned a reset into a FIN */
	TP_V_UPLOAD_LOST,            /* the client's upload bytes or its FIN never reached the origin */
	TP_V_PROXY_REFUSED,          /* the proxy refused (or aborted) the CONNECT/SOCKS exchange */
	TP_V_FAILED_UNLOCATED,       /* the probe failed and no hop could be named */
	TP_V_EARLY_FIN,              /* (a flow on its own) FIN before the end its framing promised */
	TP_V_RESET,                  /* (a flow on its own) reset by one side */
	TP_V_TLS_TRUNCATION,         /* (a flow on its own) FIN without close_notify / mid-record */
	TP_V_GAP,                    /* (a flow on its own) bytes missing from the capture */
	TP_V_UNKNOWN,                /* not enough evidence */
	TP_V_COUNT
};

/* Where along origin → origin leg → proxy → client leg → client. As a verdict's hop:
 * the first place the count drops (none when no place is named; wire when the loss is
 * on a TCP connection whose role is not known). As a fact's `by`: who did it (origin,
 * proxy, client); as its `on`: the leg it was seen on. */
enum tp_hop {
	TP_HOP_NONE = 0,
	TP_HOP_ORIGIN,
	TP_HOP_ORIGIN_LEG,
	TP_HOP_PROXY,
	TP_HOP_CLIENT_LEG,
	TP_HOP_CLIENT,
	TP_HOP_WIRE,
	TP_HOP_COUNT
};

/* down: origin → client (responses); up: client → origin (requests, uploads). On a flow
 * of unknown role, down is responder → originator: the originator is always the side
 * nearer the client. */
enum tp_dir { TP_DIR_NONE = 0, TP_DIR_DOWN, TP_DIR_UP, TP_DIR_COUNT };

/* Which witness said it. */
enum tp_source {
	TP_SRC_PROBE = 0,      /* probe records */
	TP_SRC_ORIGIN_LEDGER,
	TP_SRC_PROXY_LEDGER,
	TP_SRC_CAPTURE,
	TP_SRC_COUNT
};

/* What a count counts. */
enum tp_unit {
	TP_UNIT_NONE = 0,
	TP_UNIT_BODY,          /* decoded body bytes (the probe's bytes_received / expected) */
	TP_UNIT_MESSAGE,       /* HTTP message bytes, head and framing included, as the
				* application wrote them (the origin ledger; inside TLS) */
	TP_UNIT_STREAM,        /* bytes of the TCP stream after any CONNECT/SOCKS reply:
				* what a proxy relays, TLS records included */
	TP_UNIT_COUNT
};

/* One kind of fact. `bytes` and `of` as each says; -1 where absent. */
enum tp_fact {
	TP_FACT_WROTE = 0,  /* `by` wrote `bytes` (of the `of` it received) toward `dir` */
	TP_FACT_READ,       /* `by` read `bytes` (of `of` expected) */
	TP_FACT_ACKED,      /* `by` acknowledged `bytes` (TCP, as the sender's ledger saw) */
	TP_FACT_CARRIED,    /* the leg `on` carried `bytes` toward `dir` */
	TP_FACT_FIN,        /* `by` sent FIN at byte `bytes` */
	TP_FACT_EARLY_FIN,  /* `by` sent FIN at byte `bytes`, before the end its framing
			     * promised: `of` (-1 unknown; `name` "chunked" inside a chunked body) */
	TP_FACT_NO_FIN,     /* no FIN from `by` after `bytes` */
	TP_FACT_RST,        /* `by` sent RST after `bytes` */
	TP_FACT_GAP,        /* `bytes` never seen by the capture on `on` */
	TP_FACT_TLS_ALERT,  /* `by` sent a TLS alert: `name` ("fatal handshake_failure") */
	TP_FACT_TLS_CLOSE,  /* `by` closed at byte `bytes` without ending TLS: `name` is the
			     * close kind (lib/tlsrec: "no_close_notify", "mid_record") */
	TP_FACT_FAILED,     /* the probe's class `name`, phase `phase`, detail `detail` */
	TP_FACT_REFUSED,    /* `by` refused the tunnel: `reply` (HTTP status or SOCKS5 reply
			     * code, -1 unknown), `name` the protocol ("http", "socks5") or
			     * "aborted" (closed before its reply was complete) */
	TP_FACT_ABSENT,     /* `source` has no line for this request: it never reached `by` */
	TP_FACT_COUNT
};

#define TP_VERDICT_MAX_EVIDENCE 6
#define TP_VERDICT_TEXT_MAX 512 /* a rendered sentence always fits */

/* One fact a verdict used. Start from tp_evidence_init (sets bytes and of to -1). */
struct tp_evidence {
	enum tp_source source;
	enum tp_fact what;
	enum tp_hop by;        /* who: origin, proxy, client; none on a flow of unknown role */
	enum tp_hop on;        /* where: origin_leg, client_leg, wire; none when not a wire fact */
	enum tp_dir dir;       /* the direction of the bytes counted */
	enum tp_unit unit;
	long long bytes;       /* the count or offset; -1 none */
	long long of;          /* what it falls short of; -1 none */
	char name[40];         /* class, TLS alert, TLS close kind, "chunked" */
	char phase[16];        /* probe phase */
	char detail[160];      /* probe detail ("34016 bytes read, 620381 more expected") */
	int reply;             /* refused: the reply code; -1 none */
};

/* Evidence that would have named the hop of a verdict that names none (failed_unlocated,
 * client_timeout): bits of `would_locate`. */
enum tp_need {
	TP_NEED_ORIGIN_LEDGER = 1u << 0,
	TP_NEED_PROXY_LEDGER = 1u << 1,
	TP_NEED_CAPTURE_CLIENT_LEG = 1u << 2,
	TP_NEED_CAPTURE_ORIGIN_LEG = 1u << 3,
	TP_NEED_ALL = (1u << 4) - 1
};

struct tp_verdict {
	enum tp_verdict_code code;
	enum tp_hop hop;       /* the code's, or more precise (a gap's leg) */
	enum tp_dir direction; /* the code's, or more precise (a lone flow's side) */
	long long at_byte;     /* where it happened, in the unit of evidence[0]; -1 none */
	unsigned would_locate; /* TP_NEED_* bits: what evidence would name the hop; 0 none */
	size_t nevidence;
	struct tp_evidence evidence[TP_VERDICT_MAX_EVIDENCE]; /* most decisive first */
};

/* Stable names. Out-of-range values give "unknown" (codes) or "none" (the rest);
 * tp_verdict_need_name gives "" for anything but one TP_NEED_* bit. */
const char *tp_verdict_code_name(enum tp_verdict_code c);
const char *tp_verdict_hop_name(enum tp_hop h);
const char *tp_verdict_dir_name(enum tp_dir d);
const char *tp_verdict_source_name(enum tp_source s);
const char *tp_verdict_fact_name(enum tp_fact f);
const char *tp_verdict_unit_name(enum tp_unit u);
const char *tp_verdict_need_name(unsigned need_bit);
/* The value for a name, or -1 when the name is not one (NULL included). */
int tp_verdict_code_from_name(const char *name);

/* The code table: the hop and direction a code names, and how reports say where:
 * "at proxy→client", "reset by proxy on proxy→client"; "" for ok, failed_unlocated and
 * unknown, which name no place. */
enum tp_hop tp_verdict_code_hop(enum tp_verdict_code c);
enum tp_dir tp_verdict_code_dir(enum tp_verdict_code c);
const char *tp_verdict_place(enum tp_verdict_code c);

/* Sets code, the code's hop and direction, at_byte, and no evidence. */
void tp_verdict_init(struct tp_verdict *v, enum tp_verdict_code code, long long at_byte);
/* A zeroed fact from source saying what, with bytes, of and reply -1 and the source's
 * usual unit (probe: body, origin ledger: message, proxy ledger and capture: stream). */
void tp_evidence_init(struct tp_evidence *e, enum tp_source source, enum tp_fact what);
/* Appends a copy of e. Returns 0, or -ENOSPC when the list is full (e is dropped: the
 * first, most decisive facts are kept). */
int tp_verdict_add(struct tp_verdict *v, const struct tp_evidence *e);

/* The sentence: "truncated at proxy→client (early FIN by proxy at byte 20000 on the
 * client leg; the origin leg carried 100290 bytes)" — the code's words, then each fact,
 * then what would have named the hop ("; the proxy's ledger or a capture on the client
 * leg would name the hop"). Always NUL-terminates (truncates to cap). Returns out. */
char *tp_verdict_render(const struct tp_verdict *v, char *out, size_t cap);
/* One fact as words: "the proxy acknowledged 654397 bytes". Returns out. */
char *tp_evidence_render(const struct tp_evidence *e, char *out, size_t cap);

/* {"code","hop","direction","at_byte","evidence":[{"source","what","fact",...}],
 * "would_locate":[...] (only when not empty),"text"} (docs/capture.md). Returns a new
 * reference, or NULL on ENOMEM. */
json_t *tp_verdict_to_json(const struct tp_verdict *v);
/* Reads what tp_verdict_to_json wrote (text is ignored: it is rendered again). Absent
 * hop/direction default to the code's; absent evidence fields to none. Returns 0, or
 * -EINVAL when j is not an object with a known "code" (v is then TP_V_UNKNOWN, no
 * evidence), or a field has the wrong type or an unknown name. */
int tp_verdict_from_json(json_t *j, struct tp_verdict *v);
/* The code of a verdict as JSON: an object's "code"; -1 for anything else (a bare
 * sentence, an unknown name, NULL). */
int tp_verdict_json_code(json_t *j);
/* The sentence of a verdict as JSON: an object's "text", or a bare string; NULL when
 * neither. Points into j. */
const char *tp_verdict_json_text(json_t *j);

#endif
