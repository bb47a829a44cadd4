/* lib/dns_win.c under Wine: literals and names answered from the loop (never inside
 * dns_resolve), the family asked for honoured, a cancelled query never called back,
 * dns_free() answering what is pending with -ECANCELED, and servers_csv refused. Every
 * test ends with the loop empty. */
#include <errno.h>
#include <string.h>

#include "lib/dns.h"
#include "lib/loop.h"
#include "tests/win/wintest.h"

struct answer {
	int calls;
	int status;
	size_t n;
	struct net_addr first;
	bool in_resolve;
};

static bool resolving;

static void on_answer(void *arg, int status, const char *why, const struct net_addr *addrs,
		      size_t n)
{
	struct answer *a = arg;
	a->calls++;
	a->status = status;
	a->n = n;
	a->in_resolve = resolving;
	if (n > 0)
		a->first = addrs[0];
}

static void resolve(struct dns *dns, const char *host, int family, struct answer *a)
{
	resolving = true;
	WT_TRUE(dns_resolve(dns, host, 8080, family, on_answer, a) != NULL);
	resolving = false;
}

static void literals_and_localhost(void)
{
	struct loop loop;
	struct dns dns;
	WT_EQ(loop_init(&loop), 0);
	WT_EQ(dns_init(&dns, &loop, NULL), 0);
	struct answer v4 = {0}, v6 = {0}, mismatch = {0}, local = {0};
	resolve(&dns, "127.0.0.1", AF_UNSPEC, &v4);
	resolve(&dns, "::1", AF_INET6, &v6);
	resolve(&dns, "127.0.0.1", AF_INET6, &mismatch);
	resolve(&dns, "localhost", AF_INET, &local);
	WT_EQ(v4.calls + v6.calls + mismatch.calls + local.calls, 0);
	WT_EQ(loop_run(&loop), 0);
	WT_EQ(v4.calls, 1);
	WT_EQ(v4.status, 0);
	WT_EQ(net_addr_port(&v4.first), 8080);
	WT_EQ(v6.status, 0);
	WT_EQ(v6.first.ss.ss_family, AF_INET6);
	WT_EQ(mismatch.status, -ENOENT);
	WT_EQ(local.calls, 1);
	WT_EQ(local.status, 0);
	WT_TRUE(local.n >= 1);
	WT_TRUE(net_addr_is_loopback(&local.first));
	WT_EQ(net_addr_port(&local.first), 8080);
	WT_TRUE(!v4.in_resolve && !local.in_resolve);
	WT_EQ(loop_active(&loop), 0);
	dns_free(&dns);
	loop_free(&loop);
}

static void cancelled_query_is_not_called_back(void)
{
	struct loop loop;
	struct dns dns;
	WT_EQ(loop_init(&loop), 0);
	WT_EQ(dns_init(&dns, &loop, NULL), 0);
	struct answer a = {0}, b = {0};
	struct dns_query *q = dns_resolve(&dns, "localhost", 80, AF_INET, on_answer, &a);
	WT_TRUE(q != NULL);
	dns_cancel(q);
	resolve(&dns, "127.0.0.2", AF_INET, &b);
	WT_EQ(loop_run(&loop), 0);
	WT_EQ(a.calls, 0);
	WT_EQ(b.calls, 1);
	WT_EQ(loop_active(&loop), 0);
	dns_free(&dns);
	loop_free(&loop);
}

static void free_answers_pending_with_ecanceled(void)
{
	struct loop loop;
	struct dns dns;
	WT_EQ(loop_init(&loop), 0);
	WT_EQ(dns_init(&dns, &loop, NULL), 0);
	struct answer a[4] = {{0}};
	resolve(&dns, "localhost", AF_INET, &a[0]);
	resolve(&dns, "localhost", AF_UNSPEC, &a[1]);
	resolve(&dns, "127.0.0.1", AF_INET, &a[2]);
	resolve(&dns, "localhost", AF_INET, &a[3]);
	dns_free(&dns);
	for (int i = 0; i < 4; i++) {
		WT_EQ(a[i].calls, 1);
		WT_EQ(a[i].status, -ECANCELED);
	}
	/* Answers already queued on the port come back to nobody. */
	WT_EQ(loop_run(&loop), 0);
	for (int i = 0; i < 4; i++)
		WT_EQ(a[i].calls, 1);
	WT_EQ(loop_active(&loop), 0);
	loop_free(&loop);
}

static void servers_csv_is_not_supported(void)
{
	struct loop loop;
	struct dns dns;
	WT_EQ(loop_init(&loop), 0);
	WT_EQ(dns_init(&dns, &loop, "127.0.0.1:5353"), -ENOTSUP);
	dns_free(&dns); /* safe on a resolver that failed to start */
	loop_free(&loop);
}

int main(int argc, char **argv)
{
	static const struct wt_case cases[] = {
		{"dns: literals and localhost, from the loop", literals_and_localhost},
		{"dns: a cancelled query is not called back", cancelled_query_is_not_called_back},
		{"dns: dns_free answers pending queries -ECANCELED",
		 free_answers_pending_with_ecanceled},
		{"dns: servers_csv is not supported", servers_csv_is_not_supported},
	};
	return wt_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
