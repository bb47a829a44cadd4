/* c_bytes — transfers and endings, the same checks through each way of reaching the
 * origin (forward requests, CONNECT tunnels, SOCKS5 tunnels): bodies byte-exact both
 * ways, the origin's FIN and RST as the client sees them, the client's half-close, the
 * origin's half-close, and the proxy's idle timeout. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "check/battery.h"
#include "check/ck.h"
#include "lib/loop.h"
#include "lib/payload.h"

#define KiB ((uint64_t)1024)
#define MiB ((uint64_t)1024 * 1024)

/* The origin's record of the (first) request tagged tag; false when it saw none. */
static bool origin_req(struct ck *ck, const char *tag, struct corigin_req *req)
{
	return corigin_find(&ck->origin, tag, req, 1) > 0;
}

static void download(struct ck *ck, const struct ck_def *d, struct ck_outcome *o)
{
	char tag[OPLAN_MAX_TAG], path[128];
	struct cio c;
	struct cx x;
	struct cx_resp r = {0};
	struct corigin_req req;
	snprintf(path, sizeof path, "/t/%s/bytes/%" PRIu64, ck_tag(ck, tag), d->arg);
	if (ck_get(ck, d->via, path, NULL, &c, &x, &r, o) < 0 && o->decided)
		return;
	bool seen = origin_req(ck, tag, &req);
	ck_evidence(o, &c, &r, seen ? &req : NULL);
	if (!ck_bad_response(o, &c, &r, 200, d->arg))
		ck_result(o, CK_PASS, "%" PRIu64 " bytes arrived byte-exact", d->arg);
	cio_close(&c);
}

/* Sends a POST of size payload bytes (Content-Length, or chunked in 64 KiB chunks)
 * to upload/, which checks every byte. */
static void upload(struct ck *ck, const struct ck_def *d, struct ck_outcome *o, bool chunked)
{
	char tag[OPLAN_MAX_TAG], path[128], head[1024], extra[128];
	struct cio c;
	struct cx x;
	struct cx_resp r = {0};
	struct corigin_req req;
	snprintf(path, sizeof path, "/t/%s/upload", ck_tag(ck, tag));
	uint64_t seed = payload_seed(path, strlen(path));
	if (chunked)
		snprintf(extra, sizeof extra, "Transfer-Encoding: chunked\r\n");
	else
		snprintf(extra, sizeof extra, "Content-Length: %" PRIu64 "\r\n", d->arg);
	if (ck_open(ck, d->via, NULL, &c, &x, o) < 0)
		return;
	int n = ck_head(ck, d->via, head, sizeof head, "POST", path, extra);
	long w = cio_write(&c, head, (size_t)n, ck->deadline);
	for (uint64_t off = 0; w >= 0 && off < d->arg;) {
		uint64_t piece = chunked ? (d->arg - off < 64 * KiB ? d->arg - off : 64 * KiB)
					 : d->arg - off;
		char line[32];
		if (chunked) {
			int l = snprintf(line, sizeof line, "%" PRIx64 "\r\n", piece);
			w = cio_write(&c, line, (size_t)l, ck->deadline);
		}
		if (w >= 0)
			w = cio_write_payload(&c, seed, off, piece, ck->deadline);
		if (w >= 0 && chunked)
			w = cio_write(&c, "\r\n", 2, ck->deadline);
		off += piece;
	}
	if (w >= 0 && chunked)
		w = cio_write(&c, "0\r\n\r\n", 5, ck->deadline);
	cx_read_response(&x, 0, &r, ck->deadline);
	bool seen = origin_req(ck, tag, &req);
	ck_evidence(o, &c, &r, seen ? &req : NULL);
	if (seen) {
		ck_num(o, "origin_body", req.body_received);
		if (req.body_bad_at >= 0)
			ck_result(o, CK_FAIL, "the origin got a wrong byte at offset %ld of the upload",
				  req.body_bad_at);
		else if (!req.body_complete || req.body_received != d->arg)
			ck_result(o, CK_FAIL, "the origin got %" PRIu64 " of %" PRIu64 " upload bytes",
				  req.body_received, d->arg);
	} else {
		ck_result(o, CK_FAIL, "the upload never reached the origin%s",
			  w < 0 ? " (the proxy stopped taking bytes)" : "");
	}
	if (!ck_bad_response(o, &c, &r, 200, UINT64_MAX))
		ck_result(o, CK_PASS, "%" PRIu64 " bytes reached the origin byte-exact", d->arg);
	cio_close(&c);
}

static void upload_length(struct ck *ck, const struct ck_def *d, struct ck_outcome *o)
{
	upload(ck, d, o, false);
}

static void upload_chunked(struct ck *ck, const struct ck_def *d, struct ck_outcome *o)
{
	upload(ck, d, o, true);
}

/* close/N: the body ends at the origin's FIN; the client must see all of it, then EOF. */
static void end_fin(struct ck *ck, const struct ck_def *d, struct ck_outcome *o)
{
	char tag[OPLAN_MAX_TAG], path[128];
	struct cio c;
	struct cx x;
	struct cx_resp r = {0};
	snprintf(path, sizeof path, "/t/%s/close/%" PRIu64, ck_tag(ck, tag), d->arg);
	if (ck_get(ck, d->via, path, NULL, &c, &x, &r, o) < 0 && o->decided)
		return;
	ck_evidence(o, &c, &r, NULL);
	if (r.end == CX_TIMEOUT && r.status == 200 && r.body == d->arg)
		ck_result(o, CK_FAIL, "all %" PRIu64 " bytes arrived but the end never did: the origin's "
			  "FIN was not passed on (the client waits forever)", d->arg);
	else if (!ck_bad_response(o, &c, &r, 200, d->arg))
		ck_result(o, CK_PASS, "the close-delimited body ended with the origin's FIN, byte-exact");
	cio_close(&c);
}

/* reset/N/AT: the origin resets after AT of N bytes. The client must not take the cut
 * body for a whole one. */
static void end_reset(struct ck *ck, const struct ck_def *d, struct ck_outcome *o)
{
	char tag[OPLAN_MAX_TAG], path[128];
	struct cio c;
	struct cx x;
	struct cx_resp r = {0};
	uint64_t at = d->arg / 4;
	snprintf(path, sizeof path, "/t/%s/reset/%" PRIu64 "/%" PRIu64, ck_tag(ck, tag), d->arg, at);
	if (ck_get(ck, d->via, path, NULL, &c, &x, &r, o) < 0 && o->decided)
		return;
	ck_evidence(o, &c, &r, NULL);
	ck_num(o, "origin_reset_at", at);
	if (!r.status) {
		ck_result(o, CK_WARN, "no response head reached the client before the reset (%s)",
			  cio_end_name(c.end));
	} else if (c.end == CIO_RESET) {
		ck_result(o, CK_PASS, "the reset reached the client as a reset after %" PRIu64 " bytes",
			  r.body);
	} else if (r.end == CX_COMPLETE) {
		/* An orderly end the framing cannot tell from a whole body. */
		ck_result(o, d->via == CK_VIA_FORWARD ? CK_FAIL : CK_WARN,
			  "reset became fin: the client saw an orderly end after %" PRIu64 " bytes, as "
			  "if the body were whole", r.body);
	} else if (r.end == CX_TIMEOUT) {
		ck_result(o, CK_FAIL, "the reset never reached the client: it waits after %" PRIu64
			  " bytes", r.body);
	} else {
		ck_result(o, CK_PASS, "the client saw the body end %s after %" PRIu64 " bytes (the "
			  "framing shows it incomplete)", cx_end_name(r.end), r.body);
	}
	cio_close(&c);
}

/* The client sends its request, then FIN; the whole response must still come. In a
 * tunnel the origin answers only after that FIN reached it (afterfin/), which also
 * proves the proxy passed the half-close on. */
static void half_close_client(struct ck *ck, const struct ck_def *d, struct ck_outcome *o)
{
	char tag[OPLAN_MAX_TAG], path[128], head[1024];
	struct cio c;
	struct cx x;
	struct cx_resp r = {0};
	struct corigin_req req;
	bool tunnel = d->via == CK_VIA_CONNECT || d->via == CK_VIA_SOCKS5;
	/* A forward proxy need not pass the FIN on, so there the origin drips its answer
	 * instead (1 KiB over about 0.6 s): the FIN surely arrives while it is under way,
	 * which is the case that loses responses (a race, not luck, decides the verdict). */
	uint64_t want = tunnel ? d->arg : 1024;
	if (tunnel)
		snprintf(path, sizeof path, "/t/%s/afterfin/%" PRIu64, ck_tag(ck, tag), d->arg);
	else
		snprintf(path, sizeof path, "/t/%s/drip/1024/10", ck_tag(ck, tag));
	if (ck_open(ck, d->via, NULL, &c, &x, o) < 0)
		return;
	int n = ck_head(ck, d->via, head, sizeof head, "GET", path, NULL);
	if (cio_write(&c, head, (size_t)n, ck->deadline) >= 0)
		cio_shutdown(&c);
	cx_read_response(&x, 0, &r, ck->deadline);
	bool seen = origin_req(ck, tag, &req);
	ck_evidence(o, &c, &r, seen ? &req : NULL);
	struct corigin_conn oc;
	if (seen && corigin_conn(&ck->origin, req.conn, &oc))
		ck_str(o, "origin_fin_received", "%s", oc.fin_received ? "yes" : "no");
	if (tunnel && seen && r.end == CX_TIMEOUT && !req.status)
		ck_result(o, CK_FAIL, "the client's FIN never reached the origin, which waits for it");
	else if (!ck_bad_response(o, &c, &r, 200, want))
		ck_result(o, CK_PASS, "after the client's FIN the whole response (%" PRIu64 " bytes) "
			  "still came", want);
	cio_close(&c);
}

/* fin/N: the origin sends N bytes then FIN, and keeps reading. The client sees the FIN,
 * then sends more bytes: they must still reach the origin (a half-close is not a full
 * close). */
static void half_close_origin(struct ck *ck, const struct ck_def *d, struct ck_outcome *o)
{
	char tag[OPLAN_MAX_TAG], path[128];
	struct cio c;
	struct cx x;
	struct cx_resp r = {0};
	struct corigin_req req;
	struct corigin_conn oc = {0};
	const uint64_t after = 4096;
	snprintf(path, sizeof path, "/t/%s/fin/%" PRIu64, ck_tag(ck, tag), d->arg);
	if (ck_get(ck, d->via, path, NULL, &c, &x, &r, o) < 0 && o->decided)
		return;
	if (ck_bad_response(o, &c, &r, 200, d->arg))
		goto out;
	enum cio_end e = cio_drain(&c, ck_step(ck, 5000), NULL);
	if (e != CIO_FIN) {
		ck_result(o, CK_FAIL, "after the body the origin's FIN did not reach the client (%s)",
			  cio_end_name(e));
		goto out;
	}
	long w = cio_write_payload(&c, 7, 0, after, ck_step(ck, 5000));
	cio_shutdown(&c);
	bool seen = origin_req(ck, tag, &req);
	if (seen)
		corigin_wait_closed(&ck->origin, req.conn, ck_step(ck, 5000));
	if (seen)
		corigin_conn(&ck->origin, req.conn, &oc);
	ck_num(o, "sent_after_fin", w > 0 ? (uint64_t)w : 0);
	ck_num(o, "origin_after_fin", oc.after_fin);
	if (w < 0)
		ck_result(o, CK_FAIL, "after the origin's FIN the proxy closed the client's side too "
			  "(writing failed: %s)", cio_end_name(c.end));
	else if (oc.after_fin != after)
		ck_result(o, CK_FAIL, "%" PRIu64 " of %" PRIu64 " bytes sent after the origin's FIN "
			  "reached it: the half-close became a full close", oc.after_fin, after);
	else
		ck_result(o, CK_PASS, "the origin's half-close passed on, and the client's %" PRIu64
			  " later bytes still reached it", after);
out:
	ck_evidence(o, &c, &r, NULL);
	cio_close(&c);
}

/* hold: the origin never answers; how long until the proxy gives up, and how? */
static void idle(struct ck *ck, const struct ck_def *d, struct ck_outcome *o)
{
	char tag[OPLAN_MAX_TAG], path[128], head[1024];
	struct cio c;
	struct cx x;
	struct cx_resp r = {0};
	struct corigin_req req;
	snprintf(path, sizeof path, "/t/%s/hold", ck_tag(ck, tag));
	if (ck_open(ck, d->via, NULL, &c, &x, o) < 0)
		return;
	int n = ck_head(ck, d->via, head, sizeof head, "GET", path, NULL);
	uint64_t t0 = loop_clock_us();
	cio_write(&c, head, (size_t)n, ck->deadline);
	uint64_t wait_ms = (uint64_t)(ck->args->idle_wait * 1000);
	int got = cx_read_response(&x, 0, &r, ck_step(ck, wait_ms));
	uint64_t ms = (loop_clock_us() - t0) / 1000;
	bool seen = origin_req(ck, tag, &req);
	if (r.end == CX_TIMEOUT && !r.status) {
		ck_result(o, CK_PASS, "no idle timeout within %.1f s: the proxy waits longer for a "
			  "silent origin", ck->args->idle_wait);
	} else if (r.status) {
		ck_num(o, "idle_ms", ms);
		ck_result(o, r.status == 504 || r.status == 502 ? CK_PASS : CK_WARN,
			  "after %.1f s of silence the proxy answered %d%s", (double)ms / 1000, r.status,
			  got == 0 ? "" : " (incomplete)");
	} else {
		ck_num(o, "idle_ms", ms);
		/* A tunnel has no way to say why; a forward proxy does (504). */
		ck_result(o, d->via == CK_VIA_FORWARD ? CK_WARN : CK_PASS,
			  "after %.1f s of silence the proxy %s the connection%s", (double)ms / 1000,
			  c.end == CIO_RESET ? "reset" : "closed",
			  d->via == CK_VIA_FORWARD ? " without a response (504 would say why)" : "");
	}
	ck_evidence(o, &c, &r, NULL);
	cio_close(&c);
	/* The client is gone: the proxy must let go of the origin's side too. */
	if (seen && !corigin_wait_closed(&ck->origin, req.conn, ck_step(ck, 3000)))
		ck_result(o, CK_WARN, "the origin's connection stayed open 3 s after the client closed");
}

#define V_F CK_VIA_FORWARD
#define V_C CK_VIA_CONNECT
#define V_S CK_VIA_SOCKS5
#define P_F CK_PROFILE_FORWARD
#define P_C CK_PROFILE_CONNECT
#define P_S CK_PROFILE_SOCKS5

#define TRANSFERS(pfx, P, V, RULE, TRULE)                                                     \
	{pfx ".bytes.0", "an empty body arrives, framed", RULE, P, V, download, 0, 0, 10},     \
	{pfx ".bytes.1m", "1 MiB body byte-exact", RULE, P, V, download, MiB, 0, 15},           \
	{pfx ".bytes.100m", "100 MiB body byte-exact", RULE, P, V, download, 100 * MiB, 0, 90}, \
	{pfx ".upload.1m", "1 MiB upload byte-exact", RULE, P, V, upload_length, MiB, 0, 20},   \
	{pfx ".upload.100m", "100 MiB upload byte-exact", RULE, P, V, upload_length, 100 * MiB, \
	 0, 90},                                                                               \
	{pfx ".end.fin", "the origin's FIN ends a close-delimited body", TRULE, P, V, end_fin, \
	 256 * KiB, 0, 10},                                                                    \
	{pfx ".end.reset", "the origin's reset is not passed on as an orderly end",           \
	 "RFC 9112 §8; RFC 9293 §3.10.7", P, V, end_reset, 1 * MiB, 0, 20},                    \
	{pfx ".half-close.client", "a client's FIN after its request still gets the response", \
	 "RFC 9293 §3.6; RFC 9112 §9.6", P, V, half_close_client, 256 * KiB, 0, 20},           \
	{pfx ".idle", "the proxy's idle timeout, as the client sees it", "RFC 9110 §15.6.5",   \
	 P, V, idle, 0, 0, 70}

static const struct ck_def defs[] = {
	TRANSFERS("forward", P_F, V_F, "RFC 9112 §6.3", "RFC 9112 §6.3 (rule 8)"),
	TRANSFERS("connect", P_C, V_C, "RFC 9110 §9.3.6", "RFC 9110 §9.3.6"),
	TRANSFERS("socks5", P_S, V_S, "RFC 1928 §6", "RFC 1928 §6; RFC 9293 §3.6"),
	{"forward.upload.chunked", "1 MiB chunked upload byte-exact", "RFC 9112 §7.1", P_F, V_F,
	 upload_chunked, MiB, 0, 20},
	{"connect.half-close.origin", "the origin's FIN is a half-close: later client bytes "
	 "still reach it", "RFC 9293 §3.6; RFC 9110 §9.3.6", P_C, V_C, half_close_origin, 64 * KiB,
	 0, 20},
	{"socks5.half-close.origin", "the origin's FIN is a half-close: later client bytes "
	 "still reach it", "RFC 9293 §3.6", P_S, V_S, half_close_origin, 64 * KiB, 0, 20},
};

const struct ck_table ck_bytes_checks = {defs, sizeof defs / sizeof defs[0]};
