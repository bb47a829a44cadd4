/* lib/jsonw and lib/ledger's line writer on Windows, under Wine: the shared cases of
 * tests/helpers/jsonw_cases.h give the same bytes as on Linux (mingw's own printf, not
 * msvcrt's, formats the numbers), and lines written through ledger_write_line() end
 * with one '\n' (the ledger is opened in binary mode: no CR is added). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/jsonw.h"
#include "lib/ledger.h"
#include "tests/helpers/jsonw_cases.h"
#include "tests/win/wintest.h"

static void cases_give_the_linux_bytes(void)
{
	char buf[1024];
	for (size_t i = 0; i < JSONW_CASES; i++) {
		struct jsonw w;
		jsonw_init(&w, buf, sizeof buf);
		jsonw_cases[i].build(&w);
		long len = jsonw_finish(&w);
		if (len != (long)strlen(jsonw_cases[i].want) || strcmp(buf, jsonw_cases[i].want) != 0)
			wt_fail(__FILE__, __LINE__, "case %s: got %s", jsonw_cases[i].name, buf);
	}
}

static void short_buffer_fails_closed(void)
{
	char buf[16];
	memset(buf, 'X', sizeof buf);
	struct jsonw w;
	jsonw_init(&w, buf, 8);
	jsonw_cases[0].build(&w);
	WT_EQ(jsonw_finish(&w), -ENOSPC);
	WT_EQ(buf[8], 'X');
}

static void ledger_lines_end_with_lf(void)
{
	char path[] = "tp-jsonw-ledger.tmp";
	remove(path);
	struct ledger_file lf = {0};
	WT_EQ(ledger_open(&lf, path), 0);
	for (int i = 0; i < 3; i++) {
		char line[128];
		struct jsonw w;
		jsonw_init(&w, line, sizeof line);
		jsonw_object_begin(&w);
		jsonw_field_int(&w, "seq", i);
		jsonw_object_end(&w);
		WT_EQ(ledger_write_line(&lf, line, jsonw_finish(&w)), 0);
	}
	ledger_close(&lf);
	FILE *fp = fopen(path, "rb");
	WT_TRUE(fp != NULL);
	char got[128];
	size_t n = fread(got, 1, sizeof got - 1, fp);
	fclose(fp);
	remove(path);
	got[n] = '\0';
	const char *want = "{\"seq\":0}\n{\"seq\":1}\n{\"seq\":2}\n";
	WT_EQ(n, strlen(want));
	WT_MEM_EQ(got, want, n);
}

int main(int argc, char **argv)
{
	static const struct wt_case cases[] = {
		{"jsonw: the shared cases give the Linux bytes", cases_give_the_linux_bytes},
		{"jsonw: a short buffer fails closed", short_buffer_fails_closed},
		{"ledger: jsonw lines end with LF", ledger_lines_end_with_lf},
	};
	return wt_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
