/* shard — see shard.h. */
#include "lib/shard.h"

#include <errno.h>
#include <stdio.h>

#include "lib/units.h"

int shard_parse(const char *s, struct shard *out, const char **why)
{
	char num[SHARD_TEXT_MAX];
	size_t i = 0;
	for (; s[i] && s[i] != '/'; i++)
		if (i + 1 >= sizeof num) {
			*why = "want I/N, e.g. 0/4";
			return -EINVAL;
		}
	uint64_t index, count;
	if (s[i] != '/' || i == 0) {
		*why = "want I/N, e.g. 0/4";
		return -EINVAL;
	}
	snprintf(num, sizeof num, "%.*s", (int)i, s);
	if (!units_count(num, SHARD_MAX, &index) || !units_count(s + i + 1, SHARD_MAX, &count)) {
		*why = "want I/N with decimal numbers, N at most 65536";
		return -EINVAL;
	}
	if (count == 0 || index >= count) {
		*why = "want 0 <= I < N (shards are numbered from 0)";
		return -EINVAL;
	}
	out->index = (unsigned)index;
	out->count = (unsigned)count;
	return 0;
}

bool shard_active(const struct shard *s)
{
	return s->count > 1;
}

uint64_t shard_part(const struct shard *s, uint64_t n)
{
	if (!shard_active(s))
		return n;
	return n > s->index ? (n - s->index - 1) / s->count + 1 : 0;
}

uint64_t shard_number(const struct shard *s, uint64_t local)
{
	return shard_active(s) ? s->index + local * s->count : local;
}

unsigned shard_connections(const struct shard *s, unsigned c)
{
	if (!shard_active(s))
		return c;
	unsigned part = c / s->count + (s->index < c % s->count ? 1 : 0);
	return part ? part : 1;
}

double shard_rate(const struct shard *s, double rate)
{
	return shard_active(s) ? rate / s->count : rate;
}

const char *shard_text(const struct shard *s, char *out, size_t cap)
{
	snprintf(out, cap, "%u/%u", s->index, s->count);
	return out;
}
