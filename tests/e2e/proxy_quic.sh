#!/usr/bin/env bash
# The reference proxy's QUIC listener (proxy --quic-listen, docs/proxy.md "QUIC"): CONNECT
# over HTTP/3 (ALPN h3) and SOCKS5 on QUIC streams (ALPN socks5), driven by the test
# client tests/helpers/qtunnel (the probe's quic:// proxies come later) against our
# origin:
#   - healthy tunnels byte-exact both ways, 1 KiB to 10 MiB, in both framings; many
#     tunnels as streams of one connection, and one connection per tunnel; TLS to the
#     origin inside a tunnel (the probe through qtunnel --forward); chained to a TCP
#     upstream; auth, allow list and connect failures answered as documented;
#   - every QUIC fault in both framings, the outcome the client sees (FIN never came
#     with all bytes read; RESET_STREAM code; CONNECTION_CLOSE code; a truncation; a
#     stall; withheld credit) and the proxy's ledger line for it;
#   - faults chosen by request key (p=, seed=) hit the same tunnels in two runs;
#   - faults that cannot act in a framing are refused at start (exit 2, one line);
#   - peers we did not write: gtlsclient gets 405 (allow: CONNECT) for a GET over
#     HTTP/3, curl goes through the same proxy's TCP listener.
# Every line of every ledger keeps received == sent + dropped per direction.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/peers.sh"

QT=${TP_BUILD:-$TP_ROOT/build}/tests/helpers/qtunnel
[ -x "$QT" ] || { not_ok "proxy quic" "$QT was not built"; finish; }

# start_qproxy NAME ARGS...: a proxy whose QUIC port goes to QP (and TCP port, if any,
# to TP_PORT); its CA in $T/ca-NAME.pem, its ledger $T/px-NAME.jsonl (run NAME).
start_qproxy() {
	local name=$1 i
	shift
	"$TP_BIN" proxy --quic-listen 127.0.0.1:0 --ca-out "$T/ca-$name.pem" --ledger "$T/px-$name.jsonl" \
		--run-id "$name" "$@" >"$T/$name.out" 2>"$T/$name.err" &
	_tp_pids+=($!)
	TP_PID=$!
	for ((i = 0; i < 200; i++)); do
		grep -q '^listening quic' "$T/$name.out" 2>/dev/null && break
		sleep 0.05
	done
	QP=$(sed -n 's/^listening quic .*:\([0-9]*\)$/\1/p' "$T/$name.out")
	TP_PORT=$(sed -n 's/^listening \([0-9.]*\):\([0-9]*\)$/\2/p' "$T/$name.out")
	[ -n "$QP" ]
}
# qt NAME ARGS...: runs the test client against proxy NAME; its output in $T/qt-NAME-*.
qt() {
	local name=$1
	shift
	timeout 60 "$QT" --cacert "$T/ca-$PX.pem" "$@" 127.0.0.1 "$QP" "$TARGET" >"$T/qt-$name.out" \
		2>"$T/qt-$name.err"
}
# field FILE KEY [LINE]: the value of KEY= on the tunnel line LINE (default: the first)
field() { sed -n "${3:-1}p" "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
# ledger NAME EXPR: a python expression over the lines `r` of proxy NAME's ledger
ledger() { records "$T/px-$1.jsonl" "$2"; }
invariant() { # NAME: lines breaking received == sent + dropped
	ledger "$1" "sum(1 for x in r for k in ('down', 'up') if x[k]['received'] != x[k]['sent'] + x[k]['dropped'])"
}
stop() { kill -TERM "$1" 2>/dev/null; for ((i = 0; i < 100; i++)); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.05; done; }

start_tp origin origin --listen 127.0.0.1:0 --tls-listen 127.0.0.1:0 --ca-out "$T/ca-origin.pem" \
	--ledger "$T/origin.jsonl" --run-id quic || { not_ok "origin starts"; finish; }
OH=$TP_HTTP OS=$TP_HTTPS
start_tp origin-rst origin --listen 127.0.0.1:0 --fault rst:after=30000 --ledger "$T/origin-rst.jsonl" ||
	{ not_ok "resetting origin starts"; finish; }
ORST=$TP_HTTP
TARGET=127.0.0.1:$OH

# ---- healthy: both framings, byte-exact both ways ----
PX=healthy
start_qproxy healthy --listen 127.0.0.1:0 -t 2 || { not_ok "proxy --quic-listen starts"; finish; }
HQ=$QP HT=$TP_PORT HPID=$TP_PID
expect_eq "the QUIC address is printed as 'listening quic ADDR', a port bound for port 0" \
	"$(grep -c '^listening quic 127.0.0.1:[1-9][0-9]*$' "$T/healthy.out") $(grep -c '^listening 127' "$T/healthy.out")" "1 1"
for fr in h3 socks5; do
	for size in 1024 1048576 10485760; do
		if qt "get-$fr-$size" --framing "$fr" --id "g$fr$size" --get "/bytes/$size" &&
			[ "$(field "$T/qt-get-$fr-$size.out" body)/$(field "$T/qt-get-$fr-$size.out" verified)/$(field "$T/qt-get-$fr-$size.out" end)" = "$size/yes/fin" ]; then
			ok "$fr: GET $size bytes through the tunnel, byte-exact, then FIN"
		else
			not_ok "$fr: GET $size" "$(cat "$T/qt-get-$fr-$size.out" "$T/qt-get-$fr-$size.err")"
		fi
		qt "post-$fr-$size" --framing "$fr" --id "p$fr$size" --post "$size" --half-close
		expect_eq "$fr: POST $size bytes up (half-closed), the origin verified every byte" \
			"$? $(records "$T/origin.jsonl" "[(x['upload']['bytes'], x['upload']['verified']) for x in r if x['id'] == 'p$fr$size-0-0']")" \
			"0 [($size, True)]"
	done
	qt "many-$fr" --framing "$fr" --tunnels 30 --get /bytes/50000
	expect_eq "$fr: 30 tunnels as streams of one QUIC connection" \
		"$? $(grep -c 'conn=0 .*complete=yes end=fin' "$T/qt-many-$fr.out") $(grep -c 'conn=[1-9]' "$T/qt-many-$fr.out")" "0 30 0"
	qt "each-$fr" --framing "$fr" --tunnels 8 --streams 1 --get /bytes/50000
	expect_eq "$fr: 8 tunnels, one QUIC connection each (--streams 1)" \
		"$? $(grep -c 'complete=yes end=fin' "$T/qt-each-$fr.out") $(sed 's/.*conn=\([0-9]*\) .*/\1/' "$T/qt-each-$fr.out" | grep -v tunnels | sort -u | wc -l)" "0 8 8"
done

# TLS to the origin inside a tunnel: the probe speaks HTTPS through qtunnel --forward.
for fr in h3 socks5; do
	timeout 30 "$QT" --cacert "$T/ca-healthy.pem" --framing "$fr" --forward 127.0.0.1:0 --timeout 25 \
		127.0.0.1 "$HQ" "127.0.0.1:$OS" >"$T/fwd-$fr.out" 2>&1 &
	_tp_pids+=($!)
	for ((i = 0; i < 100; i++)); do grep -q '^forwarding' "$T/fwd-$fr.out" && break; sleep 0.05; done
	FP=$(sed -n 's/^forwarding .*:\([0-9]*\)$/\1/p' "$T/fwd-$fr.out")
	"$TP_BIN" probe -q -n 4 -c 2 --timeout 10 --cacert "$T/ca-origin.pem" --json "$T/tls-$fr.json" \
		"https://localhost:$FP/bytes/300000" >/dev/null 2>&1
	expect_eq "$fr: TLS to the origin inside QUIC tunnels, verified (probe through qtunnel --forward)" \
		"$(json "$T/tls-$fr.json" "d['ok'], d['verified']")" "4 4"
done

# Chained to a TCP upstream proxy: the healthy proxy's own TCP listener.
PX=chain
start_qproxy chain --upstream "http://127.0.0.1:$HT" || not_ok "chained proxy starts"
for fr in h3 socks5; do
	qt "chain-$fr" --framing "$fr" --id "chain$fr" --get /bytes/200000
	expect_eq "$fr: chained to a TCP upstream (CONNECT), byte-exact, X-Probe-Id passed on" \
		"$? $(ledger healthy "sum(1 for x in r if x['id'] == 'chain$fr-0-0' and x.get('transport') is None)")" \
		"0 $([ "$fr" = h3 ] && echo 1 || echo 0)"
done

# Auth, the allow list, connect failures.
PX=auth
start_qproxy auth --auth bob:secret || not_ok "proxy with --auth starts"
for fr in h3 socks5; do
	qt "noauth-$fr" --framing "$fr" --get /bytes/10
	qt "badauth-$fr" --framing "$fr" --auth bob:wrong --get /bytes/10
	qt "goodauth-$fr" --framing "$fr" --auth bob:secret --get /bytes/1000
	TARGET=10.9.8.7:80 qt "denied-$fr" --framing "$fr" --auth bob:secret --get /
	TARGET=127.0.0.1:1 qt "refused-$fr" --framing "$fr" --auth bob:secret --get /
	TARGET=127.0.0.1:$OH
	got=""
	for c in noauth badauth goodauth denied refused; do
		got+="$c:$(field "$T/qt-$c-$fr.out" reply)/$(field "$T/qt-$c-$fr.out" end)/$(field "$T/qt-$c-$fr.out" code) "
	done
	if [ "$fr" = h3 ]; then
		want="noauth:407/refused/- badauth:407/refused/- goodauth:200/fin/- denied:403/refused/- refused:-1/refused/0x10f "
	else
		want="noauth:255/refused/- badauth:257/refused/- goodauth:0/fin/- denied:2/refused/- refused:5/refused/- "
	fi
	expect_eq "$fr: credentials, --allow and a refused connect answered as documented" "$got" "$want"
done

# ---- peers we did not write ----
if need_cmd gtlsclient "gtlsclient against the QUIC listener"; then
	mkdir -p "$T/gdl"
	# (gtlsclient verifies no certificate: ngtcp2's examples leave that out.)
	timeout 20 gtlsclient --exit-on-all-streams-close --download="$T/gdl" \
		127.0.0.1 "$HQ" "https://localhost:$HQ/index.html" >"$T/gtls.log" 2>&1
	expect_eq "gtlsclient's GET over HTTP/3: 405 with allow: CONNECT (a proxy serves CONNECT only)" \
		"$(grep -c '\[:status: 405\]' "$T/gtls.log") $(grep -c '\[allow: CONNECT\]' "$T/gtls.log")" "1 1"
fi
if need_cmd curl "curl through the proxy's TCP side"; then
	n=$(curl -s -p -x "http://127.0.0.1:$HT" "http://127.0.0.1:$OH/bytes/100000" | wc -c)
	expect_eq "curl through the same proxy's TCP listener (CONNECT)" "$n" "100000"
fi

stop "$HPID"
expect_eq "healthy: SIGTERM drains and exits" "$(wait "$HPID"; echo $?)" "0"
expect_eq "healthy ledger: received == sent + dropped on every line" "$(invariant healthy)" "0"
expect_eq "healthy ledger: every QUIC tunnel says so, with its run, ended by FINs both ways, acknowledged" \
	"$(ledger healthy "sorted(set((x['kind'], x['quic']['framing'], x['run'], x['quic']['fin_sent'] and x['quic']['fin_acked'] and x['quic']['fin_received'], x['client_end'], x['upstream_end']) for x in r if x.get('transport') == 'quic' and x['target']))")" \
	"[('connect', 'h3', 'healthy', True, 'fin', 'fin'), ('socks5', 'socks5', 'healthy', True, 'fin', 'fin')]"
expect_eq "healthy ledger: the probe's id on CONNECT lines; a 10 MiB GET counted whole, down and on the stream" \
	"$(ledger healthy "[(x['down']['received'] - 10485760 < 300, x['down']['received'] == x['down']['sent'] == x['quic']['body_written'] == x['quic']['body_acked']) for x in r if x['id'] == 'gh310485760-0-0']")" \
	"[(True, True)]"

# ---- faults, both framings ----
# fault SPEC ORIGIN CLIENT_ARGS...: a proxy with SPEC; both framings at once (their
# outputs in $T/qt-F-h3.out, -socks5.out). F is the spec with blanks as _.
fault() {
	local spec=$1 origin=$2 f
	shift 2
	f=$(echo "$spec" | tr ' :=' '___')
	PX=$f
	start_qproxy "$f" --fault "$spec" --idle-timeout 2 ||
		{ not_ok "proxy with --fault '$spec' starts" "$(cat "$T/$f.err")"; return 1; }
	TARGET=127.0.0.1:$origin qt "$f-h3" --framing h3 --id "${f}h3" --fin-wait 1 --timeout 8 "$@" &
	local a=$!
	TARGET=127.0.0.1:$origin qt "$f-socks5" --framing socks5 --id "${f}s5" --fin-wait 1 --timeout 8 "$@" &
	wait "$a" $!
	stop "$TP_PID"
	F=$f
}
# outcome KEY...: those fields of both framings' tunnel lines, "h3 values | socks5 values"
outcome() {
	local fr k out=""
	for fr in h3 socks5; do
		[ "$fr" = socks5 ] && out+="| "
		for k in "$@"; do out+="$(field "$T/qt-$F-$fr.out" "$k") "; done
	done
	echo "${out% }"
}
# facts EXPR: EXPR over the fault's ledger lines, joined by |
facts() { ledger "$F" "'|'.join(str($1) for x in sorted(r, key=lambda x: x['kind']))"; }

fault "no-fin" "$OH" --get /bytes/100000
expect_eq "no-fin: every byte arrives, the FIN never does: the client's read times out" \
	"$(outcome reply status body verified complete end code)" \
	"200 200 100000 yes yes timeout - | 0 200 100000 yes yes timeout -"
expect_eq "no-fin ledger: the origin's FIN read, no stream FIN sent, the fault acted" \
	"$(facts "(x['upstream_end'], x['shutdown_write_client'], x['quic']['fin_sent'], x['down']['sent'] == x['down']['received'] > 100000, x['fault_acted'])")" \
	"('fin', False, False, True, True)|('fin', False, False, True, True)"

fault "fin-delay:ms=700" "$OH" --get /bytes/100000
expect_eq "fin-delay: the FIN comes, late" \
	"$(outcome body verified complete end) $(field "$T/qt-$F-h3.out" ms | awk '{print ($1 >= 700)}')" \
	"100000 yes yes fin | 100000 yes yes fin 1"
expect_eq "fin-delay ledger: FIN sent and acknowledged, the fault acted" \
	"$(facts "(x['quic']['fin_sent'], x['quic']['fin_acked'], x['fault_acted'])")" "(True, True, True)|(True, True, True)"

fault "reset:after=30000" "$OH" --get /bytes/100000
expect_eq "reset: RESET_STREAM H3_INTERNAL_ERROR (0x102) mid-body (what was not yet delivered is discarded)" \
	"$(outcome end code complete)" "reset 0x102 no | reset 0x102 no"
expect_eq "reset ledger: 30000 bytes into the stream, the rest dropped, reset 0x102 sent" \
	"$(facts "(x['down']['sent'], x['down']['dropped'] > 0, x['quic']['reset_sent'], x['client_end'], x['first_close'])")" \
	"(30000, True, 258, 'local_rst', 'proxy->client')|(30000, True, 258, 'local_rst', 'proxy->client')"

fault "truncate:after=30000" "$OH" --get /bytes/100000
expect_eq "truncate: FIN after 30000 bytes (head included): a body cut by FIN" \
	"$(outcome status verified complete end)" "200 yes no fin | 200 yes no fin"
expect_eq "truncate ledger: 30000 sent, the rest dropped, FIN sent" \
	"$(facts "(x['down']['sent'], x['down']['received'] == 30000 + x['down']['dropped'], x['quic']['fin_sent'], x['fault_acted'])")" \
	"(30000, True, True, True)|(30000, True, True, True)"

fault "stall:after=30000" "$OH" --get /bytes/100000
expect_eq "stall: 30000 bytes, then nothing until the proxy's idle timeout resets the stream (0x10c)" \
	"$(outcome status verified complete end code)" "200 yes no reset 0x10c | 200 yes no reset 0x10c"
expect_eq "stall ledger: the ends timed out, the fault acted" \
	"$(facts "(x['client_end'], x['upstream_end'], x['down']['sent'], x['fault_acted'])")" \
	"('timeout', 'timeout', 30000, True)|('timeout', 'timeout', 30000, True)"

fault "close-conn:after=30000" "$OH" --get /bytes/100000
expect_eq "close-conn: CONNECTION_CLOSE with H3_INTERNAL_ERROR (0x102)" \
	"$(outcome end code) $(cat "$T/qt-$F-h3.err" "$T/qt-$F-socks5.err" | grep -c 'closed: peer code=0x102 tunnelprobe fault close-conn')" \
	"closed 0x102 | closed 0x102 2"
expect_eq "close-conn ledger: the connection's close, ours, code 258" \
	"$(facts "(x['quic']['conn_close']['reason'], x['quic']['conn_close']['code'], x['fault_acted'])")" \
	"('local', 258, True)|('local', 258, True)"

fault "flow-starve" "$OH" --post 1000000
expect_eq "flow-starve: the upload stalls at the stream window, then the idle reset" \
	"$(outcome end code)" "reset 0x10c | reset 0x10c"
expect_eq "flow-starve ledger: credit withheld, at most the window received, all of it written on" \
	"$(facts "(x['quic']['credit_withheld'], 250000 < x['up']['received'] <= 262144, x['up']['sent'] == x['up']['received'], x['fault_acted'])")" \
	"(True, True, True, True)|(True, True, True, True)"

fault "truncate:after=30000 dir=up" "$OH" --post 400000
expect_eq "truncate dir=up: the origin gets 30000 bytes and a FIN; the client the stream's FIN" \
	"$(outcome end) $(facts "(x['up']['sent'], x['upstream_end'], x['first_close'])")" \
	"fin | fin (30000, 'local', 'proxy->upstream')|(30000, 'local', 'proxy->upstream')"

fault "close-conn:after=1000 dir=up" "$OH" --post 400000
expect_eq "close-conn dir=up: CONNECTION_CLOSE once 1000 upload bytes went on" \
	"$(outcome end code) $(facts "(x['up']['sent'], x['fault_acted'])")" \
	"closed 0x102 | closed 0x102 (1000, True)|(1000, True)"

# An origin that resets mid-response: passed on as H3_CONNECT_ERROR, or hidden as FIN.
PX=resetpass
start_qproxy resetpass --idle-timeout 2 || not_ok "proxy starts"
for fr in h3 socks5; do TARGET=127.0.0.1:$ORST qt "rp-$fr" --framing "$fr" --get /bytes/100000 --fin-wait 1; done
stop "$TP_PID"
expect_eq "an origin's RST becomes a stream error H3_CONNECT_ERROR (0x10f)" \
	"$(field "$T/qt-rp-h3.out" end)/$(field "$T/qt-rp-h3.out" code) $(field "$T/qt-rp-socks5.out" end)/$(field "$T/qt-rp-socks5.out" code)" \
	"reset/0x10f reset/0x10f"
fault "reset-as-fin" "$ORST" --get /bytes/100000
expect_eq "reset-as-fin: the origin's RST arrives as an orderly FIN after 30000 bytes (the incident)" \
	"$(outcome status verified complete end code)" "200 yes no fin - | 200 yes no fin -"
expect_eq "reset-as-fin ledger: upstream_end rst, FIN sent to the client, the fault acted" \
	"$(facts "(x['upstream_end'], x['shutdown_write_client'], x['quic']['fin_sent'], x['fault_acted'])")" \
	"('rst', True, True, True)|('rst', True, True, True)"
fault "reset-as-fin dir=up" "$OH" --post 200000 --reset-after 50000
expect_eq "reset-as-fin dir=up: the client's RESET_STREAM reaches the origin as a FIN" \
	"$(records "$T/origin.jsonl" "sorted((x['end'], x['fin_received'], x['rst_received']) for x in r if x.get('id') == 'reset-as-fin_dir_uph3-0-0')")" \
	"[('fin', True, False)]"
PX=resetup
start_qproxy resetup || not_ok "proxy starts"
TARGET=127.0.0.1:$OH qt "ru" --id rupass --post 200000 --reset-after 50000
stop "$TP_PID"
expect_eq "... and through a healthy proxy as an RST" \
	"$(records "$T/origin.jsonl" "[(x['end'], x['rst_received']) for x in r if x.get('id') == 'rupass-0-0']")" \
	"[('rst', True)]"

bad=""
for f in no-fin fin-delay_ms_700 reset_after_30000 truncate_after_30000 stall_after_30000 \
	close-conn_after_30000 flow-starve truncate_after_30000_dir_up close-conn_after_1000_dir_up \
	reset-as-fin reset-as-fin_dir_up; do
	bad+=$(invariant "$f")
done
expect_eq "every fault's ledger: received == sent + dropped on every line" "$bad" "00000000000"

# ---- faults chosen by request key ----
PX=keyed
for run in 1 2; do
	start_qproxy "keyed$run" --fault "reset:after=2000 p=0.5 seed=4" || not_ok "keyed proxy starts"
	PX=keyed$run
	qt "keyed$run" --id "k$RANDOM" --tunnels 24 --get /bytes/20000
	stop "$TP_PID"
done
expect_eq "p=0.5 seed=4 hits tunnels by key: the same ones in two runs (different run prefixes)" \
	"$(ledger keyed1 "sorted(x['fault_key'] for x in r if x['fault'])") $(grep -c 'end=reset code=0x102' "$T/qt-keyed1.out")" \
	"$(ledger keyed2 "sorted(x['fault_key'] for x in r if x['fault'])") $(ledger keyed1 "sum(1 for x in r if x['fault'])")"

# ---- what cannot act is refused at start ----
"$TP_BIN" proxy --quic-listen 127.0.0.1:0 --fault rst:after=10 >/dev/null 2>"$T/refuse1.err"
expect_eq "a TCP-only fault with a QUIC listener: exit 2, one line naming the framing" \
	"$? $(cat "$T/refuse1.err")" \
	"2 tunnelprobe proxy: --fault 'rst:after=10' cannot act in h3-connect mode, which this proxy serves"
"$TP_BIN" proxy --listen 127.0.0.1:0 --quic-listen 127.0.0.1:0 --fault flow-starve >/dev/null 2>"$T/refuse2.err"
expect_eq "a QUIC-only fault with a TCP listener: exit 2, one line" "$? $(wc -l <"$T/refuse2.err")" "2 1"
"$TP_BIN" proxy --quic-listen 127.0.0.1:0 --fault "flow-starve dir=down" >/dev/null 2>&1
expect_eq "flow-starve takes no dir=" "$?" "2"
"$TP_BIN" proxy --listen 127.0.0.1:0 --quic-listen 127.0.0.1:0 --reverse "http://127.0.0.1:$OH" >/dev/null 2>"$T/rev.err"
expect_eq "--reverse with --quic-listen: exit 2, one line" "$? $(wc -l <"$T/rev.err")" "2 1"
"$TP_BIN" proxy --quic-listen nowhere >/dev/null 2>"$T/bad.err"
expect_eq "a bad --quic-listen: exit 2, one line" "$? $(wc -l <"$T/bad.err")" "2 1"
"$TP_BIN" proxy --quic-listen 127.0.0.1:0 --quic-cert /nonexistent --quic-key /nonexistent >/dev/null 2>"$T/cert.err"
expect_eq "an unreadable --quic-cert: exit 2, one line" "$? $(wc -l <"$T/cert.err")" "2 1"
finish
