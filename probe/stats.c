/* stats — see stats.h. */
#include "probe/stats.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- counting ---- */

int stats_init(struct probe_stats *st, size_t ntargets, uint64_t start_us, bool learn)
{
	memset(st, 0, sizeof *st);
	runcount_totals_init(&st->tot);
	st->start_us = start_us;
	st->ntargets = ntargets;
	st->targets = calloc(ntargets ? ntargets : 1, sizeof *st->targets);
	if (learn)
		st->bodies = calloc(ntargets ? ntargets : 1, sizeof *st->bodies);
	return st->targets && (!learn || st->bodies) ? 0 : -ENOMEM;
}

void stats_free(struct probe_stats *st)
{
	if (!st)
		return;
	free(st->targets);
	free(st->seconds);
	free(st->bodies);
	st->targets = NULL;
	st->seconds = NULL;
	st->bodies = NULL;
}

/* One more ok body of a target: the first is kept, a different one marks the target. */
static void body_seen(struct stats_body *b, const uint8_t sha256[32], uint64_t length)
{
	if (!b->seen) {
		b->seen = true;
		memcpy(b->sha256, sha256, sizeof b->sha256);
		b->length = length;
	} else if (b->length != length || memcmp(b->sha256, sha256, sizeof b->sha256) != 0) {
		b->differs = true;
	}
}

bool stats_known_body(const struct probe_stats *st, size_t i, struct probe_known *known)
{
	if (!st->bodies || i >= st->ntargets || !st->bodies[i].seen || st->bodies[i].differs)
		return false;
	known->has_sha256 = true;
	memcpy(known->sha256, st->bodies[i].sha256, sizeof known->sha256);
	known->length = (int64_t)st->bodies[i].length;
	known->from_direct = true;
	return true;
}

/* The time-series cell for monotonic time now_us, or NULL past the cap / on ENOMEM. */
static struct runcount_second *second_at(struct probe_stats *st, uint64_t now_us)
{
	uint64_t sec = now_us > st->start_us ? (now_us - st->start_us) / 1000000u : 0;
	if (sec >= STATS_MAX_SECONDS)
		return NULL;
	if (sec >= st->seconds_cap) {
		size_t cap = st->seconds_cap ? st->seconds_cap : 64;
		while (cap <= sec)
			cap *= 2;
		if (cap > STATS_MAX_SECONDS)
			cap = STATS_MAX_SECONDS;
		struct runcount_second *s = realloc(st->seconds, cap * sizeof *s);
		if (!s)
			return NULL;
		memset(s + st->seconds_cap, 0, (cap - st->seconds_cap) * sizeof *s);
		st->seconds = s;
		st->seconds_cap = cap;
	}
	if (sec >= st->nseconds)
		st->nseconds = sec + 1;
	return &st->seconds[sec];
}

void stats_started(struct probe_stats *st, uint64_t now_us)
{
	struct runcount_second *s = second_at(st, now_us);
	if (s)
		s->started++;
}

void stats_add(struct probe_stats *st, const struct probe_record *rec, uint64_t latency_us,
	       uint64_t now_us)
{
	struct runcount_request req = {
		.cls = rec->cls,
		.status = rec->status,
		.bytes_sent = rec->bytes_sent,
		.bytes_received = rec->wire_received,
		.reused = rec->reused,
		.verified = rec->verified,
		.latency_us = latency_us,
	};
	const double ends[RUNCOUNT_PHASES] = {
		[RUNCOUNT_PHASE_DNS] = rec->dns_ms,
		[RUNCOUNT_PHASE_CONNECT] = rec->connect_ms,
		[RUNCOUNT_PHASE_PROXY] = rec->proxy_ms,
		[RUNCOUNT_PHASE_TLS] = rec->tls_ms,
		[RUNCOUNT_PHASE_FIRST_BYTE] = rec->first_byte_ms,
	};
	runcount_phases_from_ends(ends, req.phase_us);
	runcount_totals_add(&st->tot, &req);
	if (rec->target < st->ntargets)
		runcount_target_add(&st->targets[rec->target], &req);
	struct runcount_second *s = second_at(st, now_us);
	if (s)
		runcount_second_done(s, &req);
	if (rec->cls != TP_OK && st->nfailures < STATS_MAX_FAILURES)
		st->failures[st->nfailures++] = *rec;
	if (st->bodies && rec->cls == TP_OK && rec->has_body_sha256 && rec->target < st->ntargets)
		body_seen(&st->bodies[rec->target], rec->body_sha256, rec->bytes_received);
}

static int cmp_failure(const void *a, const void *b)
{
	const struct probe_record *x = a, *y = b;
	return (x->t > y->t) - (x->t < y->t);
}

int stats_merge(struct probe_stats *dst, const struct probe_stats *src)
{
	runcount_totals_merge(&dst->tot, &src->tot);
	for (size_t i = 0; i < dst->ntargets && i < src->ntargets; i++)
		runcount_target_merge(&dst->targets[i], &src->targets[i]);
	if (src->nseconds && !second_at(dst, dst->start_us + (src->nseconds - 1) * 1000000u))
		return -ENOMEM;
	for (size_t i = 0; i < src->nseconds; i++)
		runcount_second_merge(&dst->seconds[i], &src->seconds[i]);
	for (size_t i = 0; dst->bodies && src->bodies && i < dst->ntargets && i < src->ntargets; i++) {
		if (src->bodies[i].seen)
			body_seen(&dst->bodies[i], src->bodies[i].sha256, src->bodies[i].length);
		dst->bodies[i].differs |= src->bodies[i].differs;
	}
	for (size_t i = 0; i < src->nfailures && dst->nfailures < STATS_MAX_FAILURES; i++)
		dst->failures[dst->nfailures++] = src->failures[i];
	qsort(dst->failures, dst->nfailures, sizeof dst->failures[0], cmp_failure);
	return 0;
}

/* ---- records ---- */

/* Appends s as a JSON string body (no quotes). Returns the new position or NULL. */
static char *json_escape(char *p, char *end, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (end - p < 8)
			return NULL;
		if (c == '"' || c == '\\') {
			*p++ = '\\';
			*p++ = (char)c;
		} else if (c < 0x20 || c == 0x7f) {
			p += snprintf(p, (size_t)(end - p), "\\u%04x", c);
		} else {
			*p++ = (char)c;
		}
	}
	return p;
}

/* printf into [p, end); NULL when it did not fit. */
#define PUT(...)                                                                   \
	do {                                                                       \
		if (!p)                                                            \
			return 0;                                                  \
		int n_ = snprintf(p, (size_t)(end - p), __VA_ARGS__);             \
		p = n_ < 0 || n_ >= end - p ? NULL : p + n_;                       \
	} while (0)
#define PUTSTR(s)                                                                  \
	do {                                                                       \
		PUT("\"");                                                         \
		p = p ? json_escape(p, end, (s)) : NULL;                           \
		PUT("\"");                                                         \
	} while (0)

size_t record_format(const struct probe_record *rec, const struct probe_config *cfg,
		     char *buf, size_t cap)
{
	char *p = buf, *end = buf + cap;
	const struct probe_target *t = &cfg->targets[rec->target];
	PUT("{\"id\":");
	PUTSTR(rec->id);
	PUT(",\"url\":");
	PUTSTR(t->spec);
	PUT(",\"class\":\"%s\",\"phase\":\"%s\",\"detail\":", tp_class_name(rec->cls),
	    tp_phase_name(rec->phase));
	PUTSTR(rec->detail);
	PUT(",\"status\":%d,\"bytes_expected\":%" PRId64 ",\"bytes_received\":%" PRIu64
	    ",\"bytes_sent\":%" PRIu64 ",\"wire_received\":%" PRIu64 ",\"local\":\"%s\",\"remote\":\"%s\"",
	    rec->status, rec->bytes_expected, rec->bytes_received, rec->bytes_sent,
	    rec->wire_received, rec->local, rec->remote);
	if (cfg->run_id[0]) {
		PUT(",\"run\":");
		PUTSTR(cfg->run_id);
	}
	PUT(",\"proxy\":");
	if (t->has_proxy)
		PUTSTR(t->proxy_spec);
	else
		PUT("null");
	PUT(",\"proto\":\"%s\"", rec->proto ? rec->proto : "http/1.1");
	if (rec->fallback[0]) {
		PUT(",\"fallback\":");
		PUTSTR(rec->fallback);
	}
	if (rec->quic.on_stream) {
		/* A tunnel on a QUIC stream: the stream's facts as the probe saw them. */
		PUT(",\"quic\":{\"stream\":%" PRId64, rec->quic.stream);
		if (rec->quic.has_reset)
			PUT(",\"reset_code\":%" PRIu64, rec->quic.reset_code);
		if (rec->quic.has_close)
			PUT(",\"close_code\":%" PRIu64, rec->quic.close_code);
		PUT("}");
	}
	PUT(",\"reused\":%s,\"verified\":%s,\"latency_ms\":%.3f,\"t\":%.6f,\"timings_ms\":{",
	    rec->reused ? "true" : "false", rec->verified ? "true" : "false", rec->latency_ms, rec->t);
	const char *names[] = {"dns", "connect", "proxy", "tls", "first_byte", "total"};
	const double values[] = {rec->dns_ms, rec->connect_ms, rec->proxy_ms,
				 rec->tls_ms, rec->first_byte_ms, rec->total_ms};
	bool first = true;
	for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
		if (values[i] < 0)
			continue;
		PUT("%s\"%s\":%.3f", first ? "" : ",", names[i], values[i]);
		first = false;
	}
	PUT("}}\n");
	return p ? (size_t)(p - buf) : 0;
}

void record_describe(const struct probe_record *rec, const struct probe_config *cfg, FILE *out)
{
	fprintf(out, "  %s -> %s", cfg->targets[rec->target].spec, tp_class_name(rec->cls));
	if (rec->detail[0])
		fprintf(out, " (%s)", rec->detail);
	fprintf(out, " [phase %s, local %s, id %s]\n", tp_phase_name(rec->phase), rec->local,
		rec->id);
}
