/* stopsig — "stop" requests from outside for the servers and the probe: SIGTERM and
 * SIGINT on POSIX (SIGPIPE ignored: a write to a closed socket is an -EPIPE, never a
 * death); on Windows, which has no SIGTERM, the console's Ctrl-C, Ctrl-Break and close
 * events — what Wine makes of a SIGINT sent to the process.
 *
 * One handler per process, set once by main's code before threads start. It runs in a
 * signal handler (POSIX) or on a thread of its own (Windows): it may only do what is
 * async-signal-safe and thread-safe — store to an atomic, loop_wake().
 */
#ifndef TP_STOPSIG_H
#define TP_STOPSIG_H

/* Installs on_stop for every stop request; it gets the signal number (Windows: SIGINT
 * for Ctrl-C, SIGTERM for the others). */
void stopsig_install(void (*on_stop)(int sig));

#endif
