/* oplan — see oplan.h. */
#include "replay/oplan.h"

#include <stdio.h>
#include <string.h>

#include "lib/hex.h"
#include "replay/recording.h"

void oplan_host(const char *value, size_t len, char *out, size_t cap)
{
	/* An IPv6 literal keeps its brackets and colons: routes name it as written. */
	const char *colon = len && value[0] == '[' ? NULL : memchr(value, ':', len);
	if (colon)
		len = (size_t)(colon - value);
	if (cap == 0)
		return;
	if (len >= cap)
		len = cap - 1;
	memcpy(out, value, len);
	out[len] = '\0';
}

bool oplan_upload_seed(const char *value, size_t len, uint64_t *seed)
{
	if (len != 16)
		return false;
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		int d = hex_digit(value[i]);
		if (d < 0)
			return false;
		v = v << 4 | (uint64_t)d;
	}
	*seed = v;
	return true;
}

bool oplan_fault_room(const struct origin_config *cfg, uint64_t written, size_t *want)
{
	bool cuts = cfg->fault == ORIGIN_FAULT_TRUNCATE || cfg->fault == ORIGIN_FAULT_RST ||
		    cfg->fault == ORIGIN_FAULT_STALL;
	if (!cuts || written + *want <= cfg->fault_n)
		return true;
	if (written < cfg->fault_n) {
		*want = (size_t)(cfg->fault_n - written);
		return true;
	}
	return false;
}

bool oplan_request(const struct origin_config *cfg, const char *method, const char *host,
		   const char *target, struct plan *plan)
{
	bool ends = false;
	if (cfg->recording) {
		/* --replay: the recorded answer to this method and target, byte for byte. */
		memset(plan, 0, sizeof *plan);
		const struct rec_entry *e = recording_match(cfg->recording, method, target);
		plan->status = 404;
		if (e) {
			plan->raw = recording_bytes(cfg->recording, e);
			plan->raw_len = e->len;
			if (cfg->replay_timing) {
				plan->segs = cfg->recording->segs + e->seg_off;
				plan->nsegs = e->nseg;
			}
			plan->status = e->status;
			ends = e->close;
		}
	} else {
		sites_plan(&cfg->sites, method, host, target, plan);
	}
	return ends || plan->close || plan->framing == PLAN_CLOSE;
}
