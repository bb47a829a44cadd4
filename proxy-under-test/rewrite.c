/* rewrite — see rewrite.h. */
#include "proxy-under-test/rewrite.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define VIA "Via: 1.1 tunnelprobe\r\n"

bool rewrite_hop_by_hop(const struct http1_header *h, const struct http1_header *headers, size_t n)
{
	/* Transfer-Encoding is hop-by-hop too, but bodies pass through with their framing
	 * untouched, so it must stay. */
	static const char *const names[] = {"Connection", "Keep-Alive", "Proxy-Connection",
					    "Proxy-Authorization", "Proxy-Authenticate", "TE",
					    "Upgrade"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (http1_token_eq(h->name, h->name_len, names[i]))
			return true;
	/* The framing fields stay even when Connection names them: dropping them would
	 * change where the body ends for the next hop (a desync a hostile peer could ask for). */
	if (http1_token_eq(h->name, h->name_len, "Content-Length") ||
	    http1_token_eq(h->name, h->name_len, "Transfer-Encoding"))
		return false;
	for (size_t k = 0; k < n; k++) {
		const struct http1_header *conn = &headers[k];
		if (!http1_token_eq(conn->name, conn->name_len, "Connection"))
			continue;
		const char *v = conn->value, *end = v + conn->value_len;
		while (v < end) {
			while (v < end && (*v == ' ' || *v == '\t' || *v == ','))
				v++;
			const char *t = v;
			while (v < end && *v != ',' && *v != ' ' && *v != '\t')
				v++;
			if (v > t && h->name_len == (size_t)(v - t) && strncasecmp(h->name, t, h->name_len) == 0)
				return true;
		}
	}
	return false;
}

/* Appends data[0..len) to out[*o..cap); false when it does not fit. */
static bool put(char *out, size_t cap, size_t *o, const char *data, size_t len)
{
	if (len > cap - *o)
		return false;
	memcpy(out + *o, data, len);
	*o += len;
	return true;
}

static bool put_header(char *out, size_t cap, size_t *o, const struct http1_header *h)
{
	return put(out, cap, o, h->name, h->name_len) && put(out, cap, o, ": ", 2) &&
	       put(out, cap, o, h->value, h->value_len) && put(out, cap, o, "\r\n", 2);
}

/* Writes the end-to-end field h. Content-Length goes once, as "Content-Length: N" with
 * the first value of the first such field (the parser refused the head unless every
 * value of every one is the same number); *cl_done says it went. */
static bool put_end_to_end(char *out, size_t cap, size_t *o, const struct http1_header *h,
			   bool *cl_done)
{
	if (!http1_token_eq(h->name, h->name_len, "Content-Length"))
		return put_header(out, cap, o, h);
	if (*cl_done)
		return true;
	*cl_done = true;
	size_t i = 0;
	while (i < h->value_len && (h->value[i] == ' ' || h->value[i] == '\t' || h->value[i] == ','))
		i++;
	size_t d = i;
	while (d < h->value_len && h->value[d] >= '0' && h->value[d] <= '9')
		d++;
	struct http1_header one = {h->name, h->name_len, h->value + i, d - i};
	return put_header(out, cap, o, &one);
}

long rewrite_request(const struct http1_request *req, const struct url *u, bool absolute,
			     const char *auth, char *out, size_t cap)
{
	size_t o = 0;
	char authority[URL_MAX_HOST + 8];
	if (url_authority(u, true, authority, sizeof authority) < 0)
		return -1;
	if (!put(out, cap, &o, req->method, req->method_len) || !put(out, cap, &o, " ", 1))
		return -1;
	if (absolute ? !put(out, cap, &o, req->target, req->target_len)
		     : !put(out, cap, &o, u->path, strlen(u->path)))
		return -1;
	if (!put(out, cap, &o, " HTTP/1.1\r\nHost: ", 17) ||
	    !put(out, cap, &o, authority, strlen(authority)) || !put(out, cap, &o, "\r\n", 2))
		return -1;
	bool cl_done = false;
	for (size_t i = 0; i < req->num_headers; i++) {
		const struct http1_header *h = &req->headers[i];
		/* The proxy must replace Host with the URI's authority (RFC 9112 §3.2.2). */
		if (http1_token_eq(h->name, h->name_len, "Host") ||
		    rewrite_hop_by_hop(h, req->headers, req->num_headers))
			continue;
		if (!put_end_to_end(out, cap, &o, h, &cl_done))
			return -1;
	}
	if (auth && (!put(out, cap, &o, "Proxy-Authorization: ", 21) ||
		     !put(out, cap, &o, auth, strlen(auth)) || !put(out, cap, &o, "\r\n", 2)))
		return -1;
	/* An HTTP/1.0 client without keep-alive gets its close from us; the origin leg
	 * stays persistent whatever the client asked. */
	if (!put(out, cap, &o, VIA "\r\n", sizeof VIA + 1))
		return -1;
	return (long)o;
}

long rewrite_response(const struct http1_response *resp, bool close, char *out, size_t cap)
{
	size_t o = 0;
	char line[32];
	int n = snprintf(line, sizeof line, "HTTP/1.1 %03d ", resp->status);
	if (n < 0 || !put(out, cap, &o, line, (size_t)n) ||
	    !put(out, cap, &o, resp->reason, resp->reason_len) || !put(out, cap, &o, "\r\n", 2))
		return -1;
	bool cl_done = false;
	for (size_t i = 0; i < resp->num_headers; i++) {
		const struct http1_header *h = &resp->headers[i];
		/* 101 keeps its Upgrade/Connection: they are what it answers. */
		if (resp->status != 101 && rewrite_hop_by_hop(h, resp->headers, resp->num_headers))
			continue;
		if (!put_end_to_end(out, cap, &o, h, &cl_done))
			return -1;
	}
	if (!put(out, cap, &o, VIA, sizeof VIA - 1))
		return -1;
	if (close && !put(out, cap, &o, "Connection: close\r\n", 19))
		return -1;
	if (!put(out, cap, &o, "\r\n", 2))
		return -1;
	return (long)o;
}
