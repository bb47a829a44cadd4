/* exchange — the HTTP/1.1 request/response of a probe request, on the top filter of its
 * link's stack (see link.h, filter.h): the request head (and a generated upload body),
 * the response head and body through lib/http1, the payload to verify.h. */
#ifndef TP_PROBE_EXCHANGE_H
#define TP_PROBE_EXCHANGE_H

#include "probe/link.h"

/* The protocol table a TCP link carries (link.h). */
extern const struct link_proto exchange_http1;

#endif
