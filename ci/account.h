/* account — is every request of a run accounted for in every ledger? The check behind
 * the `accounted` expectation (docs/scenarios.md): the probe's records, the origin's
 * ledger and, when run started it, the reference proxy's ledger, joined by the probe
 * id (X-Probe-Id) and read only for the lines of this run (`run` field, when the lines
 * carry one).
 *
 * A record is accounted for when
 *   - the origin ledger has its id, if its request got far enough to reach the origin
 *     (class ok, or a failure in phase first_byte, headers, body, fin or done);
 *   - the proxy ledger has its tunnel, if run started the proxy and the record opened
 *     its connection (not `reused`) and got as far: a proxy line with the record's id
 *     (a proxy logs the id of the request that opened a tunnel or a forward
 *     connection), or, for a line the proxy could not name (a CONNECT without
 *     X-Probe-Id, SOCKS5), whose `client_peer` is the record's `local` address;
 * and no ledger holds an id that no record has (a request the probe lost track of).
 * Records failed earlier (dns, connect, proxy, tls, request) are accounted for by the
 * probe's own record.
 *
 * Memory grows with the number of distinct ids, up to ACCOUNT_MAX_IDS per ledger (then
 * the result is unknown, never a guess). Lines longer than ACCOUNT_LINE_MAX or not JSON
 * are counted as unreadable; any unreadable line makes the result unknown.
 */
#ifndef TP_CI_ACCOUNT_H
#define TP_CI_ACCOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ACCOUNT_MAX_IDS (2u << 20)
#define ACCOUNT_LINE_MAX 65536

struct account {
	bool known;               /* false: see why */
	char why[160];            /* why it is unknown: "no origin ledger", ... */
	uint64_t records;         /* probe records of this run */
	uint64_t want_origin;     /* records that must be in the origin ledger */
	uint64_t missing_origin;  /* of those, not there */
	bool proxy_checked;       /* the proxy ledger was read and has lines */
	uint64_t want_proxy;      /* records that must be in the proxy ledger */
	uint64_t missing_proxy;   /* of those, not there */
	uint64_t unknown_ids;     /* ledger ids (origin or proxy) no record has */
	char example[96];         /* the first id missing somewhere, or unknown */
};

/* Reads DIR/records.jsonl, DIR/origin.jsonl and, when with_proxy, DIR/proxy.jsonl
 * (lines of run run_id only, when it is not NULL and a line carries "run"). Fills *a;
 * a->known false (with a->why) when a file is missing or unreadable. Returns 0, or
 * -ENOMEM (a->why says so). */
int account_run(const char *dir, const char *run_id, bool with_proxy, struct account *a);

/* Whether every request is accounted for: known and nothing missing or unknown. */
bool account_ok(const struct account *a);

/* One line for people: "12000 requests: all in the origin ledger, 12000 tunnels in
 * the proxy ledger" or "3 of 12000 requests missing from the origin ledger (e.g.
 * ab12cd-0-17)". */
void account_text(const struct account *a, char *out, size_t cap);

#endif
