/* quicout — the capture's QUIC flows as JSON (the "quic_flows" entries of
 * docs/capture.md) and as summary lines; output.c places them in the document. */
#ifndef TP_CAPTURE_QUICOUT_H
#define TP_CAPTURE_QUICOUT_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "capture/qflow.h"

/* One flow's entry. Returns a new reference (NULL on ENOMEM). */
json_t *quicout_flow_json(const struct qflow *f);
/* {"client", "server"} of a flow, or null. */
json_t *quicout_ref_json(const struct qflow *f);
/* True when a flow has something to say: an Initial carried a CONNECTION_CLOSE with an
 * error, or a Version Negotiation. */
bool quicout_flagged(const struct qflow *f);
/* "quic: N flows, M datagrams" and a line per flagged flow (every QUIC flow with all). */
void quicout_summary(FILE *out, const struct qflow_table *t, bool all);

#endif
