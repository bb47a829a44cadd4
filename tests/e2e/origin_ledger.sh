#!/usr/bin/env bash
# The origin's ledger counts request bytes exactly: a 100000-byte upload is 100000 body
# bytes plus its head, whatever carried it (direct, and through the reference proxy by
# forwarding, CONNECT and SOCKS5) and however the reads fell; pipelined requests each
# count their own bytes. A chunked upload whose chunk size is over the limit gets 413
# at once. Servers print their build at start and stamp their run id on every line.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/peers.sh"

start_tp origin origin --listen 127.0.0.1:0 --ledger "$T/origin.jsonl" --run-id o-run.1 ||
	{ not_ok "origin starts"; finish; }
OH=$TP_HTTP
start_tp px proxy --listen 127.0.0.1:0 --ledger "$T/px.jsonl" --run-id p_run-2
PX=$TP_PORT
expect_eq "origin and proxy print their build at start" \
	"$(grep -h '^build: ' "$T/origin.out" "$T/px.out" | sort -u)" \
	"build: tunnelprobe $("$TP_BIN" version | awk '{print $2}') $(uname -s | tr A-Z a-z)/$(uname -m) epoll"

for via in direct forward connect socks5; do
	case $via in
	direct) X=(--noproxy '*') ;;
	forward) X=(-x "http://127.0.0.1:$PX") ;;
	connect) X=(-p -x "http://127.0.0.1:$PX") ;;
	socks5) X=(-x "socks5h://127.0.0.1:$PX") ;;
	esac
	"$TP_BIN" probe -q -n 3 -c 1 --timeout 5 --upload 100000 "${X[@]}" --records "$T/$via.jsonl" \
		"http://127.0.0.1:$OH/sink"
	sleep 0.2
	got=$(python3 - "$T/$via.jsonl" "$T/origin.jsonl" <<'PY'
import json, sys
probe = [json.loads(l) for l in open(sys.argv[1])]
origin = {o["id"]: o for o in map(json.loads, open(sys.argv[2])) if o.get("id")}
print(sorted(set((r["class"], origin[r["id"]]["bytes_received"] - r["bytes_sent"],
                  origin[r["id"]]["upload"]["bytes"]) for r in probe)))
PY
)
	# The probe's bytes_sent is what the origin got: through the proxy, its rewrite of a
	# forwarded head keeps the probe's length (same Host, Via for the absolute URI).
	expect_eq "100000-byte upload via $via: bytes_received = the request's bytes" "$got" "[('ok', 0, 100000)]"
done

# Pipelined requests in one write: each line counts its own head, the body with its
# framing, and nothing of the next.
want=$(python3 - "$OH" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
reqs = [b"POST /sink HTTP/1.1\r\nHost: x\r\nX-Probe-Id: pipe-0\r\nContent-Length: 3000\r\n\r\n" + b"a" * 3000,
        b"POST /sink HTTP/1.1\r\nHost: x\r\nX-Probe-Id: pipe-1\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3e8\r\n" + b"b" * 1000 + b"\r\n0\r\n\r\n",
        b"GET /bytes/10 HTTP/1.1\r\nHost: x\r\nX-Probe-Id: pipe-2\r\nConnection: close\r\n\r\n"]
s.sendall(b"".join(reqs))
while s.recv(65536):
    pass
print([len(r) for r in reqs])
PY
)
sleep 0.2
expect_eq "pipelined requests: each line has exactly its own bytes" \
	"$(records "$T/origin.jsonl" "[x['bytes_received'] for x in r if (x['id'] or '').startswith('pipe-')]")" \
	"$want"

# A chunk size over the limit (2^40) is refused at once, before any of its data.
got=$(printf 'POST /sink HTTP/1.1\r\nHost: x\r\nX-Probe-Id: big-0\r\nTransfer-Encoding: chunked\r\n\r\n20000000000\r\n' |
	timeout 8 python3 -c "
import socket, sys, time
s = socket.create_connection(('127.0.0.1', $OH)); t0 = time.time()
s.sendall(sys.stdin.buffer.read()); s.settimeout(6)
d = s.recv(200)
print(d.split(b'\r\n')[0].decode() if d else 'closed', time.time() - t0 < 3)")
expect_eq "chunk size over the limit -> 413 at once" "$got" "HTTP/1.1 413 Content Too Large True"
sleep 0.2
expect_eq "the 413 is in the ledger" \
	"$(records "$T/origin.jsonl" "[x['status'] for x in r if x['id'] == 'big-0']")" "[413]"

expect_eq "every origin line carries its run id" \
	"$(records "$T/origin.jsonl" "sorted(set(x.get('run') for x in r))")" "['o-run.1']"
expect_eq "every proxy line carries its run id" \
	"$(records "$T/px.jsonl" "len(r) >= 5 and all(x.get('run') == 'p_run-2' for x in r)")" "True"
"$TP_BIN" proxy --listen 127.0.0.1:0 --run-id 'a b' 2>"$T/bad1.err"
rc1=$?
"$TP_BIN" origin --run-id "$(printf 'x%.0s' $(seq 65))" 2>"$T/bad2.err"
rc2=$?
expect_eq "a bad --run-id: exit 2, one line (proxy, origin)" \
	"$rc1 $(wc -l <"$T/bad1.err") $rc2 $(wc -l <"$T/bad2.err")" "2 1 2 1"
finish
