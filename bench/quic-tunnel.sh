#!/usr/bin/env bash
# QUIC tunnels through the reference proxy: one tunnel carrying 100 MiB from the replay
# origin, in three ways through the same proxy process, alternating within each round:
#   tcp     a CONNECT tunnel on the proxy's TCP listener (the probe, -p: CONNECT for
#           http URLs too), the relay every QUIC figure is compared with;
#   socks5  SOCKS5 on a QUIC stream (ALPN socks5), the test client tests/helpers/qtunnel;
#   h3      CONNECT over HTTP/3 (ALPN h3), the same client.
# Per way and round: MB/s (10^6 bytes/s over the client's wall time, handshakes
# included), CPU-seconds per GiB of the proxy (/proc/PID/stat), of the client
# (/usr/bin/time) and of the origin (/proc/PID/stat, the same plain TCP work in all
# three). Every body is checked byte for byte by its client (the payload generator's
# seed). QUIC datagrams are lib/quic's default size (1452 bytes) on both ends.
#   ROUNDS=3 MIB=100 bash bench/quic-tunnel.sh
. "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-3}
MIB=${MIB:-100}
SIZE=$((MIB << 20))
QT=$TP_ROOT/build/tests/helpers/qtunnel
make -s "$QT" >/dev/null || exit 1

cpu_s() { awk '{print ($14 + $15) / 100}' "/proc/$1/stat"; }
now() { date +%s.%N; }

start_tp origin origin --listen 127.0.0.1:0 || exit 1
OH=$TP_HTTP OPID=$TP_PID
start_tp proxy proxy --listen 127.0.0.1:0 --quic-listen 127.0.0.1:0 --ca-out "$T/ca.pem" || exit 1
PPID_=$TP_PID
PT=$(sed -n 's/^listening \([0-9.]*\):\([0-9]*\)$/\2/p' "$T/proxy.out")
PQ=$(sed -n 's/^listening quic .*:\([0-9]*\)$/\1/p' "$T/proxy.out")
[ -n "$PT" ] && [ -n "$PQ" ] || { echo "bench: the proxy printed no ports"; exit 1; }

# run WAY -> "MB/s proxy_cpu_per_GiB client_cpu_per_GiB origin_cpu_per_GiB exact"
run() {
	local way=$1 p0 p1 o0 o1 t0 t1 ok=NO
	p0=$(cpu_s "$PPID_")
	o0=$(cpu_s "$OPID")
	t0=$(now)
	if [ "$way" = tcp ]; then
		cpu_of "$TP_BIN" probe -q -n 1 --timeout 60 -x "http://127.0.0.1:$PT" -p --json "$T/tcp.json" \
			"http://127.0.0.1:$OH/bytes/$SIZE"
		[ "$(json "$T/tcp.json" "d['ok'], d['verified']")" = "1 1" ] && ok=yes
	else
		cpu_of timeout 120 "$QT" --cacert "$T/ca.pem" --framing "$way" --get "/bytes/$SIZE" --timeout 100 \
			127.0.0.1 "$PQ" "127.0.0.1:$OH"
		grep -q "body=$SIZE .*verified=yes complete=yes end=fin" "$T/cpu.out" && ok=yes
	fi
	t1=$(now)
	p1=$(cpu_s "$PPID_")
	o1=$(cpu_s "$OPID")
	python3 -c "
mib, wall = $MIB, $t1 - $t0
gib = mib / 1024
print(f'{mib * 1.048576 / wall:.0f} {($p1 - $p0) / gib:.2f} {$CPU / gib:.2f} {($o1 - $o0) / gib:.2f} $ok')"
}

echo "quic-tunnel: $MIB MiB through one tunnel of the reference proxy, $ROUNDS round(s); $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-7s %5s %7s %17s %18s %18s %s\n' way round "MB/s" "proxy CPU-s/GiB" "client CPU-s/GiB" \
	"origin CPU-s/GiB" exact
for ((r = 1; r <= ROUNDS; r++)); do
	for way in tcp socks5 h3; do
		read -r rate pc cc oc ok < <(run "$way")
		printf '%-7s %5s %7s %17s %18s %18s %s\n' "$way" "$r" "$rate" "$pc" "$cc" "$oc" "$ok"
	done
done
kill "$PPID_" "$OPID" 2>/dev/null
finish
