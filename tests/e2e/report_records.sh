#!/usr/bin/env bash
# Reports from probe records (JSON Lines) and merged shards: the aggregate equals an
# independent count; bad and overlong lines are counted and skipped; a series longer
# than the cap is coarsened without losing a request; A+B adds counts and histograms.
. "$(dirname "$0")/lib.sh"
D="$TP_ROOT/tests/data"

# 1. The fixture records agree with the run file the probe wrote for the same run.
"$TP_BIN" report "$D/runs/windows.records.jsonl" --json "$T/agg.json"
expect_eq "records -> run exits 0" "$?" "0"
cmp_fields=$(python3 - "$T/agg.json" "$D/runs/windows/run.json" <<'PY'
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
keys = ['requests', 'ok', 'failed', 'classes', 'status_codes', 'histogram']
diff = [k for k in keys if a.get(k) != b.get(k)]
diff += ['p%s' % p for p in ('50', '90', '99') if abs(a['latency_ms']['p' + p] - b['latency_ms']['p' + p]) > 1e-6]
diff += ['targets'] if sorted((t['url'], t['requests'], t['ok']) for t in a['targets']) != \
    sorted((t['url'], t['requests'], t['ok']) for t in b['targets']) else []
diff += ['failures'] if len(a['failures']) != len(b['failures']) else []
print(diff)
PY
)
expect_eq "records aggregate = the probe's run file" "$cmp_fields" "[]"
"$TP_BIN" report "$T/agg.json" --text "$T/agg.txt"
expect_eq "the aggregate is a valid run file" "$?" "0"
check "records golden text" diff -u "$D/golden/windows-records.txt" \
	<("$TP_BIN" report "$D/runs/windows.records.jsonl" --label windows-records)

# 2. Hostile lines: malformed, overlong (> 64 KiB), a half-written last line.
python3 - "$D/runs/windows.records.jsonl" "$T/dirty.jsonl" <<'PY'
import sys
lines = open(sys.argv[1]).read().splitlines()
out = lines[:10] + ['{"class": "ok", "latency_ms": ', 'not json', '{"class":"no_such_class","latency_ms":1}',
                    '{"url": "' + 'x' * 70000 + '", "class": "ok", "latency_ms": 1}', ''] + lines[10:]
open(sys.argv[2], 'w').write('\n'.join(out) + '\n{"id": "half", "class": "o')
PY
"$TP_BIN" report "$T/dirty.jsonl" --json "$T/dirty.json" 2>"$T/dirty.err"
expect_eq "dirty records: exit 0, bad lines counted" \
	"$? $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["requests"], d["records"]["bad_lines"])' "$T/dirty.json")" \
	"0 60 5"
printf 'garbage\n{"also": "not a record"}\n' >"$T/none.jsonl"
"$TP_BIN" report "$T/none.jsonl" 2>"$T/none.err" >/dev/null
expect_eq "no record at all -> exit 2, one line" "$? $(wc -l <"$T/none.err")" "2 1"

# 3. A long run (3 hours, 30000 records, unsorted): the series is coarsened, nothing lost.
python3 - "$T/long.jsonl" <<'PY'
import json, random, sys
random.seed(7)
t0 = 1795390000.0
with open(sys.argv[1], 'w') as f:
    for i in range(30000):
        t = t0 + random.uniform(0, 3 * 3600)
        cls = 'ok' if i % 50 else 'timeout'
        f.write(json.dumps({"id": "x-0-%d" % i, "url": "http://h%d.test/p" % (i % 1500), "class": cls,
                            "phase": "done" if cls == 'ok' else 'fin', "status": 200, "bytes_expected": 100,
                            "bytes_received": 100, "bytes_sent": 50, "wire_received": 180,
                            "reused": i % 3 == 0, "latency_ms": 1 + (i % 997) / 10.0, "t": t}) + "\n")
PY
"$TP_BIN" report "$T/long.jsonl" --json "$T/long.json" -o "$T/long.html"
expect_eq "long run exits 0" "$?" "0"
long_check=$(python3 - "$T/long.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
ts = d['timeseries']
print(d['requests'], d['classes'].get('timeout'), sum(s['completed'] for s in ts), sum(s['started'] for s in ts),
      len(ts) <= 3600, d.get('timeseries_step_s', 1) > 1, len(d['targets']), d['targets'][-1]['url'],
      sum(t['requests'] for t in d['targets']), len(d['failures']), d['connections']['requests_on_reused'])
PY
)
expect_eq "long run: counts kept, series coarsened, targets capped with a pool" "$long_check" \
	"30000 600 30000 30000 True True 1025 (other targets) 30000 100 10000"

# 4. Shards: A+B is the sum, percentiles recomputed from the merged histogram.
"$TP_BIN" report "$D/runs/linux.json+$D/runs/windows.json" --json "$T/merged.json"
expect_eq "A+B merge exits 0" "$?" "0"
merge_check=$(python3 - "$D/runs/linux.json" "$D/runs/windows.json" "$T/merged.json" <<'PY'
import json, sys
a, b, m = (json.load(open(p)) for p in sys.argv[1:4])
hist = {}
for r in (a, b):
    for lo, hi, n in r['histogram']['buckets']: hist[(lo, hi)] = hist.get((lo, hi), 0) + n
ok = [m['requests'] == a['requests'] + b['requests'], m['ok'] == a['ok'] + b['ok'],
      m['classes'].get('incomplete_read') == b['classes']['incomplete_read'],
      {(lo, hi): n for lo, hi, n in m['histogram']['buckets']} == hist,
      sum(n for _, _, n in m['histogram']['buckets']) == m['requests'],
      len(m['merged_from']) == 2, len(m['failures']) == len(b['failures']),
      min(a['latency_ms']['p50'], b['latency_ms']['p50']) <= m['latency_ms']['p50'] <= max(a['latency_ms']['p50'], b['latency_ms']['p50'])]
print(ok)
PY
)
expect_eq "A+B: counts and buckets add, p50 between the two" "$merge_check" "[True, True, True, True, True, True, True, True]"
"$TP_BIN" report "$D/runs/linux.json+$T/nope.json" 2>"$T/plus.err" >/dev/null
expect_eq "a missing shard -> exit 2" "$?" "2"
"$TP_BIN" report "$D/runs/linux.json" "$D/runs/windows.json" --json "$T/two.json" 2>/dev/null
expect_eq "--json with two runs -> exit 2" "$?" "2"
finish
