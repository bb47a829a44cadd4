/* libFuzzer target: the probe's one-line inputs — a --connect-to rule
 * (url_parse_connect_to), a --urls-file line (probe_parse_urls_line) and a --run-id
 * (probe_run_id_valid). The input is copied to an exact-size NUL-terminated heap
 * buffer, so ASan sees any read past the string. Checks the contract as well as
 * "no crash":
 *  - a failure always has a reason;
 *  - a parsed rule's hosts hold no ':' unless IPv6, no brackets, no upper case; a
 *    literal ADDR is an address; ports are 0 (any / keep) or 1..65535;
 *  - a parsed urls line leaves the URL as the line's first word (no blank in it), a
 *    length of -1 or more;
 *  - a valid run id is 1..64 characters of [A-Za-z0-9._-].
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/url.h"
#include "probe/config.h"

static void check_host(const char *h, bool ipv6)
{
	for (const char *p = h; *p; p++)
		if ((*p >= 'A' && *p <= 'Z') || *p == '[' || *p == ']' || (*p == ':' && !ipv6) ||
		    (unsigned char)*p <= ' ')
			__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 8192)
		return 0;
	char *s = malloc(size + 1);
	struct url_connect_to *c = malloc(sizeof *c);
	if (!s || !c)
		goto out;
	memcpy(s, data, size);
	s[size] = '\0';

	const char *why = NULL;
	if (url_parse_connect_to(s, c, &why) == 0) {
		check_host(c->host, strchr(c->host, ':') != NULL);
		check_host(c->to_host, c->to_is_ipv6);
		if (c->to_is_ipv6 && !c->to_is_literal)
			__builtin_trap();
		if (!c->to_host[0] && (c->to_is_ipv6 || c->to_is_literal))
			__builtin_trap();
	} else if (!why) {
		__builtin_trap();
	}

	bool valid = probe_run_id_valid(s);
	size_t n = strlen(s);
	if (valid && (n == 0 || n > PROBE_RUN_ID_MAX || strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != n))
		__builtin_trap();

	/* urls lines arrive trimmed and never start with a blank */
	if (n && s[0] != ' ' && s[0] != '\t') {
		struct probe_known known;
		why = NULL;
		if (probe_parse_urls_line(s, &known, &why) == 0) {
			if (strpbrk(s, " \t") || known.length < -1)
				__builtin_trap();
		} else if (!why) {
			__builtin_trap();
		}
	}
out:
	free(c);
	free(s);
	return 0;
}
