/* floor-client — the cheapest HTTP/1.1 load generator this machine can run: a bench
 * reference, not a tool. Closed loop over N keep-alive connections to 127.0.0.1:PORT,
 * one GET at a time per connection; a response is "complete" once its head and
 * Content-Length bytes are in. No verification, no statistics, no timeouts beyond the
 * run's length: what is left is the kernel's cost of a request, which bounds what any
 * client (the probe, wrk) can reach in requests per CPU-second.
 *
 *   floor-client epoll|uring PORT SECONDS CONNS PATH
 *
 * "uring" (io_uring through liburing, built with -DFLOOR_URING) submits each send and
 * the next recv as one batch per wake-up. Prints the number of complete responses.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#ifdef FLOOR_URING
#include <liburing.h>
#endif

#define MAX_CONNS 1024

struct fconn {
	int fd;
	size_t have, need; /* need: head + body length, 0 until the head is in */
	char buf[16384];
};

static struct fconn conns[MAX_CONNS];
static char req[512];
static size_t req_len;

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Takes got more bytes: 1 when buf held a complete response (c is then reset for the
 * next), 0 when more is needed, -1 on a response this reference cannot frame (no
 * Content-Length, or larger than its buffer). */
static int complete(struct fconn *c, size_t got)
{
	c->have += got;
	if (!c->need) {
		char *end = memmem(c->buf, c->have, "\r\n\r\n", 4);
		if (!end)
			return c->have == sizeof c->buf ? -1 : 0;
		*end = '\0';
		char *cl = strcasestr(c->buf, "\r\ncontent-length:");
		if (!cl)
			return -1;
		c->need = (size_t)(end - c->buf) + 4 + strtoul(cl + 17, NULL, 10);
		if (c->need > sizeof c->buf)
			return -1;
	}
	if (c->have < c->need)
		return 0;
	c->have = c->need = 0; /* ready for the next response */
	return 1;
}

static int dial(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int one = 1;
	if (fd < 0 || setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0 ||
	    connect(fd, (struct sockaddr *)&a, sizeof a) < 0) {
		perror("floor-client: connect");
		exit(1);
	}
	return fd;
}

static long run_epoll(int n, double end)
{
	long done = 0;
	int ep = epoll_create1(0);
	for (int i = 0; i < n; i++) {
		struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &conns[i]};
		epoll_ctl(ep, EPOLL_CTL_ADD, conns[i].fd, &ev);
		send(conns[i].fd, req, req_len, MSG_NOSIGNAL);
	}
	struct epoll_event evs[256];
	while (now_s() < end) {
		int k = epoll_wait(ep, evs, 256, 100);
		for (int i = 0; i < k; i++) {
			struct fconn *c = evs[i].data.ptr;
			ssize_t r = recv(c->fd, c->buf + c->have, sizeof c->buf - c->have, MSG_DONTWAIT);
			if (r <= 0)
				return r == 0 ? (fprintf(stderr, "floor-client: server closed\n"), -1) : -1;
			int st = complete(c, (size_t)r);
			if (st < 0)
				return -1;
			done += st;
			if (st)
				send(c->fd, req, req_len, MSG_NOSIGNAL);
		}
	}
	close(ep);
	return done;
}

#ifdef FLOOR_URING
static void queue_send(struct io_uring *ring, struct fconn *c)
{
	struct io_uring_sqe *s = io_uring_get_sqe(ring);
	io_uring_prep_send(s, c->fd, req, req_len, MSG_NOSIGNAL);
	io_uring_sqe_set_data(s, NULL);
	s->flags |= IOSQE_CQE_SKIP_SUCCESS;
}

static void queue_recv(struct io_uring *ring, struct fconn *c)
{
	struct io_uring_sqe *s = io_uring_get_sqe(ring);
	io_uring_prep_recv(s, c->fd, c->buf + c->have, sizeof c->buf - c->have, 0);
	io_uring_sqe_set_data(s, c);
}

static long run_uring(int n, double end)
{
	long done = 0;
	struct io_uring ring;
	struct io_uring_params p = {.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN};
	if (io_uring_queue_init_params(4 * MAX_CONNS, &ring, &p) < 0) {
		fprintf(stderr, "floor-client: io_uring unavailable\n");
		return -1;
	}
	for (int i = 0; i < n; i++) {
		queue_send(&ring, &conns[i]);
		queue_recv(&ring, &conns[i]);
	}
	while (now_s() < end) {
		struct __kernel_timespec ts = {.tv_nsec = 100000000};
		struct io_uring_cqe *cqe;
		io_uring_submit_and_wait_timeout(&ring, &cqe, 1, &ts, NULL);
		unsigned head, seen = 0;
		io_uring_for_each_cqe(&ring, head, cqe) {
			seen++;
			struct fconn *c = io_uring_cqe_get_data(cqe);
			if (!c)
				return -1; /* a failed send (successful ones post nothing) */
			if (cqe->res <= 0)
				return -1;
			int st = complete(c, (size_t)cqe->res);
			if (st < 0)
				return -1;
			done += st;
			if (st)
				queue_send(&ring, c);
			queue_recv(&ring, c);
		}
		io_uring_cq_advance(&ring, seen);
	}
	io_uring_queue_exit(&ring);
	return done;
}
#endif

int main(int argc, char **argv)
{
	if (argc != 6 || atoi(argv[2]) <= 0 || atof(argv[3]) <= 0 || atoi(argv[4]) <= 0 ||
	    atoi(argv[4]) > MAX_CONNS || argv[5][0] != '/') {
		fprintf(stderr, "usage: floor-client epoll|uring PORT SECONDS CONNS(1-%d) PATH\n", MAX_CONNS);
		return 2;
	}
	if (strcmp(argv[1], "epoll") != 0 && strcmp(argv[1], "uring") != 0) {
		fprintf(stderr, "floor-client: mode is epoll or uring\n");
		return 2;
	}
	int n = atoi(argv[4]);
	req_len = (size_t)snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", argv[5]);
	if (req_len >= sizeof req)
		return 2;
	for (int i = 0; i < n; i++)
		conns[i].fd = dial(atoi(argv[2]));
	double end = now_s() + atof(argv[3]);
	long done;
	if (strcmp(argv[1], "epoll") == 0) {
		done = run_epoll(n, end);
	} else {
#ifdef FLOOR_URING
		done = run_uring(n, end);
#else
		fprintf(stderr, "floor-client: built without liburing\n");
		return 2;
#endif
	}
	if (done < 0)
		return 1;
	printf("%ld\n", done);
	return 0;
}
