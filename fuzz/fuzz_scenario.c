/* libFuzzer target: the scenario parser (ci/scenario.c) on arbitrary text. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ci/scenario.h"
#include "lib/verdict.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct scenario scn;
	char err[256];
	if (scenario_parse(&scn, (const char *)data, size, "fuzz", err, sizeof err) == 0) {
		/* A parsed scenario must be self-consistent. */
		if (scn.nurls == 0 || scn.nurls > SCN_MAX_LIST || scn.nexpects > SCN_MAX_LIST ||
		    strlen(scn.name) == 0)
			__builtin_trap();
		/* A verdict expectation accepts some known code, never ok, and only evidence
		 * sources that exist. */
		for (size_t i = 0; i < scn.nexpects; i++) {
			const struct scn_expect *e = &scn.expects[i];
			if (e->kind == SCN_EXPECT_VERDICT &&
			    (e->codes == 0 || (e->codes >> TP_V_COUNT) || (e->codes & (1u << TP_V_OK)) ||
			     (e->sources >> TP_SRC_COUNT)))
				__builtin_trap();
			if (e->kind == SCN_EXPECT_ACCOUNTED && e->value != 0 && e->value != 1)
				__builtin_trap();
			if (e->kind == SCN_EXPECT_PHASE_LATENCY && (!e->name[0] || !e->name2[0]))
				__builtin_trap();
			/* a group that can never be checked was refused */
			if (e->group == SCN_GROUP_REFERENCE && !scn.proxy_reference)
				__builtin_trap();
		}
		/* durations and rates within their bounds */
		if (scn.duration_s > SCN_MAX_DURATION_S || scn.timeout_s > SCN_MAX_TIMEOUT_S ||
		    scn.segment_s > SCN_MAX_TIMEOUT_S || scn.rate > SCN_MAX_RATE)
			__builtin_trap();
	} else if (memchr(err, '\0', sizeof err) == NULL || strncmp(err, "fuzz:", 5) != 0) {
		__builtin_trap(); /* every error names the file and line */
	}
	return 0;
}
