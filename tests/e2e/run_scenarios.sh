#!/usr/bin/env bash
# `tunnelprobe run`: every incident scenario meets its expectations, the built-in demo
# writes its side-by-side report, a bad scenario names file:line and exits 2, and a soak
# killed with SIGINT leaves no process behind and a readable checkpoint.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/peers.sh"

# The Windows build (build/win64/tunnelprobe.exe under Wine): needed by scenarios that
# say `proxy reference ... windows` and by the demo's Windows runs.
windows=0
"$TP_ROOT/scripts/wine.sh" --check 2>/dev/null && [ -f "$TP_ROOT/build/win64/tunnelprobe.exe" ] && windows=1
no_windows() { # NAME: a skip, or a failure under make test (make deps installs Wine)
	if [ "${TP_REQUIRE_PEERS:-0}" = 1 ]; then
		not_ok "$1" "the Windows build cannot run here (wine64, make windows)"
	else
		skip "$1" "the Windows build cannot run here (wine64 not installed, or no make windows)"
	fi
}

for f in "$TP_ROOT"/docs/incidents/*/*.tps; do
	name="$(basename "$(dirname "$f")")/$(basename "$f" .tps)"
	out="$T/$(echo "$name" | tr '/' '-')"
	if grep -q '^proxy reference.* windows *$' "$f" && [ "$windows" = 0 ]; then
		no_windows "incident $name: expectations met"
		continue
	fi
	timeout 180 "$TP_BIN" run "$f" --out "$out" -q
	rc=$?
	if [ "$rc" -eq 0 ]; then
		ok "incident $name: expectations met"
	else
		not_ok "incident $name" "exit $rc"
		json "$out/run.json" "[e['expect'] for e in d.get('expectations', []) if not e['pass']]" 2>/dev/null
	fi
done

# The demo where the Windows build cannot run (WINE pointing nowhere): one line says so,
# and the Linux build simulates the symptom, labelled simulated.
WINE=/nonexistent timeout 180 "$TP_BIN" run --out "$T/demo" >"$T/demo.out" 2>&1
expect_eq "demo without Wine exits 0" "$?" "0"
expect_eq "demo without Wine: one line says why the Windows runs are left out" \
	"$(grep -c '^demo: the Windows build cannot run here: Wine is not installed (make deps installs wine64); the simulated Linux run stands in for it$' "$T/demo.out")" "1"
expect_eq "demo: healthy all ok" "$(json "$T/demo/linux-healthy/run.json" "d['requests'], d['ok']")" "60 60"
expect_eq "demo: the IOCP fault truncates some large responses only" \
	"$(json "$T/demo/linux-short-send/run.json" "0 < d['classes'].get('incomplete_read', 0) < 60, all(('/bytes/654397' in f['url'] or 'qq' in f['url'] or 'taobao' in f['url']) for f in d['failures'])")" "True True"
check "demo: report written" test -s "$T/demo/report.html"
expect_eq "demo: each run file says what its proxy was" \
	"$(json "$T/demo/linux-healthy/run.json" "d['proxy']['kind'], d['proxy']['simulated'], d['proxy']['fault']")
$(json "$T/demo/linux-short-send/run.json" "d['proxy']['kind'], d['proxy']['simulated'], d['proxy']['note'], d['proxy']['platform'].count('/')")" \
	"reference False None
reference True Linux reference proxy with a short-send fault, not a Windows build 1"
expect_eq "demo: the simulated run says so in its summary line" \
	"$(grep -c '^linux-short-send: .*(simulated: Linux reference proxy with a short-send fault, not a Windows build)$' "$T/demo.out")" "1"
expect_eq "demo: a run id per scenario run, in run.json" \
	"$(json "$T/demo/linux-healthy/run.json" "d['run_id'].startswith('demo-healthy-')") $(json "$T/demo/linux-short-send/run.json" "d['run_id'].startswith('demo-iocp-simulated-')")" "True True"
expect_eq "demo: latency of ok requests only, beside all requests'" \
	"$(json "$T/demo/linux-short-send/run.json" "d['latency_ok_ms']['requests'] == d['ok'] and d['latency_ok_ms']['max'] > 0")" "True"
expect_eq "demo: report compares both runs" "$(grep -c 'linux-healthy\|linux-short-send' "$T/demo/report.html" | awk '{print ($1 > 2)}')" "1"
expect_eq "demo: run folder complete" "$(cd "$T/demo/linux-short-send" && ls run.json records.jsonl origin.jsonl proxy.jsonl keylog.txt ca.pem 2>/dev/null | wc -l)" "6"

# The demo with the Windows build: Linux healthy, the Windows build (IOCP under Wine) with
# short-send-drop, the Windows build healthy — each run file naming its build.
if [ "$windows" = 1 ]; then
	timeout 180 "$TP_BIN" run --out "$T/wdemo" >"$T/wdemo.out" 2>&1
	expect_eq "demo with Wine exits 0" "$?" "0"
	expect_eq "demo with Wine: three runs, none simulated" \
		"$(grep -c '^\(linux-healthy\|windows-short-send\|windows-healthy\): ' "$T/wdemo.out") $(grep -c 'simulated' "$T/wdemo.out")" "3 0"
	expect_eq "demo with Wine: the builds side by side (platform, backend)" \
		"$(for r in linux-healthy windows-short-send windows-healthy; do json "$T/wdemo/$r/run.json" "d['proxy']['platform'] + '/' + d['proxy']['backend'], d['proxy']['simulated'], d['proxy']['runtime']"; done | tr '\n' ' ')" \
		"linux/x86_64/epoll False None windows/x86_64/iocp False wine windows/x86_64/iocp False wine "
	expect_eq "demo with Wine: the IOCP bug truncates some large responses only, the healthy IOCP build none" \
		"$(json "$T/wdemo/windows-short-send/run.json" "0 < d['classes'].get('incomplete_read', 0) < 60, all(('/bytes/654397' in f['url'] or 'qq' in f['url'] or 'taobao' in f['url']) for f in d['failures'])") $(json "$T/wdemo/windows-healthy/run.json" "d['requests'], d['ok']")" \
		"True True 60 60"
	expect_eq "demo with Wine: the Windows proxy's RSS sampled (the Wine process)" \
		"$(json "$T/wdemo/windows-healthy/run.json" "d['proxy_resources']['rss_kib_first'] > 1000")" "True"
	expect_eq "demo with Wine: report compares the three runs" \
		"$(grep -c 'windows-short-send' "$T/wdemo/report.html" | awk '{print ($1 > 0)}')" "1"
else
	no_windows "demo with Wine: the Windows build's runs"
fi

# Live capture during a run (root only): the pcapng, the key log, and the verdict.
if [ "$(id -u)" -eq 0 ]; then
	cat >"$T/cap.tps" <<'SCN'
scenario capture-on
origin
proxy reference http
  fault truncate:after=20000 p=0.5 seed=1
capture on
probe
  url https://www.example.test:{tls}/bytes/100000
  requests 6
  arg --no-keepalive
expect
  verdict truncated at proxy
SCN
	timeout 120 "$TP_BIN" run "$T/cap.tps" --out "$T/cap" -q
	expect_eq "capture on: verdict from the wire and the ledgers" "$?" "0"
	expect_eq "capture on: pcapng, capture.json and key log written" \
		"$(cd "$T/cap" && ls capture.pcapng capture.json keylog.txt 2>/dev/null | wc -l)" "3"
else
	skip "capture on" "needs root (live capture on lo)"
fi

# Bad scenarios: file:line, exit 2.
printf 'scenario x\nprobe\n  url http://a.test/\n  requests lots\n' >"$T/bad.tps"
"$TP_BIN" run "$T/bad.tps" --out "$T/bad" 2>"$T/bad.err"
expect_eq "bad scenario -> exit 2 with file:line" "$? $(grep -c 'bad.tps:4:' "$T/bad.err")" "2 1"
"$TP_BIN" run /nonexistent.tps 2>/dev/null
expect_eq "missing scenario -> exit 2" "$?" "2"
"$TP_BIN" run --bogus 2>/dev/null
expect_eq "unknown option -> exit 2" "$?" "2"

# A soak killed half-way: no process left, a readable checkpoint.
cat >"$T/soak.tps" <<'SCN'
scenario soak-smoke
origin
proxy reference http
probe
  url http://127.0.0.1:{http}/bytes/2048
  duration 30s
  segment 1s
  rate 200
  concurrency 4
expect
  error_rate <= 0.01
  rss_growth_mb <= 64
SCN
"$TP_BIN" run "$T/soak.tps" --out "$T/soak" -q &
run_pid=$!
for ((i = 0; i < 100; i++)); do [ -s "$T/soak/run.json" ] && break; sleep 0.1; done
sleep 1.5
kill -INT "$run_pid"
wait "$run_pid"
sleep 0.5
expect_eq "SIGINT: no process left behind" "$(pgrep -f "$T/soak" | wc -l)" "0"
expect_eq "SIGINT: readable checkpoint with results" "$(json "$T/soak/run.json" "d['requests'] > 0 and d['scenario'] == 'soak-smoke'")" "True"
expect_eq "soak checkpoint: segments merged, one time-series bucket per second" \
	"$(json "$T/soak/run.json" "len(d['timeseries']) > 1 and len({s['t'] for s in d['timeseries']}) == len(d['timeseries']) and sum(s['completed'] for s in d['timeseries']) == d['requests']")" "True"
finish
