/* shard — one run's load split between N processes that each run a part ("shard I of
 * N"), so that the parts together send exactly what one process would have sent
 * (docs/distributed.md). The split is by request number: of a target's requests
 * 0, 1, 2, ... shard I sends those whose number k has k mod N == I, so every request
 * of the whole run is sent once, by one shard, under the number it would have had
 * unsharded (its X-Probe-Id, and so the reference proxy's request-keyed fault
 * decisions, are the same).
 *
 * Pure arithmetic on caller memory; no allocation, no I/O.
 */
#ifndef TP_SHARD_H
#define TP_SHARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHARD_MAX 65536 /* shards of one run: N is 1..SHARD_MAX */
#define SHARD_TEXT_MAX 16 /* "65535/65536" and its NUL fit */

/* Shard index of count. count 0 means "not sharded" (the zero value); count 1 is one
 * shard doing all of it, which behaves exactly as not sharded. */
struct shard {
	unsigned index, count;
};

/* Parses "I/N" (decimal digits only, 0 <= I < N <= SHARD_MAX, no sign, no spaces)
 * into *out. Returns 0, or -EINVAL with *why a short static reason. */
int shard_parse(const char *s, struct shard *out, const char **why);

/* Whether s splits a load between more than one process. */
bool shard_active(const struct shard *s);

/* How many of the numbers 0..n-1 are this shard's (those k with k mod N == I): the
 * shard's part of a count that is split by number (-n requests per URL). n when not
 * sharded. */
uint64_t shard_part(const struct shard *s, uint64_t n);

/* The whole run's number of the shard's local-th request (0-based among its own):
 * I + local * N. local when not sharded. */
uint64_t shard_number(const struct shard *s, uint64_t local);

/* The shard's part of c parallel connections: c / N, plus one for the first c mod N
 * shards — but at least 1, so a shard with requests can send them (with c < N the
 * shards together open more than c). c when not sharded. */
unsigned shard_connections(const struct shard *s, unsigned c);

/* The shard's part of an open-loop rate: rate / N. rate when not sharded. */
double shard_rate(const struct shard *s, double rate);

/* "I/N" into out (cap >= SHARD_TEXT_MAX). Returns out. */
const char *shard_text(const struct shard *s, char *out, size_t cap);

#endif
