/* judge — every verdict the capture makes, as data (lib/verdict.h) listing the facts it
 * used. Nothing downstream reads a verdict's sentence.
 *
 * A failed request is judged from the evidence at hand, most direct first:
 *   1. a refusal (the probe's class, the proxy ledger's reply, the reply on the wire);
 *   2. the capture's flows (only for the request that ended the connection): how each
 *      leg ended and what it carried;
 *   3. the proxy ledger: what it received and sent per direction, how it ended each leg;
 *   4. the origin ledger against the probe record: what the origin wrote, whether its
 *      peer (the proxy) acknowledged it, how the origin connection ended — enough to
 *      place a loss at the proxy without the proxy's ledger;
 *   5. the probe record alone (closed_early, tls_alert, client_timeout), and only then
 *      failed_unlocated, with `would_locate` naming the evidence that was missing.
 * docs/capture.md "How a verdict is made" has the rules.
 */
#ifndef TP_CAPTURE_JUDGE_H
#define TP_CAPTURE_JUDGE_H

#include "capture/flow.h"
#include "lib/verdict.h"

struct join;
struct tunnel;
struct jrequest;

/* Judges every failed request of t (into its verdict slot), then t itself: the deciding
 * request's verdict, or for a tunnel whose requests were all ok (or that has none) what
 * its proxy lines and flows say. Counts nothing; the caller tallies t->verdict.code. */
void judge_tunnel(const struct join *j, struct tunnel *t);

/* The verdict for a flow on its own (pcap alone, or a tunnel's client flow when nothing
 * else decided), into *v: early_fin, reset, gap, tls_alert, tls_truncation or ok, with
 * the side that did it as the direction (down: the responder). Returns v->code. */
enum tp_verdict_code flow_verdict(const struct flow *f, struct tp_verdict *v);

#endif
