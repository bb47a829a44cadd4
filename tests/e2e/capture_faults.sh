#!/usr/bin/env bash
# Live capture on lo of real runs: probe → reference proxy (with each fault) → TLS origin.
# The capture (started before the run, stopped by SIGINT) must name the hop and the byte
# offset: truncate:after=N → truncated_proxy_client at byte N, decided by the proxy's
# FIN on the client leg; rst:after=N → reset_by_proxy; no fault → ok. Verdicts are
# objects (docs/capture.md): the test reads code, hop, at_byte and the deciding fact,
# never the sentence. The saved pcapng, analysed offline, must say the same. Needs root
# (live capture); without it the test says so and skips.
. "$(dirname "$0")/lib.sh"

need_root "capture_faults" || finish

"$TP_BIN" origin --listen 127.0.0.1:0 --tls-listen 127.0.0.1:0 --ca-out "$T/ca.pem" \
	--ledger "$T/origin.jsonl" >"$T/origin.out" 2>&1 &
_tp_pids+=($!)
for _ in $(seq 100); do grep -q 'listening https' "$T/origin.out" 2>/dev/null && break; sleep 0.05; done
sport=$(awk '/listening https/{print $3}' "$T/origin.out" | sed 's/.*://')
[ -n "$sport" ] || { not_ok "origin started" "$(cat "$T/origin.out")"; finish; }

# run FAULT NAME [SCHEME]: one proxy, one capture, two requests through http:// (CONNECT)
# or socks5h://; leaves $T/NAME.{json,pcapng}
run() {
	local fault=$1 name=$2 scheme=${3:-http} pport cpid i
	: >"$T/$name.proxy.out"
	"$TP_BIN" proxy --listen 127.0.0.1:0 ${fault:+--fault "$fault"} \
		--ledger "$T/$name.proxy.jsonl" >"$T/$name.proxy.out" 2>&1 &
	local ppid=$!
	_tp_pids+=($ppid)
	for _ in $(seq 100); do grep -q listening "$T/$name.proxy.out" && break; sleep 0.05; done
	pport=$(awk '/listening/{print $2}' "$T/$name.proxy.out" | sed 's/.*://')
	"$TP_BIN" capture -i lo -p "$pport,$sport" -d 30 -w "$T/$name.pcapng" \
		--json "$T/$name.json" -q "$T/$name.records.jsonl" "$T/origin.jsonl" \
		"$T/$name.proxy.jsonl" 2>"$T/$name.cap.err" &
	cpid=$!
	_tp_pids+=($cpid)
	for _ in $(seq 100); do grep -q 'listening on lo' "$T/$name.cap.err" && break; sleep 0.05; done
	"$TP_BIN" probe -x "$scheme://127.0.0.1:$pport" -n 2 -c 1 --timeout 5 --cacert "$T/ca.pem" \
		--records "$T/$name.records.jsonl" "https://127.0.0.1:$sport/bytes/100000" \
		>"$T/$name.probe.out" 2>&1
	sleep 0.3 # let the last FIN/RST reach the capture
	kill -INT "$cpid"
	for i in $(seq 100); do kill -0 "$cpid" 2>/dev/null || break; sleep 0.05; done
	wait "$cpid" 2>/dev/null
	kill "$ppid" 2>/dev/null
	[ -s "$T/$name.json" ] || { cat "$T/$name.cap.err"; return 1; }
}

# verdicts FILE: per tunnel, sorted: "code hop at_byte | deciding fact (source what by
# on bytes) | text". A FIN is a FIN whether or not the capture could also tell how it
# ended TLS (fin, early_fin, tls_close all print "fin").
verdicts() {
	python3 - "$1" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
for t in sorted(doc["tunnels"], key=lambda t: t["local"]):
    v = t["verdict"]
    ev = v["evidence"][0] if v["evidence"] else {}
    at = -1 if v["at_byte"] is None else v["at_byte"]
    if ev.get("what") in ("early_fin", "tls_close"):
        ev["what"] = "fin"
    print(v["code"], v["hop"], at, "|", *(ev.get(k, "-") for k in ("source", "what", "by", "on", "bytes")),
          "|", v["text"])
EOF
}

check_run() { # NAME WANT_VERDICT("code hop at_byte") WANT_FACT("source what by on bytes")
	local name=$1 want=$2 fact=$3 got
	got=$(verdicts "$T/$name.json")
	expect_eq "$name: both requests joined to tunnels" \
		"$(python3 -c 'import json,sys; print(sum(t["requests"] for t in json.load(open(sys.argv[1]))["tunnels"]))' "$T/$name.json")" 2
	expect_eq "$name: verdicts" "$(printf '%s\n' "$got" | cut -d'|' -f1 | sort -u | sed 's/ *$//')" "$want"
	expect_eq "$name: deciding fact" "$(printf '%s\n' "$got" | cut -d'|' -f2 | sort -u | sed 's/^ //; s/ *$//')" "$fact"
	expect_eq "$name: no pcap drops" \
		"$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pcap_stats"]["dropped"])' "$T/$name.json")" 0
	# The saved pcapng, read offline, gives the same verdicts.
	"$TP_BIN" capture -r "$T/$name.pcapng" --json "$T/$name.offline.json" -q \
		"$T/$name.records.jsonl" "$T/origin.jsonl" "$T/$name.proxy.jsonl"
	expect_eq "$name: offline = live" "$(verdicts "$T/$name.offline.json")" "$got"
}

if run "truncate:after=20000" truncate; then
	check_run truncate "truncated_proxy_client proxy 20000" "capture fin proxy client_leg 20000"
else
	not_ok "truncate run" "$(cat "$T/truncate.cap.err")"
fi
if run "rst:after=30000" rst; then
	check_run rst "reset_by_proxy proxy 30000" "capture rst proxy client_leg 30000"
else
	not_ok "rst run" "$(cat "$T/rst.cap.err")"
fi
if run "truncate:after=25000" socks socks5h; then
	check_run socks "truncated_proxy_client proxy 25000" "capture fin proxy client_leg 25000"
else
	not_ok "socks5 truncate run" "$(cat "$T/socks.cap.err")"
fi
if run "" healthy; then
	check_run healthy "ok none -1" "- - - - -"
else
	not_ok "healthy run" "$(cat "$T/healthy.cap.err")"
fi
finish
