/* wintest — the assertions and runner of the Windows test programs (tests/win/), which
 * cannot use cmocka (Debian has no mingw build of it). Same habits: an assertion prints
 * both values and ends the test at once; each test is one "ok - NAME" or
 * "not ok - NAME (why)" line on stdout, the lines tests/run.sh counts; the program exits
 * with the number of failures. A failed test leaves what it opened behind: the process
 * ends soon after, and the runner's timeout bounds a hang.
 *   WT_TRUE(cond), WT_EQ(got, want) (integers), WT_MEM_EQ(a, b, len)
 *   wt_main(argc, argv, cases, n): runs every case, or only those whose name contains
 *   argv[1]. */
#ifndef TP_WINTEST_H
#define TP_WINTEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct wt_case {
	const char *name;
	void (*fn)(void);
};

static jmp_buf wt_jmp;
static char wt_why[512];

static inline void wt_fail(const char *file, int line, const char *fmt, ...)
{
	int n = snprintf(wt_why, sizeof wt_why, "%s:%d: ", file, line);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(wt_why + n, sizeof wt_why - (size_t)n, fmt, ap);
	va_end(ap);
	longjmp(wt_jmp, 1);
}

#define WT_TRUE(cond)                                                                  \
	do {                                                                           \
		if (!(cond))                                                           \
			wt_fail(__FILE__, __LINE__, "%s is false", #cond);            \
	} while (0)
#define WT_EQ(got, want)                                                               \
	do {                                                                           \
		long long wt_g = (long long)(got), wt_w = (long long)(want);           \
		if (wt_g != wt_w)                                                      \
			wt_fail(__FILE__, __LINE__, "%s is %lld, want %lld", #got, wt_g, wt_w); \
	} while (0)
#define WT_MEM_EQ(a, b, len)                                                           \
	do {                                                                           \
		if (memcmp((a), (b), (len)) != 0)                                      \
			wt_fail(__FILE__, __LINE__, "%s and %s differ", #a, #b);       \
	} while (0)

static inline int wt_main(int argc, char **argv, const struct wt_case *cases, size_t n)
{
	volatile int failed = 0;
	setvbuf(stdout, NULL, _IONBF, 0); /* a crash still leaves the lines before it */
	for (volatile size_t i = 0; i < n; i++) {
		if (argc > 1 && !strstr(cases[i].name, argv[1]))
			continue;
		if (setjmp(wt_jmp) == 0) {
			cases[i].fn();
			printf("ok - %s\n", cases[i].name);
		} else {
			printf("not ok - %s (%s)\n", cases[i].name, wt_why);
			failed++;
		}
	}
	return failed;
}

#endif
