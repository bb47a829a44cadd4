#!/usr/bin/env bash
# What the nightly job runs: build, soak the gateway and IOCP scenarios against the
# reference proxy (or $PROXY_URL, your build), compare with the stored baseline, and
# leave a run folder with report.html, summary.md (for the CI step summary) and
# junit.xml. Exit non-zero when an expectation or the regression gate fails.
#   DURATION=30m BASELINE_DIR=baseline OUT=nightly PROXY_URL=http://127.0.0.1:8080
set -uo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-30m}
OUT=${OUT:-nightly}
BASELINE_DIR=${BASELINE_DIR:-baseline}
bash scripts/deps.sh
make -s all || exit 2
mkdir -p "$OUT"
status=0
labels=() runs=()
for scenario in gateway-hardening/scenario win-iocp-incomplete-read/healthy; do
	name=${scenario%%/*}
	args=(run "docs/incidents/$scenario.tps" --duration "$DURATION" --out "$OUT/$name" -q)
	[ -n "${PROXY_URL:-}" ] && args+=(--proxy "$PROXY_URL")
	[ -f "$BASELINE_DIR/$name/run.json" ] && args+=(--baseline "$BASELINE_DIR/$name/run.json")
	build/tunnelprobe "${args[@]}"
	rc=$?
	echo "$name: exit $rc"
	[ "$rc" -gt "$status" ] && status=$rc
	runs+=("$OUT/$name") labels+=(--label "$name")
done
build/tunnelprobe report "${runs[@]}" "${labels[@]}" -o "$OUT/report.html" \
	--markdown "$OUT/summary.md" --junit "$OUT/junit.xml"
# The next night compares with tonight when tonight passed.
if [ "$status" -eq 0 ]; then
	for r in "${runs[@]}"; do mkdir -p "$BASELINE_DIR/$(basename "$r")" && cp "$r/run.json" "$BASELINE_DIR/$(basename "$r")/"; done
fi
exit "$status"
