#!/usr/bin/env bash
# bench/proxy-vs-peers.sh — the reference proxy against squid, tinyproxy and no proxy,
# in one run on loopback (not a test: it prints numbers and ratios, asserts nothing).
#   CONNECT bulk: 10 MiB bodies from nginx through `curl -p` (a CONNECT tunnel), ROUNDS
#                 invocations of REPS transfers each on one kept-alive tunnel, the paths
#                 taking turns round by round; median MB/s.
#   forward rps:  wrk -t1 -c50 for SECS seconds, absolute-form GETs of a 1 KiB file.
#   idle memory:  RSS growth of the reference proxy per idle CONNECT tunnel (IDLE of them).
# Environment: SECS (default 5), ROUNDS (10), REPS (10), IDLE (1000), WORKERS (1).
# Output: a Markdown table for bench/RESULTS.md on stdout.
set -u
cd "$(dirname "$0")/.."
export TP_BIN=${TP_BIN:-$PWD/build/tunnelprobe} TP_ROOT=$PWD
. tests/e2e/lib.sh
. tests/e2e/peers.sh
SECS=${SECS:-5} ROUNDS=${ROUNDS:-10} REPS=${REPS:-10} IDLE=${IDLE:-1000} WORKERS=${WORKERS:-1}

for tool in curl wrk nginx squid tinyproxy python3; do
	command -v "$tool" >/dev/null || { echo "bench: $tool is missing (make deps)" >&2; exit 2; }
done
[ -x "$TP_BIN" ] || { echo "bench: build $TP_BIN first (make)" >&2; exit 2; }

mkdir -p "$T/www"
head -c 10485760 /dev/zero | tr '\0' 'x' >"$T/www/10m"
head -c 1024 /dev/zero | tr '\0' 'y' >"$T/www/1k"
start_nginx || { echo "bench: nginx did not start" >&2; exit 1; }
start_squid || { echo "bench: squid did not start" >&2; exit 1; }
start_tinyproxy || { echo "bench: tinyproxy did not start" >&2; exit 1; }
start_tp ref proxy --listen 127.0.0.1:0 --workers "$WORKERS" --idle-timeout 600 ||
	{ echo "bench: the reference proxy did not start" >&2; exit 1; }
REF=$TP_PORT REF_PID=$TP_PID
ORIGIN="http://127.0.0.1:$NGINX_PORT"

# CPU clock ticks (user + sys) used so far by the given processes (all their threads).
proc_ticks() {
	local t=0 p
	for p in "$@"; do
		t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
	done
	echo "$t"
}

# CONNECT throughput: every round runs one curl invocation of REPS transfers (one
# kept-alive tunnel) per path, the paths in turn, so a burst of load from elsewhere on
# the host hits all of them alike; prints "path MB/s" per transfer to $T/connect.txt.
connect_rounds() {
	local r i p urls=() outs=()
	for ((i = 0; i < REPS; i++)); do urls+=("$ORIGIN/10m"); outs+=(-o /dev/null); done
	: >"$T/connect.txt"
	: >"$T/connect_cpu.txt"
	for ((r = 0; r < ROUNDS; r++)); do
		for p in direct ref squid tiny; do
			local via=()
			case $p in
			ref) via=(-p -x "http://127.0.0.1:$REF") ;;
			squid) via=(-p -x "http://127.0.0.1:$SQUID_PORT") ;;
			tiny) via=(-p -x "http://127.0.0.1:$TINYPROXY_PORT") ;;
			esac
			local pids=() t0 t1
			case $p in
			ref) pids=("$REF_PID") ;;
			squid) mapfile -t pids < <(pgrep -x squid) ;;
			tiny) mapfile -t pids < <(pgrep -x tinyproxy) ;;
			esac
			t0=$(proc_ticks "${pids[@]}")
			curl -s "${via[@]}" -w "$p %{speed_download}\n" "${outs[@]}" "${urls[@]}" >>"$T/connect.txt"
			t1=$(proc_ticks "${pids[@]}")
			echo "$p $((t1 - t0))" >>"$T/connect_cpu.txt"
		done
	done
}
# The proxy's CPU milliseconds (user + sys, all its processes) per GiB it relayed.
connect_cpu_ms_per_gib() {
	awk -v p="$1" -v hz="$(getconf CLK_TCK)" -v gib="$(awk -v n="$((ROUNDS * REPS))" 'BEGIN {print n * 10 / 1024}')" \
		'$1 == p {t += $2} END {printf "%.0f", t * 1000 / hz / gib}' "$T/connect_cpu.txt"
}
# The median MB/s of one path's transfers.
connect_mbps() {
	awk -v p="$1" '$1 == p {print $2}' "$T/connect.txt" | sort -n |
		awk '{v[NR] = $1} END {printf "%.0f", v[int((NR + 1) / 2)] / 1048576}'
}

# Forward requests/s with wrk. $1 = target host:port (a proxy, or the origin itself).
forward_rps() {
	cat >"$T/abs.lua" <<LUA
request = function() return wrk.format("GET", "$ORIGIN/1k") end
LUA
	local script=()
	[ "$1" != "127.0.0.1:$NGINX_PORT" ] && script=(-s "$T/abs.lua")
	wrk -t1 -c50 -d"${SECS}s" "${script[@]}" "http://$1/1k" 2>&1 |
		awk '/^Requests\/sec/ {printf "%.0f", $2} /Non-2xx/ {print " NON-2XX:" $0 > "/dev/stderr"}'
}

# Where a request forwarded by the reference proxy spends CPU: wrk, nginx and the proxy
# in microseconds per request, from one more wrk run. On a machine whose cores all
# three share, the sum bounds the forward requests/s any proxy could reach here.
forward_split() {
	local master nginx_pids n0 p0 n1 p1 req
	master=$(cat "$T/nginx/pid")
	nginx_pids="$master $(pgrep -P "$master" | tr '\n' ' ')"
	n0=$(proc_ticks $nginx_pids) p0=$(proc_ticks "$REF_PID")
	/usr/bin/time -f "%U %S" -o "$T/wrk.time" wrk -t1 -c50 -d"${SECS}s" -s "$T/abs.lua" \
		"http://127.0.0.1:$REF/1k" >"$T/wrk.out" 2>&1
	n1=$(proc_ticks $nginx_pids) p1=$(proc_ticks "$REF_PID")
	req=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$T/wrk.out")
	python3 - "$req" "$((n1 - n0))" "$((p1 - p0))" "$(cat "$T/wrk.time")" "$(getconf CLK_TCK)" \
		"$(nproc)" "$f_squid" <<'PY'
import sys
req, ng, px = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
wu, ws = (float(x) for x in sys.argv[4].split())
hz, cores, squid = int(sys.argv[5]), int(sys.argv[6]), float(sys.argv[7])
us = lambda sec: sec * 1e6 / req
w, n, p = us(wu + ws), us(ng / hz), us(px / hz)
ceiling = cores * 1e6 / (w + n + p)
need = 4 * squid
room = cores * 1e6 / need - w - n
print(f"Forward CPU per request: wrk {w:.1f} us, nginx {n:.1f} us, reference proxy {p:.1f} us "
      f"({req} requests); on {cores} shared cores these allow at most {ceiling:.0f} req/s. "
      f"4x squid ({need:.0f} req/s) would leave a proxy {room:.1f} us per request.")
PY
}

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

# Opens IDLE CONNECT tunnels through the reference proxy, holds them, prints the RSS
# growth per tunnel in bytes.
idle_memory() {
	local before after
	before=$(rss_kb "$REF_PID")
	python3 - "$REF" "$NGINX_PORT" "$IDLE" "$REF_PID" "$before" <<'PY'
import socket, sys, time
port, origin, n, pid, before = (int(x) for x in sys.argv[1:])
socks = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: x\r\n\r\n" % origin)
    socks.append(s)
for s in socks:
    reply = b""
    while b"\r\n\r\n" not in reply:
        chunk = s.recv(100)
        if not chunk:
            sys.exit("bench: tunnel closed")
        reply += chunk
time.sleep(0.5)
rss = next(int(l.split()[1]) for l in open("/proc/%d/status" % pid) if l.startswith("VmRSS"))
print((rss - before) * 1024 // n)
PY
}

echo "bench: CONNECT bulk (10 MiB x $REPS x $ROUNDS rounds per path, in turn)..." >&2
connect_rounds
c_direct=$(connect_mbps direct) c_ref=$(connect_mbps ref)
c_squid=$(connect_mbps squid) c_tiny=$(connect_mbps tiny)
echo "bench: forward 1 KiB, c=50, ${SECS}s per peer..." >&2
f_direct=$(forward_rps "127.0.0.1:$NGINX_PORT")
f_ref=$(forward_rps "127.0.0.1:$REF")
f_squid=$(forward_rps "127.0.0.1:$SQUID_PORT")
f_tiny=$(forward_rps "127.0.0.1:$TINYPROXY_PORT")
split=$(forward_split)
echo "bench: $IDLE idle tunnels..." >&2
idle=$(idle_memory)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
cat <<MD
| path | CONNECT MB/s | vs direct | forward req/s | vs squid |
|---|---|---|---|---|
| direct (no proxy) | $c_direct | 1.00 | $f_direct | $(ratio "$f_direct" "$f_squid") |
| tunnelprobe proxy ($WORKERS worker) | $c_ref | $(ratio "$c_ref" "$c_direct") | $f_ref | $(ratio "$f_ref" "$f_squid") |
| squid | $c_squid | $(ratio "$c_squid" "$c_direct") | $f_squid | 1.00 |
| tinyproxy | $c_tiny | $(ratio "$c_tiny" "$c_direct") | $f_tiny | $(ratio "$f_tiny" "$f_squid") |

CONNECT: reference / squid = $(ratio "$c_ref" "$c_squid") (goal >= 2), reference / direct = $(ratio "$c_ref" "$c_direct") (goal >= 0.8).
Proxy CPU per GiB relayed through CONNECT: reference $(connect_cpu_ms_per_gib ref) ms, squid $(connect_cpu_ms_per_gib squid) ms, tinyproxy $(connect_cpu_ms_per_gib tiny) ms.
Forward: reference / squid = $(ratio "$f_ref" "$f_squid") (goal >= 4, one worker).
$split
Idle tunnel memory: $idle bytes of proxy RSS per idle CONNECT tunnel ($IDLE tunnels; goal <= 65536).
MD
