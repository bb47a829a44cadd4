/* samples — see samples.h. */
#include "ci/samples.h"

#include <errno.h>
#include <string.h>

#include "ci/procs.h"

int samples_init(struct samples *s)
{
	memset(s, 0, sizeof *s);
	s->rss_first = s->fd_first = -1;
	s->rss_warm = s->fd_warm = -1;
	s->series = json_array();
	return s->series ? 0 : -ENOMEM;
}

void samples_free(struct samples *s)
{
	if (!s)
		return;
	json_decref(s->series);
	s->series = NULL;
}

void samples_take(struct samples *s, pid_t pid, double t)
{
	if (pid <= 0)
		return;
	long rss = procs_rss_kib(pid), fds = procs_fd_count(pid);
	if (rss < 0)
		return;
	if (s->rss_first < 0) {
		s->rss_first = rss;
		s->fd_first = fds;
	}
	if (t > 0 && s->rss_warm < 0) {
		s->rss_warm = rss;
		s->fd_warm = fds;
	}
	if (t > 0)
		s->loaded++;
	s->rss_last = rss;
	s->fd_last = fds;
	if (rss > s->rss_max)
		s->rss_max = rss;
	json_array_append_new(s->series, json_pack("[f,I,I]", t, (json_int_t)rss, (json_int_t)fds));
}

long samples_rss_growth(const struct samples *s)
{
	return s->rss_first >= 0 ? s->rss_last - s->rss_first : -1;
}

long samples_fd_growth(const struct samples *s)
{
	return s->fd_first >= 0 ? s->fd_last - s->fd_first : -1;
}

bool samples_growth_pct(const struct samples *s, double *rss_pct, double *fd_pct)
{
	if (s->loaded < 2 || s->rss_warm <= 0 || s->fd_warm <= 0)
		return false;
	*rss_pct = (double)(s->rss_last - s->rss_warm) * 100.0 / (double)s->rss_warm;
	*fd_pct = (double)(s->fd_last - s->fd_warm) * 100.0 / (double)s->fd_warm;
	return true;
}

json_t *samples_json(const struct samples *s)
{
	if (s->rss_first < 0)
		return NULL;
	json_t *o = json_pack("{s:I,s:I,s:I,s:I,s:I,s:O}", "rss_kib_first", (json_int_t)s->rss_first,
			      "rss_kib_last", (json_int_t)s->rss_last, "rss_kib_max", (json_int_t)s->rss_max,
			      "fds_first", (json_int_t)s->fd_first, "fds_last", (json_int_t)s->fd_last, "samples",
			      s->series);
	if (o && s->rss_warm >= 0) {
		json_object_set_new(o, "rss_kib_warm", json_integer(s->rss_warm));
		json_object_set_new(o, "fds_warm", json_integer(s->fd_warm));
	}
	return o;
}
