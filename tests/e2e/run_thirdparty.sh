#!/usr/bin/env bash
# Every shipped scenario (docs/incidents/*/*.tps) run against proxies tunnelprobe did
# not start — squid and tinyproxy for the HTTP scenarios, microsocks for the SOCKS5
# ones — with `run SCENARIO --proxy URL`: the run asks the proxy for 127.0.0.1:PORT
# (probe --connect-to) while Host and SNI keep the site names, checks `expect` and
# `expect user` lines, and skips `expect reference` ones (they check the reference
# proxy's faults) with the reason.
#
# Where a third-party proxy is not healthy in what a scenario checks, the test says
# what it does instead and asserts exactly that, so a change shows:
#   - microsocks ends both legs on the client's FIN (the half-close incident itself);
#   - microsocks relays the origin's RST as a FIN (the reset-becomes-fin incident itself);
#   - tinyproxy closes every client connection after its response (no reuse).
#
# Also, whatever the probe can do: a scenario that keeps its names for the user's
# proxy (proxy_resolves_names) says up front which names the proxy must resolve, and
# a run whose every request failed for a fixable reason says so in one line first.
# Names used with a user's proxy are under .test, so nothing ever leaves loopback.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/peers.sh"

need_cmd squid "third-party proxies: squid" || finish
need_cmd tinyproxy "third-party proxies: tinyproxy" || finish
need_cmd microsocks "third-party proxies: microsocks" || finish
start_squid || { not_ok "squid started"; finish; }
start_tinyproxy || { not_ok "tinyproxy started"; finish; }
start_microsocks || { not_ok "microsocks started"; finish; }

# failed DIR: the expectations that failed, one per line (their text)
failed() { json "$1/run.json" "'\n'.join(e['expect'] for e in d['expectations'] if e['result'] == 'fail')"; }
# results DIR: "result group" of each expectation, sorted and counted
results() {
	json "$1/run.json" "' '.join(sorted('%s/%s' % (e['result'], e.get('group', 'always')) for e in d['expectations']))"
}

# thirdparty NAME FILE PROXY_NAME URL: runs FILE through URL and checks the outcome.
thirdparty() {
	local name=$1 file=$2 pname=$3 url=$4 out="$T/$1-$3"
	timeout 300 "$TP_BIN" run "$file" --proxy "$url" --out "$out" -q >"$out.out" 2>&1
	local rc=$? fails
	fails=$(failed "$out" 2>/dev/null)
	case "$name/$pname" in
	half-close*/microsocks)
		# microsocks' relay loop ends both legs when either side reads EOF.
		expect_eq "$name through microsocks: the incident itself (both legs ended on the client's FIN)" \
			"$rc $(json "$out/run.json" "d['classes'].get('tunnel_closed_early', 0) == d['requests'] == 3")" "1 True"
		;;
	reset-becomes-fin*/microsocks)
		# microsocks reads the origin's reset as the end of its bytes and closes the
		# client leg with a FIN.
		expect_eq "$name through microsocks: the incident itself (every reset arrived as FIN)" \
			"$rc $(json "$out/run.json" "d['classes'].get('incomplete_read', 0) == d['requests'] == d.get('verdict_counts', {}).get('reset_became_fin', 0) == 6")" \
			"1 True"
		;;
	gateway-hardening*/tinyproxy)
		expect_eq "$name through tinyproxy: only connection reuse fails (it closes every client connection)" \
			"$rc $(echo "$fails" | cut -d: -f1)" "1 reuse_ratio >= 0.9"
		;;
	*)
		if [ "$rc" -eq 0 ] && [ -z "$fails" ]; then
			ok "$name through $pname: every expectation met"
		else
			not_ok "$name through $pname" "exit $rc; failed: $fails"
		fi
		;;
	esac
	# Whatever the outcome: the run file says whose proxy it was, and reference-only
	# expectations were skipped, never checked.
	expect_eq "$name through $pname: proxy recorded as the user's, reference lines skipped" \
		"$(json "$out/run.json" "d['proxy']['kind'], d['proxy']['url'] == '$url', all(e['result'] == 'skip' for e in d['expectations'] if e.get('group') == 'reference')")" \
		"user True True"
}

# scheme FILE: the scenario's own proxy scheme (http, socks5, socks5h)
scheme() { awk '$1 == "proxy" && $2 == "reference" { print ($3 ? $3 : "http"); exit }' "$1"; }

for f in "$TP_ROOT"/docs/incidents/*/*.tps; do
	name="$(basename "$(dirname "$f")")-$(basename "$f" .tps)"
	name=${name%-scenario}
	case "$(scheme "$f")" in
	http) thirdparty "$name" "$f" squid "http://127.0.0.1:$SQUID_PORT"
	      thirdparty "$name" "$f" tinyproxy "http://127.0.0.1:$TINYPROXY_PORT" ;;
	*) thirdparty "$name" "$f" microsocks "socks5://127.0.0.1:$SOCKS_PORT" ;;
	esac
done
expect_eq "through squid, the probe asked for addresses (names stay in Host and SNI)" \
	"$(json "$T/win-iocp-incomplete-read-healthy-squid/run.json" "d['ok'] == d['requests'] == 60")" "True"

# proxy_resolves_names: the names go to the user's proxy, and the run says so first.
# squid cannot resolve a .test name: every request is refused, and the run says why.
cat >"$T/names.tps" <<'SCN'
scenario names-to-proxy
origin
proxy reference http
proxy_resolves_names
probe
  url https://www.example.test:{tls}/bytes/1000
  requests 2
expect
  ok == 2
SCN
"$TP_BIN" run "$T/names.tps" --proxy "http://127.0.0.1:$SQUID_PORT" --out "$T/names" >"$T/names.out" 2>&1
expect_eq "proxy_resolves_names: exit 1" "$?" "1"
expect_eq "proxy_resolves_names: the names the proxy must resolve, up front" \
	"$(sed -n 2p "$T/names.out" | sed 's/:[0-9]*$/:PORT/')" \
	"  your proxy must resolve these names to 127.0.0.1 itself: www.example.test:PORT"
expect_eq "every request refused: the cause in one line, before the expectations" \
	"$(grep -n '^cause: the proxy refused every request' "$T/names.out" | cut -d: -f1) $(grep -c 'can it resolve www.example.test:[0-9]* to this machine?' "$T/names.out")" "3 1"
expect_eq "the diagnosis is in run.json too" "$(json "$T/names/run.json" "d['diagnosis'].startswith('cause: the proxy refused every request')")" "True"

# A proxy that is not there: said in one line.
port=$(free_port)
"$TP_BIN" run "$T/names.tps" --proxy "http://127.0.0.1:$port" --out "$T/gone" >"$T/gone.out" 2>&1
expect_eq "proxy unreachable: exit 1, the cause in one line" \
	"$? $(grep -c "^cause: the proxy http://127.0.0.1:$port is unreachable" "$T/gone.out")" "1 1"
finish
