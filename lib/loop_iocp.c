/* loop_iocp — the Windows backend of loop.h: one I/O completion port per loop.
 *
 * Every operation the loop issues — an AFD poll for a readiness watcher, a WSARecv or
 * WSASend for a stream, ConnectEx, AcceptEx — carries an operation record (struct op)
 * whose OVERLAPPED the port hands back on completion. Records come from a per-loop
 * pool that grows to the peak number in flight and is reused; a record whose owner let
 * go (a stopped watcher, a closed stream) stays the backend's until the OS returns it,
 * so callers may free their watchers at once. Completion notification is never skipped
 * on success (no FILE_SKIP_COMPLETION_PORT_ON_SUCCESS), so even an operation that
 * finished at once is delivered from loop_run(); one the OS refused outright is queued
 * on the backend's own list with its error and delivered the same way.
 */
#ifdef _WIN32
#include "lib/loop.h"
#include "lib/loop_iocp.h"
#include "lib/net.h"

#include <mswsock.h>
#include <windows.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define LOOP_MAX_EVENTS 256
#define KEY_WAKE 1                /* completion key of loop_wake()'s packets */
#define MAX_IO ((size_t)1 << 30)  /* bytes per WSARecv/WSASend (a WSABUF holds a ULONG) */
#define FREE_DRAIN_MS 2000        /* loop_free() waits this long for cancelled records */

/* IOCTL_AFD_POLL, as wepoll and libuv's uv_poll use it: the driver behind Winsock
 * completes the request when the socket has one of the asked conditions — at once when
 * it already has, which is what makes a re-issued poll level-triggered. Not in mingw's
 * headers. */
#define IOCTL_AFD_POLL 0x00012024
#define AFD_POLL_RECEIVE 0x0001
#define AFD_POLL_SEND 0x0004
#define AFD_POLL_DISCONNECT 0x0008
#define AFD_POLL_ABORT 0x0010
#define AFD_POLL_LOCAL_CLOSE 0x0020
#define AFD_POLL_ACCEPT 0x0080
#define AFD_POLL_CONNECT_FAIL 0x0100

struct afd_poll_info {
	LARGE_INTEGER timeout;
	ULONG handle_count;
	ULONG exclusive;
	struct {
		HANDLE handle;
		ULONG events;
		LONG status;
	} handles[1];
};

enum op_kind { OP_POLL, OP_RECV, OP_SEND, OP_CONNECT, OP_ACCEPT, OP_CLOSE_STREAM,
	       OP_CLOSE_ACCEPT, OP_POST };

struct op {
	OVERLAPPED ov;       /* first: a completion's OVERLAPPED * is its record */
	enum op_kind kind;
	bool pending;        /* issued, its completion not yet delivered */
	bool os_holds;       /* the OS has it (not the backend's own queue) */
	int error;           /* a failure met when issuing, delivered as the completion's */
	void *owner;         /* loop_io, loop_stream, loop_acceptor or loop_post; NULL once
			      * the owner let go */
	SOCKET sock;         /* the socket it was issued on */
	size_t posted;       /* OP_SEND: bytes this WSASend asked for */
	SOCKET accepted;     /* OP_ACCEPT: the socket AcceptEx fills */
	int family;          /* OP_ACCEPT: the listener's address family */
	struct op *next;     /* the free list, or the backend's queue */
	struct op *next_all; /* every record the loop made, for loop_free() */
	union {
		struct afd_poll_info poll;
		/* AcceptEx writes both addresses here, each 16 bytes more than its size. */
		char addrs[2 * (sizeof(struct sockaddr_storage) + 16)];
	} u;
};

struct loop_backend {
	HANDLE port;
	atomic_int wake_pending; /* a wake packet is queued and not yet delivered */
	struct op *free_ops;
	struct op *all_ops;
	struct op *queue, *queue_tail; /* delivered by the loop itself: refusals, closes */
	LPFN_ACCEPTEX acceptex;
	LPFN_CONNECTEX connectex;
	OVERLAPPED_ENTRY batch[LOOP_MAX_EVENTS];
};

/* The close record of a stream that came back: its stream may finish closing. */
static char close_seen;

uint64_t loop_clock_us(void)
{
	LARGE_INTEGER freq, count;
	QueryPerformanceFrequency(&freq);
	QueryPerformanceCounter(&count);
	uint64_t f = (uint64_t)freq.QuadPart, c = (uint64_t)count.QuadPart;
	return c / f * 1000000u + c % f * 1000000u / f;
}

/* ---- records ---- */

static struct op *op_get(struct loop_backend *b, enum op_kind kind, void *owner, SOCKET sock)
{
	struct op *op = b->free_ops;
	if (op) {
		b->free_ops = op->next;
	} else {
		op = calloc(1, sizeof *op);
		if (!op)
			return NULL;
		op->next_all = b->all_ops;
		b->all_ops = op;
	}
	struct op *all = op->next_all;
	memset(op, 0, offsetof(struct op, u));
	op->next_all = all;
	op->kind = kind;
	op->owner = owner;
	op->sock = sock;
	op->accepted = INVALID_SOCKET;
	return op;
}

static void op_put(struct loop_backend *b, struct op *op)
{
	op->owner = NULL;
	op->next = b->free_ops;
	b->free_ops = op;
}

/* Queues op for delivery by the loop itself, in order, with error (0 for a close). */
static void op_queue(struct loop_backend *b, struct op *op, int error)
{
	op->pending = true;
	op->os_holds = false;
	op->error = error;
	op->next = NULL;
	if (b->queue_tail)
		b->queue_tail->next = op;
	else
		b->queue = op;
	b->queue_tail = op;
}

/* After an overlapped call: its completion comes through the port (also when it
 * finished at once), unless the OS refused it, whose error is then queued instead. */
static void op_issued(struct loop_backend *b, struct op *op, bool ok, DWORD err)
{
	if (ok || err == ERROR_IO_PENDING) {
		op->pending = true;
		op->os_holds = true;
		op->error = 0; /* a record issued again forgets its last refusal */
		return;
	}
	op_queue(b, op, net_wsa_error(err));
}

/* The outcome of a delivered record: 0 with *bytes, or -errno. */
static int op_result(struct op *op, DWORD *bytes)
{
	*bytes = 0;
	if (op->error)
		return op->error;
	DWORD flags = 0;
	if (!WSAGetOverlappedResult(op->sock, &op->ov, bytes, FALSE, &flags))
		return net_wsa_error((unsigned long)WSAGetLastError());
	return 0;
}

/* The owner lets go of op: the OS is asked to give it back soon, and its delivery
 * then only returns it to the pool. */
static void op_orphan(struct op *op)
{
	op->owner = NULL;
	if (op->pending && op->os_holds)
		CancelIoEx((HANDLE)op->sock, &op->ov);
}

/* Ties a socket to the port, once: a second association fails with
 * ERROR_INVALID_PARAMETER, which for a socket we already drove means it is ours. */
static int associate(struct loop_backend *b, SOCKET s)
{
	if (CreateIoCompletionPort((HANDLE)s, b->port, 0, 0))
		return 0;
	DWORD err = GetLastError();
	return err == ERROR_INVALID_PARAMETER ? 0 : net_wsa_error(err);
}

static int extension(SOCKET s, GUID guid, void *fn, size_t fn_size)
{
	DWORD bytes = 0;
	if (WSAIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &guid, sizeof guid, fn, (DWORD)fn_size,
		     &bytes, NULL, NULL) != 0)
		return net_wsa_error((unsigned long)WSAGetLastError());
	return 0;
}

/* ---- init, free, wake ---- */

int loop_backend_init(struct loop *loop)
{
	int rc = net_startup();
	if (rc < 0)
		return rc;
	struct loop_backend *b = calloc(1, sizeof *b);
	if (!b)
		return -ENOMEM;
	b->port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 1);
	if (!b->port) {
		rc = net_wsa_error(GetLastError());
		free(b);
		return rc;
	}
	atomic_init(&b->wake_pending, 0);
	loop->backend = b;
	return 0;
}

/* Whether the OS may still write op: issued and not yet come back. A post armed but
 * never sent is not the OS's (sending one after loop_free() is the caller's bug). */
static bool os_holds(const struct op *op)
{
	return op->pending && op->os_holds && op->kind != OP_POST;
}

static size_t os_held(const struct loop_backend *b)
{
	size_t n = 0;
	for (const struct op *op = b->all_ops; op; op = op->next_all)
		n += os_holds(op);
	return n;
}

/* Records the OS still holds are cancelled and waited for (bounded): their memory
 * must outlive the kernel's use of it. Any still out after FREE_DRAIN_MS are left
 * allocated rather than freed under the OS. */
void loop_backend_free(struct loop *loop)
{
	struct loop_backend *b = loop->backend;
	for (struct op *op = b->all_ops; op; op = op->next_all)
		if (os_holds(op))
			CancelIoEx((HANDLE)op->sock, &op->ov);
	ULONGLONG deadline = GetTickCount64() + FREE_DRAIN_MS;
	while (os_held(b) > 0 && GetTickCount64() < deadline) {
		ULONG n = 0;
		if (!GetQueuedCompletionStatusEx(b->port, b->batch, LOOP_MAX_EVENTS, &n, 50, FALSE))
			continue;
		for (ULONG i = 0; i < n; i++)
			if (b->batch[i].lpOverlapped)
				((struct op *)b->batch[i].lpOverlapped)->pending = false;
	}
	struct op *op = b->all_ops;
	while (op) {
		struct op *next = op->next_all;
		if (!os_holds(op))
			free(op);
		op = next;
	}
	CloseHandle(b->port);
	free(b);
	loop->backend = NULL;
}

void loop_wake(struct loop *loop)
{
	struct loop_backend *b = loop->backend;
	/* One packet in the queue at a time: wakes folded into it still get their on_wake,
	 * because the flag is cleared before on_wake runs. */
	if (atomic_exchange(&b->wake_pending, 1) == 0)
		PostQueuedCompletionStatus(b->port, 0, KEY_WAKE, NULL);
}

/* ---- readiness: one AFD poll in flight per started watcher ---- */

static ULONG afd_events(unsigned events)
{
	/* Failures are always asked for, as epoll always reports EPOLLERR. */
	ULONG afd = AFD_POLL_ABORT | AFD_POLL_LOCAL_CLOSE | AFD_POLL_CONNECT_FAIL;
	if (events & LOOP_READ)
		afd |= AFD_POLL_RECEIVE | AFD_POLL_DISCONNECT | AFD_POLL_ACCEPT;
	if (events & LOOP_WRITE)
		afd |= AFD_POLL_SEND;
	return afd;
}

static unsigned loop_events(ULONG afd)
{
	return (afd & (AFD_POLL_RECEIVE | AFD_POLL_DISCONNECT | AFD_POLL_ACCEPT) ? LOOP_READ : 0) |
	       (afd & AFD_POLL_SEND ? LOOP_WRITE : 0) |
	       (afd & (AFD_POLL_ABORT | AFD_POLL_LOCAL_CLOSE | AFD_POLL_CONNECT_FAIL) ? LOOP_ERROR
										     : 0);
}

static void poll_issue(struct loop_backend *b, struct op *op, unsigned events)
{
	memset(&op->ov, 0, sizeof op->ov);
	op->u.poll = (struct afd_poll_info){.handle_count = 1};
	op->u.poll.timeout.QuadPart = INT64_MAX;
	op->u.poll.handles[0].handle = (HANDLE)op->sock;
	op->u.poll.handles[0].events = afd_events(events);
	BOOL ok = DeviceIoControl((HANDLE)op->sock, IOCTL_AFD_POLL, &op->u.poll, sizeof op->u.poll,
				  &op->u.poll, sizeof op->u.poll, NULL, &op->ov);
	op_issued(b, op, ok, ok ? 0 : GetLastError());
}

/* The socket AFD knows: a layered provider may wrap ours; without one it is itself. */
static int base_socket(int fd, SOCKET *base)
{
	DWORD bytes = 0;
	*base = (SOCKET)fd;
	if (WSAIoctl((SOCKET)fd, SIO_BASE_HANDLE, NULL, 0, base, sizeof *base, &bytes, NULL, NULL) ==
	    0)
		return 0;
	int err = WSAGetLastError();
	*base = (SOCKET)fd;
	return err == WSAENOTSOCK ? -ENOTSOCK : 0;
}

int loop_io_start(struct loop *loop, struct loop_io *io, int fd, unsigned events,
		  loop_io_cb cb, void *data)
{
	if (io->events && io->fd != fd)
		loop_io_stop(loop, io);
	io->cb = cb;
	io->data = data;
	if (!io->events) {
		io->fd = fd;
		io->os = NULL;
	}
	return loop_io_set(loop, io, events);
}

int loop_io_set(struct loop *loop, struct loop_io *io, unsigned events)
{
	struct loop_backend *b = loop->backend;
	events &= LOOP_READ | LOOP_WRITE;
	if (events == io->events)
		return 0;
	if (!events) {
		loop_io_stop(loop, io);
		return 0;
	}
	struct op *old = io->events ? io->os : NULL;
	if (old && !old->pending) {
		/* Its poll is being delivered: the one issued after the callback asks for
		 * the new events. */
		io->events = events;
		return 0;
	}
	SOCKET base;
	if (old) {
		base = old->sock;
	} else {
		int rc = base_socket(io->fd, &base);
		if (rc == 0)
			rc = associate(b, base);
		if (rc < 0)
			return rc;
	}
	struct op *op = op_get(b, OP_POLL, io, base);
	if (!op)
		return -ENOMEM;
	if (old)
		op_orphan(old); /* a poll for the old events; its completion just returns it */
	else
		loop->active++;
	io->events = events;
	io->os = op;
	poll_issue(b, op, events);
	return 0;
}

void loop_io_stop(struct loop *loop, struct loop_io *io)
{
	if (!io->events)
		return;
	struct op *op = io->os;
	io->events = 0;
	io->os = NULL;
	loop->active--;
	if (op)
		op_orphan(op);
}

static void deliver_poll(struct loop *loop, struct op *op)
{
	struct loop_backend *b = loop->backend;
	struct loop_io *io = op->owner;
	if (!io) {
		op_put(b, op);
		return;
	}
	DWORD bytes;
	unsigned fired;
	if (op_result(op, &bytes) < 0)
		fired = LOOP_ERROR; /* the socket went away under the watcher */
	else
		fired = op->u.poll.handle_count >= 1 ? loop_events(op->u.poll.handles[0].events) : 0;
	/* Errors are reported as whatever the watcher waits for, so its next call surfaces
	 * the errno (as the epoll backend does). */
	if (fired & LOOP_ERROR)
		fired |= io->events;
	fired &= io->events | LOOP_ERROR;
	if (fired)
		io->cb(loop, io, fired);
	/* Still ours after the callback means still started with this record: poll again,
	 * for the events asked for now. */
	if (op->owner == io)
		poll_issue(b, op, io->events);
	else
		op_put(b, op);
}

/* ---- streams ---- */

int loop_stream_init(struct loop *loop, struct loop_stream *st, int fd, void *data)
{
	struct loop_backend *b = loop->backend;
	*st = (struct loop_stream){.fd = fd, .data = data};
	st->io.fd = -1;
	int rc = associate(b, (SOCKET)fd);
	if (rc < 0)
		return rc;
	/* The close record is taken now, so that closing cannot fail later. */
	st->os = op_get(b, OP_CLOSE_STREAM, st, (SOCKET)fd);
	return st->os ? 0 : -ENOMEM;
}

/* The stream finishes closing once its close record is back and nothing is in flight. */
static void stream_try_close(struct loop *loop, struct loop_stream *st)
{
	if (!st->closing || st->os != &close_seen || st->read_cb || st->write_cb || st->connect_cb)
		return;
	st->os = NULL;
	loop->active--;
	st->close_cb(loop, st); /* may free st */
}

int loop_stream_read(struct loop *loop, struct loop_stream *st, void *buf, size_t len,
		     loop_read_cb cb)
{
	struct loop_backend *b = loop->backend;
	if (st->closing)
		return -EBADF;
	if (!buf || len == 0 || !cb)
		return -EINVAL;
	if (st->read_cb || st->connect_cb)
		return -EBUSY;
	struct op *op = op_get(b, OP_RECV, st, (SOCKET)st->fd);
	if (!op)
		return -ENOMEM;
	st->rbuf = buf;
	st->rlen = len;
	st->read_cb = cb;
	loop->active++;
	WSABUF wb = {.len = (ULONG)(len > MAX_IO ? MAX_IO : len), .buf = buf};
	DWORD flags = 0;
	int rc = WSARecv(op->sock, &wb, 1, NULL, &flags, &op->ov, NULL);
	op_issued(b, op, rc == 0, rc == 0 ? 0 : (DWORD)WSAGetLastError());
	return 0;
}

static void deliver_recv(struct loop *loop, struct op *op)
{
	struct loop_stream *st = op->owner;
	DWORD bytes;
	int err = op_result(op, &bytes);
	op_put(loop->backend, op);
	loop->active--;
	loop_read_cb cb = st->read_cb;
	st->read_cb = NULL;
	st->rbuf = NULL;
	cb(loop, st, st->closing ? -ECANCELED : err < 0 ? err : (long)bytes);
	stream_try_close(loop, st);
}

/* Posts what is left of the write, at most MAX_IO bytes. */
static void send_issue(struct loop_backend *b, struct loop_stream *st, struct op *op)
{
	size_t left = st->wlen - st->wdone;
	op->posted = left > MAX_IO ? MAX_IO : left;
	memset(&op->ov, 0, sizeof op->ov);
	WSABUF wb = {.len = (ULONG)op->posted, .buf = (char *)st->wbuf + st->wdone};
	int rc = WSASend(op->sock, &wb, 1, NULL, 0, &op->ov, NULL);
	op_issued(b, op, rc == 0, rc == 0 ? 0 : (DWORD)WSAGetLastError());
}

int loop_stream_write(struct loop *loop, struct loop_stream *st, const void *buf, size_t len,
		      unsigned flags, loop_write_cb cb)
{
	struct loop_backend *b = loop->backend;
	if (st->closing)
		return -EBADF;
	if (!buf || len == 0 || !cb || (flags & ~(unsigned)LOOP_WRITE_PARTIAL))
		return -EINVAL;
	if (st->write_cb || st->connect_cb)
		return -EBUSY;
	struct op *op = op_get(b, OP_SEND, st, (SOCKET)st->fd);
	if (!op)
		return -ENOMEM;
	st->wbuf = buf;
	st->wlen = len;
	st->wdone = 0;
	st->wflags = flags;
	st->write_cb = cb;
	loop->active++;
	send_issue(b, st, op);
	return 0;
}

static void write_done(struct loop *loop, struct loop_stream *st, struct op *op, int err)
{
	op_put(loop->backend, op);
	loop->active--;
	loop_write_cb cb = st->write_cb;
	st->write_cb = NULL;
	st->wbuf = NULL;
	cb(loop, st, st->wdone, st->closing ? -ECANCELED : err);
	stream_try_close(loop, st);
}

/* A completion that took fewer bytes than were posted is the partial WSASend of the
 * contract: counted, and the remainder posted — or, with LOOP_WRITE_PARTIAL, the
 * request completes there and the caller decides. */
static void deliver_send(struct loop *loop, struct op *op)
{
	struct loop_stream *st = op->owner;
	DWORD bytes;
	int err = op_result(op, &bytes);
	if (err != -ECANCELED || bytes > 0)
		st->send_ops++;
	st->wdone += bytes;
	bool partial = err == 0 && bytes < op->posted;
	if (partial)
		st->short_sends++;
	if (st->closing || err < 0 || (partial && (st->wflags & LOOP_WRITE_PARTIAL)) ||
	    st->wdone == st->wlen) {
		write_done(loop, st, op, err);
		return;
	}
	send_issue(loop->backend, st, op);
}

int loop_stream_connect(struct loop *loop, struct loop_stream *st, const struct sockaddr *addr,
			int addrlen, loop_connect_cb cb)
{
	struct loop_backend *b = loop->backend;
	if (st->closing)
		return -EBADF;
	if (!addr || addrlen <= 0 || !cb)
		return -EINVAL;
	if (st->write_cb || st->connect_cb || st->read_cb)
		return -EBUSY;
	SOCKET s = (SOCKET)st->fd;
	if (!b->connectex) {
		int rc = extension(s, (GUID)WSAID_CONNECTEX, &b->connectex, sizeof b->connectex);
		if (rc < 0)
			return rc;
	}
	/* ConnectEx wants a bound socket; WSAEINVAL says it already is. */
	struct sockaddr_storage any = {.ss_family = addr->sa_family};
	int anylen = addr->sa_family == AF_INET6 ? (int)sizeof(struct sockaddr_in6)
						 : (int)sizeof(struct sockaddr_in);
	if (bind(s, (struct sockaddr *)&any, anylen) != 0 && WSAGetLastError() != WSAEINVAL)
		return net_wsa_error((unsigned long)WSAGetLastError());
	struct op *op = op_get(b, OP_CONNECT, st, s);
	if (!op)
		return -ENOMEM;
	st->connect_cb = cb;
	loop->active++;
	BOOL ok = b->connectex(s, addr, addrlen, NULL, 0, NULL, &op->ov);
	op_issued(b, op, ok, ok ? 0 : (DWORD)WSAGetLastError());
	return 0;
}

static void deliver_connect(struct loop *loop, struct op *op)
{
	struct loop_stream *st = op->owner;
	DWORD bytes;
	int err = op_result(op, &bytes);
	/* Without this the socket does not know it is connected (getpeername, shutdown). */
	if (err == 0 && setsockopt(op->sock, SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT, NULL, 0) != 0)
		err = net_wsa_error((unsigned long)WSAGetLastError());
	op_put(loop->backend, op);
	loop->active--;
	loop_connect_cb cb = st->connect_cb;
	st->connect_cb = NULL;
	cb(loop, st, st->closing ? -ECANCELED : err);
	stream_try_close(loop, st);
}

void loop_stream_close(struct loop *loop, struct loop_stream *st, loop_close_cb cb)
{
	struct loop_backend *b = loop->backend;
	struct op *op = st->os;
	st->closing = true;
	st->close_cb = cb;
	loop->active++;
	if (st->read_cb || st->write_cb || st->connect_cb)
		CancelIoEx((HANDLE)(SOCKET)st->fd, NULL); /* every request on the socket */
	op_queue(b, op, 0);
}

static void deliver_stream_close(struct loop *loop, struct op *op)
{
	struct loop_stream *st = op->owner;
	op_put(loop->backend, op);
	st->os = &close_seen;
	stream_try_close(loop, st);
}

/* ---- accept ---- */

static void accept_issue(struct loop_backend *b, struct op *op)
{
	memset(&op->ov, 0, sizeof op->ov);
	int fd = net_stream_socket(op->family);
	if (fd < 0) {
		op_queue(b, op, fd);
		return;
	}
	op->accepted = (SOCKET)fd;
	DWORD bytes = 0, addrlen = sizeof(struct sockaddr_storage) + 16;
	BOOL ok = b->acceptex(op->sock, op->accepted, op->u.addrs, 0, addrlen, addrlen, &bytes,
			      &op->ov);
	op_issued(b, op, ok, ok ? 0 : (DWORD)WSAGetLastError());
}

int loop_accept_start(struct loop *loop, struct loop_acceptor *ac, int listen_fd,
		      loop_accept_cb cb, void *data)
{
	struct loop_backend *b = loop->backend;
	*ac = (struct loop_acceptor){.fd = listen_fd, .data = data, .cb = cb};
	SOCKET s = (SOCKET)listen_fd;
	struct net_addr local;
	int rc = net_local_addr(listen_fd, &local);
	if (rc == 0)
		rc = associate(b, s);
	if (rc == 0 && !b->acceptex)
		rc = extension(s, (GUID)WSAID_ACCEPTEX, &b->acceptex, sizeof b->acceptex);
	if (rc < 0)
		return rc;
	struct op *op = op_get(b, OP_ACCEPT, ac, s);
	struct op *closer = op_get(b, OP_CLOSE_ACCEPT, ac, s);
	if (!op || !closer) {
		if (op)
			op_put(b, op);
		if (closer)
			op_put(b, closer);
		return -ENOMEM;
	}
	op->family = local.ss.ss_family;
	ac->os = op;
	ac->os_close = closer;
	loop->active++;
	accept_issue(b, op);
	return 0;
}

static void acceptor_try_close(struct loop *loop, struct loop_acceptor *ac)
{
	if (!ac->is_closing || ac->os || ac->os_close)
		return;
	loop->active--;
	ac->close_cb(loop, ac); /* may free ac */
}

static void deliver_accept(struct loop *loop, struct op *op)
{
	struct loop_backend *b = loop->backend;
	struct loop_acceptor *ac = op->owner;
	DWORD bytes;
	int err = op_result(op, &bytes);
	SOCKET s = op->accepted;
	op->accepted = INVALID_SOCKET;
	if (ac->is_closing) {
		if (s != INVALID_SOCKET)
			closesocket(s);
		op_put(b, op);
		ac->os = NULL;
		acceptor_try_close(loop, ac);
		return;
	}
	u_long one = 1;
	/* The accepted socket learns its listener (getpeername, shutdown) from this. */
	if (err == 0 && (setsockopt(s, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT, (char *)&op->sock,
				    sizeof op->sock) != 0 ||
			 ioctlsocket(s, FIONBIO, &one) != 0))
		err = net_wsa_error((unsigned long)WSAGetLastError());
	if (err < 0 && s != INVALID_SOCKET)
		closesocket(s);
	/* The next AcceptEx goes out before the callback, which may close the acceptor
	 * (and so cancel it). */
	accept_issue(b, op);
	if (err == 0)
		ac->cb(loop, ac, (int)s, 0);
	else if (err != -ECONNRESET && err != -ECONNABORTED)
		ac->cb(loop, ac, -1, err);
}

void loop_accept_close(struct loop *loop, struct loop_acceptor *ac, loop_acceptor_close_cb cb)
{
	struct loop_backend *b = loop->backend;
	struct op *op = ac->os;
	ac->is_closing = true;
	ac->close_cb = cb;
	if (op && op->pending && op->os_holds)
		CancelIoEx((HANDLE)op->sock, &op->ov);
	op_queue(b, ac->os_close, 0);
}

static void deliver_accept_close(struct loop *loop, struct op *op)
{
	struct loop_acceptor *ac = op->owner;
	op_put(loop->backend, op);
	ac->os_close = NULL;
	acceptor_try_close(loop, ac);
}

/* ---- posts (loop_iocp.h) ---- */

int loop_post_arm(struct loop *loop, struct loop_post *post, loop_post_cb cb, void *data)
{
	struct op *op = op_get(loop->backend, OP_POST, post, INVALID_SOCKET);
	if (!op)
		return -ENOMEM;
	post->cb = cb;
	post->data = data;
	post->os = op;
	op->pending = true;
	op->os_holds = true;
	loop->active++;
	return 0;
}

int loop_post_send(struct loop *loop, struct loop_post *post)
{
	struct op *op = post->os;
	if (!PostQueuedCompletionStatus(loop->backend->port, 0, 0, &op->ov))
		return net_wsa_error(GetLastError());
	return 0;
}

void loop_post_forget(struct loop *loop, struct loop_post *post)
{
	struct op *op = post->os;
	if (!op)
		return;
	op->owner = NULL; /* a packet still to come returns it to the pool */
	post->os = NULL;
	loop->active--;
}

static void deliver_post(struct loop *loop, struct op *op)
{
	struct loop_post *post = op->owner;
	if (!post) {
		op_put(loop->backend, op);
		return;
	}
	op_put(loop->backend, op);
	post->os = NULL;
	loop->active--;
	post->cb(loop, post);
}

/* ---- the loop ---- */

static void deliver(struct loop *loop, struct op *op)
{
	op->pending = false;
	switch (op->kind) {
	case OP_POLL: deliver_poll(loop, op); break;
	case OP_RECV: deliver_recv(loop, op); break;
	case OP_SEND: deliver_send(loop, op); break;
	case OP_CONNECT: deliver_connect(loop, op); break;
	case OP_ACCEPT: deliver_accept(loop, op); break;
	case OP_CLOSE_STREAM: deliver_stream_close(loop, op); break;
	case OP_CLOSE_ACCEPT: deliver_accept_close(loop, op); break;
	case OP_POST: deliver_post(loop, op); break;
	}
}

static void deliver_entry(struct loop *loop, const OVERLAPPED_ENTRY *e)
{
	struct loop_backend *b = loop->backend;
	if (e->lpOverlapped) {
		deliver(loop, (struct op *)e->lpOverlapped);
		return;
	}
	if (e->lpCompletionKey == KEY_WAKE) {
		atomic_store(&b->wake_pending, 0);
		if (loop->on_wake)
			loop->on_wake(loop);
	}
}

/* Delivers the records queued so far; ones queued by these callbacks wait for the next
 * iteration. */
static void run_queue(struct loop *loop)
{
	struct loop_backend *b = loop->backend;
	struct op *op = b->queue;
	b->queue = b->queue_tail = NULL;
	while (op) {
		struct op *next = op->next;
		deliver(loop, op);
		op = next;
	}
}

int loop_run(struct loop *loop)
{
	struct loop_backend *b = loop->backend;
	loop->stop = false;
	while (!loop->stop && loop_active(loop) > 0) {
		int timeout = b->queue ? 0 : loop_timers_timeout_ms(loop);
		ULONG n = 0;
		if (!GetQueuedCompletionStatusEx(b->port, b->batch, LOOP_MAX_EVENTS, &n,
						 timeout < 0 ? INFINITE : (DWORD)timeout, FALSE)) {
			DWORD err = GetLastError();
			if (err != WAIT_TIMEOUT)
				return net_wsa_error(err);
			n = 0;
		}
		loop_update_time(loop);
		for (ULONG i = 0; i < n; i++)
			deliver_entry(loop, &b->batch[i]);
		run_queue(loop);
		loop_timers_run(loop);
	}
	return 0;
}

#endif /* _WIN32 */
