/* c_cache — a caching proxy (RFC 9111), through forward requests: max-age served from
 * the cache (the origin sees one request for several), Age on what the cache served,
 * no-store and private never served from it, Vary respected, ETag and Last-Modified
 * revalidation (the origin answers 304, the client still gets the whole body), and a
 * stale entry revalidated. The origin's log counts what reached it. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "check/battery.h"
#include "check/ck.h"
#include "check/oresp.h"

#define V_F CK_VIA_FORWARD
#define P_K CK_PROFILE_CACHE

/* One GET on its own connection, the body checked; r gets the response. Returns 0, or
 * -1 with o failed. */
static int fetch(struct ck *ck, struct ck_outcome *o, const char *path, const char *extra,
		 uint64_t size, struct cx_resp *r)
{
	struct cio c;
	struct cx x;
	memset(r, 0, sizeof *r);
	if (ck_get(ck, V_F, path, extra, &c, &x, r, o) < 0 && o->decided)
		return -1;
	cio_close(&c);
	return ck_bad_response(o, &c, r, 200, size) ? -1 : 0;
}

static size_t origin_count(struct ck *ck, const char *tag)
{
	return corigin_find(&ck->origin, tag, NULL, 0);
}

/* arg: how many fetches; arg2: 0 max-age (one origin request wanted), 1 the Age header
 * on what came from the cache. */
static void max_age(struct ck *ck, const struct ck_def *d, struct ck_outcome *o)
{
	char tag[OPLAN_MAX_TAG], path[128], age[32] = "";
	struct cx_resp r = {0};
	bool aged = true;
	snprintf(path, sizeof path, "/t/%s/cc/max-age=60/4096", ck_tag(ck, tag));
	for (uint64_t i = 0; i < d->arg; i++) {
		if (fetch(ck, o, path, NULL, 4096, &r) < 0)
			return;
		if (i > 0 && !cx_header(&r, "Age", age, sizeof age))
			aged = false;
	}
	size_t seen = origin_count(ck, tag);
	ck_num(o, "fetches", d->arg);
	ck_num(o, "origin_requests", seen);
	if (d->arg2 == 0)
		ck_result(o, seen == 1 ? CK_PASS : CK_FAIL, seen == 1
			  ? "max-age=60: %" PRIu64 " fetches, one origin request"
			  : "max-age=60: the origin saw every one of %" PRIu64 " fetches: not served "
			    "from the cache", d->arg);
	else if (seen >= d->arg)
		ck_result(o, CK_FAIL, "nothing came from the cache, so nothing carried Age");
	else
		ck_result(o, aged ? CK_PASS : CK_FAIL, aged ? "what the cache served carried Age (%s)"
							: "a response served from the cache had no Age%s",
			  age);
}

/* arg: the Cache-Control value; every fetch must reach the origin. */
static void never_cached(struct ck *ck, const struct ck_def *d, struct ck_outcome *o)
{
	char tag[OPLAN_MAX_TAG], path[128];
	struct cx_resp r = {0};
	const char *cc = d->arg ? "private+max-age=60" : "no-store";
	snprintf(path, sizeof path, "/t/%s/cc/%s/1024", ck_tag(ck, tag), cc);
	for (int i = 0; i < 3; i++)
		if (fetch(ck, o, path, NULL, 1024, &r) < 0)
			return;
	size_t seen = origin_count(ck, tag);
	ck_num(o, "origin_requests", seen);
	ck_result(o, seen == 3 ? CK_PASS : CK_FAIL, seen == 3
		  ? "all 3 fetches reached the origin: never served from the cache"
		  : "only %zu of 3 fetches reached the origin: a %s response was served from the "
		    "cache", seen, d->arg ? "private" : "no-store");
}

static void vary(struct ck *ck, const struct ck_def *d, struct ck_outcome *o)
{
	char tag[OPLAN_MAX_TAG], path[128], extra[64], lang[32];
	static const char *const langs[] = {"en", "de", "en"};
	struct cx_resp r = {0};
	snprintf(path, sizeof path, "/t/%s/vary/1024", ck_tag(ck, tag));
	for (int i = 0; i < 3; i++) {
		snprintf(extra, sizeof extra, "Accept-Language: %s\r\n", langs[i]);
		if (fetch(ck, o, path, extra, 1024, &r) < 0)
			return;
		uint64_t want = oresp_vary_seed(path, strlen(path), langs[i], strlen(langs[i]));
		if (!cx_header(&r, "X-Tp-Lang", lang, sizeof lang) || strcmp(lang, langs[i]) != 0 ||
		    r.seed != want) {
			ck_result(o, CK_FAIL, "asked for '%s', got the '%s' variant: Vary ignored",
				  langs[i], lang);
			return;
		}
	}
	size_t seen = origin_count(ck, tag);
	ck_num(o, "origin_requests", seen);
	ck_result(o, CK_PASS, "each language got its own variant (the origin saw %zu of 3 "
		  "requests%s)", seen, seen == 2 ? ": the repeat came from the cache" : "");
}

/* arg 0: ETag/If-None-Match, 1: Last-Modified/If-Modified-Since. The second fetch must
 * be revalidated: the origin sees a conditional request and answers 304, the client
 * gets the whole body. */
static void revalidate(struct ck *ck, const struct ck_def *d, struct ck_outcome *o)
{
	char tag[OPLAN_MAX_TAG], path[128];
	struct cx_resp r = {0};
	struct corigin_req reqs[2];
	const char *cond = d->arg ? "If-Modified-Since" : "If-None-Match";
	snprintf(path, sizeof path, "/t/%s/%s/2048", ck_tag(ck, tag), d->arg ? "lm" : "etag");
	for (int i = 0; i < 2; i++)
		if (fetch(ck, o, path, NULL, 2048, &r) < 0)
			return;
	size_t seen = corigin_find(&ck->origin, tag, reqs, 2);
	ck_num(o, "origin_requests", seen);
	if (seen < 2) {
		ck_result(o, CK_FAIL, "the second fetch never reached the origin: a no-cache "
			  "response was served without revalidation");
		return;
	}
	bool conditional = strcasestr(reqs[1].head, cond) != NULL;
	ck_num(o, "origin_status", (uint64_t)reqs[1].status);
	if (conditional && reqs[1].status == 304)
		ck_result(o, CK_PASS, "revalidated with %s; the origin answered 304, the client got "
			  "the whole body", cond);
	else
		ck_result(o, CK_FAIL, "the second fetch went to the origin without %s: no "
			  "revalidation, the body fetched again", cond);
}

static void stale(struct ck *ck, const struct ck_def *d, struct ck_outcome *o)
{
	char tag[OPLAN_MAX_TAG], path[128];
	struct cx_resp r = {0};
	struct corigin_req reqs[2];
	snprintf(path, sizeof path, "/t/%s/stale/1024", ck_tag(ck, tag));
	if (fetch(ck, o, path, NULL, 1024, &r) < 0)
		return;
	cio_sleep_ms(2100); /* max-age=1: stale after this */
	if (fetch(ck, o, path, NULL, 1024, &r) < 0)
		return;
	size_t seen = corigin_find(&ck->origin, tag, reqs, 2);
	ck_num(o, "origin_requests", seen);
	if (seen < 2)
		ck_result(o, CK_FAIL, "a stale entry (max-age=1, 2 s old) was served without asking "
			  "the origin");
	else if (strcasestr(reqs[1].head, "If-None-Match") && reqs[1].status == 304)
		ck_result(o, CK_PASS, "the stale entry was revalidated (If-None-Match, 304)");
	else
		ck_result(o, CK_PASS, "the stale entry was fetched again (not revalidated, but not "
			  "served stale)");
}

static const struct ck_def defs[] = {
	{"cache.max-age", "max-age: repeated fetches served from the cache", "RFC 9111 §4.2", P_K,
	 V_F, max_age, 5, 0, 15},
	{"cache.age", "what the cache serves carries Age", "RFC 9111 §5.1", P_K, V_F, max_age, 2, 1,
	 10},
	{"cache.no-store", "no-store is never served from the cache", "RFC 9111 §5.2.2.5", P_K, V_F,
	 never_cached, 0, 0, 10},
	{"cache.private", "private is not served to another client", "RFC 9111 §5.2.2.7", P_K, V_F,
	 never_cached, 1, 0, 10},
	{"cache.vary", "Vary: each variant served to its own request", "RFC 9111 §4.1", P_K, V_F,
	 vary, 0, 0, 10},
	{"cache.etag", "ETag revalidation: If-None-Match, 304, the whole body to the client",
	 "RFC 9111 §4.3.1", P_K, V_F, revalidate, 0, 0, 10},
	{"cache.last-modified", "Last-Modified revalidation: If-Modified-Since, 304",
	 "RFC 9111 §4.3.1", P_K, V_F, revalidate, 1, 0, 10},
	{"cache.stale", "a stale entry is revalidated, not served", "RFC 9111 §4.2.4", P_K, V_F,
	 stale, 0, 0, 10},
};

const struct ck_table ck_cache_checks = {defs, sizeof defs / sizeof defs[0]};
