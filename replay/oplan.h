/* oplan — what the replay origin answers to one request, whatever carries it: HTTP/1.1
 * (oconn.c) and HTTP/3 (ostream.c) both plan through here, so a route, a built-in path
 * or a recording answers the same over TCP, TLS and QUIC. Sans-I/O, no allocation.
 */
#ifndef TP_REPLAY_OPLAN_H
#define TP_REPLAY_OPLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "replay/origin.h"
#include "replay/sites.h"

/* The host part of a Host header or an :authority ("name:port", "[v6]:port", "name")
 * into out (cap bytes, truncated to fit, always NUL-terminated): what routes match on. */
void oplan_host(const char *value, size_t len, char *out, size_t cap);

/* An upload's X-Tp-Seed value: exactly 16 hex digits. Returns true with *seed set, or
 * false (the body is then counted but not verified). */
bool oplan_upload_seed(const char *value, size_t len, uint64_t *seed);

/* Plans the answer to method and target (origin form, with query) for host (no port,
 * may be empty): with --replay the recorded response matching method and target (404
 * when none does), else a site route or built-in path (sites_plan). Returns true when
 * the answer must end the connection after it — a recording that ended its
 * connection, a route with close=on, or a close-delimited body — which HTTP/1.1 says
 * with Connection: close and HTTP/3 ignores (a stream ends by itself). */
bool oplan_request(const struct origin_config *cfg, const char *method, const char *host,
		   const char *target, struct plan *plan);

/* The cut faults (truncate, rst, stall) end a response after cfg->fault_n bytes —
 * counted per connection over TCP, per stream over QUIC. With `written` bytes out so
 * far, trims *want (> 0) so that no write passes the cut. Returns true to write *want
 * bytes, false when the cut is reached: the caller makes it (FIN, reset, silence). */
bool oplan_fault_room(const struct origin_config *cfg, uint64_t written, size_t *want);

#endif
