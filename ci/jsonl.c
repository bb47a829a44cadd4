/* jsonl — see jsonl.h. */
#include "ci/jsonl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int jsonl_each(const char *path, size_t max, jsonl_fn fn, void *ctx)
{
	FILE *fp = fopen(path, "rb");
	if (!fp)
		return -ENOENT;
	/* max + 2: the longest line, its newline and the NUL */
	char *buf = max < (size_t)-3 ? malloc(max + 2) : NULL;
	int rc = buf ? 0 : -ENOMEM;
	while (rc == 0 && fgets(buf, (int)(max + 2 < 0x7fffffff ? max + 2 : 0x7fffffff), fp)) {
		size_t len = strlen(buf);
		if (len && buf[len - 1] == '\n')
			buf[--len] = '\0';
		else if (!feof(fp))
			rc = -EINVAL; /* longer than the cap */
		if (rc == 0 && len)
			rc = fn(ctx, buf, len);
	}
	if (rc == 0 && ferror(fp))
		rc = -EIO;
	free(buf);
	fclose(fp);
	return rc;
}
