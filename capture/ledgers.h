/* ledgers — the probe records, origin ledger and proxy ledger lines the capture joins
 * (docs/ledgers.md), read from JSON Lines files or a run.json, keeping the fields the
 * join and the judge need.
 *
 * Run ids: with run_id set, lines whose `run` is another id (or absent) are left out
 * and counted in other_runs, so a ledger appended to by earlier runs never shows up as
 * tunnels of this one.
 *
 * Memory: lines are copied into growable arrays, one fixed-size slot per line (no cap:
 * the caller chooses the files); no line longer than 1 MiB is read.
 */
#ifndef TP_CAPTURE_LEDGERS_H
#define TP_CAPTURE_LEDGERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define JOIN_UNKNOWN (-1LL)
#define LEDGERS_RUN_ID_MAX 64

/* How a probe request reached its origin (from its url and proxy). */
enum jpath {
	JPATH_DIRECT = 0,  /* no proxy */
	JPATH_TUNNEL,      /* CONNECT (https through an http proxy) or SOCKS5: the proxy relays bytes */
	JPATH_FORWARD,     /* plain http through an http proxy: the proxy rewrites requests */
};

/* One ledger line of each kind, the fields the join needs. */
struct jprobe {
	char id[96], local[64], remote[64], cls[32], phase[16], detail[160];
	char proto[8];         /* "h3" for HTTP/3 records (their local is a UDP address), else "" */
	long long expected, received, wire_received, sent;
	double t, latency_s;   /* start (Unix seconds) and how long it took to end */
	int status;
	enum jpath path;
	bool socks;            /* the proxy was SOCKS5 */
	bool plain;            /* the URL was http: (no TLS inside the tunnel) */
};

struct jorigin {
	char id[96], peer[64], local[64], end[16];
	long long conn, req;
	long long bytes_written, bytes_received, body_bytes, acked_close, acked_after,
		conn_written;
	int status;
	bool has_end;          /* this line ended its connection (`end` present) */
	bool h3;               /* an HTTP/3 stream's line: `end` is the stream's own */
	bool rst_received, fin_sent, fin_received, tls;
	double t;
};

struct jproxy_dir {
	long long received, sent, short_sends, dropped;
};

struct jproxy {
	char id[96], kind[16], client_peer[64], client_local[64], upstream_local[64],
		upstream_peer[64], first_close[16], client_end[16], upstream_end[16], fault[96];
	struct jproxy_dir down, up;
	int reply;             /* CONNECT status or SOCKS5 reply sent; -1 none */
	bool shut_client, shut_upstream;
	double t;
};

struct ledgers {
	struct jprobe *probe;
	size_t nprobe, probe_cap;
	struct jorigin *origin;
	size_t norigin, origin_cap;
	struct jproxy *proxy;
	size_t nproxy, proxy_cap;
	uint64_t bad_lines;     /* lines that were not JSON objects of a known kind */
	char run_id[LEDGERS_RUN_ID_MAX + 1]; /* "" joins every line; else only this run's */
	uint64_t other_runs;    /* lines left out: another run, or none */
};

void ledgers_init(struct ledgers *l);
void ledgers_free(struct ledgers *l);
/* True when id is a run id: 1-64 of [A-Za-z0-9._-]. */
bool ledgers_run_id_valid(const char *id);
/* Reads one ledger file (JSON Lines of any of the three kinds, or a run.json whose
 * "failures" are probe records and whose "run_id" they inherit). Returns 0 or -errno;
 * unknown lines are counted in bad_lines, other runs' lines in other_runs. */
int ledgers_load(struct ledgers *l, const char *path);
/* Adds one parsed line (tests use this). run is the run id a line without its own
 * "run" inherits (a run.json's), or NULL. Returns true when it was a known kind (also
 * when it was left out as another run's). */
bool ledgers_add(struct ledgers *l, json_t *obj, const char *run);

#endif
