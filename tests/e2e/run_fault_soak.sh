#!/usr/bin/env bash
# The nightly fault soak (ci/scenarios/fault-soak.tps, issue 14), shortened to two
# segments: through the reference proxy with truncate and rst faults on a fraction of
# the tunnels, every request is accounted for in every ledger (each probe id in the
# origin's ledger and each tunnel in the proxy's), the faults acted and were placed at
# the proxy, and the proxy's RSS and fds were measured (their growth is judged by the
# 30-minute nightly run, not by a few seconds here).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/peers.sh"

"$TP_BIN" run "$TP_ROOT/ci/scenarios/fault-soak.tps" --duration 12s --out "$T/soak" -q >"$T/soak.out" 2>&1
rc=$?
expect_eq "fault soak: ran to its end (exit 0 or 1, a run file)" "$([ "$rc" -le 1 ] && [ -f "$T/soak/run.json" ] && echo yes)" "yes"
# result EXPECT-PREFIX: the result of the expectation whose text starts so
result() { json "$T/soak/run.json" "[e['result'] for e in d['expectations'] if e['expect'].startswith('$1')]"; }
expect_eq "fault soak: every request accounted for in the origin's and the proxy's ledger" \
	"$(result 'accounted == 1') $(json "$T/soak/run.json" "[int(e['got']) for e in d['expectations'] if e['expect'].startswith('accounted')]")" \
	"['pass'] [1]"
expect_eq "fault soak: both faults acted" "$(result 'class incomplete_read') $(result 'class reset')" "['pass'] ['pass']"
expect_eq "fault soak: the truncations placed at the proxy" "$(result 'verdict truncated at proxy')" "['pass']"
expect_eq "fault soak: its segments merged, one time-series bucket per second" \
	"$(json "$T/soak/run.json" "len(d['timeseries']) > 10, len({s['t'] for s in d['timeseries']}) == len(d['timeseries']), sum(s['completed'] for s in d['timeseries']) == d['requests']")" \
	"True True True"
expect_eq "fault soak: the proxy's RSS and fds measured, not skipped" \
	"$(json "$T/soak/run.json" "sorted(e['result'] != 'skip' and e['got'] is not None for e in d['expectations'] if e['expect'].startswith(('rss_growth', 'fd_growth')))")" \
	"[True, True]"
finish
