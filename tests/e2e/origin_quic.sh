#!/usr/bin/env bash
# origin --quic-listen: HTTP/3 from the replay origin to peers we did not write —
# Debian's gtlsclient (ngtcp2's GnuTLS example client) — and to tests/helpers/h3peer
# (which checks the certificate against the origin's CA):
#   - 1 KiB, 1 MiB and 10 MiB byte-exact (`tunnelprobe gen` makes the expected bytes),
#     also while gtlsclient drops 5% of the packets each way;
#   - many streams on one connection, each byte-exact, and the ledger's facts per stream
#     (bytes acknowledged = bytes written, FIN sent and acknowledged, the stream ids, the
#     connection ids, proto h3) and per connection;
#   - the built-in paths as over HTTP/1.1 (chunked becomes plain DATA, gzip, status,
#     delay, drip, close, an upload to /sink), site routes, a recorded response replayed;
#   - the origin faults on streams: truncate (early FIN), rst (RESET_STREAM 0x102 after
#     the bytes before the cut), stall;
#   - a certificate for any SNI name from the CA; two workers on one port; bad flags.
# gtlsclient exits 0 even when it never connects, so files are compared, not its status.
# The ledger checks let gtlsclient idle out (--timeout) instead of closing at once: a
# client that closes right after its last stream never acknowledges the last packets,
# and the ledger says so (tested too).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/peers.sh"

H3PEER=${TP_BUILD:-$TP_ROOT/build}/tests/helpers/h3peer
need_cmd gtlsclient "origin quic: gtlsclient" || finish

gen() { "$TP_BIN" gen "$1" "$2"; } # TARGET SIZE: the bytes the origin serves for it
# lines FILE CODE: python CODE over the ledger's lines `r` (it prints what it checks)
lines() { python3 -c "import json,sys; r=[json.loads(l) for l in open(sys.argv[1]) if l.strip()]
$2" "$1"; }

# fetch NAME PORT [gtlsclient options] -- URL...: downloads into $T/NAME/
fetch() {
	local name=$1 port=$2
	shift 2
	local opts=()
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do opts+=("$1"); shift; done
	shift
	mkdir -p "$T/$name"
	timeout 60 gtlsclient -q "${opts[@]}" --download="$T/$name" 127.0.0.1 "$port" "$@" \
		>"$T/$name.log" 2>&1
}

start_tp origin origin --quic-listen 127.0.0.1:0 --ledger "$T/ledger" --ca-out "$T/ca.pem" ||
	{ not_ok "origin --quic-listen starts" "$(cat "$T/origin.err")"; finish; }
Q=$TP_QUIC
ORIGIN_PID=$TP_PID
expect_eq "listening line: 'listening quic 127.0.0.1:PORT'" \
	"$(grep -c "^listening quic 127.0.0.1:$Q\$" "$T/origin.out")" 1
expect_eq "no TCP listener unless asked" "$(grep -c '^listening http' "$T/origin.out")" 0

# ---- byte-exact, one connection each ----
for size in 1024 1048576 10485760; do
	fetch "b$size" "$Q" --exit-on-all-streams-close -- "https://localhost:$Q/bytes/$size"
	if gen "/bytes/$size" "$size" | cmp -s - "$T/b$size/$size"; then
		ok "gtlsclient: /bytes/$size byte-exact"
	else
		not_ok "gtlsclient: /bytes/$size byte-exact" "$(ls -l "$T/b$size"; tail -3 "$T/b$size.log")"
	fi
done

# ---- losses: gtlsclient drops 5% of what it sends and receives ----
for size in 1048576 10485760; do
	fetch "loss$size" "$Q" --exit-on-all-streams-close -r 0.05 -t 0.05 -- "https://localhost:$Q/bytes/$size"
	if gen "/bytes/$size" "$size" | cmp -s - "$T/loss$size/$size"; then
		ok "gtlsclient losing 5% each way: /bytes/$size byte-exact"
	else
		not_ok "gtlsclient losing 5% each way: /bytes/$size" "$(ls -l "$T/loss$size")"
	fi
done

# ---- many streams on one connection, and the ledger's facts ----
urls=()
for i in $(seq 1 24); do urls+=("https://localhost:$Q/bytes/$((i * 7919))?s=$i"); done
: >"$T/ledger"
fetch many "$Q" --timeout=1s -- "${urls[@]}"
bad=0
for i in $(seq 1 24); do
	gen "/bytes/$((i * 7919))?s=$i" "$((i * 7919))" | cmp -s - "$T/many/$((i * 7919))?s=$i" || bad=$((bad + 1))
done
expect_eq "24 streams on one connection: every body byte-exact" "$bad" 0
sleep 0.3 # the connection's own line comes at its idle timeout
facts=$(lines "$T/ledger" "
s = [x for x in r if x.get('stream') is not None and '?s=' in x['target']]
c = [x for x in r if x.get('stream') is None and x['conn'] in {y['conn'] for y in s}]
ok = all(x['proto'] == 'h3' and x['end'] == 'fin' and x['fin_sent'] and x['fin_acked'] and x['fin_received']
         and x['bytes_acked_at_close'] == x['bytes_written'] and x['quic']['bytes_acked'] == x['quic']['bytes_written']
         and x['body_acked'] == x['body_written'] == x['body_bytes'] and x['status'] == 200 for x in s)
print(len(s), len({x['conn'] for x in s}), len({x['stream'] for x in s}), sorted({x['stream'] % 4 for x in s}),
      ok, len(c), c[0]['requests'] if c else None, c[0]['end'] if c else None,
      all(len(x['server_cid']) == 32 and x['client_cid'] and x['original_dcid'] for x in s + c))")
expect_eq "ledger: 24 stream lines, one connection, 24 client bidi streams, all acked with FIN acked; its connection line (idle timeout)" \
	"$facts" "24 1 24 [0] True 1 24 timeout True"

# A client that closes right after its last stream: the ledger keeps what was not acked.
: >"$T/ledger"
fetch closer "$Q" --exit-on-all-streams-close -- "https://localhost:$Q/bytes/1000000"
sleep 0.3
expect_eq "client closing at once: its stream line says conn_closed, FIN sent, what it acked, its close" \
	"$(lines "$T/ledger" "s=[x for x in r if x.get('target') == '/bytes/1000000'][0]; c=[x for x in r if x['conn'] == s['conn'] and x['stream'] is None][0]; print(s['end'], s['fin_sent'], s['body_written'], s['body_acked'] <= s['body_written'], c['end'], c['quic_conn']['close']['name'])")" \
	"conn_closed True 1000000 True fin H3_NO_ERROR"

# ---- the built-in paths, as over HTTP/1.1 ----
: >"$T/ledger"
fetch paths "$Q" --timeout=1s -- "https://localhost:$Q/chunked/70000?chunk=999" \
	"https://localhost:$Q/close/5000" "https://localhost:$Q/status/503" \
	"https://localhost:$Q/delay/200" "https://localhost:$Q/drip?bytes=5&ms=40"
check "chunked becomes plain DATA: the payload, no chunk framing" \
	cmp -s <(gen "/chunked/70000?chunk=999" 70000) "$T/paths/70000?chunk=999"
check "close-delimited: the body, ended by the stream's FIN" cmp -s <(gen /close/5000 5000) "$T/paths/5000"
check "delay: 64 bytes after the delay" cmp -s <(gen /delay/200 64) "$T/paths/200"
check "drip: 5 bytes" cmp -s <(gen "/drip?bytes=5&ms=40" 5) "$T/paths/drip?bytes=5&ms=40"
sleep 0.2
expect_eq "ledger: status 503, the drip and the delay took their time" \
	"$(lines "$T/ledger" "d={x['target']: x for x in r if x.get('stream') is not None}; print(d['/status/503']['status'], d['/drip?bytes=5&ms=40']['duration_ms'] >= 160, d['/delay/200']['duration_ms'] >= 200)")" \
	"503 True True"

fetch gz "$Q" --exit-on-all-streams-close -- "https://localhost:$Q/gzip/100000"
check "gzip: gzip content coding, the payload inside" cmp -s <(gen /gzip/100000 100000) <(gunzip -c <"$T/gz/100000")

head -c 300000 /dev/urandom >"$T/up.bin"
: >"$T/ledger"
fetch up "$Q" --timeout=1s -m POST -d "$T/up.bin" -- "https://localhost:$Q/sink"
sleep 0.2
expect_eq "POST /sink: every upload byte counted (no X-Tp-Seed from gtlsclient: not verified)" \
	"$(lines "$T/ledger" "s=[x for x in r if x.get('target') == '/sink'][0]; print(s['method'], s['status'], s['upload'])")" \
	"POST 200 {'bytes': 300000, 'verified': False}"

# ---- a certificate for any SNI name, from the origin's CA (h3peer verifies it) ----
if [ -x "$H3PEER" ]; then
	out=$("$H3PEER" get --cacert "$T/ca.pem" --timeout 20 --out "$T/sni.bin" 127.0.0.1 "$Q" \
		"https://www.example.test:$Q/bytes/4096")
	if [ $? -eq 0 ] && gen /bytes/4096 4096 | cmp -s - "$T/sni.bin"; then
		ok "SNI www.example.test: a leaf from the CA, verified; byte-exact"
	else
		not_ok "SNI www.example.test" "$out"
	fi
	out=$("$H3PEER" get --cacert "$T/ca.pem" --timeout 20 --out "$T/sni2.bin" 127.0.0.1 "$Q" \
		"https://127.0.0.1:$Q/bytes/10")
	expect_eq "no SNI (an address): the default leaf, verified" "${out%% *}" "status=200"
else
	not_ok "SNI checks" "$H3PEER was not built"
fi

# ---- sites and replay ----
printf '*  /site  size=12345 framing=chunked chunk=1000 header=X-Site:yes\n' >"$T/sites"
start_tp sites origin --quic-listen 127.0.0.1:0 --sites "$T/sites"
fetch site "$TP_QUIC" --exit-on-all-streams-close -- "https://localhost:$TP_QUIC/site"
check "site route over HTTP/3: its body" cmp -s <(gen /site 12345) "$T/site/site"

mkdir -p "$T/rec"
body=$(printf 'hello over h3, from a recording\n')
printf 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nX-Recorded: 1\r\n\r\n5\r\nhello\r\n1b\r\n over h3, from a recording\n\r\n0\r\n\r\n' >"$T/rec/001.http"
start_tp replay origin --quic-listen 127.0.0.1:0 --replay "$T/rec"
fetch rec "$TP_QUIC" --exit-on-all-streams-close -- "https://localhost:$TP_QUIC/anything"
expect_eq "recorded chunked response replayed over HTTP/3: the de-chunked body" \
	"$(cat "$T/rec/anything" 2>/dev/null)" "$body"

# ---- origin faults act on streams ----
fault_run() { # NAME FAULT: a 100000-byte GET through an origin with FAULT
	start_tp "$1" origin --quic-listen 127.0.0.1:0 --ledger "$T/$1.ledger" --fault "$2"
	fetch "$1.dl" "$TP_QUIC" --timeout=1s -- "https://localhost:$TP_QUIC/bytes/100000"
	sleep 0.2
}
fault_run trunc truncate:after=5000
expect_eq "truncate:after=5000: the client got 5000 bytes and a FIN" \
	"$(stat -c %s "$T/trunc.dl/100000" 2>/dev/null) $(lines "$T/trunc.ledger" "s=r[0]; print(s['end'], s['body_written'], s['fin_sent'])")" \
	"5000 local 5000 True"
fault_run rst rst:after=5000
expect_eq "rst:after=5000: 5000 bytes delivered, then RESET_STREAM H3_INTERNAL_ERROR" \
	"$(stat -c %s "$T/rst.dl/100000" 2>/dev/null) $(lines "$T/rst.ledger" "s=r[0]; print(s['end'], s['body_acked'], s['quic']['reset_sent'], s['fin_sent'])")" \
	"5000 local_rst 5000 258 False"
fault_run stall stall:after=5000
expect_eq "stall:after=5000: 5000 bytes, then silence until the connection idled out" \
	"$(stat -c %s "$T/stall.dl/100000" 2>/dev/null) $(lines "$T/stall.ledger" "s=r[0]; print(s['end'], s['body_written'], s['fin_sent'], r[-1]['end'])")" \
	"5000 conn_closed 5000 False timeout"

# ---- two workers, one port ----
start_tp two origin --quic-listen 127.0.0.1:0 -t 2
for i in 1 2 3 4; do
	fetch "two$i" "$TP_QUIC" --exit-on-all-streams-close -- "https://localhost:$TP_QUIC/bytes/65536"
done
n=0
for i in 1 2 3 4; do gen /bytes/65536 65536 | cmp -s - "$T/two$i/65536" && n=$((n + 1)); done
expect_eq "-t 2: four connections served byte-exact on the shared port" "$n" 4

# ---- bad flags: one line, exit 2 ----
"$TP_BIN" origin --quic-listen nonsense >"$T/bad.out" 2>"$T/bad.err"
expect_eq "--quic-listen nonsense: exit 2, one line" "$? $(wc -l <"$T/bad.err")" "2 1"
"$TP_BIN" origin --quic-listen >"$T/bad.out" 2>"$T/bad.err"
expect_eq "--quic-listen without a value: exit 2" "$?" 2

# ---- SIGTERM with a connection open: a clean stop ----
fetch idle "$Q" --timeout=5s -- "https://localhost:$Q/bytes/10" &
idle=$!
sleep 0.5
kill -TERM "$ORIGIN_PID"
for ((i = 0; i < 100; i++)); do kill -0 "$ORIGIN_PID" 2>/dev/null || break; sleep 0.05; done
wait "$ORIGIN_PID"
expect_eq "SIGTERM with a connection open: the origin exits 0" "$?" 0
kill "$idle" 2>/dev/null
wait "$idle" 2>/dev/null
finish
