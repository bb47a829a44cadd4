# bench/lib.sh — shared by the benchmarks: builds, temp dir, nginx with generated
# payload files, CPU time of a command. Loopback only; every run is bounded by its own
# duration or request count. Benchmarks print ratios against peers measured in the same
# run; they are not tests and assert nothing.
set -u
cd "$(dirname "$0")/.."
make -s all >/dev/null || exit 1
TP_BIN=$PWD/build/tunnelprobe
TP_ROOT=$PWD
. tests/e2e/lib.sh
. tests/e2e/peers.sh
# cpu_of CMD...: runs CMD, prints its stdout to $T/cpu.out, sets CPU (user+sys seconds)
cpu_of() {
	/usr/bin/time -f "%U %S" -o "$T/time.out" "$@" >"$T/cpu.out" 2>"$T/cpu.err"
	CPU=$(awk '{print $1 + $2}' "$T/time.out")
}
ratio() { python3 -c "print(f'{$1 / $2:.2f}')"; }
