/* filter_tcp — the bottom of a TCP stack: a non-blocking connect to the link's first hop
 * (proxy or origin), then the socket's bytes. The socket is the link's (link->fd), so
 * the link watches it for whichever filter above waits. */
#include <errno.h>
#include <string.h>

#include "lib/net.h"
#include "probe/link.h"
#include "probe/worker.h"

static int tcp_connect(struct pf *f)
{
	struct pf_tcp *t = (struct pf_tcp *)f;
	struct link *l = f->link;
	if (!t->started) {
		t->started = true;
		int fd = net_connect(&l->remote);
		if (fd < 0) {
			/* Reported from the loop (link_deadline), never from inside the start of
			 * a request: a run of instant failures must not recurse. */
			char where[NET_ADDRSTRLEN];
			pf_fail(&l->err, TP_CONNECT_ERROR, TP_PHASE_CONNECT, "%s: %s",
				net_addr_format(&l->remote, where), net_strerror(fd));
			l->deferred_fail = true;
			return -EAGAIN;
		}
		l->fd = fd;
		l->w->stats.tot.conns_opened++;
		link_watch(l, LOOP_WRITE);
		return -EAGAIN;
	}
	int err = net_connect_result(l->fd);
	if (err < 0) {
		char where[NET_ADDRSTRLEN];
		return pf_fail(&l->err, TP_CONNECT_ERROR, TP_PHASE_CONNECT, "%s: %s",
			       net_addr_format(&l->remote, where), net_strerror(err));
	}
	struct net_addr local;
	if (net_local_addr(l->fd, &local) == 0)
		net_addr_format(&local, l->local_s);
	net_addr_format(&l->remote, l->remote_s);
	net_nodelay(l->fd);
	return 0;
}

static long tcp_read(struct pf *f, void *buf, size_t len) { return net_read(f->link->fd, buf, len); }
static long tcp_write(struct pf *f, const void *buf, size_t len)
{
	return net_write(f->link->fd, buf, len);
}
static int tcp_shutdown(struct pf *f) { return net_shutdown_write(f->link->fd); }
static unsigned tcp_want(const struct pf *f, unsigned plain)
{
	(void)f;
	return plain;
}
static size_t tcp_pending(const struct pf *f)
{
	(void)f;
	return 0;
}

static void tcp_close(struct pf *f)
{
	struct link *l = f->link;
	((struct pf_tcp *)f)->started = false;
	if (l->fd >= 0) {
		loop_io_stop(&l->w->loop, &l->io);
		net_close(l->fd);
		l->fd = -1;
	}
}

static void tcp_timed_out(struct pf *f, struct pf_error *err)
{
	pf_fail(err, TP_TIMEOUT, TP_PHASE_CONNECT, "not connected within %.1fs",
		f->link->w->cfg->connect_timeout_s);
}

const struct pf_ops pf_tcp_ops = {
	.name = "tcp",
	.phase = TP_PHASE_CONNECT,
	.connect = tcp_connect,
	.read = tcp_read,
	.write = tcp_write,
	.shutdown = tcp_shutdown,
	.close = tcp_close,
	.want = tcp_want,
	.pending = tcp_pending,
	.timed_out = tcp_timed_out,
};
