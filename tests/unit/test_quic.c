/* Unit tests for lib/quic: a client and a server connection exchange datagrams in
 * memory (no sockets) on a fake clock that jumps to the next expiry whenever neither
 * side has anything to send. Certificates come from tests/helpers/quic_certs.sh (the
 * openssl CLI). Every run loop is bounded in rounds; payloads are lib/payload streams,
 * so every byte is checked at its offset. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/payload.h"
#include "lib/quic.h"
#include "tests/helpers/quic_pair.h"

#define MAX_XFERS 512


static const char *cert(const char *name)
{
	return qp_path(qp_certdir, name);
}

/* ---- one transfer per stream: what each side sends and what it got ---- */

struct xfer {
	struct quic_stream *s;
	int64_t id;
	uint64_t to_send, written;
	uint64_t received;
	bool fin_in, fin_acked, closed, bad, reset_in, stopped, conn_closed;
	uint64_t reset_code;
	bool close_has_code;
	uint64_t close_code;
	struct quic_stream_stats final;  /* stats as of STREAM_CLOSED */
};

/* What one side's application saw and does. */
struct app {
	struct quic_conn *c;
	bool handshake_done, closed, streams_available;
	struct quic_close close;
	uint64_t reply_len;             /* server: bytes to send back on every stream */
	enum quic_credit credit_for_peer_streams;
	struct xfer x[MAX_XFERS];
	size_t nx;
	uint64_t cid_new, cid_retired;
};

/* The test under way: the wire and both applications. */
static struct {
	struct qp_world *w;
	struct app cli, srv;
} T;

static uint64_t seed_of(const struct app *a, int64_t id)
{
	/* Each direction of each stream has its own payload. */
	return (a->c->server ? 2000u : 1000u) + (uint64_t)id;
}

static struct xfer *xfer_new(struct app *a, struct quic_stream *s, uint64_t to_send)
{
	assert_true(a->nx < MAX_XFERS);
	struct xfer *x = &a->x[a->nx++];
	memset(x, 0, sizeof *x);
	x->s = s;
	x->id = s->id;
	x->to_send = to_send;
	s->user = x;
	return x;
}

/* Writes as much of x's payload as the stream takes, FIN with the last byte. */
static void pump(struct app *a, struct xfer *x)
{
	uint8_t buf[16384];
	while (x->s && x->written < x->to_send) {
		size_t n = sizeof buf;
		if (n > x->to_send - x->written)
			n = (size_t)(x->to_send - x->written);
		payload_fill(seed_of(a, x->id), x->written, buf, n);
		long w = quic_stream_write(a->c, x->s, buf, n, x->written + n == x->to_send);
		if (w <= 0)
			return;
		x->written += (uint64_t)w;
	}
	if (x->s && x->to_send == 0 && !x->s->fin_wanted)
		quic_stream_finish(a->c, x->s);
}

static void on_event(struct quic_conn *c, const struct quic_event *ev, void *arg)
{
	struct app *a = arg;
	struct xfer *x = ev->stream ? ev->stream->user : NULL;
	a->c = c;
	switch (ev->type) {
	case QUIC_EV_HANDSHAKE_DONE:
		a->handshake_done = true;
		break;
	case QUIC_EV_STREAMS_AVAILABLE:
		a->streams_available = true;
		break;
	case QUIC_EV_STREAM_OPEN:
		x = xfer_new(a, ev->stream, a->reply_len);
		quic_stream_set_credit(ev->stream, a->credit_for_peer_streams);
		pump(a, x);
		break;
	case QUIC_EV_STREAM_DATA: {
		/* The peer's payload for this stream, checked at its offset. */
		uint64_t seed = (c->server ? 1000u : 2000u) + (uint64_t)x->id;
		if (payload_verify(seed, ev->offset, ev->data, ev->len) != -1 ||
		    ev->offset != x->received)
			x->bad = true;
		x->received += ev->len;
		break;
	}
	case QUIC_EV_STREAM_FIN:
		x->fin_in = true;
		if (ev->offset != x->received)
			x->bad = true;
		break;
	case QUIC_EV_STREAM_RESET:
		x->reset_in = true;
		x->reset_code = ev->code;
		break;
	case QUIC_EV_STREAM_STOPPED:
		x->stopped = true;
		break;
	case QUIC_EV_STREAM_ACKED:
		if (ev->fin)
			x->fin_acked = true;
		break;
	case QUIC_EV_STREAM_WRITABLE:
		pump(a, x);
		break;
	case QUIC_EV_STREAM_CLOSED:
		if (x) {
			x->closed = true;
			x->close_has_code = ev->has_code;
			x->close_code = ev->code;
			x->conn_closed = ev->conn_closed;
			x->final = ev->stream->stats;
			x->s = NULL;
		}
		break;
	case QUIC_EV_CID_NEW:
		a->cid_new++;
		break;
	case QUIC_EV_CID_RETIRED:
		a->cid_retired++;
		break;
	case QUIC_EV_CLOSED:
		a->closed = true;
		a->close = *ev->close;
		break;
	}
}

struct setup {
	const char *cafile;
	const char *const *alpn;
	size_t nalpn;
	const char *sni;
	const char *keylog;
	struct quic_params cparams, sparams;
	quic_sni_cb sni_cb;
	bool default_other;
};

static struct qp_world *world_new(const struct setup *st)
{
	memset(&T, 0, sizeof T);
	struct qp_setup qs = {
		.certdir = qp_certdir, .cafile = st->cafile, .alpn = st->alpn, .nalpn = st->nalpn,
		.sni = st->sni, .keylog = st->keylog, .cparams = st->cparams,
		.sparams = st->sparams, .sni_cb = st->sni_cb,
		.default_other = st->default_other,
		.cli_cb = on_event, .cli_arg = &T.cli, .srv_cb = on_event, .srv_arg = &T.srv,
	};
	T.w = qp_world_new(&qs);
	T.cli.c = &T.w->cli.c;
	T.srv.c = &T.w->srv.c;
	return T.w;
}

static void world_free(struct qp_world *w)
{
	qp_world_free(w);
	T.w = NULL;
}

static bool run(struct qp_world *w, qp_done_fn done)
{
	return qp_run(w, done, NULL);
}

static void flush(struct qp_world *w, struct qp_peer *from, struct qp_peer *to)
{
	qp_flush(w, from, to);
}

static bool handshake_done(struct qp_world *w, void *arg)
{
	(void)arg;
	return T.cli.handshake_done && T.srv.handshake_done;
}

static bool any_closed(struct qp_world *w, void *arg)
{
	(void)arg;
	return T.cli.closed || T.srv.closed;
}

static bool both_closed(struct qp_world *w, void *arg)
{
	(void)arg;
	return T.cli.closed && T.srv.closed;
}

/* Client streams: n streams of out bytes each; the server answers reply bytes. */
static void open_streams(struct qp_world *w, size_t n, uint64_t out)
{
	for (size_t i = 0; i < n; i++) {
		struct quic_stream *s;
		assert_int_equal(quic_stream_open(&w->cli.c, true, NULL, &s), 0);
		pump(&T.cli, xfer_new(&T.cli, s, out));
	}
}

static bool xfers_done(struct app *sd, uint64_t want_in)
{
	if (sd->nx == 0)
		return false;
	for (size_t i = 0; i < sd->nx; i++) {
		const struct xfer *x = &sd->x[i];
		if (!x->closed || !x->fin_in || x->received != want_in)
			return false;
	}
	return true;
}

static uint64_t g_out, g_reply; /* the current transfer's sizes */

static bool transfer_done(struct qp_world *w, void *arg)
{
	(void)arg;
	return xfers_done(&T.cli, g_reply) && xfers_done(&T.srv, g_out);
}

static void check_xfers(struct app *sd, uint64_t sent, uint64_t got)
{
	for (size_t i = 0; i < sd->nx; i++) {
		const struct xfer *x = &sd->x[i];
		assert_false(x->bad);
		assert_int_equal(x->received, got);
		assert_true(x->fin_in);
		assert_false(x->close_has_code);
		assert_int_equal(x->final.bytes_sent, sent);
		assert_int_equal(x->final.bytes_acked, sent);
		assert_int_equal(x->final.bytes_received, got);
		assert_true(x->final.fin_sent);
		assert_true(x->final.fin_acked);
		assert_true(x->final.fin_received);
		assert_false(x->final.reset_sent);
		assert_false(x->final.reset_received);
	}
}

/* ---- tests ---- */

static void test_handshake_alpn_keylog(void **state)
{
	(void)state;
	char keylog[300];
	snprintf(keylog, sizeof keylog, "%s/keylog.txt", qp_certdir);
	unlink(keylog);
	struct setup st = {.keylog = keylog};
	struct qp_world *w = world_new(&st);
	assert_int_equal(w->cli.c.state, QUIC_ST_HANDSHAKE);
	assert_true(run(w, handshake_done));
	assert_string_equal(w->cli.c.alpn, "h3");
	assert_string_equal(w->srv.c.alpn, "h3");
	assert_int_equal(w->cli.c.state, QUIC_ST_OPEN);
	assert_int_equal(w->srv.c.state, QUIC_ST_OPEN);
	assert_true(T.cli.streams_available);
	assert_true(w->cli.c.stats.datagrams_sent > 0 && w->srv.c.stats.datagrams_received > 0);

	/* The server knows every connection ID it handed out, its own first one included. */
	uint8_t cids[8][QUIC_MAX_CIDLEN];
	size_t lens[8];
	size_t n = quic_conn_cids(&w->srv.c, cids, lens, 8);
	assert_true(n >= 2);
	bool found = false;
	for (size_t i = 0; i < n; i++)
		found |= lens[i] == QUIC_CID_LEN && memcmp(cids[i], w->srv.c.scid, QUIC_CID_LEN) == 0;
	assert_true(found);
	assert_true(T.srv.cid_new > 0);
	world_free(w);

	/* NSS key log: one line per secret, the label, 32 bytes of client random, the secret. */
	FILE *f = fopen(keylog, "r");
	assert_non_null(f);
	char line[512];
	int lines = 0, traffic0 = 0;
	while (fgets(line, sizeof line, f)) {
		char label[64], rnd[80], sec[160];
		assert_int_equal(sscanf(line, "%63s %79s %159s", label, rnd, sec), 3);
		assert_int_equal(strlen(rnd), 64);
		traffic0 += strcmp(label, "CLIENT_TRAFFIC_SECRET_0") == 0;
		lines++;
	}
	fclose(f);
	assert_true(lines >= 4);
	assert_int_equal(traffic0, 1);

	/* The same listener serves a client that offers only socks5. */
	static const char *const alpn_socks[] = {"socks5"};
	struct setup st2 = {.alpn = alpn_socks, .nalpn = 1};
	w = world_new(&st2);
	assert_true(run(w, handshake_done));
	assert_string_equal(w->srv.c.alpn, "socks5");
	world_free(w);
}

static void transfer(struct qp_world *w, size_t streams, uint64_t out, uint64_t reply)
{
	g_out = out;
	g_reply = reply;
	T.srv.reply_len = reply;
	assert_true(run(w, handshake_done));
	open_streams(w, streams, out);
	assert_true(run(w, transfer_done));
	check_xfers(&T.cli, out, reply);
	check_xfers(&T.srv, reply, out);
	assert_int_equal(T.cli.nx, streams);
	assert_int_equal(T.srv.nx, streams);
}

static void test_one_mib_both_ways(void **state)
{
	(void)state;
	struct setup st = {0};
	struct qp_world *w = world_new(&st);
	transfer(w, 1, 1u << 20, 1u << 20);
	assert_int_equal(w->cli.c.stats.stream_bytes_sent, 1u << 20);
	assert_int_equal(w->cli.c.stats.stream_bytes_acked, 1u << 20);
	assert_int_equal(w->srv.c.stats.stream_bytes_received, 1u << 20);
	world_free(w);
}

static bool streams_available(struct qp_world *w, void *arg)
{
	(void)arg;
	return T.cli.streams_available;
}

static void test_many_streams(void **state)
{
	(void)state;
	/* More streams than the server allows at once: STREAMS_AVAILABLE as they close. */
	struct setup st = {.sparams = {.max_streams_bidi = 16}};
	struct qp_world *w = world_new(&st);
	g_out = 3000;
	g_reply = 20000;
	T.srv.reply_len = g_reply;
	assert_true(run(w, handshake_done));
	size_t opened = 0, waits = 0;
	while (opened < 300) {
		struct quic_stream *s;
		int rv = quic_stream_open(&w->cli.c, true, NULL, &s);
		if (rv == -EAGAIN) {
			/* At most 16 open: wait until closed ones let more in. */
			assert_true(opened >= 16);
			T.cli.streams_available = false;
			assert_true(run(w, streams_available));
			waits++;
			continue;
		}
		assert_int_equal(rv, 0);
		assert_ptr_equal(quic_stream_find(&w->cli.c, s->id), s);
		pump(&T.cli, xfer_new(&T.cli, s, g_out));
		opened++;
	}
	assert_true(waits >= 300 / 16 - 1);
	assert_int_equal(opened, 300);
	assert_true(run(w, transfer_done));
	check_xfers(&T.cli, g_out, g_reply);
	check_xfers(&T.srv, g_reply, g_out);
	assert_int_equal(w->srv.c.stats.streams_opened_peer, 300);
	/* Closed streams are gone from the id map (the map shrank back to nothing). */
	for (size_t i = 0; i < T.cli.nx; i++) {
		assert_null(quic_stream_find(&w->cli.c, T.cli.x[i].id));
		assert_null(quic_stream_find(&w->srv.c, T.srv.x[i].id));
	}
	world_free(w);
}

static void test_loss_still_delivers_every_byte(void **state)
{
	(void)state;
	struct setup st = {0};
	struct qp_world *w = world_new(&st);
	w->cli.drop_every = 7;
	w->srv.drop_every = 5;
	transfer(w, 3, 300000, 1u << 20);
	assert_true(w->srv.arrived > 0);
	world_free(w);
}

static bool reset_seen(struct qp_world *w, void *arg)
{
	(void)arg;
	return T.srv.nx == 2 && T.srv.x[0].reset_in && T.cli.x[0].reset_in &&
	       T.cli.x[1].stopped;
}

static bool all_streams_closed(struct qp_world *w, void *arg)
{
	(void)arg;
	for (size_t i = 0; i < T.cli.nx; i++)
		if (!T.cli.x[i].closed)
			return false;
	for (size_t i = 0; i < T.srv.nx; i++)
		if (!T.srv.x[i].closed)
			return false;
	return true;
}

static void test_reset_delivers_code(void **state)
{
	(void)state;
	struct setup st = {0};
	struct qp_world *w = world_new(&st);
	T.srv.reply_len = 1u << 20;
	assert_true(run(w, handshake_done));
	/* Stream 0: the client writes a little and resets with H3_REQUEST_CANCELLED. */
	open_streams(w, 2, 5u << 20);
	struct quic_stream *s0 = T.cli.x[0].s;
	flush(w, &w->cli, &w->srv);
	assert_int_equal(quic_stream_shutdown_write(&w->cli.c, s0, 0x10c), 0);
	assert_int_equal(quic_stream_write(&w->cli.c, s0, "x", 1, false), -EPIPE);
	assert_int_equal(quic_stream_shutdown_write(&w->cli.c, s0, 0x10c), -EPIPE);
	flush(w, &w->cli, &w->srv);
	assert_int_equal(T.srv.nx, 2);
	/* The server resets its direction of stream 0 with H3_INTERNAL_ERROR, and asks the
	 * client to stop sending on stream 1 with H3_REQUEST_REJECTED. */
	assert_int_equal(quic_stream_shutdown_write(&w->srv.c, T.srv.x[0].s, 0x102), 0);
	assert_int_equal(quic_stream_shutdown_read(&w->srv.c, T.srv.x[1].s, 0x10b), 0);
	assert_true(run(w, reset_seen));
	assert_int_equal(T.srv.x[0].reset_code, 0x10c);
	assert_int_equal(T.cli.x[0].reset_code, 0x102);
	/* Stream 1's code arrives with its close: ngtcp2 0.12 has no STOP_SENDING callback. */
	assert_true(run(w, all_streams_closed));
	assert_true(T.cli.x[0].closed);
	assert_true(T.cli.x[0].close_has_code);
	assert_true(T.cli.x[0].final.reset_sent);
	assert_int_equal(T.cli.x[0].final.reset_code_sent, 0x10c);
	assert_true(T.cli.x[0].final.reset_received);
	assert_int_equal(T.cli.x[0].final.reset_code_received, 0x102);
	assert_true(T.cli.x[1].closed);
	assert_int_equal(T.cli.x[1].close_code, 0x10b);
	assert_true(T.cli.x[1].final.stop_sending_received);
	assert_int_equal(T.cli.x[1].final.stop_sending_code_received, 0x10b);
	assert_true(T.cli.x[1].final.bytes_sent < 5u << 20);
	assert_true(w->srv.c.stats.resets_received >= 1);
	assert_true(T.srv.x[1].final.stop_sending_sent);
	world_free(w);
}

static void test_idle_timeout_reports(void **state)
{
	(void)state;
	struct setup st = {.cparams = {.idle_timeout_us = 2000000},
			   .sparams = {.idle_timeout_us = 2000000}};
	struct qp_world *w = world_new(&st);
	assert_true(run(w, handshake_done));
	open_streams(w, 1, 100000);
	uint64_t t0 = w->now;
	w->srv.deaf = true; /* the server's host vanishes */
	w->cli.deaf = true;
	assert_true(run(w, both_closed));
	/* The open stream ended with the connection: one STREAM_CLOSED, after CLOSED. */
	assert_true(T.cli.x[0].closed);
	assert_true(T.cli.x[0].conn_closed);
	assert_false(T.cli.x[0].close_has_code);
	assert_int_equal(T.cli.x[0].final.bytes_acked, 0);
	assert_int_equal(T.cli.close.reason, QUIC_CLOSE_IDLE);
	assert_false(T.cli.close.by_peer);
	assert_int_equal(w->cli.c.state, QUIC_ST_CLOSED);
	assert_true(w->now - t0 >= 2000000);
	assert_true(w->now - t0 < 10000000);
	assert_string_equal(quic_close_reason_name(T.cli.close.reason), "idle_timeout");
	world_free(w);
}

static void test_handshake_timeout(void **state)
{
	(void)state;
	struct setup st = {.cparams = {.handshake_timeout_us = 3000000}};
	struct qp_world *w = world_new(&st);
	w->srv.deaf = true; /* nothing answers the Initial */
	assert_true(run(w, any_closed));
	assert_int_equal(T.cli.close.reason, QUIC_CLOSE_HANDSHAKE_TIMEOUT);
	assert_false(w->srv.up);
	world_free(w);
}

static void test_wrong_ca_fails_with_alert(void **state)
{
	(void)state;
	struct setup st = {.cafile = cert("b/ca.pem")};
	struct qp_world *w = world_new(&st);
	assert_true(run(w, both_closed));
	assert_false(T.cli.handshake_done);
	assert_int_equal(T.cli.close.reason, QUIC_CLOSE_TLS);
	assert_false(T.cli.close.by_peer);
	assert_true(T.cli.close.tls_alert != 0);
	assert_string_equal(T.cli.close.detail,
			    "The certificate is NOT trusted. The certificate issuer is unknown.");
	/* The server hears the same alert in the client's CONNECTION_CLOSE (0x100 + alert). */
	assert_int_equal(T.srv.close.reason, QUIC_CLOSE_TLS);
	assert_true(T.srv.close.by_peer);
	assert_int_equal(T.srv.close.tls_alert, T.cli.close.tls_alert);
	assert_int_equal(T.srv.close.code, 0x100u + T.cli.close.tls_alert);
	assert_string_equal(quic_transport_error_name(T.srv.close.code), "CRYPTO_ERROR");
	assert_non_null(quic_alert_name(T.cli.close.tls_alert));
	world_free(w);
}

static void test_alpn_mismatch(void **state)
{
	(void)state;
	static const char *const alpn_other[] = {"hq-interop"};
	struct setup st = {.alpn = alpn_other, .nalpn = 1};
	struct qp_world *w = world_new(&st);
	assert_true(run(w, any_closed));
	assert_int_equal(T.cli.close.reason, QUIC_CLOSE_TLS);
	assert_int_equal(T.cli.close.tls_alert, 120); /* no_application_protocol */
	assert_string_equal(quic_alert_name(120), "no application protocol");
	world_free(w);
}

static char sni_seen[64];

static const struct quic_cred *pick_trusted(void *arg, const char *name)
{
	struct qp_world *w = arg;
	snprintf(sni_seen, sizeof sni_seen, "%s", name ? name : "(none)");
	return name && strcmp(name, "localhost") == 0 ? &w->cred : NULL;
}

static void test_sni_picks_certificate(void **state)
{
	(void)state;
	/* The default certificate is from a CA the client does not trust... */
	struct setup st = {.default_other = true};
	struct qp_world *w = world_new(&st);
	assert_true(run(w, any_closed));
	assert_int_equal(T.cli.close.reason, QUIC_CLOSE_TLS);
	world_free(w);

	/* ...the SNI callback presents the right one for the name asked for. */
	st.sni_cb = pick_trusted;
	w = world_new(&st);
	assert_true(run(w, handshake_done));
	assert_string_equal(sni_seen, "localhost");
	world_free(w);

	/* An IP literal is not sent as SNI: the callback sees no name, the default stays. */
	st.sni = "127.0.0.1";
	w = world_new(&st);
	assert_true(run(w, any_closed));
	assert_string_equal(sni_seen, "(none)");
	world_free(w);
}

static bool stalled(struct qp_world *w, void *arg)
{
	(void)arg;
	return T.cli.nx == 2 && T.cli.x[0].s && T.cli.x[0].s->stats.credit_stalls > 0 &&
	       T.srv.nx == 2 && T.srv.x[1].received == 200000;
}

static void test_credit_none_starves_one_stream(void **state)
{
	(void)state;
	struct setup st = {.sparams = {.max_stream_data = 65536}};
	struct qp_world *w = world_new(&st);
	assert_true(run(w, handshake_done));
	T.srv.credit_for_peer_streams = QUIC_CREDIT_NONE;
	open_streams(w, 1, 1u << 20);
	flush(w, &w->cli, &w->srv);
	assert_int_equal(T.srv.nx, 1);
	/* The second stream opens later, with credit as usual. */
	T.srv.credit_for_peer_streams = QUIC_CREDIT_AUTO;
	open_streams(w, 1, 200000);
	assert_true(run(w, stalled));
	/* Stream 0 stays at its initial window however long we wait. */
	qp_idle(w, 50, 100000);
	assert_int_equal(T.srv.x[0].received, 65536);
	assert_int_equal(T.cli.x[0].s->stats.bytes_acked, 65536);
	assert_true(w->cli.c.stats.credit_stalls > 0);
	/* Manual credit: the window moves only as the server consumes. ngtcp2 sends
	 * MAX_STREAM_DATA once the pending increase is half the window or more. */
	quic_stream_set_credit(T.srv.x[0].s, QUIC_CREDIT_MANUAL);
	quic_stream_consume(&w->srv.c, T.srv.x[0].s, 40000);
	qp_idle(w, 50, 100000);
	assert_int_equal(T.srv.x[0].received, 65536 + 40000);
	assert_int_equal(T.srv.x[0].s->stats.bytes_consumed, 40000);
	world_free(w);
}

static void test_close_with_app_code(void **state)
{
	(void)state;
	struct setup st = {0};
	struct qp_world *w = world_new(&st);
	assert_true(run(w, handshake_done));
	quic_conn_close(&w->cli.c, true, 0x10c, "bye now");
	assert_int_equal(w->cli.c.state, QUIC_ST_CLOSING);
	struct quic_stream *s;
	assert_int_equal(quic_stream_open(&w->cli.c, true, NULL, &s), -ENOTCONN);
	assert_true(run(w, both_closed));
	assert_int_equal(T.cli.close.reason, QUIC_CLOSE_LOCAL);
	assert_int_equal(T.srv.close.reason, QUIC_CLOSE_PEER);
	assert_true(T.srv.close.by_peer);
	assert_true(T.srv.close.app);
	assert_int_equal(T.srv.close.code, 0x10c);
	assert_string_equal(T.srv.close.detail, "bye now");
	assert_int_equal(w->srv.c.state, QUIC_ST_DRAINING);
	/* Both periods end; the fake clock runs to them. */
	assert_true(run(w, any_closed));
	for (int i = 0; i < 10 && (w->cli.c.state != QUIC_ST_CLOSED || w->srv.c.state != QUIC_ST_CLOSED); i++) {
		uint64_t e = quic_conn_expiry(&w->cli.c), es = quic_conn_expiry(&w->srv.c);
		w->now = (e < es ? es : e) == UINT64_MAX ? w->now : (e < es ? es : e);
		quic_conn_handle_expiry(&w->cli.c, w->now);
		quic_conn_handle_expiry(&w->srv.c, w->now);
	}
	assert_int_equal(w->cli.c.state, QUIC_ST_CLOSED);
	assert_int_equal(w->srv.c.state, QUIC_ST_CLOSED);
	assert_int_equal(quic_conn_expiry(&w->cli.c), UINT64_MAX);
	world_free(w);
}

static void test_sbuf_chunks_and_caps(void **state)
{
	(void)state;
	struct quic_chunk_pool pool;
	quic_chunk_pool_init(&pool, 3 * QUIC_CHUNK_SIZE);
	struct quic_sbuf a, b;
	quic_sbuf_init(&a, 2 * QUIC_CHUNK_SIZE + 100);
	quic_sbuf_init(&b, 10 * QUIC_CHUNK_SIZE);
	static uint8_t data[4 * QUIC_CHUNK_SIZE];
	payload_fill(7, 0, data, sizeof data);
	/* The stream cap stops a. */
	assert_int_equal(quic_sbuf_append(&a, &pool, data, sizeof data), 2 * QUIC_CHUNK_SIZE + 100);
	/* The pool (3 chunks, 3 taken) stops b. */
	assert_int_equal(quic_sbuf_append(&b, &pool, data, 10), 0);
	struct quic_vec v[8];
	assert_int_equal(quic_sbuf_peek(&a, v, 8), 3);
	assert_int_equal(v[0].len + v[1].len + v[2].len, 2 * QUIC_CHUNK_SIZE + 100);
	assert_memory_equal(v[2].base, data + 2 * QUIC_CHUNK_SIZE, 100);
	quic_sbuf_advance(&a, QUIC_CHUNK_SIZE + 5);
	assert_int_equal(quic_sbuf_peek(&a, v, 8), 2);
	assert_int_equal(v[0].len, QUIC_CHUNK_SIZE - 5);
	assert_memory_equal(v[0].base, data + QUIC_CHUNK_SIZE + 5, QUIC_CHUNK_SIZE - 5);
	/* Acknowledging past the first chunk returns it: b can take bytes again. */
	quic_sbuf_ack(&a, &pool, QUIC_CHUNK_SIZE + 5);
	assert_int_equal(pool.nfree, 1);
	assert_int_equal(quic_sbuf_append(&b, &pool, data, 10), 10);
	/* Acks beyond what was handed out are clamped. */
	quic_sbuf_ack(&a, &pool, 1u << 30);
	assert_int_equal(a.acked, QUIC_CHUNK_SIZE + 5);
	quic_sbuf_free(&a, &pool);
	quic_sbuf_free(&b, &pool);
	quic_sbuf_free(NULL, &pool);
	assert_int_equal(pool.nfree, pool.allocated);
	quic_chunk_pool_free(&pool);
	assert_int_equal(pool.allocated, 0);
}

static void test_cidmap(void **state)
{
	(void)state;
	struct quic_cidmap m;
	assert_int_equal(quic_cidmap_init(&m, 64), 0);
	uint8_t cid[QUIC_CID_LEN];
	int vals[200];
	for (int round = 0; round < 20; round++) {
		/* Fill to the cap, look every entry up, delete them: deleted slots pile up and
		 * the table rebuilds itself instead of filling with tombstones. */
		for (int i = 0; i < 64; i++) {
			memset(cid, 0, sizeof cid);
			cid[0] = (uint8_t)i;
			cid[1] = (uint8_t)round;
			assert_int_equal(quic_cidmap_put(&m, cid, sizeof cid, &vals[i]), 0);
		}
		cid[0] = 99;
		cid[1] = 99;
		assert_int_equal(quic_cidmap_put(&m, cid, sizeof cid, &vals[99]), -ENOSPC);
		for (int i = 0; i < 64; i++) {
			memset(cid, 0, sizeof cid);
			cid[0] = (uint8_t)i;
			cid[1] = (uint8_t)round;
			assert_ptr_equal(quic_cidmap_get(&m, cid, sizeof cid), &vals[i]);
			assert_null(quic_cidmap_get(&m, cid, 8)); /* same prefix, other length */
			quic_cidmap_del(&m, cid, sizeof cid);
			assert_null(quic_cidmap_get(&m, cid, sizeof cid));
		}
		assert_int_equal(m.len, 0);
	}
	assert_int_equal(quic_cidmap_put(&m, cid, 0, NULL), -EINVAL);
	assert_int_equal(quic_cidmap_put(&m, cid, QUIC_MAX_CIDLEN + 1, NULL), -EINVAL);
	quic_cidmap_free(&m);
	quic_cidmap_free(&m);
	quic_cidmap_free(NULL);
}

static void test_pkt_ids_and_version_negotiation(void **state)
{
	(void)state;
	struct setup st = {0};
	struct qp_world *w = world_new(&st);
	struct quic_tx tx = {.buf = w->txbuf, .cap = sizeof w->txbuf};
	assert_true(quic_conn_write(&w->cli.c, w->now, &tx) >= 1);
	struct quic_pkt_ids ids;
	assert_int_equal(quic_pkt_ids(tx.buf, tx.seg, &ids), 0);
	assert_true(ids.long_header);
	assert_int_equal(ids.version, 1);
	assert_int_equal(ids.dcidlen, QUIC_CID_LEN);
	assert_int_equal(ids.scidlen, QUIC_CID_LEN);
	assert_memory_equal(ids.scid, w->cli.c.scid, QUIC_CID_LEN);
	/* An unknown version asks for Version Negotiation. */
	uint8_t pkt[1300];
	memcpy(pkt, tx.buf, sizeof pkt);
	pkt[1] = 0x1a;
	pkt[2] = 0x2a;
	assert_int_equal(quic_pkt_ids(pkt, sizeof pkt, &ids), 1);
	uint8_t vn[256];
	long n = quic_write_version_negotiation(vn, sizeof vn, &ids);
	assert_true(n > 7);
	assert_int_equal(vn[1] | vn[2] | vn[3] | vn[4], 0); /* version 0 marks VN */
	assert_int_equal(quic_write_version_negotiation(vn, 8, &ids), -ENOSPC);
	assert_int_equal(quic_pkt_ids(pkt, 0, &ids), -EINVAL);
	/* A server refuses to start from a packet that is not an Initial. */
	struct quic_conn c;
	struct quic_conn_opts o = {.local = (struct sockaddr *)&w->srv.addr,
				   .local_len = sizeof w->srv.addr,
				   .remote = (struct sockaddr *)&w->cli.addr,
				   .remote_len = sizeof w->cli.addr};
	assert_int_equal(quic_conn_init_server(&c, &w->sctx, &o, pkt, 40, w->now), -EINVAL);
	quic_conn_free(&c);
	quic_conn_free(&c);
	quic_conn_free(NULL);
	world_free(w);
}

static void test_contexts_report_errors(void **state)
{
	(void)state;
	struct quic_client_ctx cc;
	const char *why = NULL;
	assert_int_equal(quic_client_ctx_init(&cc, "/nonexistent/ca.pem", false, NULL, &why), -EINVAL);
	assert_non_null(why);
	quic_client_ctx_free(&cc);
	struct quic_cred cr;
	why = NULL;
	assert_int_equal(quic_cred_init_pem(&cr, "junk", 4, "junk", 4, &why), -EINVAL);
	assert_non_null(why);
	quic_cred_free(&cr);
	quic_cred_free(NULL);
	struct quic_server_ctx sc;
	assert_int_equal(quic_server_ctx_init(&sc, &cr, qp_alpn_server, 2, qp_secret, NULL, &why), -EINVAL);
	quic_server_ctx_free(&sc);
	quic_server_ctx_free(NULL);
	quic_client_ctx_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sbuf_chunks_and_caps),
		cmocka_unit_test(test_cidmap),
		cmocka_unit_test(test_contexts_report_errors),
		cmocka_unit_test(test_handshake_alpn_keylog),
		cmocka_unit_test(test_pkt_ids_and_version_negotiation),
		cmocka_unit_test(test_one_mib_both_ways),
		cmocka_unit_test(test_many_streams),
		cmocka_unit_test(test_loss_still_delivers_every_byte),
		cmocka_unit_test(test_reset_delivers_code),
		cmocka_unit_test(test_idle_timeout_reports),
		cmocka_unit_test(test_handshake_timeout),
		cmocka_unit_test(test_wrong_ca_fails_with_alert),
		cmocka_unit_test(test_alpn_mismatch),
		cmocka_unit_test(test_sni_picks_certificate),
		cmocka_unit_test(test_credit_none_starves_one_stream),
		cmocka_unit_test(test_close_with_app_code),
	};
	return cmocka_run_group_tests(tests, qp_group_setup, qp_group_teardown);
}
