/* ratelimit — see ratelimit.h. */
#include "proxy-under-test/ratelimit.h"

#include <math.h>

void ratelimit_init(struct ratelimit *rl, double rate, double burst)
{
	*rl = (struct ratelimit){.rate = rate, .burst = burst > 0 ? burst : ceil(rate)};
	if (rl->burst < 1)
		rl->burst = 1; /* below 1/s a bucket of one token still lets a request through */
}

bool ratelimit_take(struct ratelimit *rl, uint64_t now_us, unsigned *retry_after_s)
{
	if (!rl->started) {
		rl->started = true;
		rl->tokens = rl->burst;
		rl->last_us = now_us;
	}
	if (now_us > rl->last_us) {
		rl->tokens += (double)(now_us - rl->last_us) * rl->rate / 1e6;
		if (rl->tokens > rl->burst)
			rl->tokens = rl->burst;
		rl->last_us = now_us;
	}
	if (rl->tokens >= 1) {
		rl->tokens -= 1;
		return true;
	}
	/* Rounded up, so the token is there when the client comes back. */
	double wait = ceil((1 - rl->tokens) / rl->rate);
	*retry_after_s = wait < 1 ? 1 : wait > 86400 ? 86400 : (unsigned)wait;
	return false;
}
