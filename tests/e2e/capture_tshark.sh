#!/usr/bin/env bash
# Cross-check with tshark (when installed): for every flow and direction, the TCP
# payload bytes on the wire, and which directions carried a FIN or a RST, agree between
# `tunnelprobe capture` and tshark's own dissection — on the hand-made captures and on
# one captured live here (probe → origin on lo).
. "$(dirname "$0")/lib.sh"

need_cmd tshark "capture_tshark" || finish

compare() { # FILE: prints "agree N" or the differences
	local f=$1
	"$TP_BIN" capture -r "$f" --no-checksum --json "$T/c.json" -q >/dev/null 2>&1
	tshark -r "$f" -o tcp.analyze_sequence_numbers:FALSE -T fields -E separator=, \
		-e ip.src -e ipv6.src -e tcp.srcport -e ip.dst -e ipv6.dst -e tcp.dstport \
		-e tcp.len -e tcp.flags.fin -e tcp.flags.reset tcp 2>/dev/null >"$T/t.csv"
	python3 - "$T/c.json" "$T/t.csv" <<'PY'
import json, sys, collections
doc = json.load(open(sys.argv[1]))
def norm(ip, port):
    return ("[%s]:%s" % (ip, port)) if ":" in ip else "%s:%s" % (ip, port)
ts = collections.defaultdict(lambda: [0, 0, 0])
for line in open(sys.argv[2]):
    s4, s6, sp, d4, d6, dp, ln, fin, rst = line.rstrip("\n").split(",")
    k = (norm(s4 or s6, sp), norm(d4 or d6, dp))
    ts[k][0] += int(ln or 0)
    ts[k][1] |= fin in ("1", "True")
    ts[k][2] |= rst in ("1", "True")
ours = {}
for f in doc["flows"]:
    for key, d in (((f["orig"], f["resp"]), f["orig_to_resp"]), ((f["resp"], f["orig"]), f["resp_to_orig"])):
        ours[key] = [d["payload_on_wire"], int(d["fin"] is not None), int(d["rst"] is not None)]
bad = []
for k in set(ts) | set(ours):
    a, b = ours.get(k, [0, 0, 0]), ts.get(k, [0, 0, 0])
    if a != b:
        bad.append("%s->%s ours %s tshark %s" % (k[0], k[1], a, b))
print("agree %d" % len(ours) if not bad else "\n".join(bad))
PY
}

for f in wrap.pcap retrans_differs.pcap ooo.pcap midstream.pcap sll2_v6.pcap null_v4v6.pcap \
	states.pcap rst.pcap tls_close.pcap tunnels.pcap snaplen96.pcap v6.pcapng; do
	got=$(compare "$TP_ROOT/tests/data/pcap/$f")
	case "$got" in
	agree*) ok "tshark agrees on $f (${got#agree } directions)" ;;
	*) not_ok "tshark agrees on $f" "$got" ;;
	esac
done

if [ "$(id -u)" -eq 0 ]; then
	"$TP_BIN" origin --listen 127.0.0.1:0 >"$T/origin.out" 2>&1 &
	_tp_pids+=($!)
	for _ in $(seq 100); do grep -q 'listening http' "$T/origin.out" 2>/dev/null && break; sleep 0.05; done
	port=$(awk '/listening http/{print $3}' "$T/origin.out" | sed 's/.*://')
	"$TP_BIN" capture -i lo -p "$port" -d 20 -w "$T/live.pcapng" -q 2>"$T/cap.err" &
	cpid=$!
	_tp_pids+=($cpid)
	for _ in $(seq 100); do grep -q 'listening on lo' "$T/cap.err" && break; sleep 0.05; done
	"$TP_BIN" probe -n 20 -c 4 "http://127.0.0.1:$port/bytes/70000" "http://127.0.0.1:$port/close/5000" \
		>"$T/probe.out" 2>&1
	sleep 0.3
	kill -INT "$cpid"
	for _ in $(seq 100); do kill -0 "$cpid" 2>/dev/null || break; sleep 0.05; done
	got=$(compare "$T/live.pcapng")
	case "$got" in
	agree*) ok "tshark agrees on a live capture (${got#agree } directions)" ;;
	*) not_ok "tshark agrees on a live capture" "$got" ;;
	esac
fi
finish
