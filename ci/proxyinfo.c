/* proxyinfo — see proxyinfo.h. */
#include "ci/proxyinfo.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "lib/version.h"

/* This binary's own build, for a reference proxy that did not print one: the proxy
 * run starts is this very executable. Linux has one loop backend, epoll. */
static void own_build(struct proxyinfo *pi)
{
	struct utsname u;
	snprintf(pi->build, sizeof pi->build, "tunnelprobe %s", TP_VERSION);
	if (uname(&u) == 0) {
		snprintf(pi->platform, sizeof pi->platform, "%.15s/%.15s", u.sysname, u.machine);
		for (char *c = pi->platform; *c; c++)
			*c = (char)tolower((unsigned char)*c);
	}
	snprintf(pi->backend, sizeof pi->backend, "%s", "epoll");
}

/* "tunnelprobe 0.1.0 linux/x86_64 epoll": NAME VERSION PLATFORM BACKEND. */
static bool parse_build(struct proxyinfo *pi, const char *line)
{
	char name[32], version[32], platform[32], backend[16];
	if (sscanf(line, "%31s %31s %31s %15s", name, version, platform, backend) != 4)
		return false;
	snprintf(pi->build, sizeof pi->build, "%s %s", name, version);
	snprintf(pi->platform, sizeof pi->platform, "%s", platform);
	snprintf(pi->backend, sizeof pi->backend, "%s", backend);
	return true;
}

static void add_fault(struct proxyinfo *pi, const char *prefix, const char *spec)
{
	size_t l = strlen(pi->fault);
	snprintf(pi->fault + l, sizeof pi->fault - l, "%s%s%s", l ? "; " : "", prefix, spec);
}

void proxyinfo_reference(struct proxyinfo *pi, const char *url, const char *build_line,
			 const struct scenario *scn)
{
	memset(pi, 0, sizeof *pi);
	pi->kind = PROXYINFO_REFERENCE;
	snprintf(pi->url, sizeof pi->url, "%s", url);
	pi->build_from_proxy = build_line && *build_line && parse_build(pi, build_line);
	if (!pi->build_from_proxy)
		own_build(pi);
	for (size_t i = 0; i < scn->nfaults; i++)
		add_fault(pi, "", scn->faults[i]);
	for (size_t i = 0; scn->upstream_reference && i < scn->nupstream_faults; i++)
		add_fault(pi, "upstream ", scn->upstream_faults[i]);
	snprintf(pi->note, sizeof pi->note, "%s", scn->simulated);
}

void proxyinfo_user(struct proxyinfo *pi, const char *url)
{
	memset(pi, 0, sizeof *pi);
	pi->kind = PROXYINFO_USER;
	snprintf(pi->url, sizeof pi->url, "%s", url);
}

static json_t *str_or_null(const char *s)
{
	return *s ? json_string(s) : json_null();
}

json_t *proxyinfo_json(const struct proxyinfo *pi)
{
	if (pi->kind == PROXYINFO_NONE)
		return json_null();
	bool ref = pi->kind == PROXYINFO_REFERENCE;
	json_t *o = json_pack("{s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:b}", "url", pi->url, "kind", ref ? "reference" : "user",
			      "build", str_or_null(pi->build), "platform", str_or_null(pi->platform), "backend",
			      str_or_null(pi->backend), "build_source",
			      ref ? json_string(pi->build_from_proxy ? "proxy" : "run") : json_null(), "fault",
			      str_or_null(pi->fault), "simulated", pi->note[0] != '\0');
	if (o && pi->note[0])
		json_object_set_new(o, "note", json_string(pi->note));
	if (o && ref)
		json_object_set_new(o, "runtime", str_or_null(pi->runtime));
	return o ? o : json_null();
}

void proxyinfo_text(const struct proxyinfo *pi, char *out, size_t cap)
{
	if (pi->kind == PROXYINFO_NONE)
		snprintf(out, cap, "direct (no proxy)");
	else if (pi->kind == PROXYINFO_USER)
		snprintf(out, cap, "your proxy at %s", pi->url);
	else
		snprintf(out, cap, "the reference proxy at %s (%s %s %s%s)%s%.600s%s%.400s", pi->url, pi->build,
			 pi->platform, pi->backend, strcmp(pi->runtime, "wine") == 0 ? ", under Wine on Linux" : "",
			 pi->fault[0] ? " with " : "", pi->fault,
			 pi->note[0] ? ", simulated: " : "", pi->note);
}
