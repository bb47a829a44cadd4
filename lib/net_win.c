/* net — see net.h. The Winsock2 half: the same calls as net.c over SOCKETs held in
 * ints, with Winsock's errors turned into negative errno values. */
#ifdef _WIN32
#include "lib/net.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <string.h>

static pthread_once_t wsa_once = PTHREAD_ONCE_INIT;
static int wsa_status;

static void wsa_init(void)
{
	WSADATA wsa;
	int rc = WSAStartup(MAKEWORD(2, 2), &wsa);
	wsa_status = rc ? net_wsa_error((unsigned long)rc) : 0;
}

int net_startup(void)
{
	pthread_once(&wsa_once, wsa_init);
	return wsa_status;
}

/* Winsock names its errors WSAE*, and completions report the Win32 ERROR_* a driver
 * gave; both map to the errno a Linux socket would have set for the same event. */
static const struct {
	unsigned long win;
	int err;
} wsa_errors[] = {
	{WSAEWOULDBLOCK, EAGAIN},
	{WSAEINPROGRESS, EINPROGRESS},
	{WSAEALREADY, EALREADY},
	{WSAEINTR, EINTR},
	{WSAEBADF, EBADF},
	{WSAEACCES, EACCES},
	{WSAEFAULT, EFAULT},
	{WSAEINVAL, EINVAL},
	{WSAEMFILE, EMFILE},
	{WSAENOTSOCK, ENOTSOCK},
	{WSAEDESTADDRREQ, EDESTADDRREQ},
	{WSAEMSGSIZE, EMSGSIZE},
	{WSAEPROTOTYPE, EPROTOTYPE},
	{WSAENOPROTOOPT, ENOPROTOOPT},
	{WSAEPROTONOSUPPORT, EPROTONOSUPPORT},
	{WSAEOPNOTSUPP, EOPNOTSUPP},
	{WSAEAFNOSUPPORT, EAFNOSUPPORT},
	{WSAEADDRINUSE, EADDRINUSE},
	{WSAEADDRNOTAVAIL, EADDRNOTAVAIL},
	{WSAENETDOWN, ENETDOWN},
	{WSAENETUNREACH, ENETUNREACH},
	{WSAENETRESET, ENETRESET},
	{WSAECONNABORTED, ECONNABORTED},
	{WSAECONNRESET, ECONNRESET},
	{WSAENOBUFS, ENOBUFS},
	{WSAEISCONN, EISCONN},
	{WSAENOTCONN, ENOTCONN},
	{WSAESHUTDOWN, EPIPE}, /* a send after shutdown(SD_SEND): Linux says EPIPE */
	{WSAETIMEDOUT, ETIMEDOUT},
	{WSAECONNREFUSED, ECONNREFUSED},
	{WSAEHOSTDOWN, EHOSTUNREACH},
	{WSAEHOSTUNREACH, EHOSTUNREACH},
	{WSAEDISCON, EPIPE},
	{WSA_OPERATION_ABORTED, ECANCELED}, /* = ERROR_OPERATION_ABORTED */
	{WSA_NOT_ENOUGH_MEMORY, ENOMEM},
	{WSA_INVALID_HANDLE, EBADF},
	{WSA_INVALID_PARAMETER, EINVAL},
	{ERROR_NETNAME_DELETED, ECONNRESET}, /* what a completion says for a peer's RST */
	{ERROR_CONNECTION_ABORTED, ECONNABORTED},
	{ERROR_CONNECTION_REFUSED, ECONNREFUSED},
	{ERROR_PORT_UNREACHABLE, ECONNREFUSED},
	{ERROR_NETWORK_UNREACHABLE, ENETUNREACH},
	{ERROR_HOST_UNREACHABLE, EHOSTUNREACH},
	{ERROR_SEM_TIMEOUT, ETIMEDOUT},
	{ERROR_GRACEFUL_DISCONNECT, EPIPE},
	{ERROR_BROKEN_PIPE, EPIPE},
	{ERROR_NOT_FOUND, ENOENT},
	{ERROR_NOT_SUPPORTED, ENOTSUP},
	{WSAEPFNOSUPPORT, EAFNOSUPPORT},
	{WSANOTINITIALISED, EIO},
};

int net_wsa_error(unsigned long err)
{
	for (size_t i = 0; i < sizeof wsa_errors / sizeof wsa_errors[0]; i++)
		if (wsa_errors[i].win == err)
			return -wsa_errors[i].err;
	return -EIO;
}

/* What Linux's strerror says for the errno values net_wsa_error() gives; msvcrt's
 * knows none of them. */
static const struct {
	int err;
	const char *text;
} texts[] = {
	{EAGAIN, "Resource temporarily unavailable"}, {EINPROGRESS, "Operation now in progress"},
	{EADDRINUSE, "Address already in use"}, {EADDRNOTAVAIL, "Cannot assign requested address"},
	{ENETDOWN, "Network is down"}, {ENETUNREACH, "Network is unreachable"},
	{ENETRESET, "Network dropped connection on reset"},
	{ECONNABORTED, "Software caused connection abort"}, {ECONNRESET, "Connection reset by peer"},
	{ENOBUFS, "No buffer space available"}, {ENOTCONN, "Transport endpoint is not connected"},
	{ETIMEDOUT, "Connection timed out"}, {ECONNREFUSED, "Connection refused"},
	{EHOSTUNREACH, "No route to host"}, {ECANCELED, "Operation canceled"},
	{ENOTSOCK, "Socket operation on non-socket"}, {EOPNOTSUPP, "Operation not supported"},
	{ENOTSUP, "Operation not supported"}, {EAFNOSUPPORT, "Address family not supported by protocol"},
};

const char *net_strerror(int err)
{
	for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++)
		if (texts[i].err == -err)
			return texts[i].text;
	return strerror(-err);
}

static int last_error(void) { return net_wsa_error((unsigned long)WSAGetLastError()); }

/* An overlapped (completion-port ready), non-inherited, non-blocking socket. */
static int new_socket(int family, int type, int proto)
{
	int rc = net_startup();
	if (rc < 0)
		return rc;
	SOCKET s = WSASocketW(family, type, proto, NULL, 0,
			      WSA_FLAG_OVERLAPPED | WSA_FLAG_NO_HANDLE_INHERIT);
	if (s == INVALID_SOCKET && WSAGetLastError() == WSAEINVAL) /* before Windows 7 SP1 */
		s = WSASocketW(family, type, proto, NULL, 0, WSA_FLAG_OVERLAPPED);
	if (s == INVALID_SOCKET)
		return last_error();
	u_long one = 1;
	if (ioctlsocket(s, FIONBIO, &one) != 0) {
		rc = last_error();
		closesocket(s);
		return rc;
	}
	return (int)s;
}

int net_stream_socket(int family) { return new_socket(family, SOCK_STREAM, IPPROTO_TCP); }

int net_connect(const struct net_addr *addr)
{
	int fd = net_stream_socket(addr->ss.ss_family);
	if (fd < 0)
		return fd;
	if (connect((SOCKET)fd, (const struct sockaddr *)&addr->ss, addr->len) != 0) {
		int err = last_error();
		if (err != -EAGAIN && err != -EINPROGRESS) { /* Winsock says WOULDBLOCK */
			closesocket((SOCKET)fd);
			return err;
		}
	}
	return fd;
}

int net_connect_result(int fd)
{
	int soerr = 0;
	int len = sizeof soerr;
	if (getsockopt((SOCKET)fd, SOL_SOCKET, SO_ERROR, (char *)&soerr, &len) != 0)
		return last_error();
	return soerr ? net_wsa_error((unsigned long)soerr) : 0;
}

int net_listen(const struct net_addr *addr, int backlog, bool reuseport)
{
	(void)reuseport; /* no SO_REUSEPORT on Windows: see net.h */
	int fd = net_stream_socket(addr->ss.ss_family);
	if (fd < 0)
		return fd;
	/* Windows' SO_REUSEADDR lets another socket take over a bound port; exclusive use
	 * is what a Linux listener has (TIME_WAIT does not block a Windows bind anyway). */
	BOOL one = TRUE;
	setsockopt((SOCKET)fd, SOL_SOCKET, SO_EXCLUSIVEADDRUSE, (const char *)&one, sizeof one);
	if (bind((SOCKET)fd, (const struct sockaddr *)&addr->ss, addr->len) != 0 ||
	    listen((SOCKET)fd, backlog) != 0) {
		int err = last_error();
		closesocket((SOCKET)fd);
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
	SOCKET s = accept((SOCKET)listen_fd, (struct sockaddr *)&peer->ss, &peer->len);
	if (s == INVALID_SOCKET)
		return last_error();
	/* An accepted socket inherits the listener's overlapped and non-blocking modes;
	 * set the latter again so the contract does not rest on inheritance. */
	u_long one = 1;
	if (ioctlsocket(s, FIONBIO, &one) != 0) {
		int err = last_error();
		closesocket(s);
		return err;
	}
	return (int)s;
}

int net_local_addr(int fd, struct net_addr *addr)
{
	addr->len = sizeof addr->ss;
	return getsockname((SOCKET)fd, (struct sockaddr *)&addr->ss, &addr->len) != 0 ? last_error()
										      : 0;
}

int net_peer_addr(int fd, struct net_addr *addr)
{
	addr->len = sizeof addr->ss;
	return getpeername((SOCKET)fd, (struct sockaddr *)&addr->ss, &addr->len) != 0 ? last_error()
										      : 0;
}

long net_read(int fd, void *buf, size_t len)
{
	int n = recv((SOCKET)fd, buf, len > INT_MAX ? INT_MAX : (int)len, 0);
	return n >= 0 ? (long)n : last_error();
}

long net_write(int fd, const void *buf, size_t len)
{
	int n = send((SOCKET)fd, buf, len > INT_MAX ? INT_MAX : (int)len, 0);
	return n >= 0 ? (long)n : last_error();
}

int net_shutdown_write(int fd) { return shutdown((SOCKET)fd, SD_SEND) != 0 ? last_error() : 0; }

int net_close(int fd) { return closesocket((SOCKET)fd) != 0 ? last_error() : 0; }

void net_close_reset(int fd)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	setsockopt((SOCKET)fd, SOL_SOCKET, SO_LINGER, (const char *)&lg, sizeof lg);
	closesocket((SOCKET)fd);
}

int net_nodelay(int fd)
{
	BOOL one = TRUE;
	return setsockopt((SOCKET)fd, IPPROTO_TCP, TCP_NODELAY, (const char *)&one, sizeof one) != 0
		       ? last_error()
		       : 0;
}

/* Windows counts no acknowledged bytes a program can read (SIO_TCP_INFO has bytes sent
 * and retransmitted, not acknowledged), so ledgers say null, never a guess. */
long long net_bytes_acked(int fd)
{
	(void)fd;
	return -ENOTSUP;
}

/* ---- UDP: not built for Windows yet (QUIC, its only user, needs GnuTLS) ---- */

int net_udp_bind(struct net_udp *u, const struct net_addr *addr, unsigned flags)
{
	(void)addr;
	(void)flags;
	*u = (struct net_udp){.fd = -1};
	return -ENOTSUP;
}

int net_udp_recv(struct net_udp *u, struct net_dgram *d, size_t n)
{
	(void)u;
	(void)d;
	(void)n;
	return -ENOTSUP;
}

int net_udp_send(struct net_udp *u, struct net_dgram *d, size_t n)
{
	(void)u;
	(void)d;
	(void)n;
	return -ENOTSUP;
}

#endif /* _WIN32 */
