#!/usr/bin/env bash
# The incidents reproduced through a misbehaving proxy tunnelprobe did not start (issue
# 13, "Done when"): `run SCENARIO --proxy URL` against a scripted relaying CONNECT proxy
# (tests/peers/scripted.py) that keeps no ledger, with no capture. The run's own join
# (probe records + origin ledger) must name the proxy, with the facts it used:
#   - the shipped IOCP scenario through a relay that truncates after 34016 tunnel
#     bytes: its `expect user` lines fail, its `expect reference` lines are skipped,
#     and every failure is truncated_proxy_client at the proxy, from the probe and
#     the origin ledger alone;
#   - a close-delimited download through a relay that never passes the origin's FIN
#     on: a timeout in phase fin, the verdict no_fin at the proxy.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/peers.sh"

# verdicts DIR: "code hop sources" of every verdict the run holds, sorted and counted;
# sources are the evidence sources its facts came from
verdicts() {
	python3 - "$1/run.json" <<'EOF'
import collections, json, sys
d = json.load(open(sys.argv[1]))
c = collections.Counter("%s %s %s" % (v["code"], v["hop"], ",".join(sorted({e["source"] for e in v["evidence"]})))
                        for v in d["verdicts"])
print("; ".join("%d %s" % (n, k) for k, n in sorted(c.items())))
EOF
}

# 1. The IOCP incident: the shipped scenario through a truncating relay.
pport=$(start_scripted relay-truncate 34016)
if [ -n "$pport" ]; then
	"$TP_BIN" run "$TP_ROOT/docs/incidents/win-iocp-incomplete-read/scenario.tps" \
		--proxy "http://127.0.0.1:$pport" --out "$T/trunc" -q >"$T/trunc.out" 2>&1
	expect_eq "truncating proxy: exit 1" "$?" "1"
	expect_eq "truncating proxy: the user lines fail, the reference lines are skipped" \
		"$(json "$T/trunc/run.json" "' '.join(sorted('%s/%s' % (e['result'], e.get('group', '-')) for e in d['expectations']))")" \
		"fail/user fail/user skip/reference skip/reference skip/reference skip/reference"
	expect_eq "truncating proxy: the three large sites fail, the three small ones do not" \
		"$(json "$T/trunc/run.json" "d['proxy']['kind'], d['classes'].get('incomplete_read'), d['ok'], sorted({f['url'].split('/')[3] for f in d['failures']})")" \
		"user 30 30 ['bytes', 'chunked', 'gzip']"
	expect_eq "truncating proxy: every failure placed at the proxy from the probe and the origin ledger" \
		"$(verdicts "$T/trunc")" "30 truncated_proxy_client proxy origin_ledger,probe"
	expect_eq "truncating proxy: each failure carries its verdict and its chain" \
		"$(json "$T/trunc/run.json" "all(f['verdict']['code'] == 'truncated_proxy_client' and f['chain']['unit'] == 'message' and f['chain']['origin_wrote'] > f['chain']['probe'] for f in d['failures'])")" \
		"True"
	check "truncating proxy: the report names the hop" grep -q 'truncated at proxy→client' "$T/trunc/report.html"
else
	not_ok "relay-truncate proxy started"
fi

# 2. The missing FIN, through a relay that never ends the client's side.
cat >"$T/nofin.tps" <<'SCN'
scenario missing-fin-connect
origin
proxy reference http
probe
  url https://www.example.test:{tls}/close/50000
  requests 2
  timeout 2s
expect user
  class ok == 2
SCN
pport=$(start_scripted relay-nofin)
if [ -n "$pport" ]; then
	"$TP_BIN" run "$T/nofin.tps" --proxy "http://127.0.0.1:$pport" --out "$T/nofin" -q >"$T/nofin.out" 2>&1
	expect_eq "proxy withholding FIN: exit 1, timeouts in phase fin" \
		"$? $(json "$T/nofin/run.json" "d['classes'].get('timeout'), sorted({f['phase'] for f in d['failures']})")" \
		"1 2 ['fin']"
	expect_eq "proxy withholding FIN: FIN withheld at the proxy, from the probe and the origin ledger" \
		"$(verdicts "$T/nofin")" "2 no_fin proxy origin_ledger,probe"
else
	not_ok "relay-nofin proxy started"
fi
finish
