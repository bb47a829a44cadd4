/* origin — `tunnelprobe origin`: the replay origin. HTTP/1.1 over TCP and TLS on
 * loopback, answering from site files or built-in paths with deterministic payloads
 * (X-Tp-Seed / X-Tp-Length), with a server-side ledger of every request, and
 * origin-side faults to tell origin faults from proxy faults (docs/origin.md). */
#ifndef TP_REPLAY_ORIGIN_H
#define TP_REPLAY_ORIGIN_H

/* Exit 0 after SIGTERM/SIGINT, 2 for bad usage or a bad site file. */
int origin_main(int argc, char **argv);

#endif
