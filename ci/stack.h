/* stack — what a scenario starts around the probe, each child on a free loopback port
 * it reports back ("listening ..."): the replay origin (plain and TLS, its CA in
 * DIR/ca.pem), the reference proxy (and an upstream reference proxy when chained), and
 * a live capture on lo. Children are started through ci/procs.h, so they stop with
 * the run on every path. Caller memory; the procs table is borrowed.
 *
 * The reference proxy may be its Windows build (`proxy reference ... windows` in the
 * scenario, or `run --proxy-build win64`): build/win64/tunnelprobe.exe started under
 * Wine through scripts/wine.sh (docs/windows.md), stopped with SIGINT (Wine ends a
 * process on SIGTERM without a drain), sampled as the process that writes its output.
 */
#ifndef TP_CI_STACK_H
#define TP_CI_STACK_H

#include <stdbool.h>

#include "ci/procs.h"
#include "ci/proxyinfo.h"
#include "ci/scenario.h"
#include "ci/targets.h"

#define STACK_PATH_MAX 4096

struct stack {
	struct procs *ps;              /* borrowed */
	const char *dir;               /* the run folder: ledgers, logs, ca.pem */
	const char *run_id;            /* --run-id for the origin and proxies (borrowed) */
	unsigned http_port, tls_port;  /* the origin's; 0 without one */
	struct proc *proxy;            /* the local reference proxy; NULL when none */
	struct proc *capture;          /* the live capture; NULL when none */
	char proxy_url[SCN_MAX_TEXT + 64]; /* what the probe goes through; "" direct */
	struct proxyinfo info;         /* what that proxy is (the run file's "proxy") */
	char cacert[STACK_PATH_MAX];   /* the probe's --cacert: DIR/ca.pem (the origin's CA);
					* with a QUIC reference proxy DIR/cacerts.pem, that CA
					* and the proxy's (DIR/proxy-ca.pem); "" none */
	const char *proxy_cacert;      /* run --proxy-cacert: a user's QUIC proxy's CA, bundled
					* into DIR/cacerts.pem as a reference one's (set before
					* stack_proxies; borrowed); NULL none */
	bool proxy_win64;              /* --proxy-build win64: the Windows build, whatever the
					* scenario says (set before stack_proxies) */
};

/* Can the Windows build run here? Finds the project's folder from this binary's path
 * (the one holding scripts/wine.sh), then build/win64/tunnelprobe.exe in it, and asks
 * `scripts/wine.sh --check`. Returns 0 with both paths filled, or -1 with why ("Wine is
 * not installed (make deps installs wine64)", "build/win64/tunnelprobe.exe is not built
 * (make windows)", ...). */
int stack_windows_ready(char exe[STACK_PATH_MAX], char wine[STACK_PATH_MAX], char *why, size_t cap);

/* ps and run_id are borrowed for the stack's life. */
void stack_init(struct stack *st, struct procs *ps, const char *dir, const char *run_id);

/* Starts the origin (scenario files relative to scn_dir). Returns 0, or -1 with a
 * message on stderr naming its log. */
int stack_origin(struct stack *st, const struct scenario *scn, const char *scn_dir);

/* Sets proxy_url and info: proxy_override (--proxy) when given, else the scenario's
 * reference proxy started (its upstream first, both resolving t's names to the origin;
 * its "build:" line read; the Windows build when asked for, see above — its upstream
 * stays the Linux one), else the scenario's external proxy or none. Returns 0, or -1
 * with a message on stderr. */
int stack_proxies(struct stack *st, const struct scenario *scn, const char *proxy_override,
		  const struct targets *t);

/* Starts a live capture on lo of the run's ports when the scenario asks for one and
 * this process may (root); says why not otherwise. */
void stack_capture_start(struct stack *st, const struct scenario *scn, bool quiet);

/* Ends the live capture (SIGINT: it writes DIR/capture.pcapng and exits). Returns
 * whether it did. */
bool stack_capture_stop(struct stack *st);

#endif
