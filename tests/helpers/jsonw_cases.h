/* jsonw_cases.h — documents built with lib/jsonw and the exact text each must give, one
 * table shared by the Linux unit test (tests/unit/test_jsonw.c) and the Windows test
 * program (tests/win/test_jsonw.c), so both platforms are held to the same bytes. */
#ifndef TP_JSONW_CASES_H
#define TP_JSONW_CASES_H

#include <stdint.h>

#include "lib/jsonw.h"

static void jc_ledger_line(struct jsonw *w)
{
	jsonw_object_begin(w);
	jsonw_field_string(w, "kind", "connect");
	jsonw_field_string(w, "id", "a1b2c3-0-7");
	jsonw_field_uint(w, "received", 10485760);
	jsonw_field_uint(w, "sent", 10420224);
	jsonw_field_uint(w, "dropped", 65536);
	jsonw_field_null(w, "bytes_acked");
	jsonw_field_bool(w, "fin_sent", true);
	jsonw_field_real(w, "ms", 12.5);
	jsonw_key(w, "faults");
	jsonw_array_begin(w);
	jsonw_string(w, "short-send-drop");
	jsonw_array_end(w);
	jsonw_object_end(w);
}

static void jc_escapes(struct jsonw *w)
{
	jsonw_array_begin(w);
	jsonw_string(w, "quote\" backslash\\ slash/ tab\t nl\n cr\r bs\b ff\f");
	jsonw_string_n(w, "nul\0bell\a\x1f", 10);
	jsonw_string(w, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9d\x84\x9e");
	jsonw_array_end(w);
}

static void jc_bad_utf8(struct jsonw *w)
{
	jsonw_array_begin(w);
	jsonw_string(w, "a\xff" "b");        /* never valid */
	jsonw_string(w, "\xc0\xaf");         /* overlong '/' */
	jsonw_string(w, "\xed\xa0\x80");     /* a surrogate */
	jsonw_string(w, "\xf4\x90\x80\x80"); /* past U+10FFFF */
	jsonw_string(w, "\xe2\x82");         /* cut short */
	jsonw_array_end(w);
}

static void jc_numbers(struct jsonw *w)
{
	jsonw_array_begin(w);
	jsonw_int(w, 0);
	jsonw_int(w, -1);
	jsonw_int(w, INT64_MIN);
	jsonw_uint(w, UINT64_MAX);
	jsonw_real(w, 1.0);
	jsonw_real(w, -0.0);
	jsonw_real(w, 0.1);
	jsonw_real(w, 1e300);
	jsonw_real(w, 1e-5);
	jsonw_real(w, 1.0 / 0.0);
	jsonw_array_end(w);
}

static void jc_nesting(struct jsonw *w)
{
	jsonw_object_begin(w);
	jsonw_key(w, "a");
	jsonw_array_begin(w);
	jsonw_object_begin(w);
	jsonw_object_end(w);
	jsonw_array_begin(w);
	jsonw_array_end(w);
	jsonw_null(w);
	jsonw_array_end(w);
	jsonw_key(w, "");
	jsonw_bool(w, false);
	jsonw_object_end(w);
}

static void jc_scalar(struct jsonw *w) { jsonw_string(w, "just a string"); }

struct jsonw_case {
	const char *name;
	void (*build)(struct jsonw *w);
	const char *want;
};

static const struct jsonw_case jsonw_cases[] = {
	{"ledger line", jc_ledger_line,
	 "{\"kind\":\"connect\",\"id\":\"a1b2c3-0-7\",\"received\":10485760,\"sent\":10420224,"
	 "\"dropped\":65536,\"bytes_acked\":null,\"fin_sent\":true,\"ms\":12.5,"
	 "\"faults\":[\"short-send-drop\"]}"},
	{"escapes", jc_escapes,
	 "[\"quote\\\" backslash\\\\ slash/ tab\\t nl\\n cr\\r bs\\b ff\\f\","
	 "\"nul\\u0000bell\\u0007\\u001f\","
	 "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9d\x84\x9e\"]"},
	{"bad utf-8", jc_bad_utf8,
	 "[\"a\xef\xbf\xbd" "b\",\"\xef\xbf\xbd\xef\xbf\xbd\",\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\","
	 "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\",\"\xef\xbf\xbd\xef\xbf\xbd\"]"},
	{"numbers", jc_numbers,
	 "[0,-1,-9223372036854775808,18446744073709551615,1.0,-0.0,0.10000000000000001,"
	 "1.0000000000000001e+300,1.0000000000000001e-05,null]"},
	{"nesting", jc_nesting, "{\"a\":[{},[],null],\"\":false}"},
	{"top-level scalar", jc_scalar, "\"just a string\""},
};

#define JSONW_CASES (sizeof jsonw_cases / sizeof jsonw_cases[0])

#endif
