#!/usr/bin/env bash
# The reference proxy's SOCKS5 handshake with real clients: username/password (RFC 1929)
# with curl, the probe and a chained reference proxy, the protocol chosen once per
# connection (an auth message in a read of its own is still SOCKS), and hostile
# handshakes answered at once: NMETHODS 0, HTTP after a greeting, a SOCKS4 request
# after a SOCKS5 greeting. Every ledger line keeps received == sent + dropped.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/peers.sh"

start_tp origin origin --listen 127.0.0.1:0 --ledger "$T/origin.jsonl" || { not_ok "origin starts"; finish; }
OH=$TP_HTTP
start_tp auth proxy --listen 127.0.0.1:0 --auth 'u:p w' --ledger "$T/auth.jsonl" --handshake-timeout 3
AP=$TP_PORT
URL="http://127.0.0.1:$OH/bytes/100000"

# curl sends the greeting, waits for the method choice, then the RFC 1929 request in a
# write of its own: the proxy must read it as SOCKS, not as the start of HTTP.
got=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' --max-time 5 \
	-x "socks5://u:p%20w@127.0.0.1:$AP" "$URL")
expect_eq "curl socks5://u:p@ through --auth" "$got" "200 100000"
got=$(curl -s -o /dev/null -w '%{http_code} %{size_download}' --max-time 5 \
	-x "socks5h://u:p%20w@127.0.0.1:$AP" "$URL")
expect_eq "curl socks5h://u:p@ through --auth" "$got" "200 100000"
got=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -x "socks5h://u:nope@127.0.0.1:$AP" "$URL")
expect_eq "curl with a wrong password is refused, not left hanging" "$got" "000"

"$TP_BIN" probe -q -n 3 --timeout 5 -x "socks5://u:p%20w@127.0.0.1:$AP" --json "$T/probe.json" "$URL"
expect_eq "the probe through socks5://u:p@" "$(json "$T/probe.json" "d['classes']")" "{'ok': 3}"

# Chaining: a reference proxy whose upstream is the authenticating one.
start_tp chain proxy --listen 127.0.0.1:0 --upstream "socks5://u:p%20w@127.0.0.1:$AP" --ledger "$T/chain.jsonl"
"$TP_BIN" probe -q -n 2 --timeout 5 -x "http://127.0.0.1:$TP_PORT" --json "$T/chain.json" "$URL"
"$TP_BIN" probe -q -n 2 --timeout 5 -p -x "http://127.0.0.1:$TP_PORT" --json "$T/chainp.json" "$URL"
expect_eq "chained through --upstream socks5://u:p@ (forward, CONNECT)" \
	"$(json "$T/chain.json" "d['classes']") $(json "$T/chainp.json" "d['classes']")" "{'ok': 2} {'ok': 2}"

# Hostile handshakes: a script sends MSG (python bytes literal), reads what comes back
# until the proxy closes, and prints it in hex with the seconds it took.
hs() { # PORT MSG [MSG2 after the first reply]
	timeout 10 python3 - "$@" <<'PY'
import socket, sys, time
port, msgs = int(sys.argv[1]), [eval(m) for m in sys.argv[2:]]
s = socket.create_connection(("127.0.0.1", port))
t0, got = time.time(), b""
for i, m in enumerate(msgs):
    s.sendall(m)
    if i + 1 < len(msgs):
        got += s.recv(2)
s.settimeout(8)
try:
    while True:
        d = s.recv(4096)
        if not d:
            break
        got += d
except OSError as e:
    got += b"<%s>" % type(e).__name__.encode()
print(got.hex() or "closed", int(time.time() - t0 < 2))
PY
}
start_tp open proxy --listen 127.0.0.1:0 --ledger "$T/open.jsonl" --handshake-timeout 5
OP=$TP_PORT
expect_eq "NMETHODS 0 gets 05 ff at once" "$(hs "$OP" 'b"\x05\x00"')" "05ff 1"
expect_eq "a greeting then HTTP is closed at once, not served" \
	"$(hs "$OP" 'b"\x05\x01\x00"' "b'GET http://127.0.0.1:$OH/bytes/10 HTTP/1.1\r\nHost: x\r\n\r\n'")" "0500 1"
expect_eq "a SOCKS4 request after a SOCKS5 greeting is refused at once" \
	"$(hs "$OP" 'b"\x05\x01\x00"' 'b"\x04\x01\x00\x50\x7f\x00\x00\x01\x00"')" "050005010001000000000000 1"
expect_eq "user/pass offered when the proxy wants none: no auth chosen" \
	"$(hs "$OP" 'b"\x05\x01\x02"')" "05ff 1"
expect_eq "an auth message split over two writes still authenticates" \
	"$(hs "$AP" 'b"\x05\x01\x02"' 'b"\x01\x01u\x03p w"')" "05020100 0"

sleep 0.3
inv=$(python3 - "$T"/auth.jsonl "$T"/chain.jsonl "$T"/open.jsonl <<'PY'
import json, sys
bad = []
for f in sys.argv[1:]:
    for l in open(f):
        x = json.loads(l)
        for d in ("down", "up"):
            if x[d]["received"] != x[d]["sent"] + x[d]["dropped"]:
                bad.append((x["kind"], d, x[d]))
print(bad)
PY
)
expect_eq "received == sent + dropped on every SOCKS5 ledger line" "$inv" "[]"
expect_eq "each hostile handshake has its ledger line (the SOCKS4 one with reply 1)" \
	"$(records "$T/open.jsonl" "len(r), sorted(x['reply'] for x in r if x['reply'] is not None)")" "4 [1]"
finish
