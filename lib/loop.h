/* loop — one event loop per thread: socket readiness, completion-style streams,
 * timers, a cross-thread wake-up.
 *
 * The API is the contract between tunnelprobe's parts and the OS; backends implement
 * it in their own files (loop_epoll.c on Linux; a completion-port loop_iocp.c on
 * Windows) behind the same calls, so callers never change with the backend. The
 * last section of this header says exactly what a backend provides.
 *
 * Conventions: functions return 0 or a negative errno. Every struct is caller
 * memory: loop_init()/loop_free() on a struct loop the caller owns, and the
 * watchers (struct loop_io, struct loop_timer, struct loop_stream) live inside the
 * caller's objects and must stay put while started. Nothing here allocates per event.
 * A loop is used by one thread only, except loop_wake(), which any thread may call.
 * Callbacks run only from loop_run(), never inside the call that asked for them.
 *
 * Two ways to do socket I/O, both available on every backend:
 *  - Readiness (struct loop_io): the loop says when a non-blocking call (net_read,
 *    net_write, net_accept, net_connect_result, a UDP batch) is worth trying, and the
 *    caller makes it. The probe, the origin, the proxy and c-ares use this.
 *  - Completion (struct loop_stream): the caller hands the loop a buffer to read into
 *    or to write out and is called back when the OS is done with it. This is the
 *    native shape of a completion port, and the only one in which a partial send
 *    completion exists (the Windows incident: see loop_stream_write()).
 * One fd is driven one way at a time: never a loop_io and a loop_stream on the same fd.
 *
 * Readiness is level-triggered, and callers rely on it: while a watcher is started
 * for LOOP_READ and its socket still has unread bytes, a pending FIN or RST, or an
 * error, every iteration of the loop reports LOOP_READ again; likewise LOOP_WRITE for
 * as long as there is room to send. So a callback may read less than is available and
 * will be called again (proxy-under-test/relay.c stops after a short read, and after
 * RELAY_STEPS reads per event, counting on exactly this). Spurious reports are
 * allowed: the call then returns -EAGAIN and the caller waits for the next event.
 *
 * fd is an int everywhere. On Windows it holds a SOCKET: handle values fit in 32 bits
 * (Windows keeps them so for 32/64-bit interoperability) and INVALID_SOCKET is -1.
 */
#ifndef TP_LOOP_H
#define TP_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	LOOP_READ = 1u << 0,  /* readable, or a peer FIN/RST is pending; a listener can accept */
	LOOP_WRITE = 1u << 1, /* writable, or a connect() finished */
	LOOP_ERROR = 1u << 2, /* error or hang-up reported; the next syscall tells which */
};

struct loop;
struct loop_io;
struct loop_timer;
struct loop_stream;
struct loop_backend; /* defined by the backend file */

/* Called with the events that fired (a subset of LOOP_* bits). The callback may
 * stop or free its own watcher, and start or stop any other. */
typedef void (*loop_io_cb)(struct loop *loop, struct loop_io *io, unsigned events);
typedef void (*loop_timer_cb)(struct loop *loop, struct loop_timer *timer);

struct loop_io {
	int fd;
	unsigned events;  /* what is being watched; 0 when stopped */
	loop_io_cb cb;
	void *data;       /* the caller's; untouched by the loop */
	void *os;         /* private: IOCP's poll record in flight; meaningful only while
			   * started (epoll leaves it alone) */
};

struct loop_timer {
	uint64_t due_us;  /* absolute, on the loop's monotonic clock */
	size_t heap_index; /* position in the loop's heap; SIZE_MAX when not started */
	loop_timer_cb cb;
	void *data;
};

struct loop {
	void *data;                         /* the caller's; set it after loop_init() */
	void (*on_wake)(struct loop *loop); /* optional, runs in the loop thread */

	/* The rest is private to lib/loop*.c. A zero-filled struct loop is a loop that was
	 * never initialised; loop_free() leaves it alone. */
	uint64_t now_us;          /* cached clock, refreshed once per iteration */
	struct loop_timer **heap; /* min-heap by due_us; grows with the number of timers */
	size_t heap_len, heap_cap;
	size_t active;            /* what keeps loop_run() going besides timers (see below) */
	bool stop;                /* set by loop_stop(), read by loop_run() */
	struct loop_backend *backend; /* the backend's own state; NULL until loop_init() */
};

/* Zero-fills *loop and creates the backend. Returns 0, or -errno (-ENOMEM, or what
 * the OS said) with *loop left as a loop that was never initialised. */
int loop_init(struct loop *loop);
/* Releases the backend; watchers still started are simply forgotten, streams not
 * closed are abandoned. NULL-safe, and safe on a zero-filled or already freed loop. */
void loop_free(struct loop *loop);

/* Runs until loop_stop() or until loop_active() is 0. Returns 0, or -errno on a
 * backend failure. */
int loop_run(struct loop *loop);
/* Makes loop_run() return after the current iteration (loop thread only). */
void loop_stop(struct loop *loop);
/* Thread-safe: wakes the loop, which then calls loop->on_wake (if set) in its thread.
 * Every loop_wake() is followed by an on_wake; several may be folded into one. */
void loop_wake(struct loop *loop);
/* What keeps loop_run() going: started io watchers, started timers, stream requests in
 * flight and stream closes not yet called back. 0 for a loop with nothing left open. */
size_t loop_active(const struct loop *loop);

/* The loop's cached monotonic time in microseconds; loop_update_time() refreshes it. */
static inline uint64_t loop_now(const struct loop *loop) { return loop->now_us; }
void loop_update_time(struct loop *loop);
/* The monotonic clock in microseconds, uncached, from any thread. */
uint64_t loop_clock_us(void);

/* ---- readiness ---- */

/* Watches fd for events (LOOP_READ|LOOP_WRITE). Starting an already started watcher
 * changes its events (and its fd, callback and data). events == 0 stops it.
 * Returns 0 or -errno (the fd is not a socket the backend can watch, -ENOMEM). */
int loop_io_start(struct loop *loop, struct loop_io *io, int fd, unsigned events,
		  loop_io_cb cb, void *data);
int loop_io_set(struct loop *loop, struct loop_io *io, unsigned events);
/* Stops watching; safe on a stopped watcher. Call it before closing the fd. Events
 * already collected for it in the current batch are dropped, so a callback may stop
 * and free any watcher's owner, not just its own; the watcher's memory is the
 * caller's again as soon as this returns. */
void loop_io_stop(struct loop *loop, struct loop_io *io);

/* ---- timers ---- */

/* Initialises a timer as stopped (call once before the first start). */
void loop_timer_init(struct loop_timer *timer, loop_timer_cb cb, void *data);
/* (Re)arms the timer to fire once, after_us from loop_now(). Returns 0 or -ENOMEM. */
int loop_timer_start(struct loop *loop, struct loop_timer *timer, uint64_t after_us);
/* Arms at an absolute time on the loop clock; a time already past fires in the next
 * iteration. */
int loop_timer_start_at(struct loop *loop, struct loop_timer *timer, uint64_t due_us);
void loop_timer_stop(struct loop *loop, struct loop_timer *timer);
static inline bool loop_timer_active(const struct loop_timer *timer)
{
	return timer->heap_index != SIZE_MAX;
}

/* ---- completion-style streams ----
 * A stream is a connected, non-blocking stream socket driven by completions. At most
 * one read and one write are in flight at a time; their buffers are the caller's and
 * must stay allocated and untouched until their callback has run (on a completion
 * port the kernel writes into the read buffer while the read is pending).
 *
 * Closing is asynchronous, as a completion port requires: loop_stream_close() cancels
 * what is in flight, each cancelled request's callback runs with -ECANCELED, then the
 * close callback runs; only then may the caller free the stream and its buffers and
 * close the fd (through lib/net). Closing does not flush: to end with a FIN after the
 * last byte, wait for the write callback, shut the write side down, then close. */

enum {
	/* loop_stream_write(): complete the request at the first send that took fewer
	 * bytes than were posted, instead of posting the remainder; the caller decides. */
	LOOP_WRITE_PARTIAL = 1u << 0,
};

/* nread > 0: that many bytes are at the start of the read buffer; 0: the peer sent
 * FIN; < 0: -errno (-ECONNRESET, ...), or -ECANCELED after loop_stream_close().
 * The callback may start the next read, a write, or close the stream. */
typedef void (*loop_read_cb)(struct loop *loop, struct loop_stream *st, long nread);
/* written: bytes of the buffer the OS took, in order from its start. err is 0 when
 * the request is done (written == len, or less with LOOP_WRITE_PARTIAL), else -errno
 * or -ECANCELED, written then saying how far it got. */
typedef void (*loop_write_cb)(struct loop *loop, struct loop_stream *st, size_t written,
			      int err);
/* The stream, its buffers and its fd are the caller's again. */
typedef void (*loop_close_cb)(struct loop *loop, struct loop_stream *st);

struct loop_stream {
	int fd;
	void *data;            /* the caller's; untouched by the loop */
	uint64_t send_ops;     /* sends that completed (took bytes or failed) */
	uint64_t short_sends;  /* of which took fewer bytes than were posted */

	/* Private to the backend. */
	struct loop_io io;     /* readiness backends: the watcher behind the requests */
	void *os;              /* backend state the OS may hold on to (IOCP: OVERLAPPEDs) */
	unsigned char *rbuf;
	size_t rlen;
	loop_read_cb read_cb;  /* non-NULL while a read is in flight */
	const unsigned char *wbuf;
	size_t wlen, wdone;
	unsigned wflags;
	loop_write_cb write_cb; /* non-NULL while a write is in flight */
	void (*connect_cb)(struct loop *loop, struct loop_stream *st, int err); /* in flight */
	loop_close_cb close_cb;
	bool closing;
	struct loop_stream *next_closing;
};

/* Makes fd (connected, non-blocking) a stream with no request in flight. Returns 0 or
 * -errno (IOCP: the socket cannot be tied to the completion port). */
int loop_stream_init(struct loop *loop, struct loop_stream *st, int fd, void *data);
/* Reads at most len (> 0) bytes into buf; cb runs once, when some arrived, at EOF or
 * on an error. Returns 0, -EBUSY (a read is in flight), -EINVAL (len 0, no cb),
 * -EBADF (the stream is closing) or -errno. */
int loop_stream_read(struct loop *loop, struct loop_stream *st, void *buf, size_t len,
		     loop_read_cb cb);
/* Writes all len (> 0) bytes of buf; cb runs once, when the OS took them all or on an
 * error. A send that takes only part of what was posted (a partial WSASend completion,
 * a short send()) is counted in short_sends and the backend posts the remainder
 * itself — unless flags has LOOP_WRITE_PARTIAL, which completes the request there.
 * Returns 0, -EBUSY (a write is in flight), -EINVAL, -EBADF (closing) or -errno. */
int loop_stream_write(struct loop *loop, struct loop_stream *st, const void *buf, size_t len,
		      unsigned flags, loop_write_cb cb);
/* Cancels what is in flight and calls cb (which must not be NULL) once that is done,
 * from loop_run(); see "Closing" above. Safe to call from any stream callback;
 * calling it twice is a bug. */
void loop_stream_close(struct loop *loop, struct loop_stream *st, loop_close_cb cb);

/* Connects st — made by loop_stream_init() on an fd from net_stream_socket(), not yet
 * connected — to addr (a struct sockaddr_in or sockaddr_in6 of addrlen bytes); cb runs
 * once, from loop_run(), with 0 when connected or -errno (-ECONNREFUSED, -ETIMEDOUT,
 * -ECANCELED after loop_stream_close()). IOCP: ConnectEx (binding the socket to the
 * wildcard address first, as ConnectEx requires); readiness backends: a non-blocking
 * connect() finished at writability. Start no read or write before cb has run.
 * Returns 0, -EBUSY (a connect or write is in flight), -EINVAL, -EBADF (closing) or
 * -errno. */
struct sockaddr;
typedef void (*loop_connect_cb)(struct loop *loop, struct loop_stream *st, int err);
int loop_stream_connect(struct loop *loop, struct loop_stream *st, const struct sockaddr *addr,
			int addrlen, loop_connect_cb cb);

/* ---- completion-style accept ----
 * An acceptor accepts connections on a listening socket and hands each one over as a
 * connected, non-blocking fd (the caller's: close it through lib/net). IOCP keeps one
 * AcceptEx in flight per acceptor (the listen backlog queues the rest); readiness
 * backends accept at readability, at most LOOP_ACCEPT_BATCH per event. Connections a
 * peer abandoned before they were accepted (reset, aborted) are skipped, not reported.
 * Closing is asynchronous like a stream's. */

#define LOOP_ACCEPT_BATCH 64

struct loop_acceptor;
/* fd >= 0 with err 0: a new connection; fd -1 with err < 0: accepting failed (-EMFILE,
 * -ENFILE, -ENOBUFS, ...) and the acceptor goes on trying; stop it if that is not
 * wanted. The callback may close the acceptor. */
typedef void (*loop_accept_cb)(struct loop *loop, struct loop_acceptor *ac, int fd, int err);
/* The acceptor's memory and its listening fd are the caller's again. */
typedef void (*loop_acceptor_close_cb)(struct loop *loop, struct loop_acceptor *ac);

struct loop_acceptor {
	int fd;     /* the listening socket (from net_listen) */
	void *data; /* the caller's; untouched by the loop */

	/* Private to the backend. */
	loop_accept_cb cb;
	loop_acceptor_close_cb close_cb;
	struct loop_io io;         /* readiness backends: the listener's watcher */
	struct loop_timer closing; /* readiness backends: runs close_cb from loop_run() */
	void *os;                  /* IOCP: the AcceptEx record in flight */
	void *os_close;            /* IOCP: the close record until it came back */
	bool is_closing;
};

/* Accepts on listen_fd (non-blocking, listening) until loop_accept_close(); cb runs
 * once per connection, from loop_run(). Returns 0 or -errno (IOCP: the socket cannot be
 * tied to the completion port, -ENOMEM). */
int loop_accept_start(struct loop *loop, struct loop_acceptor *ac, int listen_fd,
		      loop_accept_cb cb, void *data);
/* Stops accepting: the accept callback does not run again, a connection accepted but
 * not yet handed over is closed, and cb (not NULL) runs from loop_run() once nothing is
 * in flight. Calling it twice is a bug. */
void loop_accept_close(struct loop *loop, struct loop_acceptor *ac, loop_acceptor_close_cb cb);

/* ---- What a backend provides ----
 * A backend is one file, lib/loop_<name>.c, that compiles to nothing off its platform
 * (loop_epoll.c is wrapped in #ifdef __linux__, loop_iocp.c in #ifdef _WIN32)
 * because the Makefile builds every .c file in lib/. lib/loop.c holds what no backend
 * repeats: loop_init/loop_free around the backend's own, the timer heap,
 * loop_timer_*, loop_stop, loop_update_time and loop_active. The backend defines
 * everything else declared above, and:
 *
 *  - struct loop_backend, its own state (epoll: the epoll fd, the eventfd, the event
 *    batch, the queue of closing streams; IOCP: the completion port and its pool of
 *    operation records), made by loop_backend_init() and released by
 *    loop_backend_free() (declared below).
 *  - loop_clock_us(): a monotonic clock (clock_gettime / QueryPerformanceCounter).
 *  - loop_wake(): the only thread-safe call (eventfd / PostQueuedCompletionStatus).
 *  - loop_run(): until loop->stop or loop_active() == 0, each iteration
 *      1. waits for the OS, no longer than loop_timers_timeout_us() (not at all when
 *         completions are already queued; a backend that can only wait whole
 *         milliseconds uses loop_timers_timeout_ms(), and its timers fire up to 1 ms
 *         late),
 *      2. calls loop_update_time(),
 *      3. delivers what the OS reported: io callbacks, stream callbacks, on_wake,
 *      4. calls loop_timers_run().
 *  - loop_io_*: readiness with the level-triggered promise above. A completion-port
 *    backend keeps one poll operation outstanding per started watcher — an
 *    IOCTL_AFD_POLL for AFD_POLL_RECEIVE|DISCONNECT|ABORT|ACCEPT (LOOP_READ) and
 *    AFD_POLL_SEND|CONNECT_FAIL (LOOP_WRITE), as wepoll and libuv's uv_poll do; a
 *    zero-byte overlapped WSARecv also gives LOOP_READ — and posts it again after the
 *    callback for as long as the watcher stays started: a poll for a condition that
 *    still holds completes at once, which is what makes it level-triggered.
 *  - loop_stream_*: as specified above. A completion-port backend posts WSARecv and
 *    WSASend with one operation record per direction, and on a WSASend completion that
 *    took fewer bytes than posted, posts the remainder (or, with LOOP_WRITE_PARTIAL,
 *    completes). Closing is CancelIoEx() plus waiting for both records to come back
 *    through the port. A readiness backend emulates streams with a loop_io.
 *  - loop_stream_connect and loop_accept_*: IOCP with ConnectEx and AcceptEx;
 *    readiness backends share lib/loop_ready.c, built on the calls above.
 *
 * and keeps these rules:
 *  - Callbacks run only from loop_run() (an IOCP operation that completes at once
 *    still goes through the port).
 *  - A stopped watcher gets no callback, not even for events already collected.
 *  - Memory the OS may still write after a stop (an OVERLAPPED, AFD poll info) is
 *    the backend's, never inside the caller's struct loop_io: the caller may free a
 *    watcher as soon as loop_io_stop() returns. Such records come from a pool that
 *    grows to the peak number of operations in flight and is reused; nothing
 *    allocates per event.
 *  - loop->active counts started io watchers, stream requests in flight and stream
 *    closes not yet called back (a stream's internal watcher counts as its requests).
 *  - Errors are negative errno values (WSAECONNRESET becomes -ECONNRESET,
 *    WSAEWOULDBLOCK -EAGAIN, a cancelled operation -ECANCELED).
 */

/* Defined by the backend, for lib/loop.c only: loop_init() calls loop_backend_init()
 * on a zero-filled loop; it sets loop->backend, or returns -errno having released what
 * it made. loop_free() calls loop_backend_free() when loop->backend is set. */
int loop_backend_init(struct loop *loop);
void loop_backend_free(struct loop *loop);

/* For backends only: runs the timers due at loop_now(), in due order. Timers that
 * their callbacks re-arm for now wait for the next iteration. */
void loop_timers_run(struct loop *loop);
/* For backends only: how long the wait may block: -1 (no timer), or milliseconds to
 * the first due timer, rounded up, at most 60000. */
int loop_timers_timeout_ms(const struct loop *loop);
/* The same in microseconds (-1, or at most 60 s): timers fire within microseconds of
 * their due time on a backend that can wait that precisely (epoll_pwait2, a timerfd),
 * which an open-loop probe at sub-millisecond intervals needs. */
int64_t loop_timers_timeout_us(const struct loop *loop);

#endif
