#!/usr/bin/env bash
# The probe over HTTP/3 (--http3, --http3-only, --streams) against peers that speak it:
#   - gtlsserver (Debian's ngtcp2 GnuTLS example, a server we did not write) serving a
#     directory: 1 KiB, 1 MiB and 10 MiB byte-exact by sha256=/length= from --urls-file;
#     many streams on one connection; 5% packet loss each way with every byte verified;
#     a wrong CA; the NSS key log decrypting a capture (root + tshark);
#   - tests/helpers/h3peer serving /gen/SIZE with X-Tp-Seed (every byte checked against
#     the generator) and misbehaving on request: a reset stream, a CONNECTION_CLOSE with
#     a code, a FIN before the announced length, a stall, a server that stops answering,
#     a response whose FIN never comes;
#   - no QUIC server: connect_error with --http3-only, TCP+TLS with --http3 (the record
#     says why), also when the UDP port swallows the Initial;
#   - bad flags exit 2 with one line.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/peers.sh"

H3PEER=${TP_BUILD:-$TP_ROOT/build}/tests/helpers/h3peer
need_cmd gtlsserver "probe h3: gtlsserver" || finish
[ -x "$H3PEER" ] || { not_ok "probe h3" "$H3PEER was not built"; finish; }

# summary FILE: (class, phase, proto) of every record, and whether all ok ones were verified
summary() {
	records "$1" "sorted(set((x['class'], x['phase'], x['proto']) for x in r)), all(x['verified'] for x in r if x['class'] == 'ok')"
}

mkdir -p "$T/www"
for size in 1024 1048576 10485760; do head -c "$size" /dev/urandom >"$T/www/b$size"; done
make_ca || { not_ok "probe h3: certificates"; finish; }
(T=$T/other && mkdir -p "$T" && make_ca) || not_ok "probe h3: second CA"

urls_file() { # PORT FILE: the three files with sha256= and length=
	local size
	for size in 1024 1048576 10485760; do
		echo "https://localhost:$1/b$size sha256=$(sha256sum "$T/www/b$size" | cut -d' ' -f1) length=$size"
	done >"$2"
}
probe() { timeout 120 "$TP_BIN" probe -q --cacert "$T/ca.pem" "$@"; }

# ---- gtlsserver ----
if start_gtlsserver gtlsserver; then
	urls_file "$GS_PORT" "$T/urls"
	probe --http3-only --urls-file "$T/urls" -n 2 --records "$T/gs.jsonl" --json "$T/gs.json"
	rc=$?
	expect_eq "gtlsserver: 1 KiB, 1 MiB, 10 MiB over HTTP/3, every byte verified (exit 0)" \
		"$rc $(summary "$T/gs.jsonl") $(records "$T/gs.jsonl" "sorted(set(x['bytes_received'] for x in r))")" \
		"0 [('ok', 'done', 'h3')] True [1024, 1048576, 10485760]"
	expect_eq "gtlsserver: the run file counts them as for HTTP/1.1" \
		"$(json "$T/gs.json" "d['requests'], d['ok'], d['verified']")" "6 6 6"
	expect_eq "gtlsserver: phases dns, tls (the QUIC handshake) and first_byte, no connect" \
		"$(records "$T/gs.jsonl" "sorted(r[0]['timings_ms'])")" "['dns', 'first_byte', 'tls', 'total']"
	check "the report renders an HTTP/3 run" "$TP_BIN" report "$T/gs.json" -o "$T/gs.html"

	probe --http3-only --urls-file "$T/urls" -c 1 --streams 20 -n 20 --records "$T/streams.jsonl" \
		--json "$T/streams.json"
	rc=$?
	expect_eq "gtlsserver: 60 requests as 20 streams at once on one connection, all verified" \
		"$rc $(summary "$T/streams.jsonl") $(records "$T/streams.jsonl" "len(r), len(set(x['local'] for x in r))") $(json "$T/streams.json" "d['connections']['opened']")" \
		"0 [('ok', 'done', 'h3')] True 60 1 1"

	probe --http3-only --urls-file "$T/urls" -c 2 --streams 4 -R 40 -n 8 --records "$T/open.jsonl"
	expect_eq "gtlsserver: open loop at 40/s over 2 connections x 4 streams" \
		"$? $(summary "$T/open.jsonl") $(records "$T/open.jsonl" "len(r)")" "0 [('ok', 'done', 'h3')] True 24"

	probe --http3-only --cacert "$T/other/ca.pem" --records "$T/wrongca.jsonl" "https://localhost:$GS_PORT/b1024"
	expect_eq "a wrong CA: tls_error in phase tls, naming the alert we sent" \
		"$? $(records "$T/wrongca.jsonl" "[(x['class'], x['phase'], 'NOT trusted' in x['detail'] and 'we sent alert bad certificate' in x['detail']) for x in r]")" \
		"1 [('tls_error', 'tls', True)]"

	# The NSS key log: the probe's QUIC secrets decrypt a capture of its requests.
	probe --http3-only --keylog "$T/keylog" -n 1 "https://localhost:$GS_PORT/b1024" >/dev/null
	expect_eq "--keylog writes the QUIC handshake and traffic secrets (NSS format)" \
		"$(awk '{print $1}' "$T/keylog" | sort -u | tr '\n' ' ')" \
		"CLIENT_HANDSHAKE_TRAFFIC_SECRET CLIENT_TRAFFIC_SECRET_0 EXPORTER_SECRET SERVER_HANDSHAKE_TRAFFIC_SECRET SERVER_TRAFFIC_SECRET_0 "
	if need_root "key log decrypts a capture of the probe" && need_cmd tshark "probe h3 key log: tshark" &&
		need_cmd tcpdump "probe h3 key log: tcpdump"; then
		keylog_decrypts "--keylog: tshark decrypts the probe's HEADERS" "$GS_PORT" "$T/keylog2" \
			probe --http3-only --keylog "$T/keylog2" -n 1 "https://localhost:$GS_PORT/b1024"
	fi
else
	not_ok "gtlsserver starts" "$(tail -3 "$T/gtlsserver.log")"
fi

if start_gtlsserver gtlsserver-lossy -t 0.05 -r 0.05; then
	urls_file "$GS_PORT" "$T/urls-lossy"
	probe --http3-only --urls-file "$T/urls-lossy" -c 2 --streams 3 -n 3 --records "$T/lossy.jsonl"
	expect_eq "gtlsserver losing 5% each way: every byte still verified" \
		"$? $(summary "$T/lossy.jsonl") $(records "$T/lossy.jsonl" "len(r)")" "0 [('ok', 'done', 'h3')] True 9"
else
	not_ok "lossy gtlsserver starts"
fi

# ---- h3peer: the generator's bytes, and misbehaviours ----
"$H3PEER" serve --cert "$T/leaf.pem" --key "$T/leaf.key" --port-file "$T/h3peer.port" --timeout 300 \
	127.0.0.1 0 >"$T/h3peer.out" 2>&1 &
_tp_pids+=($!)
for ((i = 0; i < 100; i++)); do [ -s "$T/h3peer.port" ] && break; sleep 0.05; done
HP=$(cat "$T/h3peer.port" 2>/dev/null)
if [ -n "$HP" ]; then
	probe --http3-only -n 2 --records "$T/gen.jsonl" "https://localhost:$HP/gen/1024" \
		"https://localhost:$HP/gen/1048576" "https://localhost:$HP/gen/10485760"
	expect_eq "h3peer: X-Tp-Seed bodies 1 KiB to 10 MiB, every byte against the generator" \
		"$? $(summary "$T/gen.jsonl") $(records "$T/gen.jsonl" "len(r)")" "0 [('ok', 'done', 'h3')] True 6"

	probe --http3-only --upload 256k -n 2 --records "$T/upload.jsonl" "https://localhost:$HP/gen/1024"
	expect_eq "h3peer: a 256 KiB upload body on the request stream" \
		"$? $(summary "$T/upload.jsonl") $(records "$T/upload.jsonl" "all(x['bytes_sent'] > 262144 for x in r)")" \
		"0 [('ok', 'done', 'h3')] True True"

	# case NAME QUERY CLASS PHASE CHECK: one misbehaviour of h3peer after 100000 bytes of 1 MiB
	case_h3() {
		local name=$1 query=$2 class=$3 phase=$4 check=${5:-True}
		probe --http3-only --timeout 2 -n 1 --records "$T/$name.jsonl" "https://localhost:$HP/gen/1048576?$query"
		local rc=$?
		expect_eq "h3peer $name -> $class/$phase (exit 1)" \
			"$rc $(records "$T/$name.jsonl" "sorted(set((x['class'], x['phase']) for x in r)), all($check for x in r)")" \
			"1 [('$class', '$phase')] True"
	}
	case_h3 reset-stream "reset=100000&code=0x102" reset body \
		"x['bytes_received'] == 100000 and 'stream reset by the server: H3_INTERNAL_ERROR (0x102)' in x['detail']"
	case_h3 close-internal "close=100000&code=0x102" reset body \
		"x['bytes_received'] == 100000 and 'connection closed by the server: H3_INTERNAL_ERROR (0x102)' in x['detail']"
	case_h3 close-protocol "close=100000&code=0x101" protocol_error body \
		"'H3_GENERAL_PROTOCOL_ERROR (0x101)' in x['detail']"
	case_h3 fin-short "fin=100000" incomplete_read body \
		"x['detail'] == '100000 bytes read, 948576 more expected'"
	case_h3 stall "stall=100000" timeout body "x['bytes_received'] == 100000"
	case_h3 silent "silent=100000" timeout body "x['bytes_received'] == 100000"
	case_h3 no-fin "nofin" timeout fin "x['bytes_received'] == 1048576 and x['bytes_expected'] == 1048576"

	# One stream's reset leaves the other streams of the connection alone.
	probe --http3-only --timeout 5 -c 1 --streams 4 -n 4 --records "$T/mixed.jsonl" \
		"https://localhost:$HP/gen/65536" "https://localhost:$HP/gen/65536?reset=1000&code=0x10c"
	expect_eq "a reset stream among others on one connection: only its requests fail" \
		"$(records "$T/mixed.jsonl" "sorted(set((x['url'].endswith('0x10c'), x['class']) for x in r)), len(set(x['local'] for x in r))")" \
		"[(False, 'ok'), (True, 'reset')] 1"
else
	not_ok "h3peer serve starts" "$(cat "$T/h3peer.out")"
fi

# ---- no QUIC server ----
DEAD=$(free_udp_port)
probe --http3-only --records "$T/dead.jsonl" "https://localhost:$DEAD/x"
expect_eq "--http3-only, nothing on the UDP port: connect_error in phase connect" \
	"$? $(records "$T/dead.jsonl" "[(x['class'], x['phase'], x['proto'], 'Connection refused' in x['detail']) for x in r]")" \
	"1 [('connect_error', 'connect', 'h3', True)]"

# A UDP port that swallows the Initial: no answer within --connect-timeout.
python3 -c 'import socket,sys,time; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1], flush=True); time.sleep(60)' >"$T/sink.port" &
_tp_pids+=($!)
for ((i = 0; i < 100; i++)); do [ -s "$T/sink.port" ] && break; sleep 0.05; done
SINK=$(cat "$T/sink.port")
probe --http3-only --connect-timeout 1 --records "$T/sink.jsonl" "https://localhost:$SINK/x"
expect_eq "--http3-only, the Initial swallowed: connect_error after --connect-timeout" \
	"$? $(records "$T/sink.jsonl" "[(x['class'], x['phase'], 'no answer to the QUIC Initial' in x['detail'], x['timings_ms']['total'] >= 900) for x in r]")" \
	"1 [('connect_error', 'connect', True, True)]"

# --http3 against an HTTPS origin without QUIC: TCP+TLS, and the record says why.
if start_tp origin origin --tls-listen 127.0.0.1:0 --ca-out "$T/origin-ca.pem"; then
	timeout 60 "$TP_BIN" probe -q --http3 --cacert "$T/origin-ca.pem" -n 3 --records "$T/fallback.jsonl" \
		"https://localhost:$TP_HTTPS/bytes/100000"
	expect_eq "--http3, no QUIC on the port: over TCP+TLS, verified, the record says why" \
		"$? $(summary "$T/fallback.jsonl") $(records "$T/fallback.jsonl" "all(x['fallback'].startswith('QUIC: ') and 'Connection refused' in x['fallback'] for x in r), len(set(x['local'] for x in r))")" \
		"0 [('ok', 'done', 'http/1.1')] True True 1"
	# The same port number on UDP swallowing the Initial: TCP after a second.
	python3 -c 'import socket,sys,time; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",int(sys.argv[1]))); print("up", flush=True); time.sleep(60)' \
		"$TP_HTTPS" >"$T/sink2.out" &
	_tp_pids+=($!)
	for ((i = 0; i < 100; i++)); do [ -s "$T/sink2.out" ] && break; sleep 0.05; done
	timeout 60 "$TP_BIN" probe -q --http3 --cacert "$T/origin-ca.pem" -n 1 --records "$T/fallback2.jsonl" \
		"https://localhost:$TP_HTTPS/bytes/1000"
	expect_eq "--http3, the Initial swallowed: TCP+TLS after the QUIC attempt's second" \
		"$? $(summary "$T/fallback2.jsonl") $(records "$T/fallback2.jsonl" "[x['fallback'] for x in r]")" \
		"0 [('ok', 'done', 'http/1.1')] True ['QUIC: no answer to the QUIC Initial within 1.0s']"
else
	not_ok "origin starts" "$(cat "$T/origin.err")"
fi

# ---- bad flags: one line, exit 2 ----
bad() { # NAME ARGS...
	local name=$1
	shift
	"$TP_BIN" probe "$@" >"$T/bad.out" 2>"$T/bad.err"
	expect_eq "$name: exit 2, one line" "$? $(wc -l <"$T/bad.err")" "2 1"
}
bad "--streams without --http3" --streams 4 https://localhost:1/x
bad "--streams 0" --http3 --streams 0 https://localhost:1/x
bad "--streams past 1000" --http3 --streams 1001 https://localhost:1/x
bad "--http3-only with an http URL" --http3-only http://localhost:1/x
bad "--http3-only through a proxy" --http3-only -x http://127.0.0.1:1 https://localhost:1/x

finish
