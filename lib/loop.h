/* loop — one event loop per thread: fd readiness, timers, a cross-thread wake-up.
 *
 * The API is the contract between tunnelprobe's parts and the OS. This backend
 * (loop_epoll.c) is readiness-based; a completion-based backend (IOCP) implements
 * the same calls by keeping one outstanding overlapped read/write per watched
 * socket and reporting LOOP_READ/LOOP_WRITE when that operation completes, so the
 * callers' "try the syscall, on EAGAIN wait for the event" logic stays the same.
 * UDP sockets (QUIC) are plain fds here and need nothing more.
 *
 * Conventions: functions return 0 or a negative errno. Every struct is caller
 * memory: loop_init()/loop_free() on a struct loop the caller owns, and the
 * watchers (struct loop_io, struct loop_timer) live inside the caller's objects
 * and must stay put while started. Nothing here allocates per event.
 * A loop is used by one thread only, except loop_wake(), which any thread may call.
 */
#ifndef TP_LOOP_H
#define TP_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	LOOP_READ = 1u << 0,  /* readable, or a peer FIN/RST is pending */
	LOOP_WRITE = 1u << 1, /* writable, or a connect() finished */
	LOOP_ERROR = 1u << 2, /* error or hang-up reported; the next syscall tells which */
};

struct loop;
struct loop_io;
struct loop_timer;

/* Called with the events that fired (a subset of LOOP_* bits). The callback may
 * stop or free its own watcher, and start or stop any other. */
typedef void (*loop_io_cb)(struct loop *loop, struct loop_io *io, unsigned events);
typedef void (*loop_timer_cb)(struct loop *loop, struct loop_timer *timer);

struct loop_io {
	int fd;
	unsigned events;  /* what is being watched; 0 when stopped */
	loop_io_cb cb;
	void *data;       /* the caller's; untouched by the loop */
};

struct loop_timer {
	uint64_t due_us;  /* absolute, on the loop's monotonic clock */
	size_t heap_index; /* position in the loop's heap; SIZE_MAX when not started */
	loop_timer_cb cb;
	void *data;
};

struct loop {
	int backend_fd;        /* epoll instance */
	int wake_fd;           /* eventfd behind loop_wake() */
	uint64_t now_us;       /* cached clock, refreshed once per iteration */
	struct loop_timer **heap; /* min-heap by due_us; grows with the number of timers */
	size_t heap_len, heap_cap;
	size_t io_count;       /* started io watchers */
	volatile int stop;     /* set by loop_stop(); read by loop_run() */
	volatile int woken;    /* set by loop_wake() from any thread */
	void (*on_wake)(struct loop *loop); /* optional, runs in the loop thread */
	void *pending;         /* the current batch of backend events (loop_run) */
	int pending_len;
	void *data;            /* the caller's */
};

/* Returns 0, or -errno when the backend cannot be created. */
int loop_init(struct loop *loop);
/* Releases the backend; watchers still started are simply forgotten. NULL-safe. */
void loop_free(struct loop *loop);

/* Runs until loop_stop() or until no io watcher and no timer is started.
 * Returns 0, or -errno on a backend failure. */
int loop_run(struct loop *loop);
/* Makes loop_run() return after the current iteration (loop thread only). */
void loop_stop(struct loop *loop);
/* Thread-safe: wakes the loop, which calls loop->on_wake (if set) in its thread. */
void loop_wake(struct loop *loop);

/* The loop's cached monotonic time in microseconds; loop_update_time() refreshes it. */
static inline uint64_t loop_now(const struct loop *loop) { return loop->now_us; }
void loop_update_time(struct loop *loop);
/* The monotonic clock in microseconds, uncached, from any thread. */
uint64_t loop_clock_us(void);

/* Watches fd for events (LOOP_READ|LOOP_WRITE). Starting an already started watcher
 * changes its events. events == 0 stops it. Returns 0 or -errno. */
int loop_io_start(struct loop *loop, struct loop_io *io, int fd, unsigned events,
		  loop_io_cb cb, void *data);
int loop_io_set(struct loop *loop, struct loop_io *io, unsigned events);
/* Stops watching; safe on a stopped watcher. Call it before closing the fd. Events
 * already collected for it in the current batch are dropped, so a callback may stop
 * and free any watcher's owner, not just its own. */
void loop_io_stop(struct loop *loop, struct loop_io *io);

/* Initialises a timer as stopped (call once before the first start). */
void loop_timer_init(struct loop_timer *timer, loop_timer_cb cb, void *data);
/* (Re)arms the timer to fire once, after_us from loop_now(). Returns 0 or -ENOMEM. */
int loop_timer_start(struct loop *loop, struct loop_timer *timer, uint64_t after_us);
/* Arms at an absolute time on the loop clock. */
int loop_timer_start_at(struct loop *loop, struct loop_timer *timer, uint64_t due_us);
void loop_timer_stop(struct loop *loop, struct loop_timer *timer);
static inline bool loop_timer_active(const struct loop_timer *timer)
{
	return timer->heap_index != SIZE_MAX;
}

#endif
