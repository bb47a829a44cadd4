/* net — non-blocking TCP (and UDP) sockets and socket addresses.
 *
 * Thin wrappers over the BSD socket calls that every part shares, with one error
 * convention: 0 / a byte count on success, a negative errno on failure, -EAGAIN when
 * the call would block (wait for the loop event, then call again).
 */
#ifndef TP_NET_H
#define TP_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

/* "[v6]:port" or "v4:port" plus NUL. */
#define NET_ADDRSTRLEN 64

struct net_addr {
	struct sockaddr_storage ss;
	socklen_t len;
};

/* Parses "HOST:PORT" where HOST is an IPv4 literal, "[IPv6]", or empty/"*" (any,
 * IPv4). Names are not resolved here (see dns.h). Returns 0 or -EINVAL. */
int net_addr_parse(const char *s, struct net_addr *addr);
/* Fills addr from an address literal and a port. Returns 0 or -EINVAL. */
int net_addr_from_ip(const char *ip, uint16_t port, struct net_addr *addr);
/* Writes "1.2.3.4:80" or "[::1]:80". Returns out. */
char *net_addr_format(const struct net_addr *addr, char out[NET_ADDRSTRLEN]);
uint16_t net_addr_port(const struct net_addr *addr);
void net_addr_set_port(struct net_addr *addr, uint16_t port);
/* True for 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104. */
bool net_addr_is_loopback(const struct net_addr *addr);

/* Starts a non-blocking connect. Returns the fd (>= 0) — the connection completes when
 * it becomes writable; check net_connect_result() then — or a negative errno. */
int net_connect(const struct net_addr *addr);
/* After writability: 0 when connected, else the negative errno of the failure. */
int net_connect_result(int fd);

/* A non-blocking listening TCP socket (SO_REUSEADDR; SO_REUSEPORT when reuseport).
 * Returns the fd or a negative errno. Port 0 picks a free port: read it back with
 * net_local_addr(). */
int net_listen(const struct net_addr *addr, int backlog, bool reuseport);
/* Accepts one connection as a non-blocking fd. Returns it, -EAGAIN, or -errno. */
int net_accept(int listen_fd, struct net_addr *peer);

int net_local_addr(int fd, struct net_addr *addr);
int net_peer_addr(int fd, struct net_addr *addr);

/* Socket read (recv) and write (send, no SIGPIPE) with the convention above; read
 * returns 0 at EOF. */
long net_read(int fd, void *buf, size_t len);
long net_write(int fd, const void *buf, size_t len);
/* shutdown(SHUT_WR): sends FIN. */
int net_shutdown_write(int fd);
/* Closes the socket: a FIN if none was sent (an RST instead when unread bytes are
 * queued, as the OS does). The fd is released whatever the result; never retried, since
 * after an EINTR it may already name another socket. Returns 0 or -errno. */
int net_close(int fd);
/* Closes with an RST instead of a FIN (SO_LINGER 0). */
void net_close_reset(int fd);
/* TCP_NODELAY on. */
int net_nodelay(int fd);

/* Bytes the peer acknowledged (Linux TCP_INFO.tcpi_bytes_acked), or a negative errno. */
long long net_bytes_acked(int fd);

#endif
