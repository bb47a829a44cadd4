#!/usr/bin/env bash
# Report from a 1,000,000-record probe records file: seconds and peak RSS of
# `tunnelprobe report RECORDS -o page.html`. Not a test: prints numbers for RESULTS.md.
set -eu
cd "$(dirname "$0")/.."
BIN=${TP_BIN:-build/tunnelprobe}
N=${N:-1000000}
T=$(mktemp -d /tmp/tp-bench-report.XXXXXX)
trap 'rm -rf "$T"' EXIT
python3 - "$T/records.jsonl" "$N" <<'PY'
import random, sys
random.seed(1)
n, t0 = int(sys.argv[2]), 1795390000.0
tpl = ('{"id":"b-%d-%d","url":"https://www.site%d.test:443/bytes/%d","class":"%s","phase":"%s",'
       '"detail":"%s","status":200,"bytes_expected":%d,"bytes_received":%d,"bytes_sent":142,'
       '"wire_received":%d,"local":"127.0.0.1:%d","remote":"127.0.0.1:3128",'
       '"proxy":"http://127.0.0.1:3128","reused":%s,"verified":true,"latency_ms":%.3f,"t":%.6f,'
       '"timings_ms":{"dns":0.1,"connect":0.3,"proxy":1.1,"tls":7.7,"first_byte":%.3f,"total":%.3f}}\n')
with open(sys.argv[1], 'w') as f:
    for i in range(n):
        size = 1000 * (1 + i % 50)
        bad = i % 600 == 0
        got = size // 3 if bad else size
        lat = random.lognormvariate(2.5, 0.6)
        f.write(tpl % (i % 4, i, i % 60, size, 'incomplete_read' if bad else 'ok', 'body' if bad else 'done',
                       '%d bytes read, %d more expected' % (got, size - got) if bad else '', size, got,
                       got + 200, 20000 + i % 40000, 'true' if i % 3 else 'false', lat,
                       t0 + i / 5000.0, lat * 0.9, lat))
PY
size=$(du -m "$T/records.jsonl" | cut -f1)
if [ -x /usr/bin/time ]; then
	/usr/bin/time -f '%e %M' -o "$T/time" "$BIN" report "$T/records.jsonl" -o "$T/page.html" --text "$T/page.txt"
	read -r secs rss <"$T/time"
else
	start=$(date +%s.%N)
	"$BIN" report "$T/records.jsonl" -o "$T/page.html" --text "$T/page.txt"
	secs=$(echo "$(date +%s.%N) - $start" | bc)
	rss=?
fi
echo "report-records: $N records ($size MB): ${secs} s, peak RSS ${rss} KiB, page $(du -k "$T/page.html" | cut -f1) KiB"
head -n 1 "$T/page.txt"
