/* args — see args.h. */
#include "ci/args.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void args_init(struct args *a)
{
	memset(a, 0, sizeof *a);
}

static void add_v(struct args *a, const char *fmt, va_list ap)
{
	if (a->n == PROCS_MAX_ARGS) {
		a->overflow = true;
		return;
	}
	size_t room = sizeof a->store - a->used;
	int len = vsnprintf(a->store + a->used, room, fmt, ap);
	if (len < 0 || (size_t)len >= room) {
		a->overflow = true;
		return;
	}
	a->v[a->n++] = a->store + a->used;
	a->v[a->n] = NULL;
	a->used += (size_t)len + 1;
}

void args_add(struct args *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	add_v(a, fmt, ap);
	va_end(ap);
}

void args_opt(struct args *a, const char *option, const char *fmt, ...)
{
	args_add(a, "%s", option);
	va_list ap;
	va_start(ap, fmt);
	add_v(a, fmt, ap);
	va_end(ap);
}

bool args_ok(const struct args *a)
{
	return !a->overflow;
}
