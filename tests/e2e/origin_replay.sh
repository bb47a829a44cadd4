#!/usr/bin/env bash
# origin --replay: a plain-HTTP exchange recorded with tcpdump on lo (this test's own
# port) is served again byte for byte; raw response files too; bad recordings exit 2.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/peers.sh"

PATHS=(/bytes/100000 "/chunked/5000?chunk=700" /close/3000 /gzip/20000 /status/429 "/drip?bytes=4&ms=250")
if [ "$(id -u)" -eq 0 ] && command -v tcpdump >/dev/null; then
	start_tp live origin --listen 127.0.0.1:0
	LIVE=$TP_HTTP
	# record_live: the PATHS fetched from the live origin while tcpdump records them;
	# fails when the kernel dropped packets (then the recording is taken again).
	record_live() {
		rm -f "$T/rec.pcap"
		tcpdump -i lo -s 0 -B 65536 -U --immediate-mode -w "$T/rec.pcap" "tcp port $LIVE" 2>"$T/tcpdump.err" &
		local dump=$! i n=0 p last=-1 size
		_tp_pids+=("$dump")
		for ((i = 0; i < 100; i++)); do grep -q "listening on" "$T/tcpdump.err" && break; sleep 0.05; done
		for p in "${PATHS[@]}"; do
			n=$((n + 1))
			curl -s --raw -D "$T/live$n.h" -o "$T/live$n.b" "http://127.0.0.1:$LIVE$p"
		done
		# Packets reach the file as they come: stop once it stopped growing.
		for ((i = 0; i < 50; i++)); do
			sleep 0.2
			size=$(stat -c %s "$T/rec.pcap")
			[ "$size" = "$last" ] && break
			last=$size
		done
		kill -INT "$dump"
		wait "$dump" 2>/dev/null
		grep -q "^0 packets dropped by kernel" "$T/tcpdump.err"
	}
	for ((try = 0; try < 3; try++)); do record_live && break; done
	start_tp replayed origin --listen 127.0.0.1:0 --replay "$T/rec.pcap"
	REP=$TP_HTTP
	n=0
	for p in "${PATHS[@]}"; do
		n=$((n + 1))
		curl -s --raw -D "$T/rep$n.h" -o "$T/rep$n.b" "http://127.0.0.1:$REP$p"
		if cmp -s "$T/live$n.h" "$T/rep$n.h" && cmp -s "$T/live$n.b" "$T/rep$n.b"; then
			ok "replayed $p byte for byte"
		else
			not_ok "replayed $p byte for byte" "$(cmp "$T/live$n.b" "$T/rep$n.b" 2>&1 | head -1)"
		fi
	done
	# The probe verifies the replayed payloads like live ones.
	"$TP_BIN" probe -q -n 2 --json "$T/rp.json" "http://127.0.0.1:$REP/bytes/100000" "http://127.0.0.1:$REP/close/3000"
	expect_eq "probe verifies the replay" "$(json "$T/rp.json" "d['classes']")" "{'ok': 4}"
	expect_eq "unrecorded request -> 404" "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$REP/nope")" "404"
	# --replay-timing: the dripped response (one byte per 250 ms) comes in the same
	# pieces and pauses as from the live origin; without it, with no pause.
	start_tp timed origin --listen 127.0.0.1:0 --replay-timing --replay "$T/rec.pcap"
	arrivals() { # PORT: "pieces gaps>=150ms" of the drip response as read
		python3 - "$1" <<'PY'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"GET /drip?bytes=4&ms=250 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
times = []
while True:
    b = s.recv(65536)
    if not b:
        break
    times.append(time.monotonic())
print(len(times), sum(1 for a, b in zip(times, times[1:]) if b - a >= 0.15))
PY
	}
	expect_eq "timed replay keeps the recorded pauses" "$(arrivals "$TP_HTTP")" "$(arrivals "$LIVE")"
	expect_eq "untimed replay sends it at once" "$(arrivals "$REP" | cut -d' ' -f2)" "0"
	# A flow with a packet missing is left out, with a warning; the others still play.
	python3 - "$T/rec.pcap" "$T/cut.pcap" <<'PY'
import struct, sys
src = open(sys.argv[1], "rb").read()
out, pos, dropped = [src[:24]], 24, False
while pos + 16 <= len(src):
    caplen = struct.unpack_from("<I", src, pos + 8)[0]
    rec = src[pos:pos + 16 + caplen]
    pos += 16 + caplen
    if not dropped and caplen > 1000:  # the first response segment: /bytes/100000
        dropped = True
        continue
    out.append(rec)
open(sys.argv[2], "wb").write(b"".join(out))
PY
	start_tp cut origin --listen 127.0.0.1:0 --replay "$T/cut.pcap"
	expect_eq "flow with a gap left out, others served" \
		"$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$TP_HTTP/bytes/100000") $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$TP_HTTP/close/3000")" "404 200"
	expect_eq "the gap is reported" "$(grep -c '1 flow(s) with bytes missing left out' "$T/cut.err")" "1"
else
	need_root "pcap replay" && need_cmd tcpdump "pcap replay"
fi

# Raw response files, served in name order for any request.
mkdir -p "$T/raw"
printf 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst' >"$T/raw/001.http"
printf 'HTTP/1.1 503 Service Unavailable\r\nContent-Length: 6\r\nX-Circuit-Breaker: open\r\n\r\nsecond' >"$T/raw/002.http"
start_tp raw origin --listen 127.0.0.1:0 --replay "$T/raw"
got=$(for i in 1 2 3; do curl -s -w ' %{http_code}' "http://127.0.0.1:$TP_HTTP/anything"; echo; done | tr '\n' ,)
expect_eq "raw responses in name order, wrapping" "$got" "first 200,second 503,first 200,"

# An index matches by method and target.
printf 'GET /a 002.http\nGET /b 001.http\n' >"$T/raw/index"
start_tp idx origin --listen 127.0.0.1:0 --replay "$T/raw"
expect_eq "index matches method and target" \
	"$(curl -s "http://127.0.0.1:$TP_HTTP/a"; curl -s "http://127.0.0.1:$TP_HTTP/b")" "secondfirst"

# Bad recordings: one line, exit 2.
printf 'not a capture' >"$T/junk.pcap"
"$TP_BIN" origin --replay "$T/junk.pcap" 2>"$T/junk.err"
expect_eq "junk file -> exit 2, one line" "$? $(wc -l <"$T/junk.err")" "2 1"
mkdir -p "$T/badraw" && printf 'garbage\r\n\r\n' >"$T/badraw/001.http"
"$TP_BIN" origin --replay "$T/badraw" 2>"$T/badraw.err"
expect_eq "bad raw response -> exit 2 naming the file" "$? $(grep -c '001.http' "$T/badraw.err")" "2 1"
finish
