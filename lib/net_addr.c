/* net — the socket-address half of net.h, shared by the BSD-socket (net.c) and the
 * Winsock (net_win.c) halves. */
#include "lib/net.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifndef _WIN32
#include <arpa/inet.h>
#include <netinet/in.h>
#endif

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
