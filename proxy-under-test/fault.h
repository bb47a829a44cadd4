/* fault — the reference proxy's fault specs (SPEC §5, docs/proxy.md) and the
 * deterministic decision of which tunnels a fault hits.
 *
 * A spec is "NAME[:k=v[,k=v...]]" with optional " p=P seed=S dir=up|down" parts,
 * separated by spaces or commas: "truncate:after=32768 p=0.17 seed=7",
 * "rst:after=1000,dir=up", "slow:bps=20000". Tunnel number k (in accept order across
 * all workers) is hit when hash(seed, k) / 2^64 < p, so a seed hits the same tunnels in
 * every run. Sans-I/O: parse text, answer questions; nothing allocates.
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
};

enum fault_dir { FAULT_DOWN = 0 /* origin → client */, FAULT_UP /* client → origin */ };

struct fault {
	enum fault_kind kind;
	enum fault_dir dir;
	uint64_t n;        /* after=, at=, or bps= */
	double p;          /* probability per tunnel, default 1 */
	uint64_t seed;
	char spec[160];    /* as given, for the ledger */
};

/* Parses one spec. Returns 0, or -EINVAL with a short reason in *why. */
int fault_parse(const char *spec, struct fault *f, const char **why);
/* The name of a kind ("truncate", "close-after-accept", ...). */
const char *fault_name(enum fault_kind kind);
/* Does fault f hit tunnel number k? */
bool fault_hits(const struct fault *f, uint64_t k);

#endif
