/* check — see check.h: arguments, the origin, the battery, the outputs. */
#include "check/check.h"

#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check/args.h"
#include "check/battery.h"
#include "check/ck.h"
#include "check/out.h"
#include "lib/loop.h"

/* Resolves u's host (a literal, or a name through the system resolver: one lookup
 * before anything runs). Returns 0 or -1 with err. */
static int resolve(const struct url *u, struct net_addr *addr, const char *what, char *err,
		   size_t errlen)
{
	if (net_addr_from_ip(u->host, u->port, addr) == 0)
		return 0;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
	int rc = getaddrinfo(u->host, NULL, &hints, &res);
	if (rc != 0 || !res) {
		snprintf(err, errlen, "cannot resolve the %s host '%s': %s", what, u->host,
			 gai_strerror(rc));
		return -1;
	}
	memcpy(&addr->ss, res->ai_addr, res->ai_addrlen);
	addr->len = res->ai_addrlen;
	net_addr_set_port(addr, u->port);
	freeaddrinfo(res);
	return 0;
}

static int setup(struct ck *ck, const struct ck_args *a, char *err, size_t errlen)
{
	memset(ck, 0, sizeof *ck);
	ck->args = a;
	if (a->proxy_url && resolve(&a->proxy, &ck->proxy, "proxy", err, errlen) < 0)
		return -1;
	if (a->gateway_url && resolve(&a->gateway, &ck->gateway, "gateway", err, errlen) < 0)
		return -1;
	if (a->metrics_url && resolve(&a->metrics, &ck->metrics, "metrics", err, errlen) < 0)
		return -1;
	ck->gw_retry_after = -1;
	struct net_addr bind_addr;
	if (a->origin_url)
		net_addr_from_ip(a->origin.host, a->origin.port, &bind_addr);
	else
		net_addr_from_ip("127.0.0.1", 0, &bind_addr);
	if (corigin_start(&ck->origin, &bind_addr, err, errlen) < 0)
		return -1;
	net_addr_format(&ck->origin.addr, ck->authority);
	net_addr_format(&ck->origin.banner_addr, ck->banner_authority);
	if (ck->origin.addr6.len)
		net_addr_format(&ck->origin.addr6, ck->authority6);
	ck->origin_port = net_addr_port(&ck->origin.addr);
	/* Tags differ from run to run, so a cache never answers a check from an earlier
	 * run. */
	snprintf(ck->nonce, sizeof ck->nonce, "%08lx",
		 (unsigned long)((loop_clock_us() ^ ((uint64_t)getpid() << 20)) & 0xffffffffu));
	return 0;
}

static void list_one(const struct ck_def *def, void *arg)
{
	(void)arg;
	printf("%-34s %-8s %-22s %s\n", def->id, ck_profile_name(def->profile), def->rule,
	       def->title);
}

int check_main(int argc, char **argv)
{
	static struct ck ck; /* large (the origin's log): not on the stack */
	struct ck_args a;
	struct battery_run run = {0};
	char err[512];
	int rc = ck_args_parse(&a, argc, argv, err, sizeof err);
	if (rc != 0) {
		if (rc < 0)
			fprintf(stderr, "tunnelprobe check: %s\n", err);
		return rc < 0 ? 2 : 0;
	}
	if (a.list) {
		battery_each(list_one, NULL);
		return 0;
	}
	signal(SIGPIPE, SIG_IGN);
	if (setup(&ck, &a, err, sizeof err) < 0) {
		fprintf(stderr, "tunnelprobe check: %s\n", err);
		return 2;
	}
	char url[512], profiles[128];
	ckout_redact(a.proxy_url ? a.proxy_url : "-", url, sizeof url);
	printf("tunnelprobe check: proxy %s%s%s, profiles %s, origin %s\n", url,
	       a.gateway_url ? ", gateway " : "", a.gateway_url ? a.gateway_url : "",
	       ck_profiles_format(a.profiles, profiles, sizeof profiles), ck.authority);
	ckout_header(stdout);
	rc = 2;
	if (battery_run(&ck, &run, stdout) < 0) {
		fprintf(stderr, "tunnelprobe check: out of memory\n");
		goto out;
	}
	ckout_totals(stdout, &run);
	rc = run.failed ? 1 : 0;
	if ((a.json && ckout_json(a.json, &a, &run) < 0) ||
	    (a.junit && ckout_junit(a.junit, &a, &run) < 0) ||
	    (a.html && ckout_html(a.html, &a, &run) < 0))
		rc = 2;
out:
	battery_free(&run);
	corigin_stop(&ck.origin);
	return rc;
}
