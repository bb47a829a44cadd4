#!/usr/bin/env python3
"""A scripted misbehaving peer for end-to-end tests (loopback only).

usage: scripted.py MODE [N]  -> listens on 127.0.0.1:0, prints the port, serves forever
(the test kills it). Server modes answer any HTTP request; proxy modes answer a
CONNECT request or a SOCKS5 greeting the way the mode says.

Relaying CONNECT proxies (a third-party proxy tunnelprobe did not start; they relay to
loopback addresses only and keep no ledger):
  relay              relays both ways; passes a FIN on as a FIN and, as naive relays
                     do, an upstream reset as a FIN too
  relay-truncate N   sends the client the first N bytes from upstream, then a FIN; keeps
                     reading (and dropping) what upstream sends, so the origin sees all
                     of it acknowledged: the Windows IOCP incident
  relay-nofin        relays everything but never ends the client's side, even after the
                     origin's FIN (the SOCKS5-over-QUIC incident's missing FIN)
"""
import select
import socket
import struct
import sys
import threading
import time

MODE = sys.argv[1]
ARG = int(sys.argv[2]) if len(sys.argv) > 2 else 0
TUNNEL_LIFETIME = 60.0  # seconds a relayed tunnel may live, whatever happens
LINGER_RST = struct.pack("ii", 1, 0)


def read_head(c):
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = c.recv(4096)
        if not d:
            return None
        buf += d
        if len(buf) > 65536:
            return None
    return buf


def rst(c):
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, LINGER_RST)
    c.close()


def serve_http(c):
    head = read_head(c)
    if head is None:
        return
    if MODE == "stray":          # a whole response, then bytes nobody asked for, one write
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloSTRAY-BYTES")
        time.sleep(1)
    elif MODE == "badchunk":     # a chunk size that is no number, with the head
        c.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n")
        time.sleep(1)
    elif MODE == "badchunk-late":  # a good chunk goes out first, the bad one later
        c.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
        time.sleep(0.5)
        c.sendall(b"zz\r\n")
        time.sleep(1)
    elif MODE == "cl55":         # the same length as a list and again as a field
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\nContent-Length: 5\r\n\r\nhello")
        time.sleep(1)
    elif MODE == "echo-head":    # the request head it read, as the body
        h = head.split(b"\r\n\r\n")[0] + b"\r\n\r\n"
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(h) + h)
        time.sleep(1)
    elif MODE == "truncate":     # Content-Length 654397, 34016 bytes, FIN
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 654397\r\n\r\n" + b"y" * 34016)
        c.shutdown(socket.SHUT_WR)
        time.sleep(0.5)
    elif MODE == "rst":          # 5000 body bytes, then RST
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"y" * 5000)
        time.sleep(0.1)
        rst(c)
        return
    elif MODE == "endless":      # a header that never ends
        c.sendall(b"HTTP/1.1 200 OK\r\n")
        try:
            for _ in range(2000):
                c.sendall(b"X-Endless: " + b"a" * 100 + b"\r\n")
        except OSError:
            pass
        time.sleep(0.5)
    elif MODE == "bigchunk":     # a 2^64 chunk size
        c.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000000\r\nabc")
        time.sleep(0.5)
    elif MODE == "garbage":
        c.sendall(b"HTTQ/9 OK\r\n\r\n")
        time.sleep(0.5)
    elif MODE == "drip":         # 1 byte per second
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
        try:
            for _ in range(100):
                c.sendall(b"z")
                time.sleep(1)
        except OSError:
            pass
    elif MODE == "stall":        # half a body, then silence
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2000\r\n\r\n" + b"s" * 1000)
        time.sleep(30)
    elif MODE == "nofin":        # a close-delimited body whose end never comes
        c.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\nX-Tp-Length: 5\r\n\r\nhello")
        time.sleep(30)
    elif MODE == "silent":       # accepts, reads, never answers
        time.sleep(30)
    elif MODE == "continue-flood":  # interim 100 responses as fast as the socket takes them
        try:
            burst = b"HTTP/1.1 100 Continue\r\n\r\n" * 1000
            end = time.time() + 30
            while time.time() < end:
                c.sendall(burst)
        except OSError:
            pass
    elif MODE == "tp-headers":   # the path names a malformed X-Tp-* announcement
        path = head.split(b" ")[1] if len(head.split(b" ")) > 1 else b"/"
        bad = {
            b"/len-max": b"X-Tp-Length: 18446744073709551615\r\n",
            b"/len-overflow": b"X-Tp-Length: 99999999999999999999\r\n",
            b"/len-alpha": b"X-Tp-Length: 12ab\r\n",
            b"/len-negative": b"X-Tp-Length: -5\r\n",
            b"/seed-dup": b"X-Tp-Seed: zz\r\nX-Tp-Seed: 0123456789abcdef\r\n",
        }.get(path, b"")
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n" + bad + b"\r\nhello")
        time.sleep(0.5)
    c.close()


def relay(c, up, rest):
    """Relays client c <-> upstream up until both ends are done (bounded in time)."""
    sent_down = 0            # bytes given to the client
    client_open = up_open = True
    client_fin_sent = False
    drain_until = None       # after the client left (relay-truncate): read upstream dry
    if rest:
        up.sendall(rest)
    deadline = time.monotonic() + TUNNEL_LIFETIME
    while time.monotonic() < deadline:
        socks = ([c] if client_open else []) + ([up] if up_open else [])
        if not socks or (drain_until and time.monotonic() > drain_until):
            break
        ready, _, _ = select.select(socks, [], [], 0.2)
        if drain_until and not ready:
            break            # upstream went quiet: it wrote everything
        if up in ready:
            try:
                data = up.recv(65536)
            except ConnectionResetError:
                data = b""
            if not data:
                up_open = False
                # relay-nofin never tells the client; the others send a FIN, for a
                # reset as well (the client never learns the origin reset).
                if MODE != "relay-nofin" and client_open and not client_fin_sent:
                    c.shutdown(socket.SHUT_WR)
                    client_fin_sent = True
            elif MODE == "relay-truncate" and sent_down + len(data) >= ARG:
                if not client_fin_sent:
                    c.sendall(data[:ARG - sent_down])
                    sent_down = ARG
                    c.shutdown(socket.SHUT_WR)
                    client_fin_sent = True
            elif not client_fin_sent:
                c.sendall(data)
                sent_down += len(data)
        if c in ready:
            try:
                data = c.recv(65536)
            except ConnectionResetError:
                data = b""
            if data:
                if up_open:
                    up.sendall(data)
            else:
                client_open = False
                if MODE == "relay-truncate" and up_open:
                    drain_until = time.monotonic() + 5.0
                elif up_open:
                    up.shutdown(socket.SHUT_WR)
                    if MODE == "relay-nofin":
                        break
    up.close()
    c.close()


def serve_relay(c, head):
    """A CONNECT to a loopback address, then relay(); anything else is refused."""
    line = head.split(b"\r\n", 1)[0].split()
    host, _, port = line[1].rpartition(b":") if len(line) == 3 else (b"", b"", b"")
    if line[:1] != [b"CONNECT"] or host not in (b"127.0.0.1", b"localhost") or not port.isdigit():
        c.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
        c.close()
        return
    try:
        up = socket.create_connection(("127.0.0.1", int(port)), timeout=5)
    except OSError:
        c.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
        c.close()
        return
    up.settimeout(None)
    c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
    relay(c, up, head.split(b"\r\n\r\n", 1)[1])


def serve_proxy(c):
    if MODE.startswith("relay"):
        head = read_head(c)
        if head is not None:
            serve_relay(c, head)
        return
    head = c.recv(4096)
    if not head:
        return
    if head[:1] == b"\x05":      # SOCKS5 greeting
        if MODE == "socks-close-mid":
            c.sendall(b"\x05")
            c.close()
            return
        c.sendall(b"\x05\x00")
        c.recv(4096)
        if MODE == "socks-refuse":
            c.sendall(b"\x05\x05\x00\x01\x00\x00\x00\x00\x00\x00")
        elif MODE == "socks-reply-close":
            c.sendall(b"\x05\x00\x00\x01")
        c.close()
        return
    if MODE == "close-before-reply":
        c.close()
    elif MODE == "close-mid-reply":
        c.sendall(b"HTTP/1.1 200 Conn")
        c.close()
    elif MODE == "refuse":
        c.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
        time.sleep(0.2)
        c.close()
    elif MODE == "close-after-accept":
        c.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        time.sleep(0.1)
        c.close()


def main():
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    print(s.getsockname()[1], flush=True)
    proxy = MODE.startswith(("close-", "refuse", "socks-", "relay"))
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve_proxy if proxy else serve_http, args=(c,), daemon=True).start()


main()
