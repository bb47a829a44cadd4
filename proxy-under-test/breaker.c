/* breaker — see breaker.h. */
#include "proxy-under-test/breaker.h"

void breaker_init(struct breaker *b, unsigned threshold, uint64_t cooldown_us)
{
	*b = (struct breaker){.threshold = threshold ? threshold : 1, .cooldown_us = cooldown_us};
}

static void trip(struct breaker *b, uint64_t now_us)
{
	b->state = BREAKER_OPEN;
	b->opened_us = now_us;
	b->trial_out = false;
	b->failures = 0;
	b->opens++;
}

enum breaker_admit breaker_admit(struct breaker *b, uint64_t now_us, unsigned *retry_after_s)
{
	if (b->state == BREAKER_CLOSED)
		return BREAKER_PASS;
	/* Another worker's clock may read a moment behind the one that opened it. */
	uint64_t since = now_us > b->opened_us ? now_us - b->opened_us : 0;
	if (b->state == BREAKER_OPEN && since >= b->cooldown_us) {
		b->state = BREAKER_HALF_OPEN;
		b->trial_out = false;
	}
	if (b->state == BREAKER_HALF_OPEN && !b->trial_out) {
		b->trial_out = true;
		return BREAKER_TRIAL;
	}
	if (retry_after_s) {
		uint64_t left = since < b->cooldown_us ? b->cooldown_us - since : 0;
		uint64_t secs = (left + 999999) / 1000000;
		*retry_after_s = secs < 1 ? 1 : secs > 86400 ? 86400 : (unsigned)secs;
	}
	return BREAKER_REJECT;
}

void breaker_report(struct breaker *b, bool trial, enum breaker_outcome outcome, uint64_t now_us)
{
	if (trial) {
		if (b->state != BREAKER_HALF_OPEN || !b->trial_out)
			return; /* cannot happen: one trial at a time, reported once */
		if (outcome == BREAKER_OK) {
			b->state = BREAKER_CLOSED;
			b->failures = 0;
		} else if (outcome == BREAKER_FAIL) {
			trip(b, now_us);
		}
		b->trial_out = false;
		return;
	}
	if (b->state != BREAKER_CLOSED || outcome == BREAKER_NONE)
		return;
	if (outcome == BREAKER_OK)
		b->failures = 0;
	else if (++b->failures >= b->threshold)
		trip(b, now_us);
}

const char *breaker_state_name(enum breaker_state state)
{
	switch (state) {
	case BREAKER_CLOSED: return "closed";
	case BREAKER_OPEN: return "open";
	case BREAKER_HALF_OPEN: return "half-open";
	}
	return "?";
}
