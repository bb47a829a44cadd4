/* recording_none — recording.h for the Windows build: recorded responses are read from
 * pcap files with libpcap, which Debian has not for mingw-w64, so `origin --replay`
 * refuses there with one line; the origin serves its synthesized responses (sites,
 * /bytes/, /chunked/, ...). Compiles to nothing off Windows (recording.c is the real one). */
#ifdef _WIN32
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "replay/recording.h"

int recording_load(struct recording *r, const char *path, char *err, size_t errlen)
{
	memset(r, 0, sizeof *r);
	snprintf(err, errlen, "--replay %s: recordings need libpcap, which the Windows build has not",
		 path);
	return -ENOTSUP;
}

int recording_load_pcap(struct recording *r, FILE *fp, const char *name, char *err, size_t errlen)
{
	fclose(fp);
	return recording_load(r, name, err, errlen);
}

void recording_free(struct recording *r)
{
	if (r)
		memset(r, 0, sizeof *r);
}

const struct rec_entry *recording_match(struct recording *r, const char *method, const char *target)
{
	return NULL;
}
#endif
