#!/usr/bin/env bash
# The Windows build under Wine: `make windows` cross-compiles lib/ and the programs of
# tests/win/ with mingw-w64, then each test program runs under Wine (scripts/wine.sh,
# a prefix under build/win64) and its "ok"/"not ok" lines count here one by one.
# measure_short_send asks Wine whether an overlapped WSASend completes short (the
# answer is recorded in docs/windows.md); its run must finish and say so in a summary.
# Without the mingw compiler or Wine this is a skip, or a failure under `make test`
# (TP_REQUIRE_PEERS=1, whose `make deps` installs both).
. "$(dirname "$0")/lib.sh"
cd "$TP_ROOT"

wine_ok=0
if bash scripts/wine.sh --check 2>/dev/null; then
	wine_ok=1
elif [ "${TP_REQUIRE_PEERS:-0}" = 1 ]; then
	not_ok "windows: wine" "wine64 is not installed (make deps installs it: /usr/lib/wine/wine64)"
else
	skip "windows: wine" "wine64 is not installed (make deps installs it: /usr/lib/wine/wine64)"
fi
need_cmd x86_64-w64-mingw32-gcc-posix "windows: mingw-w64 compiler" || finish
[ "$wine_ok" = 1 ] || finish

start=$(date +%s.%N)
if make --no-print-directory -j2 windows >"$T/make.log" 2>&1; then
	ok "windows: make windows (-Wall -Wextra -Werror)"
else
	tail -n 30 "$T/make.log"
	not_ok "windows: make windows" "see the compiler output above"
	finish
fi
built=$(date +%s.%N)

# Runs one program under Wine, bounded; its TAP lines pass through to the runner.
run_win() { # $1 = program, $2 = name for messages
	local rc=0
	# Windows' stdio ends lines with CR LF.
	timeout -k 5 300 bash scripts/wine.sh "$1" 2>"$T/err" | tr -d '\r' >"$T/out"
	rc=${PIPESTATUS[0]}
	grep -E '^(ok|not ok|#) ' "$T/out"
	if [ "$rc" -ne 0 ] && ! grep -q '^not ok ' "$T/out"; then
		tail -n 20 "$T/err"
		not_ok "$2 exited with status $rc"
	fi
	[ "$rc" -eq 0 ] || _tp_failed=1
	return 0
}

for exe in build/win64/tests/test_*.exe; do
	run_win "$exe" "windows: $(basename "$exe" .exe)"
done

timeout -k 5 120 bash scripts/wine.sh build/win64/tests/measure_short_send.exe 2>&1 |
	tr -d '\r' >"$T/measure"
rc=${PIPESTATUS[0]}
sed 's/^/# /' "$T/measure"
if [ "$rc" -eq 0 ] && grep -qE '^summary: short completions [0-9]+ of [0-9]+$' "$T/measure"; then
	ok "windows: WSASend completions measured under Wine ($(grep '^summary' "$T/measure" | cut -d' ' -f2-))"
else
	not_ok "windows: WSASend measurement" "exit $rc, no summary line"
fi
ran=$(date +%s.%N)

# No `wine.sh --stop` here: other tests may be running Wine programs in the same prefix
# (tests/run.sh runs two scripts at a time); wineserver ends by itself after the last.
echo "# windows: build $(printf '%.1f' "$(echo "$built - $start" | bc)") s, Wine runs $(printf '%.1f' "$(echo "$ran - $built" | bc)") s"
finish
