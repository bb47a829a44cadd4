#!/usr/bin/env bash
# Our probe against our origin over HTTP/3 (probe --http3-only, origin --quic-listen),
# both sides' accounts compared:
#   - bodies 0 B to 10 MiB, generated, gzip and chunked (plain DATA over HTTP/3), many
#     streams on a few connections: every body verified, records with proto h3;
#   - every probe record has its origin ledger line (same X-Probe-Id and run id), the
#     origin's body bytes = the probe's, and its stream FIN sent;
#     the probe closes its connections with CONNECTION_CLOSE when done (the origin
#     writes a connection's last lines when it ends: not 30 s later, at its idle timeout);
#   - an upload to /sink: the origin received every byte the probe sent;
#   - the origin's stream faults as the probe classifies them: truncate → incomplete_read,
#     rst → reset naming RESET_STREAM's code, stall → timeout in phase body;
#   - --http3 (with fallback) to a port where nothing answers QUIC falls back to TCP+TLS
#     and says so; --http3-only gives connect_error instead.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/peers.sh"

expect_match() { # NAME GOT REGEX
	if [[ $2 =~ $3 ]]; then ok "$1"; else not_ok "$1" "got '$2'"; fi
}

start_tp origin origin --quic-listen 127.0.0.1:0 --listen 127.0.0.1:0 --tls-listen 127.0.0.1:0 \
	--ledger "$T/origin.jsonl" --ca-out "$T/ca.pem" --run-id h3run ||
	{ not_ok "origin --quic-listen starts" "$(cat "$T/origin.err")"; finish; }
Q=$TP_QUIC S=$TP_HTTPS
H=www.example.test
probe() { timeout 60 "$TP_BIN" probe --cacert "$T/ca.pem" --resolve "$H:$Q:127.0.0.1" "$@"; }

# ---- many streams, every body verified, both accounts ----
urls=()
for p in /bytes/0 /bytes/1024 /bytes/1048576 /gzip/20000 /chunked/70000 /bytes/10485760; do
	urls+=("https://$H:$Q$p")
done
probe --http3-only -n 6 -c 2 --streams 4 --run-id h3run --records "$T/rec.jsonl" \
	--json "$T/run.json" "${urls[@]}" >"$T/probe.out" 2>&1
expect_eq "36 requests over HTTP/3, all ok (exit 0)" "$?" "0"
expect_eq "every record: proto h3, ok, verified" \
	"$(records "$T/rec.jsonl" "len(r), all(x['proto'] == 'h3' and x['class'] == 'ok' and x['verified'] for x in r)")" \
	"36 True"
expect_eq "the run file counts them (requests, ok, verified)" \
	"$(json "$T/run.json" "d['requests'], d['ok'], d['verified']")" "36 36 36"
sleep 0.3 # the ledger line is written when the stream is done on the origin's side
check_ledger() { python3 - "$T/rec.jsonl" "$T/origin.jsonl" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
led = {}
for l in open(sys.argv[2]):
    if l.strip():
        x = json.loads(l)
        if x.get('id'):
            led[x['id']] = x
bad = []
for r in recs:
    o = led.get(r['id'])
    if not o:
        bad.append(r['id'] + ': no origin line'); continue
    if o.get('run') != 'h3run' or o.get('proto') != 'h3':
        bad.append(r['id'] + ': run/proto ' + str((o.get('run'), o.get('proto'))))
    if not r['url'].endswith(o['target']):
        bad.append(r['id'] + ': target ' + o['target'])
    # gzip: the origin counts the payload it made, the probe the decoded bytes
    if o['body_bytes'] != r['bytes_received']:
        bad.append('%s: origin body %d, probe %d' % (r['id'], o['body_bytes'], r['bytes_received']))
    # FIN acknowledged too, except maybe a connection's last streams: the probe closes
    # once it has read everything, and its last ACK may not have left (the ledger says so)
    if not o['fin_sent']:
        bad.append(r['id'] + ': FIN not sent')
print('%d matched' % (len(recs) - len(bad)) if not bad else '; '.join(bad[:5]))
EOF
}
expect_eq "each record has its origin ledger line: id, run, body bytes, FIN sent" \
	"$(check_ledger)" "36 matched"
expect_eq "the probe ended its connections politely: CONNECTION_CLOSE H3_NO_ERROR, at once (not the origin's idle timeout)" \
	"$(records "$T/origin.jsonl" "sorted({(x['quic_conn']['close']['reason'], x['quic_conn']['close']['name']) for x in r if x.get('stream', 0) is None and x.get('quic_conn') and x.get('requests', 0) > 0})")" \
	"[('peer', 'H3_NO_ERROR')]"

# ---- upload ----
probe --http3-only -n 3 --upload 300000 "https://$H:$Q/sink" --records "$T/up.jsonl" >/dev/null 2>&1
expect_eq "uploads over HTTP/3: ok, the probe sent the body" \
	"$(records "$T/up.jsonl" "[(x['class'], x['bytes_sent'] >= 300000) for x in r]")" \
	"[('ok', True), ('ok', True), ('ok', True)]"
expect_eq "the origin received each upload whole" \
	"$(python3 -c "import json,sys
ids={json.loads(l)['id'] for l in open(sys.argv[1])}
print(sorted(x['bytes_received'] >= 300000 for x in map(json.loads, open(sys.argv[2])) if x.get('id') in ids))" \
		"$T/up.jsonl" "$T/origin.jsonl")" "[True, True, True]"

# ---- the origin's faults on streams, as the probe names them ----
fault_origin() { # NAME SPEC: an origin (its own CA) with that fault; sets FQ
	start_tp "$1" origin --quic-listen 127.0.0.1:0 --fault "$2" --ca-out "$T/ca-$1.pem"
	FQ=$TP_QUIC
}
fault_probe() { # NAME: one request for 100000 bytes, its record's class/phase/detail
	timeout 60 "$TP_BIN" probe --http3-only --cacert "$T/ca-$1.pem" --resolve "$H:$FQ:127.0.0.1" --timeout 2 \
		-n 1 "https://$H:$FQ/bytes/100000" --records "$T/$1.jsonl" >/dev/null 2>&1
	records "$T/$1.jsonl" "r[0]['class'], r[0]['phase'], r[0]['bytes_received'], r[0]['detail']"
}
fault_origin trunc truncate:after=5000
out=$(fault_probe trunc)
expect_match "origin truncate:after=5000 (early FIN) → incomplete_read in body after 5000 bytes" \
	"$out" "^incomplete_read body 5000 "
fault_origin rst rst:after=5000
out=$(fault_probe rst)
expect_match "origin rst:after=5000 → reset in body, RESET_STREAM's code in the detail" \
	"$out" "^reset body 5000 .*0x102"
fault_origin stall stall:after=5000
out=$(fault_probe stall)
expect_match "origin stall:after=5000 → timeout in body after 5000 bytes" "$out" "^timeout body 5000 "

# ---- fallback ----
free=$(free_udp_port)
timeout 60 "$TP_BIN" probe --http3 --cacert "$T/ca.pem" --resolve "$H:$free:127.0.0.1" \
	--connect-to "$H:$free:127.0.0.1:$S" --connect-timeout 1 -n 1 "https://$H:$free/bytes/1000" \
	--records "$T/fb.jsonl" >/dev/null 2>&1
expect_match "--http3 with no QUIC answer falls back to TCP+TLS, ok, and the record says so" \
	"$(records "$T/fb.jsonl" "r[0]['class'], r[0]['proto'], r[0].get('fallback') or r[0].get('detail')")" \
	"^ok http/1.1 "
timeout 60 "$TP_BIN" probe --http3-only --cacert "$T/ca.pem" --resolve "$H:$free:127.0.0.1" \
	--connect-timeout 1 -n 1 "https://$H:$free/bytes/1000" --records "$T/nofb.jsonl" >/dev/null 2>&1
expect_eq "--http3-only with no QUIC answer: connect_error in phase connect" \
	"$(records "$T/nofb.jsonl" "r[0]['class'], r[0]['phase']")" "connect_error connect"

finish
