#!/usr/bin/env bash
# `tunnelprobe check` usage: bad flags get one line and exit 2; --help and --list.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/peers.sh"

bad() { # NAME ARGS...: exit 2 with exactly one line on stderr
	local name=$1
	shift
	"$TP_BIN" check "$@" >"$T/out" 2>"$T/err"
	local rc=$?
	if [ "$rc" = 2 ] && [ "$(wc -l <"$T/err")" = 1 ] && [ ! -s "$T/out" ]; then
		ok "$name: exit 2, one line ($(cat "$T/err"))"
	else
		not_ok "$name" "exit $rc, stderr: $(cat "$T/err")"
	fi
}
bad "no proxy" --profile forward
bad "unknown profile" --proxy http://127.0.0.1:1 --profile forwardd
bad "unknown option" --proxy http://127.0.0.1:1 --frobnicate 1
bad "bad proxy URL" --proxy ftp://x:1
bad "missing value" --proxy
bad "gateway without --origin-url" --gateway http://127.0.0.1:1
bad "origin URL without a port" --gateway http://127.0.0.1:1 --origin-url http://127.0.0.1
bad "bad --pid" --proxy http://127.0.0.1:1 --pid x
bad "bad --breaker-header" --proxy http://127.0.0.1:1 --breaker-header "a b"
bad "bad --idle-wait" --proxy http://127.0.0.1:1 --idle-wait forever
bad "stray argument" --proxy http://127.0.0.1:1 extra

"$TP_BIN" check --help >"$T/help" 2>&1
expect_eq "--help exits 0" "$?" 0
check "--help names the profiles" grep -q "forward,connect,socks5,gateway,cache" "$T/help"
"$TP_BIN" check --list >"$T/list"
n=$(wc -l <"$T/list")
check "--list prints the battery ($n checks)" test "$n" -ge 40
check "--list has every profile" bash -c "for p in forward connect socks5 gateway cache; do grep -q \" \$p \" '$T/list' || exit 1; done"
check "ids are unique" bash -c "[ \$(cut -d' ' -f1 '$T/list' | sort | uniq -d | wc -l) = 0 ]"

# A proxy nobody listens on: checks fail (exit 1), they do not hang.
port=$(free_port)
timeout 60 "$TP_BIN" check --proxy "http://127.0.0.1:$port" --only forward.bytes.0,socks5.bytes.0 \
	--json "$T/dead.json" >"$T/dead.out" 2>&1
expect_eq "a dead proxy: exit 1" "$?" 1
expect_eq "a dead proxy: forward fails, socks5 is a skip with the reason" \
	"$(json "$T/dead.json" '" ".join(c["result"] for c in d["checks"])')" "fail skip"
finish
