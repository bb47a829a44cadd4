/* runcount — see runcount.h. */
#include "lib/runcount.h"

#include <math.h>
#include <string.h>

const char *runcount_phase_name(int phase)
{
	static const char *const names[RUNCOUNT_PHASES] = {
		[RUNCOUNT_PHASE_DNS] = "dns",
		[RUNCOUNT_PHASE_CONNECT] = "connect",
		[RUNCOUNT_PHASE_PROXY] = "proxy",
		[RUNCOUNT_PHASE_TLS] = "tls",
		[RUNCOUNT_PHASE_FIRST_BYTE] = "first_byte",
	};
	return phase >= 0 && phase < RUNCOUNT_PHASES ? names[phase] : NULL;
}

void runcount_phases_from_ends(const double end_ms[RUNCOUNT_PHASES], int64_t phase_us[RUNCOUNT_PHASES])
{
	double from = 0;
	for (int p = 0; p < RUNCOUNT_PHASES; p++) {
		double end = end_ms[p];
		if (!(end >= 0) || end > 1e12) { /* also NaN */
			phase_us[p] = -1;
			continue;
		}
		double d = end >= from ? (end - from) * 1000.0 : 0;
		phase_us[p] = (int64_t)llround(d);
		from = end;
	}
}

int64_t runcount_add_sat(int64_t a, int64_t b)
{
	int64_t sum;
	return __builtin_add_overflow(a, b, &sum) ? (b > 0 ? INT64_MAX : INT64_MIN) : sum;
}

void runcount_totals_init(struct runcount_totals *t)
{
	memset(t, 0, sizeof *t);
	hist_init(&t->lat);
	hist_init(&t->lat_ok);
	for (int p = 0; p < RUNCOUNT_PHASES; p++)
		hist_init(&t->phases[p]);
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
	if (r->cls == TP_OK) {
		t->verified += r->verified;
		t->unverified += !r->verified;
		hist_record(&t->lat_ok, r->latency_us);
	}
	hist_record(&t->lat, r->latency_us);
	for (int p = 0; p < RUNCOUNT_PHASES; p++)
		if (r->phase_us[p] >= 0)
			hist_record(&t->phases[p], (uint64_t)r->phase_us[p]);
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
	dst->verified += src->verified;
	dst->unverified += src->unverified;
	if (src->open_loop.rate > dst->open_loop.rate)
		dst->open_loop.rate = src->open_loop.rate;
	dst->open_loop.due += src->open_loop.due;
	dst->open_loop.sent += src->open_loop.sent;
	hist_merge(&dst->lat, &src->lat);
	hist_merge(&dst->lat_ok, &src->lat_ok);
	for (int p = 0; p < RUNCOUNT_PHASES; p++)
		hist_merge(&dst->phases[p], &src->phases[p]);
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

uint64_t runcount_target_percentile(const struct runcount_target *t, double p)
{
	uint64_t v = qhist_percentile(&t->lat, p);
	return v < t->lat_max_us ? v : t->lat_max_us;
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
