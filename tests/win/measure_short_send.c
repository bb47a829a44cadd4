/* measure_short_send — does an overlapped WSASend on a TCP socket ever complete with
 * fewer bytes than were posted? Asks the OS directly (raw Winsock and a completion
 * port, not lib/loop), over loopback, in the situations where one might: a small or
 * zero SO_SNDBUF with a peer that does not read, large posts, several posts at once,
 * cancellation, a peer reset, our own closesocket. Prints one line per case:
 *   case NAME: posted N, completed ok|error (CODE) with B bytes (whole|short|ended by an error)
 *   case NAME: posted N, no completion within MS ms (none)
 * and "summary: short completions K of M" — docs/windows.md records what Wine said.
 * Exit status 0 when every case ran (whatever the OS answered), 1 when one could not
 * be set up. Every wait is bounded. */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MIB (1u << 20)

static int shorts, completions;

struct pair {
	SOCKET tx, rx;
	HANDLE port;
};

static int pair_open(struct pair *p, int sndbuf)
{
	p->tx = p->rx = INVALID_SOCKET;
	p->port = NULL;
	SOCKET l = WSASocketW(AF_INET, SOCK_STREAM, IPPROTO_TCP, NULL, 0, WSA_FLAG_OVERLAPPED);
	struct sockaddr_in a = {.sin_family = AF_INET};
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int alen = sizeof a;
	if (l == INVALID_SOCKET || bind(l, (struct sockaddr *)&a, sizeof a) != 0 ||
	    listen(l, 1) != 0 || getsockname(l, (struct sockaddr *)&a, &alen) != 0)
		return -1;
	p->tx = WSASocketW(AF_INET, SOCK_STREAM, IPPROTO_TCP, NULL, 0, WSA_FLAG_OVERLAPPED);
	if (p->tx == INVALID_SOCKET)
		return -1;
	if (sndbuf >= 0)
		setsockopt(p->tx, SOL_SOCKET, SO_SNDBUF, (const char *)&sndbuf, sizeof sndbuf);
	if (connect(p->tx, (struct sockaddr *)&a, sizeof a) != 0)
		return -1;
	p->rx = accept(l, NULL, NULL);
	closesocket(l);
	if (p->rx == INVALID_SOCKET)
		return -1;
	p->port = CreateIoCompletionPort((HANDLE)p->tx, NULL, 0, 1);
	return p->port ? 0 : -1;
}

static void pair_close(struct pair *p)
{
	if (p->tx != INVALID_SOCKET)
		closesocket(p->tx);
	if (p->rx != INVALID_SOCKET)
		closesocket(p->rx);
	if (p->port)
		CloseHandle(p->port);
}

struct send {
	OVERLAPPED ov;
	char *buf;
	DWORD len;
};

static int post(struct pair *p, struct send *s, DWORD len)
{
	memset(&s->ov, 0, sizeof s->ov);
	s->len = len;
	s->buf = calloc(1, len);
	if (!s->buf)
		return -1;
	WSABUF wb = {.len = len, .buf = s->buf};
	if (WSASend(p->tx, &wb, 1, NULL, 0, &s->ov, NULL) != 0 && WSAGetLastError() != WSA_IO_PENDING)
		return -1;
	return 0;
}

/* Waits up to ms for one completion; prints it under name. Returns 1 when one came. */
static int reap(struct pair *p, const char *name, DWORD posted, DWORD ms)
{
	DWORD bytes = 0;
	ULONG_PTR key;
	OVERLAPPED *ov = NULL;
	BOOL ok = GetQueuedCompletionStatus(p->port, &bytes, &key, &ov, ms);
	if (!ov) {
		printf("case %s: posted %lu, no completion within %lu ms (none)\n", name,
		       (unsigned long)posted, (unsigned long)ms);
		return 0;
	}
	DWORD err = ok ? 0 : GetLastError();
	completions++;
	const char *kind = err ? "ended by an error" : bytes == posted ? "whole" : "short";
	if (ok && bytes < posted)
		shorts++;
	printf("case %s: posted %lu, completed %s (%lu) with %lu bytes (%s)\n", name,
	       (unsigned long)posted, err ? "error" : "ok", (unsigned long)err, (unsigned long)bytes,
	       kind);
	return 1;
}

/* Reads what the peer has until want bytes came, EOF, or ms passed. Returns bytes read. */
static size_t drain(SOCKET rx, size_t want, DWORD ms)
{
	static char buf[256 << 10];
	size_t total = 0;
	ULONGLONG end = GetTickCount64() + ms;
	while (total < want && GetTickCount64() < end) {
		fd_set rd;
		FD_ZERO(&rd);
		FD_SET(rx, &rd);
		struct timeval tv = {.tv_sec = 0, .tv_usec = 100000};
		if (select(0, &rd, NULL, NULL, &tv) <= 0)
			continue;
		int n = recv(rx, buf, sizeof buf, 0);
		if (n <= 0)
			break;
		total += (size_t)n;
	}
	return total;
}

/* A peer that does not read, then reads everything. */
static int case_stalled(int sndbuf, DWORD len)
{
	struct pair p;
	struct send s = {0};
	char name[64];
	snprintf(name, sizeof name, "stalled-peer sndbuf=%d", sndbuf);
	if (pair_open(&p, sndbuf) != 0 || post(&p, &s, len) != 0)
		return -1;
	if (!reap(&p, name, len, 300)) {
		size_t got = drain(p.rx, len, 5000);
		snprintf(name, sizeof name, "stalled-then-read sndbuf=%d (peer read %zu)", sndbuf, got);
		reap(&p, name, len, 3000);
	}
	pair_close(&p);
	free(s.buf);
	return 0;
}

/* Four posts at once to a peer that reads only after they were posted. */
static int case_concurrent(void)
{
	struct pair p;
	struct send s[4] = {0};
	if (pair_open(&p, -1) != 0)
		return -1;
	for (int i = 0; i < 4; i++)
		if (post(&p, &s[i], 4 * MIB) != 0)
			return -1;
	size_t got = drain(p.rx, 16 * MIB, 5000);
	for (int i = 0; i < 4; i++)
		reap(&p, got == 16 * MIB ? "four-posts-drained" : "four-posts-partly-drained", 4 * MIB,
		     1000);
	pair_close(&p);
	for (int i = 0; i < 4; i++)
		free(s[i].buf);
	return 0;
}

/* A stalled post ended by CancelIoEx, by a peer reset, or by our own closesocket. */
static int case_ended(const char *how)
{
	struct pair p;
	struct send s = {0};
	DWORD len = 64 * MIB;
	char name[64];
	snprintf(name, sizeof name, "ended-by-%s", how);
	if (pair_open(&p, 8192) != 0 || post(&p, &s, len) != 0)
		return -1;
	Sleep(200);
	if (strcmp(how, "cancel") == 0) {
		CancelIoEx((HANDLE)p.tx, &s.ov);
	} else if (strcmp(how, "peer-reset") == 0) {
		struct linger lg = {.l_onoff = 1, .l_linger = 0};
		setsockopt(p.rx, SOL_SOCKET, SO_LINGER, (const char *)&lg, sizeof lg);
		closesocket(p.rx);
		p.rx = INVALID_SOCKET;
	} else {
		closesocket(p.tx);
		p.tx = INVALID_SOCKET;
	}
	reap(&p, name, len, 1000);
	pair_close(&p);
	free(s.buf);
	return 0;
}

int main(void)
{
	WSADATA wsa;
	if (WSAStartup(MAKEWORD(2, 2), &wsa) != 0)
		return 1;
	setvbuf(stdout, NULL, _IONBF, 0);
	int rc = 0;
	/* Default buffers: a post far beyond them. Small ones move a few MB/s under Wine
	 * (a wineserver round trip per buffer-full), so their posts are smaller. */
	rc |= case_stalled(-1, 32 * MIB);
	const int sndbufs[] = {0, 512, 4096, 65536};
	for (size_t i = 0; i < sizeof sndbufs / sizeof sndbufs[0]; i++)
		rc |= case_stalled(sndbufs[i], 2 * MIB);
	rc |= case_stalled(4096, 1);
	rc |= case_stalled(4096, 100000);
	rc |= case_concurrent();
	rc |= case_ended("cancel");
	rc |= case_ended("peer-reset");
	rc |= case_ended("own-close");
	printf("summary: short completions %d of %d\n", shorts, completions);
	WSACleanup();
	return rc ? 1 : 0;
}
