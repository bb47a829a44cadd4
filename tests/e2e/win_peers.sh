#!/usr/bin/env bash
# The origin and the probe of the Windows build (build/win64/tunnelprobe.exe) under Wine,
# against the Linux reference proxy:
#   - the Windows origin serves what the Linux origin serves, byte for byte, through the
#     Linux proxy in every mode (curl), and its ledger says what Windows cannot count
#     (bytes_acked: null) instead of a number;
#   - the Windows probe goes through the Linux proxy (forward, CONNECT, SOCKS5, socks5h)
#     to both origins, verifying every body; its --records fold into a run file with the
#     Linux `report`; --json, https:// and --http3 are refused in one line with exit 2
#     (no jansson, no TLS, no QUIC in the Windows build), as is the origin's --tls-listen
#     and --quic-listen.
# Without Wine or the build this is a skip, or a failure under `make test`.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/peers.sh"
. "$TP_ROOT/tests/win/lib.sh"
win_ready || finish
began=$(date +%s.%N)

start_tp origin origin --listen 127.0.0.1:0 || { not_ok "the Linux origin starts"; finish; }
LO=$TP_HTTP
start_tp proxy proxy --listen 127.0.0.1:0 --ledger "$T/proxy.jsonl" || { not_ok "the Linux proxy starts"; finish; }
LP=$TP_PORT
if ! start_win worigin origin --listen 127.0.0.1:0 --ledger "$T/worigin.jsonl"; then
	not_ok "the Windows origin starts under Wine" "$(head -c 300 "$T/worigin.err")"
	finish
fi
WO=$WIN_HTTP WOPID=$WIN_PID
expect_eq "the Windows origin says what it is" "$(win_out worigin | sed -n 's/^build: tunnelprobe [^ ]* //p')" \
	"windows/x86_64 iocp"

# The same bytes from both origins (a payload is a function of its path), through the
# Linux proxy in every mode. gzip is compared decoded: the gzip header names the OS.
for path in /bytes/1024 /bytes/10485760 /chunked/300000 /gzip/200000; do
	want=$(curl -s --compressed "http://127.0.0.1:$LO$path" | sha256sum | cut -c1-64)
	for mode in direct forward connect socks5h; do
		case $mode in
		direct) via=() ;;
		forward) via=(-x "http://127.0.0.1:$LP") ;;
		connect) via=(-p -x "http://127.0.0.1:$LP") ;;
		socks5h) via=(-x "socks5h://127.0.0.1:$LP") ;;
		esac
		got=$(curl -s --compressed --max-time 60 "${via[@]}" "http://127.0.0.1:$WO$path" | sha256sum | cut -c1-64)
		expect_eq "the Windows origin, $mode: $path as the Linux origin serves it" "$got" "$want"
	done
done

# The Windows probe (its output ends lines with CR LF).
WP() {
	timeout 120 bash "$WINE_SH" "$WIN_EXE" probe -q --timeout 10 "$@" 2>"$T/wprobe.err" | tr -d '\r'
	return "${PIPESTATUS[0]}"
}
for mode in forward connect socks5 socks5h; do
	case $mode in
	forward) via=(-x "http://127.0.0.1:$LP") ;;
	connect) via=(-p -x "http://127.0.0.1:$LP") ;;
	socks5) via=(-x "socks5://127.0.0.1:$LP") ;;
	socks5h) via=(-x "socks5h://127.0.0.1:$LP") ;;
	esac
	WP -n 2 -c 2 "${via[@]}" --records "$T/wp_$mode.jsonl" "http://127.0.0.1:$LO/bytes/1024" \
		"http://127.0.0.1:$WO/bytes/10485760" "http://127.0.0.1:$LO/chunked/300000" \
		"http://127.0.0.1:$WO/gzip/200000" --compressed
	expect_eq "the Windows probe through the Linux proxy ($mode), both origins: all ok, all verified" \
		"$(records "$T/wp_$mode.jsonl" "len(r), sorted(set((x['class'], x['verified']) for x in r))")" \
		"8 [('ok', True)]"
done
"$TP_BIN" report "$T/wp_socks5h.jsonl" --json "$T/wp_run.json" >/dev/null
expect_eq "the Windows probe's records fold into a run file (Linux report)" \
	"$(json "$T/wp_run.json" "d['requests'], d['ok']")" "8 8"
sleep 0.2
expect_eq "the Linux proxy's ledger names the Windows probe's requests" \
	"$(python3 - "$T/proxy.jsonl" "$T"/wp_forward.jsonl <<'PY'
import json, sys
ids = {l['id'] for l in map(json.loads, open(sys.argv[1]))}
print(all(r['id'] in ids for r in map(json.loads, open(sys.argv[2]))))
PY
)" "True"

WP --json "$T/x.json" "http://127.0.0.1:$LO/" >/dev/null
expect_eq "the Windows probe refuses --json: exit 2, one line" \
	"$? $(wc -l <"$T/wprobe.err") $(grep -c 'jansson' "$T/wprobe.err")" "2 1 1"
WP "https://127.0.0.1:$LO/" >/dev/null
expect_eq "the Windows probe refuses https://: exit 2, one line" \
	"$? $(wc -l <"$T/wprobe.err") $(grep -c 'TLS is not in the Windows build' "$T/wprobe.err")" "2 1 1"
bash "$WINE_SH" "$WIN_EXE" origin --listen 127.0.0.1:0 --tls-listen 127.0.0.1:0 >/dev/null 2>"$T/wtls.err"
expect_eq "the Windows origin refuses --tls-listen: exit 2, one line" \
	"$? $(wc -l <"$T/wtls.err")" "2 1"
for opt in --http3 --http3-only; do
	WP "$opt" "http://127.0.0.1:$LO/" >/dev/null
	expect_eq "the Windows probe refuses $opt: exit 2, one line" \
		"$? $(wc -l <"$T/wprobe.err") $(grep -c 'not in the Windows build' "$T/wprobe.err")" "2 1 1"
done
bash "$WINE_SH" "$WIN_EXE" origin --listen 127.0.0.1:0 --quic-listen 127.0.0.1:0 >/dev/null 2>"$T/wquic.err"
expect_eq "the Windows origin refuses --quic-listen: exit 2, one line" \
	"$? $(wc -l <"$T/wquic.err") $(grep -c 'not in the Windows build' "$T/wquic.err")" "2 1 1"

# The Windows origin's ledger: what it wrote, and null where Windows has no
# TCP_INFO.tcpi_bytes_acked (never a made-up number).
win_stop "$WOPID"
expect_eq "SIGINT: the Windows origin exits 0" "$?" "0"
expect_eq "the Windows origin's ledger: bytes written, bytes_acked null" \
	"$(python3 - "$T/worigin.jsonl" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
acked = {k for l in lines for k in l if k.startswith('bytes_acked')}
print(len(lines) > 20, all(l.get(k) is None for l in lines for k in acked), len(acked) > 0,
      any(l['bytes_written'] > 10485760 for l in lines))
PY
)" "True True True True"
# No `wine.sh --stop` here: other tests may be running Wine programs in the same prefix
# (tests/run.sh runs two scripts at a time); wineserver ends by itself after the last.
echo "# the Windows origin's and probe's checks took $(echo "$(date +%s.%N) - $began" | bc | cut -d. -f1) s"
finish
