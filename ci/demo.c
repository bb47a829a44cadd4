/* demo — see demo.h. The same load on every run; only the proxy's build and fault differ. The probe
 * opens one tunnel per request (--no-keepalive), as the incident's client did, so
 * "one tunnel in six" is "one request in six" and large responses are the ones the
 * truncation after 32 KiB can hit (the incident: only responses of tens of KB+). */
#include "ci/demo.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ci/interrupt.h"
#include "ci/render.h"
#include "ci/say.h"
#include "ci/stack.h"

#define DEMO_MAX_PARTS 4

#define DEMO_LOAD                                                                 \
	"origin\n"                                                                \
	"probe\n"                                                                 \
	"  url https://www.baidu.com:{tls}/bytes/654397\n"                        \
	"  url https://www.qq.com:{tls}/chunked/123456?chunk=8192\n"              \
	"  url https://www.taobao.com:{tls}/gzip/230000\n"                        \
	"  url https://www.jd.com:{tls}/bytes/24000\n"                            \
	"  url https://www.163.com:{tls}/bytes/9000\n"                            \
	"  url https://www.sina.com.cn:{tls}/chunked/4000?chunk=1000\n"           \
	"  requests 10\n"                                                         \
	"  concurrency 6\n"                                                       \
	"  timeout 10s\n"                                                         \
	"  arg --no-keepalive\n"

#define DEMO_LINUX_HEALTHY                                                                 \
	{"linux-healthy",                                                                  \
	 "scenario demo-healthy\n"                                                          \
	 "description the reference proxy's Linux build (epoll), healthy: every byte arrives\n" \
	 "proxy reference http\n" DEMO_LOAD "expect\n"                                       \
	 "  class ok == 60\n"}

/* With Wine: the Linux build healthy, the Windows build with the bug, the Windows build
 * healthy. */
static const struct demo_part parts[] = {
	DEMO_LINUX_HEALTHY,
	{"windows-short-send",
	 "scenario demo-iocp\n"
	 "description the Windows build (IOCP, under Wine) with short-send-drop: a send completion taken for the end of the data, the rest dropped, then FIN\n"
	 "proxy reference http windows\n"
	 "  fault short-send-drop:after=32768 p=0.34 seed=6\n" DEMO_LOAD
	 "expect\n"
	 "  class incomplete_read >= 1\n"
	 "  phase incomplete_read body >= 1\n"
	 "  verdict truncated at proxy\n"},
	{"windows-healthy",
	 "scenario demo-iocp-healthy\n"
	 "description the Windows build (IOCP, under Wine), healthy: the completion path relays every byte\n"
	 "proxy reference http windows\n" DEMO_LOAD
	 "expect\n"
	 "  class ok == 60\n"},
};

/* Without Wine (or without the Windows build): the Linux build healthy, and the same
 * symptom simulated with the Linux build, labelled so. */
static const struct demo_part parts_no_wine[] = {
	DEMO_LINUX_HEALTHY,
	{"linux-short-send",
	 "scenario demo-iocp-simulated\n"
	 "description the IOCP incident's symptom, simulated: a partial write whose rest is dropped, then FIN\n"
	 "proxy reference http\n"
	 "  fault truncate:after=32768 p=0.34 seed=6\n"
	 "  simulated Linux reference proxy with a short-send fault, not a Windows build\n" DEMO_LOAD
	 "expect\n"
	 "  class incomplete_read >= 1\n"
	 "  phase incomplete_read body >= 1\n"
	 "  verdict truncated at proxy\n"},
};

const struct demo_part *demo_parts(bool windows, size_t *n)
{
	if (windows) {
		*n = sizeof parts / sizeof parts[0];
		return parts;
	}
	*n = sizeof parts_no_wine / sizeof parts_no_wine[0];
	return parts_no_wine;
}

int demo_run(const char *out, const struct runner_opts *o)
{
	size_t nparts;
	char exe[STACK_PATH_MAX], wine[STACK_PATH_MAX], why[STACK_PATH_MAX + 64];
	bool windows = stack_windows_ready(exe, wine, why, sizeof why) == 0;
	if (!windows)
		say(o->quiet, "demo: the Windows build cannot run here: %s; the simulated Linux run stands in for it\n",
		    why);
	const struct demo_part *part = demo_parts(windows, &nparts);
	struct scenario *scn = malloc(sizeof *scn);
	char dirs[DEMO_MAX_PARTS][PATH_MAX], summaries[DEMO_MAX_PARTS][1024], err[600];
	const char *labels[DEMO_MAX_PARTS];
	struct runner_outcome res;
	int status = 2, worst = 0;
	if (!scn)
		goto out;
	if (nparts > DEMO_MAX_PARTS)
		nparts = DEMO_MAX_PARTS;
	for (size_t i = 0; i < nparts; i++) {
		if (scenario_parse(scn, part[i].text, strlen(part[i].text), part[i].label, err, sizeof err) < 0) {
			fprintf(stderr, "tunnelprobe run: built-in demo: %s\n", err);
			goto out;
		}
		if (snprintf(dirs[i], sizeof dirs[i], "%.3900s/%s", out, part[i].label) >= (int)sizeof dirs[i])
			goto out;
		labels[i] = part[i].label;
		runner_run(scn, ".", o, dirs[i], part[i].label, &res);
		snprintf(summaries[i], sizeof summaries[i], "%s", res.summary);
		if (res.status == 2 || interrupt_requested())
			goto out;
		if (res.status > worst)
			worst = res.status;
	}
	say(o->quiet, "\n");
	for (size_t i = 0; i < nparts; i++)
		say(o->quiet, "%s\n", summaries[i]);
	render_report(out, dirs, labels, nparts, o->quiet);
	status = worst;
out:
	free(scn);
	return status;
}
