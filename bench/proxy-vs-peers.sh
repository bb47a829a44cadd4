#!/usr/bin/env bash
# bench/proxy-vs-peers.sh — the reference proxy against squid, tinyproxy and no proxy,
# in one run on loopback (not a test: it prints numbers and ratios, asserts nothing).
#   CONNECT bulk: 10 MiB bodies from nginx through `curl -p` (a CONNECT tunnel), ROUNDS
#                 invocations of REPS transfers each on one kept-alive tunnel; median MB/s.
#   forward rps:  wrk -t1 -c50 for SECS seconds, absolute-form GETs of a 1 KiB file.
#   idle memory:  RSS growth of the reference proxy per idle CONNECT tunnel (IDLE of them).
# Environment: SECS (default 5), ROUNDS (3), REPS (10), IDLE (1000), WORKERS (1).
# Output: a Markdown table for bench/RESULTS.md on stdout.
set -u
cd "$(dirname "$0")/.."
export TP_BIN=${TP_BIN:-$PWD/build/tunnelprobe} TP_ROOT=$PWD
. tests/e2e/lib.sh
. tests/e2e/peers.sh
SECS=${SECS:-5} ROUNDS=${ROUNDS:-3} REPS=${REPS:-10} IDLE=${IDLE:-1000} WORKERS=${WORKERS:-1}

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

# CONNECT throughput: median MB/s over ROUNDS x REPS transfers. $1 = curl proxy args.
connect_mbps() {
	local r i urls=() outs=()
	for ((i = 0; i < REPS; i++)); do urls+=("$ORIGIN/10m"); outs+=(-o /dev/null); done
	for ((r = 0; r < ROUNDS; r++)); do
		curl -s "$@" -w '%{speed_download}\n' "${outs[@]}" "${urls[@]}"
	done | sort -n | awk '{v[NR] = $1} END {printf "%.0f", v[int((NR + 1) / 2)] / 1048576}'
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

echo "bench: CONNECT bulk (10 MiB x $REPS x $ROUNDS per peer)..." >&2
c_direct=$(connect_mbps)
c_ref=$(connect_mbps -p -x "http://127.0.0.1:$REF")
c_squid=$(connect_mbps -p -x "http://127.0.0.1:$SQUID_PORT")
c_tiny=$(connect_mbps -p -x "http://127.0.0.1:$TINYPROXY_PORT")
echo "bench: forward 1 KiB, c=50, ${SECS}s per peer..." >&2
f_direct=$(forward_rps "127.0.0.1:$NGINX_PORT")
f_ref=$(forward_rps "127.0.0.1:$REF")
f_squid=$(forward_rps "127.0.0.1:$SQUID_PORT")
f_tiny=$(forward_rps "127.0.0.1:$TINYPROXY_PORT")
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
Forward: reference / squid = $(ratio "$f_ref" "$f_squid") (goal >= 4, one worker).
Idle tunnel memory: $idle bytes of proxy RSS per idle CONNECT tunnel ($IDLE tunnels; goal <= 65536).
MD
