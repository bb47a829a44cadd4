/* dns — see dns.h. c-ares tells us which sockets it wants watched through its
 * socket-state callback; we mirror them as loop_io watchers and drive
 * ares_process_fd() from their events and from one timer for ares_timeout().
 * Windows has its own backend, dns_win.c. */
#ifndef _WIN32
#include "lib/dns.h"

#include <ares.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct dns_query {
	struct dns *dns;
	dns_cb cb; /* NULL once cancelled */
	void *arg;
	uint16_t port;
	int status;
	const char *why;
	struct net_addr addrs[DNS_MAX_ADDRS];
	size_t n;
	bool answered;    /* c-ares (or the literal path) has produced the result */
	bool in_resolve;  /* dns_resolve() is still on the stack */
	struct dns_query *next_deferred;
};

static pthread_once_t ares_once = PTHREAD_ONCE_INIT;
static int ares_init_status;
static void ares_global_init(void) { ares_init_status = ares_library_init(ARES_LIB_INIT_ALL); }

static struct loop_io *io_for_fd(struct dns *dns, int fd, bool create)
{
	struct loop_io *free_slot = NULL;
	for (size_t i = 0; i < DNS_MAX_SOCKS; i++) {
		if (dns->ios[i].events && dns->ios[i].fd == fd)
			return &dns->ios[i];
		if (!dns->ios[i].events && !free_slot)
			free_slot = &dns->ios[i];
	}
	return create ? free_slot : NULL;
}

static void arm_timer(struct dns *dns);

static void on_io(struct loop *loop, struct loop_io *io, unsigned events)
{
	struct dns *dns = io->data;
	int fd = io->fd;
	ares_process_fd(dns->channel, events & (LOOP_READ | LOOP_ERROR) ? fd : ARES_SOCKET_BAD,
			events & LOOP_WRITE ? fd : ARES_SOCKET_BAD);
	arm_timer(dns);
}

static void on_timer(struct loop *loop, struct loop_timer *timer)
{
	struct dns *dns = timer->data;
	ares_process_fd(dns->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	arm_timer(dns);
}

static void arm_timer(struct dns *dns)
{
	if (dns->pending == 0) {
		loop_timer_stop(dns->loop, &dns->timer);
		return;
	}
	struct timeval tv, *tvp = ares_timeout(dns->channel, NULL, &tv);
	uint64_t us = tvp ? (uint64_t)tvp->tv_sec * 1000000u + (uint64_t)tvp->tv_usec : 1000000u;
	loop_timer_start(dns->loop, &dns->timer, us);
}

static void sock_state_cb(void *data, ares_socket_t fd, int readable, int writable)
{
	struct dns *dns = data;
	unsigned events = (readable ? LOOP_READ : 0) | (writable ? LOOP_WRITE : 0);
	struct loop_io *io = io_for_fd(dns, fd, events != 0);
	if (!io)
		return; /* more sockets than we watch: c-ares's own timeouts still apply */
	if (events)
		loop_io_start(dns->loop, io, fd, events, on_io, dns);
	else
		loop_io_stop(dns->loop, io);
}

static void deliver(struct dns_query *q)
{
	struct dns *dns = q->dns;
	if (q->cb)
		q->cb(q->arg, q->status, q->why, q->addrs, q->n);
	(void)dns;
	free(q);
}

static void on_deferred(struct loop *loop, struct loop_timer *timer)
{
	struct dns *dns = timer->data;
	/* Take the whole list first: callbacks may start new queries that defer again. */
	struct dns_query *q = dns->deferred;
	dns->deferred = NULL;
	while (q) {
		struct dns_query *next = q->next_deferred;
		deliver(q);
		q = next;
	}
}

static void defer(struct dns_query *q)
{
	struct dns *dns = q->dns;
	q->next_deferred = dns->deferred;
	dns->deferred = q;
	loop_timer_start(dns->loop, &dns->deferred_timer, 0);
}

static void finish(struct dns_query *q, int status, const char *why)
{
	q->status = status;
	q->why = why;
	q->answered = true;
	if (q->in_resolve)
		defer(q); /* answered synchronously (hosts file): deliver from the loop */
	else
		deliver(q);
}

static void on_addrinfo(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
	struct dns_query *q = arg;
	struct dns *dns = q->dns;
	dns->pending--;
	if (status != ARES_SUCCESS) {
		if (res)
			ares_freeaddrinfo(res);
		int err = status == ARES_ENOTFOUND || status == ARES_ENODATA ? -ENOENT
			  : status == ARES_ETIMEOUT				  ? -ETIMEDOUT
			  : status == ARES_EDESTRUCTION || status == ARES_ECANCELLED ? -ECANCELED
										      : -EIO;
		finish(q, err, ares_strerror(status));
		return;
	}
	for (struct ares_addrinfo_node *n = res->nodes; n && q->n < DNS_MAX_ADDRS; n = n->ai_next) {
		if ((n->ai_family != AF_INET && n->ai_family != AF_INET6) ||
		    n->ai_addrlen > sizeof q->addrs[0].ss)
			continue;
		struct net_addr *a = &q->addrs[q->n++];
		memset(a, 0, sizeof *a);
		memcpy(&a->ss, n->ai_addr, n->ai_addrlen);
		a->len = n->ai_addrlen;
		net_addr_set_port(a, q->port);
	}
	ares_freeaddrinfo(res);
	if (q->n == 0)
		finish(q, -ENOENT, "no address");
	else
		finish(q, 0, NULL);
}

int dns_init(struct dns *dns, struct loop *loop, const char *servers_csv)
{
	memset(dns, 0, sizeof *dns);
	dns->loop = loop;
	loop_timer_init(&dns->timer, on_timer, dns);
	loop_timer_init(&dns->deferred_timer, on_deferred, dns);
	pthread_once(&ares_once, ares_global_init);
	if (ares_init_status != ARES_SUCCESS)
		return -EIO;
	struct ares_options opts = {.sock_state_cb = sock_state_cb, .sock_state_cb_data = dns,
				    .timeout = 2000, .tries = 2};
	ares_channel channel;
	int rc = ares_init_options(&channel, &opts,
				   ARES_OPT_SOCK_STATE_CB | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
	if (rc != ARES_SUCCESS)
		return rc == ARES_ENOMEM ? -ENOMEM : -EIO;
	dns->channel = channel;
	if (servers_csv && ares_set_servers_ports_csv(channel, servers_csv) != ARES_SUCCESS) {
		dns_free(dns);
		return -EIO;
	}
	return 0;
}

void dns_free(struct dns *dns)
{
	if (!dns || !dns->loop)
		return;
	if (dns->channel) {
		/* Runs every pending callback with ARES_EDESTRUCTION → -ECANCELED. */
		ares_destroy(dns->channel);
		dns->channel = NULL;
	}
	on_deferred(dns->loop, &dns->deferred_timer);
	for (size_t i = 0; i < DNS_MAX_SOCKS; i++)
		loop_io_stop(dns->loop, &dns->ios[i]);
	loop_timer_stop(dns->loop, &dns->timer);
	loop_timer_stop(dns->loop, &dns->deferred_timer);
	dns->loop = NULL;
}

struct dns_query *dns_resolve(struct dns *dns, const char *host, uint16_t port, int family,
			      dns_cb cb, void *arg)
{
	struct dns_query *q = calloc(1, sizeof *q);
	if (!q)
		return NULL;
	q->dns = dns;
	q->cb = cb;
	q->arg = arg;
	q->port = port;
	q->in_resolve = true;
	if (net_addr_from_ip(host, port, &q->addrs[0]) == 0) {
		int fam = q->addrs[0].ss.ss_family;
		q->n = family == AF_UNSPEC || family == fam ? 1 : 0;
		finish(q, q->n ? 0 : -ENOENT, q->n ? NULL : "address family mismatch");
	} else {
		struct ares_addrinfo_hints hints = {.ai_family = family, .ai_socktype = SOCK_STREAM};
		dns->pending++;
		ares_getaddrinfo(dns->channel, host, NULL, &hints, on_addrinfo, q);
		arm_timer(dns);
	}
	q->in_resolve = false;
	return q;
}

void dns_cancel(struct dns_query *q)
{
	/* The query stays owned by the resolver until c-ares (or the deferred timer) is
	 * done with it; it just forgets whom to tell. */
	q->cb = NULL;
}

#endif /* !_WIN32 */
