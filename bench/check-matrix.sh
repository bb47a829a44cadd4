#!/usr/bin/env bash
# The results matrix of `tunnelprobe check` (docs/check.md): every check against
# squid, tinyproxy, microsocks, nginx and the reference proxy (as a forward proxy, and
# in reverse mode as a gateway), each started on free loopback ports as
# tests/e2e/peers_check.sh sets it up (run_subject).
#   bench/check-matrix.sh [--update] [OUTDIR]
# writes OUTDIR/<subject>.json and OUTDIR/matrix.md; --update also replaces the table
# between the matrix markers in docs/check.md. Not a test: it reports, it asserts nothing.
set -u
cd "$(dirname "$0")/.."
update=0
[ "${1:-}" = --update ] && { update=1; shift; }
out=${1:-build/check-matrix}
mkdir -p "$out"
out=$(cd "$out" && pwd)
export TP_BIN=${TP_BIN:-$PWD/build/tunnelprobe} TP_ROOT=$PWD
[ -x "$TP_BIN" ] || { echo "build $TP_BIN first (make)" >&2; exit 2; }
subjects=(squid tinyproxy microsocks microsocks-auth nginx reference reference-reverse)
for s in "${subjects[@]}"; do
	# Each subject in its own shell: lib.sh cleans its servers up at exit.
	bash -c '. tests/e2e/lib.sh; . tests/e2e/peers.sh; . tests/e2e/peers_check.sh
		run_subject "$1" "$2" >"$3" 2>&1' _ "$s" "$out/$s.json" "$out/$s.out"
	echo "$s: exit $? ($(tail -1 "$out/$s.out"))"
done
"$TP_BIN" check --list >"$out/list.txt"
python3 - "$out" "${subjects[@]}" <<'PY' >"$out/matrix.md"
import json, sys, os
out, subjects = sys.argv[1], sys.argv[2:]
res = {}
for s in subjects:
    p = os.path.join(out, s + ".json")
    res[s] = {c["id"]: c for c in json.load(open(p))["checks"]} if os.path.exists(p) else {}
mark = {"pass": "pass", "fail": "**FAIL**", "warn": "warn", "skip": "skip"}
print("| check | " + " | ".join(subjects) + " |")
print("|---|" + "---|" * len(subjects))
for line in open(os.path.join(out, "list.txt")):
    cid = line.split()[0]
    cells = [mark[res[s][cid]["result"]] if cid in res[s] else "–" for s in subjects]
    print("| `" + cid + "` | " + " | ".join(cells) + " |")
print()
for s in subjects:
    n = {k: 0 for k in mark}
    for c in res[s].values():
        n[c["result"]] += 1
    print("- %s: %d pass, %d fail, %d warn, %d skip" % (s, n["pass"], n["fail"], n["warn"], n["skip"]))
PY
echo "matrix: $out/matrix.md"
if [ "$update" = 1 ]; then
	python3 - docs/check.md "$out/matrix.md" <<'PY'
import sys
doc, table = sys.argv[1], open(sys.argv[2]).read()
s = open(doc).read()
a, b = "<!-- matrix:begin -->", "<!-- matrix:end -->"
i, j = s.index(a) + len(a), s.index(b)
open(doc, "w").write(s[:i] + "\n" + table + s[j:])
PY
	echo "updated docs/check.md"
fi
