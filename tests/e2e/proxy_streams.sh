#!/usr/bin/env bash
# The reference proxy's completion-streams driver (`--io streams`, proxy-under-test/
# leg.h) — the Windows build's data path — on Linux, where the epoll backend emulates
# the streams and the sanitizers watch: the proxy scripts that hold it to its contract
# run again with every `tunnelprobe proxy` given --io streams (the ledger property test
# over mode x fault x direction, forward keep-alive and pipelining, SOCKS5, hostile
# clients). Each script's own ok / not ok lines count here, prefixed with "streams:".
# proxy_matrix.sh is left out: its faults are the property test's, its chains cost time.
source "$(dirname "$0")/lib.sh"
real=$TP_BIN
cat >"$T/tp" <<WRAP
#!/bin/sh
if [ "\$1" = proxy ]; then shift; exec "$real" proxy --io streams "\$@"; fi
exec "$real" "\$@"
WRAP
chmod +x "$T/tp"
for s in proxy_ledger proxy_forward proxy_socks proxy_hostile; do
	TP_BIN="$T/tp" bash "$(dirname "$0")/$s.sh" >"$T/$s.log" 2>&1
	rc=$?
	sed -n 's/^\(not \)\{0,1\}ok - /&streams: '"$s"': /p' "$T/$s.log"
	if [ "$rc" -ne 0 ] && ! grep -q '^not ok' "$T/$s.log"; then
		not_ok "streams: $s exited with status $rc"
		tail -n 20 "$T/$s.log" | sed 's/^/    /'
	fi
	grep -q '^not ok' "$T/$s.log" && { _tp_failed=1; tail -n 20 "$T/$s.log" | sed 's/^/    /'; }
done
finish
