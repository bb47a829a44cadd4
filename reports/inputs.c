/* inputs — see inputs.h. */
#include "reports/inputs.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/runfile.h"
#include "reports/records.h"

/* Whether the file at path (a run folder: its run.json) is a records file. */
static bool is_records(const char *path)
{
	struct stat st;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return false;
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return false; /* runfile_read says why */
	char head[4096];
	size_t n = fread(head, 1, sizeof head, fp);
	fclose(fp);
	return records_sniff(head, n);
}

/* One input without '+'. */
static int load_one(const char *arg, json_t **out, char *err, size_t cap)
{
	if (is_records(arg))
		return records_load(arg, out, err, cap) == 0 ? 0 : -EINVAL;
	return runfile_read(arg, out, err, cap);
}

int inputs_load(const char *arg, json_t **doc, char *err, size_t cap)
{
	struct stat st;
	if (!strchr(arg, '+') || stat(arg, &st) == 0)
		return load_one(arg, doc, err, cap);
	char part[PATH_MAX];
	json_t *acc = NULL, *from = json_array();
	const char *p = arg;
	int rc = 0;
	while (*p) {
		const char *plus = strchr(p, '+');
		size_t len = plus ? (size_t)(plus - p) : strlen(p);
		if (len == 0 || len >= sizeof part) {
			snprintf(err, cap, "%s: an empty or overlong part in a '+' list", arg);
			rc = -EINVAL;
			goto out;
		}
		memcpy(part, p, len);
		part[len] = '\0';
		json_t *one;
		if ((rc = load_one(part, &one, err, cap)) < 0)
			goto out;
		json_array_append_new(from, json_string(part));
		if (!acc) {
			acc = one;
		} else {
			json_t *merged = runfile_merge(acc, one, err, cap);
			json_decref(one);
			if (!merged) {
				char why[200];
				snprintf(why, sizeof why, "%s", err);
				snprintf(err, cap, "%s: %s", part, why);
				rc = -EINVAL;
				goto out;
			}
			json_decref(acc);
			acc = merged;
		}
		p += len + (plus ? 1 : 0);
	}
	json_object_set(acc, "merged_from", from);
	*doc = acc;
	acc = NULL;
out:
	json_decref(acc);
	json_decref(from);
	return rc;
}
