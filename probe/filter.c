/* filter — see filter.h: the helpers every filter shares. */
#include "probe/filter.h"

#include <stdarg.h>
#include <stdio.h>

long pf_next_read(struct pf *f, void *buf, size_t len) { return pf_read(f->next, buf, len); }
long pf_next_write(struct pf *f, const void *buf, size_t len) { return pf_write(f->next, buf, len); }
int pf_next_shutdown(struct pf *f) { return pf_shutdown(f->next); }
unsigned pf_next_want(const struct pf *f, unsigned plain) { return pf_want(f->next, plain); }
size_t pf_next_pending(const struct pf *f) { return pf_pending(f->next); }

int pf_fail(struct pf_error *err, enum tp_class cls, enum tp_phase phase, const char *fmt, ...)
{
	err->cls = cls;
	err->phase = phase;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->detail, sizeof err->detail, fmt, ap);
	va_end(ap);
	return PF_ERR;
}
