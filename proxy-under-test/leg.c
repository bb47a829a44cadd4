/* leg — see leg.h. */
#include "proxy-under-test/leg.h"

#include <stdlib.h>
#include <string.h>

#include "proxy-under-test/server.h"
#include "proxy-under-test/session.h"

/* A streams leg's state. Allocated per connection (not per byte or request) and the
 * loop's until its close callback: the loop_stream and the read buffer must stay put
 * while the OS may still touch them. */
struct leg_stream {
	struct loop_stream st;
	struct loop_timer kick;   /* level-triggered events, delivered from loop_run() */
	struct session *s;
	struct leg *leg;          /* where the leg lives in s; the session's to reuse once
				   * detached (a forward connection's next origin leg) */
	bool detached;            /* leg_close() let go: callbacks only count */
	unsigned events;          /* what the session watches */
	bool reading, writing, connecting;
	int connect_err;
	long rx_end;              /* 0 open, 1 the peer's FIN arrived, < 0 its error */
	char *rx;                 /* rx_first, or LEG_RX_BUF bytes of its own once a read
				   * filled rx_first: an idle or handshaking client (a flood
				   * of them) holds 1 KiB, a busy one a flow's worth */
	size_t rx_cap;
	size_t rx_off, rx_len;    /* bytes not yet handed out are rx[rx_off..rx_len) */
	bool grow;                /* a read filled rx: the next one gets LEG_RX_BUF */
	bool reset, shut_wr;      /* how the socket ends once the requests are back */
	char rx_first[LEG_RX_FIRST];
};

static struct loop *loop_of(const struct session *s) { return &s->w->loop; }

static void on_kick(struct loop *loop, struct loop_timer *timer);

static struct leg_stream *stream_new(struct session *s, struct leg *leg, int fd)
{
	struct leg_stream *cs = calloc(1, sizeof *cs);
	if (!cs)
		return NULL;
	if (loop_stream_init(loop_of(s), &cs->st, fd, cs) < 0) {
		free(cs);
		return NULL;
	}
	cs->s = s;
	cs->leg = leg;
	cs->rx = cs->rx_first;
	cs->rx_cap = sizeof cs->rx_first;
	loop_timer_init(&cs->kick, on_kick, cs);
	return cs;
}

int leg_open(struct session *s, struct leg *leg, int fd, enum leg_io io)
{
	leg->io.data = s;
	if (io == LEG_STREAMS) {
		leg->cs = stream_new(s, leg, fd);
		if (!leg->cs)
			return -ENOMEM;
	}
	leg->fd = fd;
	leg->readable = true;
	return 0;
}

/* ---- reading ---- */

static void on_read(struct loop *loop, struct loop_stream *st, long nread)
{
	struct leg_stream *cs = st->data;
	cs->reading = false;
	if (cs->detached)
		return; /* cancelled by the close, or bytes nobody will relay */
	if (nread > 0) {
		cs->rx_off = 0;
		cs->rx_len = (size_t)nread;
		cs->grow = cs->rx_len == cs->rx_cap && cs->rx_cap < LEG_RX_BUF;
	} else {
		cs->rx_end = nread == 0 ? 1 : nread;
	}
	if (cs->events & LOOP_READ)
		session_on_io(loop, &cs->leg->io, LOOP_READ);
}

/* Posts a read into the (empty) buffer unless one is in flight or the end is known. */
static void post_read(struct leg_stream *cs)
{
	if (cs->reading || cs->connecting || cs->rx_off < cs->rx_len || cs->rx_end)
		return;
	if (cs->grow) {
		char *big = malloc(LEG_RX_BUF); /* once per connection; without it, 1 KiB reads */
		if (big) {
			cs->rx = big;
			cs->rx_cap = LEG_RX_BUF;
		}
		cs->grow = false;
	}
	int rc = loop_stream_read(loop_of(cs->s), &cs->st, cs->rx, cs->rx_cap, on_read);
	if (rc < 0)
		cs->rx_end = rc; /* reported by the next leg_read() */
	else
		cs->reading = true;
}

long leg_read(struct leg *leg, void *buf, size_t len, struct zpipe *zp)
{
	struct leg_stream *cs = leg->cs;
	if (!cs) {
		if (!leg->readable)
			return -EAGAIN;
		size_t want = zp ? zp->cap - zp->pending : len;
		long n = zp ? zcopy_in(zp, leg->fd) : net_read(leg->fd, buf, len);
		/* A short read almost always drained the socket; if not, the level-triggered
		 * loop reports it again and the flag comes back. */
		if (n == -EAGAIN || (n > 0 && (size_t)n < want))
			leg->readable = false;
		return n;
	}
	if (cs->rx_off < cs->rx_len) {
		size_t n = cs->rx_len - cs->rx_off < len ? cs->rx_len - cs->rx_off : len;
		memcpy(buf, cs->rx + cs->rx_off, n);
		cs->rx_off += n;
		if (cs->rx_off == cs->rx_len)
			cs->rx_off = cs->rx_len = 0;
		return (long)n;
	}
	if (cs->rx_end)
		return cs->rx_end > 0 ? 0 : cs->rx_end;
	post_read(cs);
	return -EAGAIN;
}

/* ---- writing ---- */

static void on_write(struct loop *loop, struct loop_stream *st, size_t written, int err)
{
	struct leg_stream *cs = st->data;
	cs->writing = false;
	session_on_written(cs->s, cs->leg, cs->detached, written, err);
}

size_t leg_write_max(const struct leg *leg, size_t len)
{
	return leg->cs && len > LEG_SLICE ? LEG_SLICE : len;
}

long leg_write(struct leg *leg, const void *buf, size_t len)
{
	struct leg_stream *cs = leg->cs;
	if (!cs)
		return net_write(leg->fd, buf, len);
	if (cs->writing || cs->connecting)
		return -EAGAIN;
	/* LOOP_WRITE_PARTIAL: a completion that took fewer bytes than posted comes back as
	 * it is, counted as a short send; the relay decides what the rest becomes. */
	int rc = loop_stream_write(loop_of(cs->s), &cs->st, buf, leg_write_max(leg, len),
				   LOOP_WRITE_PARTIAL, on_write);
	if (rc < 0)
		return rc;
	cs->writing = true;
	return LEG_POSTED;
}

void leg_shutdown_write(struct leg *leg)
{
	if (leg->fd < 0 || leg->shut_wr)
		return;
	net_shutdown_write(leg->fd);
	leg->shut_wr = true;
}

/* ---- events ---- */

/* What a streams leg has for the session now, of what it watches. */
static unsigned ready_events(const struct leg_stream *cs)
{
	unsigned ev = 0;
	if ((cs->events & LOOP_READ) && (cs->rx_off < cs->rx_len || cs->rx_end))
		ev |= LOOP_READ;
	if ((cs->events & LOOP_WRITE) && !cs->writing && !cs->connecting)
		ev |= LOOP_WRITE;
	return ev;
}

static void on_kick(struct loop *loop, struct loop_timer *timer)
{
	struct leg_stream *cs = timer->data;
	unsigned ev = ready_events(cs);
	if (ev && !cs->detached)
		session_on_io(loop, &cs->leg->io, ev);
}

int leg_watch(struct session *s, struct leg *leg, unsigned events)
{
	struct leg_stream *cs = leg->cs;
	if (!cs)
		return loop_io_start(loop_of(s), &leg->io, leg->fd, events, session_on_io, s);
	cs->events = events;
	if (events & LOOP_READ)
		post_read(cs);
	/* Level-triggered: what holds already is said again, from loop_run(). */
	if (ready_events(cs) && !loop_timer_active(&cs->kick))
		return loop_timer_start(loop_of(s), &cs->kick, 0);
	return 0;
}

/* ---- connecting ---- */

static void on_connect(struct loop *loop, struct loop_stream *st, int err)
{
	struct leg_stream *cs = st->data;
	cs->connecting = false;
	cs->connect_err = err;
	if (!cs->detached)
		session_on_io(loop, &cs->leg->io, LOOP_WRITE);
}

int leg_connect(struct session *s, struct leg *leg, const struct net_addr *addr, enum leg_io io)
{
	leg->io.data = s;
	leg->readable = true;
	if (io == LEG_READY) {
		int fd = net_connect(addr);
		if (fd < 0)
			return fd;
		leg->fd = fd;
		leg_watch(s, leg, LOOP_WRITE);
		return 0;
	}
	int fd = net_stream_socket(addr->ss.ss_family);
	if (fd < 0)
		return fd;
	leg->cs = stream_new(s, leg, fd);
	if (!leg->cs) {
		net_close(fd);
		return -ENOMEM;
	}
	leg->fd = fd;
	int rc = loop_stream_connect(loop_of(s), &leg->cs->st, (const struct sockaddr *)&addr->ss,
				     (int)addr->len, on_connect);
	if (rc < 0)
		return rc; /* the stream is set up: leg_close() ends it */
	leg->cs->connecting = true;
	return 0;
}

int leg_connect_result(const struct leg *leg)
{
	return leg->cs ? leg->cs->connect_err : net_connect_result(leg->fd);
}

/* ---- closing ---- */

static void on_closed(struct loop *loop, struct loop_stream *st)
{
	struct leg_stream *cs = st->data;
	struct session *s = cs->s;
	if (cs->reset) {
		net_close_reset(st->fd);
	} else {
		/* FIN first: close() alone would send an RST if unread bytes were queued. */
		if (!cs->shut_wr)
			net_shutdown_write(st->fd);
		net_close(st->fd);
	}
	if (cs->rx != cs->rx_first)
		free(cs->rx);
	free(cs);
	session_leg_closed(s);
}

void leg_close(struct session *s, struct leg *leg, bool reset)
{
	if (leg->fd < 0)
		return;
	struct leg_stream *cs = leg->cs;
	if (!cs) {
		loop_io_stop(loop_of(s), &leg->io);
		if (reset) {
			net_close_reset(leg->fd);
		} else {
			if (!leg->shut_wr)
				net_shutdown_write(leg->fd);
			net_close(leg->fd);
		}
	} else {
		cs->detached = true;
		cs->reset = reset;
		cs->shut_wr = leg->shut_wr;
		cs->events = 0;
		loop_timer_stop(loop_of(s), &cs->kick);
		leg->cs = NULL;
		s->closing_legs++;
		loop_stream_close(loop_of(s), &cs->st, on_closed);
	}
	if (leg->end == END_OPEN)
		leg->end = reset ? END_LOCAL_RST : END_LOCAL;
	leg->fd = -1;
}
