#!/usr/bin/env python3
"""Generates the hand-made captures under tests/data/pcap/ (and fuzz seeds).

Each file is one edge case the capture correlator must get right; the expectations live
in tests/unit/test_capture_files.c. Deterministic: the same bytes on every run, so the
generated files are committed and this script only has to be re-run when a case changes.

    python3 tests/data/mkpcap.py            # rewrites tests/data/pcap/ and fuzz seeds
    python3 tests/data/mkpcap.py synflood N FILE
                                            # N SYN-only flows (tests generate these large
                                            # files where they run; none is committed)
"""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "pcap")
ROOT = os.path.dirname(os.path.dirname(HERE))
FUZZ = os.path.join(ROOT, "fuzz", "corpus")

EN10MB, NULL, RAW, LOOP, SLL, SLL2 = 1, 0, 101, 108, 113, 276
FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip_tcp(v6, src, dst, sport, dport, seq, ack, flags, payload, win=65535, opts=b"",
           bad_csum=False):
    thl = 20 + len(opts)
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      (thl // 4) << 4, flags, win, 0, 0) + opts + payload
    if v6:
        pseudo = src + dst + struct.pack("!I3xB", len(tcp), 6)
    else:
        pseudo = src + dst + struct.pack("!xBH", 6, len(tcp))
    c = csum(pseudo + tcp)
    if bad_csum:
        c ^= 0x5A5A
    tcp = tcp[:16] + struct.pack("!H", c) + tcp[18:]
    if v6:
        hdr = struct.pack("!IHBB", 6 << 28, len(tcp), 6, 64) + src + dst
    else:
        hdr = struct.pack("!BBHHHBBH", 0x45, 0, 20 + len(tcp), 0, 0x4000, 64, 6, 0) + src + dst
        hdr = hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]
    return hdr + tcp


def link_hdr(link, v6):
    et = 0x86DD if v6 else 0x0800
    if link == EN10MB:
        return b"\0" * 12 + struct.pack("!H", et)
    if link == NULL:  # host order of a little-endian BSD writer; macOS AF_INET6 = 30
        return struct.pack("<I", 30 if v6 else 2)
    if link == LOOP:  # network order; OpenBSD AF_INET6 = 24
        return struct.pack("!I", 24 if v6 else 2)
    if link == SLL:
        return struct.pack("!HHH8sH", 0, 772, 6, b"\0" * 8, et)
    if link == SLL2:
        return struct.pack("!HHIHBB8s", et, 0, 1, 772, 0, 6, b"\0" * 8)
    return b""


class Conn:
    """One TCP connection; frames go to a shared list in time order."""

    def __init__(self, frames, link=EN10MB, v6=False, cport=40000, sport=8080,
                 cisn=1000, sisn=5000, t0=1763851234.0):
        self.frames, self.link, self.v6 = frames, link, v6
        if v6:
            self.c = b"\0" * 15 + b"\x01"
            self.s = b"\0" * 15 + b"\x01"
        else:
            self.c, self.s = bytes([127, 0, 0, 1]), bytes([127, 0, 0, 2])
        self.cport, self.sport = cport, sport
        self.seq = {"c": cisn, "s": sisn}
        self.isn = {"c": cisn, "s": sisn}
        self.t = t0

    def pkt(self, d, flags, payload=b"", seq=None, ack=None, win=65535, opts=b"",
            bad_csum=False, advance=True):
        other = "s" if d == "c" else "c"
        s = self.seq[d] if seq is None else seq
        a = self.seq[other] if ack is None else ack
        src, dst = (self.c, self.s) if d == "c" else (self.s, self.c)
        sp, dp = (self.cport, self.sport) if d == "c" else (self.sport, self.cport)
        if not (flags & ACK):
            a = 0
        frame = link_hdr(self.link, self.v6) + ip_tcp(self.v6, src, dst, sp, dp, s, a, flags,
                                                      payload, win, opts, bad_csum)
        self.t += 0.0001
        self.frames.append((self.t, frame))
        if advance and seq is None:
            self.seq[d] = (s + len(payload) + (1 if flags & (SYN | FIN) else 0)) & 0xFFFFFFFF
        return frame

    def handshake(self):
        mss_ws = b"\x02\x04\x05\xb4\x01\x03\x03\x07"
        self.pkt("c", SYN, opts=mss_ws)
        self.pkt("s", SYN | ACK, opts=mss_ws)
        self.pkt("c", ACK)

    def send(self, d, data, mss=1000):
        for i in range(0, len(data), mss):
            self.pkt(d, ACK | PSH, data[i:i + mss])
        self.pkt("s" if d == "c" else "c", ACK)

    def close(self, first="s"):
        second = "c" if first == "s" else "s"
        self.pkt(first, FIN | ACK)
        self.pkt(second, FIN | ACK)
        self.pkt(first, ACK)


def pcap_bytes(link, frames, snaplen=262144):
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, link)]
    for t, f in frames:
        cap = f[:snaplen]
        sec = int(t)
        usec = int(round((t - sec) * 1e6))
        out.append(struct.pack("<IIII", sec, usec, len(cap), len(f)) + cap)
    return b"".join(out)


def write(name, data):
    with open(os.path.join(OUT, name), "wb") as fp:
        fp.write(data)


def pcapng_bytes(ifaces, frames):
    """ifaces: list of link types; frames: (iface, t, bytes)."""
    def block(btype, body):
        body += b"\0" * ((4 - len(body) % 4) % 4)
        n = len(body) + 12
        return struct.pack("<II", btype, n) + body + struct.pack("<I", n)
    out = [block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))]
    for lt in ifaces:
        out.append(block(1, struct.pack("<HHI", lt, 0, 262144)))
    for i, t, f in frames:
        us = int(round(t * 1e6))
        out.append(block(6, struct.pack("<IIIII", i, us >> 32, us & 0xFFFFFFFF, len(f), len(f)) + f))
    return b"".join(out)


def http_exchange(c, body_len, probe_id="run-0-1", cl=None, send_len=None, mss=1000):
    req = ("GET /bytes/%d HTTP/1.1\r\nHost: origin.test\r\nX-Probe-Id: %s\r\n\r\n"
           % (body_len, probe_id)).encode()
    c.send("c", req)
    head = ("HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (cl if cl is not None else body_len)).encode()
    body = bytes((i * 7) & 0xFF for i in range(body_len if send_len is None else send_len))
    c.send("s", head + body, mss)
    return len(head)


def tls_record(ctype, body):
    return struct.pack("!BHH", ctype, 0x0303, len(body)) + body


def client_hello(sni):
    name = sni.encode()
    sni_ext = struct.pack("!HHHBH", 0, len(name) + 5, len(name) + 3, 0, len(name)) + name
    body = struct.pack("!H", 0x0303) + bytes(range(32)) + b"\0" + struct.pack("!HH", 2, 0x1301) \
        + b"\x01\x00" + struct.pack("!H", len(sni_ext)) + sni_ext
    return tls_record(22, struct.pack("!I", (1 << 24) | len(body)) + body)


def server_hello(tls13):
    ext = struct.pack("!HHH", 43, 2, 0x0304) if tls13 else b""
    body = struct.pack("!H", 0x0303) + bytes(range(32, 64)) + b"\0" + struct.pack("!H", 0x1301) \
        + b"\0" + struct.pack("!H", len(ext)) + ext
    return tls_record(22, struct.pack("!I", (2 << 24) | len(body)) + body)


def main():
    os.makedirs(OUT, exist_ok=True)

    # Sequence numbers wrap in both directions during a normal exchange.
    f = []
    c = Conn(f, cisn=0xFFFFFF00, sisn=0xFFFFFFF0)
    c.handshake()
    http_exchange(c, 3000)
    c.close("s")
    write("wrap.pcap", pcap_bytes(EN10MB, f))

    # A retransmission carrying different bytes (first copy wins, flagged).
    f = []
    c = Conn(f)
    c.handshake()
    c.send("c", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n"
    start = c.seq["s"]
    c.send("s", head + b"A" * 2000)
    c.pkt("s", ACK | PSH, b"B" * 500, seq=start + len(head) + 100)
    c.close("s")
    write("retrans_differs.pcap", pcap_bytes(EN10MB, f))

    # Out of order: the second half arrives before the first.
    f = []
    c = Conn(f)
    c.handshake()
    c.send("c", b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b"HTTP/1.1 200 OK\r\nContent-Length: 1960\r\n\r\n" + b"z" * 1960
    s0 = c.seq["s"]
    c.pkt("s", ACK, data[1000:], seq=s0 + 1000)
    c.pkt("s", ACK, data[:1000], seq=s0)
    c.seq["s"] = s0 + len(data)
    c.pkt("c", ACK)
    c.close("s")
    write("ooo.pcap", pcap_bytes(EN10MB, f))

    # Picked up midstream: no handshake in the capture.
    f = []
    c = Conn(f, cisn=70000, sisn=90000)
    c.send("s", b"x" * 1500)
    c.send("c", b"y" * 100)
    c.close("c")
    write("midstream.pcap", pcap_bytes(EN10MB, f))

    # Linux "any" (SLL2) with IPv6; classic SLL, LOOP, RAW, NULL with both families.
    for name, link, v6 in (("sll2_v6.pcap", SLL2, True), ("sll_v4.pcap", SLL, False),
                           ("loop_v6.pcap", LOOP, True), ("raw_v4.pcap", RAW, False)):
        f = []
        c = Conn(f, link=link, v6=v6)
        c.handshake()
        http_exchange(c, 1234)
        c.close("s")
        write(name, pcap_bytes(link, f))
    f = []
    c = Conn(f, link=NULL, v6=False, cport=40001)
    c.handshake()
    http_exchange(c, 100)
    c.close("s")
    c = Conn(f, link=NULL, v6=True, cport=40002)
    c.handshake()
    http_exchange(c, 200)
    c.close("s")
    write("null_v4v6.pcap", pcap_bytes(NULL, f))

    # The same exchange in pcapng with IPv6.
    f = []
    c = Conn(f, v6=True)
    c.handshake()
    http_exchange(c, 777)
    c.close("s")
    write("v6.pcapng", pcapng_bytes([EN10MB], [(0, t, fr) for t, fr in f]))

    # A pcapng whose second interface has another link type.
    f1, f2 = [], []
    c = Conn(f1)
    c.handshake()
    c2 = Conn(f2, link=RAW, cport=40009)
    c2.handshake()
    write("mixed.pcapng", pcapng_bytes([EN10MB, RAW], [(0, t, fr) for t, fr in f1] +
                                       [(1, t, fr) for t, fr in f2]))

    # TLS: a ClientHello with SNI, then a fatal handshake_failure alert.
    f = []
    c = Conn(f, sport=443)
    c.handshake()
    c.send("c", client_hello("origin.test"))
    c.send("s", tls_record(21, b"\x02\x28"))
    c.close("s")
    write("tls_alert.pcap", pcap_bytes(EN10MB, f))

    # TLS 1.3 ending with a probable close_notify; TLS 1.3 cut without one; TLS 1.2
    # ending with an encrypted alert.
    f = []
    for port, tls13, last in ((41001, True, 19), (41002, True, 0), (41003, False, -26)):
        c = Conn(f, cport=port, sport=443)
        c.handshake()
        c.send("c", client_hello("tls%d.test" % port))
        c.send("s", server_hello(tls13) + tls_record(20, b"\x01") + tls_record(23, b"\xaa" * 900))
        c.send("c", tls_record(20, b"\x01") + tls_record(23, b"\xbb" * 60))
        c.send("s", tls_record(23, b"\xcc" * 3000), mss=1200)
        if last > 0:
            c.send("s", tls_record(23, b"\xdd" * last))
        elif last < 0:
            c.send("s", tls_record(21, b"\xee" * -last))
        c.close("s")
    write("tls_close.pcap", pcap_bytes(EN10MB, f))

    # Early FIN: Content-Length 10000, the server sends 3000 body bytes and FIN.
    f = []
    c = Conn(f)
    c.handshake()
    http_exchange(c, 10000, send_len=3000)
    c.close("s")
    write("early_fin.pcap", pcap_bytes(EN10MB, f))

    # Reset by the responder mid-body.
    f = []
    c = Conn(f)
    c.handshake()
    http_exchange(c, 5000, send_len=2000)
    c.pkt("s", RST | ACK)
    write("rst.pcap", pcap_bytes(EN10MB, f))

    # A segment never captured: a gap.
    f = []
    c = Conn(f)
    c.handshake()
    http_exchange(c, 4000)
    del f[-3]  # one of the response's data segments
    c.close("s")
    write("gap.pcap", pcap_bytes(EN10MB, f))

    # Connection states, one flow each: S0, REJ, RSTO, RSTOS0, SH, S1, zero window,
    # bad checksums (loopback offload).
    f = []
    c = Conn(f, cport=42001)
    c.pkt("c", SYN)                          # S0
    c = Conn(f, cport=42002)
    c.pkt("c", SYN)
    c.pkt("s", RST | ACK)                    # REJ
    c = Conn(f, cport=42003)
    c.handshake()
    c.send("c", b"hello")
    c.pkt("c", RST | ACK)                    # RSTO
    c = Conn(f, cport=42004)
    c.pkt("c", SYN)
    c.pkt("c", RST)                          # RSTOS0
    c = Conn(f, cport=42005)
    c.pkt("c", SYN)
    c.pkt("c", FIN)                          # SH
    c = Conn(f, cport=42006)
    c.handshake()
    c.send("c", b"ping", mss=1000)
    c.pkt("s", ACK, win=0)                   # S1 with a zero window
    c = Conn(f, cport=42007)
    c.handshake()
    c.pkt("c", ACK | PSH, b"abc", bad_csum=True)
    c.pkt("s", ACK)
    c.close("c")                             # SF, bad checksum counted, kept
    write("states.pcap", pcap_bytes(EN10MB, f))

    # A snaplen of 96: byte counts from IP lengths, payload mostly cut.
    f = []
    c = Conn(f)
    c.handshake()
    http_exchange(c, 8000)
    c.close("s")
    write("snaplen96.pcap", pcap_bytes(EN10MB, f, snaplen=96))

    # Broken files: cut mid-record, an absurd record length, an unknown link type.
    good = pcap_bytes(EN10MB, f)
    write("truncated.pcap", good[: len(good) - 700])
    bad = bytearray(pcap_bytes(EN10MB, f[:3]))
    bad += struct.pack("<IIII", 1, 0, 0xFFFFFFF0, 0xFFFFFFF0) + b"junk"
    write("corrupt.pcap", bytes(bad))
    write("unknown_link.pcap", pcap_bytes(147, f[:3]))
    write("garbage.pcap", b"this is not a capture file at all\n" * 4)
    # Files with a good header and not one readable frame: the first record is damaged,
    # or every frame is cut inside its headers. Reading them is an error (exit 2), not
    # an empty capture.
    none = bytearray(pcap_bytes(EN10MB, []))
    none += struct.pack("<IIII", 1, 0, 0xFFFFFFF0, 0xFFFFFFF0) + b"junk"
    write("no_frame.pcap", bytes(none))
    write("all_cut.pcap", pcap_bytes(EN10MB, [(t, fr[:20]) for t, fr in f[:3]]))

    # Two CONNECT tunnels through a proxy, both legs captured, with ledgers: tunnel 1
    # loses the tail at the proxy (early FIN to the client after 5000 tunnel bytes),
    # tunnel 2 is reset by the proxy after 3000; tunnel 3 is fine.
    f = []
    probe, origin = [], []
    t0 = 1763851300.0
    for n, (fault, cport, uport) in enumerate((("truncate", 40101, 50101), ("rst", 40102, 50102),
                                              (None, 40103, 50103))):
        pid = "run-0-%d" % (n + 1)
        cl = Conn(f, cport=cport, sport=3128, t0=t0 + n)
        ol = Conn(f, cport=uport, sport=8443, cisn=7000, sisn=9000, t0=t0 + n + 0.001)
        ol.c = cl.s = bytes([127, 0, 0, 2])   # the proxy's address on both legs
        ol.s = bytes([127, 0, 0, 3])
        cl.handshake()
        connect = b"CONNECT origin.test:8443 HTTP/1.1\r\nHost: origin.test:8443\r\n\r\n"
        cl.send("c", connect)
        ol.handshake()
        reply = b"HTTP/1.1 200 Connection established\r\n\r\n"
        cl.send("s", reply)
        hello = client_hello("origin.test")
        cl.send("c", hello)
        ol.send("c", hello)
        stream = server_hello(True) + tls_record(20, b"\x01") + b"".join(
            tls_record(23, bytes([i]) * 4000) for i in range(5)) + tls_record(23, b"\xdd" * 19)
        ol.send("s", stream, mss=1400)
        ol.close("s")
        cut = {"truncate": 5000, "rst": 3000}.get(fault, len(stream))
        cl.send("s", stream[:cut], mss=1400)
        if fault == "rst":
            cl.pkt("s", RST | ACK)
        else:
            cl.close("s")
        probe.append('{"id":"%s","url":"https://origin.test:8443/bytes/20000","class":"%s",'
                     '"phase":"%s","detail":"","status":%d,"bytes_expected":20000,'
                     '"bytes_received":%d,"bytes_sent":80,"wire_received":%d,'
                     '"local":"127.0.0.1:%d","remote":"127.0.0.2:3128",'
                     '"proxy":"http://127.0.0.2:3128","reused":false,"verified":true,'
                     '"latency_ms":5.0,"t":%.3f}' % (
                         pid, {"truncate": "incomplete_read", "rst": "reset"}.get(fault, "ok"),
                         "body" if fault else "done", 200, min(cut, 20000), cut, cport, t0 + n))
        # As the origin writes them: the request's line when its response was written,
        # then the connection's end (the origin closed first, then read the proxy's FIN).
        origin.append('{"id":"%s","peer":"127.0.0.2:%d","local":"127.0.0.3:8443","conn":%d,'
                      '"req":0,"tls":true,"method":"GET","target":"/bytes/20000","status":200,'
                      '"bytes_received":80,"bytes_written":20100,"body_bytes":20000,'
                      '"bytes_acked_after_response":%d,"conn_bytes_written":20100,"fault":null,'
                      '"t":%.3f,"duration_ms":2.0}' % (pid, uport, n, len(stream), t0 + n))
        origin.append('{"id":null,"peer":"127.0.0.2:%d","local":"127.0.0.3:8443","conn":%d,'
                      '"req":1,"tls":true,"method":null,"target":null,"status":null,'
                      '"bytes_received":0,"bytes_written":0,"body_bytes":0,'
                      '"bytes_acked_at_close":%d,"conn_bytes_written":20100,"end":"fin",'
                      '"fin_sent":true,"fin_received":true,"rst_received":false,"fault":null,'
                      '"t":%.3f,"duration_ms":2.0}' % (uport, n, len(stream), t0 + n))
    write("tunnels.pcap", pcap_bytes(EN10MB, f))
    led = os.path.join(HERE, "ledgers")
    os.makedirs(led, exist_ok=True)
    with open(os.path.join(led, "tunnels.probe.jsonl"), "w") as fp:
        fp.write("\n".join(probe) + "\n")
    with open(os.path.join(led, "tunnels.origin.jsonl"), "w") as fp:
        fp.write("\n".join(origin) + "\n")

    # Refusals and a hidden reset, through a proxy at 127.0.0.2:3128: a CONNECT refused
    # with 502, a SOCKS5 request refused with reply 5, and a tunnel whose origin resets
    # after 3000 bytes while the proxy ends the client leg with a FIN.
    f = []
    t0 = 1763851400.0
    a = Conn(f, cport=40201, sport=3128, t0=t0)
    a.s = bytes([127, 0, 0, 2])
    a.handshake()
    a.send("c", b"CONNECT origin.test:8443 HTTP/1.1\r\nHost: origin.test:8443\r\n\r\n")
    a.send("s", b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 11\r\n\r\nbad gateway")
    a.close("s")
    b = Conn(f, cport=40202, sport=1080, t0=t0 + 1)
    b.s = bytes([127, 0, 0, 2])
    b.handshake()
    b.send("c", b"\x05\x01\x00")
    b.send("s", b"\x05\x00")
    b.send("c", b"\x05\x01\x00\x01\x7f\x00\x00\x03\x20\xfb")
    b.send("s", b"\x05\x05\x00\x01\x00\x00\x00\x00\x00\x00")
    b.close("s")
    c = Conn(f, cport=40203, sport=3128, t0=t0 + 2)
    o = Conn(f, cport=50203, sport=8443, cisn=7000, sisn=9000, t0=t0 + 2.001)
    o.c = c.s = bytes([127, 0, 0, 2])
    o.s = bytes([127, 0, 0, 3])
    c.handshake()
    c.send("c", b"CONNECT origin.test:8443 HTTP/1.1\r\nHost: origin.test:8443\r\n\r\n")
    o.handshake()
    c.send("s", b"HTTP/1.1 200 Connection established\r\n\r\n")
    hello = client_hello("origin.test")
    c.send("c", hello)
    o.send("c", hello)
    stream = server_hello(True) + tls_record(20, b"\x01") + tls_record(23, b"\x11" * 2900)
    o.send("s", stream, mss=1400)
    o.pkt("s", RST | ACK)
    c.t = max(c.t, o.t)  # the proxy passes it on after the reset
    c.send("s", stream, mss=1400)
    c.close("s")
    write("refusals.pcap", pcap_bytes(EN10MB, f))
    with open(os.path.join(led, "refusals.probe.jsonl"), "w") as fp:
        for pid, cls, port, status, proxy, det in (
                ("run-1-0", "proxy_refused", 40201, 502, "http://127.0.0.2:3128", "CONNECT 502 Bad Gateway"),
                ("run-1-1", "proxy_refused", 40202, 0, "socks5h://127.0.0.2:1080",
                 "SOCKS5 reply 5: connection refused"),
                ("run-1-2", "incomplete_read", 40203, 200, "http://127.0.0.2:3128", "")):
            fp.write('{"id":"%s","url":"https://origin.test:8443/bytes/20000","class":"%s",'
                     '"phase":"%s","detail":"%s","status":%d,"bytes_expected":%d,'
                     '"bytes_received":%d,"bytes_sent":%d,"wire_received":%d,'
                     '"local":"127.0.0.1:%d","proxy":"%s","t":%.3f}\n' % (
                         pid, cls, "body" if status == 200 else "proxy", det, status,
                         20000 if status == 200 else -1, 2800 if status == 200 else 0,
                         80 if status == 200 else 0, 2900 if status == 200 else 0, port, proxy,
                         t0 + port - 40201))
    with open(os.path.join(led, "refusals.origin.jsonl"), "w") as fp:
        fp.write('{"id":"run-1-2","peer":"127.0.0.2:50203","local":"127.0.0.3:8443","conn":0,'
                 '"req":0,"tls":true,"method":"GET","target":"/bytes/20000","status":200,'
                 '"bytes_received":80,"bytes_written":2900,"body_bytes":20000,'
                 '"bytes_acked_at_close":2966,"conn_bytes_written":2900,"end":"local_rst",'
                 '"fin_sent":false,"fin_received":false,"rst_received":false,"fault":"rst",'
                 '"t":%.3f,"duration_ms":1.0}\n' % (t0 + 2))

    # Fuzz seeds: small whole files, single frames (link selector + cap byte) and TLS.
    for d in ("pcapfile", "pkt", "tlsrec", "tcpreasm"):
        os.makedirs(os.path.join(FUZZ, d), exist_ok=True)
    for name in ("wrap.pcap", "tls_alert.pcap", "v6.pcapng", "mixed.pcapng", "corrupt.pcap",
                 "states.pcap", "sll2_v6.pcap", "null_v4v6.pcap"):
        with open(os.path.join(OUT, name), "rb") as src:
            data = src.read()
        with open(os.path.join(FUZZ, "pcapfile", name), "wb") as dst:
            dst.write(data)
    links = [0, 1, 12, 14, 101, 108, 113, 228, 229, 276, 999]
    for i, (link, v6) in enumerate(((EN10MB, False), (EN10MB, True), (NULL, True), (SLL2, True),
                                    (SLL, False), (LOOP, False), (RAW, True))):
        fr = []
        Conn(fr, link=link, v6=v6).pkt("c", ACK | PSH, b"seed payload")
        with open(os.path.join(FUZZ, "pkt", "frame%d" % i), "wb") as dst:
            dst.write(bytes([links.index(link if link != RAW else 101), 0]) + fr[0][1])
    seeds = {
        "hello": client_hello("seed.test"),
        "server13": server_hello(True) + tls_record(20, b"\x01") + tls_record(23, b"\0" * 40) +
        tls_record(23, b"\1" * 19),
        "alert": server_hello(False) + tls_record(21, b"\x02\x28"),
    }
    for name, data in seeds.items():
        with open(os.path.join(FUZZ, "tlsrec", name), "wb") as dst:
            dst.write(bytes([5]) + data)
    # tcpreasm scripts: 12-byte steps (seq, flags, len, cap, seed, spare).
    steps = [(1000, SYN, 0, 0), (1001, ACK, 100, 100), (1201, ACK, 100, 50),
             (1101, ACK, 100, 100), (1050, ACK, 200, 200), (1301, FIN | ACK, 0, 0)]
    with open(os.path.join(FUZZ, "tcpreasm", "script1"), "wb") as dst:
        for seq, fl, ln, cap in steps:
            dst.write(struct.pack("!IBHHBH", seq, fl, ln, cap, 7, 0))
    wrap = [(0xFFFFFFF0, SYN, 0, 0), (0xFFFFFFF1, ACK, 64, 64), (0x31, ACK, 64, 0),
            (0x11, ACK, 32, 32), (0x71, RST, 0, 0)]
    with open(os.path.join(FUZZ, "tcpreasm", "wrap"), "wb") as dst:
        for seq, fl, ln, cap in wrap:
            dst.write(struct.pack("!IBHHBH", seq, fl, ln, cap, 3, 0))


def synflood(n, path):
    """n SYN-only flows, one frame each, from n distinct client addresses and ports."""
    with open(path, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, EN10MB))
        dst = bytes([10, 255, 0, 1])
        for i in range(n):
            src = bytes([10, (i >> 16) & 255, (i >> 8) & 255, i & 255])
            frame = link_hdr(EN10MB, False) + ip_tcp(False, src, dst, 40000 + i % 20000, 443,
                                                      i * 7919, 0, SYN, b"")
            out.write(struct.pack("<IIII", 1763851234 + i // 1000, (i % 1000) * 1000,
                                  len(frame), len(frame)) + frame)


if __name__ == "__main__":
    import sys
    if len(sys.argv) == 4 and sys.argv[1] == "synflood":
        synflood(int(sys.argv[2]), sys.argv[3])
    else:
        main()
