#!/usr/bin/env bash
# capture and QUIC: a live capture on lo while gtlsclient fetches over HTTP/3 from
# `origin --quic-listen` — each connection is one QUIC flow whose datagrams (the origin's
# GSO sends split back into them) and bytes per direction are exactly what the origin's
# ledger counted on its socket, with the
# connection IDs the ledger names, the SNI, and the Initials decrypted; packets dropped
# by gtlsclient (-t) are on the wire and so in the capture; a version the origin does not
# speak gets Version Negotiation, flagged; the saved pcapng read offline agrees; an
# HTTP/3 record naming the client's address (as `probe --http3` writes them) is joined
# to its QUIC flow. Live capture needs root (else skipped).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/peers.sh"

need_root "capture quic: live capture on lo" || finish
need_cmd gtlsclient "capture quic: gtlsclient" || finish

lines() { python3 -c "import json,sys; r=[json.loads(l) for l in open(sys.argv[1]) if l.strip()]
$2" "$1"; }
cap() { python3 -c "import json,sys; d=json.load(open(sys.argv[1]))
$2" "$1"; }

start_tp origin origin --quic-listen 127.0.0.1:0 --ledger "$T/origin.jsonl" --run-id capq ||
	{ not_ok "origin starts"; finish; }
Q=$TP_QUIC
# --snaplen 65535: whole frames — the Initials can be decrypted, and the origin's GSO
# sends (one frame of many datagrams on lo) can be split into their datagrams.
"$TP_BIN" capture --iface lo -s 65535 --ports "$Q" --run-id capq -w "$T/live.pcapng" \
	--json "$T/live.json" -q "$T/origin.jsonl" "$T/probe.jsonl" 2>"$T/cap.err" &
CAP=$!
_tp_pids+=("$CAP")
for ((i = 0; i < 200; i++)); do grep -q "listening on lo" "$T/cap.err" 2>/dev/null && break; sleep 0.05; done
grep -q "listening on lo" "$T/cap.err" || { not_ok "capture starts" "$(cat "$T/cap.err")"; finish; }

mkdir -p "$T/dl"
for what in "1048576" "1048577 -t 0.05" "65536"; do
	set -- $what
	size=$1
	shift
	timeout 30 gtlsclient -q --timeout=1s "$@" --download="$T/dl" 127.0.0.1 "$Q" \
		"https://localhost:$Q/bytes/$size" >/dev/null 2>&1
done
timeout 5 gtlsclient -q -v 0x1a2a3a4a --handshake-timeout=1s --download="$T/dl" 127.0.0.1 "$Q" \
	"https://localhost:$Q/bytes/10" >/dev/null 2>&1
sleep 1.2 # the origin's connections idle out and write their lines
# The client address of the first connection, as probe --http3 records it (`local`).
client=$(lines "$T/origin.jsonl" "print([x['peer'] for x in r if x.get('target') == '/bytes/1048576'][0])")
printf '{"id":"capq-0-0","proto":"h3","url":"https://localhost:%s/bytes/1048576","class":"ok","phase":"done","detail":"","status":200,"bytes_expected":1048576,"bytes_received":1048576,"bytes_sent":60,"wire_received":1048576,"local":"%s","remote":"127.0.0.1:%s","run":"capq","latency_ms":50,"t":%s}\n' \
	"$Q" "$client" "$Q" "$(lines "$T/origin.jsonl" "print([x['t'] for x in r if x.get('target') == '/bytes/1048576'][0])")" >"$T/probe.jsonl"
kill -INT "$CAP"
wait "$CAP"
expect_eq "capture ends (exit 0 or 1: verdicts)" "$([ $? -le 1 ] && echo yes)" yes

# Per connection: the capture's counts against the origin's own.
cmp_flows() { # JSON: "n_ok n_total" — flows whose counts equal the origin's ledger
	python3 - "$1" "$T/origin.jsonl" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
conns = {l['peer']: l for l in map(json.loads, open(sys.argv[2])) if l.get('stream') is None and l.get('alpn')}
flows = {f['client']: f for f in d['quic_flows']}
good = 0
for peer, c in conns.items():
    f = flows.get(peer)
    q = c['quic_conn']
    if f and (f['server_to_client']['datagrams'], f['server_to_client']['bytes'],
              f['client_to_server']['datagrams'], f['client_to_server']['bytes'],
              f['server_cid'], f['client_cid'], f['original_dcid']) == \
             (q['datagrams_sent'], q['udp_bytes_sent'], q['datagrams_received'], q['udp_bytes_received'],
              c['server_cid'], c['client_cid'], c['original_dcid']):
        good += 1
    elif f:
        print(peer, f['server_to_client'], f['client_to_server'], q, file=sys.stderr)
print(good, len(conns))
PY
}
expect_eq "3 connections: datagrams (GSO frames split) and bytes each way and the connection IDs equal the origin's ledger" \
	"$(cmp_flows "$T/live.json")" "3 3"
expect_eq "the 1 MiB downloads came in GSO frames, split" \
	"$(cap "$T/live.json" "print(sum(f['server_to_client']['gso_frames'] > 0 for f in d['quic_flows'] if f['server_to_client']['bytes'] > 1000000))")" 2
# gtlsclient sends SNI "localhost" when its HOST is an address (tshark reads the same).
expect_eq "Initials decrypted both ways, SNI read, no undecodable datagram" \
	"$(cap "$T/live.json" "f=[x for x in d['quic_flows'] if x['client'] == '$client'][0]; print(f['client_to_server']['initials']['opened'] > 0, f['server_to_client']['initials']['opened'] > 0, f['sni'], f['client_to_server']['undecodable'] + f['server_to_client']['undecodable'], f['flags'])")" \
	"True True localhost 0 []"
# gtlsclient -t drops packets after the socket: they were never sent, so they are in
# neither count; its -r drops after receiving, so those are on the wire and counted.
expect_eq "version 0x1a2a3a4a: Version Negotiation flagged, no connection at the origin" \
	"$(cap "$T/live.json" "f=[x for x in d['quic_flows'] if 'version_negotiation' in x['flags']]; print(len(f), f[0]['version'] if f else None, f[0]['server_to_client']['packets'] if f else None)")" \
	"1 0x1a2a3a4a {'version_negotiation': 1}"
expect_eq "the HTTP/3 record is joined to its QUIC flow by its local address" \
	"$(cap "$T/live.json" "t=[x for x in d['tunnels'] if x['id'] == 'capq-0-0']; print(t[0]['quic_flow']['client'] if t and t[0]['quic_flow'] else None)")" \
	"$client"
expect_eq "input counts UDP frames and QUIC flows; schema /4" \
	"$(cap "$T/live.json" "print(d['schema'], d['input']['udp_frames'] > 100, d['input']['quic_flows'], d['input']['skipped'].get('bad_udp', 0))")" \
	"tunnelprobe.capture/4 True 4 0"

# The saved frames read offline say the same.
"$TP_BIN" capture -q --read "$T/live.pcapng" --json "$T/off.json" >/dev/null 2>&1
expect_eq "the saved pcapng read offline: the same QUIC flows and counts" \
	"$(cap "$T/off.json" "print(sorted((f['client'], f['client_to_server']['datagrams'], f['server_to_client']['bytes']) for f in d['quic_flows']))")" \
	"$(cap "$T/live.json" "print(sorted((f['client'], f['client_to_server']['datagrams'], f['server_to_client']['bytes']) for f in d['quic_flows']))")"
"$TP_BIN" capture --read "$T/live.pcapng" >"$T/summary.txt" 2>&1
expect_eq "summary: a quic line and the flagged flow" \
	"$(grep -c '^quic: 4 flows' "$T/summary.txt") $(grep -c 'version negotiation' "$T/summary.txt")" "1 1"
finish
