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
		/* A verdict expectation accepts some known code, never ok. */
		for (size_t i = 0; i < scn.nexpects; i++)
			if (scn.expects[i].kind == SCN_EXPECT_VERDICT &&
			    (scn.expects[i].codes == 0 || (scn.expects[i].codes >> TP_V_COUNT) ||
			     (scn.expects[i].codes & (1u << TP_V_OK))))
				__builtin_trap();
	} else if (memchr(err, '\0', sizeof err) == NULL || strncmp(err, "fuzz:", 5) != 0) {
		__builtin_trap(); /* every error names the file and line */
	}
	return 0;
}
