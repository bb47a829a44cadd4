#!/usr/bin/env bash
# Runs a Windows program of build/win64 under Wine, headless and quiet, in the
# project's own Wine prefix (build/win64/wineprefix, made on first use with
# `wineboot --init`, ~6 s; later starts reuse it and its running wineserver).
#   scripts/wine.sh PROGRAM.exe [ARGS...]   runs it; exits with its status
#   scripts/wine.sh --check                 exit 0 when Wine is installed, else 1 with why
#   scripts/wine.sh --stop                  stops this prefix's wineserver (wineserver -k),
#                                           ending every Wine program in the prefix
# Debian's wine64 package puts the binary in /usr/lib/wine (not on PATH) unless the
# `wine` package is installed too; WINE=path overrides the search.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
wine=
for c in ${WINE:-/usr/lib/wine/wine64 "$(command -v wine64 2>/dev/null)" "$(command -v wine 2>/dev/null)"}; do
	[ -n "$c" ] && [ -x "$c" ] && { wine=$c; break; }
done
wineserver=$(dirname "${wine:-/usr/lib/wine/wine64}")/wineserver
[ -x "$wineserver" ] || wineserver=$(command -v wineserver 2>/dev/null || echo wineserver)
export WINEPREFIX=${WINEPREFIX:-$root/build/win64/wineprefix}
export WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml=" DISPLAY=

case "${1:-}" in
--check)
	[ -n "$wine" ] && exit 0
	echo "wine64 is not installed (make deps installs it: /usr/lib/wine/wine64)" >&2
	exit 1 ;;
--stop)
	[ -d "$WINEPREFIX" ] && "$wineserver" -k 2>/dev/null
	exit 0 ;;
"")
	echo "usage: scripts/wine.sh PROGRAM.exe [ARGS...] | --check | --stop" >&2
	exit 2 ;;
esac
if [ -z "$wine" ]; then
	echo "wine64 is not installed (make deps installs it)" >&2
	exit 127
fi
if [ ! -f "$WINEPREFIX/system.reg" ]; then
	# Made once, under a lock: two programs started at once (tests run in parallel)
	# must not both initialise the prefix.
	mkdir -p "$WINEPREFIX"
	exec 9>"$WINEPREFIX.lock"
	flock 9
	if [ ! -f "$WINEPREFIX/system.reg" ]; then
		"$wine" wineboot --init >/dev/null 2>&1 || { echo "wineboot --init failed in $WINEPREFIX" >&2; exit 1; }
	fi
	flock -u 9
	exec 9>&-
fi
exec "$wine" "$@"
