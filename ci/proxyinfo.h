/* proxyinfo — what the proxy of a run was, as the run file's `proxy` object records it
 * (docs/run-json.md): its URL, whose it was (the reference proxy run started, or the
 * user's), its build, platform and loop backend, the faults it injected, and whether
 * the run stands in for something it is not (the demo's "Windows IOCP" run is the
 * Linux reference proxy with a short-send fault). Caller memory; nothing to free.
 */
#ifndef TP_CI_PROXYINFO_H
#define TP_CI_PROXYINFO_H

#include <stdbool.h>

#include <jansson.h>

#include "ci/scenario.h"

enum proxyinfo_kind { PROXYINFO_NONE = 0, PROXYINFO_REFERENCE, PROXYINFO_USER };

struct proxyinfo {
	enum proxyinfo_kind kind;
	char url[SCN_MAX_TEXT + 64];
	char build[64];          /* "tunnelprobe 0.1.0"; "" unknown (a user's proxy) */
	char platform[32];       /* "linux/x86_64" */
	char backend[16];        /* "epoll" (later "iocp") */
	bool build_from_proxy;   /* read from the proxy's own "build:" line (else filled
				  * from this binary, which is the proxy run started) */
	char fault[2 * SCN_MAX_TEXT]; /* its faults, "; "-joined; "" none */
	char note[SCN_MAX_TEXT]; /* the scenario's `simulated` note; "" when real */
	char runtime[32];        /* what ran a foreign build: "wine" for the Windows build
				  * on this Linux machine; "" when the build ran natively */
};

/* A reference proxy run started at url with scn's faults; build_line: its "build:"
 * line without the prefix ("tunnelprobe 0.1.0 linux/x86_64 epoll"), "" when it
 * printed none. */
void proxyinfo_reference(struct proxyinfo *pi, const char *url, const char *build_line,
			 const struct scenario *scn);
/* A proxy run did not start (--proxy URL, proxy external). */
void proxyinfo_user(struct proxyinfo *pi, const char *url);

/* The run file's "proxy": {url, kind, build, platform, backend, build_source, fault,
 * simulated[, note]}; JSON null when there was no proxy. New reference. */
json_t *proxyinfo_json(const struct proxyinfo *pi);

/* "the reference proxy (tunnelprobe 0.1.0 linux/x86_64 epoll) with truncate:after=..."
 * or "your proxy at URL", for run's first line. */
void proxyinfo_text(const struct proxyinfo *pi, char *out, size_t cap);

#endif
