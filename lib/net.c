/* net — see net.h. The BSD-socket half, for every OS but Windows (net_win.c); the
 * address helpers both share are in net_addr.c. */
#ifndef _WIN32
#include "lib/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#ifdef __linux__
#include <linux/tcp.h> /* struct tcp_info with tcpi_bytes_acked (glibc's lacks it) */
#else
#include <netinet/tcp.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

int net_startup(void) { return 0; }

const char *net_strerror(int err) { return strerror(-err); }

int net_stream_socket(int family)
{
	int fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	return fd < 0 ? -errno : fd;
}

int net_connect(const struct net_addr *addr)
{
	int fd = socket(addr->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)&addr->ss, addr->len) < 0 && errno != EINPROGRESS) {
		int err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int net_connect_result(int fd)
{
	int soerr = 0;
	socklen_t len = sizeof soerr;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		return -errno;
	return -soerr;
}

int net_listen(const struct net_addr *addr, int backlog, bool reuseport)
{
	int fd = socket(addr->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (reuseport)
		setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
	if (bind(fd, (const struct sockaddr *)&addr->ss, addr->len) < 0 || listen(fd, backlog) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

int net_accept(int listen_fd, struct net_addr *peer)
{
	struct net_addr tmp;
	if (!peer)
		peer = &tmp;
	peer->len = sizeof peer->ss;
	int fd = accept4(listen_fd, (struct sockaddr *)&peer->ss, &peer->len,
			 SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	return fd;
}

int net_local_addr(int fd, struct net_addr *addr)
{
	addr->len = sizeof addr->ss;
	return getsockname(fd, (struct sockaddr *)&addr->ss, &addr->len) < 0 ? -errno : 0;
}

int net_peer_addr(int fd, struct net_addr *addr)
{
	addr->len = sizeof addr->ss;
	return getpeername(fd, (struct sockaddr *)&addr->ss, &addr->len) < 0 ? -errno : 0;
}

long net_read(int fd, void *buf, size_t len)
{
	for (;;) {
		ssize_t n = recv(fd, buf, len, 0); /* recv: no VFS layer on the hot path */
		if (n >= 0)
			return (long)n;
		if (errno == EINTR)
			continue;
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	}
}

long net_write(int fd, const void *buf, size_t len)
{
	for (;;) {
		/* send() with MSG_NOSIGNAL: a peer RST must be an error, not SIGPIPE. */
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n >= 0)
			return (long)n;
		if (errno == EINTR)
			continue;
		return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	}
}

int net_shutdown_write(int fd) { return shutdown(fd, SHUT_WR) < 0 ? -errno : 0; }

int net_close(int fd) { return close(fd) < 0 ? -errno : 0; }

void net_close_reset(int fd)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	close(fd);
}

int net_nodelay(int fd)
{
	int one = 1;
	return setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0 ? -errno : 0;
}

long long net_bytes_acked(int fd)
{
#if defined(__linux__) && defined(TCP_INFO)
	struct tcp_info ti;
	socklen_t len = sizeof ti;
	memset(&ti, 0, sizeof ti);
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return -errno;
	return (long long)ti.tcpi_bytes_acked;
#else
	(void)fd;
	return -ENOTSUP;
#endif
}

/* ---- UDP ---- */

/* One syscall for a batch where the OS has it (recvmmsg/sendmmsg), else a loop of
 * recvmsg/sendmsg with the same result: how many went, or -1 with errno when none. */
#ifdef __linux__
typedef struct mmsghdr mmsg;
static int batch_recv(int fd, mmsg *m, unsigned n) { return recvmmsg(fd, m, n, 0, NULL); }
static int batch_send(int fd, mmsg *m, unsigned n) { return sendmmsg(fd, m, n, 0); }
#else
typedef struct {
	struct msghdr msg_hdr;
	unsigned int msg_len;
} mmsg;
static int batch_io(int fd, mmsg *m, unsigned n, bool out)
{
	unsigned i;
	for (i = 0; i < n; i++) {
		ssize_t r = out ? sendmsg(fd, &m[i].msg_hdr, 0) : recvmsg(fd, &m[i].msg_hdr, 0);
		if (r < 0)
			return i ? (int)i : -1;
		m[i].msg_len = (unsigned)r;
	}
	return (int)i;
}
static int batch_recv(int fd, mmsg *m, unsigned n) { return batch_io(fd, m, n, false); }
static int batch_send(int fd, mmsg *m, unsigned n) { return batch_io(fd, m, n, true); }
#endif

/* Room for the one control message we send or read per datagram. */
union udp_ctl {
	char buf[CMSG_SPACE(sizeof(int))];
	struct cmsghdr align;
};

int net_udp_bind(struct net_udp *u, const struct net_addr *addr, unsigned flags)
{
	*u = (struct net_udp){.fd = -1};
	int fd = socket(addr->ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	if ((flags & NET_UDP_REUSEPORT) &&
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0)
		goto fail;
	if (bind(fd, (const struct sockaddr *)&addr->ss, addr->len) < 0)
		goto fail;
#ifdef UDP_SEGMENT
	/* Reading the option succeeds exactly where the kernel knows it (Linux 4.18+). */
	int seg = 0;
	socklen_t seglen = sizeof seg;
	u->gso = getsockopt(fd, IPPROTO_UDP, UDP_SEGMENT, &seg, &seglen) == 0;
#endif
#ifdef UDP_GRO
	if (flags & NET_UDP_GRO)
		u->gro = setsockopt(fd, IPPROTO_UDP, UDP_GRO, &one, sizeof one) == 0;
#endif
	u->fd = fd;
	return 0;
fail:;
	int err = -errno;
	close(fd);
	return err;
}

int net_udp_recv(struct net_udp *u, struct net_dgram *d, size_t n)
{
	mmsg msgs[NET_UDP_BATCH];
	struct iovec iov[NET_UDP_BATCH];
	union udp_ctl ctl[NET_UDP_BATCH];
	size_t got = 0;
	while (got < n) {
		unsigned batch = n - got < NET_UDP_BATCH ? (unsigned)(n - got) : NET_UDP_BATCH;
		for (unsigned i = 0; i < batch; i++) {
			struct net_dgram *g = &d[got + i];
			iov[i] = (struct iovec){.iov_base = g->buf, .iov_len = g->cap};
			msgs[i] = (mmsg){.msg_hdr = {.msg_name = &g->addr.ss,
						     .msg_namelen = sizeof g->addr.ss,
						     .msg_iov = &iov[i],
						     .msg_iovlen = 1,
						     .msg_control = u->gro ? ctl[i].buf : NULL,
						     .msg_controllen = u->gro ? sizeof ctl[i].buf : 0}};
		}
		int r = batch_recv(u->fd, msgs, batch);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (got > 0)
				break; /* what arrived is returned; the error comes back next call */
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
		}
		for (int i = 0; i < r; i++) {
			struct net_dgram *g = &d[got + (size_t)i];
			struct msghdr *h = &msgs[i].msg_hdr;
			g->addr.len = h->msg_namelen;
			g->len = msgs[i].msg_len;
			g->truncated = (h->msg_flags & MSG_TRUNC) != 0;
			g->segment = 0;
#ifdef UDP_GRO
			for (struct cmsghdr *c = u->gro ? CMSG_FIRSTHDR(h) : NULL; c;
			     c = CMSG_NXTHDR(h, c)) {
				if (c->cmsg_level == IPPROTO_UDP && c->cmsg_type == UDP_GRO) {
					int size;
					memcpy(&size, CMSG_DATA(c), sizeof size);
					if (size > 0 && (size_t)size < g->len)
						g->segment = (uint16_t)size;
				}
			}
#endif
		}
		got += (size_t)r;
		if ((unsigned)r < batch)
			break; /* the socket is drained */
	}
	return (int)got;
}

/* Checks every entry before anything is sent, so a bad one never leaves a batch half
 * sent. */
static int udp_check(const struct net_dgram *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (d[i].len > NET_UDP_MAX_PAYLOAD)
			return -EMSGSIZE;
		if (d[i].segment && (d[i].len + d[i].segment - 1) / d[i].segment > NET_UDP_MAX_SEGMENTS)
			return -EINVAL;
	}
	return 0;
}

/* Where the next datagram to send starts: entry e, byte off inside it. */
struct udp_pos {
	size_t e, off;
};

int net_udp_send(struct net_udp *u, struct net_dgram *d, size_t n)
{
	int rc = udp_check(d, n);
	if (rc < 0)
		return rc;
	mmsg msgs[NET_UDP_BATCH];
	struct iovec iov[NET_UDP_BATCH];
	union udp_ctl ctl[NET_UDP_BATCH];
	struct udp_pos at[NET_UDP_BATCH + 1]; /* at[k]: where message k starts; at[nmsg]: after */
	struct udp_pos pos = {0, 0};
	while (pos.e < n) {
		unsigned nmsg = 0;
		struct udp_pos p = pos;
		while (nmsg < NET_UDP_BATCH && p.e < n) {
			struct net_dgram *g = &d[p.e];
			bool multi = g->segment && g->len > g->segment;
			size_t take = multi && !u->gso ? g->len - p.off : g->len;
			if (multi && !u->gso && take > g->segment)
				take = g->segment; /* the fallback: one datagram per segment */
			at[nmsg] = p;
			iov[nmsg] = (struct iovec){.iov_base = (char *)g->buf + p.off, .iov_len = take};
			msgs[nmsg] = (mmsg){.msg_hdr = {.msg_name = g->addr.len ? &g->addr.ss : NULL,
							.msg_namelen = g->addr.len,
							.msg_iov = &iov[nmsg],
							.msg_iovlen = 1}};
#ifdef UDP_SEGMENT
			if (multi && u->gso) {
				struct msghdr *h = &msgs[nmsg].msg_hdr;
				h->msg_control = ctl[nmsg].buf;
				h->msg_controllen = CMSG_SPACE(sizeof(uint16_t));
				struct cmsghdr *c = CMSG_FIRSTHDR(h);
				c->cmsg_level = IPPROTO_UDP;
				c->cmsg_type = UDP_SEGMENT;
				c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
				memcpy(CMSG_DATA(c), &g->segment, sizeof(uint16_t));
			}
#else
			(void)ctl;
#endif
			p.off += take;
			if (p.off == g->len) {
				p.e++;
				p.off = 0;
			}
			nmsg++;
		}
		at[nmsg] = p;
		int r = batch_send(u->fd, msgs, nmsg);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			/* A route without checksum offload refuses GSO with EIO: send the
			 * datagrams one by one from now on. */
			if (errno == EIO && u->gso && msgs[0].msg_hdr.msg_control) {
				u->gso = false;
				continue;
			}
			if (pos.e > 0 || pos.off > 0)
				break; /* what went out is reported; the error comes back next call */
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
		}
		pos = at[r];
		if ((unsigned)r < nmsg)
			break; /* the socket is full */
	}
	if (pos.off > 0) {
		d[pos.e].buf = (char *)d[pos.e].buf + pos.off;
		d[pos.e].len -= pos.off;
	}
	return (int)pos.e;
}

#endif /* !_WIN32 */
