/* check — `tunnelprobe check`: the conformance battery for a proxy (docs/check.md). */
#ifndef TP_CHECK_CHECK_H
#define TP_CHECK_CHECK_H

/* Exit 0 when no check failed, 1 when one did, 2 for bad usage or when the battery
 * cannot start (its origin, the proxy's address): one line on stderr says why. */
int check_main(int argc, char **argv);

#endif
