#!/usr/bin/env bash
# Requests per CPU-second of the probe (verifying every body) against wrk and
# h2load --h1, same nginx, 1 KiB bodies, 50 connections, one thread, same run.
# Then 10,000 concurrent keep-alive connections: the probe's peak RSS.
. "$(dirname "$0")/lib.sh"
SECS=${SECS:-5}
make_payload b1024 1024
start_nginx >/dev/null || { echo "nginx did not start"; exit 1; }
URL="http://127.0.0.1:$NGINX_PORT/b1024"

cpu_of "$TP_BIN" probe -q -d "$SECS" -c 50 -t 1 --json "$T/p.json" "$URL"
p_req=$(json "$T/p.json" "d['requests']"); p_ok=$(json "$T/p.json" "d['ok']"); p_cpu=$CPU
cpu_of wrk -t1 -c50 -d"${SECS}s" "$URL"
w_req=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$T/cpu.out"); w_cpu=$CPU
cpu_of h2load --h1 -t1 -c50 -D "$SECS" "$URL"
h_req=$(sed -n 's/^requests: \([0-9]*\) total.*/\1/p' "$T/cpu.out"); h_cpu=$CPU
p_rate=$(python3 -c "print(round($p_req / $p_cpu))"); w_rate=$(python3 -c "print(round($w_req / $w_cpu))")
h_rate=$(python3 -c "print(round($h_req / $h_cpu))")
echo "probe-vs-wrk: 1 KiB, c=50, t=1, ${SECS}s, nginx on lo (all on the same 2 cores)"
echo "  probe   $p_req requests ($p_ok verified ok), $p_cpu CPU-s -> $p_rate req/CPU-s"
echo "  wrk     $w_req requests, $w_cpu CPU-s -> $w_rate req/CPU-s"
echo "  h2load  $h_req requests, $h_cpu CPU-s -> $h_rate req/CPU-s"
echo "  ratio probe/wrk $(ratio "$p_rate" "$w_rate")   probe/h2load $(ratio "$p_rate" "$h_rate")"

cpu_of "$TP_BIN" probe -q -d 5 -c 10000 --timeout 20 --connect-timeout 20 --json "$T/10k.json" "$URL"
rss=$(/usr/bin/time -f "%M" "$TP_BIN" probe -q -d 5 -c 10000 --timeout 20 --connect-timeout 20 \
	--json "$T/10k.json" "$URL" 2>&1 >/dev/null | tail -1)
echo "10k connections: $(json "$T/10k.json" "d['requests'], d['classes'], d['connections']['opened']") peak RSS $((rss / 1024)) MiB"
finish
