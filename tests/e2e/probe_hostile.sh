#!/usr/bin/env bash
# The probe against misbehaving servers and proxies (tests/peers/scripted.py): each
# misbehaviour gives its class, phase and byte counts, within its timeout, and the
# run goes on. Bad command lines exit 2 with one line.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/peers.sh"

# case NAME MODE WANT_CLASS WANT_PHASE [PROXY_SCHEME] [EXTRA CHECK EXPR]
case_server() {
	local name=$1 mode=$2 class=$3 phase=$4 check=${5:-True}
	local port
	port=$(start_scripted "$mode")
	timeout 30 "$TP_BIN" probe -q -n 2 --timeout 2 --records "$T/$name.jsonl" "http://127.0.0.1:$port/x"
	local rc=$?
	local got
	got=$(records "$T/$name.jsonl" "sorted(set((x['class'], x['phase']) for x in r)), all($check for x in r)")
	expect_eq "$name -> $class/$phase (exit 1)" "$rc $got" "1 [('$class', '$phase')] True"
}

case_server truncate truncate incomplete_read body \
	"x['bytes_received'] == 34016 and x['bytes_expected'] == 654397 and x['detail'] == '34016 bytes read, 620381 more expected'"
case_server rst-mid-body rst reset body "x['bytes_received'] == 5000"
case_server endless-header endless protocol_error headers "'too large' in x['detail']"
case_server chunk-2-64 bigchunk protocol_error body "'overflow' in x['detail']"
case_server garbage-status garbage protocol_error headers
case_server drip drip timeout body "x['bytes_received'] <= 4"
case_server stall stall timeout body "x['bytes_received'] == 1000"
case_server no-fin nofin timeout fin "x['bytes_received'] == 5"
case_server silent silent timeout first_byte

# Phase deadlines: a request deadline earlier than the connect deadline before it
# still fires on time (the timer is moved earlier), and a later one is honoured.
port=$(start_scripted silent)
timeout 60 "$TP_BIN" probe -q -n 1 --connect-timeout 20 --timeout 1 --records "$T/early.jsonl" \
	"http://127.0.0.1:$port/x"
expect_eq "timeout 1 s after a 20 s connect deadline fires at ~1 s" \
	"$(records "$T/early.jsonl" "[(x['class'], x['phase'], 900 <= x['timings_ms']['total'] < 10000) for x in r]")" \
	"[('timeout', 'first_byte', True)]"
timeout 60 "$TP_BIN" probe -q -n 1 --connect-timeout 1 --timeout 3 --records "$T/late.jsonl" \
	"http://127.0.0.1:$port/x"
expect_eq "timeout 3 s after a 1 s connect deadline waits the 3 s" \
	"$(records "$T/late.jsonl" "[(x['class'], x['phase'], x['timings_ms']['total'] >= 2900) for x in r]")" \
	"[('timeout', 'first_byte', True)]"

case_proxy() { # NAME MODE SCHEME CLASS PHASE
	local name=$1 mode=$2 scheme=$3 class=$4 phase=$5
	local port
	port=$(start_scripted "$mode")
	timeout 30 "$TP_BIN" probe -q -n 2 --timeout 2 -k -x "$scheme://127.0.0.1:$port" \
		--records "$T/$name.jsonl" "https://origin.test/x"
	local rc=$?
	expect_eq "$name -> $class/$phase" "$rc $(records "$T/$name.jsonl" "sorted(set((x['class'], x['phase']) for x in r))")" \
		"1 [('$class', '$phase')]"
}
case_proxy connect-close-before close-before-reply http proxy_connect_aborted proxy
case_proxy connect-close-mid close-mid-reply http proxy_connect_aborted proxy
case_proxy connect-refused refuse http proxy_refused proxy
case_proxy connect-then-close close-after-accept http tunnel_closed_early tls
case_proxy socks-close-mid socks-close-mid socks5h proxy_connect_aborted proxy
case_proxy socks-refused socks-refuse socks5h proxy_refused proxy
case_proxy socks-reply-cut socks-reply-close socks5h proxy_connect_aborted proxy

# Nothing listening: connect_error with the address; the run goes on to the next URL.
dead=$(free_port)
good=$(start_scripted truncate)
"$TP_BIN" probe -q -n 1 --timeout 2 --records "$T/mixed.jsonl" "http://127.0.0.1:$dead/" "http://127.0.0.1:$good/"
expect_eq "refused connection and the next URL both reported" \
	"$(records "$T/mixed.jsonl" "sorted(x['class'] for x in r)")" "['connect_error', 'incomplete_read']"

# Bad input: one line on stderr, exit 2.
bad_input() { # NAME ARGS...
	local name=$1
	shift
	"$TP_BIN" probe "$@" >"$T/bad.out" 2>"$T/bad.err"
	local rc=$?
	expect_eq "bad input: $name -> exit 2, one line" "$rc $(wc -l <"$T/bad.err")" "2 1"
}
bad_input "unknown option" --frobnicate http://127.0.0.1/
bad_input "malformed URL" "http://exa mple/"
bad_input "unsupported scheme" ftp://127.0.0.1/
bad_input "malformed proxy" -x "gopher://127.0.0.1:1" http://127.0.0.1/
bad_input "unreadable CA" --cacert /nonexistent/ca.pem https://127.0.0.1/
bad_input "no URL"
finish
