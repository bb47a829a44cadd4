/* samples — the local reference proxy's resources over a run: its RSS and open fds
 * (from /proc, ci/procs.h), taken between soak segments. What `rss_growth_mb` and
 * `fd_growth` expectations check and what the run file's "proxy_resources" holds.
 * Caller memory: samples_init, then samples_free (NULL-safe).
 */
#ifndef TP_CI_SAMPLES_H
#define TP_CI_SAMPLES_H

#include <stdbool.h>
#include <sys/types.h>

#include <jansson.h>

struct samples {
	bool proxy_started;                /* run started the proxy it samples (else there
					    * is nothing to sample: a user's proxy) */
	long rss_first, rss_last, rss_max; /* KiB; rss_first < 0 until the first sample */
	long fd_first, fd_last;
	long rss_warm, fd_warm;            /* the first sample under load (t > 0: after the
					    * first segment, buffers and pools warmed up);
					    * < 0 until then */
	unsigned loaded;                   /* samples taken under load */
	json_t *series;                    /* [[t, rss_kib, fds], ...] (owned) */
};

/* Returns 0 or -ENOMEM. */
int samples_init(struct samples *s);
void samples_free(struct samples *s);
/* One sample of pid at t seconds into the load; nothing when pid is 0 or gone. */
void samples_take(struct samples *s, pid_t pid, double t);
/* Last minus first sample, in KiB / fds; -1 when nothing was sampled. */
long samples_rss_growth(const struct samples *s);
long samples_fd_growth(const struct samples *s);
/* Growth in % from the first sample under load to the last: what a soak's "RSS and
 * fds stay flat" means (an idle proxy's first sample would count its warm-up as
 * growth). Returns false when fewer than two samples were taken under load. */
bool samples_growth_pct(const struct samples *s, double *rss_pct, double *fd_pct);
/* The run file's "proxy_resources" (docs/run-json.md), a new reference; NULL when
 * nothing was sampled. */
json_t *samples_json(const struct samples *s);

#endif
