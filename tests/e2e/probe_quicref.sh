#!/usr/bin/env bash
# The probe through the reference proxy's QUIC listener (`proxy --quic-listen`, issue
# 17): quic:// and socks5+quic:// to our TCP origin, verified bodies over many streams of
# one connection, and the proxy's QUIC faults as the probe classifies them — no-fin
# (timeout in phase fin: the SOCKS5-over-QUIC incident), reset (the stream's code in the
# record), truncate (incomplete_read), close-conn (reset by the connection's code). The
# proxy resets or closes as it writes byte N, so what was still in flight is discarded
# (RESET_STREAM and CONNECTION_CLOSE do that): the probe may see none of the body — then
# a reset stream is tunnel_closed_early and a close is reset in phase first_byte, as
# over TCP — or part of it (reset in phase body). Both are accepted; the codes must be
# in the record either way.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/peers.sh"

start_tp origin origin --listen 127.0.0.1:0 || { not_ok "origin starts" "$(cat "$T/origin.err")"; finish; }
OP=$TP_HTTP

# qproxy NAME [FAULT]: a reference proxy with a QUIC listener; sets QP to its UDP port
qproxy() {
	local name=$1
	shift
	local fault=()
	[ $# -gt 0 ] && fault=(--fault "$1")
	start_tp "$name" proxy --quic-listen 127.0.0.1:0 --ca-out "$T/$name-ca.pem" "${fault[@]}" &&
		QP=$TP_QUIC && [ -n "$QP" ]
}
probe() { # NAME ARGS...
	local name=$1
	shift
	timeout 120 "$TP_BIN" probe -q --cacert "$T/$name-ca.pem" "$@"
}

if qproxy clean; then
	for s in quic socks5+quic; do
		probe clean -x "$s://127.0.0.1:$QP" -c 1 --streams 4 -n 8 --records "$T/clean-$s.jsonl" \
			--json "$T/clean-$s.json" "http://127.0.0.1:$OP/bytes/1048576" "http://127.0.0.1:$OP/bytes/1024"
		expect_eq "$s through proxy --quic-listen: 16 requests on 4 streams of one connection, all verified" \
			"$? $(records "$T/clean-$s.jsonl" "sorted(set((x['class'], x['verified']) for x in r)), len(r), all('stream' in x['quic'] for x in r)") $(json "$T/clean-$s.json" "d['connections']['opened']")" \
			"0 [('ok', True)] 16 True 1"
	done
else
	not_ok "proxy --quic-listen starts" "$(cat "$T/clean.err")"
fi

# case_fault FAULT SCHEME PATH CLASS PHASE CHECK [ALSO]: ALSO, a python set of other
# (class, phase) pairs allowed
case_fault() {
	local fault=$1 s=$2 path=$3 class=$4 phase=$5 check=${6:-True} also=${7:-set()}
	local name="f-${fault%%:*}-${s%%+*}"
	if ! qproxy "$name" "$fault"; then
		not_ok "proxy --quic-listen --fault $fault starts" "$(cat "$T/$name.err")"
		return
	fi
	probe "$name" -x "$s://127.0.0.1:$QP" --timeout 2 -n 1 --records "$T/$name.jsonl" "http://127.0.0.1:$OP$path"
	local rc=$?
	expect_eq "$s, proxy fault $fault -> $class/$phase (exit 1)" \
		"$rc $(records "$T/$name.jsonl" "[('$class', '$phase') if (x['class'], x['phase']) in $also else (x['class'], x['phase']) for x in r], all($check for x in r)")" \
		"1 [('$class', '$phase')] True"
}
for s in quic socks5+quic; do
	case_fault no-fin "$s" /close/300000 timeout fin "x['bytes_received'] == 300000 and 'FIN' in x['detail']"
	case_fault "reset:after=100000" "$s" /bytes/1048576 reset body "x['quic'].get('reset_code') == 0x102" \
		"{('tunnel_closed_early', 'first_byte')}"
	case_fault "truncate:after=100000" "$s" /bytes/1048576 incomplete_read body "'more expected' in x['detail']"
	case_fault "close-conn:after=100000" "$s" /bytes/1048576 reset body \
		"x['quic'].get('close_code') == 0x102 and 'H3_INTERNAL_ERROR (0x102)' in x['detail']" \
		"{('reset', 'first_byte')}"
done

finish
