/* Unit tests for lib/h3: an HTTP/3 client and server on the in-memory QUIC pair of
 * tests/helpers/quic_pair.h (fake clock, no sockets). The server answers by path:
 *   GET /bytes/N      200, N bytes of payload_seed(path), written as room frees
 *   GET /fields/N     200 with N header fields of 200 bytes each, no body
 *   GET /reset/N      200, N bytes; RESET_STREAM H3_INTERNAL_ERROR once N/2 are acked
 *   POST /upload      checks the body, answers 200 "ok" with a trailer x-got: <bytes>
 *   CONNECT echo.test:443    200, then echoes the tunnel's bytes, FIN for FIN
 *   CONNECT refuse.test:443  stream reset with H3_CONNECT_ERROR (the TCP side failed)
 * Bodies are lib/payload streams, checked byte by byte at their offsets. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/h3.h"
#include "lib/payload.h"
#include "lib/quic.h"
#include "tests/helpers/quic_pair.h"

#define MAX_REQS 128


/* ---- server ---- */

enum kind { K_BYTES, K_FIELDS, K_RESET, K_UPLOAD, K_ECHO };

struct sreq {
	enum kind kind;
	uint64_t total, written, received;
	uint64_t seed;
	bool bad, ended, reset_sent, closed;
};

struct server {
	struct h3_conn h;
	bool up;
	struct sreq r[MAX_REQS];
	size_t nr;
	uint64_t body_acked_at_close;  /* of the last /bytes stream closed */
	bool fin_acked_at_close;
	uint32_t resets_seen, stops_seen;
};

static void serve_more(struct h3_conn *h, struct h3_stream *s)
{
	struct sreq *r = s->user;
	uint8_t buf[16384];
	while (r->written < r->total) {
		size_t n = sizeof buf;
		if (n > r->total - r->written)
			n = (size_t)(r->total - r->written);
		payload_fill(r->seed, r->written, buf, n);
		long w = h3_stream_write(h, s, buf, n);
		assert_true(w >= 0);
		r->written += (uint64_t)w;
		if ((size_t)w < n)
			return; /* H3_EV_WRITABLE brings us back */
	}
	if (r->kind == K_BYTES)
		assert_int_equal(h3_stream_end(h, s), 0);
}

static void on_request(struct server *sv, struct h3_stream *s)
{
	struct h3_conn *h = &sv->h;
	assert_true(sv->nr < MAX_REQS);
	struct sreq *r = &sv->r[sv->nr++];
	memset(r, 0, sizeof *r);
	s->user = r;
	static const struct h3_header ctype[] = {{"content-type", "application/octet-stream"}};
	if (strcmp(s->method, "CONNECT") == 0) {
		assert_null(s->scheme);
		assert_null(s->path);
		if (strcmp(s->authority, "refuse.test:443") == 0) {
			assert_int_equal(h3_stream_reset(h, s, H3_CONNECT_ERROR), 0);
			return;
		}
		assert_string_equal(s->authority, "echo.test:443");
		r->kind = K_ECHO;
		assert_int_equal(h3_submit_response(h, s, 200, NULL, 0, true), 0);
		return;
	}
	assert_string_equal(s->scheme, "https");
	assert_string_equal(s->authority, "localhost:443");
	unsigned long n = 0;
	if (sscanf(s->path, "/bytes/%lu", &n) == 1 || sscanf(s->path, "/reset/%lu", &n) == 1) {
		r->kind = s->path[1] == 'b' ? K_BYTES : K_RESET;
		r->total = n;
		r->seed = payload_seed(s->path, strlen(s->path));
		assert_int_equal(h3_submit_response(h, s, 200, ctype, 1, true), 0);
		assert_int_equal(h3_submit_response(h, s, 200, ctype, 1, true), -EALREADY);
		serve_more(h, s);
	} else if (sscanf(s->path, "/fields/%lu", &n) == 1) {
		static char names[H3_MAX_FIELDS][32], value[201];
		struct h3_header f[H3_MAX_FIELDS];
		memset(value, 'v', 200);
		assert_true(n <= H3_MAX_FIELDS);
		for (unsigned long i = 0; i < n; i++) {
			snprintf(names[i], sizeof names[i], "x-f%lu", i);
			f[i].name = names[i];
			f[i].value = value;
		}
		assert_int_equal(h3_submit_response(h, s, 200, f, n, false), 0);
	} else {
		assert_string_equal(s->path, "/upload");
		assert_string_equal(s->method, "POST");
		r->kind = K_UPLOAD;
		r->seed = 77;
	}
}

static void server_h3_event(struct h3_conn *h, const struct h3_event *ev, void *arg)
{
	struct server *sv = arg;
	struct h3_stream *s = ev->stream;
	struct sreq *r = s ? s->user : NULL;
	switch (ev->type) {
	case H3_EV_REQUEST:
		on_request(sv, s);
		break;
	case H3_EV_DATA:
		if (!r)
			break;
		if (r->kind == K_ECHO) {
			long w = h3_stream_write(h, s, ev->data, ev->len);
			assert_int_equal(w, (long)ev->len);
		} else if (payload_verify(r->seed, r->received, ev->data, ev->len) != -1) {
			r->bad = true;
		}
		r->received += ev->len;
		break;
	case H3_EV_END:
		if (!r)
			break;
		r->ended = true;
		if (r->kind == K_ECHO) {
			assert_int_equal(h3_stream_end(h, s), 0);
		} else if (r->kind == K_UPLOAD) {
			char got[32];
			snprintf(got, sizeof got, "%llu", (unsigned long long)r->received);
			struct h3_header t[] = {{"x-got", got}};
			assert_int_equal(h3_submit_response(h, s, 200, NULL, 0, true), 0);
			assert_int_equal(h3_stream_write(h, s, "ok", 2), 2);
			assert_int_equal(h3_submit_trailers(h, s, t, 1), 0);
			assert_int_equal(h3_stream_write(h, s, "late", 4), -EPIPE);
		}
		break;
	case H3_EV_WRITABLE:
		if (r && (r->kind == K_BYTES || r->kind == K_RESET))
			serve_more(h, s);
		break;
	case H3_EV_RESET:
		sv->resets_seen++;
		break;
	case H3_EV_STOPPED:
		sv->stops_seen++;
		break;
	case H3_EV_ACKED:
		/* /reset: once half the body is acknowledged, the origin "crashes". */
		if (r && r->kind == K_RESET && !r->reset_sent && s->body_acked >= r->total / 2) {
			r->reset_sent = true;
			assert_int_equal(h3_stream_reset(h, s, H3_INTERNAL_ERROR), 0);
		}
		break;
	case H3_EV_CLOSED:
		if (r)
			r->closed = true;
		if (r && r->kind == K_BYTES) {
			sv->body_acked_at_close = s->body_acked;
			sv->fin_acked_at_close = h3_stream_quic(s)->fin_acked;
		}
		break;
	default:
		break;
	}
}

/* The server's QUIC callback until the handshake picks HTTP/3. */
static void server_quic_event(struct quic_conn *c, const struct quic_event *ev, void *arg)
{
	struct server *sv = arg;
	if (ev->type != QUIC_EV_HANDSHAKE_DONE)
		return;
	assert_string_equal(c->alpn, "h3");
	struct h3_opts o = {.cb = server_h3_event, .arg = sv};
	assert_int_equal(h3_conn_init(&sv->h, c, &o), 0);
	sv->up = true;
}

/* ---- client ---- */

struct creq {
	struct h3_stream *s;
	uint64_t seed, expect;    /* body expected (UINT64_MAX: not checked) */
	uint64_t received, acked;
	int status;
	bool bad, end, reset, error, closed, trailers, has_code;
	uint64_t code;
	char got[32];             /* trailer x-got */
	size_t nfields;
};

struct client {
	struct h3_conn h;
	bool ready;
	struct creq r[MAX_REQS];
	size_t nr;
};

static void client_h3_event(struct h3_conn *h, const struct h3_event *ev, void *arg)
{
	(void)h;
	struct client *cl = arg;
	struct creq *r = ev->stream ? ev->stream->user : NULL;
	switch (ev->type) {
	case H3_EV_QUIC:
		if (ev->quic->type == QUIC_EV_HANDSHAKE_DONE)
			cl->ready = true;
		break;
	case H3_EV_RESPONSE:
		r->status = ev->stream->status;
		r->nfields = ev->stream->nfields;
		break;
	case H3_EV_DATA:
		if (r->expect != UINT64_MAX &&
		    payload_verify(r->seed, r->received, ev->data, ev->len) != -1)
			r->bad = true;
		r->received += ev->len;
		break;
	case H3_EV_TRAILERS:
		r->trailers = true;
		assert_int_equal(ev->stream->nfields, 1);
		assert_string_equal(ev->stream->fields[0].name, "x-got");
		snprintf(r->got, sizeof r->got, "%s", ev->stream->fields[0].value);
		break;
	case H3_EV_END:
		r->end = true;
		break;
	case H3_EV_RESET:
		r->reset = true;
		r->code = ev->code;
		break;
	case H3_EV_ERROR:
		r->error = true;
		r->code = ev->code;
		break;
	case H3_EV_ACKED:
		r->acked += ev->len;
		break;
	case H3_EV_CLOSED:
		r->closed = true;
		r->has_code = ev->has_code;
		if (!r->reset && !r->error)
			r->code = ev->code;
		r->s = NULL;
		break;
	default:
		break;
	}
}

static struct {
	struct qp_world *w;
	struct client cli;
	struct server srv;
} T;

static struct qp_world *world_new(void)
{
	memset(&T, 0, sizeof T);
	struct qp_setup st = {.certdir = qp_certdir, .srv_cb = server_quic_event, .srv_arg = &T.srv};
	T.w = qp_world_new(&st);
	struct h3_opts o = {.cb = client_h3_event, .arg = &T.cli};
	assert_int_equal(h3_conn_init(&T.cli.h, &T.w->cli.c, &o), 0);
	return T.w;
}

static void world_free(struct qp_world *w)
{
	h3_conn_free(&T.cli.h);
	h3_conn_free(&T.cli.h);
	if (T.srv.up)
		h3_conn_free(&T.srv.h);
	qp_world_free(w);
	h3_conn_free(NULL);
}

static bool ready(struct qp_world *w, void *arg)
{
	(void)w;
	(void)arg;
	return T.cli.ready && T.srv.up && T.cli.h.ready && T.srv.h.ready;
}

/* Every stream closed, on both sides (the server's closes an ACK later). */
static bool all_closed(struct qp_world *w, void *arg)
{
	(void)w;
	(void)arg;
	for (size_t i = 0; i < T.cli.nr; i++)
		if (!T.cli.r[i].closed)
			return false;
	for (size_t i = 0; i < T.srv.nr; i++)
		if (!T.srv.r[i].closed)
			return false;
	return T.cli.nr > 0;
}

static struct creq *request(const char *method, const char *path, uint64_t expect, bool body)
{
	struct creq *r = &T.cli.r[T.cli.nr++];
	memset(r, 0, sizeof *r);
	r->expect = expect;
	r->seed = path ? payload_seed(path, strlen(path)) : 0;
	bool connect = strcmp(method, "CONNECT") == 0;
	struct h3_header f[] = {{"x-probe-id", "t1"}};
	struct h3_request req = {
		.method = method,
		.scheme = connect ? NULL : "https",
		.authority = connect ? path : "localhost:443",
		.path = connect ? NULL : path,
		.fields = f,
		.nfields = 1,
		.body = body,
		.user = r,
	};
	assert_int_equal(h3_submit_request(&T.cli.h, &req, &r->s), 0);
	assert_ptr_equal(r->s->user, r);
	return r;
}

/* ---- tests ---- */

static void test_get_body_byte_exact(void **state)
{
	(void)state;
	struct qp_world *w = world_new();
	struct h3_request early = {.method = "GET", .scheme = "https", .authority = "a", .path = "/"};
	struct h3_stream *s;
	assert_int_equal(h3_submit_request(&T.cli.h, &early, &s), -ENOTCONN);
	assert_true(qp_run(w, ready, NULL));
	struct creq *r = request("GET", "/bytes/1048576", 1u << 20, false);
	assert_true(qp_run(w, all_closed, NULL));
	assert_int_equal(r->status, 200);
	assert_int_equal(r->nfields, 1);
	assert_false(r->bad);
	assert_true(r->end);
	assert_int_equal(r->received, 1u << 20);
	assert_false(r->has_code);
	assert_false(r->reset || r->error);
	/* The origin's ledger facts: every body byte acknowledged, FIN acknowledged. */
	assert_int_equal(T.srv.body_acked_at_close, 1u << 20);
	assert_true(T.srv.fin_acked_at_close);
	assert_int_equal(T.srv.h.stats.requests, 1);
	assert_int_equal(T.cli.h.stats.body_bytes_received, 1u << 20);
	world_free(w);
}

static void test_many_requests_one_connection(void **state)
{
	(void)state;
	struct qp_world *w = world_new();
	assert_true(qp_run(w, ready, NULL));
	char paths[60][32];
	for (int i = 0; i < 60; i++) {
		snprintf(paths[i], sizeof paths[i], "/bytes/%d", 1000 + 997 * i);
		request("GET", paths[i], (uint64_t)(1000 + 997 * i), false);
	}
	assert_true(qp_run(w, all_closed, NULL));
	for (int i = 0; i < 60; i++) {
		struct creq *r = &T.cli.r[i];
		assert_int_equal(r->status, 200);
		assert_false(r->bad);
		assert_int_equal(r->received, r->expect);
		assert_true(r->end);
	}
	assert_int_equal(T.srv.nr, 60);
	world_free(w);
}

static void test_post_body_and_trailers(void **state)
{
	(void)state;
	struct qp_world *w = world_new();
	assert_true(qp_run(w, ready, NULL));
	struct creq *r = request("POST", "/upload", UINT64_MAX, true);
	/* The request body is fed in pieces, as room allows. */
	uint8_t buf[8192];
	uint64_t sent = 0, total = 300000;
	for (int round = 0; round < 10000 && sent < total; round++) {
		size_t n = sizeof buf < total - sent ? sizeof buf : (size_t)(total - sent);
		payload_fill(77, sent, buf, n);
		long k = h3_stream_write(&T.cli.h, r->s, buf, n);
		assert_true(k >= 0);
		sent += (uint64_t)k;
		qp_flush(w, &w->cli, &w->srv);
		qp_flush(w, &w->srv, &w->cli);
	}
	assert_int_equal(sent, total);
	assert_int_equal(h3_stream_end(&T.cli.h, r->s), 0);
	assert_int_equal(h3_stream_end(&T.cli.h, r->s), -EPIPE);
	assert_true(qp_run(w, all_closed, NULL));
	assert_false(T.srv.r[0].bad);
	assert_int_equal(T.srv.r[0].received, total);
	assert_int_equal(r->status, 200);
	assert_int_equal(r->received, 2);
	assert_true(r->trailers);
	assert_string_equal(r->got, "300000");
	assert_true(r->end);
	assert_int_equal(r->acked, total);
	world_free(w);
}

static bool tunnel_answered(struct qp_world *w, void *arg)
{
	(void)w;
	struct creq *r = arg;
	return r->status != 0 || r->closed;
}

static void test_connect_tunnel_echo_and_refusal(void **state)
{
	(void)state;
	struct qp_world *w = world_new();
	assert_true(qp_run(w, ready, NULL));
	/* CONNECT carries only :method and :authority. */
	struct h3_request bad = {.method = "CONNECT", .scheme = "https", .authority = "x:1"};
	struct h3_stream *s;
	assert_int_equal(h3_submit_request(&T.cli.h, &bad, &s), -EINVAL);
	struct h3_request bad2 = {.method = "GET", .authority = "x:1"};
	assert_int_equal(h3_submit_request(&T.cli.h, &bad2, &s), -EINVAL);

	struct creq *r = request("CONNECT", "echo.test:443", UINT64_MAX, true);
	r->seed = 4242;
	r->expect = 0; /* checked against the seed below */
	assert_true(qp_run(w, tunnel_answered, r));
	assert_int_equal(r->status, 200);
	/* Tunnel bytes go up and come back byte for byte; FIN up, FIN back. */
	uint8_t buf[100000];
	payload_fill(4242, 0, buf, sizeof buf);
	assert_int_equal(h3_stream_write(&T.cli.h, r->s, buf, sizeof buf), (long)sizeof buf);
	assert_int_equal(h3_stream_end(&T.cli.h, r->s), 0);
	assert_true(qp_run(w, all_closed, NULL));
	assert_false(r->bad);
	assert_int_equal(r->received, sizeof buf);
	assert_true(r->end);
	assert_false(r->has_code);
	assert_true(T.srv.r[0].ended);

	/* The proxy's TCP connect fails: the stream is reset with H3_CONNECT_ERROR. */
	struct creq *r2 = request("CONNECT", "refuse.test:443", UINT64_MAX, true);
	assert_true(qp_run(w, all_closed, NULL));
	assert_true(r2->reset);
	assert_int_equal(r2->code, H3_CONNECT_ERROR);
	assert_int_equal(r2->status, 0);
	assert_string_equal(h3_error_name(r2->code), "H3_CONNECT_ERROR");
	world_free(w);
}

static void test_reset_mid_body(void **state)
{
	(void)state;
	struct qp_world *w = world_new();
	assert_true(qp_run(w, ready, NULL));
	struct creq *r = request("GET", "/reset/500000", 500000, false);
	assert_true(qp_run(w, all_closed, NULL));
	assert_int_equal(r->status, 200);
	assert_true(r->reset);
	assert_int_equal(r->code, H3_INTERNAL_ERROR);
	assert_false(r->end);
	assert_false(r->bad);
	assert_true(r->received >= 250000 && r->received <= 500000);
	/* The server's ledger: the reset it sent, and what was acknowledged before it. */
	assert_true(T.srv.r[0].reset_sent);
	assert_string_equal(h3_error_name(H3_INTERNAL_ERROR), "H3_INTERNAL_ERROR");
	world_free(w);
}

static void test_too_many_fields_fail_the_stream(void **state)
{
	(void)state;
	struct qp_world *w = world_new();
	assert_true(qp_run(w, ready, NULL));
	/* 30 fields of 200 bytes fit the 8 KiB arena; 50 do not. */
	struct creq *ok = request("GET", "/fields/30", 0, false);
	struct creq *r = request("GET", "/fields/50", 0, false);
	assert_true(qp_run(w, all_closed, NULL));
	assert_int_equal(ok->status, 200);
	assert_int_equal(ok->nfields, 30);
	assert_true(ok->end);
	assert_true(r->error);
	assert_int_equal(r->code, H3_EXCESSIVE_LOAD);
	assert_int_equal(r->status, 0); /* no RESPONSE event for it */
	assert_int_equal(T.cli.h.stats.streams_failed, 1);
	world_free(w);
}

static void test_error_names(void **state)
{
	(void)state;
	assert_string_equal(h3_error_name(H3_NO_ERROR), "H3_NO_ERROR");
	assert_string_equal(h3_error_name(H3_REQUEST_CANCELLED), "H3_REQUEST_CANCELLED");
	assert_string_equal(h3_error_name(H3_VERSION_FALLBACK), "H3_VERSION_FALLBACK");
	assert_string_equal(h3_error_name(0x200), "QPACK_DECOMPRESSION_FAILED");
	assert_string_equal(h3_error_name(0x111), "unknown");
	assert_string_equal(h3_error_name(0), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_names),
		cmocka_unit_test(test_get_body_byte_exact),
		cmocka_unit_test(test_many_requests_one_connection),
		cmocka_unit_test(test_post_body_and_trailers),
		cmocka_unit_test(test_connect_tunnel_echo_and_refusal),
		cmocka_unit_test(test_reset_mid_body),
		cmocka_unit_test(test_too_many_fields_fail_the_stream),
	};
	return cmocka_run_group_tests(tests, qp_group_setup, qp_group_teardown);
}
