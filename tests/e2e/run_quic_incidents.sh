#!/usr/bin/env bash
# The QUIC variants of two incidents, run with `tunnelprobe run` (issue 17):
# socks5-missing-fin/scenario-quic.tps (SOCKS5 on QUIC streams, no-fin) and
# reset-becomes-fin/scenario-quic.tps (CONNECT over HTTP/3) and scenario-socks5-quic.tps
# (SOCKS5 on QUIC streams), both with reset-as-fin. Each: through the reference proxy's
# QUIC listener it meets its expectations, from the ledgers the verdict it names; the
# same scenario with its fault lines removed fails its `expect reference` lines (they
# test the fault, not the load); a healthy QUIC proxy run did not start (`--proxy
# ... --proxy-cacert`) meets the `expect user` lines. Also: a QUIC reference proxy with
# its Windows build is refused in one line, exit 2.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/peers.sh"

INC="$TP_ROOT/docs/incidents"
MF="$INC/socks5-missing-fin/scenario-quic.tps"
RQ="$INC/reset-becomes-fin/scenario-quic.tps"
RS="$INC/reset-becomes-fin/scenario-socks5-quic.tps"

# failed DIR: the scenario lines that did not pass, as "group:line" words
failed() { json "$1/run.json" "' '.join('%s:%s' % (e['group'], e['line']) for e in d['expectations'] if not e['pass'])"; }
# reference_lines FILE: the line numbers of its `expect reference` lines, as "reference:N" words
reference_lines() {
	awk '/^expect/ { g = $2 } /^  [a-z]/ && g == "reference" { printf "%sreference:%d", s, NR; s = " " }' "$1"
}

# 1. Through the reference proxy's QUIC listener.
timeout 120 "$TP_BIN" run "$MF" --out "$T/mf" -q
expect_eq "socks5-missing-fin/scenario-quic: expectations met through the reference proxy" "$?" "0"
expect_eq "socks5-missing-fin/scenario-quic: the probe went through socks5h+quic, the proxy's ledger lines are QUIC streams" \
	"$(json "$T/mf/run.json" "d['proxy']['url'].split(':')[0], d['proxy']['kind'], d['proxy']['fault']") $(records "$T/mf/proxy.jsonl" "sorted(set((x['transport'], x['quic']['framing']) for x in r))")" \
	"socks5h+quic reference no-fin [('quic', 'socks5')]"
expect_eq "socks5-missing-fin/scenario-quic: the close-delimited responses read whole, then timeout in phase fin; the proxy never sent the stream FIN" \
	"$(records "$T/mf/records.jsonl" "sorted(set((x['class'], x['phase'], x['bytes_received'] == x['bytes_expected']) for x in r if '/close/' in x['url']))") $(records "$T/mf/proxy.jsonl" "sorted(set((x['upstream_end'], x['quic']['fin_sent']) for x in r if x['down']['received'] > 50000))")" \
	"[('timeout', 'fin', True)] [('fin', False)]"
expect_eq "socks5-missing-fin/scenario-quic: verdict no_fin at the proxy from the probe and the proxy ledger" \
	"$(json "$T/mf/run.json" "sorted(set((v['code'], v['hop'], ','.join(sorted(set(e['source'] for e in v['evidence'])))) for v in d['verdicts']))")" \
	"[('no_fin', 'proxy', 'probe,proxy_ledger')]"

for s in RQ:quic:h3 RS:socks5h+quic:socks5; do
	IFS=: read -r var scheme framing <<<"$s"
	f=${!var}
	name=reset-becomes-fin/$(basename "$f" .tps)
	timeout 120 "$TP_BIN" run "$f" --out "$T/$var" -q
	expect_eq "$name: expectations met through the reference proxy" "$?" "0"
	expect_eq "$name: through $scheme, the $framing framing" \
		"$(json "$T/$var/run.json" "d['proxy']['url'].split(':')[0]") $(records "$T/$var/proxy.jsonl" "sorted(set(x['quic']['framing'] for x in r))")" \
		"$scheme ['$framing']"
	# (The probe then cancels its stream, and the proxy may answer with a reset of its
	# own after the FIN: the ledger's reset_sent; the probe saw the FIN first.)
	expect_eq "$name: every request a body cut by the stream's FIN, no RESET_STREAM seen; the proxy saw the origin's RST and sent FIN" \
		"$(records "$T/$var/records.jsonl" "sorted(set((x['class'], x['phase'], 'reset_code' in x['quic']) for x in r)), len(r)") $(records "$T/$var/proxy.jsonl" "sorted(set((x['upstream_end'], x['quic']['fin_sent']) for x in r))")" \
		"[('incomplete_read', 'body', False)] 6 [('rst', True)]"
	expect_eq "$name: six verdicts reset_became_fin at the proxy, from the probe and the origin ledger" \
		"$(json "$T/$var/run.json" "sorted(set((v['code'], v['hop'], ','.join(sorted(set(e['source'] for e in v['evidence'])))) for v in d['verdicts'])), len(d['verdicts'])")" \
		"[('reset_became_fin', 'proxy', 'origin_ledger,probe')] 6"
done

# 2. The reference proxy without the fault: the reference lines fail, and only they.
for var in MF RQ RS; do
	f=${!var}
	sed '/^  fault /d' "$f" >"$T/$var-healthy.tps"
	timeout 120 "$TP_BIN" run "$T/$var-healthy.tps" --out "$T/$var-healthy" -q
	rc=$?
	want=$(reference_lines "$T/$var-healthy.tps")
	expect_eq "$(basename "$(dirname "$f")")/$(basename "$f" .tps) without its fault: exit 1, exactly the reference lines fail" \
		"$rc $(failed "$T/$var-healthy")" "1 $want"
done

# 3. A healthy QUIC proxy that run did not start: the user lines hold.
if start_tp healthy proxy --quic-listen 127.0.0.1:0 --ca-out "$T/healthy-ca.pem" && [ -n "$TP_QUIC" ]; then
	for s in MF:socks5h+quic RQ:quic RS:socks5h+quic; do
		IFS=: read -r var scheme <<<"$s"
		f=${!var}
		name=$(basename "$(dirname "$f")")/$(basename "$f" .tps)
		timeout 120 "$TP_BIN" run "$f" --proxy "$scheme://127.0.0.1:$TP_QUIC" --proxy-cacert "$T/healthy-ca.pem" \
			--out "$T/$var-user" -q
		rc=$?
		expect_eq "$name through a healthy QUIC proxy (--proxy $scheme:// --proxy-cacert): exit 0, user lines pass, reference lines skipped" \
			"$rc $(json "$T/$var-user/run.json" "sorted(set((e['group'], e['result']) for e in d['expectations']))")" \
			"0 [('reference', 'skip'), ('user', 'pass')]"
	done
	expect_eq "reset-becomes-fin/scenario-quic through a healthy QUIC proxy: the stream reset with H3_CONNECT_ERROR (0x10f)" \
		"$(records "$T/RQ-user/records.jsonl" "sorted(set((x['class'], x['quic'].get('reset_code')) for x in r))")" \
		"[('reset', 271)]"
	# Without the proxy's CA the probe cannot trust it: every request fails in tls.
	timeout 120 "$TP_BIN" run "$MF" --proxy "socks5h+quic://127.0.0.1:$TP_QUIC" --out "$T/MF-nocert" -q
	expect_eq "a QUIC proxy of yours without --proxy-cacert: exit 1, every request a tls_error" \
		"$? $(json "$T/MF-nocert/run.json" "sorted(d['classes'])")" "1 ['tls_error']"
else
	not_ok "proxy --quic-listen starts" "$(cat "$T/healthy.err")"
fi

# 4. Refused before anything starts: the Windows build has no QUIC listener.
out=$(timeout 30 "$TP_BIN" run "$MF" --proxy-build win64 --out "$T/win" 2>&1)
expect_eq "--proxy-build win64 with a QUIC reference proxy: exit 2, one line" \
	"$? $out" \
	"2 tunnelprobe run: --proxy-build win64: the Windows build has no QUIC listener ('proxy reference socks5h+quic' runs the Linux build only)"
sed 's/^proxy reference socks5h+quic$/proxy reference socks5h+quic windows/' "$MF" >"$T/win.tps"
out=$(timeout 30 "$TP_BIN" run "$T/win.tps" --out "$T/win" 2>&1)
expect_eq "proxy reference socks5h+quic windows: exit 2, file:line" \
	"$? $out" \
	"2 tunnelprobe run: $T/win.tps:11: 'proxy reference socks5h+quic windows': the Windows build has no QUIC listener"

finish
