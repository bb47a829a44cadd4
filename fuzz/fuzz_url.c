/* libFuzzer target: target and proxy URL parsing, formatting what parsed, and
 * no_proxy matching. The input is copied to an exact-size NUL-terminated heap buffer,
 * so ASan sees any read past the string. Checks the contract as well as "no crash":
 *  - a failure always has a reason;
 *  - a parsed target has a non-empty lower-case host of allowed characters, a port,
 *    a path starting with '/' with no fragment and no control bytes;
 *  - url_absolute's output parses back to the same scheme, host, port and path;
 *  - a parsed proxy URL has path "/".
 * The bytes after the first NUL (if any) are used as a no_proxy value.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/url.h"

static const char *fuzz_no_proxy;

static const char *fake_env(const char *name)
{
	if (strcmp(name, "no_proxy") == 0)
		return fuzz_no_proxy;
	if (strcmp(name, "http_proxy") == 0 || strcmp(name, "https_proxy") == 0)
		return "http://127.0.0.1:3128";
	return NULL;
}

static void check_target(const struct url *u)
{
	if (!u->host[0] || u->port == 0 || u->path[0] != '/')
		__builtin_trap();
	if (u->scheme != URL_HTTP && u->scheme != URL_HTTPS)
		__builtin_trap();
	for (const char *h = u->host; *h; h++)
		if ((*h >= 'A' && *h <= 'Z') || *h == '@' || *h == '/' || *h == '[' || *h == ']' ||
		    (*h == ':' && !u->host_is_ipv6))
			__builtin_trap();
	for (const char *p = u->path; *p; p++)
		if (*p == '#' || (unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			__builtin_trap();
	if (u->host_is_ipv6 && !u->host_is_literal)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 16384)
		return 0;
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	size_t slen = strlen(s);
	fuzz_no_proxy = slen < size ? s + slen + 1 : NULL;

	struct url *u = malloc(sizeof *u), *again = malloc(sizeof *again);
	char *out = malloc(URL_MAX_PATH + URL_MAX_HOST + 64);
	if (!u || !again || !out)
		goto out;
	const char *why = NULL;
	if (url_parse(s, u, &why) == 0) {
		check_target(u);
		int n = url_absolute(u, out, URL_MAX_PATH + URL_MAX_HOST + 64);
		if (n <= 0)
			__builtin_trap();
		if (url_parse(out, again, &why) != 0 || again->scheme != u->scheme ||
		    again->port != u->port || strcmp(again->host, u->host) != 0 ||
		    strcmp(again->path, u->path) != 0)
			__builtin_trap();
		if (url_authority(u, false, out, URL_MAX_HOST + 16) <= 0)
			__builtin_trap();
		(void)url_proxy_from_env(u, fake_env);
	} else if (!why) {
		__builtin_trap();
	}
	why = NULL;
	if (url_parse_proxy(s, u, &why) == 0) {
		if (strcmp(u->path, "/") != 0 || !u->host[0] || u->port == 0)
			__builtin_trap();
		if (url_authority(u, true, out, URL_MAX_HOST + 16) <= 0)
			__builtin_trap();
	} else if (!why) {
		__builtin_trap();
	}
	/* the no_proxy part against fixed targets of each kind */
	if (fuzz_no_proxy) {
		static const char *const targets[] = {"http://a.example.com/", "https://10.1.2.3/",
						      "http://[fd00::1]/", "http://example.com./"};
		for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++)
			if (url_parse(targets[i], u, &why) == 0)
				(void)url_proxy_from_env(u, fake_env);
			else
				__builtin_trap();
	}
out:
	free(u);
	free(again);
	free(out);
	free(s);
	return 0;
}
