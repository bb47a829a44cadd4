#!/usr/bin/env bash
# The reference proxy's reverse mode (`proxy --reverse ORIGIN_URL`), end to end against
# scripted and real origins: bad flags (one line, exit 2); what the origin receives
# (path kept, Host the origin's, hop-by-hop gone, Via); no CONNECT and no SOCKS5; the
# probe's bytes verified through it with keep-alive reuse of the origin leg; the rate
# limit (429 + Retry-After, then through; shared by the workers; a request with a body
# answered and the connection closed); the breaker on connect errors (503 +
# X-Circuit-Breaker without contacting the origin, one trial after the cool-down, then
# closed); /metrics agreeing with the ledger; and the ledger contract under every
# fault (received == sent + dropped on every line, every fault acting).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/peers.sh"

# origin.py PORT LOG: a keep-alive origin on PORT (0: a free one, printed) that appends
# every request head to LOG; /fail answers 500, anything else 200 "ok".
cat >"$T/origin.py" <<'PY'
import socket, sys, threading
ls = socket.socket(); ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", int(sys.argv[1]))); ls.listen(64)
print(ls.getsockname()[1], flush=True)
log = open(sys.argv[2], "ab", buffering=0)
def serve(c):
    buf = b""
    while True:
        while b"\r\n\r\n" not in buf:
            d = c.recv(65536)
            if not d:
                return
            buf += d
        h, buf = buf.split(b"\r\n\r\n", 1)
        log.write(h + b"\r\n\r\n")
        fail = h.split(b" ")[1].startswith(b"/fail")
        c.sendall(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\nfail" if fail
                  else b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
while True:
    c, _ = ls.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
# cl.py PORT STEP...: one keep-alive client (http.client); a STEP is "METHOD PATH [BODY
# BYTES]" or "sleep:SECS". Prints per response "STATUS ra=RETRY-AFTER cb=BREAKER
# close=0|1" (a new connection after a close), "error" when none came. CL_CLOSE=1: every
# request asks for Connection: close (a connection each).
cat >"$T/cl.py" <<'PY'
import http.client, os, sys, time
port = int(sys.argv[1])
new = lambda: http.client.HTTPConnection("127.0.0.1", port, timeout=10)
c = new()
for step in sys.argv[2:]:
    if step.startswith("sleep:"):
        time.sleep(float(step[6:]))
        continue
    p = step.split()
    try:
        c.request(p[0], p[1], body=b"x" * int(p[2]) if len(p) > 2 else None,
                  headers=dict({"Host": "gw.test"}, **({"Connection": "close"} if os.environ.get("CL_CLOSE") else {})))
        r = c.getresponse()
        r.read()
        print(r.status, "ra=%s" % r.getheader("Retry-After"), "cb=%s" % r.getheader("X-Circuit-Breaker"),
              "close=%d" % r.will_close)
        if r.will_close:
            c.close()
            c = new()
    except Exception as e:
        print("error", type(e).__name__)
        c.close()
        c = new()
PY
start_origin() { # PORT -> ORIGIN_PORT; heads in $T/heads.ORIGIN_PORT
	local f log
	f=$(mktemp "$T/o.XXXXXX")
	log=$(mktemp "$T/log.XXXXXX")
	python3 "$T/origin.py" "$1" "$log" >"$f" &
	_tp_pids+=($!)
	ORIGIN_PID=$!
	local i
	for ((i = 0; i < 100; i++)); do [ -s "$f" ] && break; sleep 0.05; done
	ORIGIN_PORT=$(cat "$f")
	[ -n "$ORIGIN_PORT" ] && ln -sf "$log" "$T/heads.$ORIGIN_PORT"
}
cl() { timeout 60 python3 "$T/cl.py" "$@"; }
# raw PORT BYTES: the first line of what comes back to BYTES (printf escapes), or
# "(closed)" / "(silent)" when the connection ended / nothing came within 5 s
raw() {
	timeout 10 python3 -c 'import socket,sys
s=socket.create_connection(("127.0.0.1",int(sys.argv[1]))); s.sendall(sys.argv[2].encode("latin1").decode("unicode_escape").encode("latin1"))
s.settimeout(5); d=b""; end="(closed)"
try:
    while b"\n" not in d:
        x=s.recv(4096)
        if not x: break
        d+=x
except Exception: end="(silent)"
print(d.split(b"\r\n")[0].decode("latin1") or end)' "$1" "$2"
}
# lines FILE EXPR: over the ledger lines `l`
lines() { python3 -c "import json,sys; l=[json.loads(x) for x in open(sys.argv[1]) if x.strip()]; print($2)" "$1"; }

# ---- bad usage: one line, exit 2 ----
bad_usage=(
	"--reverse https://127.0.0.1:8443|the proxy speaks no TLS"
	"--reverse http://127.0.0.1:8080/api|want http://HOST"
	"--reverse http://127.0.0.1:1 --rate-limit 50|want N/s"
	"--reverse http://127.0.0.1:1 --breaker failures=0|want failures=N"
	"--rate-limit 5/s|needs --reverse"
	"--breaker failures=2|needs --reverse"
	"--reverse http://127.0.0.1:1 --upstream http://127.0.0.1:2|--upstream"
	"--reverse http://127.0.0.1:1 --auth a:b|--auth"
	"--reverse http://127.0.0.1:1 --allow 127.0.0.1/32|--allow"
)
for row in "${bad_usage[@]}"; do
	IFS='|' read -r args want <<<"$row"
	# shellcheck disable=SC2086
	timeout 5 "$TP_BIN" proxy --listen 127.0.0.1:0 $args >"$T/bad.out" 2>"$T/bad.err"
	rc=$?
	if [ "$rc" = 2 ] && [ "$(wc -l <"$T/bad.err")" = 1 ] && grep -q -- "$want" "$T/bad.err"; then
		ok "proxy $args: exit 2, one line ($(cat "$T/bad.err"))"
	else
		not_ok "proxy $args: exit 2 and one line saying '$want'" "exit $rc: $(cat "$T/bad.err")"
	fi
done

# ---- what the origin receives; what reverse mode does not serve ----
start_origin 0 || { not_ok "scripted origin starts"; finish; }
O1=$ORIGIN_PORT
if start_tp rp proxy --listen 127.0.0.1:0 --reverse "http://127.0.0.1:$O1" --ledger "$T/rp.jsonl" \
	--run-id rev1 --handshake-timeout 1; then
	RP=$TP_PORT
	raw "$RP" 'GET /p/q?x=1 HTTP/1.1\r\nHost: gw.test\r\nConnection: keep-alive, X-Drop\r\nX-Drop: 1\r\nProxy-Connection: x\r\nX-Keep: 2\r\n\r\n' >/dev/null
	expect_eq "the origin gets the path and query, its own Host, no hop-by-hop fields, Via" \
		"$(head -c 400 "$T/heads.$O1" | tr -d '\r' | tr '\n' '|')" \
		"GET /p/q?x=1 HTTP/1.1|Host: 127.0.0.1:$O1|X-Keep: 2|Via: 1.1 tunnelprobe||"
	expect_eq "CONNECT is refused with 405 (no tunnels)" \
		"$(raw "$RP" 'CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n')" \
		"HTTP/1.1 405 Method Not Allowed"
	expect_eq "a SOCKS5 greeting is not served: no reply, closed at the handshake timeout" \
		"$(raw "$RP" '\x05\x01\x00')" "(closed)"
	expect_eq "an absolute-form request goes to the origin too (its path)" \
		"$(raw "$RP" 'GET http://elsewhere.test/abs HTTP/1.1\r\nHost: elsewhere.test\r\n\r\n')" \
		"HTTP/1.1 200 OK"
	check "... as /abs" grep -q "^GET /abs HTTP/1.1" "$T/heads.$O1"
	expect_eq "keep-alive: four requests on one client connection, one origin connection" \
		"$(cl "$RP" "GET /a" "GET /b" "GET /fail" "GET /c" | tr '\n' ' ')" \
		"200 ra=None cb=None close=0 200 ra=None cb=None close=0 500 ra=None cb=None close=0 200 ra=None cb=None close=0 "
	sleep 0.2
	expect_eq "... counted by the ledger: four lines of one tunnel, one origin address, run id" \
		"$(lines "$T/rp.jsonl" 'len(set((x["upstream_local"]) for x in l if x.get("tunnel")==l[-1]["tunnel"])), [x["status"] for x in l if x["tunnel"]==l[-1]["tunnel"]], set(x["run"] for x in l)')" \
		"1 [200, 200, 500, 200] {'rev1'}"
	kill "$TP_PID"
	wait "$TP_PID" 2>/dev/null
	expect_eq "SIGTERM: the reverse proxy drains and exits 0" "$?" 0
else
	not_ok "reverse proxy starts" "$(cat "$T/rp.err")"
fi

# ---- the rate limit ----
if start_tp rl proxy --listen 127.0.0.1:0 --reverse "http://127.0.0.1:$O1" --rate-limit 3/s \
	--ledger "$T/rl.jsonl"; then
	RL=$TP_PORT
	got=$(cl "$RL" "GET /1" "GET /2" "GET /3" "GET /4" "sleep:1.2" "GET /5" | tr '\n' ' ')
	expect_eq "3/s: three go, the fourth gets 429 with Retry-After: 1 (kept alive), after it one goes" \
		"$got" "200 ra=None cb=None close=0 200 ra=None cb=None close=0 200 ra=None cb=None close=0 429 ra=1 cb=None close=0 200 ra=None cb=None close=0 "
	got=$(cl "$RL" "GET /6" "GET /6" "GET /6" "GET /6" "GET /6" "POST /upload 5000" | tail -1)
	expect_eq "a limited request with a body: 429, and the connection ends (its body is not read)" \
		"$got" "429 ra=1 cb=None close=1"
	expect_eq "the 429s never reached the origin" "$(grep -c '^POST /upload\|^GET /4 ' "$T/heads.$O1")" 0
	sleep 0.2
	expect_eq "a 429's ledger line: no origin leg, its request dropped whole, the answer written" \
		"$(lines "$T/rl.jsonl" '[(x["upstream_peer"], x["up"]["received"] == x["up"]["dropped"] > 0, x["down"]["received"], x["down"]["wire_sent"] > 0) for x in l if x["status"] == 429][0]')" \
		"(None, True, 0, True)"
	# /metrics: the ledger's statuses so far, counted by the proxy itself.
	want=$(lines "$T/rl.jsonl" '" ".join("%d=%d" % (s, n) for s, n in sorted(__import__("collections").Counter(x["status"] for x in l if x["status"]).items()))')
	want429=$(lines "$T/rl.jsonl" 'sum(x["status"] == 429 for x in l)')
	python3 -c 'import http.client,sys
c=http.client.HTTPConnection("127.0.0.1",int(sys.argv[1]),timeout=5); c.request("GET","/metrics"); r=c.getresponse()
print(r.status, r.getheader("Content-Type")); sys.stdout.write(r.read().decode())' "$RL" >"$T/metrics.txt"
	expect_eq "/metrics: 200 as Prometheus text" "$(head -1 "$T/metrics.txt")" \
		"200 text/plain; version=0.0.4; charset=utf-8"
	expect_eq "/metrics counts by status what the ledger says" \
		"$(sed -n 's/^tunnelprobe_requests_total{code="\([0-9]*\)"} \([0-9]*\)$/\1=\2/p' "$T/metrics.txt" | tr '\n' ' ' | sed 's/ $//')" \
		"$want"
	check "/metrics: the rate limit's own counter ($want429) and the breaker's state" \
		grep -qx "tunnelprobe_rate_limited_total $want429" "$T/metrics.txt"
	expect_eq "/metrics is GET or HEAD: POST gets 405 (with a body: and the connection ends; without, not)" \
		"$(cl "$RL" "POST /metrics 3" "POST /metrics 0" | cut -d' ' -f1,4 | tr '\n' ' ')" "405 close=1 405 close=0 "
	kill "$TP_PID"
else
	not_ok "reverse proxy with --rate-limit starts" "$(cat "$T/rl.err")"
fi

# The workers share one bucket: 10 per minute, 30 requests on 30 connections over two
# threads get 10 (11 if six seconds passed) through, not 10 per worker.
if start_tp rlt proxy --listen 127.0.0.1:0 --reverse "http://127.0.0.1:$O1" -t 2 \
	--rate-limit 10/m,burst=10; then
	steps=()
	for i in $(seq 30); do steps+=("GET /t$i"); done
	n=$(CL_CLOSE=1 cl "$TP_PORT" "${steps[@]}" | grep -c '^200 ')
	check "two workers, one bucket: $n of 30 went through (10 or 11)" test "$n" -ge 10 -a "$n" -le 11
	kill "$TP_PID"
else
	not_ok "reverse proxy with -t 2 starts" "$(cat "$T/rlt.err")"
fi

# ---- the breaker on connect errors ----
P=$(free_port)
if start_tp br proxy --listen 127.0.0.1:0 --reverse "http://127.0.0.1:$P" \
	--breaker failures=2,cooldown=2 --ledger "$T/br.jsonl"; then
	BR=$TP_PORT
	expect_eq "nothing listens: 502, 502, then 503 with X-Circuit-Breaker: open and Retry-After" \
		"$(cl "$BR" "GET /1" "GET /2" "GET /3" | tr '\n' ' ')" \
		"502 ra=None cb=None close=1 502 ra=None cb=None close=1 503 ra=2 cb=open close=0 "
	start_origin "$P" || not_ok "origin on the breaker's port starts"
	expect_eq "while open the origin, now up, is not contacted" \
		"$(cl "$BR" "GET /4" | cut -d' ' -f1,3) $(cat "$T/heads.$P" 2>/dev/null | grep -c '^GET')" \
		"503 cb=open 0"
	expect_eq "after the cool-down one trial goes through and closes the breaker" \
		"$(cl "$BR" "sleep:2.1" "GET /5" "GET /6" | tr '\n' ' ')" \
		"200 ra=None cb=None close=0 200 ra=None cb=None close=0 "
	expect_eq "... the origin saw those two, nothing before" \
		"$(grep '^GET' "$T/heads.$P" | cut -d' ' -f2 | tr '\n' ' ')" "/5 /6 "
	kill "$TP_PID"
	wait "$TP_PID" 2>/dev/null
	expect_eq "the breaker's ledger: two 502 lines, two 503 lines without an origin leg, two 200" \
		"$(lines "$T/br.jsonl" '[(x["status"], x["upstream_peer"] is None) for x in l]')" \
		"[(502, True), (502, True), (503, True), (503, True), (200, False), (200, False)]"
else
	not_ok "reverse proxy with --breaker starts" "$(cat "$T/br.err")"
fi

# ---- the ledger's contract under every fault, as tests/e2e/proxy_ledger.sh for the
# other modes: real traffic of every framing, with a half-close and uploads ----
start_tp origin origin --listen 127.0.0.1:0 --ledger "$T/origin.jsonl" || { not_ok "origin starts"; finish; }
OH=$TP_HTTP
head -c 40000 /dev/zero | tr '\0' 'u' >"$T/up.bin"
fault_matrix
pids=()
for entry in "${FAULTS[@]}"; do
	name=${entry%%|*} spec=${entry#*|}
	args=(proxy --listen 127.0.0.1:0 --reverse "http://127.0.0.1:$OH" --ledger "$T/fx-$name.jsonl"
		--idle-timeout 3 --handshake-timeout 3 --rate-limit 1000/s --breaker failures=1000)
	[ -n "$spec" ] && args+=(--fault "$spec")
	start_tp "fx-$name" "${args[@]}" || { not_ok "reverse proxy with '$spec' starts" "$(cat "$T/fx-$name.err")"; continue; }
	pids+=("$TP_PID")
	G="http://127.0.0.1:$TP_PORT"
	"$TP_BIN" probe -q --timeout 2 -n 1 -c 4 --no-keepalive --half-close --records "$T/rx-$name.jsonl" \
		"$G/bytes/60000" "$G/chunked/20000?chunk=5000" "$G/close/30000" "$G/delay/200"
	"$TP_BIN" probe -q --timeout 2 -n 1 --upload 40000 --records "$T/rx-$name-up.jsonl" "$G/sink"
	curl -s -o /dev/null --max-time 3 -H 'Transfer-Encoding: chunked' --data-binary @"$T/up.bin" "$G/sink"
	curl -s -o /dev/null --max-time 3 "$G/metrics"
done
kill -TERM "${pids[@]}" 2>/dev/null
for p in "${pids[@]}"; do
	for ((i = 0; i < 100; i++)); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
done
for entry in "${FAULTS[@]}"; do
	name=${entry%%|*} spec=${entry#*|}
	[ -f "$T/fx-$name.jsonl" ] || continue
	got=$(lines "$T/fx-$name.jsonl" '"%d %d %s" % (len(l), sum(x[k]["received"] != x[k]["sent"] + x[k]["dropped"] for x in l for k in ("up", "down")), any(x["fault_acted"] for x in l) if l[0]["fault"] else "-")')
	n=${got%% *}
	rest=${got#* }
	if [ "$n" -ge 7 ] && [ "$rest" = "0 $([ -n "$spec" ] && echo True || echo -)" ]; then
		ok "reverse, ${spec:-no fault}: $n lines, received == sent + dropped on each${spec:+, the fault acted}"
	else
		not_ok "reverse, ${spec:-no fault}: every line keeps received == sent + dropped and the fault acts" "lines, bad, acted: $got"
	fi
done
expect_eq "no fault: every request ok and verified through the reverse proxy" \
	"$(cat "$T/rx-none.jsonl" "$T/rx-none-up.jsonl" | python3 -c 'import json,sys; r=[json.loads(l) for l in sys.stdin]; print(len(r), all(x["class"]=="ok" and x["verified"] for x in r))')" \
	"5 True"
finish
