/* procstat — see procstat.h. */
#include "lib/procstat.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <dirent.h>
#endif

long procstat_rss_kib(pid_t pid)
{
#ifdef __linux__
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	FILE *fp = fopen(path, "r");
	if (!fp)
		return -errno;
	long kib = -ENODATA;
	while (fgets(line, sizeof line, fp))
		if (strncmp(line, "VmRSS:", 6) == 0) {
			kib = strtol(line + 6, NULL, 10);
			break;
		}
	fclose(fp);
	return kib;
#else
	(void)pid;
	return -ENOTSUP;
#endif
}

long procstat_fds(pid_t pid)
{
#ifdef __linux__
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return -errno;
	long n = 0;
	for (struct dirent *e; (e = readdir(d));)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
#else
	(void)pid;
	return -ENOTSUP;
#endif
}
