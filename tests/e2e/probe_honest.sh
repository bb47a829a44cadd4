#!/usr/bin/env bash
# Honest numbers (issue 13): run-file times keep started <= every t <= ended; an open
# loop says how many scheduled starts it missed; timers fire with microsecond precision
# (p50 of a ~0.1 ms service well below 1 ms); verified vs unverified; bodies without a
# seed checked by SHA-256 (--urls-file sha256=/length=, --compare-direct); gzip records
# in decoded bytes; per-phase aggregates; a target's p99 never above its max.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/peers.sh"

start_tp origin origin --listen 127.0.0.1:0 || { not_ok "origin starts"; finish; }
O="http://127.0.0.1:$TP_HTTP"

# Times: started before the first request, ended after the last, to the microsecond.
"$TP_BIN" probe -q -n 20 -c 2 --json "$T/t.json" --records "$T/t.jsonl" "$O/bytes/100" "$O/chunked/3000"
expect_eq "started <= min(t) <= max(t) <= ended" \
	"$(python3 -c "
import json,sys
d=json.load(open('$T/t.json')); ts=[json.loads(l)['t'] for l in open('$T/t.jsonl')]
print(d['started'] <= min(ts) <= max(ts) <= d['ended'], d['ended'] > d['started'], len(ts))")" "True True 40"

# Open loop at a rate this box sustains: the latency is the service time, not the
# millisecond a coarse timer would add (p50 was ~0.6-1 ms with epoll_wait's timeout).
"$TP_BIN" probe -q -n 400 -c 4 -R 1000 --json "$T/ol.json" "$O/bytes/1000"
expect_eq "open loop: all 400 due starts made, none missed" \
	"$(json "$T/ol.json" "d['open_loop']")" "{'rate': 1000.0, 'due': 400, 'sent': 400, 'missed': 0}"
expect_eq "open loop: p50 well below 1 ms ($(json "$T/ol.json" "d['latency_ms']['p50']") ms)" \
	"$(json "$T/ol.json" "d['latency_ms']['p50'] < 0.7")" True

# -c too low for the rate: 100/s on a 50 ms target with one connection for 2 s.
"$TP_BIN" probe -R 100 -c 1 -d 2 --json "$T/miss.json" "$O/delay/50" >"$T/miss.out"
expect_eq "missed starts counted: due 200, sent <= 45, missed = due - sent" \
	"$(json "$T/miss.json" "(d['open_loop']['due'], d['open_loop']['sent'] <= 45, d['open_loop']['missed'] == 200 - d['open_loop']['sent'])")" \
	"(200, True, True)"
missed=$(json "$T/miss.json" "d['open_loop']['missed']")
expect_eq "summary says what was missed" \
	"$(grep -c "^missed $missed of 200 scheduled starts (-c too low or generator saturated)$" "$T/miss.out")" 1

# Phases and targets.
expect_eq "phases_ms: dns, connect, first_byte counted; no proxy or tls phase" \
	"$(json "$T/t.json" "[(k, v['count'] > 0) for k, v in d['phases_ms'].items()]")" \
	"[('dns', True), ('connect', True), ('proxy', False), ('tls', False), ('first_byte', True)]"
expect_eq "first_byte counted for every request" "$(json "$T/t.json" "d['phases_ms']['first_byte']['count']")" 40
expect_eq "every target's p99 <= its max" \
	"$(json "$T/ol.json" "all(t['latency_ms']['p99'] <= t['latency_ms']['max'] for t in d['targets'])")" True
expect_eq "verified: every body of the origin checked" "$(json "$T/t.json" "d['verified'], d['unverified']")" "40 0"

# gzip: records count decoded bytes, expected as X-Tp-Length says.
"$TP_BIN" probe -q -n 1 --compressed --records "$T/gz.jsonl" "$O/gzip/70000"
expect_eq "gzip record: bytes_expected 70000 (X-Tp-Length), bytes_received 70000 decoded" \
	"$(records "$T/gz.jsonl" "[(x['class'], x['bytes_expected'], x['bytes_received'], x['verified']) for x in r]")" \
	"[('ok', 70000, 70000, True)]"

# Bodies without a seed: nginx serves a file with no X-Tp-* header.
need_cmd nginx "unseeded bodies (nginx)" || finish
make_payload seeded 100
"$TP_BIN" gen /plain 50000 >"$T/plain.bin"
start_nginx || { not_ok "nginx starts"; finish; }
cp "$T/plain.bin" "$T/www/plain"
N="http://127.0.0.1:$NGINX_PORT"
"$TP_BIN" probe -q -n 2 --json "$T/u.json" "$N/plain"
expect_eq "no seed, nothing known: ok but unverified" "$(json "$T/u.json" "d['ok'], d['verified'], d['unverified']")" "2 0 2"
sum=$(sha256sum "$T/plain.bin" | cut -d' ' -f1)
printf '# a known file\n%s sha256=%s length=50000\n' "$N/plain" "$sum" >"$T/urls-good"
"$TP_BIN" probe -q -n 2 --json "$T/k.json" --urls-file "$T/urls-good"
expect_eq "--urls-file sha256= and length=: verified" "$(json "$T/k.json" "d['ok'], d['verified'], d['unverified']")" "2 2 0"
printf '%s sha256=%s\n' "$N/plain" "$(printf '%064d' 0)" >"$T/urls-bad"
"$TP_BIN" probe -q -n 1 --records "$T/kb.jsonl" --urls-file "$T/urls-bad"
expect_eq "--urls-file wrong sha256: corrupt_body" \
	"$(records "$T/kb.jsonl" "[(x['class'], 'SHA-256 mismatch' in x['detail']) for x in r]")" "[('corrupt_body', True)]"
printf '%s length=49999\n' "$N/plain" >"$T/urls-len"
"$TP_BIN" probe -q -n 1 --records "$T/kl.jsonl" --urls-file "$T/urls-len"
expect_eq "--urls-file wrong length: corrupt_body" \
	"$(records "$T/kl.jsonl" "[(x['class'], x['detail']) for x in r]")" "[('corrupt_body', 'body has 50000 bytes, 49999 per --urls-file')]"
printf '%s sha256=xyz\n' "$N/plain" >"$T/urls-malformed"
"$TP_BIN" probe -q -n 1 --urls-file "$T/urls-malformed" 2>"$T/bad.err"
expect_eq "--urls-file malformed sha256=: exit 2, one line" "$? $(wc -l <"$T/bad.err")" "2 1"

# --compare-direct: through a proxy that corrupts byte 1000 of every body, the unseeded
# file differs from the direct fetch of the same URL.
start_tp proxy proxy --listen 127.0.0.1:0 --fault corrupt:at=1000 || { not_ok "proxy starts"; finish; }
"$TP_BIN" probe -q -n 2 --compare-direct -x "http://127.0.0.1:$TP_PORT" --json "$T/cd.json" \
	--records "$T/cd.jsonl" "$N/plain"
expect_eq "compare-direct: the proxied bodies differ from the direct fetch -> corrupt_body" \
	"$(records "$T/cd.jsonl" "sorted(set((x['class'], 'differs from the direct fetch' in x['detail']) for x in r))")" \
	"[('corrupt_body', True)]"
expect_eq "compare-direct: the direct run was fine" "$(json "$T/cd.json" "d['direct']['ok'], d['direct']['requests']")" "2 2"
start_tp proxy2 proxy --listen 127.0.0.1:0 || { not_ok "healthy proxy starts"; finish; }
"$TP_BIN" probe -q -n 2 --compare-direct -x "http://127.0.0.1:$TP_PORT" --json "$T/cd2.json" "$N/plain"
expect_eq "compare-direct through a healthy proxy: verified against the direct fetch" \
	"$(json "$T/cd2.json" "d['ok'], d['verified'], d['unverified']")" "2 2 0"
finish
