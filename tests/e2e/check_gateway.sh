#!/usr/bin/env bash
# The gateway profile of `tunnelprobe check` has a passing subject: the reference
# proxy's reverse mode (--reverse, hardened with --rate-limit and --breaker, /metrics)
# passes every gateway check; its faults fail the gateway check they break, with the
# failure saying what the fault did; and the gateway-hardening incident
# (docs/incidents/gateway-hardening/gateway.sh) passes on it, and fails on gateways
# without a rate limit or a breaker — the same proxy without --rate-limit/--breaker,
# nginx without limit_req, and nginx as docs/check.md sets it up (no breaker).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/peers.sh"
. "$(dirname "$0")/peers_check.sh"

# The p99 check compares latencies; a loaded test machine must not decide this test.
SLACK=(--p99-budget 1000)

run_subject reference-reverse "$T/rev.json" "${SLACK[@]}" >"$T/rev.out" 2>&1
rc=$?
expect_eq "reference reverse mode: check exits 0" "$rc" 0
expect_eq "reference reverse mode: every gateway check passes" \
	"$(json "$T/rev.json" '" ".join(c["id"]+"="+c["result"] for c in d["checks"])')" \
	"gateway.pass=pass gateway.rate-limit=pass gateway.retry-after=pass gateway.reuse=pass gateway.p99=pass gateway.metrics=pass gateway.breaker.open=pass gateway.breaker.half-open=pass gateway.breaker.close=pass"
expect_eq "... 429 with Retry-After: 1; 503 with X-Circuit-Breaker: open; one trial, then open again" \
	"$(json "$T/rev.json" '[{c["id"]: c["evidence"] for c in d["checks"]}[i].get(k) for i, k in (("gateway.rate-limit", "retry_after"), ("gateway.breaker.open", "breaker"), ("gateway.breaker.half-open", "origin_requests"))]')" \
	"['1', 'open', 1]"

# fault spec | the gateway check it fails | a word of the failure's detail
faults=(
	"truncate:after=1000|gateway.pass|truncated"
	"rst:after=1000|gateway.pass|reset"
	"corrupt:at=1000|gateway.pass|corrupted"
	"refuse|gateway.pass|403"
	"close-before-reply|gateway.pass|closed after 0 bytes"
	"close-mid-reply|gateway.pass|no response"
	"close-after-accept|gateway.pass|no response"
	"stall:after=1000|gateway.pass|timeout"
	"slow:bps=300|gateway.pass|timeout"
	"truncate:after=10 dir=up|gateway.pass|no response"
)
for row in "${faults[@]}"; do
	IFS='|' read -r spec id word <<<"$row"
	op=$(free_port)
	if ! start_ref_gateway "$op" --fault "$spec"; then
		not_ok "--reverse --fault $spec: proxy starts" "$(cat "$T/refgw.err")"
		continue
	fi
	"$TP_BIN" check --gateway "http://127.0.0.1:$REF_GW_PORT" --origin-url "http://127.0.0.1:$op" \
		--only "$id" --json "$T/f.json" >"$T/f.out" 2>&1
	fault_fails "$spec (reverse)" "$id" "$word" "$?" "$T/f.json"
	kill "$REF_GW_PID" 2>/dev/null
	wait "$REF_GW_PID" 2>/dev/null
done

# The incident: passes hardened, fails bare, and says which checks it missed.
INCIDENT=$TP_ROOT/docs/incidents/gateway-hardening/gateway.sh
notpassing() { sed -n 's/^gateway hardening: .*not passing: //p' "$1"; }
"$INCIDENT" -- "${SLACK[@]}" >"$T/inc.out" 2>&1
expect_eq "incident, reference reverse mode hardened: passes ($(tail -1 "$T/inc.out"))" "$?" 0
"$INCIDENT" --bare -- "${SLACK[@]}" >"$T/bare.out" 2>&1
expect_eq "incident, the same proxy without --rate-limit/--breaker: fails" "$?" 1
expect_eq "... on the rate limit and the breaker (their follow-ups cannot run)" "$(notpassing "$T/bare.out")" \
	"gateway.rate-limit=fail gateway.retry-after=skip gateway.breaker.open=fail gateway.breaker.half-open=skip gateway.breaker.close=skip"
if need_cmd nginx "incident against nginx"; then
	for kind in plain limit_req; do
		op=$(free_port)
		if [ "$kind" = plain ]; then start_nginx_gateway "$op" plain; else start_nginx_gateway "$op"; fi ||
			{ not_ok "nginx ($kind) starts"; continue; }
		"$INCIDENT" --gateway "http://127.0.0.1:$NGINX_GW_PORT" --origin-url "http://127.0.0.1:$op" \
			-- --breaker-wait 5 "${SLACK[@]}" >"$T/nginx-$kind.out" 2>&1
		got="$? $(notpassing "$T/nginx-$kind.out")"
		case $kind in
		plain) want="1 gateway.rate-limit=fail gateway.retry-after=skip gateway.metrics=skip gateway.breaker.open=fail gateway.breaker.half-open=skip gateway.breaker.close=skip" ;;
		*) want="1 gateway.metrics=skip gateway.breaker.open=fail gateway.breaker.half-open=skip gateway.breaker.close=skip" ;;
		esac
		expect_eq "incident, nginx ($kind): fails, on what it lacks" "$got" "$want"
		[ -f "$T/nginxgw/pid" ] && kill "$(cat "$T/nginxgw/pid")" 2>/dev/null
		sleep 0.3
	done
fi
expect_eq "incident script: bad usage is one line, exit 2" \
	"$("$INCIDENT" --gateway http://127.0.0.1:9 2>&1 >/dev/null | wc -l) $("$INCIDENT" --gateway http://127.0.0.1:9 >/dev/null 2>&1; echo $?)" \
	"1 2"
finish
