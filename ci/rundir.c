/* rundir — see rundir.h. */
#include "ci/rundir.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int rundir_make(const char *path)
{
	char tmp[PATH_MAX];
	if (strlen(path) >= sizeof tmp)
		return -ENAMETOOLONG;
	strcpy(tmp, path);
	for (char *p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
				return -errno;
			*p = '/';
		}
	if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

int rundir_path(char *out, size_t cap, const char *dir, const char *name)
{
	int n = snprintf(out, cap, "%s/%s", dir, name);
	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

int rundir_resolve(char *out, size_t cap, const char *base, const char *path)
{
	if (path[0] == '/') {
		int n = snprintf(out, cap, "%s", path);
		return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
	}
	return rundir_path(out, cap, base, path);
}

int rundir_append(const char *from, const char *to)
{
	FILE *in = fopen(from, "r");
	if (!in)
		return -errno;
	FILE *out = fopen(to, "a");
	if (!out) {
		int rc = -errno;
		fclose(in);
		return rc;
	}
	char buf[65536];
	size_t n;
	int rc = 0;
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			rc = -EIO;
	if (ferror(in))
		rc = -EIO;
	fclose(in);
	if (fclose(out) != 0)
		rc = -EIO;
	return rc;
}
