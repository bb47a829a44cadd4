/* net — non-blocking TCP and UDP sockets and socket addresses.
 *
 * Thin wrappers over the BSD socket calls that every part shares, with one error
 * convention: 0 / a byte count on success, a negative errno on failure, -EAGAIN when
 * the call would block (wait for the loop event, then call again). What one OS lacks
 * is reported, not faked: -ENOTSUP where a call has no equivalent (TCP_INFO off
 * Linux), and the UDP calls say whether the kernel segments and coalesces datagrams.
 *
 * Files: net_addr.c (addresses, every OS), net.c (BSD sockets), net_win.c (Winsock2).
 * On Windows an fd is a SOCKET held in an int (lib/loop.h says why that is safe),
 * sockets are created overlapped (so a completion port can drive them) and
 * non-blocking, Winsock errors become negative errno values (net_wsa_error), and
 * these differ from Linux: SO_REUSEPORT does not exist (net_listen ignores
 * reuseport, so a second listener on one port fails with -EADDRINUSE), listeners use
 * SO_EXCLUSIVEADDRUSE instead of SO_REUSEADDR, net_bytes_acked() is -ENOTSUP, and
 * the UDP calls are -ENOTSUP (nothing built for Windows uses UDP yet).
 */
#ifndef TP_NET_H
#define TP_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#else
#include <sys/socket.h>
#include <sys/types.h>
#endif

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

/* Windows: WSAStartup once per process, thread-safe; every net call that makes a
 * socket calls it, and so may anything else that needs Winsock first. Returns 0 or
 * -errno. Elsewhere: 0. */
int net_startup(void);
#ifdef _WIN32
/* A Winsock or Win32 error (WSAGetLastError(), GetLastError(), an IOCP completion's)
 * as a negative errno: WSAEWOULDBLOCK -EAGAIN, WSAECONNRESET and ERROR_NETNAME_DELETED
 * -ECONNRESET, WSA_OPERATION_ABORTED -ECANCELED, ...; -EIO for one not in the table. */
int net_wsa_error(unsigned long err);
#endif

/* The text of a negative errno these calls return (err < 0): strerror's, except that
 * on Windows, whose C library knows only the classic errno values ("Unknown error" for
 * ECONNREFUSED), the socket errors get the texts Linux gives them. */
const char *net_strerror(int err);

/* A new unconnected, non-blocking TCP socket of family (AF_INET, AF_INET6), for
 * loop_stream_connect(). Returns the fd or a negative errno. */
int net_stream_socket(int family);

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

/* Bytes the peer acknowledged (Linux TCP_INFO.tcpi_bytes_acked), or a negative errno:
 * -ENOTSUP where the OS does not count them (ledgers then say null). The kernel counts
 * sequence space: a FIN, once acknowledged, is one more byte, and so is the SYN on the
 * connecting side (1000 bytes acknowledged read 1001 there, 1000 on an accepted
 * socket). */
long long net_bytes_acked(int fd);

/* ---- UDP ----
 * Datagram sockets for QUIC: non-blocking, bound, read and written in batches
 * (recvmmsg/sendmmsg) with an address per datagram. A struct net_dgram holds one
 * datagram, or with segment > 0 a run of datagrams of segment bytes each, the last
 * one possibly shorter: that is how GSO sends many with one syscall (UDP_SEGMENT)
 * and how GRO delivers many at once (UDP_GRO). */

#define NET_UDP_MAX_PAYLOAD 65507 /* bytes per struct net_dgram (IPv4's UDP limit) */
#define NET_UDP_MAX_SEGMENTS 64   /* datagrams per GSO entry (the kernel's limit) */
#define NET_UDP_BATCH 64          /* datagrams per syscall; calls loop past it */

enum {
	NET_UDP_REUSEPORT = 1u << 0, /* SO_REUSEPORT: a socket per worker on one port */
	NET_UDP_GRO = 1u << 1,       /* let the kernel coalesce received datagrams */
};

struct net_udp {
	int fd;   /* non-blocking, bound; the caller closes it */
	/* Whether the kernel segments a GSO entry (UDP_SEGMENT). When false — an old
	 * kernel, another OS, or a route that refused it (EIO, after which it is turned
	 * off) — net_udp_send() sends the same datagrams one by one; a caller may also
	 * clear it to take that path. The receiver cannot tell the difference. */
	bool gso;
	/* Whether the kernel may coalesce received datagrams (NET_UDP_GRO was asked for
	 * and UDP_GRO accepted): net_udp_recv() entries may then have segment > 0. */
	bool gro;
};

struct net_dgram {
	void *buf;            /* send: the payload; receive: where the datagram goes */
	size_t len;           /* send: payload bytes; receive: bytes received */
	size_t cap;           /* receive only: room at buf (65535 or more with GRO) */
	struct net_addr addr; /* send: destination (len 0: a connected socket's peer);
			       * receive: the sender */
	uint16_t segment;     /* send: GSO segment size, 0 for one datagram; receive: the
			       * GRO segment size, 0 when buf holds one datagram */
	bool truncated;       /* receive: the datagram was longer than cap; its end is lost */
};

/* Opens a non-blocking UDP socket bound to addr (port 0 picks a free port: read it
 * back with net_local_addr(u->fd)) and fills *u. flags: NET_UDP_*. Returns 0 or
 * -errno (u->fd is then -1). */
int net_udp_bind(struct net_udp *u, const struct net_addr *addr, unsigned flags);
/* Receives up to n datagrams into d[0..n), each with buf and cap set. Returns how
 * many arrived (>= 1; len, addr, segment and truncated set on each), -EAGAIN when
 * none is waiting, or -errno. */
int net_udp_recv(struct net_udp *u, struct net_dgram *d, size_t n);
/* Sends d[0..n), each to its addr. Returns how many entries went out whole (0..n) —
 * call again with d + count for the rest — or -EAGAIN when nothing went out, or
 * -errno: checked before anything is sent, -EINVAL for a segment size giving more than
 * NET_UDP_MAX_SEGMENTS datagrams, -EMSGSIZE for len > NET_UDP_MAX_PAYLOAD. When the
 * socket stops taking datagrams inside a GSO entry sent one by one, that entry's buf
 * and len are advanced past the datagrams that went out. */
int net_udp_send(struct net_udp *u, struct net_dgram *d, size_t n);

#endif
