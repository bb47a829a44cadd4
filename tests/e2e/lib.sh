# tests/e2e/lib.sh — sourced by every end-to-end script.
#   ok NAME / not_ok NAME [WHY]    TAP-style result lines that tests/run.sh counts
#   skip NAME WHY                  a check that could not run here: counted apart from
#                                  passes, with its reason ("ok - NAME # SKIP WHY")
#   need_cmd CMD NAME              true when CMD is on PATH; when it is not, NAME is a
#                                  skip — or a failure when TP_REQUIRE_PEERS=1 (set by
#                                  `make test`, whose `make deps` installs every peer)
#   need_root NAME                 true as root; otherwise NAME is a skip
#   check NAME CMD...              runs CMD; ok when it exits 0
#   expect_eq NAME GOT WANT        ok when equal, else prints both
#   free_port                      prints a free TCP port on 127.0.0.1 (bind to port 0)
#   wait_port PORT [SECS]          waits until 127.0.0.1:PORT accepts connections
#   bg CMD...                      starts CMD in the background, killed at exit
#   tmpdir                         $T, a private directory removed at exit
# Everything talks to loopback only; every wait is bounded.
set -u
TP_BIN=${TP_BIN:-$PWD/build/tunnelprobe}
TP_ROOT=${TP_ROOT:-$PWD}
T=$(mktemp -d /tmp/tp-e2e.XXXXXX)
chmod 755 "$T" # servers that drop privileges (nginx workers) read files here
_tp_pids=()
_tp_failed=0

_tp_cleanup() {
	local p
	# Servers started from command substitutions record their pids in $T/pids.
	[ -f "$T/pids" ] && while read -r p; do _tp_pids+=("$p"); done <"$T/pids"
	for p in "${_tp_pids[@]}"; do kill "$p" 2>/dev/null; done
	sleep 0.1
	for p in "${_tp_pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "${KEEP_T:-}" ] || rm -rf "$T"
}
trap _tp_cleanup EXIT

ok() { echo "ok - $1"; }
not_ok() { echo "not ok - $1${2:+ ($2)}"; _tp_failed=1; }
skip() { echo "ok - $1 # SKIP $2"; }
need_cmd() {
	command -v "$1" >/dev/null && return 0
	if [ "${TP_REQUIRE_PEERS:-0}" = 1 ]; then
		not_ok "$2" "$1 is not installed (make deps installs it)"
	else
		skip "$2" "$1 is not installed (make deps installs it)"
	fi
	return 1
}
need_root() {
	[ "$(id -u)" -eq 0 ] && return 0
	skip "$1" "needs root (live capture on lo)"
	return 1
}
check() {
	local name=$1; shift
	if "$@"; then ok "$name"; else not_ok "$name" "command failed: $*"; fi
}
expect_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "got '$2', want '$3'"; fi
}
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}
wait_port() {
	local port=$1 secs=${2:-10} i
	for ((i = 0; i < secs * 20; i++)); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
		sleep 0.05
	done
	echo "wait_port: nothing listens on 127.0.0.1:$port after ${secs}s" >&2
	return 1
}
bg() {
	"$@" &
	_tp_pids+=($!)
}
# Exit status for the script: non-zero when any check failed.
finish() { exit "$_tp_failed"; }
