#!/usr/bin/env bash
# The reference proxy against squid, tinyproxy and direct, same run: CONNECT bulk
# throughput (10 MiB bodies, curl -p) and forward requests/s (1 KiB, c=50, the probe as
# client), plus memory per idle tunnel.
. "$(dirname "$0")/lib.sh"
make_payload b10m 10485760
make_payload b1024 1024
start_nginx >/dev/null || exit 1
start_squid >/dev/null
start_tinyproxy >/dev/null
start_tp ref proxy --listen 127.0.0.1:0
REF=$TP_PORT REF_PID=$TP_PID
BIG="http://127.0.0.1:$NGINX_PORT/b10m"
bulk() { # PROXY_ARGS... -> MB/s over 20 transfers
	local t0 t1
	t0=$(date +%s.%N)
	for _ in $(seq 20); do curl -s -o /dev/null "$@" "$BIG" || return; done
	t1=$(date +%s.%N)
	python3 -c "print(round(20 * 10.0 * 1.048576 / ($t1 - $t0), 1))"
}
echo "proxy-vs-peers: CONNECT bulk, 20 x 10 MiB with curl -p (MB/s)"
d=$(bulk); r=$(bulk -p -x "http://127.0.0.1:$REF"); s=$(bulk -p -x "http://127.0.0.1:$SQUID_PORT")
t=$(bulk -p -x "http://127.0.0.1:$TINYPROXY_PORT")
echo "  direct $d  reference $r  squid $s  tinyproxy $t"
echo "  reference/squid $(ratio "$r" "$s")  reference/direct $(ratio "$r" "$d")"
echo "forward requests/s, 1 KiB, c=50, 5 s, the probe as client"
fw() { "$TP_BIN" probe -q -d 5 -c 50 -x "$1" --json "$T/fw.json" "http://127.0.0.1:$NGINX_PORT/b1024"; json "$T/fw.json" "round(d['requests'] / d['duration_s'])"; }
fr=$(fw "http://127.0.0.1:$REF"); fs=$(fw "http://127.0.0.1:$SQUID_PORT"); ft=$(fw "http://127.0.0.1:$TINYPROXY_PORT")
echo "  reference $fr  squid $fs  tinyproxy $ft   reference/squid $(ratio "$fr" "$fs")"
# Memory per idle tunnel: 500 CONNECT tunnels held open, the proxy's RSS before and after.
before=$(awk '/VmRSS/{print $2}' "/proc/$REF_PID/status")
timeout 30 python3 -c "
import socket, time
socks = []
for _ in range(500):
    s = socket.create_connection(('127.0.0.1', $REF))
    s.sendall(b'CONNECT 127.0.0.1:$NGINX_PORT HTTP/1.1\r\n\r\n')
    s.recv(100)
    socks.append(s)
time.sleep(4)
" &
sleep 3
after=$(awk '/VmRSS/{print $2}' "/proc/$REF_PID/status")
fds=$(ls "/proc/$REF_PID/fd" | wc -l)
wait
echo "idle tunnels: 500 open, reference proxy RSS +$((after - before)) KiB -> $(( (after - before) * 1024 / 500 )) bytes per tunnel, $fds fds"
finish
