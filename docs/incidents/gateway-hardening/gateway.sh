#!/usr/bin/env bash
# The gateway-hardening incident, checked: `tunnelprobe check --profile gateway`
# against a gateway in front of check's own origin (README.md says what each check
# asks). The incident passes only when every check of the plan passes — a skip (no
# --metrics, a breaker that never opened) is not a pass.
#
#   gateway.sh [--bare] [--json FILE] [-- CHECK OPTIONS...]
#       the reference proxy's reverse mode as the gateway, hardened as the plan says:
#       --rate-limit 50/s --breaker failures=5,cooldown=2, /metrics; with --bare the
#       same proxy without --rate-limit and --breaker (a gateway never hardened: fails)
#   gateway.sh --gateway URL --origin-url URL [--metrics URL] [--json FILE] [-- ...]
#       your gateway, configured to send every request to --origin-url (where check's
#       origin then listens; docs/check.md shows an nginx setup)
#
# Prints check's table, then one line: "gateway hardening: N of M checks pass" and the
# ones that do not. Exit 0 when all pass, 1 when one does not, 2 when the checks could
# not run (bad usage, the gateway would not start). TP_BIN names the binary (default:
# build/tunnelprobe of this tree).
set -u
here=$(cd "$(dirname "$0")" && pwd)
TP_BIN=${TP_BIN:-$here/../../../build/tunnelprobe}
HARDENED=(--rate-limit 50/s --breaker failures=5,cooldown=2)
bare=0 gateway="" origin="" metrics="" json="" extra=()
while [ $# -gt 0 ]; do
	case $1 in
	--bare) bare=1 ;;
	--gateway) gateway=${2:-}; shift ;;
	--origin-url) origin=${2:-}; shift ;;
	--metrics) metrics=${2:-}; shift ;;
	--json) json=${2:-}; shift ;;
	--) shift; extra=("$@"); break ;;
	*) echo "gateway.sh: unknown option '$1' (usage: the head of $0)" >&2; exit 2 ;;
	esac
	shift
done
[ -x "$TP_BIN" ] || { echo "gateway.sh: no $TP_BIN (run make, or set TP_BIN)" >&2; exit 2; }
if [ -n "$gateway" ] && [ -z "$origin" ]; then
	echo "gateway.sh: --gateway needs --origin-url (where your gateway sends requests)" >&2
	exit 2
fi
dir=$(mktemp -d /tmp/tp-gateway.XXXXXX)
proxy_pid=""
cleanup() {
	[ -n "$proxy_pid" ] && kill "$proxy_pid" 2>/dev/null && wait "$proxy_pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
[ -n "$json" ] || json=$dir/check.json
args=()
if [ -z "$gateway" ]; then
	# The reference proxy in front of a free loopback port, where check's origin listens.
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	origin=http://127.0.0.1:$port
	flags=(--reverse "$origin")
	[ "$bare" = 1 ] || flags+=("${HARDENED[@]}")
	echo "gateway: tunnelprobe proxy --listen 127.0.0.1:0 ${flags[*]}"
	"$TP_BIN" proxy --listen 127.0.0.1:0 "${flags[@]}" >"$dir/proxy.out" 2>&1 &
	proxy_pid=$!
	for _ in $(seq 100); do grep -q '^listening' "$dir/proxy.out" && break; sleep 0.05; done
	gport=$(sed -n 's/^listening .*:\([0-9]*\)$/\1/p' "$dir/proxy.out")
	[ -n "$gport" ] || { echo "gateway.sh: the reference proxy did not start: $(cat "$dir/proxy.out")" >&2; exit 2; }
	gateway=http://127.0.0.1:$gport
	metrics=$gateway/metrics
	args+=(--breaker-wait 10) # its cool-down is 2 s
fi
[ -n "$metrics" ] && args+=(--metrics "$metrics")
"$TP_BIN" check --gateway "$gateway" --origin-url "$origin" --profile gateway --json "$json" \
	"${args[@]}" "${extra[@]}" | tee "$dir/table.txt"
rc=${PIPESTATUS[0]}
[ "$rc" -le 1 ] || exit 2
# The table's check lines: "ID RESULT RULE TITLE".
total=$(grep -c '^gateway\.' "$dir/table.txt")
passed=$(awk '/^gateway\./ && $2 == "pass"' "$dir/table.txt" | wc -l)
others=$(awk '/^gateway\./ && $2 != "pass" { printf "%s%s=%s", sep, $1, $2; sep = " " }' "$dir/table.txt")
echo "gateway hardening: $passed of $total checks pass${others:+; not passing: $others}"
[ "$total" -gt 0 ] && [ "$passed" = "$total" ]
