#!/usr/bin/env bash
# Every fault of the reference proxy makes the battery fail, and says where: for each
# fault, the check named beside it passes on the healthy proxy and fails with the
# fault, with the failure's detail matching what the fault does.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/peers.sh"
. "$(dirname "$0")/peers_check.sh"

# fault spec | the check it fails | a word of the failure's detail
faults=(
	"truncate:after=32768|forward.bytes.1m|truncated"
	"rst:after=32768|forward.bytes.1m|reset"
	"close-before-reply|connect.reply|closed"
	"close-mid-reply|connect.reply|aborted"
	"close-after-accept|connect.bytes.1m|no response"
	"refuse|connect.reply|403"
	"no-fin|connect.end.fin|FIN was not passed on"
	"full-close|connect.half-close.origin|full close"
	"stall:after=32768|forward.bytes.1m|timeout"
	"corrupt:at=1000|forward.bytes.1m|corrupted"
	"slow:bps=20000|forward.bytes.1m|timeout"
	"drop-chunk-end|forward.chunked|truncated"
)

ids=$(printf '%s\n' "${faults[@]}" | cut -d'|' -f2 | sort -u | paste -sd, -)
if start_ref_proxy; then
	"$TP_BIN" check --proxy "http://127.0.0.1:$REF_PORT" --only "$ids" --json "$T/healthy.json" \
		>"$T/healthy.out" 2>&1
	for id in ${ids//,/ }; do
		expect_eq "healthy reference proxy: $id passes" \
			"$(json "$T/healthy.json" '[c["result"] for c in d["checks"] if c["id"] == "'"$id"'"]')" "['pass']"
	done
	kill "$REF_PID" 2>/dev/null
else
	not_ok "reference proxy starts" "$(cat "$T/ref.err")"
fi

for row in "${faults[@]}"; do
	IFS='|' read -r spec id word <<<"$row"
	if ! start_ref_proxy --fault "$spec"; then
		not_ok "--fault $spec: proxy starts" "$(cat "$T/ref.err")"
		continue
	fi
	"$TP_BIN" check --proxy "http://127.0.0.1:$REF_PORT" --only "$id" --json "$T/f.json" \
		>"$T/f.out" 2>&1
	fault_fails "$spec" "$id" "$word" "$?" "$T/f.json"
	kill "$REF_PID" 2>/dev/null
	wait "$REF_PID" 2>/dev/null
done
finish
