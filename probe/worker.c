/* worker — see worker.h: which request each connection carries next.
 *
 * Closed loop (-c without -R): the run's connections are numbered 0..c-1 and worker t
 * owns those with number % threads == t. Connection j serves the URLs u with
 * u % min(c, urls) == j % min(c, urls), round robin, so with at least as many
 * connections as URLs each connection stays on one URL and is always reused; with -n
 * the N requests of a URL are split evenly between the connections serving it.
 *
 * Open loop (-R): request number i (URL i % urls) is due at start + i / rate; worker t
 * starts the numbers i with i % threads == t. A due request takes an idle connection
 * (one already connected for an equivalent target first), else opens one while fewer
 * than the worker's share of -c are open, else waits; its latency counts from when it
 * was due, so a stalled proxy shows up in the percentiles (no coordinated omission).
 *
 * Shard I of N (--shard) runs the above on its part of the load (probe/config.c cut
 * -n, -c and -R): its k-th request of a URL is the run's request I + k * N of that URL
 * (lib/shard.h), the number its X-Probe-Id carries.
 */
#include "probe/worker.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/shard.h"

#define RECORDS_FLUSH 65536
#define RECORD_MAX 16384 /* the longest line: a 4 KiB URL escaped, and the rest */

static void check_done(struct probe_worker *w);

static uint64_t ol_intended(const struct probe_worker *w, uint64_t k)
{
	uint64_t i = w->index + k * w->cfg->threads;
	return w->start_us + (uint64_t)((double)i * 1e6 / w->cfg->rate);
}

static void records_flush(struct probe_worker *w)
{
	if (!w->records || w->records_len == 0)
		return;
	pthread_mutex_lock(w->records_lock);
	fwrite(w->records_buf, 1, w->records_len, w->records);
	fflush(w->records);
	pthread_mutex_unlock(w->records_lock);
	w->records_len = 0;
}

static void records_add(struct probe_worker *w, const struct probe_record *rec)
{
	if (!w->records)
		return;
	if (w->records_len > RECORDS_FLUSH)
		records_flush(w);
	w->records_len += record_format(rec, w->cfg, w->records_buf + w->records_len, RECORD_MAX);
}

/* Closed loop: the next request for slot c, or close it when its share is done. */
static void slot_next(struct probe_worker *w, struct conn *c)
{
	struct slot_plan *p = &w->plans[c->slot];
	if (w->stopping || p->left == 0) {
		conn_close(c);
		return;
	}
	if (p->left != UINT64_MAX && --p->left == 0)
		w->plans_left--;
	unsigned u = p->first_url + p->stride * p->cursor;
	uint64_t seq = p->started / p->nurls * p->serving + p->rank;
	p->cursor = (p->cursor + 1) % p->nurls;
	p->started++;
	conn_start_request(c, u, shard_number(&w->cfg->shard, seq), 0);
}

/* Open loop: start every due request an available connection can take. */
static void ol_dispatch(struct probe_worker *w)
{
	const struct probe_config *cfg = w->cfg;
	while (!w->stopping && w->ol_next < w->ol_due) {
		uint64_t num = w->index + w->ol_next * cfg->threads;
		unsigned u = (unsigned)(num % cfg->ntargets);
		struct conn *best = NULL;
		for (unsigned i = 0; i < w->nconns; i++) {
			struct conn *c = &w->conns[i];
			if (c->busy)
				continue;
			if (conn_fits(c, u)) {
				best = c;
				break;
			}
			if (!best || (conn_connected(best) && !conn_connected(c)))
				best = c;
		}
		if (!best)
			return; /* all busy: the request waits, its clock already running */
		uint64_t k = w->ol_next++;
		conn_start_request(best, u, shard_number(&cfg->shard, num / cfg->ntargets), ol_intended(w, k));
	}
}

/* Counts the starts due by now (and before the -d end). */
static void ol_advance(struct probe_worker *w, uint64_t now)
{
	while (w->ol_due < w->ol_count && ol_intended(w, w->ol_due) <= now &&
	       (!w->end_us || ol_intended(w, w->ol_due) < w->end_us))
		w->ol_due++;
}

static void ol_tick(struct loop *loop, struct loop_timer *timer)
{
	struct probe_worker *w = timer->data;
	ol_advance(w, loop_now(loop));
	if (w->end_us && w->ol_due < w->ol_count && ol_intended(w, w->ol_due) >= w->end_us)
		w->ol_count = w->ol_due; /* -d: nothing is due after the end */
	ol_dispatch(w);
	if (w->ol_due < w->ol_count && !w->stopping)
		loop_timer_start_at(loop, &w->ol_timer, ol_intended(w, w->ol_due));
	check_done(w);
}

void worker_request_done(struct probe_worker *w, struct conn *c)
{
	w->inflight--;
	uint64_t now = loop_now(&w->loop);
	const struct req_times *t = &c->times;
	uint64_t from = w->open_loop ? t->intended : t->start;
	stats_add(&w->stats, &c->rec, now > from ? now - from : 0, now);
	records_add(w, &c->rec);
	atomic_fetch_add_explicit(&w->progress_done, 1, memory_order_relaxed);
	if (c->rec.cls != TP_OK)
		atomic_fetch_add_explicit(&w->progress_failed, 1, memory_order_relaxed);
	if (w->open_loop)
		ol_dispatch(w);
	else
		slot_next(w, c);
	check_done(w);
}

void worker_conn_closed_idle(struct probe_worker *w)
{
	check_done(w);
}

static bool work_left(const struct probe_worker *w)
{
	if (w->stopping)
		return false;
	if (w->open_loop)
		return w->ol_next < w->ol_count;
	return w->plans_left > 0;
}

/* Ends the loop once nothing is in flight and nothing is left to start. */
static void close_all(struct probe_worker *w)
{
	for (unsigned i = 0; i < w->nconns; i++)
		conn_close(&w->conns[i]);
	for (unsigned i = 0; i < w->ngroups; i++)
		link_close(&w->groups[i]);
	for (unsigned i = 0; i < w->ncarriers; i++)
		pf_quic_carrier_release(&w->carriers[i]);
}

static void check_done(struct probe_worker *w)
{
	if (w->inflight > 0 || work_left(w))
		return;
	close_all(w);
	loop_timer_stop(&w->loop, &w->ol_timer);
	loop_timer_stop(&w->loop, &w->end_timer);
	loop_stop(&w->loop);
}

static void on_end(struct loop *loop, struct loop_timer *timer)
{
	struct probe_worker *w = timer->data;
	if (w->open_loop)
		ol_advance(w, w->end_us); /* every start due before the end, started or not */
	w->stopping = true; /* requests in flight finish (bounded by their timeouts) */
	loop_timer_stop(loop, &w->ol_timer);
	for (unsigned i = 0; i < w->nconns; i++)
		if (!w->conns[i].busy)
			conn_close(&w->conns[i]);
	for (unsigned i = 0; i < w->ngroups; i++)
		if (w->groups[i].nusers == 0)
			link_close(&w->groups[i]);
	check_done(w);
}

static void on_wake(struct loop *loop)
{
	struct probe_worker *w = loop->data;
	if (!atomic_load(&w->abort_requested))
		return;
	/* Abandon everything: requests in flight are not counted. */
	w->stopping = true;
	for (unsigned i = 0; i < w->nconns; i++)
		w->conns[i].busy = false;
	close_all(w);
	w->inflight = 0;
	loop_stop(loop);
}

void worker_abort(struct probe_worker *w)
{
	atomic_store(&w->abort_requested, 1);
	loop_wake(&w->loop);
}

/* Closed loop: what slot s (of --streams) of global connection k serves. Connection k
 * serves the URLs u with u % groups == k % groups (groups = min(c, urls)), round robin;
 * the slots serving a URL split its N requests, and slot rank r of serving takes every
 * serving-th sequence number from r on. */
static void plan_slot(struct slot_plan *p, const struct probe_config *cfg, unsigned k, unsigned s)
{
	unsigned c = cfg->connections, streams = cfg->streams;
	unsigned nurls = (unsigned)cfg->ntargets;
	unsigned groups = c < nurls ? c : nurls;
	p->first_url = k % groups;
	p->stride = groups;
	p->nurls = (nurls - p->first_url + groups - 1) / groups;
	p->serving = streams;
	p->rank = s;
	if (c >= nurls) {
		/* URL u is served by the connections k ≡ u (mod urls), each with its slots. */
		unsigned u = k % nurls;
		p->rank = k / nurls * streams + s;
		p->serving = (c / nurls + (u < c % nurls ? 1 : 0)) * streams;
	}
	uint64_t n = cfg->requests_per_url;
	uint64_t mine = n / p->serving + (p->rank < n % p->serving ? 1 : 0);
	if (cfg->duration_s > 0)
		p->left = UINT64_MAX;
	else
		p->left = c >= nurls ? mine : mine * p->nurls;
}

int worker_init(struct probe_worker *w, const struct probe_config *cfg, unsigned index,
		uint64_t start_us, double wall_start, FILE *records, pthread_mutex_t *records_lock)
{
	memset(w, 0, sizeof *w);
	loop_timer_init(&w->ol_timer, ol_tick, w);
	loop_timer_init(&w->end_timer, on_end, w);
	w->cfg = cfg;
	w->index = index;
	w->start_us = start_us;
	w->wall_start = wall_start;
	w->records = records;
	w->records_lock = records_lock;
	w->open_loop = cfg->rate > 0;
	if (cfg->duration_s > 0)
		w->end_us = start_us + (uint64_t)(cfg->duration_s * 1e6);
	int rc = loop_init(&w->loop);
	if (rc < 0)
		return rc;
	w->loop.data = w;
	w->loop.on_wake = on_wake;
	if ((rc = dns_init(&w->dns, &w->loop, cfg->dns_servers)) < 0)
		return rc;
	w->dns_ready = true;
	if ((rc = stats_init(&w->stats, cfg->ntargets, start_us, cfg->learn_bodies)) < 0)
		return rc;
	if (records && !(w->records_buf = malloc(RECORDS_FLUSH + RECORD_MAX)))
		return -ENOMEM;
	/* This worker's connections: global numbers k with k % threads == index, each with
	 * --streams slots (one without --http3). */
	unsigned c = cfg->connections, t = cfg->threads, streams = cfg->streams;
	unsigned nlinks = c / t + (index < c % t ? 1 : 0);
	w->nconns = nlinks * streams;
	w->conns = calloc(w->nconns, sizeof *w->conns);
	w->plans = calloc(w->nconns, sizeof *w->plans);
	if (!w->conns || !w->plans)
		return -ENOMEM;
	if (cfg->http3 || cfg->quic_proxy) {
		w->udp_rx = malloc(PROBE_UDP_RX_BUFS * PROBE_UDP_RX_SIZE + PROBE_UDP_TX_SIZE);
		if (!w->udp_rx)
			return -ENOMEM;
		w->udp_tx = w->udp_rx + PROBE_UDP_RX_BUFS * PROBE_UDP_RX_SIZE;
	}
	if (cfg->quic_proxy) {
		w->ncarriers = nlinks;
		if (!(w->carriers = calloc(nlinks, sizeof *w->carriers)))
			return -ENOMEM;
	}
	if (cfg->http3) {
		w->ngroups = nlinks;
		w->groups = calloc(nlinks, sizeof *w->groups);
		if (!w->groups)
			return -ENOMEM;
		for (unsigned g = 0; g < nlinks; g++)
			link_init(&w->groups[g], w);
	}
	for (unsigned i = 0; i < w->nconns; i++) {
		conn_init(&w->conns[i], w, i, w->groups ? &w->groups[i / streams] : NULL);
		plan_slot(&w->plans[i], cfg, index + (i / streams) * t, i % streams);
		if (w->plans[i].left)
			w->plans_left++;
	}
	if (w->open_loop) {
		uint64_t total = cfg->duration_s > 0 ? UINT64_MAX : cfg->requests_per_url * cfg->ntargets;
		w->ol_count = total == UINT64_MAX ? UINT64_MAX
			      : total > index ? (total - index + cfg->threads - 1) / cfg->threads : 0;
	}
	loop_timer_init(&w->ol_timer, ol_tick, w);
	loop_timer_init(&w->end_timer, on_end, w);
	return 0;
}

void worker_free(struct probe_worker *w)
{
	if (!w)
		return;
	if (w->conns)
		for (unsigned i = 0; i < w->nconns; i++)
			conn_free(&w->conns[i]);
	for (unsigned i = 0; w->groups && i < w->ngroups; i++)
		link_free(&w->groups[i]);
	for (unsigned i = 0; w->carriers && i < w->ncarriers; i++)
		pf_quic_carrier_release(&w->carriers[i]);
	free(w->carriers);
	w->carriers = NULL;
	if (w->dns_ready)
		dns_free(&w->dns);
	loop_free(&w->loop);
	stats_free(&w->stats);
	free(w->conns);
	free(w->plans);
	free(w->groups);
	free(w->udp_rx);
	free(w->records_buf);
	w->groups = NULL;
	w->udp_rx = w->udp_tx = NULL;
	w->conns = NULL;
	w->plans = NULL;
	w->records_buf = NULL;
}

void *worker_run(void *arg)
{
	struct probe_worker *w = arg;
	loop_update_time(&w->loop);
	if (w->end_us)
		loop_timer_start_at(&w->loop, &w->end_timer, w->end_us);
	if (w->open_loop) {
		if (w->ol_count)
			loop_timer_start_at(&w->loop, &w->ol_timer, ol_intended(w, 0));
	} else {
		for (unsigned i = 0; i < w->nconns && !w->stopping; i++)
			slot_next(w, &w->conns[i]);
	}
	check_done(w);
	int rc = loop_run(&w->loop);
	records_flush(w);
	if (w->open_loop)
		w->stats.tot.open_loop = (struct runcount_open_loop){
			.rate = w->cfg->rate, .due = w->ol_due, .sent = w->ol_next};
	w->rc = rc;
	atomic_store(&w->finished, 1);
	return NULL;
}
