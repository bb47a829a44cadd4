#!/usr/bin/env bash
# The test runner: every cmocka unit test binary, then every end-to-end script.
# Unit tests report in TAP (CMOCKA_MESSAGE_OUTPUT=TAP); e2e scripts print TAP-style
# "ok - name" / "not ok - name" lines themselves (tests/e2e/lib.sh). A binary or script
# that dies or times out counts as one failure. A line "ok ... # SKIP why" is a skip,
# counted apart from passes and listed with its reason at the end.
# Ends with "N passed, N failed, N skipped".
# TESTS=pattern runs only matching unit binaries / e2e scripts.
# TP_REQUIRE_PEERS=1 (set by `make test`, after `make deps`): a peer program that is
# missing fails its test instead of skipping it.
set -u
cd "$(dirname "$0")/.."
build=${TP_BUILD:-build}
export TP_BIN="$PWD/$build/tunnelprobe" TP_BUILD="$PWD/$build" TP_ROOT="$PWD"
pattern=${TESTS:-}
passed=0 failed=0 skipped=0
logdir="$build/test-logs"
mkdir -p "$logdir"
: >"$logdir/skips"

count() { # $1 = log file, $2 = exit code, $3 = name
	local ok notok skip
	skip=$(grep -cE '^ok .*# SKIP' "$1")
	ok=$(($(grep -cE '^ok ' "$1") - skip))
	notok=$(grep -cE '^not ok ' "$1")
	if [ "$2" -ne 0 ] && [ "$notok" -eq 0 ]; then
		notok=1
		echo "not ok - $3 exited with status $2"
	fi
	grep -E '^not ok ' "$1" | sed "s|^|  $3: |"
	grep -E '^ok .*# SKIP' "$1" | sed -E "s|^ok [0-9]* *-? *|  $3: |" >>"$logdir/skips"
	passed=$((passed + ok))
	failed=$((failed + notok))
	skipped=$((skipped + skip))
	printf '%-40s %d passed, %d failed, %d skipped (%ds)\n' "$3" "$ok" "$notok" "$skip" $((SECONDS - started))
}

for src in tests/unit/test_*.c; do
	name=$(basename "$src" .c)
	t="$build/tests/$name"
	[ -n "$pattern" ] && [[ "$name" != *$pattern* ]] && continue
	if [ ! -x "$t" ]; then
		echo "not ok - $name was not built" >"$logdir/$name.log"
		started=$SECONDS
		count "$logdir/$name.log" 1 "$name"
		continue
	fi
	started=$SECONDS
	CMOCKA_MESSAGE_OUTPUT=TAP timeout 120 "$t" >"$logdir/$name.log" 2>&1
	rc=$?
	count "$logdir/$name.log" "$rc" "$name"
	[ "$rc" -ne 0 ] && tail -n 30 "$logdir/$name.log"
done

for s in tests/e2e/*.sh; do
	[ -f "$s" ] || continue
	case "$(basename "$s")" in lib.sh | peers.sh | peers_*.sh) continue ;; esac
	name=$(basename "$s" .sh)
	[ -n "$pattern" ] && [[ "$name" != *$pattern* ]] && continue
	started=$SECONDS
	timeout -k 5 600 bash "$s" >"$logdir/$name.log" 2>&1
	rc=$?
	count "$logdir/$name.log" "$rc" "e2e/$name"
	[ "$rc" -ne 0 ] && tail -n 40 "$logdir/$name.log"
done

if [ "$skipped" -gt 0 ]; then
	echo "skipped, and why:"
	cat "$logdir/skips"
fi
echo "took ${SECONDS}s"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
