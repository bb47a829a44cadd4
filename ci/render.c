/* render — see render.h. */
#include "ci/render.h"

#include <stdio.h>
#include <stdlib.h>

#include "ci/args.h"
#include "ci/procs.h"
#include "ci/say.h"

int render_report(const char *out, char dirs[][PATH_MAX], const char *const labels[], size_t n, bool quiet)
{
	struct procs *ps = calloc(1, sizeof *ps);
	struct args a;
	int rc = -1;
	if (!ps || procs_init(ps, out) < 0)
		goto out;
	args_init(&a);
	args_add(&a, "report");
	for (size_t i = 0; i < n; i++)
		args_add(&a, "%s/run.json", dirs[i]);
	for (size_t i = 0; i < n; i++)
		args_opt(&a, "--label", "%s", labels[i]);
	args_opt(&a, "-o", "%s/report.html", out);
	struct proc *p = args_ok(&a) ? procs_start(ps, "report", a.v, false) : NULL;
	if (p && procs_wait(p, 120000) == 0)
		rc = 0;
	procs_stop_all(ps, 1000);
out:
	if (rc == 0)
		say(quiet, "report: %s/report.html\n", out);
	else
		fprintf(stderr, "tunnelprobe run: the report failed (see %s/report.log)\n", out);
	free(ps);
	return rc;
}
