#!/usr/bin/env bash
# The probe's side of one tunnel through a QUIC proxy: 100 MiB (X-Tp-Seed, every byte
# verified) from our origin over plain HTTP, fetched by `probe -n 1` through
#   tcp-connect   the reference proxy's TCP CONNECT relay (`proxy --listen`, -p)
#   quic          tests/helpers/h3peer proxy, HTTP/3 CONNECT (quic://)
#   socks5+quic   tests/helpers/h3peer proxy, SOCKS5 on a raw QUIC stream
#   ref-quic, ref-socks5+quic  the same two through the reference proxy's QUIC listener
#                 (`proxy --quic-listen`)
# Per path and round: MB/s (the probe's wall time), the probe's CPU per GiB (user+sys,
# /usr/bin/time) and the proxy's (from /proc/PID/stat) — so the probe's cost of a QUIC
# tunnel can be told apart from the proxy's (issue 17's >= 150 MB/s goal is the
# reference proxy's; h3peer is a test proxy: plain sockets, one datagram per sendto, no
# GSO, its numbers are not a proxy's to compare). Paths alternate within a round.
#   ROUNDS=3 MIB=100 bash bench/quic-tunnel-probe.sh
. "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-3}
MIB=${MIB:-100}
SIZE=$((MIB << 20))
make -s build/tests/helpers/h3peer || exit 1
H3PEER=$TP_ROOT/build/tests/helpers/h3peer
make_ca || exit 1

start_tp origin origin --listen 127.0.0.1:0 || exit 1
OP=$TP_HTTP
[ -n "$OP" ] || OP=$TP_PORT
start_tp proxy proxy --listen 127.0.0.1:0 || exit 1
TCP_PORT=$TP_PORT TCP_PID=$TP_PID
"$H3PEER" proxy --cert "$T/leaf.pem" --key "$T/leaf.key" --port-file "$T/px.port" --timeout 3600 \
	127.0.0.1 0 >"$T/px.out" 2>&1 &
PX_PID=$!
_tp_pids+=("$PX_PID")
for ((i = 0; i < 100; i++)); do [ -s "$T/px.port" ] && break; sleep 0.05; done
PX=$(cat "$T/px.port")
start_tp qproxy proxy --quic-listen 127.0.0.1:0 --ca-out "$T/qproxy-ca.pem" || exit 1
REF_PORT=$TP_QUIC REF_PID=$TP_PID
cat "$T/ca.pem" "$T/qproxy-ca.pem" >"$T/both.pem"

cpu_s() { awk '{print ($14 + $15) / 100}' "/proc/$1/stat"; }
now() { date +%s.%N; }

# fetch PROXY_URL PROXY_PID [ARGS...] -> "MB/s probe_cpu_per_GiB proxy_cpu_per_GiB ok"
fetch() {
	local url=$1 pid=$2 s0 s1 t0 t1
	shift 2
	s0=$(cpu_s "$pid")
	t0=$(now)
	cpu_of timeout 300 "$TP_BIN" probe -q --cacert "$T/both.pem" -x "$url" "$@" -n 1 \
		"http://127.0.0.1:$OP/bytes/$SIZE"
	local rc=$?
	t1=$(now)
	s1=$(cpu_s "$pid")
	python3 -c "
mib, wall, pc, xc = $MIB, $t1 - $t0, $CPU, $s1 - $s0
gib = mib / 1024
print(f'{mib * 1.048576 / wall:.0f} {pc / gib:.2f} {xc / gib:.2f} {\"yes\" if $rc == 0 else \"NO\"}')"
}

echo "quic-tunnel-probe: $MIB MiB over one tunnel, probe -n 1, $ROUNDS round(s)"
printf '%-12s %5s %8s %18s %18s %s\n' path round "MB/s" "probe CPU-s/GiB" "proxy CPU-s/GiB" verified
for ((r = 1; r <= ROUNDS; r++)); do
	read -r t_rate t_pcpu t_xcpu t_ok < <(fetch "http://127.0.0.1:$TCP_PORT" "$TCP_PID" -p)
	read -r q_rate q_pcpu q_xcpu q_ok < <(fetch "quic://127.0.0.1:$PX" "$PX_PID")
	read -r s_rate s_pcpu s_xcpu s_ok < <(fetch "socks5+quic://127.0.0.1:$PX" "$PX_PID")
	read -r rq_rate rq_pcpu rq_xcpu rq_ok < <(fetch "quic://127.0.0.1:$REF_PORT" "$REF_PID")
	read -r rs_rate rs_pcpu rs_xcpu rs_ok < <(fetch "socks5+quic://127.0.0.1:$REF_PORT" "$REF_PID")
	printf '%-12s %5s %8s %18s %18s %s\n' tcp-connect "$r" "$t_rate" "$t_pcpu" "$t_xcpu" "$t_ok"
	printf '%-12s %5s %8s %18s %18s %s\n' quic "$r" "$q_rate" "$q_pcpu" "$q_xcpu" "$q_ok"
	printf '%-12s %5s %8s %18s %18s %s\n' socks5+quic "$r" "$s_rate" "$s_pcpu" "$s_xcpu" "$s_ok"
	printf '%-12s %5s %8s %18s %18s %s\n' ref-quic "$r" "$rq_rate" "$rq_pcpu" "$rq_xcpu" "$rq_ok"
	printf '%-12s %5s %8s %18s %18s %s\n' ref-s5+quic "$r" "$rs_rate" "$rs_pcpu" "$rs_xcpu" "$rs_ok"
	echo "             probe CPU/GiB ratio quic/tcp-connect $(ratio "$q_pcpu" "$t_pcpu"), socks5+quic/tcp-connect $(ratio "$s_pcpu" "$t_pcpu")"
done
finish
