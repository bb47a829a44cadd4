/* say — see say.h. */
#include "ci/say.h"

#include <stdarg.h>
#include <stdio.h>

void say(bool quiet, const char *fmt, ...)
{
	if (quiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}
