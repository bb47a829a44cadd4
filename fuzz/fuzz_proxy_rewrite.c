/* libFuzzer target: the reference proxy's forward rewrites. Any head the HTTP/1 parser
 * accepts is rewritten into buffers of every interesting size; the output must never
 * overrun, and a rewritten head must parse again with the same method/status and the
 * same framing (the proxy never changes how a body is delimited), with at most one
 * Content-Length field (a list or repetition goes on as one value). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lib/http1.h"
#include "lib/url.h"
#include "proxy-under-test/rewrite.h"

static char out[HTTP1_MAX_HEAD * 2];

static size_t content_lengths(const struct http1_header *h, size_t n)
{
	size_t count = 0;
	for (size_t i = 0; i < n; i++)
		count += http1_token_eq(h[i].name, h[i].name_len, "Content-Length");
	return count;
}

static void request(const char *in, size_t len)
{
	struct http1_request req, again;
	int err;
	if (http1_parse_request(in, len, HTTP1_MAX_HEAD, &req, &err) <= 0)
		return;
	char target[URL_MAX_PATH + URL_MAX_HOST + 16];
	if (req.target_len >= sizeof target)
		return;
	memcpy(target, req.target, req.target_len);
	target[req.target_len] = '\0';
	struct url u;
	const char *why;
	if (url_parse(target, &u, &why) != 0 || u.scheme != URL_HTTP)
		return;
	for (int absolute = 0; absolute < 2; absolute++) {
		long n = rewrite_request(&req, &u, absolute, absolute ? "Basic dTpw" : NULL, out,
						 sizeof out);
		if (n < 0)
			continue;
		if (n > 1 && rewrite_request(&req, &u, absolute, absolute ? "Basic dTpw" : NULL,
						     out, (size_t)n - 1) != -1)
			__builtin_trap();
		n = rewrite_request(&req, &u, absolute, absolute ? "Basic dTpw" : NULL, out, sizeof out);
		if (req.num_headers + 3 > HTTP1_MAX_HEADERS)
			continue; /* Host, Via and credentials may pass our own parser's field cap */
		int r = http1_parse_request(out, (size_t)n, sizeof out, &again, &err);
		if (r != n || again.framing != req.framing ||
		    content_lengths(again.headers, again.num_headers) > 1 ||
		    (req.framing == HTTP1_FRAMING_LENGTH && again.content_length != req.content_length) ||
		    again.method_len != req.method_len || memcmp(again.method, req.method, req.method_len))
			__builtin_trap();
	}
}

static void response(const char *in, size_t len)
{
	struct http1_response resp, again;
	int err;
	if (http1_parse_response(in, len, HTTP1_MAX_HEAD, 0, &resp, &err) <= 0)
		return;
	for (int close = 0; close < 2; close++) {
		long n = rewrite_response(&resp, close, out, sizeof out);
		if (n < 0)
			continue;
		if (n > 1 && rewrite_response(&resp, close, out, (size_t)n - 1) != -1)
			__builtin_trap();
		n = rewrite_response(&resp, close, out, sizeof out);
		if (resp.num_headers + 2 > HTTP1_MAX_HEADERS)
			continue; /* Via and Connection may pass our own parser's field cap */
		int r = http1_parse_response(out, (size_t)n, sizeof out, 0, &again, &err);
		if (r != n || again.status != resp.status ||
		    content_lengths(again.headers, again.num_headers) > 1 ||
		    (resp.framing != HTTP1_FRAMING_CLOSE && again.framing != resp.framing) ||
		    (close && again.keep_alive))
			__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > HTTP1_MAX_HEAD)
		return 0;
	request((const char *)data, size);
	response((const char *)data, size);
	return 0;
}
