/* net — see net.h. */
#include "lib/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <linux/tcp.h> /* struct tcp_info with tcpi_bytes_acked (glibc's lacks it) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int net_addr_from_ip(const char *ip, uint16_t port, struct net_addr *addr)
{
	memset(addr, 0, sizeof *addr);
	struct sockaddr_in *in4 = (struct sockaddr_in *)&addr->ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&addr->ss;
	if (inet_pton(AF_INET, ip, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons(port);
		addr->len = sizeof *in4;
		return 0;
	}
	if (inet_pton(AF_INET6, ip, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		addr->len = sizeof *in6;
		return 0;
	}
	return -EINVAL;
}

int net_addr_parse(const char *s, struct net_addr *addr)
{
	char host[128];
	const char *colon;
	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (!end || end[1] != ':' || (size_t)(end - s - 1) >= sizeof host)
			return -EINVAL;
		memcpy(host, s + 1, (size_t)(end - s - 1));
		host[end - s - 1] = '\0';
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || (size_t)(colon - s) >= sizeof host)
			return -EINVAL;
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
		if (host[0] == '\0' || strcmp(host, "*") == 0)
			strcpy(host, "0.0.0.0");
	}
	char *end;
	errno = 0;
	unsigned long port = strtoul(colon + 1, &end, 10);
	if (errno || *end || colon[1] == '\0' || port > 65535)
		return -EINVAL;
	return net_addr_from_ip(host, (uint16_t)port, addr);
}

char *net_addr_format(const struct net_addr *addr, char out[NET_ADDRSTRLEN])
{
	char ip[INET6_ADDRSTRLEN] = "?";
	if (addr->ss.ss_family == AF_INET) {
		const struct sockaddr_in *in4 = (const struct sockaddr_in *)&addr->ss;
		inet_ntop(AF_INET, &in4->sin_addr, ip, sizeof ip);
		snprintf(out, NET_ADDRSTRLEN, "%s:%u", ip, ntohs(in4->sin_port));
	} else if (addr->ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&addr->ss;
		inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
		snprintf(out, NET_ADDRSTRLEN, "[%s]:%u", ip, ntohs(in6->sin6_port));
	} else {
		snprintf(out, NET_ADDRSTRLEN, "-");
	}
	return out;
}

uint16_t net_addr_port(const struct net_addr *addr)
{
	if (addr->ss.ss_family == AF_INET)
		return ntohs(((const struct sockaddr_in *)&addr->ss)->sin_port);
	if (addr->ss.ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)&addr->ss)->sin6_port);
	return 0;
}

void net_addr_set_port(struct net_addr *addr, uint16_t port)
{
	if (addr->ss.ss_family == AF_INET)
		((struct sockaddr_in *)&addr->ss)->sin_port = htons(port);
	else if (addr->ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&addr->ss)->sin6_port = htons(port);
}

bool net_addr_is_loopback(const struct net_addr *addr)
{
	if (addr->ss.ss_family == AF_INET) {
		const struct sockaddr_in *in4 = (const struct sockaddr_in *)&addr->ss;
		return (ntohl(in4->sin_addr.s_addr) >> 24) == 127;
	}
	if (addr->ss.ss_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)&addr->ss)->sin6_addr;
		if (IN6_IS_ADDR_LOOPBACK(a))
			return true;
		return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
	}
	return false;
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
	struct tcp_info ti;
	socklen_t len = sizeof ti;
	memset(&ti, 0, sizeof ti);
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) < 0)
		return -errno;
	return (long long)ti.tcpi_bytes_acked;
}
