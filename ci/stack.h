/* stack — what a scenario starts around the probe, each child on a free loopback port
 * it reports back ("listening ..."): the replay origin (plain and TLS, its CA in
 * DIR/ca.pem), the reference proxy (and an upstream reference proxy when chained), and
 * a live capture on lo. Children are started through ci/procs.h, so they stop with
 * the run on every path. Caller memory; the procs table is borrowed.
 */
#ifndef TP_CI_STACK_H
#define TP_CI_STACK_H

#include <stdbool.h>

#include "ci/procs.h"
#include "ci/proxyinfo.h"
#include "ci/scenario.h"
#include "ci/targets.h"

struct stack {
	struct procs *ps;              /* borrowed */
	const char *dir;               /* the run folder: ledgers, logs, ca.pem */
	const char *run_id;            /* --run-id for the origin and proxies (borrowed) */
	unsigned http_port, tls_port;  /* the origin's; 0 without one */
	struct proc *proxy;            /* the local reference proxy; NULL when none */
	struct proc *capture;          /* the live capture; NULL when none */
	char proxy_url[SCN_MAX_TEXT + 64]; /* what the probe goes through; "" direct */
	struct proxyinfo info;         /* what that proxy is (the run file's "proxy") */
};

/* ps and run_id are borrowed for the stack's life. */
void stack_init(struct stack *st, struct procs *ps, const char *dir, const char *run_id);

/* Starts the origin (scenario files relative to scn_dir). Returns 0, or -1 with a
 * message on stderr naming its log. */
int stack_origin(struct stack *st, const struct scenario *scn, const char *scn_dir);

/* Sets proxy_url and info: proxy_override (--proxy) when given, else the scenario's
 * reference proxy started (its upstream first, both resolving t's names to the origin;
 * its "build:" line read), else the scenario's external proxy or none. Returns 0, or
 * -1 with a message on stderr. */
int stack_proxies(struct stack *st, const struct scenario *scn, const char *proxy_override,
		  const struct targets *t);

/* Starts a live capture on lo of the run's ports when the scenario asks for one and
 * this process may (root); says why not otherwise. */
void stack_capture_start(struct stack *st, const struct scenario *scn, bool quiet);

/* Ends the live capture (SIGINT: it writes DIR/capture.pcapng and exits). Returns
 * whether it did. */
bool stack_capture_stop(struct stack *st);

#endif
