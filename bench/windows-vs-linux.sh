#!/usr/bin/env bash
# bench/windows-vs-linux.sh — the reference proxy's Linux and Windows builds in one run on
# loopback (not a test: it prints numbers and ratios, asserts nothing):
#   linux          build/tunnelprobe proxy: epoll readiness, splice for tunnels
#   linux-streams  the same binary with --io streams: the Windows build's data path
#                  (completion streams, 8 KiB write slices) on the epoll backend's emulation
#   windows        build/win64/tunnelprobe.exe under Wine: a completion port, WSARecv/WSASend
# Loads, the paths taking turns so a burst from elsewhere on the host hits all alike:
#   CONNECT bulk:  10 MiB bodies from nginx through `curl -p`, ROUNDS invocations of REPS
#                  transfers on one kept-alive tunnel; median MB/s, and the proxy's CPU per
#                  GiB relayed — for Wine, the .exe's process and wineserver's (Wine's
#                  sockets go through it: its cost is part of running the build here).
#   forward 1 KiB: wrk -t1 -c50 for SECS seconds, absolute-form GETs of a 1 KiB file;
#                  requests/s and requests per proxy CPU-second.
# Wine's cost is context, not a goal: the ratios say what running the Windows build under
# Wine costs on this machine, not how the build would do on Windows.
# Environment: SECS (default 5), ROUNDS (5), REPS (5). Output: Markdown for RESULTS.md.
set -u
cd "$(dirname "$0")/.."
export TP_BIN=${TP_BIN:-$PWD/build/tunnelprobe} TP_ROOT=$PWD
. tests/e2e/lib.sh
. tests/e2e/peers.sh
. tests/win/lib.sh
SECS=${SECS:-5} ROUNDS=${ROUNDS:-5} REPS=${REPS:-5}

for tool in curl wrk nginx; do
	command -v "$tool" >/dev/null || { echo "bench: $tool is missing (make deps)" >&2; exit 2; }
done
[ -x "$TP_BIN" ] || { echo "bench: build $TP_BIN first (make)" >&2; exit 2; }
win_ready >"$T/win_ready.out" || { echo "bench: $(sed 's/^[^#]*# SKIP //' "$T/win_ready.out")" >&2; exit 2; }

mkdir -p "$T/www"
head -c 10485760 /dev/zero | tr '\0' 'x' >"$T/www/10m"
head -c 1024 /dev/zero | tr '\0' 'y' >"$T/www/1k"
start_nginx || { echo "bench: nginx did not start" >&2; exit 1; }
ORIGIN="http://127.0.0.1:$NGINX_PORT"
start_tp linux proxy --listen 127.0.0.1:0 --idle-timeout 600 || { echo "bench: the Linux proxy did not start" >&2; exit 1; }
LIN=$TP_PORT LIN_PID=$TP_PID
start_tp streams proxy --listen 127.0.0.1:0 --idle-timeout 600 --io streams ||
	{ echo "bench: the Linux proxy (--io streams) did not start" >&2; exit 1; }
STR=$TP_PORT STR_PID=$TP_PID
start_win windows proxy --listen 127.0.0.1:0 --idle-timeout 600 ||
	{ echo "bench: the Windows proxy did not start under Wine" >&2; exit 1; }
WIN=$WIN_PORT
# The .exe's process: the one writing its output (as `run` samples it); and wineserver.
WIN_PROC=$(for p in $(pgrep -f 'tunnelprobe.exe proxy'); do [ "$(readlink "/proc/$p/fd/1")" = "$T/windows.out" ] && echo "$p"; done | head -1)
WINESERVER=$(pgrep -f "wineserver" | while read -r p; do
	[ "$(tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | sed -n 's/^WINEPREFIX=//p')" = "$TP_ROOT/build/win64/wineprefix" ] && echo "$p"
done | head -1)

port_of() { case $1 in linux) echo "$LIN" ;; streams) echo "$STR" ;; windows) echo "$WIN" ;; esac; }
pids_of() { case $1 in linux) echo "$LIN_PID" ;; streams) echo "$STR_PID" ;; windows) echo "$WIN_PROC $WINESERVER" ;; esac; }
proc_ticks() { # CPU clock ticks (user + sys) so far of the given processes
	local t=0 p
	for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done
	echo "$t"
}
HZ=$(getconf CLK_TCK)

: >"$T/connect.txt"
: >"$T/connect_cpu.txt"
urls=() outs=()
for ((i = 0; i < REPS; i++)); do urls+=("$ORIGIN/10m"); outs+=(-o /dev/null); done
for ((r = 0; r < ROUNDS; r++)); do
	for p in linux streams windows; do
		# shellcheck disable=SC2046 # the pids are words
		t0=$(proc_ticks $(pids_of $p))
		curl -s -p -x "http://127.0.0.1:$(port_of $p)" -w "$p %{speed_download}\n" "${outs[@]}" "${urls[@]}" >>"$T/connect.txt"
		# shellcheck disable=SC2046
		echo "$p $(($(proc_ticks $(pids_of $p)) - t0))" >>"$T/connect_cpu.txt"
	done
done
mbps() { awk -v p="$1" '$1 == p {print $2}' "$T/connect.txt" | sort -n | awk '{v[NR] = $1} END {printf "%.0f", v[int((NR + 1) / 2)] / 1048576}'; }
cpu_gib() { awk -v p="$1" -v hz="$HZ" -v gib="$(echo "$ROUNDS * $REPS * 10 / 1024" | bc -l)" \
	'$1 == p {t += $2} END {printf "%.0f", t * 1000 / hz / gib}' "$T/connect_cpu.txt"; }

# Forward: wrk's requests in absolute form (through a Lua script), for the 1 KiB file.
cat >"$T/abs.lua" <<LUA
request = function() return wrk.format("GET", "$ORIGIN/1k") end
LUA
: >"$T/forward.txt"
for p in linux streams windows; do
	# shellcheck disable=SC2046
	t0=$(proc_ticks $(pids_of $p))
	rps=$(wrk -t1 -c50 -d"${SECS}s" -s "$T/abs.lua" "http://127.0.0.1:$(port_of $p)/1k" 2>&1 |
		awk '/^Requests\/sec/ {printf "%.0f", $2} /Non-2xx/ {print " NON-2XX:" $0 > "/dev/stderr"}')
	# shellcheck disable=SC2046
	echo "$p ${rps:-0} $(($(proc_ticks $(pids_of $p)) - t0))" >>"$T/forward.txt"
done
rps() { awk -v p="$1" '$1 == p {print $2}' "$T/forward.txt"; }
rps_cpu() { awk -v p="$1" -v hz="$HZ" -v s="$SECS" '$1 == p {printf "%.0f", $3 ? $2 * s * hz / $3 : 0}' "$T/forward.txt"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

cat <<MD
| build | CONNECT 10 MiB, MB/s | proxy CPU ms per GiB | forward 1 KiB, req/s | req per proxy CPU-s |
|---|---|---|---|---|
| linux (epoll, splice) | $(mbps linux) | $(cpu_gib linux) | $(rps linux) | $(rps_cpu linux) |
| linux --io streams (the Windows data path on epoll) | $(mbps streams) | $(cpu_gib streams) | $(rps streams) | $(rps_cpu streams) |
| windows (IOCP under Wine; CPU: the .exe + wineserver) | $(mbps windows) | $(cpu_gib windows) | $(rps windows) | $(rps_cpu windows) |

windows / linux: CONNECT $(ratio "$(mbps windows)" "$(mbps linux)"), forward $(ratio "$(rps windows)" "$(rps linux)").
windows / linux --io streams (same data path, Wine's cost alone): CONNECT $(ratio "$(mbps windows)" "$(mbps streams)"), forward $(ratio "$(rps windows)" "$(rps streams)").
MD
bash "$WINE_SH" --stop
