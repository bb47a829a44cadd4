/* dns — see dns.h. The Windows backend: no c-ares there, so one resolver thread per
 * struct dns asks the system's getaddrinfo() for one name at a time, in the order
 * asked, and hands each answer back to the loop's thread as a post (loop_iocp.h),
 * from which the callback runs. Literals are answered without the thread, through the
 * same kind of post, so every callback comes from the loop. */
#ifdef _WIN32
#include "lib/dns.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lib/loop_iocp.h"

struct dns_query {
	struct dns *dns;
	dns_cb cb; /* NULL once cancelled */
	void *arg;
	char host[256];
	uint16_t port;
	int family;
	int status;
	const char *why;
	struct net_addr addrs[DNS_MAX_ADDRS];
	size_t n;
	struct loop_post post;           /* the answer's way back to the loop */
	struct dns_query *next, **prevp; /* dns->queries */
	struct dns_query *next_queued;   /* the worker's queue */
};

/* Shared by the loop's thread and the resolver thread, under lock. */
struct dns_worker {
	struct loop *loop;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct dns_query *head, *tail; /* names not yet asked for */
	bool stop;
};

/* Runs in the resolver thread: fills q's answer. */
static void lookup(struct dns_query *q)
{
	struct addrinfo hints = {.ai_family = q->family, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(q->host, NULL, &hints, &res);
	if (rc != 0) {
		q->status = rc == EAI_NONAME || rc == EAI_NODATA ? -ENOENT
			    : rc == EAI_AGAIN			   ? -ETIMEDOUT
			    : rc == EAI_MEMORY			   ? -ENOMEM
								   : -EIO;
		q->why = rc == EAI_NONAME   ? "no such name"
			 : rc == EAI_NODATA ? "no address"
			 : rc == EAI_AGAIN  ? "temporary failure in name resolution"
					    : "name resolution failed";
		return;
	}
	for (struct addrinfo *a = res; a && q->n < DNS_MAX_ADDRS; a = a->ai_next) {
		if ((a->ai_family != AF_INET && a->ai_family != AF_INET6) ||
		    a->ai_addrlen > sizeof q->addrs[0].ss)
			continue;
		struct net_addr *na = &q->addrs[q->n++];
		memset(na, 0, sizeof *na);
		memcpy(&na->ss, a->ai_addr, a->ai_addrlen);
		na->len = (socklen_t)a->ai_addrlen;
		net_addr_set_port(na, q->port);
	}
	freeaddrinfo(res);
	if (q->n == 0) {
		q->status = -ENOENT;
		q->why = "no address";
	}
}

static void *worker_main(void *arg)
{
	struct dns_worker *wk = arg;
	pthread_mutex_lock(&wk->lock);
	for (;;) {
		while (!wk->head && !wk->stop)
			pthread_cond_wait(&wk->wake, &wk->lock);
		if (wk->stop)
			break; /* dns_free() answers what is still queued */
		struct dns_query *q = wk->head;
		wk->head = q->next_queued;
		if (!wk->head)
			wk->tail = NULL;
		pthread_mutex_unlock(&wk->lock);
		lookup(q);
		/* The loop may free q as soon as this is sent: not touched after. */
		loop_post_send(wk->loop, &q->post);
		pthread_mutex_lock(&wk->lock);
	}
	pthread_mutex_unlock(&wk->lock);
	return NULL;
}

static int worker_start(struct dns *dns)
{
	struct dns_worker *wk = calloc(1, sizeof *wk);
	if (!wk)
		return -ENOMEM;
	wk->loop = dns->loop;
	int rc = pthread_mutex_init(&wk->lock, NULL);
	if (rc == 0 && (rc = pthread_cond_init(&wk->wake, NULL)) != 0)
		pthread_mutex_destroy(&wk->lock);
	if (rc == 0 && (rc = pthread_create(&wk->thread, NULL, worker_main, wk)) != 0) {
		pthread_cond_destroy(&wk->wake);
		pthread_mutex_destroy(&wk->lock);
	}
	if (rc != 0) {
		free(wk);
		return -rc;
	}
	dns->worker = wk;
	return 0;
}

static void worker_stop(struct dns_worker *wk)
{
	pthread_mutex_lock(&wk->lock);
	wk->stop = true;
	pthread_cond_signal(&wk->wake);
	pthread_mutex_unlock(&wk->lock);
	pthread_join(wk->thread, NULL); /* waits for the lookup in progress, if any */
	pthread_cond_destroy(&wk->wake);
	pthread_mutex_destroy(&wk->lock);
	free(wk);
}

static void unlink_query(struct dns_query *q)
{
	*q->prevp = q->next;
	if (q->next)
		q->next->prevp = q->prevp;
}

/* The loop's thread: the answer is back. */
static void on_answer(struct loop *loop, struct loop_post *post)
{
	struct dns_query *q = post->data;
	unlink_query(q);
	if (q->cb)
		q->cb(q->arg, q->status, q->why, q->addrs, q->n);
	free(q);
}

int dns_init(struct dns *dns, struct loop *loop, const char *servers_csv)
{
	memset(dns, 0, sizeof *dns);
	if (servers_csv)
		return -ENOTSUP; /* the system resolver cannot be pointed elsewhere */
	dns->loop = loop;
	return net_startup();
}

void dns_free(struct dns *dns)
{
	if (!dns || !dns->loop)
		return;
	/* After the join no thread sends a post; then every query still here is answered
	 * -ECANCELED and its post forgotten (one already queued is only recycled). */
	if (dns->worker)
		worker_stop(dns->worker);
	dns->worker = NULL;
	while (dns->queries) {
		struct dns_query *q = dns->queries;
		unlink_query(q);
		loop_post_forget(dns->loop, &q->post);
		if (q->cb)
			q->cb(q->arg, -ECANCELED, "resolver freed", NULL, 0);
		free(q);
	}
	dns->loop = NULL;
}

/* Answers q from the loop with what it holds now. */
static void answer_now(struct dns_query *q, int status, const char *why)
{
	q->status = status;
	q->why = why;
	loop_post_send(q->dns->loop, &q->post);
}

struct dns_query *dns_resolve(struct dns *dns, const char *host, uint16_t port, int family,
			      dns_cb cb, void *arg)
{
	struct dns_query *q = calloc(1, sizeof *q);
	if (!q)
		return NULL;
	*q = (struct dns_query){.dns = dns, .cb = cb, .arg = arg, .port = port, .family = family};
	if (loop_post_arm(dns->loop, &q->post, on_answer, q) < 0) {
		free(q);
		return NULL;
	}
	q->next = dns->queries;
	if (q->next)
		q->next->prevp = &q->next;
	q->prevp = &dns->queries;
	dns->queries = q;
	if (net_addr_from_ip(host, port, &q->addrs[0]) == 0) {
		int fam = q->addrs[0].ss.ss_family;
		q->n = family == AF_UNSPEC || family == fam ? 1 : 0;
		answer_now(q, q->n ? 0 : -ENOENT, q->n ? NULL : "address family mismatch");
		return q;
	}
	if (strlen(host) >= sizeof q->host) {
		answer_now(q, -ENOENT, "name too long");
		return q;
	}
	strcpy(q->host, host);
	int rc = dns->worker ? 0 : worker_start(dns);
	if (rc < 0) {
		answer_now(q, rc == -ENOMEM ? -ENOMEM : -EIO, "no resolver thread");
		return q;
	}
	struct dns_worker *wk = dns->worker;
	pthread_mutex_lock(&wk->lock);
	if (wk->tail)
		wk->tail->next_queued = q;
	else
		wk->head = q;
	wk->tail = q;
	pthread_cond_signal(&wk->wake);
	pthread_mutex_unlock(&wk->lock);
	return q;
}

void dns_cancel(struct dns_query *q)
{
	/* The query stays the resolver's until its answer is back; it just forgets whom
	 * to tell. */
	q->cb = NULL;
}

#endif /* _WIN32 */
