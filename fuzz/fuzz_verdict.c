/* libFuzzer target: verdict objects read from JSON (lib/verdict.c), as run files and
 * capture.json bring them from anywhere. What is accepted renders within its bound and
 * survives a round trip unchanged; what is refused leaves an empty unknown verdict. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <jansson.h>

#include "lib/verdict.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t err;
	json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY, &err);
	if (!j)
		return 0;
	struct tp_verdict v, back;
	char text[TP_VERDICT_TEXT_MAX];
	if (tp_verdict_from_json(j, &v) == 0) {
		if (v.nevidence > TP_VERDICT_MAX_EVIDENCE ||
		    strlen(tp_verdict_render(&v, text, sizeof text)) >= sizeof text)
			__builtin_trap();
		json_t *again = tp_verdict_to_json(&v);
		if (!again || tp_verdict_from_json(again, &back) != 0 || back.code != v.code ||
		    back.hop != v.hop || back.direction != v.direction || back.at_byte != v.at_byte ||
		    back.would_locate != v.would_locate ||
		    back.nevidence != v.nevidence ||
		    memcmp(back.evidence, v.evidence, v.nevidence * sizeof v.evidence[0]) != 0)
			__builtin_trap();
		json_decref(again);
	} else if (v.code != TP_V_UNKNOWN || v.nevidence) {
		__builtin_trap();
	}
	(void)tp_verdict_json_code(j);
	(void)tp_verdict_json_text(j);
	json_decref(j);
	return 0;
}
