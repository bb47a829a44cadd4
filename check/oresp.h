/* oresp — the check origin's responses: the head for a request's plan (oplan.h) and
 * a body generator that fills the connection's output buffer a piece at a time
 * (payload bytes, chunks, a drip, a reset point), so a 100 MiB or endless body costs
 * one fixed buffer. No I/O: origin.c writes what this produces.
 */
#ifndef TP_CHECK_ORESP_H
#define TP_CHECK_ORESP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "check/oplan.h"
#include "lib/http1.h"

#define ORESP_DRIP_BYTES 16

/* What the connection does once the response is written. */
enum oresp_end {
	OEND_KEEP = 0, /* read the next request */
	OEND_FIN,      /* send FIN, then read until the peer closes */
	OEND_HOLD,     /* no response at all: read until the peer closes */
};

enum oresp_kind { OGEN_NONE = 0, OGEN_PAYLOAD, OGEN_CHUNKED };

struct oresp_gen {
	enum oresp_kind kind;
	uint64_t seed, total, produced; /* payload bytes */
	uint64_t reset_at;   /* UINT64_MAX, or the payload offset to reset at */
	uint64_t drip_ms;    /* 0, or the interval between ORESP_DRIP_BYTES pieces */
	bool waiting;        /* drip: the next piece waits for the timer */
	bool reset_due;      /* every byte before reset_at was produced: reset now */
	bool finished;       /* every byte of the response was produced */
	bool last_chunk;     /* chunked: the last chunk and trailer were produced */
	bool trailer;        /* chunked: with the X-Tp-Trailer field */
	enum oresp_end end;
};

/* The request a response answers. */
struct oresp_in {
	const struct oplan *plan;
	const char *head;          /* the request head as received */
	size_t head_len;
	const struct http1_request *req; /* parsed head (not valid when parse_err) */
	int parse_err;             /* HTTP1_E_* of a refused head or body, else 0 */
	uint64_t body_received;
	long body_bad_at;
	bool body_complete;
	bool failing;              /* gw/ answers 500 */
	uint64_t conn;
	unsigned index;
};

/* Writes the response head (and for short bodies the body) into out[0..cap), sets
 * *len and the generator for the rest. Returns the status code. */
int oresp_start(struct oresp_gen *g, const struct oresp_in *in, char *out, size_t cap,
		size_t *len);
/* Writes the next bytes of the body into out[0..cap) and sets *len (0 when the
 * response is finished, a reset is due, or a drip piece waits for its timer). Returns
 * 0, or -1 when a drip piece waits for its timer. */
int oresp_produce(struct oresp_gen *g, char *out, size_t cap, size_t *len);
/* The banner listener's greeting: CORIGIN_BANNER bytes of payload_seed("/banner"). */
void oresp_banner(struct oresp_gen *g, char *out, size_t cap, size_t *len);
/* The seed of a vary/ body for the language asked for. */
uint64_t oresp_vary_seed(const char *target, size_t target_len, const char *lang, size_t lang_len);

#endif
