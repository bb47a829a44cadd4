/* targets — see targets.h. */
#include "ci/targets.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/url.h"

/* Replaces {http} and {tls} with the origin's ports. */
static int expand_url(const char *in, unsigned http_port, unsigned tls_port, char *out, size_t cap)
{
	size_t o = 0;
	for (const char *p = in; *p;) {
		const char *rep = NULL;
		size_t skip = 0;
		char num[16];
		if (strncmp(p, "{http}", 6) == 0) {
			snprintf(num, sizeof num, "%u", http_port);
			rep = num;
			skip = 6;
		} else if (strncmp(p, "{tls}", 5) == 0) {
			snprintf(num, sizeof num, "%u", tls_port);
			rep = num;
			skip = 5;
		}
		if (rep) {
			size_t l = strlen(rep);
			if (o + l >= cap)
				return -ENOSPC;
			memcpy(out + o, rep, l);
			o += l;
			p += skip;
		} else {
			if (o + 1 >= cap)
				return -ENOSPC;
			out[o++] = *p++;
		}
	}
	out[o] = '\0';
	return 0;
}

/* Adds url's host to the --resolve list when it is a name to map. */
static void add_resolve(struct targets *t, const char *url)
{
	struct url u;
	if (url_parse(url, &u, NULL) < 0 || u.host_is_literal || strcmp(u.host, "localhost") == 0)
		return;
	char entry[TARGETS_RESOLVE_MAX], to[TARGETS_RESOLVE_MAX];
	if (snprintf(entry, sizeof entry, "%s:%u:127.0.0.1", u.host, (unsigned)u.port) >= (int)sizeof entry ||
	    snprintf(to, sizeof to, "%s:%u", entry, (unsigned)u.port) >= (int)sizeof to)
		return;
	for (size_t j = 0; j < t->nresolve; j++)
		if (strcmp(t->resolve[j], entry) == 0)
			return;
	if (t->nresolve < SCN_MAX_LIST) {
		strcpy(t->connect_to[t->nresolve], to);
		strcpy(t->resolve[t->nresolve++], entry);
	}
}

void targets_names(const struct targets *t, char *out, size_t cap)
{
	size_t at = 0;
	out[0] = '\0';
	for (size_t i = 0; i < t->nresolve; i++) {
		/* "NAME:PORT:127.0.0.1": the name and port, up to the second colon */
		const char *e = t->resolve[i], *end = strstr(e, ":127.0.0.1");
		int n = snprintf(out + at, cap - at, "%s%.*s", i ? ", " : "", (int)(end ? end - e : 0), e);
		if (n < 0 || (size_t)n >= cap - at) {
			if (cap > 4)
				strcpy(out + cap - 4, "...");
			return;
		}
		at += (size_t)n;
	}
}

int targets_make(struct targets *t, const struct scenario *scn, bool with_origin, unsigned http_port,
		 unsigned tls_port)
{
	memset(t, 0, sizeof *t);
	for (size_t i = 0; i < scn->nurls && i < SCN_MAX_LIST; i++) {
		if (expand_url(scn->urls[i], http_port, tls_port, t->urls[i], sizeof t->urls[i]) < 0) {
			fprintf(stderr, "tunnelprobe run: URL too long: %s\n", scn->urls[i]);
			return -ENOSPC;
		}
		t->nurls++;
		if (with_origin)
			add_resolve(t, t->urls[i]);
	}
	return 0;
}
