#!/usr/bin/env bash
# capture vs tshark/dumpcap on loopback (needs root: live capture).
#   1. live: wrk (64 KiB responses, c=50) against the replay origin on lo, alone, then
#      with `tunnelprobe capture` (default snaplen) and with dumpcap (full packets and
#      -s 128) capturing it: wrk's rate and each capturer's drops.
#   2. offline: one full-payload file of that load (tcpdump -s 0 with a big buffer),
#      analysed by tshark -q -z conv,tcp (with and without HTTP dissection) and by
#      `tunnelprobe capture -r`: MB/s of file, packets/s, peak RSS.
# Prints ratios; never a pass/fail. SECS=5 by default; results go to stdout (copy them
# into bench/RESULTS.md).
set -u
cd "$(dirname "$0")/.."
BIN=${TP_BIN:-$PWD/build/tunnelprobe}
SECS=${SECS:-5}
T=$(mktemp -d /tmp/tp-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
[ "$(id -u)" -eq 0 ] || { echo "capture-vs-tshark: needs root for live capture"; exit 0; }
for t in wrk tshark dumpcap tcpdump; do
	command -v $t >/dev/null || { echo "capture-vs-tshark: $t missing"; exit 0; }
done

"$BIN" origin --listen 127.0.0.1:0 >"$T/origin.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q 'listening http' "$T/origin.out" && break; sleep 0.05; done
port=$(awk '/listening http/{print $3}' "$T/origin.out" | sed 's/.*://')
url="http://127.0.0.1:$port/bytes/65536"

wrk_rate() { wrk -t2 -c50 -d"${SECS}s" "$url" 2>/dev/null | awk '/Requests\/sec/{print $2}'; }
wait_line() { for _ in $(seq 100); do grep -q "$2" "$1" 2>/dev/null && return; sleep 0.05; done; }

echo "== live capture under wrk -c50, 64 KiB responses, ${SECS}s each"
base=$(wrk_rate)
echo "wrk alone: $base req/s"

"$BIN" capture -i lo -p "$port" --json "$T/live.json" -q 2>"$T/cap.err" &
cpid=$!
wait_line "$T/cap.err" "listening on lo"
rate=$(wrk_rate)
kill -INT $cpid; wait $cpid 2>/dev/null
drops=$(python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["pcap_stats"]; print("%d of %d" % (s["dropped"], s["received"]))' "$T/live.json")
echo "tunnelprobe capture (snaplen 256): wrk $rate req/s ($(python3 -c "print('%.0f%%' % (100*$rate/$base))") of alone), drops $drops"

for snap in 0 128; do
	dumpcap -q -i lo -f "tcp port $port" -s $snap -w "$T/d$snap.pcapng" 2>"$T/dumpcap$snap.err" &
	dpid=$!
	sleep 1
	rate=$(wrk_rate)
	kill -INT $dpid; wait $dpid 2>/dev/null
	d=$(grep -Eo 'Packets received/dropped on interface.*' "$T/dumpcap$snap.err" | tail -1)
	echo "dumpcap -s $snap: wrk $rate req/s ($(python3 -c "print('%.0f%%' % (100*$rate/$base))") of alone); $d"
	rm -f "$T/d$snap.pcapng"
done

echo "== offline analysis of one full-payload capture"
tcpdump -q -i lo -s 0 -B 262144 -w "$T/full.pcap" "tcp port $port" 2>"$T/tcpdump.err" &
tpid=$!
sleep 1
SECS=2 wrk_rate >/dev/null
sleep 0.5
kill -INT $tpid; wait $tpid 2>/dev/null
size=$(stat -c %s "$T/full.pcap")
pkts=$(tshark -r "$T/full.pcap" -T fields -e frame.number 2>/dev/null | tail -1)
echo "file: $((size / 1048576)) MiB, $pkts packets ($(grep -Eo '[0-9]+ packets dropped by kernel' "$T/tcpdump.err"))"
cat "$T/full.pcap" >/dev/null # warm the page cache for every reader alike

measure() { # NAME CMD...: prints MB/s, packets/s, peak RSS
	local name=$1; shift
	/usr/bin/time -f "%e %M" -o "$T/time" "$@" >/dev/null 2>&1
	read -r secs rss < <(tail -n 1 "$T/time")
	python3 - "$name" "$secs" "$rss" "$size" "$pkts" <<'PY'
import sys
name, secs, rss, size, pkts = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
secs = max(secs, 0.01)
print("%-44s %7.2f s %9.0f MB/s %10.0f packets/s %7.0f MB RSS" % (name, secs, size / secs / 1e6, pkts / secs, rss / 1024))
PY
	echo "$secs" >"$T/secs.$name"
}
measure "tshark -q -z conv,tcp" tshark -r "$T/full.pcap" -q -z conv,tcp
measure "tshark -q -z conv,tcp --disable-protocol http" tshark -r "$T/full.pcap" -q -z conv,tcp --disable-protocol http
measure "tunnelprobe capture -r (full analysis)" "$BIN" capture -r "$T/full.pcap" -q --json "$T/off.json"
measure "tunnelprobe capture -r --no-checksum" "$BIN" capture -r "$T/full.pcap" -q --no-checksum --json "$T/off2.json"
python3 - "$T" <<'PY'
import sys, os
t = sys.argv[1]
def s(n): return float(open(os.path.join(t, "secs." + n)).read())
fast = s("tshark -q -z conv,tcp --disable-protocol http")
for n in ("tunnelprobe capture -r (full analysis)", "tunnelprobe capture -r --no-checksum"):
    print("%s: %.1fx tshark's fastest configuration" % (n, fast / max(s(n), 0.01)))
PY
