#!/usr/bin/env bash
# Shards merge exactly (docs/distributed.md): one probe run of an -n load through the
# reference proxy with a request-keyed fault, against 4 `probe --shard I/4` runs of the
# same load sharing one origin and one proxy, merged with `report merge`. The merged
# run has the single run's counts — requests, ok, classes, status codes, verified,
# connections, per target, histogram and phase-histogram totals — and every request
# key (target-seq) was sent once, by the shard k mod 4, with the same class, status,
# bytes expected and fault decision; bytes sent differ by exactly the shard tag in each
# X-Probe-Id. The shared ledgers join with every shard's records. Then the same for an
# open loop (-R), a scenario's expectations checked on the merge, and merge's refusals.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/peers.sh"

FAULT='truncate:after=20000 p=0.3 seed=11'
start_stack one R-one "$FAULT" && start_stack sh R-shards "$FAULT" || { not_ok "origins and proxies start"; finish; }

# probe NAME STACK RUNID ARGS...: the load through STACK's proxy to STACK's origin
probe() {
	local name=$1 s=$2 id=$3 h s_ p
	shift 3
	eval "h=\$${s}_H s_=\$${s}_S p=\$${s}_P"
	timeout 60 "$TP_BIN" probe -q -n 24 -c 4 --no-keepalive --timeout 5 --cacert "$T/ca-$s.pem" \
		-x "http://127.0.0.1:$p" --run-id "$id" --json "$T/$name.json" --records "$T/$name.jsonl" "$@" \
		"http://127.0.0.1:$h/bytes/65536" "https://localhost:$s_/chunked/50000" "https://localhost:$s_/gzip/40000"
}
probe one one R-one
pids=()
for i in 0 1 2 3; do
	probe "shard-$i" sh R-shards --shard "$i/4" &
	pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
"$TP_BIN" report merge -q "$T"/shard-{0,1,2,3}.json -o "$T/merged.json" --html "$T/merged.html"
expect_eq "report merge of the 4 shards exits 0" "$?" 0

# The fault is keyed by the request: a sharded run must meet it where the single run did.
expect_eq "the fault acted in the single run (else nothing below tests it)" \
	"$(json "$T/one.json" "d['classes'].get('incomplete_read', 0) > 0 and d['ok'] > 0")" True

SAME="d['requests'], d['ok'], d['failed'], sorted(d['classes'].items()), sorted(d['status_codes'].items()), \
d['verified'], d['unverified'], d['connections']['opened'], d['connections']['requests_on_reused'], \
sum(b[2] for b in d['histogram']['buckets']), \
sorted((p, sum(b[2] for b in h['buckets'])) for p, h in d['phase_histograms'].items()), \
[(t['requests'], t['ok'], sorted(t['classes'].items()), sum(b[2] for b in t['histogram']['buckets'])) for t in d['targets']]"
expect_eq "merged shards: requests, classes, statuses, verified, connections, targets, histogram totals as one run" \
	"$(json "$T/merged.json" "$SAME")" "$(json "$T/one.json" "$SAME")"
expect_eq "merged run states the whole load and its shards" \
	"$(json "$T/merged.json" "d['config']['connections'], d['config']['requests_per_url'], d['shards'], 'shard' in d, len(d['merged_from'])")" \
	"4 24 {'count': 4, 'merged': [0, 1, 2, 3], 'missing': []} False 4"
expect_eq "merged run spans its shards (started/ended)" \
	"$(python3 -c "import json,sys; s=[json.load(open(f)) for f in sys.argv[2:]]; m=json.load(open(sys.argv[1])); print(m['started']==min(x['started'] for x in s), m['ended']==max(x['ended'] for x in s))" "$T/merged.json" "$T"/shard-{0,1,2,3}.json)" \
	"True True"
check "merged run renders as HTML, with its charts" grep -q "<svg" "$T/merged.html"

# Request by request, keyed by target-seq (the id without its prefix field).
cat >"$T/keys.py" <<'PY'
import json, re, sys
one = {r["id"].split("-", 1)[1]: r for r in map(json.loads, open(sys.argv[1]))}
sh, bad = {}, []
for i in range(4):
    for line in open(f"{sys.argv[2]}/shard-{i}.jsonl"):
        r = json.loads(line)
        m = re.fullmatch(r"[0-9a-f]{6}\.s(\d+)-(\d+)-(\d+)", r["id"])
        if not m or int(m.group(1)) != i or int(m.group(3)) % 4 != i:
            bad.append(r["id"])
        key = r["id"].split("-", 1)[1]
        if key in sh:
            bad.append("twice " + key)
        sh[key] = r
print("ids:", "ok" if not bad else bad[:3], "keys:", sorted(sh) == sorted(one), len(sh))
path = lambda r: (r["url"].split(":")[0], re.sub(r"^\w+://[^/]+", "", r["url"]))  # the stacks' ports differ
same = [k for k in one if k in sh and path(one[k]) == path(sh[k]) and
        all(one[k][f] == sh[k][f] for f in ("class", "phase", "status", "bytes_expected"))]
print("same class/status/expected:", len(same) == len(one))
# the shard tag ".sI" (3 bytes for I < 10) rides in the request's X-Probe-Id (bytes_sent
# counts the request, not the CONNECT before it)
extra = {k: sh[k]["bytes_sent"] - one[k]["bytes_sent"] for k in one if k in sh}
print("bytes_sent differ by the tag:", set(extra.values()) == {3})
PY
expect_eq "every request key sent once, by shard seq mod 4, with the single run's class, status and size" \
	"$(python3 "$T/keys.py" "$T/one.jsonl" "$T")" \
	"ids: ok keys: True 72
same class/status/expected: True
bytes_sent differ by the tag: True"

# The proxy's fault decisions: the same keys faulted in both runs.
FAULTED="sorted(x['fault_key'] for x in r if x.get('fault_acted'))"
expect_eq "the proxy faulted the same request keys for the shards as for the single run" \
	"$(records "$T/proxy-sh.jsonl" "$FAULTED")" "$(records "$T/proxy-one.jsonl" "$FAULTED")"

# The shared ledgers join with every shard's records (ledgers only, no capture).
"$TP_BIN" capture -q --all-requests --run-id R-shards --json "$T/cap-sh.json" "$T"/shard-{0,1,2,3}.jsonl \
	"$T/origin-sh.jsonl" "$T/proxy-sh.jsonl"
"$TP_BIN" capture -q --all-requests --run-id R-one --json "$T/cap-one.json" "$T/one.jsonl" \
	"$T/origin-one.jsonl" "$T/proxy-one.jsonl"
expect_eq "joined with the shared ledgers: every shard's requests found at the origin, verdicts as the single run's" \
	"$(python3 - "$T/cap-sh.json" "$T/cap-one.json" <<'PY'
import collections, json, sys
sh, one = (json.load(open(f)) for f in sys.argv[1:])
per = collections.Counter()
for t in sh["tunnels"]:
    for q in t["per_request"]:
        if q["origin_line"]:
            per[q["id"].split("-")[0].split(".")[1]] += 1
codes = lambda c: sorted(collections.Counter(t["verdict"]["code"] for t in c["tunnels"]).items())
print(sorted(per.items()), codes(sh) == codes(one), sh["ledger_lines_other_runs"])
PY
)" "[('s0', 18), ('s1', 18), ('s2', 18), ('s3', 18)] True 0"

# Open loop: -R divided, the schedule's counts added, the whole rate stated.
OL=(-n 10 -c 4 -R 200 --timeout 5 --noproxy '*' "http://127.0.0.1:${sh_H}/bytes/1000" "http://127.0.0.1:${sh_H}/bytes/2000")
timeout 30 "$TP_BIN" probe -q --json "$T/ol-one.json" "${OL[@]}"
for i in 0 1 2 3; do timeout 30 "$TP_BIN" probe -q --shard "$i/4" --json "$T/ol-$i.json" "${OL[@]}"; done
mkdir -p "$T/ol" && for i in 0 1 2 3; do cp "$T/ol-$i.json" "$T/ol/shard-$i.json"; done
"$TP_BIN" report merge -q "$T/ol" -o "$T/ol-merged.json"
OLK="d['requests'], d['ok'], d['open_loop']['rate'], d['open_loop']['due'], d['open_loop']['sent'], d['config']['rate']"
expect_eq "open loop: a folder of shards merges to the single run's schedule, at the whole rate" \
	"$(json "$T/ol-merged.json" "$OLK")" "$(json "$T/ol-one.json" "$OLK")"
expect_eq "open loop: each shard ran at a quarter of the rate" \
	"$(json "$T/ol-1.json" "d['config']['rate'], d['open_loop']['rate'], d['shard']['load']['rate']")" "50.0 50.0 200.0"

# A scenario's expectations, checked on the merged run.
cat >"$T/merge.tps" <<EOF
scenario merged
origin
probe
  url http://x.test:{http}/bytes/65536
  requests 24
expect
  requests == 72
  class incomplete_read >= 1
  ok >= 72
  rss_growth_mb <= 50
EOF
"$TP_BIN" report merge "$T"/shard-{0,1,2,3}.json -o "$T/checked.json" --scenario "$T/merge.tps" >"$T/checked.out" 2>&1
expect_eq "--scenario: checked on the merged run (one fails on purpose: exit 1)" \
	"$? $(json "$T/checked.json" "[e['result'] for e in d['expectations']]")" \
	"1 ['pass', 'pass', 'fail', 'skip']"
check "--scenario: the results are printed" grep -q "FAIL ok >= 72: got" "$T/checked.out"

# Refusals: one line, exit 2, nothing written; a missing shard is written but exit 1.
refuse() { # NAME WANT ARGS...
	local name=$1 want=$2
	shift 2
	rm -f "$T/r.json"
	"$TP_BIN" report merge "$@" -o "$T/r.json" >/dev/null 2>"$T/r.err"
	local rc=$?
	expect_eq "$name: exit $want, one line" "$rc $(wc -l <"$T/r.err")" "$want 1"
}
refuse "a shard given twice" 2 "$T/shard-0.json" "$T/shard-1.json" "$T/shard-1.json"
refuse "a shard with a run that is not one" 2 "$T/shard-0.json" "$T/one.json"
refuse "shards of another load" 2 "$T/shard-0.json" "$T/ol-1.json"
refuse "an unreadable input" 2 "$T/shard-0.json" "$T/nonexistent.json"
refuse "an unknown option" 2 --frobnicate "$T/shard-0.json"
refuse "a shard missing" 1 "$T/shard-0.json" "$T/shard-1.json" "$T/shard-3.json"
expect_eq "a shard missing: the merge says which" "$(json "$T/r.json" "d['shards']['missing']")" "[2]"
"$TP_BIN" report merge "$T/shard-0.json" >/dev/null 2>&1
expect_eq "no output named: exit 2" "$?" 2
finish
