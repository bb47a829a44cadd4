/* runcount — see runcount.h. */
#include "lib/runcount.h"

#include <string.h>

void runcount_totals_init(struct runcount_totals *t)
{
	memset(t, 0, sizeof *t);
	hist_init(&t->lat);
}

void runcount_totals_add(struct runcount_totals *t, const struct runcount_request *r)
{
	t->requests++;
	t->ok += r->cls == TP_OK;
	t->classes[r->cls]++;
	if (r->status > 0 && r->status < RUNCOUNT_STATUS_MAX)
		t->status[r->status]++;
	t->bytes_sent += r->bytes_sent;
	t->bytes_received += r->bytes_received;
	t->requests_reused += r->reused;
	hist_record(&t->lat, r->latency_us);
}

void runcount_totals_merge(struct runcount_totals *dst, const struct runcount_totals *src)
{
	dst->requests += src->requests;
	dst->ok += src->ok;
	for (int c = 0; c < TP_CLASS_COUNT; c++)
		dst->classes[c] += src->classes[c];
	for (int i = 0; i < RUNCOUNT_STATUS_MAX; i++)
		dst->status[i] += src->status[i];
	dst->bytes_sent += src->bytes_sent;
	dst->bytes_received += src->bytes_received;
	dst->conns_opened += src->conns_opened;
	dst->requests_reused += src->requests_reused;
	dst->retries += src->retries;
	dst->retries_unknown |= src->retries_unknown;
	hist_merge(&dst->lat, &src->lat);
}

void runcount_target_add(struct runcount_target *t, const struct runcount_request *r)
{
	t->requests++;
	t->ok += r->cls == TP_OK;
	t->classes[r->cls]++;
	t->lat_sum_us += r->latency_us;
	if (r->latency_us > t->lat_max_us)
		t->lat_max_us = r->latency_us;
	qhist_record(&t->lat, r->latency_us);
}

void runcount_target_merge(struct runcount_target *dst, const struct runcount_target *src)
{
	dst->requests += src->requests;
	dst->ok += src->ok;
	for (int c = 0; c < TP_CLASS_COUNT; c++)
		dst->classes[c] += src->classes[c];
	dst->lat_sum_us += src->lat_sum_us;
	if (src->lat_max_us > dst->lat_max_us)
		dst->lat_max_us = src->lat_max_us;
	qhist_merge(&dst->lat, &src->lat);
}

void runcount_second_done(struct runcount_second *s, const struct runcount_request *r)
{
	s->completed++;
	if (r->cls == TP_OK)
		s->ok++;
	else
		s->failed[r->cls]++;
	s->bytes_in += r->bytes_received;
	s->bytes_out += r->bytes_sent;
	qhist_record(&s->lat, r->latency_us);
}

void runcount_second_merge(struct runcount_second *dst, const struct runcount_second *src)
{
	dst->started += src->started;
	dst->completed += src->completed;
	dst->ok += src->ok;
	for (int c = 0; c < TP_CLASS_COUNT; c++)
		dst->failed[c] += src->failed[c];
	dst->bytes_in += src->bytes_in;
	dst->bytes_out += src->bytes_out;
	qhist_merge(&dst->lat, &src->lat);
}
