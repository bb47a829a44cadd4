/* checkpoint — see checkpoint.h. */
#include "ci/checkpoint.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "ci/rundir.h"
#include "lib/runfile.h"

int checkpoint_write(json_t *run, const struct checkpoint *c)
{
	json_object_set_new(run, "scenario", json_string(c->scenario));
	json_object_set_new(run, "label", json_string(c->label));
	if (c->run_id)
		json_object_set_new(run, "run_id", json_string(c->run_id));
	json_object_set_new(run, "proxy", c->proxy ? proxyinfo_json(c->proxy) : json_null());
	json_t *res = c->samples ? samples_json(c->samples) : NULL;
	if (res)
		json_object_set_new(run, "proxy_resources", res);
	char path[PATH_MAX];
	int rc = rundir_path(path, sizeof path, c->dir, "run.json");
	if (rc == 0)
		rc = runfile_write(run, path);
	if (rc < 0)
		fprintf(stderr, "tunnelprobe run: cannot write %s/run.json: %s\n", c->dir, strerror(-rc));
	return rc;
}
