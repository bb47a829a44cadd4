/* Unit tests for lib/net over loopback: UDP sockets bound to free ports, batches
 * received and sent with an address per datagram, GSO entries sent by the kernel and
 * by the one-by-one fallback (the receiver must not see a difference), GRO buffers
 * split back into the datagrams that were sent, the checks made before sending, and
 * TCP_INFO's acknowledged bytes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/net.h"

/* A UDP socket on 127.0.0.1 (or ::1) at a free port, and that address. */
static void udp_open(struct net_udp *u, struct net_addr *where, const char *ip, unsigned flags)
{
	struct net_addr any;
	assert_int_equal(net_addr_from_ip(ip, 0, &any), 0);
	assert_int_equal(net_udp_bind(u, &any, flags), 0);
	assert_true(u->fd >= 0);
	assert_int_equal(net_local_addr(u->fd, where), 0);
	assert_int_not_equal(net_addr_port(where), 0);
}

/* Waits (bounded) until fd has a datagram to read. */
static void wait_readable(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	assert_int_equal(poll(&p, 1, 5000), 1);
}

/* Byte i of datagram k: every datagram distinct, so order and content both show. */
static unsigned char pattern(size_t k, size_t i) { return (unsigned char)(k * 37 + i * 7 + 1); }

static void fill(unsigned char *buf, size_t k, size_t len)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = pattern(k, i);
}

static bool matches(const unsigned char *buf, size_t k, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (buf[i] != pattern(k, i))
			return false;
	return true;
}

/* The datagrams received, split by segment where GRO coalesced them. */
struct received {
	size_t lens[256];
	unsigned char *data[256];
	size_t n;
	unsigned char store[1 << 20];
	size_t used;
	struct net_addr from;
};

/* Reads until want datagrams arrived (each read bounded by poll's timeout). */
static void receive(struct net_udp *u, struct received *got, size_t want)
{
	enum { N = 8, CAP = 65535 };
	static unsigned char bufs[N][CAP];
	memset(got, 0, sizeof *got);
	while (got->n < want) {
		wait_readable(u->fd);
		struct net_dgram d[N];
		for (int i = 0; i < N; i++)
			d[i] = (struct net_dgram){.buf = bufs[i], .cap = CAP};
		int r = net_udp_recv(u, d, N);
		assert_true(r >= 1);
		for (int i = 0; i < r; i++) {
			assert_false(d[i].truncated);
			got->from = d[i].addr;
			size_t seg = d[i].segment ? d[i].segment : d[i].len;
			for (size_t off = 0; off < d[i].len; off += seg) {
				size_t len = d[i].len - off < seg ? d[i].len - off : seg;
				assert_true(got->n < 256 && got->used + len <= sizeof got->store);
				got->data[got->n] = got->store + got->used;
				memcpy(got->data[got->n], bufs[i] + off, len);
				got->lens[got->n++] = len;
				got->used += len;
			}
		}
	}
}

static void test_bind_picks_a_free_port_and_reads_nothing_yet(void **state)
{
	(void)state;
	struct net_udp a, b;
	struct net_addr aa, ba;
	udp_open(&a, &aa, "127.0.0.1", 0);
	udp_open(&b, &ba, "127.0.0.1", 0);
	assert_int_not_equal(net_addr_port(&aa), net_addr_port(&ba));
	unsigned char buf[16];
	struct net_dgram d = {.buf = buf, .cap = sizeof buf};
	assert_int_equal(net_udp_recv(&a, &d, 1), -EAGAIN);
	/* The same address bound twice without NET_UDP_REUSEPORT is refused. */
	struct net_udp c;
	assert_int_equal(net_udp_bind(&c, &aa, 0), -EADDRINUSE);
	assert_int_equal(c.fd, -1);
	close(a.fd);
	close(b.fd);
}

static void test_reuseport_shares_a_port(void **state)
{
	(void)state;
	struct net_udp a, b;
	struct net_addr aa;
	udp_open(&a, &aa, "127.0.0.1", NET_UDP_REUSEPORT);
	assert_int_equal(net_udp_bind(&b, &aa, NET_UDP_REUSEPORT), 0);
	close(a.fd);
	close(b.fd);
}

/* One batch to two destinations: each receives its datagrams, in order, from the
 * sender's address. */
static void batch_to_two_peers(const char *ip)
{
	struct net_udp s, r1, r2;
	struct net_addr sa, a1, a2;
	udp_open(&s, &sa, ip, 0);
	udp_open(&r1, &a1, ip, 0);
	udp_open(&r2, &a2, ip, 0);
	enum { N = 10 };
	static unsigned char payload[N][1500];
	struct net_dgram out[N];
	for (size_t k = 0; k < N; k++) {
		size_t len = 1 + k * 131;
		fill(payload[k], k, len);
		out[k] = (struct net_dgram){.buf = payload[k], .len = len, .addr = k % 2 ? a2 : a1};
	}
	assert_int_equal(net_udp_send(&s, out, N), N);
	static struct received got;
	char want_from[NET_ADDRSTRLEN], from[NET_ADDRSTRLEN];
	net_addr_format(&sa, want_from);
	for (int peer = 0; peer < 2; peer++) {
		receive(peer ? &r2 : &r1, &got, N / 2);
		assert_int_equal(got.n, N / 2);
		for (size_t j = 0; j < got.n; j++) {
			size_t k = 2 * j + (size_t)peer;
			assert_int_equal(got.lens[j], 1 + k * 131);
			assert_true(matches(got.data[j], k, got.lens[j]));
		}
		assert_string_equal(net_addr_format(&got.from, from), want_from);
	}
	close(s.fd);
	close(r1.fd);
	close(r2.fd);
}

static void test_batch_send_and_receive_ipv4(void **state)
{
	(void)state;
	batch_to_two_peers("127.0.0.1");
}

static void test_batch_send_and_receive_ipv6(void **state)
{
	(void)state;
	struct net_addr probe;
	struct net_udp u;
	assert_int_equal(net_addr_from_ip("::1", 0, &probe), 0);
	if (net_udp_bind(&u, &probe, 0) == -EADDRNOTAVAIL)
		skip(); /* no ::1 on this host's loopback */
	close(u.fd);
	batch_to_two_peers("::1");
}

static void test_short_buffer_marks_truncation(void **state)
{
	(void)state;
	struct net_udp s, r;
	struct net_addr sa, ra;
	udp_open(&s, &sa, "127.0.0.1", 0);
	udp_open(&r, &ra, "127.0.0.1", 0);
	unsigned char big[300];
	fill(big, 3, sizeof big);
	struct net_dgram out = {.buf = big, .len = sizeof big, .addr = ra};
	assert_int_equal(net_udp_send(&s, &out, 1), 1);
	wait_readable(r.fd);
	unsigned char small[100];
	struct net_dgram in = {.buf = small, .cap = sizeof small};
	assert_int_equal(net_udp_recv(&r, &in, 1), 1);
	assert_true(in.truncated);
	assert_true(matches(small, 3, sizeof small));
	close(s.fd);
	close(r.fd);
}

/* A GSO entry of 11 datagrams (ten of 1200 bytes, one of 500) plus a plain one: the
 * receiver sees the same 12 datagrams whether the kernel segmented or we did. */
static void gso_send(bool use_kernel_gso, unsigned recv_flags)
{
	struct net_udp s, r;
	struct net_addr sa, ra;
	udp_open(&s, &sa, "127.0.0.1", 0);
	udp_open(&r, &ra, "127.0.0.1", recv_flags);
	if (!use_kernel_gso)
		s.gso = false;
	static unsigned char run[10 * 1200 + 500], single[700];
	for (size_t k = 0; k < 11; k++)
		fill(run + k * 1200, k, k < 10 ? 1200 : 500);
	fill(single, 11, sizeof single);
	struct net_dgram out[2] = {
		{.buf = run, .len = sizeof run, .segment = 1200, .addr = ra},
		{.buf = single, .len = sizeof single, .addr = ra},
	};
	assert_int_equal(net_udp_send(&s, out, 2), 2);
	assert_ptr_equal(out[0].buf, run); /* sent whole: the entry is untouched */
	static struct received got;
	receive(&r, &got, 12);
	assert_int_equal(got.n, 12);
	for (size_t k = 0; k < 12; k++) {
		size_t want = k < 10 ? 1200 : k == 10 ? 500 : 700;
		assert_int_equal(got.lens[k], want);
		assert_true(matches(got.data[k], k, want));
	}
	close(s.fd);
	close(r.fd);
}

static void test_gso_by_the_kernel(void **state)
{
	(void)state;
	struct net_udp u;
	struct net_addr a;
	udp_open(&u, &a, "127.0.0.1", NET_UDP_GRO);
	print_message("# UDP GSO in this kernel: %s; GRO: %s\n", u.gso ? "yes" : "no (fallback)",
		      u.gro ? "yes" : "no");
	close(u.fd);
	gso_send(true, 0);
}

static void test_gso_fallback_sends_the_same_datagrams(void **state)
{
	(void)state;
	gso_send(false, 0);
}

static void test_gro_buffers_split_back_into_datagrams(void **state)
{
	(void)state;
	gso_send(true, NET_UDP_GRO);
	gso_send(false, NET_UDP_GRO);
}

static void test_send_checks_entries_before_sending(void **state)
{
	(void)state;
	struct net_udp s, r;
	struct net_addr sa, ra;
	udp_open(&s, &sa, "127.0.0.1", 0);
	udp_open(&r, &ra, "127.0.0.1", 0);
	static unsigned char buf[NET_UDP_MAX_PAYLOAD + 1];
	struct net_dgram out[2] = {
		{.buf = buf, .len = 10, .addr = ra},
		{.buf = buf, .len = NET_UDP_MAX_PAYLOAD + 1, .addr = ra},
	};
	assert_int_equal(net_udp_send(&s, out, 2), -EMSGSIZE);
	/* 65 segments of 100 bytes: more than a GSO entry may hold. */
	out[1] = (struct net_dgram){.buf = buf, .len = 6401, .segment = 100, .addr = ra};
	assert_int_equal(net_udp_send(&s, out, 2), -EINVAL);
	/* Nothing went out, not even the good first entry. */
	unsigned char in[16];
	struct net_dgram d = {.buf = in, .cap = sizeof in};
	assert_int_equal(net_udp_recv(&r, &d, 1), -EAGAIN);
	close(s.fd);
	close(r.fd);
}

static void test_bytes_acked_counts_what_the_peer_acknowledged(void **state)
{
	(void)state;
	struct net_addr any, where, peer;
	assert_int_equal(net_addr_from_ip("127.0.0.1", 0, &any), 0);
	int lfd = net_listen(&any, 4, false);
	assert_true(lfd >= 0);
	assert_int_equal(net_local_addr(lfd, &where), 0);
	int cfd = net_connect(&where);
	assert_true(cfd >= 0);
	struct pollfd p = {.fd = lfd, .events = POLLIN};
	assert_int_equal(poll(&p, 1, 5000), 1);
	int afd = net_accept(lfd, &peer);
	assert_true(afd >= 0);
	p = (struct pollfd){.fd = cfd, .events = POLLOUT};
	assert_int_equal(poll(&p, 1, 5000), 1);
	assert_int_equal(net_connect_result(cfd), 0);
	char msg[1000];
	memset(msg, 'a', sizeof msg);
	assert_int_equal(net_write(cfd, msg, sizeof msg), (long)sizeof msg);
	/* On the connecting side the kernel counts the SYN as one acknowledged byte
	 * (net.h). The ACK of the data may be delayed: wait for it, boundedly (~5 s). */
	long long want = 1 + (long long)sizeof msg, acked = 0;
	for (int i = 0; i < 5000 && acked >= 0 && acked < want; i++) {
		acked = net_bytes_acked(cfd);
		if (acked >= 0 && acked < want)
			usleep(1000);
	}
#ifdef __linux__
	assert_int_equal(acked, want);
	assert_int_equal(net_bytes_acked(afd), 0); /* the accepting side: no SYN counted */
#else
	assert_int_equal(acked, -ENOTSUP);
#endif
	close(afd);
	close(cfd);
	close(lfd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bind_picks_a_free_port_and_reads_nothing_yet),
		cmocka_unit_test(test_reuseport_shares_a_port),
		cmocka_unit_test(test_batch_send_and_receive_ipv4),
		cmocka_unit_test(test_batch_send_and_receive_ipv6),
		cmocka_unit_test(test_short_buffer_marks_truncation),
		cmocka_unit_test(test_gso_by_the_kernel),
		cmocka_unit_test(test_gso_fallback_sends_the_same_datagrams),
		cmocka_unit_test(test_gro_buffers_split_back_into_datagrams),
		cmocka_unit_test(test_send_checks_entries_before_sending),
		cmocka_unit_test(test_bytes_acked_counts_what_the_peer_acknowledged),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
