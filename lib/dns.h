/* dns — asynchronous name resolution, driven by a loop (loop.h).
 *
 * One struct dns per loop (per thread). Results are always delivered from the loop,
 * never from inside dns_resolve() — c-ares answers /etc/hosts names synchronously, and
 * we defer those to the next loop iteration so callers need not be re-entrant.
 * Address literals are answered the same way without asking c-ares.
 *
 * Backends: dns.c uses c-ares (Linux). dns_win.c (Windows, where Debian has no mingw
 * c-ares) gives each struct dns one resolver thread that asks the system's
 * getaddrinfo() one name at a time, and posts each answer to the loop (loop_iocp.h);
 * there servers_csv is not supported (-ENOTSUP), a lookup cannot be interrupted, so
 * dns_free() waits for the one in progress (at most the system resolver's timeout),
 * and -ETIMEDOUT means the system said "try again later".
 */
#ifndef TP_DNS_H
#define TP_DNS_H

#include <stddef.h>
#include <stdint.h>

#include "lib/loop.h"
#include "lib/net.h"

#define DNS_MAX_ADDRS 8
#define DNS_MAX_SOCKS 16

struct dns_query;

/* status: 0, or a negative code: -ENOENT (no such name / no address of the family),
 * -ETIMEDOUT, -ECANCELED (the resolver was freed), -EIO (other resolver failure);
 * `why` is a short static text for messages. addrs[0..n) carry the port asked for. */
typedef void (*dns_cb)(void *arg, int status, const char *why, const struct net_addr *addrs,
		       size_t n);

struct dns {
	struct loop *loop;
#ifdef _WIN32
	void *worker;              /* the resolver thread's state; NULL until the first name */
	struct dns_query *queries; /* every query whose answer has not been delivered */
#else
	void *channel; /* ares_channel */
	struct loop_io ios[DNS_MAX_SOCKS];
	struct loop_timer timer;
	struct dns_query *deferred; /* answers waiting for the next iteration */
	struct loop_timer deferred_timer;
	size_t pending; /* queries under way */
#endif
};

/* Creates a resolver on loop (system configuration, or servers_csv like
 * "127.0.0.1:5353" for tests; NULL for the system's). Returns 0, -ENOMEM, -EIO, or on
 * Windows -ENOTSUP for servers_csv. */
int dns_init(struct dns *dns, struct loop *loop, const char *servers_csv);
/* Cancels every pending query (their callbacks run with -ECANCELED) and frees. NULL-safe. */
void dns_free(struct dns *dns);

/* Resolves host (a name or a literal) for port; family AF_INET, AF_INET6 or AF_UNSPEC.
 * cb runs exactly once, later, from the loop — unless dns_cancel() is called first.
 * Returns a handle for dns_cancel() (owned by the resolver, valid until the callback
 * runs or dns_cancel returns), or NULL when out of memory. */
struct dns_query *dns_resolve(struct dns *dns, const char *host, uint16_t port, int family,
			      dns_cb cb, void *arg);
/* The callback of q will not run. q must be a handle whose callback has not run yet. */
void dns_cancel(struct dns_query *q);

#endif
