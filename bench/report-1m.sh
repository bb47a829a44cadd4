#!/usr/bin/env bash
# A run of 1,000,000 requests (the replay origin, direct, c=50), then the report of it:
# the run file stays small (histogram buckets, per-second series, 100 failure samples),
# so rendering time and memory do not grow with the number of records.
. "$(dirname "$0")/lib.sh"
N=${N:-1000000}
start_tp origin origin --listen 127.0.0.1:0
cpu_of "$TP_BIN" probe -q -n "$N" -c 50 --json "$T/run.json" --records "$T/records.jsonl" \
	"http://127.0.0.1:$TP_HTTP/bytes/1024"
echo "report-1m: probe $(json "$T/run.json" "d['requests'], d['classes']") in $(json "$T/run.json" "round(d['duration_s'], 1)") s;" \
	"records $(wc -l <"$T/records.jsonl") lines, $(du -m "$T/records.jsonl" | cut -f1) MiB; run.json $(du -k "$T/run.json" | cut -f1) KiB"
/usr/bin/time -f "%e %M" -o "$T/rt" "$TP_BIN" report "$T/run.json" -o "$T/r.html" --markdown "$T/r.md"
read -r secs kib <"$T/rt"
echo "  report: ${secs} s, peak RSS $((kib / 1024)) MiB, $(du -k "$T/r.html" | cut -f1) KiB of HTML"
finish
