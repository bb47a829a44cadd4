#!/usr/bin/env bash
# `tunnelprobe check` against the reference proxy: every check of every profile it
# serves passes (forward, CONNECT and SOCKS5 on one port; then SOCKS5 with a password),
# and the outputs are what docs/check.md says: JSON shape, JUnit XML, HTML, exit codes.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/peers.sh"
. "$(dirname "$0")/peers_check.sh"

run_subject reference "$T/ref.json" --junit "$T/ref.xml" --html "$T/ref.html" >"$T/ref.out" 2>&1
rc=$?
expect_eq "reference proxy: check exits 0" "$rc" 0
not_passed=$(json "$T/ref.json" '" ".join(c["id"]+"="+c["result"] for c in d["checks"] if c["result"]!="pass")')
# Only the password check cannot run without credentials; it runs below.
expect_eq "reference proxy: every check passes but the one needing a password" \
	"$not_passed" "socks5.auth.bad=skip"
expect_eq "reference proxy: the three proxy profiles ran" \
	"$(json "$T/ref.json" '",".join(d["profiles"])')" "forward,connect,socks5"
n=$(json "$T/ref.json" 'len(d["checks"])')
check "at least 40 checks ran ($n)" test "$n" -ge 40
expect_eq "JSON totals add up" \
	"$(json "$T/ref.json" 'd["passed"]+d["failed"]+d["skipped"]+d["warned"]==len(d["checks"])')" True
expect_eq "JSON check fields" \
	"$(json "$T/ref.json" 'sorted(d["checks"][0].keys())')" \
	"['detail', 'evidence', 'id', 'ms', 'profile', 'result', 'rule', 'title']"
expect_eq "JSON top-level fields" \
	"$(json "$T/ref.json" 'sorted(d.keys())')" \
	"['checks', 'failed', 'gateway', 'passed', 'profiles', 'proxy', 'skipped', 'version', 'warned']"
expect_eq "evidence carries the bytes each side saw" \
	"$(json "$T/ref.json" '[c for c in d["checks"] if c["id"]=="forward.bytes.1m"][0]["evidence"]["body"]')" \
	1048576
check "with --pid the slow reader samples the proxy's RSS" \
	test "$(json "$T/ref.json" '"proxy_rss_kib_after" in [c for c in d["checks"] if c["id"]=="connect.slow.reader"][0]["evidence"]')" = True
check "JUnit is well-formed XML with a testcase per check" python3 -c '
import sys, xml.etree.ElementTree as E, json
t = E.parse(sys.argv[1]).getroot()
n = len(json.load(open(sys.argv[2]))["checks"])
assert len(t.findall(".//testcase")) == n, (len(t.findall(".//testcase")), n)
assert len(t.findall(".//skipped")) == 1' "$T/ref.xml" "$T/ref.json"
check "HTML is one self-contained page" python3 -c '
import sys, html.parser
s = open(sys.argv[1]).read()
assert "<style>" in s and "<script" not in s and "src=" not in s and "href=" not in s
assert s.count("<tr>") == 1 + s.count("<code>forward.") + s.count("<code>connect.") + s.count("<code>socks5.")
html.parser.HTMLParser().feed(s)' "$T/ref.html"
check "the table names each check and its evidence" grep -q "^forward.bytes.100m *pass" "$T/ref.out"

# SOCKS5 with a password: the user/password checks run too.
if start_tp refauth proxy --listen 127.0.0.1:0 --auth tp:secret --allow 127.0.0.1/32 --allow ::1 \
	--allow 224.0.0.0/4; then
	"$TP_BIN" check --proxy "socks5://tp:secret@127.0.0.1:$TP_PORT" --profile socks5 --idle-wait 2 \
		--json "$T/auth.json" >"$T/auth.out" 2>&1
	rc=$?
	got=$(json "$T/auth.json" '" ".join(c["result"] for c in d["checks"] if c["id"] in ("socks5.method.noauth","socks5.method.userpass","socks5.auth.bad"))')
	expect_eq "reference proxy with --auth: check exits 0" "$rc" 0
	expect_eq "with a password: user/password, a wrong one and no-auth refused all pass" \
		"$got" "pass pass pass"
	check "the password never appears in the outputs" \
		bash -c "! grep -q secret '$T/auth.json' '$T/auth.out'"
else
	not_ok "reference proxy with --auth starts"
fi
finish
