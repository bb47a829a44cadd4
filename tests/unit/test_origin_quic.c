/* The replay origin over HTTP/3.
 *
 * h3resp (sans-I/O): one line per case — the response respgen makes for a plan, as
 * HTTP/3 shapes it (status, fields, the body without its HTTP/1 framing), fed in pieces.
 *
 * The origin itself (origin_main in a forked child, --quic-listen on a free port): our
 * own lib/quic + lib/h3 client does what gtlsclient cannot — uploads with X-Tp-Seed
 * (verified, and a corrupted one answered 422), X-Probe-Id echoed and in the ledger,
 * HEAD, a CONNECT refused — on one connection, and reads the ledger the origin wrote.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <zlib.h>

#include "lib/h3.h"
#include "lib/payload.h"
#include "lib/quic.h"
#include "replay/h3resp.h"
#include "replay/origin.h"
#include "replay/sites.h"

/* ---------------------------------------------------------------- h3resp */

struct got {
	int status;
	bool body;
	char fields[2048];   /* "name: value\n"... */
	uint8_t data[1 << 20];
	size_t len;
	int rc;              /* 0, or the error that ended the body */
	unsigned gaps;
	bool cut_short;
};

/* Runs h3resp over plan, taking at most `take` bytes per peek (drip-like pieces). */
static void run_resp(const struct plan *plan, uint64_t seed, bool head_request, size_t take,
		     struct got *g)
{
	static struct h3resp r;
	static struct h3resp_head head;
	memset(g, 0, sizeof *g);
	assert_int_equal(h3resp_init(&r, plan, seed, "t-1-0", head_request, &head), 0);
	g->status = head.status;
	g->body = head.body;
	for (size_t i = 0; i < head.nfields; i++) {
		size_t n = strlen(g->fields);
		snprintf(g->fields + n, sizeof g->fields - n, "%s: %s\n", head.fields[i].name,
			 head.fields[i].value);
	}
	for (int guard = 0; guard < 1 << 20; guard++) {
		const uint8_t *d;
		uint32_t gap;
		long n = h3resp_peek(&r, &d, &gap);
		if (n == -EAGAIN) {
			g->gaps++;
			continue;
		}
		if (n <= 0) {
			g->rc = (int)n;
			break;
		}
		size_t k = (size_t)n < take ? (size_t)n : take;
		assert_true(g->len + k <= sizeof g->data);
		memcpy(g->data + g->len, d, k);
		g->len += k;
		h3resp_take(&r, k);
	}
	g->cut_short = r.cut_short;
	h3resp_free(&r);
}

static void plan_for(const char *target, struct plan *p)
{
	sites_plan(NULL, "GET", "", target, p);
}

static bool is_payload(const struct got *g, const char *target, size_t len)
{
	return g->len == len && payload_verify(payload_seed(target, strlen(target)), 0, g->data, len) == -1;
}

static void test_generated(void **state)
{
	(void)state;
	static struct got g;
	struct plan p;
	const char *t = "/bytes/70000";
	plan_for(t, &p);
	run_resp(&p, payload_seed(t, strlen(t)), false, SIZE_MAX, &g);
	assert_int_equal(g.status, 200);
	assert_true(g.body);
	assert_true(is_payload(&g, t, 70000));
	assert_non_null(strstr(g.fields, "content-length: 70000\n"));
	assert_non_null(strstr(g.fields, "x-tp-length: 70000\n"));
	assert_non_null(strstr(g.fields, "x-probe-id: t-1-0\n"));
	assert_null(strstr(g.fields, "connection"));

	/* Chunked: plain DATA, no chunk framing, no Transfer-Encoding; pieces of 7 bytes. */
	t = "/chunked/50000?chunk=333";
	plan_for(t, &p);
	run_resp(&p, payload_seed(t, strlen(t)), false, 7, &g);
	assert_true(is_payload(&g, t, 50000));
	assert_null(strstr(g.fields, "transfer-encoding"));
	assert_null(strstr(g.fields, "content-length"));

	/* Close-delimited: the body, ended by the end of the response. */
	t = "/close/3000";
	plan_for(t, &p);
	run_resp(&p, payload_seed(t, strlen(t)), false, SIZE_MAX, &g);
	assert_true(is_payload(&g, t, 3000));
	assert_false(g.cut_short);

	/* gzip stays gzip: inflating the DATA gives the payload. */
	t = "/gzip/40000";
	plan_for(t, &p);
	run_resp(&p, payload_seed(t, strlen(t)), false, SIZE_MAX, &g);
	assert_non_null(strstr(g.fields, "content-encoding: gzip\n"));
	static uint8_t plain[40000];
	z_stream z = {.next_in = g.data, .avail_in = (uInt)g.len, .next_out = plain, .avail_out = sizeof plain};
	assert_int_equal(inflateInit2(&z, 16 + MAX_WBITS), Z_OK);
	assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
	assert_int_equal(z.total_out, 40000);
	inflateEnd(&z);
	assert_int_equal(payload_verify(payload_seed(t, strlen(t)), 0, plain, 40000), -1);

	/* No body: 204, HEAD, a status page's own body. */
	plan_for("/status/204", &p);
	run_resp(&p, 1, false, SIZE_MAX, &g);
	assert_int_equal(g.status, 204);
	assert_false(g.body);
	assert_int_equal(g.len, 0);
	plan_for("/bytes/5000", &p);
	run_resp(&p, 1, true, SIZE_MAX, &g);
	assert_int_equal(g.status, 200);
	assert_false(g.body);
	assert_int_equal(g.len, 0);
	assert_non_null(strstr(g.fields, "content-length: 5000\n"));
	plan_for("/status/429", &p);
	run_resp(&p, 1, false, SIZE_MAX, &g);
	assert_int_equal(g.status, 429);
	assert_non_null(strstr(g.fields, "retry-after: 1\n"));
	assert_int_equal(g.len, 32);

	/* A site status HTTP/3 cannot carry (600-999) becomes 502. */
	memset(&p, 0, sizeof p);
	p.status = 999;
	p.size = 3;
	run_resp(&p, 1, false, SIZE_MAX, &g);
	assert_int_equal(g.status, 502);
}

/* A recorded response: raw HTTP/1 bytes. */
static void raw_plan(struct plan *p, const char *raw, size_t len)
{
	memset(p, 0, sizeof *p);
	p->status = 200;
	p->raw = (const uint8_t *)raw;
	p->raw_len = len;
}

static void test_recorded(void **state)
{
	(void)state;
	static struct got g;
	struct plan p;
	static const struct {
		const char *raw;
		int status, rc;
		const char *body;
		bool cut_short;
		const char *field; /* one field that must be there, or NULL */
		const char *why;
	} cases[] = {
		{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello", 200, 0, "hello", false,
		 "x-a: b\n", "length-framed"},
		{"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
		 "3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n",
		 201, 0, "abcde", false, NULL, "interim 1xx skipped, chunked with trailers decoded"},
		{"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end", 200, 0, "until the end", false,
		 NULL, "close-delimited"},
		{"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhalf", 200, 0, "half", true, NULL,
		 "a recording cut short ends short"},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXX", 200, -EPROTO, "abc", false,
		 NULL, "broken chunk framing: an error after the good bytes"},
		{"garbage", 502, 0, "", false, NULL, "a head that cannot be read: 502, no body"},
		{"HTTP/1.1 304 Not Modified\r\nETag: x\r\n\r\n", 304, 0, "", false, "etag: x\n",
		 "304 has no body"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		raw_plan(&p, cases[i].raw, strlen(cases[i].raw));
		static const size_t pieces[] = {1, SIZE_MAX}; /* byte by byte, and whole */
		for (size_t k = 0; k < 2; k++) {
			size_t take = pieces[k];
			run_resp(&p, 0, false, take, &g);
			print_message("case %zu (%s), pieces of %zu\n", i, cases[i].why, take);
			assert_int_equal(g.status, cases[i].status);
			assert_int_equal(g.rc, cases[i].rc);
			assert_int_equal(g.len, strlen(cases[i].body));
			assert_memory_equal(g.data, cases[i].body, g.len);
			assert_int_equal(g.cut_short, cases[i].cut_short);
			if (cases[i].field)
				assert_non_null(strstr(g.fields, cases[i].field));
			assert_null(strstr(g.fields, "transfer-encoding"));
			assert_null(strstr(g.fields, "connection"));
		}
	}
}

static void test_timed_replay(void **state)
{
	(void)state;
	static struct got g;
	struct plan p;
	static const char raw[] = "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nabcdef";
	static const struct rec_seg segs[] = {{38, 1000}, {3, 250000}, {3, 250000}};
	raw_plan(&p, raw, sizeof raw - 1);
	p.segs = segs;
	p.nsegs = 3;
	run_resp(&p, 0, false, SIZE_MAX, &g);
	assert_int_equal(g.len, 6);
	assert_memory_equal(g.data, "abcdef", 6);
	assert_int_equal(g.gaps, 3); /* each recorded gap is asked for once */
}

/* ---------------------------------------------------------------- the origin */

static uint64_t now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

struct req {
	const char *method, *path, *id, *seed;
	uint64_t upload;          /* body bytes to send (the seed's payload, or corrupted) */
	bool corrupt;
	/* results */
	struct h3_stream *s;
	uint64_t sent;
	int status;
	uint64_t received;
	bool end, reset, verified;
	char echo[64];
};

struct client {
	struct quic_conn q;
	struct h3_conn h;
	struct req *reqs;
	size_t n, done;
	bool closed;
};

static void send_body(struct client *c, struct req *r)
{
	uint8_t buf[8192];
	uint64_t seed = 0;
	for (size_t i = 0; i < 16; i++)
		seed = seed << 4 | (uint64_t)(r->seed[i] <= '9' ? r->seed[i] - '0' : r->seed[i] - 'a' + 10);
	while (r->sent < r->upload) {
		size_t n = r->upload - r->sent < sizeof buf ? (size_t)(r->upload - r->sent) : sizeof buf;
		payload_fill(seed, r->sent, buf, n);
		if (r->corrupt && r->sent == 0)
			buf[10] ^= 1;
		long w = h3_stream_write(&c->h, r->s, buf, n);
		if (w <= 0)
			return; /* H3_EV_WRITABLE comes back */
		r->sent += (uint64_t)w;
	}
	h3_stream_end(&c->h, r->s);
}

static void submit_all(struct client *c)
{
	for (size_t i = 0; i < c->n; i++) {
		struct req *r = &c->reqs[i];
		struct h3_header f[2];
		size_t nf = 0;
		if (r->id)
			f[nf++] = (struct h3_header){"x-probe-id", r->id};
		if (r->seed)
			f[nf++] = (struct h3_header){"x-tp-seed", r->seed};
		bool connect = strcmp(r->method, "CONNECT") == 0;
		struct h3_request hr = {.method = r->method, .scheme = connect ? NULL : "https",
					.authority = "localhost:443", .path = connect ? NULL : r->path,
					.fields = f, .nfields = nf, .body = r->upload > 0, .user = r};
		assert_int_equal(h3_submit_request(&c->h, &hr, &r->s), 0);
		r->s->user = r;
		if (r->upload)
			send_body(c, r);
	}
}

static void client_event(struct h3_conn *h, const struct h3_event *ev, void *arg)
{
	struct client *c = arg;
	struct req *r = ev->stream ? ev->stream->user : NULL;
	switch (ev->type) {
	case H3_EV_QUIC:
		if (ev->quic->type == QUIC_EV_HANDSHAKE_DONE)
			submit_all(c);
		else if (ev->quic->type == QUIC_EV_CLOSED)
			c->closed = true;
		break;
	case H3_EV_RESPONSE:
		r->status = ev->stream->status;
		for (size_t i = 0; i < ev->stream->nfields; i++)
			if (strcmp(ev->stream->fields[i].name, "x-probe-id") == 0)
				snprintf(r->echo, sizeof r->echo, "%s", ev->stream->fields[i].value);
		break;
	case H3_EV_DATA:
		if (r->received == 0)
			r->verified = true;
		if (payload_verify(payload_seed(r->path, strlen(r->path)), r->received, ev->data, ev->len) != -1)
			r->verified = false;
		r->received += ev->len;
		break;
	case H3_EV_WRITABLE:
		send_body(c, r);
		break;
	case H3_EV_END:
		r->end = true;
		break;
	case H3_EV_RESET:
	case H3_EV_ERROR:
		r->reset = true;
		break;
	case H3_EV_CLOSED:
		if (r)
			c->done++;
		break;
	default:
		break;
	}
}

/* Feeds c what the socket holds (at most max datagrams). */
static void receive(int fd, struct client *c, const struct sockaddr_in *remote, int max)
{
	static uint8_t pkt[65536];
	for (int k = 0; k < max; k++) {
		ssize_t r = recv(fd, pkt, sizeof pkt, 0);
		if (r <= 0)
			break;
		quic_conn_read(&c->q, (const struct sockaddr *)remote, sizeof *remote, pkt, (size_t)r, now_us());
	}
	if (now_us() >= quic_conn_expiry(&c->q))
		quic_conn_handle_expiry(&c->q, now_us());
}

static void pump(int fd, struct client *c)
{
	static uint8_t buf[64 * 1024];
	struct quic_tx tx = {.buf = buf, .cap = sizeof buf};
	for (int b = 0; b < 256 && quic_conn_write(&c->q, now_us(), &tx) > 0; b++)
		for (size_t off = 0; off < tx.len; off += tx.seg)
			(void)send(fd, tx.buf + off, tx.len - off < tx.seg ? tx.len - off : tx.seg, 0);
}

/* Runs the client's requests on one connection to 127.0.0.1:port, within 20 s. */
static void run_client(unsigned port, struct req *reqs, size_t n)
{
	struct sockaddr_in remote = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				     .sin_addr.s_addr = htonl(0x7f000001)};
	struct sockaddr_storage local;
	socklen_t llen = sizeof local;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&remote, sizeof remote), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&local, &llen), 0);
	static struct quic_client_ctx ctx;
	const char *why;
	assert_int_equal(quic_client_ctx_init(&ctx, NULL, true, NULL, &why), 0);
	static struct client c;
	memset(&c, 0, sizeof c);
	c.reqs = reqs;
	c.n = n;
	static const char *const alpn[] = {"h3"};
	struct quic_conn_opts o = {.local = (struct sockaddr *)&local, .local_len = llen,
				   .remote = (struct sockaddr *)&remote, .remote_len = sizeof remote,
				   .sni = "localhost", .alpn = alpn, .nalpn = 1};
	assert_int_equal(quic_conn_init_client(&c.q, &ctx, &o, now_us()), 0);
	struct h3_opts ho = {.cb = client_event, .arg = &c};
	assert_int_equal(h3_conn_init(&c.h, &c.q, &ho), 0);
	uint64_t deadline = now_us() + 20000000u;
	while (c.done < n && !c.closed && now_us() < deadline) {
		pump(fd, &c);
		uint64_t exp = quic_conn_expiry(&c.q), now = now_us();
		int ms = exp <= now ? 0 : exp - now > 100000 ? 100 : (int)((exp - now) / 1000) + 1;
		struct pollfd pf = {.fd = fd, .events = POLLIN};
		poll(&pf, 1, ms);
		receive(fd, &c, &remote, 256);
	}
	assert_int_equal(c.done, n);
	/* Let the last acknowledgements out, then close politely. */
	for (uint64_t until = now_us() + 100000; now_us() < until;) {
		pump(fd, &c);
		usleep(5000);
		receive(fd, &c, &remote, 64);
	}
	quic_conn_close(&c.q, true, H3_NO_ERROR, NULL);
	pump(fd, &c);
	h3_conn_free(&c.h);
	quic_conn_free(&c.q);
	quic_client_ctx_free(&ctx);
	close(fd);
}

/* origin_main in a child with stdout on a pipe; returns its pid and the QUIC port. */
static pid_t start_origin(const char *ledger, unsigned *port)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		char *argv[] = {"origin", "--quic-listen", "127.0.0.1:0", "--ledger", (char *)ledger, NULL};
		_exit(origin_main(5, argv));
	}
	close(p[1]);
	FILE *out = fdopen(p[0], "r");
	char line[256];
	*port = 0;
	while (!*port && fgets(line, sizeof line, out))
		if (strncmp(line, "listening quic 127.0.0.1:", 25) == 0)
			*port = (unsigned)atoi(line + 25);
	fclose(out);
	assert_true(*port > 0);
	return pid;
}

static json_t *ledger_line(json_t *lines, const char *key, const char *value)
{
	size_t i;
	json_t *v;
	json_array_foreach(lines, i, v)
	{
		const char *s = json_string_value(json_object_get(v, key));
		if (s && strcmp(s, value) == 0)
			return v;
	}
	return NULL;
}

static void test_origin(void **state)
{
	(void)state;
	char ledger[] = "/tmp/tp-origin-quic-XXXXXX";
	int lfd = mkstemp(ledger);
	assert_true(lfd >= 0);
	close(lfd);
	unsigned port;
	pid_t pid = start_origin(ledger, &port);
	static struct req reqs[] = {
		{.method = "POST", .path = "/sink", .id = "t-1-0", .seed = "0123456789abcdef", .upload = 200000},
		{.method = "POST", .path = "/sink", .id = "t-1-1", .seed = "0123456789abcdef", .upload = 50000,
		 .corrupt = true},
		{.method = "GET", .path = "/bytes/5000", .id = "t-1-2"},
		{.method = "HEAD", .path = "/bytes/5000", .id = "t-1-3"},
		{.method = "CONNECT", .path = "", .id = "t-1-4"},
	};
	run_client(port, reqs, sizeof reqs / sizeof reqs[0]);
	kill(pid, SIGTERM);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);

	assert_int_equal(reqs[0].status, 200);
	assert_int_equal(reqs[1].status, 422);
	assert_int_equal(reqs[2].status, 200);
	assert_true(reqs[2].end && reqs[2].verified && reqs[2].received == 5000);
	assert_string_equal(reqs[2].echo, "t-1-2");
	assert_int_equal(reqs[3].status, 200);
	assert_int_equal(reqs[3].received, 0);
	assert_int_equal(reqs[4].status, 400);

	json_t *lines = json_array();
	FILE *fp = fopen(ledger, "r");
	assert_non_null(fp);
	char buf[8192];
	while (fgets(buf, sizeof buf, fp))
		json_array_append_new(lines, json_loads(buf, 0, NULL));
	fclose(fp);
	unlink(ledger);
	json_t *up = ledger_line(lines, "id", "t-1-0"), *bad = ledger_line(lines, "id", "t-1-1");
	assert_non_null(up);
	assert_non_null(bad);
	json_t *u = json_object_get(up, "upload");
	assert_int_equal(json_integer_value(json_object_get(u, "bytes")), 200000);
	assert_true(json_is_true(json_object_get(u, "verified")));
	assert_true(json_is_false(json_object_get(json_object_get(bad, "upload"), "verified")));
	json_t *get = ledger_line(lines, "id", "t-1-2");
	assert_string_equal(json_string_value(json_object_get(get, "proto")), "h3");
	assert_string_equal(json_string_value(json_object_get(get, "end")), "fin");
	assert_true(json_is_true(json_object_get(get, "fin_acked")));
	assert_int_equal(json_integer_value(json_object_get(get, "body_acked")), 5000);
	assert_int_equal(json_integer_value(json_object_get(get, "bytes_acked_at_close")),
			 json_integer_value(json_object_get(get, "bytes_written")));
	assert_string_equal(json_string_value(json_object_get(ledger_line(lines, "id", "t-1-4"), "target")), "-");
	/* Every stream of the one connection, and the connection's own line. */
	size_t i, streams = 0, conns = 0;
	json_t *v;
	json_array_foreach(lines, i, v)
	{
		if (json_is_null(json_object_get(v, "stream")))
			conns++;
		else
			streams++;
	}
	assert_int_equal(streams, 5);
	assert_int_equal(conns, 1);
	json_decref(lines);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_generated),
		cmocka_unit_test(test_recorded),
		cmocka_unit_test(test_timed_replay),
		cmocka_unit_test(test_origin),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
