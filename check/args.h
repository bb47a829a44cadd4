/* args — `tunnelprobe check` options (docs/check.md). */
#ifndef TP_CHECK_ARGS_H
#define TP_CHECK_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "lib/url.h"

enum {
	CK_PROFILE_FORWARD = 1u << 0,
	CK_PROFILE_CONNECT = 1u << 1,
	CK_PROFILE_SOCKS5 = 1u << 2,
	CK_PROFILE_GATEWAY = 1u << 3,
	CK_PROFILE_CACHE = 1u << 4,
	CK_PROFILE_ALL = (1u << 5) - 1,
};

#define CK_MAX_ONLY 32

struct ck_args {
	const char *proxy_url;   /* --proxy, as given (NULL: none) */
	struct url proxy;
	unsigned profiles;       /* CK_PROFILE_* bits */
	bool profile_given;
	const char *json, *junit, *html; /* output files (NULL: none) */
	pid_t pid;               /* --pid: the proxy's process, sampled from /proc (0: none) */
	const char *gateway_url; /* --gateway */
	struct url gateway;
	const char *origin_url;  /* --origin-url: where our origin listens, as the proxy or
				  * gateway reaches it (NULL: 127.0.0.1, a free port) */
	struct url origin;
	const char *metrics_url; /* --metrics */
	struct url metrics;
	char breaker_header[64]; /* --breaker-header (X-Circuit-Breaker) */
	const char *denied;      /* --denied HOST:PORT: a destination the proxy refuses */
	double idle_wait;        /* --idle-wait S: how long idle checks wait (5) */
	double breaker_wait;     /* --breaker-wait S: how long for the breaker's cool-down (30) */
	unsigned gateway_rate;   /* --gateway-rate N: requests/s of gateway load checks (20) */
	double p99_budget_ms;    /* --p99-budget MS: gateway p99 overhead allowed (50) */
	const char *only[CK_MAX_ONLY]; /* --only ID[,ID]: checks whose id starts so */
	size_t nonly;
	bool list;               /* --list: print the battery, run nothing */
};

/* Parses argv (argv[0] is "check"). Returns 0, 1 when --help was printed (exit 0), or
 * -1 with one line in err (exit 2). */
int ck_args_parse(struct ck_args *a, int argc, char **argv, char *err, size_t errlen);
/* The usage text. */
void ck_args_usage(FILE *out);
/* "forward", "connect", "socks5", "gateway", "cache" for one bit; "?" otherwise. */
const char *ck_profile_name(unsigned bit);
/* Writes the profiles of mask as "forward,connect". Returns out. */
char *ck_profiles_format(unsigned mask, char *out, size_t cap);

#endif
