#!/usr/bin/env bash
# The reference proxy: healthy through every path (forward, CONNECT + TLS, SOCKS5,
# socks5h, chained through a second reference proxy and through squid and tinyproxy as
# upstreams), half-close both ways, and the detector matrix: each fault gives the class,
# phase and byte counts its incident needs, matching the proxy's own ledger.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/peers.sh"

start_tp origin origin --listen 127.0.0.1:0 --tls-listen 127.0.0.1:0 --ca-out "$T/oca.pem" \
	--ledger "$T/origin.jsonl" || { not_ok "origin starts"; finish; }
OH=$TP_HTTP OS=$TP_HTTPS
start_tinyproxy
start_squid
P() { "$TP_BIN" probe -q --timeout 3 --cacert "$T/oca.pem" "$@"; }

healthy() { # NAME PROXY_URL [PROBE ARGS]
	local name=$1 px=$2
	shift 2
	P -n 4 -c 2 -x "$px" --json "$T/$name.json" "$@" \
		"http://127.0.0.1:$OH/bytes/1048576" "https://localhost:$OS/chunked/300000" \
		"http://127.0.0.1:$OH/gzip/200000" "https://localhost:$OS/bytes/1024" --compressed
	expect_eq "healthy $name" "$(json "$T/$name.json" "d['requests'], d['classes']")" "16 {'ok': 16}"
}
start_tp ref proxy --listen 127.0.0.1:0 --ledger "$T/ref.jsonl"
REF=$TP_PORT
healthy forward+connect "http://127.0.0.1:$REF"
healthy connect-only "http://127.0.0.1:$REF" -p
healthy socks5 "socks5://127.0.0.1:$REF"
healthy socks5h "socks5h://127.0.0.1:$REF"
start_tp chained proxy --listen 127.0.0.1:0 --upstream "http://127.0.0.1:$REF"
healthy chained-reference "http://127.0.0.1:$TP_PORT"
start_tp viasquid proxy --listen 127.0.0.1:0 --upstream "http://127.0.0.1:$SQUID_PORT"
healthy upstream-squid "http://127.0.0.1:$TP_PORT" -p
start_tp viatiny proxy --listen 127.0.0.1:0 --upstream "http://127.0.0.1:$TINYPROXY_PORT"
healthy upstream-tinyproxy "socks5h://127.0.0.1:$TP_PORT"
start_tp socksup proxy --listen 127.0.0.1:0 --upstream "socks5://127.0.0.1:$REF"
healthy upstream-socks5 "http://127.0.0.1:$TP_PORT" -p

# The ledger agrees with the probe for every tunnel: bytes the proxy sent down are the
# bytes the probe read (plain HTTP through SOCKS5: no TLS layer between the counts).
P -n 5 --no-keepalive -x "socks5h://127.0.0.1:$REF" --records "$T/agree.jsonl" "http://127.0.0.1:$OH/bytes/200000"
agree=$(python3 - "$T/agree.jsonl" "$T/ref.jsonl" <<'PY'
import json, sys
probe = [json.loads(l) for l in open(sys.argv[1])]
proxy = {l['client_peer']: l for l in map(json.loads, open(sys.argv[2]))}
print(len(probe) == 5 and all(proxy[r['local']]['down']['sent'] == r['wire_received'] and
          proxy[r['local']]['up']['received'] == r['bytes_sent'] for r in probe))
PY
)
expect_eq "proxy ledger = probe records, byte for byte" "$agree" "True"

# Half-close: the client shuts down its write side after the request and still gets
# the whole (close-delimited) response through the healthy proxy; full-close loses it.
P -n 3 --half-close -x "socks5h://127.0.0.1:$REF" --json "$T/half.json" "http://127.0.0.1:$OH/close/100000"
expect_eq "half-close relayed" "$(json "$T/half.json" "d['classes']")" "{'ok': 3}"
# The origin answers 300 ms after the client's FIN: the healthy proxy must keep the
# other direction open that long; full-close (deterministically, whatever the scheduling)
# has closed the tunnel by then.
P -n 3 --half-close -x "socks5h://127.0.0.1:$REF" --json "$T/halfd.json" "http://127.0.0.1:$OH/delay/300"
expect_eq "half-close relayed (slow origin)" "$(json "$T/halfd.json" "d['classes']")" "{'ok': 3}"
start_tp fullclose proxy --listen 127.0.0.1:0 --fault full-close
P -n 3 --half-close -x "socks5h://127.0.0.1:$TP_PORT" --json "$T/full.json" "http://127.0.0.1:$OH/delay/300"
expect_eq "full-close loses the response" "$(json "$T/full.json" "d['ok']")" "0"

# An origin's RST reaches the client as an RST, never as a FIN (which would read as a
# short body): through a CONNECT tunnel, SOCKS5, and the forward path.
RSTO=$(start_scripted rst)
for via in "-p -x http://127.0.0.1:$REF" "-x socks5h://127.0.0.1:$REF" "-x http://127.0.0.1:$REF"; do
	# shellcheck disable=SC2086 # $via is two words on purpose
	P -n 2 $via --records "$T/rstp.jsonl" "http://127.0.0.1:$RSTO/x"
	expect_eq "origin RST relayed as RST ($via)" \
		"$(records "$T/rstp.jsonl" "sorted(set((x['class'], x['phase'], x['bytes_received']) for x in r))")" \
		"[('reset', 'body', 5000)]"
done

# The detector matrix.
matrix() { # FAULT SCHEME URL CLASS PHASE [CHECK over r (records) and l (ledger lines)]
	local fault=$1 scheme=$2 url=$3 class=$4 phase=$5 check=${6:-True}
	local name
	name=$(echo "$fault" | tr -c 'a-z0-9' '_')
	start_tp "m_$name" proxy --listen 127.0.0.1:0 --ledger "$T/m_$name.jsonl" --fault "$fault"
	P -n 3 -x "$scheme://127.0.0.1:$TP_PORT" --records "$T/r_$name.jsonl" "$url"
	sleep 0.1
	local got
	got=$(python3 - "$T/r_$name.jsonl" "$T/m_$name.jsonl" <<PY
import json, sys
r = [json.loads(x) for x in open(sys.argv[1])]
l = {x['client_peer']: x for x in map(json.loads, open(sys.argv[2]))}
print(sorted(set((x['class'], x['phase']) for x in r)), all($check for x in r))
PY
)
	expect_eq "fault $fault -> $class/$phase" "$got" "[('$class', '$phase')] True"
}
PLAIN="http://127.0.0.1:$OH/bytes/100000"
matrix "truncate:after=32768" socks5h "$PLAIN" incomplete_read body \
	"x['wire_received'] == 32768 and l[x['local']]['down']['sent'] == 32768 and l[x['local']]['down']['dropped'] > 0"
matrix "rst:after=5000" socks5h "$PLAIN" reset body "x['wire_received'] == 5000"
matrix "close-before-reply" http "https://localhost:$OS/bytes/1" proxy_connect_aborted proxy
matrix "close-mid-reply" socks5h "$PLAIN" proxy_connect_aborted proxy
matrix "close-after-accept" http "https://localhost:$OS/bytes/1" tunnel_closed_early tls
matrix "refuse" http "https://localhost:$OS/bytes/1" proxy_refused proxy "'403' in x['detail']"
matrix "no-fin" socks5h "http://127.0.0.1:$OH/close/5000" timeout fin "x['bytes_received'] == 5000"
matrix "stall:after=1000" socks5h "$PLAIN" timeout body "x['wire_received'] == 1000"
matrix "corrupt:at=5000" socks5h "$PLAIN" corrupt_body body
matrix "drop-chunk-end" socks5h "http://127.0.0.1:$OH/chunked/5000" incomplete_read body "'not terminated' in x['detail']"
matrix "truncate:after=32768" http "https://localhost:$OS/bytes/100000" incomplete_read body \
	"l[x['local']]['down']['sent'] == 32768 and x['bytes_received'] < 32768"
matrix "slow:bps=2000000" socks5h "$PLAIN" ok done

# Probabilistic faults with a fixed seed hit exactly the same tunnels every run.
for i in 1 2; do
	start_tp "seed$i" proxy --listen 127.0.0.1:0 --fault "truncate:after=1000 p=0.3 seed=11"
	P -n 20 --no-keepalive -x "socks5h://127.0.0.1:$TP_PORT" --records "$T/seed$i.jsonl" "$PLAIN"
	records "$T/seed$i.jsonl" "[int(x['id'].split('-')[-1]) for x in r if x['class'] != 'ok']" >"$T/seed$i.hits"
done
expect_eq "seeded faults hit the same tunnels" "$(cat "$T/seed1.hits")" "$(cat "$T/seed2.hits")"
expect_eq "seeded faults hit some, not all" "$(python3 -c "import ast;h=ast.literal_eval(open('$T/seed1.hits').read());print(0 < len(h) < 20)")" "True"

# Safe defaults and bad input.
start_tp strict proxy --listen 127.0.0.1:0 --allow 10.255.255.0/24
P -n 1 -x "http://127.0.0.1:$TP_PORT" --records "$T/deny.jsonl" "https://localhost:$OS/bytes/1"
expect_eq "destination outside --allow refused" "$(records "$T/deny.jsonl" "r[0]['class'], r[0]['detail']")" "proxy_refused CONNECT 403 Forbidden"
printf 'GARBAGE\r\n\r\n' | timeout 5 python3 -c "
import socket,sys; s=socket.create_connection(('127.0.0.1',$REF)); s.sendall(sys.stdin.buffer.read()); print(s.recv(100).split(b'\r\n')[0].decode())" >"$T/garbage.out"
expect_eq "malformed request line -> 400" "$(cat "$T/garbage.out")" "HTTP/1.1 400 Bad Request"
"$TP_BIN" proxy --listen 127.0.0.1:0 --fault "explode" 2>"$T/badfault.err"
expect_eq "bad --fault -> exit 2, one line" "$? $(wc -l <"$T/badfault.err")" "2 1"
finish
