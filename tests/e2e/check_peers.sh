#!/usr/bin/env bash
# `tunnelprobe check` against proxies we did not write, set up as docs/check.md says:
# squid (forward, CONNECT, cache), tinyproxy (forward, CONNECT), microsocks (SOCKS5,
# also with a password) and nginx (gateway). Each run must complete (exit 0 or 1, never
# 2), every check must give a real result, and the checks that fail must be exactly the
# ones docs/check.md explains — so a change in the battery or in a peer shows here.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/peers.sh"
. "$(dirname "$0")/peers_check.sh"

# subject | program | the checks that fail (sorted), as explained in docs/check.md
expected=(
	"squid|squid|connect.half-close.client connect.half-close.origin forward.half-close.client"
	"tinyproxy|tinyproxy|connect.half-close.client connect.half-close.origin forward.end.reset forward.half-close.client"
	"microsocks|microsocks|socks5.half-close.client socks5.half-close.origin"
	"microsocks-auth|microsocks|socks5.half-close.client socks5.half-close.origin"
	"nginx|nginx|gateway.breaker.open"
)

for row in "${expected[@]}"; do
	IFS='|' read -r name prog want <<<"$row"
	need_cmd "$prog" "check against $name" || continue
	# Each subject in its own shell: its servers stop when it ends (lib.sh's trap).
	bash -c 'cd "$1" && . tests/e2e/lib.sh && . tests/e2e/peers.sh && . tests/e2e/peers_check.sh &&
		run_subject "$2" "$3"' _ "$TP_ROOT" "$name" "$T/$name.json" >"$T/$name.out" 2>&1
	rc=$?
	if [ "$rc" != 0 ] && [ "$rc" != 1 ]; then
		not_ok "$name: the battery ran" "exit $rc: $(tail -3 "$T/$name.out")"
		continue
	fi
	ok "$name: the battery ran (exit $rc; $(tail -1 "$T/$name.out"))"
	expect_eq "$name: the failing checks are the documented ones" \
		"$(json "$T/$name.json" '" ".join(sorted(c["id"] for c in d["checks"] if c["result"]=="fail"))')" \
		"$want"
	expect_eq "$name: every check gave a result" \
		"$(json "$T/$name.json" 'sum("gave no result" in c["detail"] for c in d["checks"])')" 0
done

# What each subject shows beyond its failures.
if [ -f "$T/squid.json" ]; then
	expect_eq "squid caches: every cache check passes" \
		"$(json "$T/squid.json" '" ".join(c["result"] for c in d["checks"] if c["profile"]=="cache")')" \
		"pass pass pass pass pass pass pass pass"
	expect_eq "squid refuses the --denied destination with 403" \
		"$(json "$T/squid.json" '[c["result"] for c in d["checks"] if c["id"]=="connect.refused.policy"][0]')" pass
fi
if [ -f "$T/microsocks-auth.json" ]; then
	expect_eq "microsocks with a password: user/password, a wrong one, no-auth refused" \
		"$(json "$T/microsocks-auth.json" '" ".join(c["result"] for c in d["checks"] if c["id"] in ("socks5.method.noauth","socks5.method.userpass","socks5.auth.bad"))')" \
		"pass pass pass"
fi
if [ -f "$T/nginx.json" ]; then
	expect_eq "nginx limit_req: 429 + Retry-After, then through; upstream keepalive reused" \
		"$(json "$T/nginx.json" '" ".join(c["result"] for c in d["checks"] if c["id"] in ("gateway.rate-limit","gateway.retry-after","gateway.reuse"))')" \
		"pass pass pass"
	expect_eq "nginx has no breaker: the half-open and close checks say so" \
		"$(json "$T/nginx.json" '" ".join(c["result"] for c in d["checks"] if c["id"].startswith("gateway.breaker."))')" \
		"fail skip skip"
fi
finish
