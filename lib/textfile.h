/* textfile — reads a whole (small) text file for the line parsers (scenarios, site
 * files), with a size cap and one-line error messages. */
#ifndef TP_TEXTFILE_H
#define TP_TEXTFILE_H

#include <stddef.h>

/* Reads path into a new buffer (*buf, caller frees) of *len bytes followed by a NUL
 * (memory grows with the file, not with cap). Returns 0, -EIO (unreadable, out of
 * memory) or -EFBIG (larger than cap) with "PATH: why" in err. */
int textfile_read(const char *path, size_t cap, char **buf, size_t *len, char *err, size_t errlen);

#endif
