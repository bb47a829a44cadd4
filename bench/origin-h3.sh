#!/usr/bin/env bash
# HTTP/3 bulk: 100 MiB over one stream from the replay origin (`origin --quic-listen`)
# and from gtlsserver (ngtcp2's GnuTLS example server) serving the same bytes, both
# fetched by gtlsclient on loopback. Per server and round: MB/s (wall time of the
# fetch), the server's CPU per GiB (user+sys from /proc/PID/stat), the client's CPU per
# GiB, and the datagrams the kernel dropped for lack of receive buffer (RcvbufErrors,
# system-wide: mostly gtlsclient's socket). Every download is checked byte for byte.
# Same datagram size for both servers in a round (PAYLOADS: 1452, QUIC's usual, and 4096,
# a loopback size gtlsserver still handles: from 8 KiB on it collapses to a few MB/s
# here, its GSO batches outgrowing what one send may carry); servers alternate within a
# round, ratios are from the same round. ORIGIN_PAYLOADS: sizes run with the origin
# alone (context: what loopback allows).
#   ROUNDS=3 MIB=100 PAYLOADS="1452 4096" ORIGIN_PAYLOADS=16384 bash bench/origin-h3.sh
. "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-3}
MIB=${MIB:-100}
PAYLOADS=${PAYLOADS:-1452 4096}
ORIGIN_PAYLOADS=${ORIGIN_PAYLOADS:-16384}
need_cmd gtlsclient "bench: gtlsclient" || finish
need_cmd gtlsserver "bench: gtlsserver" || finish
SIZE=$((MIB << 20))
TARGET=/bytes/$SIZE
mkdir -p "$T/www/bytes" "$T/dl"
"$TP_BIN" gen "$TARGET" "$SIZE" >"$T/www$TARGET"
make_ca || exit 1

free_udp_port() {
	python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
cpu_s() { awk '{print ($14 + $15) / 100}' "/proc/$1/stat"; }
rcvbuf_errors() { awk '/^Udp:/ && ++n == 2 {print $6}' /proc/net/snmp; }
now() { date +%s.%N; }

# fetch PORT SERVER_PID -> "MB/s server_cpu_per_GiB client_cpu_per_GiB drops ok"
fetch() {
	local port=$1 pid=$2 s0 s1 t0 t1 d0 d1
	rm -f "$T/dl/$SIZE"
	s0=$(cpu_s "$pid")
	d0=$(rcvbuf_errors)
	t0=$(now)
	cpu_of timeout 120 gtlsclient -q --exit-on-all-streams-close --download="$T/dl" 127.0.0.1 "$port" \
		"https://localhost:$port$TARGET"
	t1=$(now)
	d1=$(rcvbuf_errors)
	s1=$(cpu_s "$pid")
	local ok=yes
	cmp -s "$T/www$TARGET" "$T/dl/$SIZE" || ok=NO
	python3 -c "
mib, wall, sc, cc = $MIB, $t1 - $t0, $s1 - $s0, $CPU
gib = mib / 1024
print(f'{mib * 1.048576 / wall:.0f} {sc / gib:.2f} {cc / gib:.2f} $((d1 - d0)) $ok')"
}

echo "origin-h3: $MIB MiB over one HTTP/3 stream, gtlsclient, $ROUNDS round(s) per datagram size"
printf '%-8s %-11s %5s %8s %14s %14s %7s %s\n' payload server round "MB/s" "server CPU-s/GiB" \
	"client CPU-s/GiB" drops exact
for pay in $PAYLOADS; do
	start_tp "origin$pay" origin --quic-listen 127.0.0.1:0 --quic-max-udp-payload "$pay" || exit 1
	o_port=$TP_QUIC o_pid=$TP_PID
	g_port=$(free_udp_port)
	bg gtlsserver -q -d "$T/www" --max-udp-payload-size="$pay" 127.0.0.1 "$g_port" "$T/leaf.key" \
		"$T/leaf.pem" >"$T/gtlsserver$pay.log" 2>&1
	g_pid=$!
	for ((i = 0; i < 100; i++)); do ss -Hlun "sport = :$g_port" | grep -q . && break; sleep 0.05; done
	for ((r = 1; r <= ROUNDS; r++)); do
		read -r o_rate o_scpu o_ccpu o_drop o_ok < <(fetch "$o_port" "$o_pid")
		read -r g_rate g_scpu g_ccpu g_drop g_ok < <(fetch "$g_port" "$g_pid")
		printf '%-8s %-11s %5s %8s %14s %14s %7s %s\n' "$pay" origin "$r" "$o_rate" "$o_scpu" "$o_ccpu" \
			"$o_drop" "$o_ok"
		printf '%-8s %-11s %5s %8s %14s %14s %7s %s\n' "$pay" gtlsserver "$r" "$g_rate" "$g_scpu" \
			"$g_ccpu" "$g_drop" "$g_ok"
		echo "         ratio origin/gtlsserver: MB/s $(ratio "$o_rate" "$g_rate"), server CPU/GiB $(ratio "$o_scpu" "$g_scpu")"
	done
	kill "$o_pid" "$g_pid" 2>/dev/null
done
for pay in $ORIGIN_PAYLOADS; do
	start_tp "origin$pay" origin --quic-listen 127.0.0.1:0 --quic-max-udp-payload "$pay" || exit 1
	for ((r = 1; r <= ROUNDS; r++)); do
		read -r o_rate o_scpu o_ccpu o_drop o_ok < <(fetch "$TP_QUIC" "$TP_PID")
		printf '%-8s %-11s %5s %8s %14s %14s %7s %s\n' "$pay" origin "$r" "$o_rate" "$o_scpu" "$o_ccpu" \
			"$o_drop" "$o_ok"
	done
	kill "$TP_PID" 2>/dev/null
done
finish
