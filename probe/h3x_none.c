/* h3x_none — h3x.h for the Windows build, which has no HTTP/3 (filter_quic_none.c): a
 * QUIC link never comes up there, so no request is ever begun on one; what a link does
 * with a request that ends before that (detach) is nothing. Compiles to nothing off
 * Windows (h3x.c is the real one). */
#ifdef _WIN32
#include "probe/h3x.h"

static void h3x_none_conn(struct conn *c) { (void)c; }
static void h3x_none_event(struct link *l, const struct h3_event *ev) { (void)l, (void)ev; }
static void h3x_none_link(struct link *l) { (void)l; }

const struct link_proto h3x_proto = {
	.name = "h3",
	.begin = h3x_none_conn,
	.ready = h3x_none_conn,
	.detach = h3x_none_conn,
	.stream_event = h3x_none_event,
	.streams_available = h3x_none_link,
};
#endif
