#!/usr/bin/env bash
# The reference proxy's forward path against hostile peers, and its faults where they
# used to do nothing: an origin that sends a complete response and then stray bytes
# (the response is delivered, then the connection closes, the strays counted dropped),
# a malformed chunk size from the origin (502 while nothing reached the client, else
# the connection ends), a malformed request chunk (400), "Content-Length: 5, 5" (one
# Content-Length goes on), a keep-alive client dripping its second request head (cut
# off by the handshake timeout), corrupt:at=N dir=up in forward mode (the origin's
# POST /sink answers 422, as over CONNECT and SOCKS5), drop-chunk-end where it cannot
# act (inside TLS: fault_acted false), and p= decisions keyed by the request's id.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/peers.sh"

# raw PORT: sends stdin, then reads until the proxy closes (10 s at most); prints what
# came back
raw() {
	timeout 10 python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(sys.stdin.buffer.read())
out = b""
s.settimeout(8)
try:
    while True:
        d = s.recv(65536)
        if not d: break
        out += d
except OSError:
    out += b"<reset>"
sys.stdout.buffer.write(out)' "$1"
}
# line FILE EXPR: EXPR over the proxy ledger's lines l (a list)
line() { python3 -c "import json,sys; l=[json.loads(x) for x in open(sys.argv[1])]; print($2)" "$1"; }

start_tp px proxy --listen 127.0.0.1:0 --ledger "$T/px.jsonl" --handshake-timeout 1 \
	--idle-timeout 30 || { not_ok "proxy starts"; finish; }
PX=$TP_PORT

# A complete response, then stray bytes: the response is delivered, then the proxy
# closes; the ledger has status 200 and the strays dropped.
O=$(start_scripted stray)
printf 'GET http://127.0.0.1:%s/s HTTP/1.1\r\nHost: x\r\nX-Probe-Id: t-0-0\r\n\r\n' "$O" | raw "$PX" >"$T/stray.out"
expect_eq "stray bytes after a response: the response arrives, then the close" \
	"$(head -1 "$T/stray.out" | tr -d '\r') $(tail -c 5 "$T/stray.out")" "HTTP/1.1 200 OK hello"
sleep 0.2
expect_eq "stray bytes: status 200, the 11 stray bytes dropped, the response delivered" \
	"$(line "$T/px.jsonl" "[(x['status'], x['down']['dropped'], x['down']['wire_sent'] == $(wc -c <"$T/stray.out")) for x in l if x['id'] == 't-0-0']")" \
	"[(200, 11, True)]"

# A malformed chunk size from the origin before anything reached the client: 502.
O=$(start_scripted badchunk)
got=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -x "http://127.0.0.1:$PX" "http://127.0.0.1:$O/b")
expect_eq "malformed chunk size from the origin, nothing sent yet -> 502" "$got" "502"
# ...and after the head went out: the connection ends (curl sees a cut body).
O=$(start_scripted badchunk-late)
got=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -x "http://127.0.0.1:$PX" "http://127.0.0.1:$O/b")
expect_eq "malformed chunk after the head went out -> the client connection ends" "$got $?" "200 18"

# A malformed request chunk: 400, and the broken request never completes at the origin.
O=$(start_scripted stray)
got=$(printf 'POST http://127.0.0.1:%s/u HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nX-Probe-Id: t-1-0\r\n\r\nzz\r\nhello\r\n' "$O" |
	raw "$PX" | head -1 | tr -d '\r')
expect_eq "malformed request chunk -> 400" "$got" "HTTP/1.1 400 Bad Request"
sleep 0.2
expect_eq "the 400 is the request's line, its bytes dropped" \
	"$(line "$T/px.jsonl" "[(x['status'], x['up']['dropped'] == x['up']['received'] > 0) for x in l if x['id'] == 't-1-0']")" \
	"[(400, True)]"

# Content-Length: 5, 5 goes on as one Content-Length, both ways (the echo-head origin
# answers with the head it got).
O=$(start_scripted echo-head)
printf 'POST http://127.0.0.1:%s/c HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello' "$O" |
	raw "$PX" | sed '1,/^\r$/d' >"$T/heads"
expect_eq "request Content-Length: 5, 5 -> one 'Content-Length: 5'" \
	"$(head -c 5 "$T/heads") $(grep -ci '^content-length' "$T/heads") $(grep -c '^Content-Length: 5.$' "$T/heads")" "POST  1 1"
O=$(start_scripted cl55)
printf 'GET http://127.0.0.1:%s/c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' "$O" | raw "$PX" >"$T/cl.out"
expect_eq "response Content-Length: 5, 5 -> one 'Content-Length: 5'" \
	"$(grep -ci '^content-length' "$T/cl.out") $(grep -c '^Content-Length: 5.$' "$T/cl.out") $(tail -c 5 "$T/cl.out")" \
	"1 1 hello"

# Keep-alive slowloris: the first request is answered, then the second head drips in at
# one byte every 0.25 s; the handshake timeout (1 s) cuts it off long before it is whole.
start_tp origin origin --listen 127.0.0.1:0
OH=$TP_HTTP
timeout 20 python3 - "$PX" "$OH" >"$T/drip.out" <<'PY'
import socket, sys, time
px, o = int(sys.argv[1]), int(sys.argv[2])
s = socket.create_connection(("127.0.0.1", px))
req = b"GET http://127.0.0.1:%d/bytes/10 HTTP/1.1\r\nHost: x\r\n\r\n" % o
s.sendall(req)
got = b""
while b"\r\n\r\n" not in got or len(got.split(b"\r\n\r\n", 1)[1]) < 10:
    d = s.recv(4096)
    if not d:
        break
    got += d
second = req * 2  # far longer than the timeout lets through at this pace
sent, t0 = 0, time.time()
try:
    while sent < len(second) and time.time() - t0 < 15:
        s.sendall(second[sent:sent + 1])
        sent += 1
        time.sleep(0.25)
        s.setblocking(False)
        try:
            if s.recv(1) == b"":
                break  # closed by the proxy
        except BlockingIOError:
            pass
        finally:
            s.setblocking(True)
except OSError:
    pass
print(got.startswith(b"HTTP/1.1 200"), sent < len(second), sent <= 20)
PY
expect_eq "keep-alive slowloris: the second head is cut off by the handshake timeout" \
	"$(cat "$T/drip.out")" "True True True"

# corrupt:at=N dir=up flips an upload byte in every mode: the origin verifies the upload
# (X-Tp-Seed) and answers 422.
start_tp corrupt proxy --listen 127.0.0.1:0 --fault "corrupt:at=5000 dir=up" --ledger "$T/corrupt.jsonl"
for via in "-x http://127.0.0.1:$TP_PORT" "-p -x http://127.0.0.1:$TP_PORT" "-x socks5h://127.0.0.1:$TP_PORT"; do
	# shellcheck disable=SC2086 # $via is two or three words on purpose
	"$TP_BIN" probe -q -n 2 --timeout 5 --upload 100000 $via --records "$T/c.jsonl" "http://127.0.0.1:$OH/sink"
	expect_eq "corrupt:at=5000 dir=up acts ($via): the origin answers 422" \
		"$(records "$T/c.jsonl" "sorted(set((x['class'], x['status']) for x in r))")" "[('http_error', 422)]"
done

# drop-chunk-end inside a TLS tunnel cannot see the chunks: the request is fine, and the
# ledger says the fault could not act rather than pretend (a plain tunnel: it acted).
start_tp tlsorigin origin --listen 127.0.0.1:0 --tls-listen 127.0.0.1:0 --ca-out "$T/ca.pem"
TH=$TP_HTTP TS=$TP_HTTPS
start_tp dce proxy --listen 127.0.0.1:0 --fault drop-chunk-end --ledger "$T/dce.jsonl"
"$TP_BIN" probe -q -n 1 --timeout 5 --cacert "$T/ca.pem" -x "http://127.0.0.1:$TP_PORT" \
	--records "$T/dce-tls.jsonl" "https://localhost:$TS/chunked/20000"
"$TP_BIN" probe -q -n 1 --timeout 5 -x "socks5h://127.0.0.1:$TP_PORT" \
	--records "$T/dce-plain.jsonl" "http://127.0.0.1:$TH/chunked/20000"
sleep 0.2
expect_eq "drop-chunk-end in a TLS tunnel: the request is whole, the ledger says fault_acted false" \
	"$(records "$T/dce-tls.jsonl" "r[0]['class']") $(records "$T/dce.jsonl" "[(x['kind'], x['fault_acted']) for x in r]")" \
	"ok [('connect', False), ('socks5', True)]"

# p= decisions are keyed by the request: the X-Probe-Id without its run prefix. Two runs
# with different prefixes refuse exactly the same requests (curl sends the id on its
# CONNECT as the probe does), whatever order or connection they come in.
start_tp keyed proxy --listen 127.0.0.1:0 --fault "refuse p=0.5 seed=3" --ledger "$T/keyed.jsonl"
for run in aaaaaa bbbbbb; do
	for k in 9 8 7 6 5 4 3 2 1 0; do
		printf '%s:%s ' "$k" "$(curl -s -o /dev/null -w '%{http_connect}' --max-time 5 -p \
			-x "http://127.0.0.1:$TP_PORT" --proxy-header "X-Probe-Id: $run-1-$k" "http://127.0.0.1:$TH/bytes/10")"
	done | tr ' ' '\n' | sort >"$T/keyed.$run"
done
expect_eq "request-keyed faults: the same requests refused in two runs" \
	"$(diff "$T/keyed.aaaaaa" "$T/keyed.bbbbbb" && grep -c ':403' "$T/keyed.aaaaaa" | awk '{print ($1 > 0 && $1 < 10)}')" "1"
sleep 0.2
expect_eq "the ledger names the key, and the id of the CONNECT" \
	"$(records "$T/keyed.jsonl" "sorted(set((x['id'][7:], x['fault_key']) for x in r if x['id'].endswith('-3')))")" \
	"[('1-3', '1-3')]"
finish
