/* version — the toolkit's version, written into run files ("tool") and reports, and
 * printed by `tunnelprobe version`; the platform and event-loop backend this binary
 * was built for, which the origin and the proxy print at start (TP_BUILD_LINE) so
 * `run` can record what it started. One home so every part says the same. */
#ifndef TP_VERSION_H
#define TP_VERSION_H

#ifdef _WIN32
/* winnt.h names a type TP_VERSION (the thread pool's): it must be read before the macro
 * below exists, whatever a file includes first (through winsock2.h, which must come
 * before windows.h). */
#include <winsock2.h>
#endif

#define TP_VERSION "0.1.0"

/* Operating system and CPU, as "os/arch": "linux/x86_64", "windows/x86_64", ... */
#if defined(_WIN32)
#define TP_OS "windows"
#elif defined(__linux__)
#define TP_OS "linux"
#elif defined(__APPLE__)
#define TP_OS "darwin"
#else
#define TP_OS "unknown"
#endif

#if defined(__x86_64__) || defined(_M_X64)
#define TP_ARCH "x86_64"
#elif defined(__aarch64__) || defined(_M_ARM64)
#define TP_ARCH "aarch64"
#elif defined(__i386__) || defined(_M_IX86)
#define TP_ARCH "x86"
#else
#define TP_ARCH "unknown"
#endif

#define TP_PLATFORM TP_OS "/" TP_ARCH

/* The lib/loop.h backend compiled in: loop_epoll.c on Linux, a completion port
 * (loop_iocp.c) on Windows. */
#if defined(_WIN32)
#define TP_LOOP_BACKEND "iocp"
#else
#define TP_LOOP_BACKEND "epoll"
#endif

/* The line servers print on stdout at start, beside their "listening" lines:
 * "build: tunnelprobe 0.1.0 linux/x86_64 epoll" (docs/proxy.md, docs/origin.md). */
#define TP_BUILD_LINE "build: tunnelprobe " TP_VERSION " " TP_PLATFORM " " TP_LOOP_BACKEND

#endif
