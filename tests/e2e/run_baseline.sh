#!/usr/bin/env bash
# The regression gate through `tunnelprobe run --baseline`: no baseline → the
# regression checks are skipped (never passed); a baseline that passes; one with a p99
# regression; one lacking a class the run shows (a new class). Baselines are the run's
# own run.json with one number or class changed, so nothing depends on timing. Also:
# growth limits on a proxy run did not start are skipped with the reason, and a
# verdict expectation matches the joined verdicts by code.
. "$(dirname "$0")/lib.sh"

json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
# results DIR: "result expect" per expectation, in scenario order
results() { json "$1/run.json" "'\n'.join(e['result'] + ' ' + e['expect'] for e in d['expectations'])"; }
# edit IN OUT PYTHON: OUT is IN with d changed by PYTHON
edit() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); $3; json.dump(d, open(sys.argv[2], 'w'))" "$1" "$2"; }

# Every request truncated by the reference proxy: incomplete_read, always.
cat >"$T/gate.tps" <<'SCN'
scenario gate
origin
proxy reference http
  fault truncate:after=3000
probe
  url http://127.0.0.1:{http}/bytes/20000
  requests 4
  concurrency 1
  arg --no-keepalive
expect
  class incomplete_read == 4
  verdict truncated_proxy_client
  no_new_class
  p99_regression_pct <= 20
SCN

"$TP_BIN" run "$T/gate.tps" --out "$T/first" -q >"$T/first.out" 2>&1
expect_eq "no baseline: exit 0" "$?" "0"
expect_eq "no baseline: regression checks skipped, with the reason" "$(results "$T/first" | tail -n 2)" \
	"skip no_new_class: skipped (no baseline)
skip p99_regression_pct <= 20: skipped (no baseline)"
expect_eq "no baseline: the verdict found by its code" "$(results "$T/first" | sed -n 2p)" \
	"pass verdict truncated_proxy_client: found"
expect_eq "no baseline: run.verdicts are verdict objects" \
	"$(json "$T/first/run.json" "sorted({v['code'] + ' ' + v['hop'] + ' ' + v['direction'] for v in d['verdicts']})")" \
	"['truncated_proxy_client proxy down']"

# against NAME PYTHON: runs the gate with the first run.json changed by PYTHON as its
# baseline; prints the exit status, then "result expect..." of the two regression checks
against() {
	edit "$T/first/run.json" "$T/$1.json" "$2"
	"$TP_BIN" run "$T/gate.tps" --out "$T/$1" --baseline "$T/$1.json" -q >/dev/null 2>&1
	echo "$?"
	results "$T/$1" | tail -n 2
}

expect_eq "baseline that passes: exit 0, both pass" \
	"$(against slower "d['latency_ms']['p99'] *= 1000" | cut -d: -f1)" \
	"0
pass no_new_class
pass p99_regression_pct <= 20"
expect_eq "p99 regression: exit 1, only that check fails" \
	"$(against faster "d['latency_ms']['p99'] /= 1e6" | cut -d: -f1)" \
	"1
pass no_new_class
fail p99_regression_pct <= 20"
expect_eq "new class: exit 1, named" \
	"$(against clean "d['classes'] = {'ok': 4}; d['latency_ms']['p99'] *= 1000" | head -n 2)" \
	"1
fail no_new_class: incomplete_read"

# Direct: run started no proxy, so it could not sample one.
cat >"$T/direct.tps" <<'SCN'
scenario direct
origin
proxy none
probe
  url http://127.0.0.1:{http}/bytes/100
  requests 2
expect
  ok == 2
  rss_growth_mb <= 64
  fd_growth <= 8
SCN
"$TP_BIN" run "$T/direct.tps" --out "$T/direct" >"$T/direct.out" 2>&1
expect_eq "no proxy started: exit 0" "$?" "0"
expect_eq "no proxy started: growth checks skipped, with the reason" "$(grep -c '^  skip .*: skipped (not measured: proxy not started by run)$' "$T/direct.out")" "2"
expect_eq "no proxy started: run.json says skip" "$(json "$T/direct/run.json" "[e['result'] for e in d['expectations']]")" \
	"['pass', 'skip', 'skip']"

# Issue 14: a baseline `report` refuses is refused by `run` the same way, before
# anything starts: one line, exit 2, no run folder.
edit "$T/first/run.json" "$T/negative.json" "d['requests'] = -5"
"$TP_BIN" run "$T/gate.tps" --out "$T/negative" --baseline "$T/negative.json" >"$T/negative.out" 2>"$T/negative.err"
expect_eq "baseline with requests -5: exit 2, one line, nothing run" \
	"$? $(wc -l <"$T/negative.err") $(wc -c <"$T/negative.out") $(test -e "$T/negative" && echo ran || echo none)" "2 1 0 none"
"$TP_BIN" report "$T/negative.json" >/dev/null 2>"$T/negative.report.err"
expect_eq "report refuses the same baseline with the same reason" \
	"$? $(sed 's/^tunnelprobe report: //' "$T/negative.report.err")" \
	"2 $(sed 's/^tunnelprobe run: --baseline //' "$T/negative.err")"
printf 'not json\n' >"$T/garbage.json"
"$TP_BIN" run "$T/gate.tps" --out "$T/garbage" --baseline "$T/garbage.json" 2>"$T/garbage.err" >/dev/null
expect_eq "baseline that is not JSON: exit 2, one line" "$? $(wc -l <"$T/garbage.err")" "2 1"

# Durations that would run for centuries: refused, one line, exit 2.
"$TP_BIN" run "$T/gate.tps" --out "$T/long" --duration 9999999999999999h 2>"$T/long.err" >/dev/null
expect_eq "--duration 9999999999999999h: exit 2, one line" "$? $(wc -l <"$T/long.err")" "2 1"
sed 's/  requests 4/  duration 9999999999999999h/' "$T/gate.tps" >"$T/long.tps"
"$TP_BIN" run "$T/long.tps" --out "$T/long2" 2>"$T/long2.err" >/dev/null
expect_eq "scenario duration 9999999999999999h: exit 2, one line naming file:line" \
	"$? $(wc -l <"$T/long2.err") $(grep -c 'long.tps:7: duration' "$T/long2.err")" "2 1 1"

# A verdict expectation that names an unknown code is a scenario error: one line, exit 2.
sed 's/verdict truncated_proxy_client/verdict truncated_proxy/' "$T/gate.tps" >"$T/bad.tps"
"$TP_BIN" run "$T/bad.tps" --out "$T/bad" 2>"$T/bad.err"
expect_eq "unknown verdict code: exit 2, one line naming file:line" "$? $(wc -l <"$T/bad.err") $(grep -c 'bad.tps:12: unknown verdict' "$T/bad.err")" "2 1 1"
# ... and so is evidence no verdict can have used.
sed 's/verdict truncated_proxy_client/verdict truncated_proxy_client from hearsay/' "$T/gate.tps" >"$T/bad2.tps"
"$TP_BIN" run "$T/bad2.tps" --out "$T/bad2" 2>"$T/bad2.err"
expect_eq "unknown evidence source: exit 2, one line naming file:line" "$? $(wc -l <"$T/bad2.err") $(grep -c "bad2.tps:12: unknown evidence source 'hearsay'" "$T/bad2.err")" "2 1 1"
# A verdict asked with the evidence it used: the reference proxy's ledger placed it.
sed 's/verdict truncated_proxy_client/verdict truncated at proxy from proxy_ledger/' "$T/gate.tps" >"$T/evidence.tps"
"$TP_BIN" run "$T/evidence.tps" --out "$T/evidence" -q
expect_eq "verdict with its evidence: found" "$? $(results "$T/evidence" | sed -n 2p)" \
	"0 pass verdict truncated at proxy from proxy_ledger: found"
finish
