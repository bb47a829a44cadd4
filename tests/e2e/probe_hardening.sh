#!/usr/bin/env bash
# The probe against hostile servers found in issue 14 (tests/peers/scripted.py): a flood
# of interim 100 responses ends at --timeout (plus 10%), not when the server tires; a
# malformed or contradicting X-Tp-Length / X-Tp-Seed is a protocol_error with a detail,
# never an ok whose check was skipped.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/peers.sh"

# 100-Continue flood: the head-read loop is bounded per event, so the 1 s deadline fires.
port=$(start_scripted continue-flood)
t0=$(date +%s%N)
timeout 60 "$TP_BIN" probe -q -n 1 --timeout 1 --records "$T/flood.jsonl" "http://127.0.0.1:$port/x"
rc=$?
t1=$(date +%s%N)
wall_ms=$(((t1 - t0) / 1000000))
expect_eq "100-continue flood -> timeout in headers (exit 1)" \
	"$rc $(records "$T/flood.jsonl" "[(x['class'], x['phase']) for x in r]")" "1 [('timeout', 'headers')]"
expect_eq "100-continue flood: the request ends within --timeout + 10%" \
	"$(records "$T/flood.jsonl" "[1000 <= x['timings_ms']['total'] <= 1100 for x in r]")" "[True]"
# The process as a whole: startup and exit on top of the request (a hang took 29.6 s).
expect_eq "100-continue flood: the run ends (wall ${wall_ms} ms < 5000)" "$((wall_ms < 5000))" 1

# Malformed announcements: each a protocol_error in phase headers, with the header named.
port=$(start_scripted tp-headers)
hdr_case() { # PATH WANT_DETAIL_SUBSTRING
	"$TP_BIN" probe -q -n 1 --timeout 5 --records "$T/h.jsonl" "http://127.0.0.1:$port$1"
	local rc=$?
	expect_eq "$1 -> protocol_error/headers naming the header (exit 1)" \
		"$rc $(WANT=$2 records "$T/h.jsonl" "[(x['class'], x['phase'], __import__('os').environ['WANT'] in x['detail']) for x in r]")" \
		"1 [('protocol_error', 'headers', True)]"
}
hdr_case /len-max "bad X-Tp-Length '18446744073709551615'"
hdr_case /len-overflow "bad X-Tp-Length '99999999999999999999'"
hdr_case /len-alpha "bad X-Tp-Length '12ab'"
hdr_case /len-negative "bad X-Tp-Length '-5'"
hdr_case /seed-dup "bad X-Tp-Seed 'zz'"
# The same server with no X-Tp-* header at all is fine (nothing announced, nothing checked).
"$TP_BIN" probe -q -n 1 --timeout 5 --records "$T/plain.jsonl" "http://127.0.0.1:$port/plain"
expect_eq "no announcement -> ok, unverified" "$(records "$T/plain.jsonl" "[(x['class'], x['verified']) for x in r]")" \
	"[('ok', False)]"
finish
