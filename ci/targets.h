/* targets — a scenario's probe URLs made concrete for one run: {http} and {tls}
 * replaced by the local origin's ports, and the incident's host names mapped to the
 * origin, so incidents keep their real names, SNI and Host headers while nothing
 * leaves the machine. A name is mapped two ways, for two kinds of proxy:
 *   - `--resolve NAME:PORT:127.0.0.1` for the probe and the reference proxies run
 *     starts (they resolve the name to the origin; ledgers and faults see names);
 *   - `--connect-to NAME:PORT:127.0.0.1:PORT` for the probe through a proxy run did
 *     not start: the proxy is asked for 127.0.0.1:PORT, while Host and SNI keep NAME,
 *     so a user's proxy needs no name of ours.
 * URLs are parsed with lib/url.h (IPv6 literals included). Caller memory; nothing to
 * free.
 */
#ifndef TP_CI_TARGETS_H
#define TP_CI_TARGETS_H

#include <stdbool.h>
#include <stddef.h>

#include "ci/scenario.h"

#define TARGETS_RESOLVE_MAX 160 /* "NAME:PORT:127.0.0.1:PORT" */

struct targets {
	char urls[SCN_MAX_LIST][SCN_MAX_TEXT + 16];
	size_t nurls;
	char resolve[SCN_MAX_LIST][TARGETS_RESOLVE_MAX];    /* distinct entries */
	char connect_to[SCN_MAX_LIST][TARGETS_RESOLVE_MAX]; /* the same names, as --connect-to */
	size_t nresolve;                                    /* entries of each */
};

/* The mapped names as people read them ("www.baidu.com:4431, www.qq.com:4431") into
 * out; "" when none. Cut at cap with "...". */
void targets_names(const struct targets *t, char *out, size_t cap);

/* Fills t from scn's URLs; with_origin: map host names to the local origin (a URL
 * whose host is an address literal or "localhost", or that does not parse, is left
 * to the probe). Returns 0, or -ENOSPC with the URL named on stderr when an expanded
 * URL does not fit. */
int targets_make(struct targets *t, const struct scenario *scn, bool with_origin, unsigned http_port,
		 unsigned tls_port);

#endif
