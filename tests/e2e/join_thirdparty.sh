#!/usr/bin/env bash
# Verdicts against a proxy tunnelprobe did not start (issue 13): a scripted relaying
# CONNECT proxy (tests/peers/scripted.py) that truncates, withholds the FIN, turns an
# origin's reset into a FIN, or refuses. No proxy ledger, no pcap: `capture` joins the
# probe records and the origin ledger only, and the verdict must still name the proxy
# with the facts it used (read from the JSON, never from the sentence). Also: without
# the origin ledger the verdict says it cannot name a hop and which evidence would; a
# keep-alive connection is joined per request; `capture --run-id` leaves an earlier
# run's lines out of the join.
. "$(dirname "$0")/lib.sh"

PEER="$TP_ROOT/tests/peers/scripted.py"

# start_origin NAME [ARGS...]: a TLS origin with a ledger; sets $sport, $oledger
start_origin() {
	local name=$1 i
	shift
	"$TP_BIN" origin --listen 127.0.0.1:0 --tls-listen 127.0.0.1:0 --ca-out "$T/ca.pem" \
		--ledger "$T/$name.origin.jsonl" "$@" >"$T/$name.origin.out" 2>&1 &
	_tp_pids+=($!)
	for i in $(seq 100); do grep -q 'listening https' "$T/$name.origin.out" 2>/dev/null && break; sleep 0.05; done
	sport=$(awk '/listening https/{print $3}' "$T/$name.origin.out" | sed 's/.*://')
	oledger="$T/$name.origin.jsonl"
	[ -n "$sport" ]
}

# start_proxy MODE [N]: a scripted third-party proxy; sets $pport
start_proxy() {
	local out i
	out=$(mktemp "$T/proxy.XXXX")
	python3 "$PEER" "$@" >"$out" &
	_tp_pids+=($!)
	for i in $(seq 100); do [ -s "$out" ] && break; sleep 0.05; done
	pport=$(head -1 "$out")
	[ -n "$pport" ]
}

# probe NAME ARGS...: the probe through $pport, records in $T/NAME.records.jsonl
probe() {
	local name=$1
	shift
	"$TP_BIN" probe -x "http://127.0.0.1:$pport" -c 1 --cacert "$T/ca.pem" \
		--records "$T/$name.records.jsonl" "$@" >"$T/$name.probe.out" 2>&1
}

# wait_ends FILE N: until the origin ledger holds N connection ends (bounded: 10 s)
wait_ends() {
	local i
	for i in $(seq 200); do
		[ "$(grep -c '"end":' "$1" 2>/dev/null)" -ge "$2" ] && return 0
		sleep 0.05
	done
	return 1
}

# verdict_facts FILE: per tunnel "code hop | source what by on unit" for each fact
verdict_facts() {
	python3 - "$1" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
for t in sorted(doc["tunnels"], key=lambda t: t["local"]):
    v = t["verdict"]
    facts = ["%s %s %s %s %s" % tuple(e.get(k, "-") for k in ("source", "what", "by", "on", "unit"))
             for e in v["evidence"]]
    print(v["code"], v["hop"], "|", "; ".join(facts))
EOF
}

start_origin main || { not_ok "origin started" "$(cat "$T/main.origin.out")"; finish; }

# 1. Truncation after 34016 tunnel bytes, then a FIN: the IOCP incident through a proxy
# that keeps no ledger. The origin wrote it all and the proxy acknowledged it all.
if start_proxy relay-truncate 34016; then
	probe trunc -n 2 --timeout 5 "https://127.0.0.1:$sport/bytes/654397"
	wait_ends "$oledger" 2 || not_ok "truncation: the origin logged both connection ends"
	"$TP_BIN" capture --json "$T/trunc.json" -q "$T/trunc.records.jsonl" "$oledger"
	expect_eq "truncation: exit 1 (a verdict is not ok)" "$?" 1
	expect_eq "truncation: verdicts and the facts they used" "$(verdict_facts "$T/trunc.json" | sort -u)" \
		"truncated_proxy_client proxy | probe early_fin proxy client_leg body; origin_ledger wrote origin origin_leg message; origin_ledger acked proxy origin_leg stream"
	expect_eq "truncation: facts agree with the records and the origin ledger" "$(python3 - "$T/trunc.json" \
		"$T/trunc.records.jsonl" "$oledger" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
recs = {r["id"]: r for r in map(json.loads, open(sys.argv[2]))}
lines = [json.loads(l) for l in open(sys.argv[3])]
origin = {o["id"]: o for o in lines if o.get("id")}
bad = []
for t in doc["tunnels"]:
    r, o = recs[t["id"]], origin[t["id"]]
    ev = {e["what"]: e for e in t["verdict"]["evidence"]}
    end = [x for x in lines if x["peer"] == o["peer"] and x.get("end")][0]
    checks = [t["verdict"]["at_byte"] == r["bytes_received"] < r["bytes_expected"],
              ev["early_fin"]["bytes"] == r["bytes_received"], ev["early_fin"]["of"] == 654397,
              ev["wrote"]["bytes"] == o["bytes_written"] >= 654397,
              ev["acked"]["bytes"] == end["bytes_acked_at_close"] >= o["bytes_written"],
              t["down"]["origin_wrote"] == o["bytes_written"], t["down"]["probe"] == r["wire_received"],
              t["down"]["wire"]["origin_acked"] == end["bytes_acked_at_close"], t["down"]["unit"] == "message"]
    if not all(checks):
        bad.append("%s %s" % (t["id"], checks))
print("; ".join(bad) or "all")
EOF
)" all
	# Without the origin ledger nothing separates the origin from the proxy: the
	# verdict says so, and which evidence would.
	"$TP_BIN" capture --json "$T/alone.json" -q "$T/trunc.records.jsonl"
	expect_eq "probe records alone: unlocated, and what would locate it" "$(python3 -c '
import json, sys
for t in json.load(open(sys.argv[1]))["tunnels"]:
    v = t["verdict"]; print(v["code"], ",".join(v.get("would_locate", [])))' "$T/alone.json" | sort -u)" \
		"failed_unlocated origin_ledger,proxy_ledger,capture_client_leg,capture_origin_leg"
else
	not_ok "relay-truncate proxy started"
fi

# 2. The origin ends a close-delimited response with its FIN; the proxy never ends the
# client's side: FIN withheld at proxy, from the origin ledger and the probe's timeout.
if start_proxy relay-nofin; then
	n=$(grep -c '"end":' "$oledger")
	probe nofin -n 1 --timeout 2 "https://127.0.0.1:$sport/close/5000"
	wait_ends "$oledger" $((n + 1)) || not_ok "no FIN: the origin logged the connection end"
	"$TP_BIN" capture --json "$T/nofin.json" -q "$T/nofin.records.jsonl" "$oledger"
	expect_eq "no FIN: verdict and facts" "$(verdict_facts "$T/nofin.json")" \
		"no_fin proxy | probe no_fin proxy client_leg body; origin_ledger fin origin origin_leg message; probe read client - body; probe failed client - body"
	expect_eq "no FIN: the probe's failure was a timeout in phase fin" "$(python3 -c '
import json, sys
e = json.load(open(sys.argv[1]))["tunnels"][0]["verdict"]["evidence"][-1]; print(e["name"], e["phase"])' "$T/nofin.json")" \
		"timeout fin"
else
	not_ok "relay-nofin proxy started"
fi

# 3. The origin resets mid-response; the relay passes it on as a FIN.
if start_origin rst --fault rst:after=30000 && start_proxy relay; then
	probe rst -n 1 --timeout 5 "https://127.0.0.1:$sport/bytes/100000"
	wait_ends "$oledger" 1 || not_ok "reset: the origin logged the connection end"
	"$TP_BIN" capture --json "$T/rst.json" -q "$T/rst.records.jsonl" "$oledger"
	expect_eq "reset became FIN: verdict and facts" "$(verdict_facts "$T/rst.json")" \
		"reset_became_fin proxy | probe early_fin proxy client_leg body; origin_ledger rst origin origin_leg message"
else
	not_ok "origin with rst fault and relay proxy started"
fi

# 4. A refusal is a refusal, with its reply code.
if start_proxy refuse; then
	probe refused -n 1 --timeout 5 "https://127.0.0.1:$sport/bytes/10"
	"$TP_BIN" capture --json "$T/refused.json" -q "$T/refused.records.jsonl" "$T/main.origin.jsonl"
	expect_eq "refused: verdict, fact and reply code" "$(python3 -c '
import json, sys
v = json.load(open(sys.argv[1]))["tunnels"][0]["verdict"]; e = v["evidence"][0]
print(v["code"], e["source"], e["what"], e["name"], e["reply"])' "$T/refused.json")" \
		"proxy_refused probe refused http 403"
else
	not_ok "refusing proxy started"
fi

# 5. Keep-alive through a healthy relay: each request joined on its own, by its id.
if start_origin keep && start_proxy relay; then
	probe keep -n 3 --timeout 5 "https://127.0.0.1:$sport/bytes/1000" "https://127.0.0.1:$sport/bytes/3000"
	"$TP_BIN" capture --all-requests --json "$T/keep.json" -q "$T/keep.records.jsonl" "$oledger"
	expect_eq "keep-alive: exit 0, all ok" "$?" 0
	expect_eq "keep-alive: every request its own chain, from its own origin line" "$(python3 - \
		"$T/keep.json" "$oledger" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
origin = {o["id"]: o for o in map(json.loads, open(sys.argv[2])) if o.get("id")}
reqs = [r for t in doc["tunnels"] for r in t["per_request"]]
multi = sum(1 for t in doc["tunnels"] if len(t["per_request"]) > 1)
same = all(r["down"]["origin_wrote"] == origin[r["id"]]["bytes_written"] and
           r["up"]["origin_wrote"] == origin[r["id"]]["bytes_received"] for r in reqs)
print(len(reqs), multi > 0, same)
EOF
)" "6 True True"
	"$TP_BIN" capture --json "$T/keep-default.json" -q "$T/keep.records.jsonl" "$oledger"
	expect_eq "keep-alive: without --all-requests, connections with nothing lost list no requests" \
		"$(python3 -c 'import json,sys; print(sum(len(t["per_request"]) for t in json.load(open(sys.argv[1]))["tunnels"]))' "$T/keep-default.json")" 0

	# 6. Run ids: the same ledgers, the keep-alive run tagged as an earlier run. Without
	# --run-id its ok tunnels join; with it they are counted and left out.
	python3 - "$T" <<'EOF'
import json, sys
d = sys.argv[1]
def tag(src, run, out):
    with open(out, "a") as fp:
        for line in open(src):
            o = json.loads(line); o["run"] = run; fp.write(json.dumps(o) + "\n")
tag(d + "/keep.records.jsonl", "before", d + "/runs.records.jsonl")
tag(d + "/keep.origin.jsonl", "before", d + "/runs.origin.jsonl")
tag(d + "/trunc.records.jsonl", "now", d + "/runs.records.jsonl")
tag(d + "/main.origin.jsonl", "now", d + "/runs.origin.jsonl")
EOF
	"$TP_BIN" capture --json "$T/all.json" -q "$T/runs.records.jsonl" "$T/runs.origin.jsonl"
	"$TP_BIN" capture --run-id now --json "$T/now.json" -q "$T/runs.records.jsonl" "$T/runs.origin.jsonl"
	want_other=$(($(wc -l <"$T/keep.records.jsonl") + $(wc -l <"$T/keep.origin.jsonl")))
	expect_eq "run ids: without --run-id the earlier run's tunnels join as ok" \
		"$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["verdicts"].get("ok", 0) > 0)' "$T/all.json")" True
	expect_eq "run ids: --run-id now joins its run only and counts the rest" "$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(d["run_id"], sorted(d["verdicts"]), d["ledger_lines_other_runs"])' "$T/now.json")" \
		"now ['truncated_proxy_client'] $want_other"
else
	not_ok "keep-alive origin and relay proxy started"
fi
finish
