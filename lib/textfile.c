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
	/* Grown as the bytes come (the cap may be far above the file's size), always with
	 * room for the terminating NUL. */
	char *b = NULL;
	size_t n = 0, size = 0;
	int rc = 0;
	for (;;) {
		if (n == size) {
			size_t nsize = size ? size * 2 : 4096;
			if (nsize > cap + 1)
				nsize = cap + 1;
			if (nsize == size) { /* cap + 1 bytes read */
				snprintf(err, errlen, "%s: larger than %zu bytes", path, cap);
				rc = -EFBIG;
				break;
			}
			char *nb = realloc(b, nsize + 1);
			if (!nb) {
				snprintf(err, errlen, "%s: out of memory", path);
				rc = -EIO;
				break;
			}
			b = nb;
			size = nsize;
		}
		size_t got = fread(b + n, 1, size - n, fp);
		n += got;
		if (got == 0) {
			if (ferror(fp)) {
				snprintf(err, errlen, "%s: read error", path);
				rc = -EIO;
			}
			break;
		}
	}
	if (rc == 0 && n > cap) {
		snprintf(err, errlen, "%s: larger than %zu bytes", path, cap);
		rc = -EFBIG;
	}
	fclose(fp);
	if (rc < 0) {
		free(b);
		return rc;
	}
	if (!b && !(b = malloc(1))) {
		snprintf(err, errlen, "%s: out of memory", path);
		return -EIO;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	return 0;
}
