/* Unit tests for lib/tls's client over a caller's byte stream (tls_conn_init_io: what a
 * tunnel on a QUIC stream uses): a handshake and bytes both ways against lib/tlsserv on
 * a socketpair, where the client's stream hands over at most a few bytes per call and
 * says -EAGAIN every other call; EOF, a reset, and a code of the caller's passing
 * through (io_err); and certificate verification failing as over a socket. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/tls.h"
#include "lib/tlsserv.h"

#define MY_CODE (-4200) /* as a caller's own classified failure (the probe's PF_ERR) */

/* The client's stream: the socket, dribbled (at most `chunk` bytes, -EAGAIN every
 * other call), or failing with `fail` once set. */
struct stream {
	int fd;
	size_t chunk;
	unsigned calls;
	long fail;
};

static long io_read(void *arg, void *buf, size_t len)
{
	struct stream *s = arg;
	if (s->fail)
		return s->fail;
	if (++s->calls % 2)
		return -EAGAIN;
	ssize_t n = read(s->fd, buf, len < s->chunk ? len : s->chunk);
	return n < 0 ? -errno : n;
}

static long io_write(void *arg, const void *buf, size_t len)
{
	struct stream *s = arg;
	if (s->fail)
		return s->fail;
	if (++s->calls % 2)
		return -EAGAIN;
	ssize_t n = write(s->fd, buf, len < s->chunk ? len : s->chunk);
	return n < 0 ? -errno : n;
}

static const struct tls_io io = {.read = io_read, .write = io_write};

struct pair {
	struct tlsserv ts;
	struct tls_client_ctx ctx;
	struct tls_conn client, server;
	struct stream s;
	int fds[2];
	char ca[64];
};

static void pair_open(struct pair *p, bool trust)
{
	const char *why = NULL;
	snprintf(p->ca, sizeof p->ca, "/tmp/tp-tls-io-%d.pem", (int)getpid());
	assert_int_equal(tlsserv_init(&p->ts, p->ca, &why), 0);
	assert_int_equal(tls_client_ctx_init(&p->ctx, trust ? p->ca : NULL, false, NULL, &why), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, p->fds), 0);
	for (int i = 0; i < 2; i++)
		fcntl(p->fds[i], F_SETFL, fcntl(p->fds[i], F_GETFL) | O_NONBLOCK);
	p->s = (struct stream){.fd = p->fds[0], .chunk = 7};
	assert_int_equal(tls_conn_init_io(&p->client, &p->ctx, &io, &p->s, "localhost", "localhost"), 0);
	assert_int_equal(tlsserv_conn_init(&p->ts, &p->server, p->fds[1]), 0);
}

static void pair_close(struct pair *p)
{
	tls_conn_free(&p->client);
	tls_conn_free(&p->server);
	close(p->fds[0]);
	close(p->fds[1]);
	tls_client_ctx_free(&p->ctx);
	tlsserv_free(&p->ts);
	unlink(p->ca);
}

/* Both handshakes, in turns (bounded). Returns the client's last result. */
static int handshake(struct pair *p)
{
	int c = -EAGAIN, s = -EAGAIN;
	for (int round = 0; round < 20000 && (c == -EAGAIN || s == -EAGAIN); round++) {
		if (c == -EAGAIN)
			c = tls_handshake(&p->client);
		if (s == -EAGAIN)
			s = tls_handshake(&p->server);
		if (c < 0 && c != -EAGAIN)
			break;
	}
	return c;
}

static void test_bytes_both_ways_over_a_dribbling_stream(void **state)
{
	(void)state;
	struct pair p;
	pair_open(&p, true);
	assert_int_equal(handshake(&p), 0);
	char msg[3000], got[3000];
	for (size_t i = 0; i < sizeof msg; i++)
		msg[i] = (char)('a' + i % 26);
	size_t sent = 0, recvd = 0;
	for (int round = 0; round < 200000 && recvd < sizeof msg; round++) {
		if (sent < sizeof msg) {
			long n = tls_write(&p.client, msg + sent, sizeof msg - sent);
			assert_true(n > 0 || n == -EAGAIN);
			if (n > 0)
				sent += (size_t)n;
		}
		long n = tls_read(&p.server, got + recvd, sizeof got - recvd);
		assert_true(n > 0 || n == -EAGAIN);
		if (n > 0)
			recvd += (size_t)n;
	}
	assert_int_equal(recvd, sizeof msg);
	assert_memory_equal(got, msg, sizeof msg);
	/* And back: the server's bytes read through the stream. */
	assert_int_equal(tls_write(&p.server, "pong", 4), 4);
	char back[8];
	long n = -EAGAIN;
	for (int round = 0; round < 1000 && n == -EAGAIN; round++)
		n = tls_read(&p.client, back, sizeof back);
	assert_int_equal(n, 4);
	assert_memory_equal(back, "pong", 4);
	assert_int_equal(p.client.io_err, 0);
	pair_close(&p);
}

static void test_stream_endings_pass_through(void **state)
{
	(void)state;
	static const struct {
		long fail;
		long want;
		int io_err;
	} cases[] = {
		{-ECONNRESET, -ECONNRESET, -ECONNRESET}, /* a reset stream */
		{MY_CODE, -ECONNRESET, MY_CODE},         /* the caller's own: kept in io_err */
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct pair p;
		pair_open(&p, true);
		assert_int_equal(handshake(&p), 0);
		p.s.fail = cases[i].fail;
		char buf[16];
		assert_int_equal(tls_read(&p.client, buf, sizeof buf), cases[i].want);
		assert_int_equal(p.client.io_err, cases[i].io_err);
		pair_close(&p);
	}
	/* EOF: the stream's 0 reads as a bare EOF, as a socket's FIN does. */
	struct pair p;
	pair_open(&p, true);
	assert_int_equal(handshake(&p), 0);
	shutdown(p.fds[1], SHUT_WR);
	char buf[16];
	long n = -EAGAIN;
	for (int round = 0; round < 100 && n == -EAGAIN; round++)
		n = tls_read(&p.client, buf, sizeof buf);
	assert_true(n == 0 || n == TLS_ERR_PROTOCOL); /* OpenSSL 3: "unexpected eof" */
	assert_false(p.client.close_notify);
	pair_close(&p);
}

static void test_untrusted_certificate_fails_verification(void **state)
{
	(void)state;
	struct pair p;
	pair_open(&p, false); /* the system store: our CA is not in it */
	assert_int_equal(handshake(&p), TLS_ERR_VERIFY);
	assert_non_null(strstr(p.client.detail, "certificate verify failed"));
	pair_close(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bytes_both_ways_over_a_dribbling_stream),
		cmocka_unit_test(test_stream_endings_pass_through),
		cmocka_unit_test(test_untrusted_certificate_fails_verification),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
