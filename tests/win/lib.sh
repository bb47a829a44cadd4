# tests/win/lib.sh — sourced by tests/e2e/win_*.sh after tests/e2e/lib.sh: the Windows
# build (build/win64/tunnelprobe.exe) under Wine, for end-to-end scripts.
#   win_ready                   true when Wine and the build are there (building it with
#                               `make windows` if needed); otherwise one skip — or a
#                               failure under `make test` (TP_REQUIRE_PEERS=1, after
#                               `make deps`) — and false
#   start_win NAME ARGS...      runs `tunnelprobe.exe ARGS` under Wine in the background
#                               (killed at exit); WIN_PID, WIN_PORT (its first listening
#                               line), WIN_HTTP (an origin's http line); false if it
#                               printed none within 60 s (a cold Wine prefix takes ~6 s)
#   win_stop PID                SIGINT (Wine's Ctrl-C, which the build drains on; SIGTERM
#                               would end it at once) and waits up to 10 s; its status
#   win_out NAME                its stdout without the CRs Windows ends lines with
WIN_EXE=$TP_ROOT/build/win64/tunnelprobe.exe
WINE_SH=$TP_ROOT/scripts/wine.sh

win_ready() {
	local why=
	if ! bash "$WINE_SH" --check 2>/dev/null; then
		why="wine64 is not installed (make deps installs it)"
	elif ! command -v x86_64-w64-mingw32-gcc-posix >/dev/null && [ ! -f "$WIN_EXE" ]; then
		why="the mingw-w64 compiler is not installed (make deps installs it)"
	elif ! (cd "$TP_ROOT" && make --no-print-directory -j2 windows >"$T/make-windows.log" 2>&1); then
		tail -n 20 "$T/make-windows.log"
		not_ok "windows: make windows" "see the compiler output above"
		return 1
	fi
	[ -z "$why" ] && return 0
	if [ "${TP_REQUIRE_PEERS:-0}" = 1 ]; then
		not_ok "windows build under Wine" "$why"
	else
		skip "windows build under Wine" "$why"
	fi
	return 1
}

win_out() { tr -d '\r' <"$T/$1.out"; }

start_win() {
	local name=$1 i
	shift
	bash "$WINE_SH" "$WIN_EXE" "$@" >"$T/$name.out" 2>"$T/$name.err" &
	WIN_PID=$!
	_tp_pids+=("$WIN_PID")
	for ((i = 0; i < 1200; i++)); do
		grep -q '^listening' "$T/$name.out" 2>/dev/null && break
		kill -0 "$WIN_PID" 2>/dev/null || break
		sleep 0.05
	done
	WIN_PORT=$(win_out "$name" | sed -n 's/^listening \([0-9.]*\|\[.*\]\):\([0-9]*\)$/\2/p' | head -1)
	WIN_HTTP=$(win_out "$name" | sed -n 's/^listening http .*:\([0-9]*\)$/\1/p' | head -1)
	[ -n "$WIN_PORT$WIN_HTTP" ]
}

win_stop() {
	local i
	kill -INT "$1" 2>/dev/null
	for ((i = 0; i < 200; i++)); do
		kill -0 "$1" 2>/dev/null || break
		sleep 0.05
	done
	wait "$1" 2>/dev/null
}
