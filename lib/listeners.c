/* listeners — see listeners.h. */
#include "lib/listeners.h"

#include <errno.h>

int listeners_open(struct listeners *ls, struct loop *loop, struct net_addr *addrs, size_t n,
		   bool shared, loop_io_cb cb, void *data, size_t *failed)
{
	*ls = (struct listeners){.loop = loop};
	*failed = 0;
	if (n > LISTENERS_MAX)
		return -E2BIG;
	for (size_t i = 0; i < n; i++) {
		int fd = net_listen(&addrs[i], 1024, shared);
		int err = fd < 0 ? fd : 0;
		if (fd >= 0 && net_addr_port(&addrs[i]) == 0) {
			struct net_addr bound;
			err = net_local_addr(fd, &bound);
			if (err == 0)
				net_addr_set_port(&addrs[i], net_addr_port(&bound));
		}
		if (fd >= 0 && err == 0)
			err = loop_io_start(loop, &ls->io[i], fd, LOOP_READ, cb, data);
		if (err < 0) {
			if (fd >= 0)
				net_close(fd);
			listeners_close(ls);
			*failed = i;
			return err;
		}
		ls->fd[i] = fd;
		ls->n++;
	}
	return 0;
}

void listeners_close(struct listeners *ls)
{
	if (!ls)
		return;
	for (size_t i = 0; i < ls->n; i++) {
		loop_io_stop(ls->loop, &ls->io[i]);
		net_close(ls->fd[i]);
	}
	ls->n = 0;
}

size_t listeners_index(const struct listeners *ls, const struct loop_io *io)
{
	return (size_t)(io - ls->io);
}
