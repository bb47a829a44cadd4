/* textfile — see textfile.h. */
#include "lib/textfile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int textfile_read(const char *path, size_t cap, char **buf, size_t *len, char *err, size_t errlen)
{
	*buf = NULL;
	*len = 0;
	FILE *fp = fopen(path, "r");
	if (!fp) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		return -EIO;
	}
	char *b = malloc(cap + 1);
	int rc = 0;
	if (!b) {
		snprintf(err, errlen, "%s: out of memory", path);
		rc = -EIO;
	} else {
		size_t n = fread(b, 1, cap + 1, fp);
		if (ferror(fp)) {
			snprintf(err, errlen, "%s: read error", path);
			rc = -EIO;
		} else if (n > cap) {
			snprintf(err, errlen, "%s: larger than %zu bytes", path, cap);
			rc = -EFBIG;
		} else {
			*len = n;
		}
	}
	fclose(fp);
	if (rc < 0)
		free(b);
	else
		*buf = b;
	return rc;
}
