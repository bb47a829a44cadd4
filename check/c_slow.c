/* c_slow — slow peers, through each way of reaching the origin: an origin that drips
 * its body, and a client that stops reading an endless one. The proxy must pass the
 * drip on whole, and must not buffer without bound for a client that does not read
 * (the origin's own count says how much it managed to write; with --pid the proxy's
 * RSS and descriptors are sampled from /proc too); once the client is gone, the
 * proxy must let go of the origin. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "check/battery.h"
#include "check/ck.h"
#include "lib/procstat.h"

#define MiB ((uint64_t)1024 * 1024)
#define HELD_MAX (64 * MiB)      /* more in flight than kernels buffer: the proxy hoards */
#define GROWTH_MAX (8 * MiB)     /* still taking from the origin once buffers are full */
#define RSS_GROWTH_MAX (32 * MiB)

struct sample {
	long rss_kib, fds;
};

static void sample(const struct ck *ck, struct sample *s)
{
	s->rss_kib = ck->args->pid ? procstat_rss_kib(ck->args->pid) : -1;
	s->fds = ck->args->pid ? procstat_fds(ck->args->pid) : -1;
}

static void report(struct ck_outcome *o, const struct sample *a, const struct sample *b)
{
	if (a->rss_kib < 0 || b->rss_kib < 0)
		return;
	ck_num(o, "proxy_rss_kib_before", (uint64_t)a->rss_kib);
	ck_num(o, "proxy_rss_kib_after", (uint64_t)b->rss_kib);
	if (a->fds >= 0 && b->fds >= 0) {
		ck_num(o, "proxy_fds_before", (uint64_t)a->fds);
		ck_num(o, "proxy_fds_after", (uint64_t)b->fds);
	}
}

static void drip(struct ck *ck, const struct ck_def *d, struct ck_outcome *o)
{
	char tag[OPLAN_MAX_TAG], path[128];
	struct cio c;
	struct cx x;
	struct cx_resp r = {0};
	struct sample before, after;
	sample(ck, &before);
	snprintf(path, sizeof path, "/t/%s/drip/%" PRIu64 "/40", ck_tag(ck, tag), d->arg);
	if (ck_get(ck, d->via, path, NULL, &c, &x, &r, o) < 0 && o->decided)
		return;
	sample(ck, &after);
	ck_evidence(o, &c, &r, NULL);
	report(o, &before, &after);
	if (!ck_bad_response(o, &c, &r, 200, d->arg))
		ck_result(o, CK_PASS, "a body dripped 16 bytes per 40 ms arrived whole, byte-exact");
	cio_close(&c);
}

static uint64_t origin_sent(struct ck *ck, uint64_t conn)
{
	struct corigin_conn oc;
	return corigin_conn(&ck->origin, conn, &oc) ? oc.sent : 0;
}

/* The verdict on what piled up while the client did not read. */
static void judge_hoard(struct ck_outcome *o, uint64_t held, uint64_t growth,
			const struct sample *a, const struct sample *b)
{
	long rss_growth = a->rss_kib >= 0 && b->rss_kib >= 0 ? (b->rss_kib - a->rss_kib) * 1024 : 0;
	if (held > HELD_MAX)
		ck_result(o, CK_FAIL, "%" PRIu64 " MiB left the origin for a client that read nothing: "
			  "the proxy buffers without bound", held / MiB);
	else if (growth > GROWTH_MAX)
		ck_result(o, CK_FAIL, "the proxy kept reading from the origin (%" PRIu64 " MiB in 2 s) "
			  "while the client read nothing", growth / MiB);
	else if (rss_growth > (long)RSS_GROWTH_MAX)
		ck_result(o, CK_FAIL, "the proxy's RSS grew %ld MiB while the client read nothing",
			  rss_growth / (long)MiB);
	else
		ck_result(o, CK_PASS, "back-pressure held: %" PRIu64 " KiB in flight, the origin "
			  "stopped%s", held / 1024, a->rss_kib >= 0 ? ", the proxy's RSS steady" : "");
}

static void reader(struct ck *ck, const struct ck_def *d, struct ck_outcome *o)
{
	char tag[OPLAN_MAX_TAG], path[128], head[512];
	struct cio c;
	struct cx x;
	struct cx_resp r = {0};
	struct corigin_req req;
	struct sample before, after;
	snprintf(path, sizeof path, "/t/%s/endless", ck_tag(ck, tag));
	if (ck_open(ck, d->via, NULL, &c, &x, o) < 0)
		return;
	sample(ck, &before);
	int n = ck_head(ck, d->via, head, sizeof head, "GET", path, NULL);
	cio_write(&c, head, (size_t)n, ck->deadline);
	/* Read the head and some body, then stop. */
	if (cx_read_head(&x, 0, &r, ck_step(ck, 5000)) < 0) {
		ck_bad_response(o, &c, &r, 200, UINT64_MAX);
		cio_close(&c);
		return;
	}
	while (c.received < 65536 && cx_fill(&x, ck_step(ck, 5000)) > 0)
		x.off = x.len;
	if (corigin_find(&ck->origin, tag, &req, 1) == 0) {
		ck_result(o, CK_FAIL, "the request never reached the origin");
		cio_close(&c);
		return;
	}
	cio_sleep_ms(1000);
	uint64_t s1 = origin_sent(ck, req.conn);
	cio_sleep_ms(2000);
	uint64_t s2 = origin_sent(ck, req.conn);
	sample(ck, &after);
	uint64_t held = s2 > c.received ? s2 - c.received : 0;
	ck_num(o, "client_received", c.received);
	ck_num(o, "origin_sent", s2);
	ck_num(o, "in_flight", held);
	ck_num(o, "origin_growth_2s", s2 - s1);
	report(o, &before, &after);
	judge_hoard(o, held, s2 - s1, &before, &after);
	/* The client goes: its unread bytes make the close a reset. */
	cio_close(&c);
	if (!corigin_wait_closed(&ck->origin, req.conn, ck_step(ck, 5000)))
		ck_result(o, CK_FAIL, "5 s after the client went, the origin's connection was still "
			  "open");
}

static const struct ck_def defs[] = {
	{"forward.slow.drip", "a dripping origin's body arrives whole", "RFC 9112 §6.3",
	 CK_PROFILE_FORWARD, CK_VIA_FORWARD, drip, 512, 0, 15},
	{"forward.slow.reader", "a client that stops reading: bounded buffering, then let go",
	 "RFC 9112 §9.6", CK_PROFILE_FORWARD, CK_VIA_FORWARD, reader, 0, 0, 20},
	{"connect.slow.drip", "a dripping origin's bytes arrive whole", "RFC 9110 §9.3.6",
	 CK_PROFILE_CONNECT, CK_VIA_CONNECT, drip, 512, 0, 15},
	{"connect.slow.reader", "a client that stops reading: bounded buffering, then let go",
	 "RFC 9110 §9.3.6", CK_PROFILE_CONNECT, CK_VIA_CONNECT, reader, 0, 0, 20},
	{"socks5.slow.drip", "a dripping origin's bytes arrive whole", "RFC 1928 §6",
	 CK_PROFILE_SOCKS5, CK_VIA_SOCKS5, drip, 512, 0, 15},
	{"socks5.slow.reader", "a client that stops reading: bounded buffering, then let go",
	 "RFC 1928 §6", CK_PROFILE_SOCKS5, CK_VIA_SOCKS5, reader, 0, 0, 20},
};

const struct ck_table ck_slow_checks = {defs, sizeof defs / sizeof defs[0]};
