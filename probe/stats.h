/* stats — what a probe thread counts, merged across threads at the end.
 *
 * Each worker owns one struct probe_stats and writes only to it; the main thread
 * merges them after the workers stopped (hist_merge and plain sums), so nothing is
 * shared while the run is under way except the progress counters.
 */
#ifndef TP_PROBE_STATS_H
#define TP_PROBE_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "lib/ledger.h"
#include "lib/net.h"
#include "lib/runcount.h"
#include "probe/config.h"

#define STATS_MAX_FAILURES 100      /* failure records kept in full per run */
#define STATS_MAX_SECONDS 86400     /* time-series length cap (a day of seconds) */

/* One request's outcome: a line of --records and a failure sample. */
/* A tunnel on a QUIC stream (quic://, socks5+quic://): the stream's facts. */
struct tp_quic_facts {
	bool on_stream;            /* the request rode on a QUIC stream: stream is its id */
	int64_t stream;
	bool has_reset;            /* the proxy's RESET_STREAM: reset_code */
	uint64_t reset_code;
	bool has_close;            /* the connection's CONNECTION_CLOSE: close_code */
	uint64_t close_code;
};

struct probe_record {
	char id[72];               /* X-Probe-Id: PREFIX-TARGET-SEQ */
	unsigned target;           /* index into cfg->targets */
	enum tp_class cls;
	enum tp_phase phase;
	char detail[200];
	int status;
	int64_t bytes_expected;    /* -1 when unknown */
	uint64_t bytes_received;   /* body bytes after de-chunking (what framing counts) */
	uint64_t bytes_sent;       /* request bytes written */
	uint64_t wire_received;    /* bytes read from the connection for this request */
	char local[NET_ADDRSTRLEN];
	char remote[NET_ADDRSTRLEN];
	const char *proto;         /* "http/1.1" or "h3": what carried the request (attempted) */
	char fallback[120];        /* --http3 but not over HTTP/3: why ("" when it was, or
				    * when HTTP/3 was not asked for) */
	struct tp_quic_facts quic; /* records' "quic" object, when on_stream */
	bool reused;
	bool verified;             /* the body was checked byte for byte (seed or SHA-256) */
	bool has_body_sha256;      /* body_sha256 holds the body's SHA-256 (no seed) */
	uint8_t body_sha256[32];
	double t;                  /* start, Unix seconds */
	double latency_ms;
	/* Phase ends, ms from the request start; < 0 when the phase did not happen. */
	double dns_ms, connect_ms, proxy_ms, tls_ms, first_byte_ms, total_ms;
};

/* Counts are lib/runcount's, so the run file (lib/runfile.h) is written from them the
 * same way whoever counted. */
struct probe_stats {
	struct runcount_totals tot;  /* conns_opened and retries counted by conn.c */
	size_t ntargets;
	struct runcount_target *targets; /* one per cfg->targets entry */
	uint64_t start_us;         /* monotonic start of the run, for the time series */
	size_t nseconds;
	struct runcount_second *seconds; /* allocated in chunks as the run goes on */
	size_t seconds_cap;
	struct probe_record failures[STATS_MAX_FAILURES];
	size_t nfailures;
	struct stats_body *bodies;  /* per target, when learning (else NULL) */
};

/* What the ok bodies of one target were, learnt by a run that hashes bodies without a
 * seed (the direct run of --compare-direct). */
struct stats_body {
	bool seen;                 /* an ok body was hashed */
	bool differs;              /* two ok bodies differed: the URL is not a fixed file */
	uint8_t sha256[32];
	uint64_t length;
};

/* learn: keep a stats_body per target. Returns 0 or -ENOMEM. */
int stats_init(struct probe_stats *st, size_t ntargets, uint64_t start_us, bool learn);
/* The known body of target i learnt by st (a run with learn set): true with *known
 * filled when every ok body hashed for it was the same. */
bool stats_known_body(const struct probe_stats *st, size_t i, struct probe_known *known);
void stats_free(struct probe_stats *st);
/* A request started at monotonic time now_us (for the time series). */
void stats_started(struct probe_stats *st, uint64_t now_us);
/* A request ended; latency_us is what the percentiles count. */
void stats_add(struct probe_stats *st, const struct probe_record *rec, uint64_t latency_us,
	       uint64_t now_us);
/* dst += src (failures: the first ones by start time up to the cap). */
int stats_merge(struct probe_stats *dst, const struct probe_stats *src);

/* One --records JSON line (with '\n') into buf; returns its length, or 0 when it does
 * not fit (the caller's buffer is sized for the worst case). */
size_t record_format(const struct probe_record *rec, const struct probe_config *cfg,
		     char *buf, size_t cap);
/* "URL -> class (detail) [phase, local ADDR]". */
void record_describe(const struct probe_record *rec, const struct probe_config *cfg, FILE *out);

#endif
