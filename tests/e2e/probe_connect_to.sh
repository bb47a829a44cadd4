#!/usr/bin/env bash
# --connect-to through real proxies (squid, tinyproxy, microsocks) to our origin with
# site names that do not resolve here (www.baidu.com, www.qq.com, api.test): the proxy
# is asked for 127.0.0.1:PORT (absolute-URI, CONNECT, SOCKS5 address), while Host, SNI
# and certificate verification keep the name. Every request ok and verified, with the
# origin's generated CA. Then the exact bytes a proxy is sent, read by a one-shot peer.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/peers.sh"

start_tp origin origin --listen 127.0.0.1:0 --tls-listen 127.0.0.1:0 --ca-out "$T/origin-ca.pem" \
	--ledger "$T/origin.jsonl" || { not_ok "origin starts"; finish; }
H=$TP_HTTP S=$TP_HTTPS
need_cmd squid "connect-to through squid" && { start_squid || not_ok "squid starts"; }
need_cmd tinyproxy "connect-to through tinyproxy" && { start_tinyproxy || not_ok "tinyproxy starts"; }
need_cmd microsocks "connect-to through microsocks" && { start_microsocks || not_ok "microsocks starts"; }

URLS=("http://www.baidu.com/bytes/100000" "https://www.baidu.com/bytes/100000"
	"https://www.qq.com/chunked/123456" "http://api.test/gzip/50000" "https://api.test/gzip/50000")
# Nothing here resolves these names: a request that ignored --connect-to fails.
run_probe() { # NAME ARGS...
	local name=$1
	shift
	timeout 60 "$TP_BIN" probe -q -n 2 -c 2 --timeout 10 --compressed --cacert "$T/origin-ca.pem" \
		--connect-to ":80:127.0.0.1:$H" --connect-to ":443:127.0.0.1:$S" --run-id "ct-$name" \
		--json "$T/$name.json" --records "$T/$name.jsonl" "$@" "${URLS[@]}"
	local rc=$?
	expect_eq "$name: 10 requests ok, all verified (exit $rc)" \
		"$rc $(json "$T/$name.json" "d['requests'], d['ok'], d['verified'], d['unverified'], d['run_id']")" \
		"0 10 10 10 0 ct-$name"
	[ "$rc" -eq 0 ] || records "$T/$name.jsonl" "[(x['url'], x['class'], x['detail']) for x in r if x['class'] != 'ok'][:3]"
	expect_eq "$name: records carry the run id" "$(records "$T/$name.jsonl" "sorted(set(x['run'] for x in r))")" "['ct-$name']"
}

run_probe direct --noproxy '*'
[ -n "${SQUID_PORT:-}" ] && run_probe squid -x "http://127.0.0.1:$SQUID_PORT"
if [ -n "${TINYPROXY_PORT:-}" ]; then
	run_probe tinyproxy -x "http://127.0.0.1:$TINYPROXY_PORT"
	run_probe tinyproxy-connect -p -x "http://127.0.0.1:$TINYPROXY_PORT"
fi
if [ -n "${SOCKS_PORT:-}" ]; then
	run_probe socks5 -x "socks5://127.0.0.1:$SOCKS_PORT"
	run_probe socks5h -x "socks5h://127.0.0.1:$SOCKS_PORT"
fi
# The origin saw the site names (SNI made its leaf for www.qq.com; the Host header).
expect_eq "origin: every request of the direct run logged with its probe id" \
	"$(records "$T/origin.jsonl" "len([x for x in r if (x.get('id') or '').startswith(tuple(set(y['id'].split('-')[0] for y in [__import__('json').loads(l) for l in open('$T/direct.jsonl')])))])")" 10

# Exact bytes: a one-shot peer records what it is sent, then refuses.
capture_peer() { # KIND OUTFILE -> prints the port
	python3 - "$1" "$2" <<'PY' &
import socket, sys
kind, out = sys.argv[1], sys.argv[2]
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True)
s.settimeout(20)
c, _ = s.accept(); c.settimeout(10)
data = b""
if kind == "connect":
    while b"\r\n\r\n" not in data and len(data) < 65536:
        d = c.recv(4096)
        if not d: break
        data += d
    c.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
else:  # socks5: greeting, then the request
    data = c.recv(3)
    c.sendall(b"\x05\x00")
    data = c.recv(512)
    c.sendall(b"\x05\x02\x00\x01\x00\x00\x00\x00\x00\x00")
open(out, "wb").write(data)
c.close()
PY
	echo $! >>"$T/pids"
}
port=$(capture_peer connect "$T/connect.bin" | head -1)
"$TP_BIN" probe -q -n 1 --timeout 5 --cacert "$T/origin-ca.pem" -x "http://127.0.0.1:$port" \
	--connect-to "www.baidu.com:443:127.0.0.1:$S" --records "$T/c.jsonl" https://www.baidu.com/
id=$(records "$T/c.jsonl" "r[0]['id']")
expect_eq "CONNECT asks for the address, names the request" \
	"$(python3 -c "import sys; h=open(sys.argv[1],'rb').read().decode(); print(h.split('\r\n')[0], '|', [l for l in h.split('\r\n') if l.startswith(('Host:','X-Probe-Id:'))])" "$T/connect.bin")" \
	"CONNECT 127.0.0.1:$S HTTP/1.1 | ['Host: 127.0.0.1:$S', 'X-Probe-Id: $id']"
expect_eq "refused CONNECT -> proxy_refused" "$(records "$T/c.jsonl" "r[0]['class']")" proxy_refused
expect_eq "id is PREFIX-TARGET-SEQ" "$(records "$T/c.jsonl" "len(r[0]['id'].split('-')) == 3 and r[0]['id'].endswith('-0-0')")" True

port=$(capture_peer socks "$T/socks.bin" | head -1)
"$TP_BIN" probe -q -n 1 --timeout 5 -x "socks5h://127.0.0.1:$port" \
	--connect-to "api.test:80:127.0.0.1:$H" --records "$T/s.jsonl" http://api.test/
expect_eq "SOCKS5 asks for the IPv4 address (ATYP 1), not the name" \
	"$(python3 -c "import sys; b=open(sys.argv[1],'rb').read(); print(b[:4].hex(), '.'.join(str(x) for x in b[4:8]), int.from_bytes(b[8:10],'big'))" "$T/socks.bin")" \
	"05010001 127.0.0.1 $H"
finish
