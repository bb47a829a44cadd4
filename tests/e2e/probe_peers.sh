#!/usr/bin/env bash
# The probe against real servers: nginx (plain and TLS, Content-Length and chunked),
# through tinyproxy and squid (forward and CONNECT) and microsocks (SOCKS5 both ways),
# 1 KiB to 10 MiB bodies, every byte verified: zero failures expected.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/peers.sh"

for size in 1024 100000 10485760; do make_payload "b$size" "$size"; done
start_nginx || { not_ok "nginx starts"; finish; }
start_tinyproxy || not_ok "tinyproxy starts"
start_squid || not_ok "squid starts"
start_microsocks || not_ok "microsocks starts"

H="http://127.0.0.1:$NGINX_PORT"
S="https://localhost:$NGINX_TLS_PORT"
URLS=("$H/b1024" "$H/b100000" "$H/b10485760" "$H/gz/b100000" "$S/b1024" "$S/b10485760" "$S/gz/b100000")

run_probe() { # NAME ARGS...
	local name=$1
	shift
	"$TP_BIN" probe -q -n 3 -c 4 --timeout 20 --compressed --cacert "$T/ca.pem" \
		--json "$T/$name.json" --records "$T/$name.jsonl" "$@" "${URLS[@]}"
	local rc=$?
	local got
	got=$(json "$T/$name.json" "d['requests'], d['ok'], d['classes']")
	if [ "$rc" -eq 0 ] && [ "$got" = "21 21 {'ok': 21}" ]; then
		ok "$name: 21 requests, all verified"
	else
		not_ok "$name" "exit $rc, got $got"
		records "$T/$name.jsonl" "[(x['url'], x['class'], x['detail']) for x in r if x['class'] != 'ok'][:5]"
	fi
	# Every body that announced X-Tp-Seed was checked byte for byte.
	expect_eq "$name: all bodies verified" "$(records "$T/$name.jsonl" "sum(1 for x in r if x['verified'])")" 21
}

run_probe direct --noproxy '*'
run_probe tinyproxy -x "http://127.0.0.1:$TINYPROXY_PORT"
run_probe squid -x "http://127.0.0.1:$SQUID_PORT"
run_probe microsocks-socks5 -x "socks5://127.0.0.1:$SOCKS_PORT"
run_probe microsocks-socks5h -x "socks5h://127.0.0.1:$SOCKS_PORT"
run_probe tinyproxy-connect -p -x "http://127.0.0.1:$TINYPROXY_PORT"

# nginx gzip responses are chunked: their records count decoded bytes, expected as
# X-Tp-Length announces them (docs/ledgers.md).
expect_eq "gzip records: decoded bytes of X-Tp-Length" \
	"$(records "$T/direct.jsonl" "sorted(set((x['bytes_expected'], x['bytes_received']) for x in r if '/gz/' in x['url']))")" \
	"[(100000, 100000)]"

# Environment proxies as curl: https_proxy for https URLs.
https_proxy="http://127.0.0.1:$SQUID_PORT" "$TP_BIN" probe -q -n 1 --cacert "$T/ca.pem" \
	--records "$T/env.jsonl" "$S/b1024"
expect_eq "https_proxy honoured" "$(records "$T/env.jsonl" "r[0]['proxy']")" "http://127.0.0.1:$SQUID_PORT"

# Open loop, several threads, a fixed number of requests: exact count, merged stats.
"$TP_BIN" probe -q -n 200 -c 8 -t 2 -R 2000 --json "$T/ol.json" "$H/b1024"
expect_eq "open loop: 200 requests over 2 threads" "$(json "$T/ol.json" "d['requests'], d['ok'], d['config']['threads']")" "200 200 2"
expect_eq "keep-alive reuse reported" "$(json "$T/ol.json" "d['connections']['reuse_ratio'] > 0.9")" "True"

# --compare-direct: the same targets without the proxy, side by side.
"$TP_BIN" probe -n 2 --compare-direct -x "http://127.0.0.1:$TINYPROXY_PORT" --json "$T/cmp.json" "$H/b1024" >"$T/cmp.out"
expect_eq "compare-direct: both runs in the JSON" "$(json "$T/cmp.json" "d['requests'], d['direct']['requests']")" "2 2"
expect_eq "compare-direct: side by side on stdout" "$(grep -c 'through proxy.*direct' "$T/cmp.out")" "1"

# A duration run ends by itself.
"$TP_BIN" probe -q -d 1 -c 2 --json "$T/dur.json" "$H/b1024"
expect_eq "duration run: only ok" "$(json "$T/dur.json" "list(d['classes'].keys())")" "['ok']"
finish
