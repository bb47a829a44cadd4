/* args — see args.h. */
#include "check/args.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lib/units.h"

static const char *const profile_names[] = {"forward", "connect", "socks5", "gateway", "cache"};

const char *ck_profile_name(unsigned bit)
{
	for (unsigned i = 0; i < 5; i++)
		if (bit == 1u << i)
			return profile_names[i];
	return "?";
}

char *ck_profiles_format(unsigned mask, char *out, size_t cap)
{
	size_t len = 0;
	out[0] = '\0';
	for (unsigned i = 0; i < 5; i++)
		if (mask & (1u << i)) {
			int n = snprintf(out + len, cap - len, "%s%s", len ? "," : "", profile_names[i]);
			if (n < 0 || (size_t)n >= cap - len)
				break;
			len += (size_t)n;
		}
	return out;
}

void ck_args_usage(FILE *out)
{
	fprintf(out,
		"usage: tunnelprobe check --proxy URL [--profile P[,P...]|all] [--json FILE]\n"
		"                         [--junit FILE] [--html FILE] [--pid PID]\n"
		"                         [--gateway URL --origin-url URL [--metrics URL]\n"
		"                          [--breaker-header NAME]] [options]\n"
		"  a conformance battery for a proxy: runs its own origin on loopback and checks\n"
		"  what the proxy does to bytes, framing, endings, headers (docs/check.md).\n"
		"  --proxy URL            http://H:P or socks5://[user:pass@]H:P (socks5h:// too)\n"
		"  --profile LIST         forward,connect,socks5,gateway,cache or all\n"
		"                         (default: forward,connect,socks5)\n"
		"  --json FILE, --junit FILE, --html FILE   results as JSON, JUnit XML, HTML\n"
		"  --pid PID              the proxy's process: RSS and fds sampled by slow checks\n"
		"  --gateway URL          gateway profile: the gateway's listen URL\n"
		"  --origin-url URL       where our origin listens, as the gateway (or proxy)\n"
		"                         reaches it (default http://127.0.0.1:0, a free port)\n"
		"  --metrics URL          the gateway's Prometheus metrics, scraped before/after\n"
		"  --breaker-header NAME  the circuit breaker's header (X-Circuit-Breaker)\n"
		"  --breaker-wait S       how long to wait for the breaker to close (30)\n"
		"  --gateway-rate N       requests per second of the gateway load checks (20)\n"
		"  --p99-budget MS        p99 overhead the gateway may add (50)\n"
		"  --denied HOST:PORT     a destination the proxy's policy refuses\n"
		"  --idle-wait S          how long idle checks wait for the proxy's timeout (5)\n"
		"  --only ID[,ID...]      run only checks whose id starts with one of these\n"
		"  --list                 print the battery (id, profile, rule, title) and exit\n"
		"exit: 0 no check failed, 1 some failed, 2 bad usage\n");
}

static int bad(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

static int parse_profiles(struct ck_args *a, const char *v, char *err, size_t errlen)
{
	char buf[256];
	if (strlen(v) >= sizeof buf)
		return bad(err, errlen, "--profile: too long");
	strcpy(buf, v);
	a->profiles = 0;
	for (char *save, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		unsigned bit = 0;
		if (strcmp(tok, "all") == 0)
			bit = CK_PROFILE_ALL;
		for (unsigned i = 0; i < 5 && !bit; i++)
			if (strcmp(tok, profile_names[i]) == 0)
				bit = 1u << i;
		if (!bit)
			return bad(err, errlen,
				   "--profile: unknown profile '%s' (forward, connect, socks5, gateway, "
				   "cache, all)", tok);
		a->profiles |= bit;
	}
	if (!a->profiles)
		return bad(err, errlen, "--profile: empty");
	return 0;
}

static int parse_only(struct ck_args *a, char *v, char *err, size_t errlen)
{
	for (char *save, *tok = strtok_r(v, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (a->nonly == CK_MAX_ONLY)
			return bad(err, errlen, "--only: at most %d ids", CK_MAX_ONLY);
		a->only[a->nonly++] = tok;
	}
	return a->nonly ? 0 : bad(err, errlen, "--only: empty");
}

static int parse_url(const char *flag, const char *v, struct url *u, bool proxy, char *err,
		     size_t errlen)
{
	const char *why = NULL;
	int r = proxy ? url_parse_proxy(v, u, &why) : url_parse(v, u, &why);
	if (r < 0)
		return bad(err, errlen, "%s: bad URL '%s' (%s)", flag, v, why ? why : "invalid");
	if (!proxy && u->scheme != URL_HTTP)
		return bad(err, errlen, "%s: only http:// URLs are supported", flag);
	return 0;
}

static int parse_seconds(const char *flag, const char *v, double max, double *out, char *err,
			 size_t errlen)
{
	double s = units_duration(v);
	if (s < 0 || s > max)
		return bad(err, errlen, "%s: want a duration up to %gs, got '%s'", flag, max, v);
	*out = s;
	return 0;
}

/* One option with its value. Returns 0, or -1 with err. */
static int option(struct ck_args *a, const char *o, char *v, char *err, size_t errlen)
{
	uint64_t n;
	if (strcmp(o, "--proxy") == 0 || strcmp(o, "-x") == 0) {
		a->proxy_url = v;
		return parse_url(o, v, &a->proxy, true, err, errlen);
	}
	if (strcmp(o, "--profile") == 0) {
		a->profile_given = true;
		return parse_profiles(a, v, err, errlen);
	}
	if (strcmp(o, "--json") == 0)
		a->json = v;
	else if (strcmp(o, "--junit") == 0)
		a->junit = v;
	else if (strcmp(o, "--html") == 0)
		a->html = v;
	else if (strcmp(o, "--pid") == 0) {
		if (!units_count(v, INT32_MAX, &n) || n == 0)
			return bad(err, errlen, "--pid: want a process id, got '%s'", v);
		a->pid = (pid_t)n;
	} else if (strcmp(o, "--gateway") == 0) {
		a->gateway_url = v;
		return parse_url(o, v, &a->gateway, false, err, errlen);
	} else if (strcmp(o, "--origin-url") == 0) {
		a->origin_url = v;
		if (parse_url(o, v, &a->origin, false, err, errlen) < 0)
			return -1;
		if (!a->origin.host_is_literal)
			return bad(err, errlen, "--origin-url: the host must be an address literal");
	} else if (strcmp(o, "--metrics") == 0) {
		a->metrics_url = v;
		return parse_url(o, v, &a->metrics, false, err, errlen);
	} else if (strcmp(o, "--breaker-header") == 0) {
		size_t len = strlen(v);
		if (len == 0 || len >= sizeof a->breaker_header || strpbrk(v, " \t:\r\n"))
			return bad(err, errlen, "--breaker-header: want a header name, got '%s'", v);
		memcpy(a->breaker_header, v, len + 1);
	} else if (strcmp(o, "--denied") == 0) {
		a->denied = v;
		if (!strrchr(v, ':'))
			return bad(err, errlen, "--denied: want HOST:PORT, got '%s'", v);
	} else if (strcmp(o, "--idle-wait") == 0) {
		return parse_seconds(o, v, 60, &a->idle_wait, err, errlen);
	} else if (strcmp(o, "--breaker-wait") == 0) {
		return parse_seconds(o, v, 90, &a->breaker_wait, err, errlen);
	} else if (strcmp(o, "--gateway-rate") == 0) {
		if (!units_count(v, 10000, &n) || n == 0)
			return bad(err, errlen, "--gateway-rate: want 1..10000, got '%s'", v);
		a->gateway_rate = (unsigned)n;
	} else if (strcmp(o, "--p99-budget") == 0) {
		if (!units_count(v, 60000, &n))
			return bad(err, errlen, "--p99-budget: want milliseconds, got '%s'", v);
		a->p99_budget_ms = (double)n;
	} else if (strcmp(o, "--only") == 0) {
		return parse_only(a, v, err, errlen);
	} else {
		return bad(err, errlen, "unknown option '%s' (see --help)", o);
	}
	return 0;
}

int ck_args_parse(struct ck_args *a, int argc, char **argv, char *err, size_t errlen)
{
	memset(a, 0, sizeof *a);
	a->profiles = CK_PROFILE_FORWARD | CK_PROFILE_CONNECT | CK_PROFILE_SOCKS5;
	strcpy(a->breaker_header, "X-Circuit-Breaker");
	a->idle_wait = 5;
	a->breaker_wait = 30;
	a->gateway_rate = 20;
	a->p99_budget_ms = 50;
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];
		if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) {
			ck_args_usage(stdout);
			return 1;
		}
		if (strcmp(o, "--list") == 0) {
			a->list = true;
			continue;
		}
		if (o[0] != '-')
			return bad(err, errlen, "unexpected argument '%s' (see --help)", o);
		if (i + 1 >= argc)
			return bad(err, errlen, "%s needs a value", o);
		if (option(a, o, argv[++i], err, errlen) < 0)
			return -1;
	}
	if (a->list)
		return 0;
	if (!a->proxy_url && a->gateway_url && !a->profile_given)
		a->profiles = CK_PROFILE_GATEWAY; /* a gateway alone: its profile is the point */
	if (!a->proxy_url && !a->gateway_url)
		return bad(err, errlen, "--proxy URL is required (or --gateway URL for the gateway profile)");
	if (a->gateway_url && !a->origin_url)
		return bad(err, errlen, "--gateway needs --origin-url (how the gateway reaches our origin)");
	if (a->origin_url && !a->origin.port_explicit)
		return bad(err, errlen, "--origin-url needs an explicit port");
	return 0;
}
