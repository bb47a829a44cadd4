#!/usr/bin/env bash
# Requests per CPU-second of the probe (verifying every body) against wrk and
# h2load --h1, same nginx, 1 KiB bodies, 50 connections, one thread, same run; and
# against bench/floor-client.c, a bare loop that parses and checks nothing: the
# kernel's own cost per request, which no client can beat. ROUNDS rounds, in turn.
# Then 10,000 concurrent keep-alive connections: the probe's peak RSS.
# BASE=/path/to/another/tunnelprobe adds that build as a column (before/after a change,
# in the same rounds), and its peak RSS at 10,000 connections.
. "$(dirname "$0")/lib.sh"
SECS=${SECS:-5}
ROUNDS=${ROUNDS:-3}
make_payload b1024 1024
start_nginx >/dev/null || { echo "nginx did not start"; exit 1; }
URL="http://127.0.0.1:$NGINX_PORT/b1024"
FLOOR=$T/floor-client
if [ -f /usr/include/liburing.h ]; then
	cc -O2 -DFLOOR_URING -o "$FLOOR" bench/floor-client.c -luring || exit 1
else
	cc -O2 -o "$FLOOR" bench/floor-client.c || exit 1
fi
rate() { python3 -c "print(round($1 / $2))"; }

echo "probe-vs-wrk: 1 KiB, c=50, t=1, ${SECS}s each, nginx on lo (all on the same 2 cores)"
BASE=${BASE:-}
probe_rate() { # BIN: requests per CPU-second of that probe build
	cpu_of "$1" probe -q -d "$SECS" -c 50 -t 1 --json "$T/p.json" "$URL"
	local req ok
	req=$(json "$T/p.json" "d['requests']"); ok=$(json "$T/p.json" "d['ok']")
	[ "$req" = "$ok" ] || echo "  (probe: only $ok of $req ok)" >&2
	rate "$req" "$CPU"
}
echo "round  probe(req/CPU-s)  wrk  h2load  floor-epoll  floor-uring | probe/wrk probe/h2load floor/wrk probe/floor${BASE:+ | base base/wrk probe/base}"
for round in $(seq "$ROUNDS"); do
	p=$(probe_rate "$TP_BIN")
	b=
	[ -n "$BASE" ] && b=$(probe_rate "$BASE")
	cpu_of wrk -t1 -c50 -d"${SECS}s" "$URL"
	w=$(rate "$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$T/cpu.out")" "$CPU")
	cpu_of h2load --h1 -t1 -c50 -D "$SECS" "$URL"
	h=$(rate "$(sed -n 's/^requests: \([0-9]*\) total.*/\1/p' "$T/cpu.out")" "$CPU")
	cpu_of "$FLOOR" epoll "$NGINX_PORT" "$SECS" 50 /b1024
	fe=$(rate "$(cat "$T/cpu.out")" "$CPU")
	fu=-
	if cpu_of "$FLOOR" uring "$NGINX_PORT" "$SECS" 50 /b1024; then
		[ -s "$T/cpu.out" ] && fu=$(rate "$(cat "$T/cpu.out")" "$CPU")
	fi
	echo "$round      $p  $w  $h  $fe  $fu | $(ratio "$p" "$w") $(ratio "$p" "$h") $(ratio "$fe" "$w") $(ratio "$p" "$fe")${BASE:+ | $b $(ratio "${b:-1}" "$w") $(ratio "$p" "${b:-1}")}"
done

cpu_of "$TP_BIN" probe -q -d 5 -c 10000 --timeout 20 --connect-timeout 20 --json "$T/10k.json" "$URL"
rss=$(/usr/bin/time -f "%M" "$TP_BIN" probe -q -d 5 -c 10000 --timeout 20 --connect-timeout 20 \
	--json "$T/10k.json" "$URL" 2>&1 >/dev/null | tail -1)
echo "10k connections: $(json "$T/10k.json" "d['requests'], d['classes'], d['connections']['opened']") peak RSS $((rss / 1024)) MiB"
if [ -n "$BASE" ]; then
	rss=$(/usr/bin/time -f "%M" "$BASE" probe -q -d 5 -c 10000 --timeout 20 --connect-timeout 20 \
		--json "$T/10k.json" "$URL" 2>&1 >/dev/null | tail -1)
	echo "10k connections, base: $(json "$T/10k.json" "d['requests'], d['classes']") peak RSS $((rss / 1024)) MiB"
fi
finish
