#!/usr/bin/env bash
# Reports: golden text, Markdown and JUnit from fixed run files (linux healthy, windows
# with the IOCP truncation: 10/60 incomplete_read); the HTML parsed for every section and
# chart, well-formedness and the absence of external resources; the capture joined from
# a run folder; rendered by headless Chromium to a non-blank PNG without console errors;
# hostile strings escaped; bad run files exit 2 with one line.
. "$(dirname "$0")/lib.sh"
D="$TP_ROOT/tests/data"

"$TP_BIN" report "$D/runs/linux.json" "$D/runs/windows.json" --label linux --label windows \
	-o "$T/cmp.html" --text "$T/cmp.txt" --markdown "$T/cmp.md" --junit "$T/cmp.xml"
expect_eq "report exits 0" "$?" "0"
check "text matches the golden file" diff -u "$D/golden/linux-windows.txt" "$T/cmp.txt"
check "Markdown matches the golden file" diff -u "$D/golden/linux-windows.md" "$T/cmp.md"
check "JUnit matches the golden file" diff -u "$D/golden/linux-windows.junit.xml" "$T/cmp.xml"
expect_eq "verdict sentence" "$(head -n 1 "$T/cmp.txt")" \
	"verdict: windows: 10/60 incomplete_read at proxy→client; linux: 60/60 ok"
check "JUnit is well-formed XML" python3 -c 'import sys, xml.dom.minidom as m; m.parse(sys.argv[1])' "$T/cmp.xml"

# The HTML, parsed: sections, charts, one curve per run, chains, well-formed, offline.
html_check() {
	python3 - "$1" <<'PY'
import re, sys
from html.parser import HTMLParser
VOID = {'meta', 'br', 'img', 'input', 'link', 'hr'}
SVG_LEAF = {'line', 'polyline', 'rect', 'path', 'circle'}
class P(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.stack, self.external, self.errors = set(), [], [], []
        self.svgs, self.curves, self.hops, self.drops, self.flags = 0, 0, 0, 0, 0
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if 'id' in a: self.ids.add(a['id'])
        cls = (a.get('class') or '').split()
        if tag == 'svg': self.svgs += 1
        if tag == 'polyline' and 'curve' in cls: self.curves += 1
        if 'hop' in cls: self.hops += 1
        if 'drop' in cls: self.drops += 1
        if 'flag' in cls: self.flags += 1
        for k in ('src', 'href', 'xlink:href', 'action', 'data'):
            if a.get(k): self.external.append(a[k])
        if re.search(r'url\(|@import|https?:', a.get('style') or ''): self.external.append(a['style'])
        if tag not in VOID and tag not in SVG_LEAF: self.stack.append(tag)
    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID and tag not in SVG_LEAF: self.stack.pop()
    def handle_endtag(self, tag):
        if tag in SVG_LEAF: return
        if not self.stack or self.stack[-1] != tag: self.errors.append(tag); return
        self.stack.pop()
    def handle_data(self, data):
        if self.stack and self.stack[-1] == 'style' and re.search(r'url\(|@import', data):
            self.external.append('css')
text = open(sys.argv[1], encoding='utf-8').read()
p = P(); p.feed(text); p.close()
need = {'verdict', 'runs', 'classes', 'classes-chart', 'summary', 'latency', 'percentiles',
        'timeline', 'throughput', 'latency-time', 'targets', 'failures', 'commands'}
print(sorted(need - p.ids), p.svgs, p.curves, p.hops, p.drops, p.flags,
      p.external, p.errors[:3], p.stack, '<script' in text.lower())
PY
}
# Ten identical truncations are one card "x10": one chain drawn, every sample listed.
expect_eq "HTML: every section and chart, curves overlaid, one card per kind of failure with its chain and flags, well-formed, offline" \
	"$(html_check "$T/cmp.html")" "[] 4 2 6 1 3 [] [] [] False"
expect_eq "HTML: the card counts its samples and lists them all" \
	"$(grep -c '&#215;10<' "$T/cmp.html") $(grep -o '<summary>all 10 samples</summary>' "$T/cmp.html" | wc -l) $(grep -c '<td class="l">a6495c-0-' "$T/cmp.html")" "1 1 10"
expect_eq "HTML: the command line to repeat the run" \
	"$(grep -c "tunnelprobe probe -q --json" "$T/cmp.html")" "2"

# A run folder: its capture.json is joined (chain, verdict, flags) by the report itself.
"$TP_BIN" report "$D/runs/windows" --label windows -o "$T/folder.html" --text "$T/folder.txt"
expect_eq "run folder: capture joined, hop named" "$(head -n 1 "$T/folder.txt")" \
	"verdict: windows: 10/60 incomplete_read at proxy→client"
expect_eq "run folder: the chain drawn once for its card" "$(grep -o 'class="hop drop"' "$T/folder.html" | wc -l)" "1"

# Newer run files: a clean soak, skipped expectations, the proxy object, the probe's
# phases, open-loop misses and verification, run's diagnosis. Skips show as skipped
# everywhere (never as passes); the headline of a clean run reads N/N ok.
python3 - "$D/runs/linux.json" "$T/new.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
scale = 200
d['requests'] *= scale; d['ok'] *= scale; d['classes'] = {'ok': d['ok']}
d['histogram']['buckets'] = [[lo, hi, n * scale] for lo, hi, n in d['histogram']['buckets']]
for t in d['targets']:
    t['requests'] *= scale; t['ok'] *= scale; t['classes'] = {'ok': t['ok']}
    if 'histogram' in t:
        t['histogram']['buckets'] = [[lo, hi, n * scale] for lo, hi, n in t['histogram']['buckets']]
d['timeseries'] = []
d['run_id'] = 'soak-1763851234-4242'
d['proxy'] = {'url': 'http://127.0.0.1:3128', 'kind': 'reference', 'build': 'tunnelprobe 0.1.0',
              'platform': 'linux/x86_64', 'backend': 'epoll', 'build_source': 'proxy',
              'fault': 'truncate:after=32768 p=0.34 seed=6', 'simulated': True,
              'note': 'Linux reference proxy with a short-send fault, not a Windows build'}
d['phases_ms'] = {p: {'mean': 1.0 + i, 'p50': 0.9 + i, 'p90': 1.5 + i, 'p99': 2.5 + i, 'max': 4.0 + i}
                  for i, p in enumerate(['dns', 'connect', 'proxy', 'tls', 'first_byte'])}
d['open_loop'] = {'rate': 100.0, 'due': 200, 'sent': 40, 'missed': 160}
d['verified'] = d['ok']; d['unverified'] = 0
d['diagnosis'] = 'cause: the proxy refused every request (CONNECT 500)'
d['expectations'] = [
    {'expect': 'class ok == 12000: got 12000', 'result': 'pass', 'pass': True, 'got': 12000, 'line': 9},
    {'expect': 'no_new_class: skipped (no baseline)', 'result': 'skip', 'pass': True, 'got': None, 'line': 10},
    {'expect': 'missed <= 0: got 160', 'result': 'fail', 'pass': False, 'got': 160, 'line': 11}]
json.dump(d, open(sys.argv[2], 'w'))
PY
"$TP_BIN" report "$T/new.json" --label soak -o "$T/new.html" --text "$T/new.txt" --markdown "$T/new.md" --junit "$T/new.xml"
expect_eq "new fields: report exits 0" "$?" "0"
expect_eq "clean soak headline: N/N ok" "$(head -n 1 "$T/new.txt")" "verdict: soak: 12000/12000 ok"
expect_eq "skipped expectation: HTML marks it skipped, not passed" \
	"$(grep -c '<div class="mute skip">&#8211; skipped soak: no_new_class: skipped (no baseline)</div>' "$T/new.html") $(grep -c '&#10003; soak: no_new_class' "$T/new.html")" "1 0"
expect_eq "skipped expectation: Markdown says skip" \
	"$(grep -c '^- skip soak: no_new_class: skipped (no baseline)$' "$T/new.md") $(grep -c '^- \*\*FAIL\*\* soak: missed' "$T/new.md")" "1 1"
expect_eq "skipped expectation: JUnit <skipped/>, counted apart from failures" \
	"$(python3 -c '
import sys, xml.dom.minidom as m
d = m.parse(sys.argv[1]); s = d.getElementsByTagName("testsuite")[0]
cases = {c.getAttribute("name"): c for c in d.getElementsByTagName("testcase")}
print(s.getAttribute("skipped"), s.getAttribute("failures"),
      len(cases["no_new_class: skipped (no baseline)"].getElementsByTagName("skipped")),
      len(cases["missed <= 0: got 160"].getElementsByTagName("failure")))' "$T/new.xml")" "1 1 1 1"
expect_eq "a chart per phase, open-loop misses, verification rows" \
	"$(grep -o 'id="phase-[a-z_]*"' "$T/new.html" | tr '\n' ' ')$(grep -c '40 of 200 scheduled starts sent, 160 missed (-c too low or generator saturated)' "$T/new.html") $(grep -c '^open-loop starts missed  *160$' "$T/new.txt") $(grep -c '^verified bodies  *12000$' "$T/new.txt")" \
	"id=\"phase-dns\" id=\"phase-connect\" id=\"phase-proxy\" id=\"phase-tls\" id=\"phase-first_byte\" 1 1 1"
expect_eq "the proxy object and the simulated note shown; the diagnosis too" \
	"$(grep -c 'reference proxy <code>http://127.0.0.1:3128</code><br>tunnelprobe 0.1.0 linux/x86_64 epoll<br>fault <code>truncate:after=32768 p=0.34 seed=6</code><br><b>simulated:</b> Linux reference proxy' "$T/new.html") $(grep -c '<b>soak is simulated:</b> Linux reference proxy with a short-send fault, not a Windows build' "$T/new.html") $(sed -n 2,3p "$T/new.txt" | tr '\n' '|')" \
	"1 1 soak is simulated: Linux reference proxy with a short-send fault, not a Windows build|soak: cause: the proxy refused every request (CONNECT 500)|"
expect_eq "new fields: HTML well-formed, offline" "$(html_check "$T/new.html" | cut -d' ' -f1,2,7-)" "[] 7 [] [] [] False"
# An older run file's proxy (a URL string) still reads.
expect_eq "proxy as a string (older run files)" "$(grep -o '<td class="l">http://127.0.0.1:[0-9]*</td>' "$T/cmp.html" | wc -l)" "2"

# Without chains: the class and phase alone.
python3 - "$D/runs/windows.json" "$T/bare.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
for f in d['failures']:
    for k in ('chain', 'verdict', 'verdict_code', 'flags'): f.pop(k, None)
json.dump(d, open(sys.argv[2], 'w'))
PY
"$TP_BIN" report "$T/bare.json" --text "$T/bare.txt"
expect_eq "no ledger chain: location from the class" "$(head -n 1 "$T/bare.txt")" \
	"verdict: windows: 10/60 incomplete_read in phase body"

# Hostile strings cannot inject markup.
python3 - "$D/runs/windows.json" "$T/evil.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d['targets'][0]['url'] = '<script>alert(1)</script>'
d['failures'][0]['url'] = '"><img src=x onerror=alert(1)>'
d['failures'][0]['verdict'] = '<iframe src="http://evil/">'
d['command'].append("it's <b>bold</b>")
d['host'] = '</td><script>x</script>'
json.dump(d, open(sys.argv[2], 'w'))
PY
"$TP_BIN" report "$T/evil.json" --label '<b>x</b>' -o "$T/evil.html" --markdown "$T/evil.md" --junit "$T/evil.xml"
expect_eq "input is escaped in HTML" "$(grep -c '<script\|<b>x</b>\|<img\|<iframe' "$T/evil.html")" "0"
expect_eq "escaped HTML still well-formed, nothing external" "$(html_check "$T/evil.html")" "[] 4 1 6 1 3 [] [] [] False"
check "escaped JUnit still well-formed" python3 -c 'import sys, xml.dom.minidom as m; m.parse(sys.argv[1])' "$T/evil.xml"
expect_eq "input is escaped in Markdown" "$(grep -c '<script\|<b>' "$T/evil.md")" "0"

if command -v chromium >/dev/null; then
	timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$T/chrome" --enable-logging=stderr --v=0 --window-size=1200,2000 \
		--screenshot="$T/cmp.png" "file://$T/cmp.html" >"$T/chrome.out" 2>"$T/chrome.err"
	distinct=$(python3 - "$T/cmp.png" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], 'rb').read()
assert data[:8] == b'\x89PNG\r\n\x1a\n'
pos, idat, w, h, color = 8, b'', 0, 0, 2
while pos < len(data):
    n, kind = struct.unpack('>I4s', data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b'IHDR': w, h, depth, color = struct.unpack('>IIBB', body[:10])
    if kind == b'IDAT': idat += body
    pos += 12 + n
raw = zlib.decompress(idat)
bpp = 4 if color == 6 else 3
stride = w * bpp + 1
# Undo the PNG filters, then count distinct pixel colours: a blank page has one or two.
prev, seen = bytearray(stride - 1), set()
for r in range(h):
    f, line = raw[r * stride], bytearray(raw[r * stride + 1:(r + 1) * stride])
    for i in range(len(line)):
        a = line[i - bpp] if i >= bpp else 0
        b = prev[i]
        c = prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
            line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    if r % 8 == 0:
        for x in range(0, w, 4): seen.add(bytes(line[x * bpp:x * bpp + 3]))
    prev = line
print(len(seen))
PY
)
	expect_eq "Chromium renders a non-blank page" "$([ "${distinct:-0}" -gt 20 ] && echo yes || echo "no ($distinct colours)")" "yes"
	expect_eq "no console errors" "$(grep -ci 'CONSOLE.*error\|Uncaught\|Refused to' "$T/chrome.err")" "0"
else
	not_ok "chromium installed (make deps installs it)"
fi

printf '{"schema": "tunnelprobe.run/9"}' >"$T/v9.json"
"$TP_BIN" report "$T/v9.json" -o "$T/x.html" 2>"$T/v9.err"
expect_eq "wrong schema version -> exit 2, one line" "$? $(wc -l <"$T/v9.err")" "2 1"
printf '{"schema": ' >"$T/broken.json"
"$TP_BIN" report "$T/broken.json" -o "$T/x.html" 2>"$T/broken.err"
expect_eq "malformed JSON -> exit 2 with line:column" "$? $(grep -c 'broken.json:1:' "$T/broken.err")" "2 1"
printf '{"schema": "tunnelprobe.run/1", "requests": 5, "ok": 9, "classes": {}, "latency_ms": {}, "targets": []}' >"$T/bad.json"
"$TP_BIN" report "$T/bad.json" 2>"$T/bad.err" >/dev/null
expect_eq "inconsistent counts -> exit 2" "$? $(grep -c "'ok' exceeds" "$T/bad.err")" "2 1"
python3 - "$D/runs/windows.json" "$T/badhist.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); d['histogram']['buckets'][0] = [1, 1000, 5]
json.dump(d, open(sys.argv[2], 'w'))
PY
"$TP_BIN" report "$T/badhist.json" 2>"$T/badhist.err" >/dev/null
expect_eq "a histogram bucket not ours -> exit 2" "$? $(grep -c "histogram" "$T/badhist.err")" "2 1"
"$TP_BIN" report "$T/missing.json" 2>"$T/missing.err" >/dev/null
expect_eq "missing file -> exit 2" "$? $(wc -l <"$T/missing.err")" "2 1"
"$TP_BIN" report "$D/runs/linux.json" --label a --label b 2>"$T/labels.err" >/dev/null
expect_eq "labels must match the runs -> exit 2" "$?" "2"
"$TP_BIN" report --frobnicate 2>/dev/null
expect_eq "unknown option -> exit 2" "$?" "2"
finish
