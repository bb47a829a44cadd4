/* proxy — `tunnelprobe proxy`: the reference proxy (HTTP forward, CONNECT, SOCKS5,
 * chaining), correct by default, with fault injection by switch (docs/proxy.md). */
#ifndef TP_PROXY_PROXY_H
#define TP_PROXY_PROXY_H

/* Exit 0 after a clean stop (SIGTERM/SIGINT drain), 2 for bad usage or when it cannot
 * start (ledger, loop, resolver, listener or thread: a message says which). */
int proxy_main(int argc, char **argv);

#endif
