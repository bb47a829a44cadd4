#!/usr/bin/env bash
# The replay origin: every size and framing verified by the probe directly and through
# tinyproxy and microsocks; its ledger and the probe's records agree byte for byte per
# X-Probe-Id; site files route by Host; origin faults give their classes; uploads are
# verified; hostile requests get 400/431/408 and the origin keeps serving.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/peers.sh"

cat >"$T/sites" <<'SITES'
# the IOCP incident's sites
www.baidu.com   /       size=654397 framing=length
www.qq.com      /       size=123456 framing=chunked chunk=8192
www.taobao.com  /       size=230000 gzip=on
api.test        /limit  status=429 header=Retry-After:1 size=20
*               /slow*  delay=100 size=1000
SITES
start_tp origin origin --listen 127.0.0.1:0 --tls-listen 127.0.0.1:0 --ca-out "$T/ca.pem" \
	--sites "$T/sites" --ledger "$T/origin.jsonl" || { not_ok "origin starts"; finish; }
OH=$TP_HTTP OS=$TP_HTTPS
start_tinyproxy
start_microsocks
URLS=("http://127.0.0.1:$OH/bytes/1024" "http://127.0.0.1:$OH/bytes/10485760"
	"http://127.0.0.1:$OH/chunked/1000000?chunk=777" "http://127.0.0.1:$OH/gzip/500000"
	"https://localhost:$OS/bytes/3000000" "https://localhost:$OS/chunked/99999?chunk=10"
	"http://127.0.0.1:$OH/close/70000")
for via in direct tinyproxy microsocks; do
	case $via in
	direct) X=(--noproxy '*') ;;
	tinyproxy) X=(-x "http://127.0.0.1:$TINYPROXY_PORT") ;;
	microsocks) X=(-x "socks5h://127.0.0.1:$SOCKS_PORT") ;;
	esac
	"$TP_BIN" probe -q -n 2 -c 3 --timeout 10 --cacert "$T/ca.pem" "${X[@]}" \
		--json "$T/$via.json" --records "$T/$via.jsonl" "${URLS[@]}"
	expect_eq "all sizes and framings via $via" \
		"$(json "$T/$via.json" "d['requests'], d['classes'], d['classes'].get('corrupt_body', 0)")" "14 {'ok': 14} 0"
	expect_eq "every body verified via $via" "$(records "$T/$via.jsonl" "all(x['verified'] for x in r)")" "True"
done
sleep 0.2
# The origin's ledger and the probe's records agree for every id (direct, plain HTTP:
# bytes the probe sent are bytes the origin received, and what it wrote the probe read).
agree=$(python3 - "$T/direct.jsonl" "$T/origin.jsonl" <<'PY'
import json, sys
probe = [json.loads(l) for l in open(sys.argv[1])]
origin = {}
for l in open(sys.argv[2]):
    o = json.loads(l)
    if o.get('id'):
        origin[o['id']] = o
bad = [r['id'] for r in probe if r['url'].startswith('http:') and not (
    r['id'] in origin and origin[r['id']]['bytes_written'] == r['wire_received']
    and origin[r['id']]['bytes_received'] == r['bytes_sent'])]
print(len(probe), bad)
PY
)
expect_eq "origin ledger = probe records per id" "$agree" "14 []"

# Site files: Host routes, the incident's sizes, a 429 with Retry-After.
"$TP_BIN" probe -q -n 1 --cacert "$T/ca.pem" --expect-status 200,429 --records "$T/sites.jsonl" \
	--resolve "www.baidu.com:$OS:127.0.0.1" --resolve "www.qq.com:$OS:127.0.0.1" \
	--resolve "www.taobao.com:$OS:127.0.0.1" --resolve "api.test:$OH:127.0.0.1" \
	"https://www.baidu.com:$OS/" "https://www.qq.com:$OS/" "https://www.taobao.com:$OS/" "http://api.test:$OH/limit"
expect_eq "site routes by Host" \
	"$(records "$T/sites.jsonl" "[(x['class'], x['status'], x['bytes_expected']) for x in r]")" \
	"[('ok', 200, 654397), ('ok', 200, 123456), ('ok', 200, 230000), ('ok', 429, 20)]"

# Uploads: POST /sink verifies the body against its X-Tp-Seed.
"$TP_BIN" probe -q -n 2 --upload 2M --cacert "$T/ca.pem" --json "$T/up.json" \
	"http://127.0.0.1:$OH/sink" "https://localhost:$OS/sink"
sleep 0.1
expect_eq "uploads verified by the origin" \
	"$(json "$T/up.json" "d['classes']") $(grep -c '"upload":{"bytes":2097152,"verified":true}' "$T/origin.jsonl")" "{'ok': 4} 4"

# Origin faults: told apart from proxy faults by the origin's own ledger.
ofault() { # SPEC CLASS PHASE
	start_tp "of$2" origin --listen 127.0.0.1:0 --fault "$1" --ledger "$T/of$2.jsonl"
	"$TP_BIN" probe -q -n 2 --timeout 2 --records "$T/ofr$2.jsonl" "http://127.0.0.1:$TP_HTTP/bytes/100000"
	expect_eq "origin fault $1 -> $2/$3" "$(records "$T/ofr$2.jsonl" "sorted(set((x['class'], x['phase']) for x in r))")" "[('$2', '$3')]"
	# A stalled connection writes its line only at its idle timeout, after this test.
	[ "$2" = timeout ] ||
		expect_eq "origin fault $1 named in its ledger" \
			"$(records "$T/of$2.jsonl" "sorted(set(x['fault'] for x in r))")" "['${1%%:*}']"
}
ofault "truncate:after=5000" incomplete_read body
ofault "rst:after=5000" reset body
ofault "stall:after=5000" timeout body

# Hostile requests: the right status, and the origin keeps serving others.
hostile() { # NAME BYTES WANT_STATUS_LINE
	local got
	got=$(printf "$2" | timeout 15 python3 -c "
import socket,sys; s=socket.create_connection(('127.0.0.1',$OH)); s.sendall(sys.stdin.buffer.read())
d=s.recv(200); print(d.split(b'\r\n')[0].decode() if d else 'closed')")
	expect_eq "hostile: $1" "$got" "$3"
}
hostile "malformed request line" 'GARBAGE\r\n\r\n' "HTTP/1.1 400 Bad Request"
hostile "oversized head" "GET / HTTP/1.1\r\n$(python3 -c "print('X-A: ' + 'a'*20000, end='')")\r\n\r\n" "HTTP/1.1 431 Request Header Fields Too Large"
hostile "bad chunked upload" 'POST /sink HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n' "HTTP/1.1 400 Bad Request"
"$TP_BIN" probe -q -n 3 --json "$T/after.json" "http://127.0.0.1:$OH/bytes/1000"
expect_eq "still serving after hostile clients" "$(json "$T/after.json" "d['ok']")" "3"

# A bad site file: file:line, exit 2.
printf 'www.a.test / size=10\nwww.b.test / size=lots\n' >"$T/bad.sites"
"$TP_BIN" origin --sites "$T/bad.sites" 2>"$T/bad.err"
expect_eq "bad site file -> exit 2 with file:line" "$? $(grep -c "bad.sites:2:" "$T/bad.err")" "2 1"
finish
