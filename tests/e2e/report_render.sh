#!/usr/bin/env bash
# Reports: golden Markdown and JUnit from fixed run files; the HTML parsed for its
# sections, charts and the absence of external resources; rendered by headless
# Chromium to a non-blank PNG without console errors; bad run files exit 2.
. "$(dirname "$0")/lib.sh"
D="$TP_ROOT/tests/data"

"$TP_BIN" report "$D/runs/linux.json" "$D/runs/windows.json" --label linux --label windows \
	-o "$T/cmp.html" --markdown "$T/cmp.md" --junit "$T/cmp.xml"
expect_eq "report exits 0" "$?" "0"
check "Markdown matches the golden file" diff -u "$D/golden/linux-windows.md" "$T/cmp.md"
check "JUnit matches the golden file" diff -u "$D/golden/linux-windows.junit.xml" "$T/cmp.xml"
expect_eq "verdict names the failing run" "$(grep -c 'windows: 11/60 incomplete_read' "$T/cmp.md")" "1"

html_check=$(python3 - "$T/cmp.html" <<'PY'
import sys
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.stack, self.external, self.svgs, self.errors = set(), [], [], 0, []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if 'id' in a: self.ids.add(a['id'])
        if tag == 'svg': self.svgs += 1
        for k in ('src', 'href'):
            if k in a and '//' in (a[k] or ''): self.external.append(a[k])
        if tag not in ('meta', 'br', 'img', 'input', 'link', 'line', 'polyline', 'rect', 'path', 'circle'):
            self.stack.append(tag)
    def handle_endtag(self, tag):
        if tag in ('line', 'polyline', 'rect', 'path', 'circle'): return
        if not self.stack or self.stack[-1] != tag: self.errors.append(tag); return
        self.stack.pop()
p = P(); p.feed(open(sys.argv[1]).read())
need = {'verdicts', 'summary', 'percentiles', 'timeline'}
print(sorted(need - p.ids), p.svgs >= 2, p.external, p.errors[:3], p.stack)
PY
)
expect_eq "HTML: sections and charts present, well-formed, no external resource" "$html_check" "[] True [] [] []"

# A hostile label or URL cannot inject markup.
python3 - "$D/runs/windows.json" "$T/evil.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d['targets'][0]['url'] = '<script>alert(1)</script>'
json.dump(d, open(sys.argv[2], 'w'))
PY
"$TP_BIN" report "$T/evil.json" --label '<b>x</b>' -o "$T/evil.html"
expect_eq "input is escaped" "$(grep -c '<script>\|<b>x</b>' "$T/evil.html")" "0"

if command -v chromium >/dev/null; then
	timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$T/chrome" --enable-logging=stderr --v=0 --window-size=1200,1600 \
		--screenshot="$T/cmp.png" "file://$T/cmp.html" >"$T/chrome.out" 2>"$T/chrome.err"
	distinct=$(python3 - "$T/cmp.png" <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], 'rb').read()
assert data[:8] == b'\x89PNG\r\n\x1a\n'
pos, idat, w, h = 8, b'', 0, 0
while pos < len(data):
    n, kind = struct.unpack('>I4s', data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + n]
    if kind == b'IHDR': w, h, depth, color = struct.unpack('>IIBB', body[:10])
    if kind == b'IDAT': idat += body
    pos += 12 + n
raw = zlib.decompress(idat)
bpp = 4 if color == 6 else 3
stride = w * bpp + 1
# Distinct values among the raw bytes of a sample of rows (filter bytes included):
# a blank page gives a handful, a rendered report hundreds.
print(len(set(raw[r * stride:(r + 1) * stride] [i] for r in range(0, h, max(1, h // 50)) for i in range(0, stride, 7))))
PY
)
	expect_eq "Chromium renders a non-blank page" "$([ "${distinct:-0}" -gt 20 ] && echo yes || echo "no ($distinct)")" "yes"
	expect_eq "no console errors" "$(grep -ci 'CONSOLE.*error\|Uncaught' "$T/chrome.err")" "0"
else
	not_ok "chromium installed (make deps installs it)"
fi

printf '{"schema": "tunnelprobe.run/9"}' >"$T/v9.json"
"$TP_BIN" report "$T/v9.json" -o "$T/x.html" 2>"$T/v9.err"
expect_eq "wrong schema version -> exit 2, one line" "$? $(wc -l <"$T/v9.err")" "2 1"
printf '{"schema": ' >"$T/broken.json"
"$TP_BIN" report "$T/broken.json" -o "$T/x.html" 2>"$T/broken.err"
expect_eq "malformed JSON -> exit 2 with line:column" "$? $(grep -c 'broken.json:1:' "$T/broken.err")" "2 1"
finish
