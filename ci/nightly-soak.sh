#!/usr/bin/env bash
# What the nightly job runs: build, then three soaks side by side, each on its own
# loopback ports, each for DURATION:
#   gateway-hardening    load and regression soak (latency, errors, reuse, RSS, fds)
#   win-iocp-healthy     the IOCP incident's load through a healthy proxy
#   fault-soak           the reference proxy with faults on a fraction of the tunnels:
#                        every request accounted for in every ledger, RSS/fd growth < 5%
# through the reference proxy (or $PROXY_URL, your build: the fault soak then checks
# only what applies to a proxy run did not start), compared with the stored baseline;
# leaves a run folder with report.html, summary.md (the CI step summary) and
# junit.xml. Exit non-zero when an expectation or the regression gate fails.
#   DURATION=30m BASELINE_DIR=baseline OUT=nightly PROXY_URL=http://127.0.0.1:8080
# The soaks run at once so the job takes DURATION, not three times it (.ci/run's
# 60-second smoke stays under two minutes); each soak is open- or closed-loop on its
# own and none of their checks is a speed.
set -uo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-30m}
OUT=${OUT:-nightly}
BASELINE_DIR=${BASELINE_DIR:-baseline}
bash scripts/deps.sh
make -s all || exit 2
mkdir -p "$OUT"
scenarios=(gateway-hardening=docs/incidents/gateway-hardening/scenario.tps
	win-iocp-healthy=docs/incidents/win-iocp-incomplete-read/healthy.tps
	fault-soak=ci/scenarios/fault-soak.tps)
pids=() names=()
for entry in "${scenarios[@]}"; do
	name=${entry%%=*}
	args=(run "${entry#*=}" --duration "$DURATION" --out "$OUT/$name")
	[ -n "${PROXY_URL:-}" ] && args+=(--proxy "$PROXY_URL")
	[ -f "$BASELINE_DIR/$name/run.json" ] && args+=(--baseline "$BASELINE_DIR/$name/run.json")
	build/tunnelprobe "${args[@]}" >"$OUT/$name.log" 2>&1 &
	pids+=($!) names+=("$name")
done
status=0
runs=() labels=()
for i in "${!pids[@]}"; do
	wait "${pids[$i]}"
	rc=$?
	name=${names[$i]}
	echo "$name: exit $rc"
	sed 's/^/  /' "$OUT/$name.log"
	[ "$rc" -gt "$status" ] && status=$rc
	if [ -f "$OUT/$name/run.json" ]; then
		runs+=("$OUT/$name") labels+=(--label "$name")
	fi
done
if [ "${#runs[@]}" -gt 0 ]; then
	build/tunnelprobe report "${runs[@]}" "${labels[@]}" -o "$OUT/report.html" \
		--markdown "$OUT/summary.md" --junit "$OUT/junit.xml" || status=2
fi
# The next night compares with tonight when tonight passed.
if [ "$status" -eq 0 ]; then
	for r in "${runs[@]}"; do mkdir -p "$BASELINE_DIR/$(basename "$r")" && cp "$r/run.json" "$BASELINE_DIR/$(basename "$r")/"; done
fi
exit "$status"
