#!/usr/bin/env bash
# The replay origin against nginx as the server wrk loads: requests/s per server
# CPU-second, 1 KiB bodies, wrk -t1 -c50, one worker each, same run.
. "$(dirname "$0")/lib.sh"
SECS=${SECS:-5}
make_payload b1024 1024
start_nginx >/dev/null || exit 1
start_tp origin origin --listen 127.0.0.1:0
origin_pid=$TP_PID
nginx_pid=$(pgrep -P "$(cat "$T/nginx/pid")" | head -1) # its one worker
server_cpu() { awk '{print ($14 + $15) / 100}' "/proc/$1/stat"; }
load() { # URL PID -> "requests cpu"
	local before after req
	before=$(server_cpu "$2")
	req=$(wrk -t1 -c50 -d"${SECS}s" "$1" | sed -n 's/^ *\([0-9]*\) requests in.*/\1/p')
	after=$(server_cpu "$2")
	echo "$req $(python3 -c "print($after - $before)")"
}
read -r o_req o_cpu < <(load "http://127.0.0.1:$TP_HTTP/bytes/1024" "$origin_pid")
read -r n_req n_cpu < <(load "http://127.0.0.1:$NGINX_PORT/b1024" "$nginx_pid")
o_rate=$(python3 -c "print(round($o_req / $o_cpu))"); n_rate=$(python3 -c "print(round($n_req / $n_cpu))")
echo "origin-vs-nginx: wrk -t1 -c50 ${SECS}s, 1 KiB"
echo "  origin  $o_req requests, server $o_cpu CPU-s -> $o_rate req/CPU-s"
echo "  nginx   $n_req requests, server $n_cpu CPU-s -> $n_rate req/CPU-s"
echo "  ratio origin/nginx $(ratio "$o_rate" "$n_rate") (per server CPU-second)"
finish
