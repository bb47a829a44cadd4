#!/usr/bin/env bash
# The probe through QUIC proxies (issue 17): quic:// (CONNECT over HTTP/3) and
# socks5+quic:// / socks5h+quic:// (SOCKS5 on raw QUIC streams, ALPN socks5), against
# tests/helpers/h3peer's proxy mode relaying to our TCP origin:
#   - plain-HTTP targets byte-exact from 1 KiB to 10 MiB (X-Tp-Seed, every byte checked),
#     and https ones (TLS to the origin inside the tunnel, OpenSSL over a BIO on the
#     stream), with a wrong CA failing as tls_error;
#   - many tunnels as streams of one QUIC connection (--streams), and one connection per
#     tunnel (--streams 1);
#   - each misbehaviour of the proxy and its class/phase/detail, with the records' QUIC
#     facts (stream id, reset code, close code): the FIN that never comes (timeout in
#     phase fin: the SOCKS5-over-QUIC incident), RESET_STREAM, CONNECTION_CLOSE, a FIN
#     before the body's end, a refusal, a stream ended before the reply, a tunnel closed
#     right after its success reply;
#   - bad flags exit 2 with one line.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/peers.sh"

H3PEER=${TP_BUILD:-$TP_ROOT/build}/tests/helpers/h3peer
[ -x "$H3PEER" ] || { not_ok "probe quic proxy" "$H3PEER was not built"; finish; }
make_ca || { not_ok "probe quic proxy: certificates"; finish; }
start_tp origin origin --listen 127.0.0.1:0 --tls-listen 127.0.0.1:0 --ca-out "$T/origin-ca.pem" ||
	{ not_ok "origin starts" "$(cat "$T/origin.err")"; finish; }
OP=$TP_HTTP OS=$TP_HTTPS
cat "$T/ca.pem" "$T/origin-ca.pem" >"$T/both.pem" # the proxy's CA and the origin's

# start_px NAME ARGS...: an h3peer proxy; sets PX to its UDP port
start_px() {
	local name=$1
	shift
	rm -f "$T/$name.port"
	"$H3PEER" proxy --cert "$T/leaf.pem" --key "$T/leaf.key" --port-file "$T/$name.port" --timeout 300 \
		"$@" 127.0.0.1 0 >"$T/$name.out" 2>&1 &
	_tp_pids+=($!)
	local i
	for ((i = 0; i < 100; i++)); do [ -s "$T/$name.port" ] && break; sleep 0.05; done
	PX=$(cat "$T/$name.port" 2>/dev/null)
	[ -n "$PX" ]
}
probe() { timeout 120 "$TP_BIN" probe -q --cacert "$T/both.pem" "$@"; }
# summary FILE: (class, phase) of every record, whether all ok ones were verified, and
# whether every record names a QUIC stream
summary() {
	records "$1" "sorted(set((x['class'], x['phase']) for x in r)), all(x['verified'] for x in r if x['class'] == 'ok'), all('stream' in x.get('quic', {}) for x in r)"
}

SCHEMES="quic socks5+quic socks5h+quic"
if start_px clean; then
	for s in $SCHEMES; do
		probe -x "$s://127.0.0.1:$PX" -n 2 --records "$T/sizes-$s.jsonl" --json "$T/sizes-$s.json" \
			"http://127.0.0.1:$OP/bytes/1024" "http://127.0.0.1:$OP/bytes/1048576" \
			"http://127.0.0.1:$OP/bytes/10485760"
		expect_eq "$s: 1 KiB, 1 MiB, 10 MiB through the tunnel, every byte verified (exit 0)" \
			"$? $(summary "$T/sizes-$s.jsonl") $(records "$T/sizes-$s.jsonl" "sorted(set(x['bytes_received'] for x in r)), set(x['proxy'] for x in r)")" \
			"0 [('ok', 'done')] True True [1024, 1048576, 10485760] {'$s://127.0.0.1:$PX'}"
	done
	for s in $SCHEMES; do
		probe -x "$s://127.0.0.1:$PX" -c 2 --streams 4 -n 2 --records "$T/tls-$s.jsonl" \
			"https://localhost:$OS/bytes/1024" "https://localhost:$OS/bytes/1048576" \
			"https://localhost:$OS/bytes/10485760"
		expect_eq "$s: https targets, TLS to the origin inside the tunnel, every byte verified" \
			"$? $(summary "$T/tls-$s.jsonl") $(records "$T/tls-$s.jsonl" "sorted(set(x['bytes_received'] for x in r))")" \
			"0 [('ok', 'done')] True True [1024, 1048576, 10485760]"
	done
	timeout 60 "$TP_BIN" probe -q --cacert "$T/ca.pem" -x "quic://127.0.0.1:$PX" -n 1 --records "$T/wrongca.jsonl" \
		"https://localhost:$OS/bytes/1024"
	expect_eq "quic: the origin's certificate not trusted inside the tunnel: tls_error in phase tls" \
		"$? $(records "$T/wrongca.jsonl" "[(x['class'], x['phase'], 'certificate verify failed' in x['detail']) for x in r]")" \
		"1 [('tls_error', 'tls', True)]"
	for s in quic socks5+quic; do
		probe -x "$s://127.0.0.1:$PX" -c 2 --streams 8 -n 40 --records "$T/streams-$s.jsonl" \
			--json "$T/streams-$s.json" "http://127.0.0.1:$OP/bytes/65536" "http://127.0.0.1:$OP/close/300000"
		expect_eq "$s: 80 requests, 2 connections x 8 tunnels as streams, all verified" \
			"$? $(summary "$T/streams-$s.jsonl") $(records "$T/streams-$s.jsonl" "len(r), len(set(x['local'] for x in r)), len(set(x['quic']['stream'] for x in r)) >= 8") $(json "$T/streams-$s.json" "d['connections']['opened']")" \
			"0 [('ok', 'done')] True True 80 2 True 2"
		probe -x "$s://127.0.0.1:$PX" -c 4 --streams 1 --no-keepalive -n 8 --records "$T/single-$s.jsonl" \
			--json "$T/single-$s.json" "http://127.0.0.1:$OP/bytes/100000"
		expect_eq "$s: --streams 1 --no-keepalive: one QUIC connection per tunnel" \
			"$? $(summary "$T/single-$s.jsonl") $(records "$T/single-$s.jsonl" "len(r), set(x['quic']['stream'] for x in r)") $(json "$T/single-$s.json" "d['connections']['opened']")" \
			"0 [('ok', 'done')] True True 8 {0} 8"
	done
	probe -x "socks5+quic://127.0.0.1:$PX" --upload 200k -n 2 --records "$T/upload.jsonl" \
		"http://127.0.0.1:$OP/sink"
	expect_eq "socks5+quic: a 200 KiB upload through the tunnel" \
		"$? $(records "$T/upload.jsonl" "[(x['class'], x['bytes_sent'] > 204800) for x in r]")" \
		"0 [('ok', True), ('ok', True)]"
else
	not_ok "h3peer proxy starts" "$(cat "$T/clean.out")"
fi

# case_px MODE SCHEME URLPATH CLASS PHASE CHECK: one misbehaviour of the proxy
case_px() {
	local mode=$1 s=$2 path=$3 class=$4 phase=$5 check=${6:-True}
	local name="mb-${mode%%=*}-${s%%+*}"
	if ! start_px "$name" --misbehave "$mode" --after 100000; then
		not_ok "h3peer proxy --misbehave $mode starts" "$(cat "$T/$name.out")"
		return
	fi
	probe -x "$s://127.0.0.1:$PX" --timeout 2 -n 1 --records "$T/$name.jsonl" "http://127.0.0.1:$OP$path"
	local rc=$?
	expect_eq "$s, proxy $mode -> $class/$phase (exit 1)" \
		"$rc $(records "$T/$name.jsonl" "sorted(set((x['class'], x['phase']) for x in r)), all($check for x in r)")" \
		"1 [('$class', '$phase')] True"
}
for s in quic socks5+quic; do
	case_px nofin "$s" /close/300000 timeout fin \
		"x['bytes_received'] == 300000 and x['bytes_expected'] == 300000 and 'FIN' in x['detail']"
	case_px reset=0x10c "$s" /bytes/1048576 reset body \
		"x['quic']['reset_code'] == 0x10c and 0 < x['bytes_received'] < 1048576"
	case_px close=0x102 "$s" /bytes/1048576 reset body \
		"x['quic']['close_code'] == 0x102 and 'H3_INTERNAL_ERROR (0x102)' in x['detail']"
	case_px close=0x101 "$s" /bytes/1048576 protocol_error body \
		"x['quic']['close_code'] == 0x101 and 'H3_GENERAL_PROTOCOL_ERROR' in x['detail']"
	case_px cut "$s" /bytes/1048576 incomplete_read body "'more expected' in x['detail']"
	case_px early "$s" /bytes/1024 tunnel_closed_early first_byte
done
case_px refuse quic /bytes/1024 proxy_refused proxy "x['status'] == 403"
case_px refuse socks5+quic /bytes/1024 proxy_refused proxy "'SOCKS5 reply 2' in x['detail']"
case_px abort quic /bytes/1024 proxy_connect_aborted proxy \
	"x['quic']['reset_code'] == 0x10f and 'H3_CONNECT_ERROR' in x['detail']"
case_px abort socks5+quic /bytes/1024 proxy_connect_aborted proxy

# Nothing on the proxy's UDP port: connect_error.
DEAD=$(free_udp_port)
probe -x "quic://127.0.0.1:$DEAD" --connect-timeout 1 --records "$T/dead.jsonl" "http://127.0.0.1:$OP/bytes/1024"
expect_eq "no QUIC proxy on the port: connect_error in phase connect" \
	"$? $(records "$T/dead.jsonl" "[(x['class'], x['phase']) for x in r]")" "1 [('connect_error', 'connect')]"

# ---- bad flags: one line, exit 2 ----
bad() { # NAME ARGS...
	local name=$1
	shift
	"$TP_BIN" probe "$@" >"$T/bad.out" 2>"$T/bad.err"
	expect_eq "$name: exit 2, one line" "$? $(wc -l <"$T/bad.err")" "2 1"
}
bad "quic:// without a host" -x quic:// http://127.0.0.1:1/x
bad "a QUIC proxy with --http3-only" --http3-only -x quic://127.0.0.1:1 https://localhost:1/x
bad "--streams without --http3 or a QUIC proxy" --streams 4 -x socks5://127.0.0.1:1 http://127.0.0.1:1/x

finish
