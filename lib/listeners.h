/* listeners — the listening sockets of one worker thread of a server (the proxy, the
 * origin): every configured address bound and watched on the worker's loop. When
 * several workers serve the same addresses each opens its own set with SO_REUSEPORT
 * and the kernel spreads the connections; the first set opened binds a port 0 to a
 * free port and writes it back into the address, so the sets opened after it share it.
 *
 * Caller memory: a zero-filled struct listeners is an empty set (listeners_close() a
 * no-op); listeners_open() fills it; listeners_close() empties it again.
 */
#ifndef TP_LISTENERS_H
#define TP_LISTENERS_H

#include <stdbool.h>
#include <stddef.h>

#include "lib/loop.h"
#include "lib/net.h"

#define LISTENERS_MAX 8

struct listeners {
	struct loop *loop;
	int fd[LISTENERS_MAX];
	struct loop_io io[LISTENERS_MAX]; /* io[i] watches fd[i], the socket of addrs[i] */
	size_t n;                         /* sockets open */
};

/* Binds addrs[0..n) (n <= LISTENERS_MAX; shared: SO_REUSEPORT) and watches each for
 * LOOP_READ on loop with cb (io->data = data). A port 0 in addrs becomes the port
 * bound. Returns 0, or a negative errno with *failed the index of the address that
 * could not be bound (-E2BIG: n too large); then nothing is left open. */
int listeners_open(struct listeners *ls, struct loop *loop, struct net_addr *addrs, size_t n,
		   bool shared, loop_io_cb cb, void *data, size_t *failed);
/* Stops watching and closes every socket (connections already accepted live on).
 * NULL-safe; an empty set is left alone. */
void listeners_close(struct listeners *ls);
/* Which address an io of the set (as given to cb) listens on: its index in addrs. */
size_t listeners_index(const struct listeners *ls, const struct loop_io *io);

#endif
