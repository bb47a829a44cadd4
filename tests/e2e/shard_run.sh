#!/usr/bin/env bash
# `run --shard I/N` (and TP_SHARD): a scenario with its own origin and the reference
# proxy with a request-keyed fault, run whole and as 3 shards (each starting its own
# origin and proxy, as pods would), merged from the shards' folder with
# `report merge --scenario`: the same counts per target as the whole run, the load's
# expectations checked on the merge, the per-process one (accounted) taken from every
# shard. A shard skips the load's expectations and says where they are checked.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/peers.sh"

cat >"$T/s.tps" <<'EOF'
scenario sharded
description a fault keyed by the request, whole and in shards

origin
proxy reference http
  fault truncate:after=20000 p=0.3 seed=11

probe
  url http://shard.test:{http}/bytes/65536
  url https://shard.test:{tls}/bytes/65536
  requests 15
  concurrency 3
  timeout 5s
  arg --no-keepalive

expect
  requests == 30
  accounted == 1

expect reference
  class incomplete_read >= 1
  verdict truncated at proxy
EOF
timeout 120 "$TP_BIN" run "$T/s.tps" --out "$T/whole" -q
expect_eq "the whole run meets its expectations" "$?" 0
for i in 0 1; do
	timeout 120 "$TP_BIN" run "$T/s.tps" --shard "$i/3" --out "$T/shards/shard-$i" >"$T/shard-$i.out" 2>&1
	expect_eq "shard $i/3 runs (exit 0)" "$?" 0
done
TP_SHARD=2/3 timeout 120 "$TP_BIN" run "$T/s.tps" --out "$T/shards/shard-2" -q
expect_eq "shard 2/3 from TP_SHARD runs (exit 0)" "$?" 0
expect_eq "a shard skips the load's expectations, checks its own accounting" \
	"$(json "$T/shards/shard-1/run.json" "[e['result'] for e in d['expectations']], d['shard']['index'], d['shard']['load']['requests_per_url']")" \
	"['skip', 'pass', 'skip', 'skip'] 1 15"
check "a shard says where the load's expectations are checked" grep -q "skipped (shard 0/3: checked on the merged run" "$T/shard-0.out"

"$TP_BIN" report merge "$T/shards" -o "$T/merged.json" --scenario "$T/s.tps" >"$T/merge.out" 2>&1
expect_eq "report merge --scenario of the shards' folder: expectations met (exit 0)" "$?" 0
expect_eq "the merge's expectations: the load's checked, accounted from each shard" \
	"$(json "$T/merged.json" "[(e['result'], e['expect'].split(':')[0]) for e in d['expectations']]")" \
	"[('pass', 'requests == 30'), ('pass', 'accounted == 1'), ('pass', 'class incomplete_read >= 1'), ('pass', 'verdict truncated at proxy')]"
SAME="d['requests'], d['ok'], sorted(d['classes'].items()), sorted(d['verdict_counts'].items()), \
[(t['url'].split(':')[0], t['requests'], sorted(t['classes'].items())) for t in d['targets']]"
expect_eq "merged shards count what the whole run counted, per target and per verdict" \
	"$(json "$T/merged.json" "$SAME")" "$(json "$T/whole/run.json" "$SAME")"
"$TP_BIN" run --shard 3/3 "$T/s.tps" >/dev/null 2>"$T/bad.err"
expect_eq "run --shard 3/3: exit 2, one line" "$? $(wc -l <"$T/bad.err")" "2 1"
finish
